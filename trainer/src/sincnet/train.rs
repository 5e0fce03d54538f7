//! `trainer train --model sincnet`: the protocol's training loop with per-epoch checkpoints.

use super::checkpoint::{self, EpochLog, State, model_from_bytes};
use super::data::{Batch, SongSegments, sample_batch};
use super::init::{InitFrom, InitWeights};
use crate::metrics::Evaluation;
use crate::models::evaluate;
use crate::progress;
use crate::run::{RunDir, write_json};
use anyhow::{Result, bail};
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use model_format::FrontEnd;
use model_format::inference::{Input, Model};
use model_format::sincnet::{SincNet, SincNetConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::time::Instant;

/// Hyper-parameters of a SincNet run; defaults are the paper's (4Q-EMOTION, 200 ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The network's architecture.
    pub model: SincNetConfig,
    /// Windows per training batch.
    pub batch_size: usize,
    /// Training batches per epoch.
    pub batches_per_epoch: usize,
    /// Epochs to train.
    pub epochs: usize,
    /// RMSprop learning rate.
    pub lr: f64,
    /// RMSprop smoothing constant.
    pub alpha: f32,
    /// RMSprop ε.
    pub eps: f32,
    /// Seed of the initialisation and the batch sampler.
    pub seed: u64,
    /// Evaluate on the test songs every this many epochs (and after the last).
    pub eval_every: usize,
    /// Hop between evaluation windows, ms (`cw_shift`).
    pub shift_ms: u32,
    /// Range of the random amplitude factor of training windows.
    pub amplitude: (f32, f32),
    /// The weights the run started from, if not drawn afresh (transfer learning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<InitFrom>,
    /// Train a valence–arousal regression head beside the classifier, on the songs that have
    /// ratings (see [`SongSegments::va`]).
    #[serde(default)]
    pub va_head: bool,
}

impl TrainConfig {
    /// Whether `other` trains the same run: the same settings, starting from the same weights
    /// (wherever their file now is).
    pub fn same_run(&self, other: &TrainConfig) -> bool {
        let digest = |c: &TrainConfig| c.init_from.as_ref().map(|i| i.weights_blake3.clone());
        let bare = |c: &TrainConfig| TrainConfig {
            init_from: None,
            ..c.clone()
        };
        digest(self) == digest(other) && bare(self) == bare(other)
    }

    /// The paper's settings for a window of `window_ms` (batches of 32 at 500 ms, else 128).
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
            init_from: None,
            va_head: false,
        }
    }
}

/// Trains (or resumes) the run in `run` on `devices`, evaluating on `test`, from `init`'s
/// weights (which `config.init_from` names) or fresh ones. Returns the final model in
/// inference mode and the history.
///
/// With several devices, training is data-parallel: each batch is cut into one contiguous
/// shard per device, every device computes the gradient of its shard on its own copy of the
/// model, and the optimiser sums them (each shard's loss is scaled by its share of the batch,
/// so the sum is the whole batch's mean gradient). Batch-norm statistics are per shard.
/// See `step`.
#[allow(clippy::too_many_arguments)]
pub fn train(
    config: &TrainConfig,
    train_songs: &[SongSegments],
    test_songs: &[SongSegments],
    run: &RunDir,
    resume: bool,
    init: Option<InitWeights>,
    devices: &[Device],
    out: &mut dyn Write,
) -> Result<(SincNet, Vec<EpochLog>)> {
    config.model.validate()?;
    if config.init_from != init.as_ref().map(|i| i.from.clone()) {
        bail!("the run's settings and the weights it starts from disagree");
    }
    if train_songs.is_empty() {
        bail!("no training songs");
    }
    if config.va_head && train_songs.iter().all(|s| s.va.is_none()) {
        bail!("--va-head needs training songs with valence and arousal ratings; these have none");
    }
    if devices.is_empty() || devices.len() > config.batch_size {
        bail!(
            "{} devices for batches of {}",
            devices.len(),
            config.batch_size
        );
    }
    let config_path = run.sincnet_config();
    if config_path.exists() {
        let saved: TrainConfig = serde_json::from_slice(&std::fs::read(&config_path)?)?;
        if resume && !saved.same_run(config) {
            bail!(
                "{} holds a run with other settings; resume with the same options or use another run folder",
                config_path.display()
            );
        }
    }
    write_json(&config_path, config)?;

    let replicas: Vec<Device> = devices.iter().map(|d| d.clone().autodiff()).collect();
    let device = replicas[0].clone();
    device.seed(config.seed);
    let loaded = if resume {
        checkpoint::load(run, config, &device)?
    } else {
        None
    };
    let (mut model, mut optim, mut state) = match loaded {
        Some(l) => {
            writeln!(out, "resuming after epoch {}", l.2.epochs_done)?;
            l
        }
        None => (
            match init {
                Some(w) => {
                    let mut m = model_from_bytes(w.bytes, &config.model, w.va_head, &device)?;
                    // The source's head is kept, dropped, or a fresh one added, as this run asks.
                    if !config.va_head {
                        m.va_head = None;
                    } else if !w.va_head {
                        m = m.with_va_head();
                    }
                    m.train()
                }
                None if config.va_head => config.model.init(&device)?.with_va_head(),
                None => config.model.init(&device)?,
            },
            checkpoint::optimizer(config.alpha, config.eps),
            State {
                epochs_done: 0,
                rng: ChaCha8Rng::seed_from_u64(config.seed),
                history: Vec::new(),
            },
        ),
    };

    if state.epochs_done == 0 {
        // The starting weights, so that even a run of no epochs holds its model.
        checkpoint::save(run, &model, &optim, &state)?;
    }
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
            let (loss, ok);
            (model, loss, ok) = step(&model, &mut optim, config.lr, &b, &replicas);
            loss_sum += loss;
            correct += ok;
            pb.inc(1);
        }
        let seconds = t0.elapsed().as_secs_f64();
        let n = config.batches_per_epoch;
        let done = epoch + 1;
        let eval = if done % config.eval_every.max(1) == 0 || done == config.epochs {
            pb.suspend(|| -> Result<Option<Evaluation>> {
                let ev = evaluate_now(&model, config, test_songs, &devices[0])?;
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

/// One optimiser step on `batch`, sharded over `replicas` (autodiff devices, the model's
/// first). Returns the updated model, the batch's mean loss and its correct predictions. The
/// loss is the negative log-likelihood of the quadrants, plus, with a regression head, the
/// squared error of the rated windows' valence and arousal, both averaged over the batch.
///
/// The shards are queued one after another from this thread, and nothing is read back until
/// all are queued, so the devices compute at the same time. Batch-norm running statistics
/// (which burn keeps per thread) thus advance shard by shard, as over consecutive batches.
fn step(
    model: &SincNet,
    optim: &mut ModuleOptimizer,
    lr: f64,
    batch: &Batch,
    replicas: &[Device],
) -> (SincNet, f64, i64) {
    let bs = batch.labels.len();
    let wlen = batch.samples.len() / bs;
    let k = replicas.len();
    let shards: Vec<_> = replicas
        .iter()
        .enumerate()
        .map(|(i, device)| {
            // Contiguous, non-empty when k ≤ bs: rows i·bs/k .. (i+1)·bs/k.
            let rows = i * bs / k..(i + 1) * bs / k;
            let n = rows.len();
            let model = if i == 0 {
                model.clone()
            } else {
                model.clone().fork(device)
            };
            let x = TensorData::new(
                batch.samples[rows.start * wlen..rows.end * wlen].to_vec(),
                [n, wlen],
            );
            let x = Tensor::<2>::from_data(x, device);
            let y = Tensor::<1, Int>::from_data(
                TensorData::new(batch.labels[rows.clone()].to_vec(), [n]),
                device,
            );
            let (log_probs, va) = model.forward_va(x); // [n, 4], [n, 2]
            // The shard's share of the batch's mean loss.
            let mut loss = log_probs
                .clone()
                .gather(1, y.clone().reshape([n, 1]))
                .sum()
                .neg()
                .div_scalar(bs as f32);
            if let Some(va) = va {
                // Squared error of valence and arousal, on the windows of rated songs.
                let target =
                    TensorData::new(batch.va[rows.start * 2..rows.end * 2].to_vec(), [n, 2]);
                let mask = TensorData::new(batch.va_mask[rows.clone()].to_vec(), [n, 1]);
                let err = (va - Tensor::<2>::from_data(target, device)).powf_scalar(2.0)
                    * Tensor::<2>::from_data(mask, device);
                loss = loss + err.sum().div_scalar(bs as f32);
            }
            let correct = log_probs.argmax(1).reshape([n]).equal(y).int().sum();
            let grads = GradientsParams::from_grads(loss.clone().backward(), &model);
            (grads, loss, correct, device.clone())
        })
        .collect();
    let (mut loss, mut correct) = (0.0, 0);
    let mut multi = MultiGradientsParams::default();
    for (grads, l, c, device) in shards {
        loss += l.into_scalar::<f32>() as f64;
        correct += c.into_scalar::<i64>();
        multi.grads.push((grads, device));
    }
    if k == 1 {
        let (grads, _) = multi.grads.pop().expect("one shard");
        return (optim.step(lr, model.clone(), grads), loss, correct);
    }
    // The optimiser updates each parameter where its gradients were summed; gather them back.
    let model = optim
        .step_multi(lr, model.clone(), multi)
        .fork(&replicas[0]);
    (model, loss, correct)
}

fn evaluate_now(
    model: &SincNet,
    config: &TrainConfig,
    test: &[SongSegments],
    device: &Device,
) -> Result<Option<Evaluation>> {
    if test.is_empty() {
        return Ok(None);
    }
    let model = Model::sincnet(
        model.valid(),
        config.model.clone(),
        FrontEnd::default(),
        config.shift_ms,
        device,
        super::batching(device),
    );
    let pb = progress::bar(test.len() as u64, "evaluating");
    let songs = test
        .iter()
        .map(|s| (s.truth(), s.id.as_str(), Input::Segments(&s.segments)));
    evaluate(&model, songs, &pb).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::SgdConfig;

    /// A batch whose two halves are equal gives each of two shards the whole batch's
    /// batch-norm statistics, so a two-device step must move the weights as a one-device step
    /// does, up to rounding: the only difference sharding makes is those statistics.
    #[test]
    fn a_sharded_step_equals_one_device_but_for_batch_norm_statistics() {
        let config = SincNetConfig {
            sinc_filters: 8,
            conv_filters: vec![6, 6],
            fc: vec![16, 16],
            ..SincNetConfig::paper(200)
        };
        let device = Device::flex().autodiff();
        device.seed(3);
        let model = config.init(&device).unwrap();
        let wlen = config.window_samples();
        let half: Vec<f32> = (0..4 * wlen)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let batch = Batch {
            samples: [half.clone(), half].concat(),
            labels: vec![0, 1, 2, 3, 0, 1, 2, 3],
            va: vec![0.0; 16],
            va_mask: vec![0.0; 8],
        };
        // In training mode batch norm uses the batch's own statistics, so these outputs
        // depend on the weights alone.
        let outputs = |m: &SincNet| -> Vec<f32> {
            let x = TensorData::new(batch.samples.clone(), [8, wlen]);
            m.forward(Tensor::<2>::from_data(x, &device))
                .into_data()
                .try_into_vec_as()
                .unwrap()
        };
        let updated = |replicas: &[Device]| {
            // Plain SGD: the update is linear in the gradient, so summation order shows as
            // rounding only.
            let mut optim = SgdConfig::new().init();
            let (m, loss, correct) = step(&model, &mut optim, 0.5, &batch, replicas);
            (outputs(&m), loss, correct)
        };
        let (one, loss_one, correct_one) = updated(std::slice::from_ref(&device));
        let (two, loss_two, correct_two) = updated(&[device.clone(), device.clone()]);
        assert!(
            (loss_one - loss_two).abs() < 1e-6,
            "{loss_one} vs {loss_two}"
        );
        assert_eq!(correct_one, correct_two);
        let max_diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max)
        };
        assert!(max_diff(&one, &two) < 1e-5, "{}", max_diff(&one, &two));
        let moved = max_diff(&one, &outputs(&model));
        assert!(moved > 1e-3, "the step changed the outputs by only {moved}");
    }
}
