//! `trainer bench`: decoding, feature extraction, SincNet and bundle sizes, printed as tables.

use crate::audio::{DecodeCache, decode_bytes};
use anyhow::{Context, Result};
use model_format::FrontEnd;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The fastest of `repeat` runs of `f` and its last result.
fn best_of<T>(repeat: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let v = f()?;
        best = best.min(t.elapsed());
        out = Some(v);
    }
    Ok((best, out.expect("ran at least once")))
}

/// Measures each file: decode, resample to the model rate, the first (cold) and second (warm)
/// pass through a fresh cache. Times are the best of `repeat` runs, on one thread.
pub fn decode(files: &[PathBuf], repeat: usize) -> Result<String> {
    let fe = FrontEnd::default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:>7} {:>10} {:>11} {:>10} {:>11} {:>10} {:>9}",
        "file",
        "audio s",
        "decode ms",
        "resample ms",
        "× realtime",
        "cold load ms",
        "warm ms",
        "speed-up"
    );
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (t_dec, pcm) = best_of(repeat, || Ok(decode_bytes(path, bytes.clone())?))?;
        let (t_res, _) = best_of(repeat, || Ok(fe.to_model_rate(pcm.as_pcm())?))?;
        let seconds = pcm.frames() as f64 / pcm.sample_rate as f64;
        let dir = tempfile::tempdir()?;
        let mut cold = Duration::MAX;
        for _ in 0..repeat.max(1) {
            let cache = DecodeCache::new(dir.path().join("fresh"), fe);
            let t = Instant::now();
            cache.load(path)?;
            cold = cold.min(t.elapsed());
            std::fs::remove_dir_all(dir.path().join("fresh"))?;
        }
        let cache = DecodeCache::new(dir.path().join("warm"), fe);
        cache.load(path)?;
        let (warm, _) = best_of(repeat, || Ok(cache.load(path)?))?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(
            s,
            "{:<28} {:>7.1} {:>10.1} {:>11.1} {:>10.0} {:>11.1} {:>10.2} {:>8.0}×",
            name,
            seconds,
            ms(t_dec),
            ms(t_res),
            seconds / (t_dec + t_res).as_secs_f64(),
            ms(cold),
            ms(warm),
            cold.as_secs_f64() / warm.as_secs_f64()
        );
    }
    Ok(s)
}

/// Feature extraction speed on each file, whole (as the reference extractors run): decode and
/// resampling, then each set's features, on one thread. Times are the best of `repeat` runs.
pub fn features(files: &[PathBuf], repeat: usize) -> Result<String> {
    use model_format::features::FeatureSet;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:>7} {:>10} {:>9} {:>9} {:>9} {:>14}",
        "file", "audio s", "decode ms", "IS13 ms", "Essentia", "both ms", "both × realtime"
    );
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (t_dec, pcm) = best_of(repeat, || Ok(decode_bytes(path, bytes.clone())?))?;
        let seconds = pcm.frames() as f64 / pcm.sample_rate as f64;
        let mut times = Vec::new();
        for set in FeatureSet::ALL {
            let (t, _) = best_of(repeat, || {
                let (fe16, fe44) = set.front_ends();
                let mono =
                    |fe: Option<FrontEnd>| fe.map(|fe| fe.to_model_rate(pcm.as_pcm())).transpose();
                let (m16, m44) = (mono(fe16)?, mono(fe44)?);
                set.extract(m16.as_deref(), m44.as_deref())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            })?;
            times.push(t);
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let _ = writeln!(
            s,
            "{:<28} {:>7.1} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>14.0}",
            name,
            seconds,
            ms(t_dec),
            ms(times[0]),
            ms(times[1]),
            ms(times[2]),
            seconds / (t_dec + times[2]).as_secs_f64()
        );
    }
    s.push_str("(feature times include resampling to 16 kHz and 44.1 kHz; × realtime counts decoding too)\n");
    Ok(s)
}

/// SincNet speed on `backend`, as a table (see [`sincnet_rates`]).
pub fn sincnet(
    config: &model_format::sincnet::SincNetConfig,
    batch: usize,
    steps: usize,
    backend: crate::device::Backend,
) -> Result<String> {
    let (train_rate, infer_rate) = sincnet_rates(config, batch, steps, &backend.device()?)?;
    let n = crate::sincnet::batching(&backend.device()?).windows_for(config);
    let threads = rayon::current_num_threads();
    Ok(format!(
        "SincNet {} ms, fc {:?}, on {backend:?} ({threads} CPU threads)\n{:<34} {:>10.1}\n{:<34} {:>10.1}\n",
        config.window_ms,
        config.fc,
        format!("training chunks/s (batch {batch})"),
        train_rate,
        format!("inference windows/s (batch {n})"),
        infer_rate
    ))
}

/// SincNet speed on `on`: training chunks/s (forward, backward and RMSprop step on random
/// windows of `batch` chunks) and inference windows/s (forward in inference mode, in batches
/// of [`crate::sincnet::batching`]). One warm-up step each, then `steps` timed.
pub fn sincnet_rates(
    config: &model_format::sincnet::SincNetConfig,
    batch: usize,
    steps: usize,
    on: &burn::prelude::Device,
) -> Result<(f64, f64)> {
    use crate::sincnet::checkpoint::optimizer;
    use burn::optim::GradientsParams;
    use burn::prelude::*;
    let wlen = config.window_samples();
    let device = on.clone().autodiff();
    device.seed(1);
    let mut model = config.init(&device)?;
    let mut optim = optimizer(0.95, 1e-8);
    let noise = |n: usize, k: usize| -> Vec<f32> {
        (0..n * wlen)
            .map(|i| (((i + k) * 2_654_435_761) % 2000) as f32 / 1000.0 - 1.0)
            .collect()
    };
    let mut train_step = |k: usize| {
        let x = Tensor::<2>::from_data(TensorData::new(noise(batch, k), [batch, wlen]), &device);
        let y = Tensor::<1, Int>::from_data(
            TensorData::new(
                (0..batch as i64).map(|i| i % 4).collect::<Vec<_>>(),
                [batch],
            ),
            &device,
        );
        let loss = model
            .forward(x)
            .gather(1, y.reshape([batch, 1]))
            .mean()
            .neg();
        let _ = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(0.004, model.clone(), grads);
    };
    train_step(0);
    let t = Instant::now();
    for k in 1..=steps {
        train_step(k);
    }
    let train_rate = (steps * batch) as f64 / t.elapsed().as_secs_f64();

    let inference = config.init(on)?.valid();
    let n = crate::sincnet::batching(on).windows_for(config);
    let run = |k: usize| {
        let x = Tensor::<2>::from_data(TensorData::new(noise(n, k), [n, wlen]), on);
        let _: Vec<f32> = inference
            .forward(x)
            .into_data()
            .try_into_vec_as()
            .expect("floats");
    };
    run(0);
    let t = Instant::now();
    for k in 1..=steps {
        run(k);
    }
    let infer_rate = (steps * n) as f64 / t.elapsed().as_secs_f64();
    Ok((train_rate, infer_rate))
}

/// Bundle size by configuration: the paper's networks and a small one, in f32 and f16
/// (freshly initialised weights; the size does not depend on their values).
pub fn bundle_sizes() -> Result<String> {
    use burn::prelude::*;
    use model_format::FrontEnd;
    use model_format::bundle::{Bundle, ModelKind, Provenance, WeightsDType, pack_weights};
    use model_format::sincnet::SincNetConfig;
    let configs = [
        ("SincNet 200 ms, fc 2048×3", SincNetConfig::paper(200)),
        ("SincNet 500 ms, fc 2048×3", SincNetConfig::paper(500)),
        (
            "SincNet 200 ms, fc 256×3",
            SincNetConfig {
                fc: vec![256; 3],
                ..SincNetConfig::paper(200)
            },
        ),
    ];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:>12} {:>12} {:>12}",
        "model", "parameters", "f32 bytes", "f16 bytes"
    );
    for (name, config) in configs {
        let model = config.init(&Device::flex())?;
        let mut sizes = Vec::new();
        for dtype in [WeightsDType::F32, WeightsDType::F16] {
            let bundle = Bundle::new(
                ModelKind::SincNet(config.clone()),
                FrontEnd::default(),
                10,
                Provenance::default(),
                dtype,
                pack_weights(&model, dtype)?,
            );
            sizes.push(bundle.to_bytes().len());
        }
        let _ = writeln!(
            s,
            "{:<28} {:>12} {:>12} {:>12}",
            name,
            model.num_params(),
            sizes[0],
            sizes[1]
        );
    }
    Ok(s)
}
