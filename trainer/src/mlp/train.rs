//! Training the MLP as scikit-learn's `MLPClassifier(solver="adam")` does: shuffled
//! minibatches of min(200, n), Adam (lr 1e-3, β 0.9/0.999, ε 1e-8), cross-entropy plus
//! `alpha / (2 · batch)` times the squared weights, and a stop once the epoch loss has failed
//! to improve by `tol` more than `patience` epochs running.

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use model_format::mlp::{Mlp, MlpConfig};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The paper's settings (scikit-learn's defaults but for `alpha`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpTrainConfig {
    /// Hidden ReLU units.
    pub hidden: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// L2 penalty.
    pub alpha: f64,
    /// Largest minibatch, rows.
    pub max_batch: usize,
    /// Most epochs.
    pub max_iter: usize,
    /// Least improvement of the epoch loss that counts.
    pub tol: f64,
    /// Epochs without improvement tolerated before stopping.
    pub patience: usize,
    /// Seed of the initialisation and the minibatch shuffles.
    pub seed: u64,
    /// Train a valence–arousal regression head beside the classifier, on the rated rows.
    #[serde(default)]
    pub va_head: bool,
}

impl Default for MlpTrainConfig {
    fn default() -> Self {
        MlpTrainConfig {
            hidden: 100,
            lr: 1e-3,
            alpha: 1.0,
            max_batch: 200,
            max_iter: 1000,
            tol: 1e-4,
            patience: 10,
            seed: 12,
            va_head: false,
        }
    }
}

/// A trained network and how training went.
pub struct Fit {
    /// In inference mode.
    pub model: Mlp,
    /// Mean loss (with the penalty) of every epoch.
    pub loss_curve: Vec<f64>,
    /// Stopped on a plateau rather than at `max_iter`.
    pub converged: bool,
}

/// Trains on `x` (rows of selected, scaled features) with labels `y` in `0..classes` and, with
/// `config.va_head`, each row's valence and arousal `va` where rated: the loss adds their
/// squared error, averaged over the minibatch, to the cross-entropy.
pub fn train(
    config: &MlpTrainConfig,
    x: &[Vec<f32>],
    y: &[usize],
    va: &[Option<[f32; 2]>],
    classes: usize,
    device: &Device,
) -> Fit {
    assert_eq!(x.len(), y.len(), "one label per row");
    assert_eq!(x.len(), va.len(), "one rating (or none) per row");
    let n = x.len();
    let inputs = x.first().map_or(0, Vec::len);
    let device = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut model = init(
        &MlpConfig {
            inputs,
            hidden: config.hidden,
            classes,
        },
        config.va_head,
        &mut rng,
        &device,
    );
    let mut optim = AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init();
    let batch = config.max_batch.min(n).max(1);
    let mut order: Vec<usize> = (0..n).collect();
    let (mut best, mut stale) = (f64::INFINITY, 0);
    let mut loss_curve = Vec::new();
    let mut converged = false;
    for _ in 0..config.max_iter {
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut total = 0.0;
        for rows in order.chunks(batch) {
            let b = rows.len();
            let xb: Vec<f32> = rows.iter().flat_map(|&r| x[r].iter().copied()).collect();
            let yb: Vec<i64> = rows.iter().map(|&r| y[r] as i64).collect();
            let xb = Tensor::<2>::from_data(TensorData::new(xb, [b, inputs]), &device);
            let yb = Tensor::<1, Int>::from_data(TensorData::new(yb, [b]), &device);
            let (log_probs, va_out) = model.forward_va(xb); // [b, classes], [b, 2]
            let mut loss = log_probs.gather(1, yb.reshape([b, 1])).mean().neg()
                + model
                    .weight_norm2()
                    .mul_scalar(config.alpha / (2.0 * b as f64));
            if let Some(va_out) = va_out {
                let rated = |r: usize| va[r];
                let target: Vec<f32> = rows
                    .iter()
                    .flat_map(|&r| rated(r).unwrap_or_default())
                    .collect();
                let mask: Vec<f32> = rows
                    .iter()
                    .map(|&r| f32::from(u8::from(rated(r).is_some())))
                    .collect();
                let target = Tensor::<2>::from_data(TensorData::new(target, [b, 2]), &device);
                let mask = Tensor::<2>::from_data(TensorData::new(mask, [b, 1]), &device);
                loss = loss
                    + ((va_out - target).powf_scalar(2.0) * mask)
                        .sum()
                        .div_scalar(b as f32);
            }
            total += loss.clone().into_scalar::<f32>() as f64 * b as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(config.lr, model, grads);
        }
        let loss = total / n as f64;
        loss_curve.push(loss);
        if loss > best - config.tol {
            stale += 1;
        } else {
            stale = 0;
        }
        best = best.min(loss);
        if stale > config.patience {
            converged = true;
            break;
        }
    }
    Fit {
        model: model.valid(),
        loss_curve,
        converged,
    }
}

/// The network, with a valence–arousal head when `va_head`, with scikit-learn's
/// initialisation (weights and biases uniform in ±√(6 / (fan_in + fan_out))) drawn from
/// `rng`, not from burn's process-wide generator, so that trainings running side by side stay
/// reproducible.
fn init(config: &MlpConfig, va_head: bool, rng: &mut ChaCha8Rng, device: &Device) -> Mlp {
    let mut layer = |fan_in: usize, fan_out: usize| -> Linear {
        let bound = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
        let mut draw =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-bound..bound)).collect() };
        let weight = Tensor::<2>::from_data(
            TensorData::new(draw(fan_in * fan_out), [fan_in, fan_out]),
            device,
        );
        let bias = Tensor::<1>::from_data(TensorData::new(draw(fan_out), [fan_out]), device);
        Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        }
    };
    let hidden = layer(config.inputs, config.hidden);
    let output = layer(config.hidden, config.classes);
    Mlp {
        hidden,
        output,
        va_head: va_head.then(|| layer(config.hidden, 2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Class predictions of `model` (inference mode) for `x`.
    fn predict(model: &Mlp, x: &[Vec<f32>], device: &Device) -> Vec<usize> {
        let inputs = x.first().map_or(0, Vec::len);
        let flat: Vec<f32> = x.iter().flat_map(|r| r.iter().copied()).collect();
        let t = Tensor::<2>::from_data(TensorData::new(flat, [x.len(), inputs]), device);
        let classes: Vec<i64> = model
            .forward(t)
            .argmax(1)
            .into_data()
            .try_into_vec_as()
            .expect("class indices");
        classes.into_iter().map(|c| c as usize).collect()
    }

    /// Four Gaussian-ish blobs in 6 dimensions, deterministic.
    fn blobs(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let c = i % 4;
                let row = (0..6)
                    .map(|j| {
                        let centre = if j % 4 == c { 0.8 } else { 0.2 };
                        centre + (rng.random::<f32>() - 0.5) * 0.3
                    })
                    .collect();
                (row, c)
            })
            .unzip()
    }

    #[test]
    fn learns_separable_classes_and_stops_on_a_plateau() {
        let (x, y) = blobs(200, 1);
        let config = MlpTrainConfig {
            alpha: 1e-4,
            ..MlpTrainConfig::default()
        };
        let fit = train(&config, &x, &y, &vec![None; x.len()], 4, &Device::flex());
        let (tx, ty) = blobs(100, 2);
        let p = predict(&fit.model, &tx, &Device::flex());
        let acc = p.iter().zip(&ty).filter(|(a, b)| a == b).count() as f64 / ty.len() as f64;
        assert!(acc > 0.95, "held-out accuracy {acc}");
        assert!(fit.converged, "{} epochs", fit.loss_curve.len());
        assert!(fit.loss_curve.last() < fit.loss_curve.first());
    }

    #[test]
    fn same_seed_same_network() {
        let (x, y) = blobs(40, 3);
        let config = MlpTrainConfig {
            max_iter: 5,
            ..MlpTrainConfig::default()
        };
        let a = train(&config, &x, &y, &vec![None; x.len()], 4, &Device::flex());
        let b = train(&config, &x, &y, &vec![None; x.len()], 4, &Device::flex());
        assert_eq!(a.loss_curve, b.loss_curve);
        assert_eq!(a.loss_curve.len(), 5);
        assert!(!a.converged);
    }

    #[test]
    fn the_regression_head_learns_the_rated_rows() {
        let (x, y) = blobs(200, 5);
        // Valence rises with the first feature; every other row is unrated.
        let va: Vec<Option<[f32; 2]>> = x
            .iter()
            .enumerate()
            .map(|(i, r)| (i % 2 == 0).then(|| [2.0 * r[0] - 1.0, 0.0]))
            .collect();
        let config = MlpTrainConfig {
            alpha: 1e-4,
            va_head: true,
            ..MlpTrainConfig::default()
        };
        let fit = train(&config, &x, &y, &va, 4, &Device::flex());
        let (tx, _) = blobs(100, 6);
        let flat: Vec<f32> = tx.iter().flatten().copied().collect();
        let t = Tensor::<2>::from_data(TensorData::new(flat, [100, 6]), &Device::flex());
        let (_, out) = fit.model.forward_va(t);
        let out: Vec<f32> = out.unwrap().into_data().try_into_vec_as().unwrap();
        let mae = tx
            .iter()
            .zip(out.chunks(2))
            .map(|(r, o)| ((2.0 * r[0] - 1.0) - o[0]).abs() + o[1].abs())
            .sum::<f32>()
            / 200.0;
        assert!(mae < 0.1, "held-out MAE {mae}");
    }

    #[test]
    fn a_strong_penalty_shrinks_the_weights() {
        let (x, y) = blobs(80, 4);
        let norm = |alpha: f64| {
            let config = MlpTrainConfig {
                alpha,
                max_iter: 60,
                ..MlpTrainConfig::default()
            };
            let fit = train(&config, &x, &y, &vec![None; x.len()], 4, &Device::flex());
            fit.model.weight_norm2().into_scalar::<f32>()
        };
        assert!(norm(10.0) < norm(0.0) * 0.8);
    }
}
