//! Checkpoints: model, optimiser, sampler state and history after every epoch, written to a
//! temporary folder and swapped into place, so a run killed at any moment resumes from its
//! last complete epoch.

use super::train::TrainConfig;
use crate::metrics::Evaluation;
use crate::run::{RunDir, replace_dir_atomically};
use anyhow::{Context, Result};
use burn::optim::{ModuleOptimizer, RmsPropConfig};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use model_format::sincnet::{SincNet, SincNetConfig};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// What one epoch did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochLog {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Accuracy on the training windows of the epoch.
    pub train_accuracy: f64,
    /// Wall time of the epoch's training, seconds (evaluation excluded).
    pub seconds: f64,
    /// Training windows per second.
    pub chunks_per_second: f64,
    /// The test evaluation, on epochs that ran one.
    pub eval: Option<Evaluation>,
}

/// Everything besides the weights that a resumed run needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// Epochs completed.
    pub epochs_done: usize,
    /// The batch sampler, where it stopped.
    pub rng: ChaCha8Rng,
    /// The log of every epoch completed.
    pub history: Vec<EpochLog>,
}

/// RMSprop as the protocol sets it (PyTorch semantics: no momentum).
pub fn optimizer(alpha: f32, eps: f32) -> ModuleOptimizer {
    RmsPropConfig::new()
        .with_alpha(alpha)
        .with_epsilon(eps)
        .with_momentum(0.0)
        .init()
}

/// Writes a checkpoint of the end of `state.epochs_done`.
pub fn save(run: &RunDir, model: &SincNet, optim: &ModuleOptimizer, state: &State) -> Result<()> {
    let record = model_bytes(model)?;
    let optim = optim.into_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    replace_dir_atomically(&run.checkpoint(), &run.previous_checkpoint(), |d| {
        fs::write(d.join("model.bpk"), &*record)?;
        fs::write(d.join("optim.bpk"), &*optim)?;
        fs::write(d.join("state.json"), serde_json::to_vec_pretty(state)?)?;
        Ok(())
    })
}

/// The folder of the latest complete checkpoint of `run`, if any.
fn latest(run: &RunDir) -> Option<PathBuf> {
    // A kill between the two renames of `save` leaves only the previous checkpoint.
    [run.checkpoint(), run.previous_checkpoint()]
        .into_iter()
        .find(|d| d.join("state.json").is_file())
}

fn read(d: &Path, name: &str) -> Result<Vec<u8>> {
    fs::read(d.join(name)).with_context(|| format!("reading {}", d.join(name).display()))
}

fn model_from(d: &Path, config: &TrainConfig, device: &Device) -> Result<SincNet> {
    let path = d.join("model.bpk");
    model_from_bytes(read(d, "model.bpk")?, &config.model, config.va_head, device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The weights of `model` as the bytes a checkpoint stores (batch-norm statistics settled).
pub fn model_bytes(model: &SincNet) -> Result<Vec<u8>> {
    Ok(model
        .valid()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_vec())
}

/// A network of `config` on `device`, with a valence–arousal head when `va_head`, with the
/// weights of [`model_bytes`].
pub fn model_from_bytes(
    bytes: Vec<u8>,
    config: &SincNetConfig,
    va_head: bool,
    device: &Device,
) -> Result<SincNet> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut model = config.init(device)?;
    if va_head {
        model = model.with_va_head();
    }
    model
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The model of the latest checkpoint of `run`, if any, in inference mode on `device`.
pub fn load_model(run: &RunDir, config: &TrainConfig, device: &Device) -> Result<Option<SincNet>> {
    latest(run)
        .map(|d| model_from(&d, config, device).map(|m| m.valid()))
        .transpose()
}

/// The state (epochs done, history) of the latest complete checkpoint of `run`, if any.
pub fn load_state(run: &RunDir) -> Result<Option<State>> {
    latest(run).map(|d| read_state(&d)).transpose()
}

fn read_state(d: &Path) -> Result<State> {
    serde_json::from_slice(&read(d, "state.json")?)
        .with_context(|| format!("{}: malformed", d.join("state.json").display()))
}

/// The latest complete checkpoint of `run`, if any: the model in training mode on `device`
/// (an autodiff device), the optimiser and the state.
pub fn load(
    run: &RunDir,
    config: &TrainConfig,
    device: &Device,
) -> Result<Option<(SincNet, ModuleOptimizer, State)>> {
    let Some(d) = latest(run) else {
        return Ok(None);
    };
    let model = model_from(&d, config, device)?.train();
    // burn builds the state on its default device; the next step moves it to the model's.
    let optim = optimizer(config.alpha, config.eps)
        .from_bytes(Bytes::from_bytes_vec(read(&d, "optim.bpk")?))
        .map_err(|e| anyhow::anyhow!("{}: {e}", d.join("optim.bpk").display()))?;
    Ok(Some((model, optim, read_state(&d)?)))
}
