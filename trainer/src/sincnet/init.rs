//! Transfer learning: a run that starts from another model's weights (`--init-from`), the
//! classifier included, with a fresh optimiser.

use super::checkpoint::model_bytes;
use crate::models::{load_bundle, run_sincnet};
use crate::run::{RunDir, RunKind};
use anyhow::{Result, bail};
use burn::prelude::*;
use burn::store::ModuleSnapshot;
use model_format::bundle::ModelKind;
use model_format::sincnet::{SincNet, SincNetConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where a run's first weights came from; part of its settings, so a resume from other
/// weights is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitFrom {
    /// The run folder or bundle, as given.
    pub source: PathBuf,
    /// Their [`weights_digest`].
    pub weights_blake3: String,
}

/// Weights to start a run from.
pub struct InitWeights {
    /// Where they came from.
    pub from: InitFrom,
    /// The weights, as a checkpoint stores them.
    pub bytes: Vec<u8>,
    /// The weights include a valence–arousal head.
    pub va_head: bool,
}

/// The SincNet of a run folder (its latest checkpoint) or of a bundle, checked to have the
/// architecture `config` describes.
pub fn load(source: &Path, config: &SincNetConfig) -> Result<InitWeights> {
    let (model, theirs, va_head) = if source.is_dir() {
        let run = RunDir::new(source);
        if run.kind() == Some(RunKind::Mlp) {
            bail!(
                "{} holds an MLP run; --init-from takes a SincNet run or bundle",
                source.display()
            );
        }
        let (model, c) = run_sincnet(&run)?;
        (model, c.model, c.va_head)
    } else {
        let bundle = load_bundle(source)?;
        let ModelKind::SincNet(c) = &bundle.model else {
            bail!(
                "{} holds {}; --init-from takes a SincNet run or bundle",
                source.display(),
                bundle.model.name()
            );
        };
        let model = bundle
            .sincnet(&Device::flex())
            .map_err(|e| anyhow::anyhow!("{}: {e}", source.display()))?;
        (model, c.clone(), bundle.va_head)
    };
    if theirs != *config {
        bail!(
            "{} is a SincNet of another architecture ({}) than this run's ({}): give the same \
             --window-ms and --fc",
            source.display(),
            describe(&theirs),
            describe(config)
        );
    }
    Ok(InitWeights {
        from: InitFrom {
            source: source.to_path_buf(),
            weights_blake3: weights_digest(&model)?,
        },
        bytes: model_bytes(&model)?,
        va_head,
    })
}

/// BLAKE3 of every tensor's name, shape and values (not of burn's per-load parameter ids):
/// equal digests, equal weights.
pub fn weights_digest(model: &SincNet) -> Result<String> {
    let mut h = blake3::Hasher::new();
    for t in model.valid().collect(None, None, false) {
        let (name, dtype, shape, _, bytes) =
            t.into_parts().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        h.update(format!("{name} {dtype:?} {shape:?}").as_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().to_hex().to_string())
}

/// The architecture in a few words.
fn describe(c: &SincNetConfig) -> String {
    let fc: Vec<String> = c.fc.iter().map(usize::to_string).collect();
    format!(
        "{} ms at {} Hz, {} sinc filters, conv {:?}, fc {}",
        c.window_ms,
        c.sample_rate,
        c.sinc_filters,
        c.conv_filters,
        fc.join(",")
    )
}
