//! Model bundles from the trainer: `trainer export` (a run folder's model) and `trainer
//! import-pytorch` (upstream SincNet weights), through one bundle builder.

use crate::metrics::Evaluation;
use crate::models::{load_bundle, run_sincnet};
use crate::run::{RunDir, RunKind, write_atomically};
use crate::sincnet::checkpoint;
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use model_format::FrontEnd;
use model_format::bundle::{Bundle, ModelKind, Provenance, WeightsDType, pack_weights};
use model_format::sincnet::{SincNetConfig, load_pytorch};
use std::path::Path;

/// A bundle as the trainer writes them: the default front-end, the four quadrants' labels and
/// this trainer's version in the provenance.
pub fn bundle_of(
    model: ModelKind,
    shift_ms: u32,
    provenance: Provenance,
    dtype: WeightsDType,
    weights: Vec<u8>,
) -> Bundle {
    let provenance = Provenance {
        code_version: env!("CARGO_PKG_VERSION").into(),
        ..provenance
    };
    Bundle::new(
        model,
        FrontEnd::default(),
        shift_ms,
        provenance,
        dtype,
        weights,
    )
}

/// Writes `bundle` to `path`, atomically.
pub fn write_bundle(bundle: &Bundle, path: &Path) -> Result<()> {
    write_atomically(path, &bundle.to_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// `trainer export`: a run's model as a bundle, predicting with windows every `shift_ms`
/// (default: the run's evaluation hop).
pub fn export_command(
    run: &RunDir,
    out_path: &Path,
    dtype: WeightsDType,
    shift_ms: Option<u32>,
) -> Result<Bundle> {
    if shift_ms == Some(0) {
        bail!("--shift-ms must be positive");
    }
    if run.kind() == Some(RunKind::Mlp) {
        if shift_ms.is_some() {
            bail!("--shift-ms sets SincNet's window hop; an MLP reads whole segments");
        }
        let path = run.mlp_model();
        let mut b = load_bundle(&path)?;
        let (model, _, _) = b
            .mlp(&Device::flex())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        b.weights_dtype = dtype;
        b.weights = pack_weights(&model, dtype)?;
        write_bundle(&b, out_path)?;
        return Ok(b);
    }
    let (model, config) = run_sincnet(run)?;
    // What the bundle says of its training must be true: a run folder without its split or
    // state, or with a damaged evaluation, is an error, not a bundle claiming nothing.
    let (split, split_hash) = run.load_split()?;
    let state = checkpoint::load_state(run)?
        .with_context(|| format!("{} has no checkpoint yet", run.path().display()))?;
    let eval_path = run.eval();
    let metrics_json = match std::fs::read_to_string(&eval_path) {
        Ok(text) => {
            serde_json::from_str::<Evaluation>(&text)
                .with_context(|| format!("{}: malformed", eval_path.display()))?;
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "warning: {} has no eval.json (the last epoch was not evaluated): the bundle \
                 carries no test metrics",
                run.path().display()
            );
            String::new()
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", eval_path.display())),
    };
    let provenance = Provenance {
        setup: crate::train::setup_of(&split, config.init_from.as_ref()),
        datasets: split.datasets(),
        split: Some(split_hash),
        seed: config.seed,
        epochs: state.epochs_done,
        metrics_json,
        ..Provenance::default()
    };
    let bundle = Bundle {
        va_head: config.va_head,
        ..bundle_of(
            ModelKind::SincNet(config.model.clone()),
            shift_ms.unwrap_or(config.shift_ms),
            provenance,
            dtype,
            pack_weights(&model, dtype)?,
        )
    };
    write_bundle(&bundle, out_path)?;
    Ok(bundle)
}

/// `trainer import-pytorch`: upstream SincNet weights (safetensors) as a bundle.
pub fn import_command(
    weights: &Path,
    config: SincNetConfig,
    shift_ms: u32,
    out_path: &Path,
) -> Result<Bundle> {
    let bytes = std::fs::read(weights).with_context(|| format!("reading {}", weights.display()))?;
    let mut model = config.init(&Device::flex())?;
    load_pytorch(&mut model, &config, bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", weights.display()))?;
    let provenance = Provenance {
        setup: format!("imported from {}", weights.display()),
        ..Provenance::default()
    };
    let bundle = bundle_of(
        ModelKind::SincNet(config),
        shift_ms,
        provenance,
        WeightsDType::F32,
        pack_weights(&model, WeightsDType::F32)?,
    );
    write_bundle(&bundle, out_path)?;
    Ok(bundle)
}
