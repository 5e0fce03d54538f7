//! `trainer train --model sincnet`: the protocol's training loop with per-epoch checkpoints.

use super::checkpoint::{self, EpochLog, State};
use super::data::{SongSegments, sample_batch};
use super::eval::{Evaluation, evaluate};
use crate::progress;
use anyhow::{Result, bail};
use burn::optim::GradientsParams;
use burn::prelude::*;
use model_format::sincnet::{SincNet, SincNetConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Hyper-parameters of a SincNet run; defaults are the paper's (4Q-EMOTION, 200 ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub model: SincNetConfig,
    pub batch_size: usize,
    pub batches_per_epoch: usize,
    pub epochs: usize,
    pub lr: f64,
    pub alpha: f32,
    pub eps: f32,
    pub seed: u64,
    /// Evaluate on the test songs every this many epochs (and after the last).
    pub eval_every: usize,
    /// Hop between evaluation windows, ms (`cw_shift`).
    pub shift_ms: u32,
    /// Range of the random amplitude factor of training windows.
    pub amplitude: (f32, f32),
}

impl TrainConfig {
    pub fn paper(window_ms: u32) -> Self {
        TrainConfig {
            model: SincNetConfig::paper(window_ms),
            batch_size: if window_ms >= 500 { 32 } else { 128 },
            batches_per_epoch: 30,
            epochs: 100,
            lr: 0.004,
            alpha: 0.95,
            eps: 1e-8,
            seed: 12,
            eval_every: 10,
            shift_ms: 10,
            amplitude: (0.8, 1.2),
        }
    }

    pub fn shift_samples(&self) -> usize {
        (self.model.sample_rate as usize * self.shift_ms as usize / 1000).max(1)
    }
}

/// Trains (or resumes) the run in `run`, evaluating on `test`. Returns the final model in
/// inference mode and the history.
pub fn train(
    config: &TrainConfig,
    train_songs: &[SongSegments],
    test_songs: &[SongSegments],
    run: &Path,
    resume: bool,
    out: &mut dyn Write,
) -> Result<(SincNet, Vec<EpochLog>)> {
    config.model.validate().map_err(anyhow::Error::msg)?;
    if train_songs.is_empty() {
        bail!("no training songs");
    }
    std::fs::create_dir_all(run)?;
    let config_path = run.join("config.json");
    if config_path.exists() {
        let saved: TrainConfig = serde_json::from_slice(&std::fs::read(&config_path)?)?;
        if resume && saved != *config {
            bail!(
                "{} holds a run with other settings; resume with the same options or use another run folder",
                config_path.display()
            );
        }
    }
    std::fs::write(&config_path, serde_json::to_vec_pretty(config)?)?;

    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let loaded = if resume {
        checkpoint::load(run, &config.model, config.alpha, config.eps, &device)?
    } else {
        None
    };
    let (mut model, mut optim, mut state) = match loaded {
        Some(l) => {
            writeln!(out, "resuming after epoch {}", l.2.epochs_done)?;
            l
        }
        None => (
            config.model.init(&device),
            checkpoint::optimizer(config.alpha, config.eps),
            State {
                epochs_done: 0,
                rng: ChaCha8Rng::seed_from_u64(config.seed),
                history: Vec::new(),
            },
        ),
    };

    let wlen = config.model.window_samples();
    let bs = config.batch_size;
    let total = (config.epochs * config.batches_per_epoch) as u64;
    let pb = progress::bar(total, "training");
    pb.set_position((state.epochs_done * config.batches_per_epoch) as u64);
    for epoch in state.epochs_done..config.epochs {
        let t0 = Instant::now();
        let (mut loss_sum, mut correct) = (0f64, 0i64);
        for _ in 0..config.batches_per_epoch {
            let b = sample_batch(train_songs, bs, wlen, config.amplitude, &mut state.rng);
            let x = Tensor::<2>::from_data(TensorData::new(b.samples, [bs, wlen]), &device);
            let y = Tensor::<1, Int>::from_data(TensorData::new(b.labels, [bs]), &device);
            let log_probs = model.forward(x); // [B, 4]
            let loss = log_probs
                .clone()
                .gather(1, y.clone().reshape([bs, 1]))
                .mean()
                .neg();
            loss_sum += loss.clone().into_scalar::<f32>() as f64;
            correct += log_probs
                .argmax(1)
                .reshape([bs])
                .equal(y)
                .int()
                .sum()
                .into_scalar::<i64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
            pb.inc(1);
        }
        let seconds = t0.elapsed().as_secs_f64();
        let n = config.batches_per_epoch;
        let done = epoch + 1;
        let eval = if done % config.eval_every.max(1) == 0 || done == config.epochs {
            pb.suspend(|| -> Result<Option<Evaluation>> {
                let ev = evaluate_now(&model, config, test_songs);
                if let Some(e) = &ev {
                    writeln!(
                        out,
                        "epoch {done}: test segment accuracy {:.3}, song accuracy {:.3}",
                        e.segment_scores.accuracy, e.song_scores.accuracy
                    )?;
                }
                Ok(ev)
            })?
        } else {
            None
        };
        let log = EpochLog {
            epoch: done,
            loss: loss_sum / n as f64,
            train_accuracy: correct as f64 / (n * bs) as f64,
            seconds,
            chunks_per_second: (n * bs) as f64 / seconds,
            eval,
        };
        pb.set_message(format!("loss {:.3}", log.loss));
        state.epochs_done = done;
        state.history.push(log);
        checkpoint::save(run, &model, &optim, &state)?;
    }
    pb.finish_and_clear();
    Ok((model.valid(), state.history))
}

fn evaluate_now(
    model: &SincNet,
    config: &TrainConfig,
    test: &[SongSegments],
) -> Option<Evaluation> {
    if test.is_empty() {
        return None;
    }
    let device = Device::flex();
    let valid = model.valid();
    let pb = progress::bar(test.len() as u64, "evaluating");
    Some(evaluate(
        &valid,
        test,
        config.model.window_samples(),
        config.shift_samples(),
        config.model.sample_rate,
        &device,
        &pb,
    ))
}
