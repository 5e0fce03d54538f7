//! The model commands behind the CLI: train, evaluate, export, predict, import.

use crate::audio::DecodeCache;
use crate::dataset::split::Split;
use crate::dataset::{Dataset, Issue, Layout, Song};
use crate::features::{SongFeatures, song_features, songs_features};
use crate::metrics::Evaluation;
use crate::mlp::experiment::{self, MlpRunConfig};
use crate::progress;
use crate::sincnet::data::{self, SongSegments};
use crate::sincnet::eval::evaluate;
use crate::sincnet::train::{TrainConfig, train};
use crate::sincnet::{checkpoint, infer, inference_batch};
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use model_format::analysis::{SongPrediction, WindowPlan, aggregate};
use model_format::bundle::{Bundle, ModelKind, Provenance, WeightsDType, pack_weights};
use model_format::features::FeatureSet;
use model_format::mlp::{FeaturePipeline, Mlp};
use model_format::sincnet::{SincNet, SincNetConfig, load_pytorch};
use model_format::{FrontEnd, Quadrant};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the songs of an experiment come from.
pub struct DataSpec {
    pub dir: PathBuf,
    pub layout: Option<Layout>,
    /// An existing split manifest; otherwise one is made.
    pub split: Option<PathBuf>,
    pub split_seed: u64,
    pub test_fraction: f64,
    pub balance: bool,
}

/// The dataset's train and test songs, and the split used: `spec.split`, else the run's
/// saved split, else a new one. With a run folder, the split is saved there.
pub fn split_songs(
    spec: &DataSpec,
    run: Option<&Path>,
) -> Result<(Dataset, Vec<Song>, Vec<Song>, Split)> {
    let ds = Dataset::load(&spec.dir, spec.layout)?;
    for i in &ds.issues {
        eprintln!("warning: {i}");
    }
    let saved = run.map(|r| r.join("split.json"));
    let split = match (&spec.split, saved.as_deref().filter(|p| p.is_file())) {
        (Some(path), _) => Split::load(path)?,
        (None, Some(path)) => Split::load(path)?,
        (None, None) => Split::of_dataset(&ds, spec.test_fraction, spec.split_seed, spec.balance),
    };
    if let (Some(run), Some(saved)) = (run, &saved) {
        std::fs::create_dir_all(run)?;
        split.save(saved)?;
    }
    let (train, test) = split
        .resolve(&ds.songs)
        .map_err(|e| anyhow::anyhow!("split: {e}"))?;
    Ok((ds, train, test, split))
}

fn load_segments(songs: &[Song], cache: &DecodeCache, what: &str) -> Vec<SongSegments> {
    let pb = progress::bar(songs.len() as u64, what);
    let (ok, bad) = data::load(songs, cache, &pb);
    report_skipped(&bad);
    ok
}

/// `trainer train`: trains SincNet on the split's training songs, evaluating on its test songs.
pub fn train_command(
    spec: &DataSpec,
    config: &TrainConfig,
    run: &Path,
    resume: bool,
    devices: &[Device],
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<()> {
    if run.join(MLP_CONFIG).exists() {
        bail!("{} holds an MLP run; choose another --run", run.display());
    }
    let (_, train_songs, test_songs, split) = split_songs(spec, Some(run))?;
    writeln!(
        out,
        "{} train / {} test songs (split seed {}); run folder {}",
        train_songs.len(),
        test_songs.len(),
        split.seed,
        run.display()
    )?;
    let train_set = load_segments(&train_songs, cache, "loading train");
    let test_set = load_segments(&test_songs, cache, "loading test");
    let (_, history) = train(config, &train_set, &test_set, run, resume, devices, out)?;
    if let Some(last) = history.last() {
        writeln!(
            out,
            "trained {} epochs: loss {:.3}, train window accuracy {:.3}, {:.1} chunks/s",
            last.epoch, last.loss, last.train_accuracy, last.chunks_per_second
        )?;
        if let Some(e) = &last.eval {
            write_json(&run.join("eval.json"), e)?;
            write!(out, "\ntest set:\n{}", e.render())?;
        }
    }
    Ok(())
}

fn report_skipped(issues: &[Issue]) {
    for i in issues {
        eprintln!("skipped: {i}");
    }
}

/// The features of `songs`, with progress; unreadable songs are reported and left out.
fn load_features(
    songs: &[Song],
    set: FeatureSet,
    cache: &DecodeCache,
    what: &str,
) -> Vec<(Song, SongFeatures)> {
    let pb = progress::bar(songs.len() as u64, what);
    let (ok, bad) = songs_features(songs, set, cache, &pb);
    report_skipped(&bad);
    ok
}

/// The bundle of an MLP run folder.
const MLP_MODEL: &str = "model.mermodel";
/// An MLP run's settings.
const MLP_CONFIG: &str = "mlp.json";

/// `trainer train --model mlp`: extracts (or reads back) the features of the split's songs,
/// fits the baseline on the training songs and evaluates it on the test songs. The run folder
/// gets the settings, the split, the fit report, the evaluation and the model as a bundle.
pub fn train_mlp_command(
    spec: &DataSpec,
    config: &MlpRunConfig,
    run: &Path,
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<()> {
    if run.join("config.json").exists() {
        bail!(
            "{} holds a SincNet run; choose another --run",
            run.display()
        );
    }
    let (_, train_songs, test_songs, split) = split_songs(spec, Some(run))?;
    writeln!(
        out,
        "{} train / {} test songs (split seed {}); {} features; run folder {}",
        train_songs.len(),
        test_songs.len(),
        split.seed,
        config.features.name(),
        run.display()
    )?;
    let set = config.features;
    let train_set = load_features(&train_songs, set, cache, "train features");
    let test_set = load_features(&test_songs, set, cache, "test features");
    let device = Device::flex();
    let fitted = experiment::fit(config, &train_set, &device)?;
    let r = &fitted.report;
    writeln!(
        out,
        "fitted on {} of {} training segments (balanced); {} features selected; {} epochs, loss {:.4}{}",
        r.balanced_segments,
        r.segments,
        r.selected.len(),
        r.epochs,
        r.final_loss,
        if r.converged { "" } else { " (not converged)" }
    )?;
    write_json(&run.join("fit.json"), r)?;
    let eval = experiment::evaluate(&fitted.model, &fitted.pipeline, &test_set, &device)?;
    let metrics_json = serde_json::to_string_pretty(&eval)?;
    write_json(&run.join("eval.json"), &eval)?;
    write!(out, "\ntest set:\n{}", eval.render())?;
    let bundle = Bundle {
        model: ModelKind::Mlp {
            config: model_format::mlp::MlpConfig {
                inputs: fitted.pipeline.selected.len(),
                hidden: config.train.hidden,
                classes: 4,
            },
            features: set,
            pipeline: fitted.pipeline.clone(),
        },
        labels: Quadrant::ALL.iter().map(|q| q.name().to_string()).collect(),
        front_end: FrontEnd::default(),
        window_ms: 0,
        shift_ms: 0,
        provenance: Provenance {
            datasets: vec![split.dataset.clone()],
            setup: "within".into(),
            split: Some(Split::load_hashed(&run.join("split.json"))?.1),
            seed: config.train.seed,
            epochs: r.epochs,
            metrics_json,
            code_version: env!("CARGO_PKG_VERSION").into(),
        },
        weights_dtype: WeightsDType::F32,
        weights: pack_weights(&fitted.model, WeightsDType::F32).map_err(anyhow::Error::msg)?,
    };
    write_bundle(&bundle, &run.join(MLP_MODEL))?;
    // Last: its presence marks a finished MLP run.
    write_json(&run.join(MLP_CONFIG), config)
}

/// Writes `value` as pretty JSON to `path`.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The trained model of a run folder, in inference mode on `device`, and its configuration.
pub fn run_model(run: &Path, device: &Device) -> Result<(SincNet, TrainConfig)> {
    let path = run.join("config.json");
    let config: TrainConfig = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("no run in {}", run.display()))?,
    )
    .with_context(|| format!("{}: malformed", path.display()))?;
    let model = checkpoint::load_model(run, &config.model, device)?
        .with_context(|| format!("{} has no checkpoint yet", run.display()))?;
    Ok((model, config))
}

/// A model to evaluate or run: a run folder's checkpoint or a bundle.
pub enum ModelSource {
    Run(PathBuf),
    Bundle(PathBuf),
}

/// A loaded SincNet with what inference needs.
pub struct LoadedSincNet {
    pub model: SincNet,
    /// Where the model lives.
    pub device: Device,
    pub front_end: FrontEnd,
    pub wlen: usize,
    pub shift: usize,
    /// Windows per forward pass.
    pub batch: usize,
    pub sample_rate: u32,
}

/// A loaded MLP baseline: the network (on the CPU) and its features.
pub struct LoadedMlp {
    pub model: Mlp,
    pub features: FeatureSet,
    pub pipeline: FeaturePipeline,
}

/// A model ready to run.
pub enum Loaded {
    SincNet(Box<LoadedSincNet>),
    Mlp(Box<LoadedMlp>),
}

pub fn load_bundle(path: &Path) -> Result<Bundle> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Bundle::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

impl ModelSource {
    /// The model, on `device` (an MLP always runs on the CPU: it is tiny).
    pub fn load(&self, device: &Device) -> Result<Loaded> {
        let path = match self {
            ModelSource::Run(run) if run.join(MLP_CONFIG).is_file() => run.join(MLP_MODEL),
            ModelSource::Run(run) => {
                let (model, c) = run_model(run, device)?;
                return Ok(Loaded::SincNet(Box::new(LoadedSincNet {
                    model,
                    device: device.clone(),
                    front_end: FrontEnd::default(),
                    wlen: c.model.window_samples(),
                    shift: c.shift_samples(),
                    batch: inference_batch(&c.model, device),
                    sample_rate: c.model.sample_rate,
                })));
            }
            ModelSource::Bundle(path) => path.clone(),
        };
        let b = load_bundle(&path)?;
        let broken = |e| anyhow::anyhow!("{}: {e}", path.display());
        Ok(match &b.model {
            ModelKind::SincNet(config) => Loaded::SincNet(Box::new(LoadedSincNet {
                model: b.sincnet(device).map_err(broken)?.valid(),
                device: device.clone(),
                front_end: b.front_end,
                wlen: b.window_samples(),
                shift: b.shift_samples(),
                batch: inference_batch(config, device),
                sample_rate: b.front_end.sample_rate,
            })),
            ModelKind::Mlp { .. } => {
                let (model, features, pipeline) = b.mlp(&Device::flex()).map_err(broken)?;
                Loaded::Mlp(Box::new(LoadedMlp {
                    model,
                    features,
                    pipeline,
                }))
            }
        })
    }
}

/// `trainer eval`: the test songs of a split (or every song with `all`).
pub fn eval_command(
    source: &ModelSource,
    spec: &DataSpec,
    all: bool,
    device: &Device,
    cache: &DecodeCache,
) -> Result<Evaluation> {
    let loaded = source.load(device)?;
    let songs = if all {
        Dataset::load(&spec.dir, spec.layout)?.songs
    } else {
        let run = match (source, &spec.split) {
            (ModelSource::Run(r), None) => Some(r.as_path()),
            (_, Some(_)) => None,
            (ModelSource::Bundle(_), None) => {
                bail!("evaluating a bundle needs --split FILE or --all")
            }
        };
        split_songs(spec, run)?.2
    };
    match loaded {
        Loaded::SincNet(l) => {
            let set = load_segments(&songs, cache, "loading");
            let pb = progress::bar(set.len() as u64, "evaluating");
            Ok(evaluate(
                &l.model,
                &set,
                l.wlen,
                l.shift,
                l.batch,
                l.sample_rate,
                &l.device,
                &pb,
            ))
        }
        Loaded::Mlp(l) => {
            let set = load_features(&songs, l.features, cache, "features");
            experiment::evaluate(&l.model, &l.pipeline, &set, &Device::flex())
        }
    }
}

/// `trainer export`: a run's model as a bundle, predicting with windows every `shift_ms`
/// (default: the run's evaluation hop).
pub fn export_command(
    run: &Path,
    out_path: &Path,
    dtype: WeightsDType,
    shift_ms: Option<u32>,
) -> Result<Bundle> {
    if shift_ms == Some(0) {
        bail!("--shift-ms must be positive");
    }
    if run.join(MLP_CONFIG).is_file() {
        if shift_ms.is_some() {
            bail!("--shift-ms sets SincNet's window hop; an MLP reads whole segments");
        }
        let mut b = load_bundle(&run.join(MLP_MODEL))?;
        let (model, _, _) = b
            .mlp(&Device::flex())
            .map_err(|e| anyhow::anyhow!("{}: {e}", run.join(MLP_MODEL).display()))?;
        b.weights_dtype = dtype;
        b.weights = pack_weights(&model, dtype).map_err(anyhow::Error::msg)?;
        write_bundle(&b, out_path)?;
        return Ok(b);
    }
    let (model, config) = run_model(run, &Device::flex())?;
    // What the bundle says of its training must be true: a run folder without its split or
    // state, or with a damaged evaluation, is an error, not a bundle claiming nothing.
    let (split, split_hash) = Split::load_hashed(&run.join("split.json"))?;
    let state = checkpoint::load_state(run)?
        .with_context(|| format!("{} has no checkpoint yet", run.display()))?;
    let eval_path = run.join("eval.json");
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
                run.display()
            );
            String::new()
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", eval_path.display())),
    };
    let bundle = Bundle {
        model: ModelKind::SincNet(config.model.clone()),
        labels: Quadrant::ALL.iter().map(|q| q.name().to_string()).collect(),
        front_end: FrontEnd::default(),
        window_ms: config.model.window_ms,
        shift_ms: shift_ms.unwrap_or(config.shift_ms),
        provenance: Provenance {
            datasets: vec![split.dataset],
            setup: "within".into(),
            split: Some(split_hash),
            seed: config.seed,
            epochs: state.epochs_done,
            metrics_json,
            code_version: env!("CARGO_PKG_VERSION").into(),
        },
        weights_dtype: dtype,
        weights: pack_weights(&model, dtype).map_err(anyhow::Error::msg)?,
    };
    write_bundle(&bundle, out_path)?;
    Ok(bundle)
}

fn write_bundle(bundle: &Bundle, out_path: &Path) -> Result<()> {
    let tmp = out_path.with_extension("part");
    std::fs::write(&tmp, bundle.to_bytes())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out_path)?;
    Ok(())
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
    let bundle = Bundle {
        window_ms: config.window_ms,
        model: ModelKind::SincNet(config),
        labels: Quadrant::ALL.iter().map(|q| q.name().to_string()).collect(),
        front_end: FrontEnd::default(),
        shift_ms,
        provenance: Provenance {
            setup: format!("imported from {}", weights.display()),
            code_version: env!("CARGO_PKG_VERSION").into(),
            ..Provenance::default()
        },
        weights_dtype: WeightsDType::F32,
        weights: pack_weights(&model, WeightsDType::F32).map_err(anyhow::Error::msg)?,
    };
    write_bundle(&bundle, out_path)?;
    Ok(bundle)
}

/// One file's prediction, or why there is none.
pub struct FilePrediction {
    pub path: PathBuf,
    pub result: Result<SongPrediction, String>,
}

/// `trainer predict`: a file, or every audio file under a folder.
pub fn predict_command(
    path: &Path,
    bundle: &Path,
    device: &Device,
    cache: &DecodeCache,
) -> Result<Vec<FilePrediction>> {
    let loaded = ModelSource::Bundle(bundle.to_path_buf()).load(device)?;
    let files = crate::audio::audio_files(path)?;
    let pb = progress::bar(files.len() as u64, "predicting");
    let predict_one = |f: &Path| -> Result<SongPrediction, String> {
        match &loaded {
            Loaded::SincNet(l) => {
                let (_, segments) = cache
                    .with_front_end(l.front_end)
                    .load_segments(f)
                    .map_err(|e| e.reason)?;
                let plan = WindowPlan::new(&segments, l.wlen, l.shift);
                let lp = infer(&l.model, &plan, &segments, l.batch, &l.device);
                Ok(aggregate(&plan, &segments, &lp, l.sample_rate))
            }
            Loaded::Mlp(l) => {
                let features = song_features(f, l.features, cache).map_err(|e| e.reason)?;
                experiment::predict(&l.model, &l.pipeline, &features, &Device::flex())
                    .map_err(|e| e.to_string())
            }
        }
    };
    let out = files
        .into_iter()
        .map(|f| {
            let result = predict_one(&f);
            pb.inc(1);
            FilePrediction { path: f, result }
        })
        .collect();
    pb.finish_and_clear();
    Ok(out)
}

/// Predictions as JSON (`[{path, prediction | error}]`) or as a table with each song's
/// timeline and a summary.
pub fn render_predictions(preds: &[FilePrediction], json: bool) -> Result<String> {
    use std::fmt::Write as _;
    if json {
        let v: Vec<serde_json::Value> = preds
            .iter()
            .map(|p| match &p.result {
                Ok(r) => serde_json::json!({ "path": p.path, "prediction": r }),
                Err(e) => serde_json::json!({ "path": p.path, "error": e }),
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut s = String::new();
    let mut counts = [0usize; 4];
    let mut failed = 0;
    for p in preds {
        match &p.result {
            Ok(r) => {
                counts[r.quadrant.index()] += 1;
                let pr = r.probabilities;
                let _ = writeln!(
                    s,
                    "{}: {} ({})  P = Q1 {:.3}, Q2 {:.3}, Q3 {:.3}, Q4 {:.3}  valence {:+.2} arousal {:+.2}",
                    p.path.display(),
                    r.quadrant,
                    r.quadrant.emotions(),
                    pr[0],
                    pr[1],
                    pr[2],
                    pr[3],
                    r.valence,
                    r.arousal
                );
                for seg in &r.segments {
                    let windows = match seg.windows {
                        1 => String::new(),
                        n => format!(", {n} windows"),
                    };
                    let _ = writeln!(
                        s,
                        "    {:>6.1}–{:<6.1} s  {}  (p {:.3}{windows})",
                        seg.start_seconds,
                        seg.end_seconds,
                        seg.quadrant,
                        seg.probabilities[seg.quadrant.index()],
                    );
                }
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(s, "{}: error: {e}", p.path.display());
            }
        }
    }
    if preds.len() > 1 {
        let _ = writeln!(
            s,
            "\n{} files: Q1 {}, Q2 {}, Q3 {}, Q4 {}; {failed} could not be read",
            preds.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
    }
    Ok(s)
}
