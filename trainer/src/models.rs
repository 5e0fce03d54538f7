//! Models to run: a run folder's or a bundle's network as a `model_format::inference::Model`,
//! and its evaluation on labelled songs (`trainer eval`).

use crate::audio::DecodeCache;
use crate::dataset::{Dataset, Issue, Song};
use crate::features::{SongFeatures, songs_features};
use crate::metrics::{Confusion, Evaluation, VaScores};
use crate::progress;
use crate::run::{DataSpec, RunDir, RunKind};
use crate::sincnet::checkpoint;
use crate::sincnet::data::{self, SongSegments};
use crate::sincnet::train::TrainConfig;
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use indicatif::ProgressBar;
use model_format::analysis::PointSource;
use model_format::bundle::Bundle;
use model_format::features::FeatureSet;
use model_format::inference::{Input, Model};
use model_format::{FrontEnd, Quadrant};
use std::path::{Path, PathBuf};

/// The model the browser demo ships (`web/assets/default.mermodel`), built into the trainer
/// so that `trainer predict` without `--model` gives the page's answer.
pub const DEFAULT_BUNDLE: &[u8] = include_bytes!("../../web/assets/default.mermodel");

/// A model to evaluate or run: a run folder's or a bundle's.
pub enum ModelSource {
    /// A training run's folder.
    Run(RunDir),
    /// A model bundle file.
    Bundle(PathBuf),
    /// The browser demo's bundled model ([`DEFAULT_BUNDLE`]).
    Default,
}

/// Reads and checks the bundle at `path`.
pub fn load_bundle(path: &Path) -> Result<Bundle> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Bundle::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A SincNet run's settings.
pub fn run_config(run: &RunDir) -> Result<TrainConfig> {
    let path = run.sincnet_config();
    let bytes =
        std::fs::read(&path).with_context(|| format!("no run in {}", run.path().display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: malformed", path.display()))
}

/// The trained SincNet of a run folder, in inference mode on the CPU, and its settings.
pub fn run_sincnet(run: &RunDir) -> Result<(model_format::sincnet::SincNet, TrainConfig)> {
    let config = run_config(run)?;
    let model = checkpoint::load_model(run, &config, &Device::flex())?
        .with_context(|| format!("{} has no checkpoint yet", run.path().display()))?;
    Ok((model, config))
}

impl ModelSource {
    /// The model, on `device` (an MLP always runs on the CPU: it is tiny). A SincNet run
    /// predicts with windows every its evaluation hop.
    pub fn load(&self, device: &Device) -> Result<Model> {
        let batching = crate::sincnet::batching(device);
        let path = match self {
            ModelSource::Run(run) => match run.kind() {
                Some(RunKind::Mlp) => run.mlp_model(),
                _ => {
                    let (model, config) = run_sincnet(run)?;
                    return Ok(Model::sincnet(
                        model,
                        config.model,
                        FrontEnd::default(),
                        config.shift_ms,
                        device,
                        batching,
                    ));
                }
            },
            ModelSource::Bundle(path) => path.clone(),
            ModelSource::Default => {
                let bundle = Bundle::from_bytes(DEFAULT_BUNDLE)
                    .map_err(|e| anyhow::anyhow!("the built-in model: {e}"))?;
                return Model::from_bundle(&bundle, device, batching)
                    .map_err(|e| anyhow::anyhow!("the built-in model: {e}"));
            }
        };
        Model::from_bundle(&load_bundle(&path)?, device, batching)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// What a song is known to be: its quadrant and, where rated, its valence and arousal.
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    /// The labelled quadrant.
    pub quadrant: Quadrant,
    /// The rating in [−1, 1]², if any.
    pub va: Option<[f32; 2]>,
}

impl Truth {
    /// The truth of `song`.
    pub fn of(song: &Song) -> Truth {
        Truth {
            quadrant: song.quadrant,
            va: song.va(),
        }
    }
}

/// Segment- and song-level scores of `model` on `songs`: each one's truth, name and input.
/// Valence and arousal are scored where the model regresses them and the song is rated.
pub fn evaluate<'a>(
    model: &Model,
    songs: impl ExactSizeIterator<Item = (Truth, &'a str, Input<'a>)>,
    progress: &ProgressBar,
) -> Result<Evaluation> {
    let mut segment = Confusion::default();
    let mut song = Confusion::default();
    let mut va = Vec::new();
    progress.set_length(songs.len() as u64);
    for (truth, name, input) in songs {
        let p = model.predict(input).with_context(|| name.to_string())?;
        for seg in &p.segments {
            segment.add(truth.quadrant, seg.quadrant);
        }
        song.add(truth.quadrant, p.quadrant);
        if let (PointSource::Regression, Some(rated)) = (p.point, truth.va) {
            va.push(([p.valence, p.arousal], rated));
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(Evaluation::new(segment, song, VaScores::of(&va)))
}

/// [`evaluate`] on songs with their cached features (an MLP's input).
pub fn evaluate_features(model: &Model, songs: &[(Song, SongFeatures)]) -> Result<Evaluation> {
    let names: Vec<String> = songs
        .iter()
        .map(|(s, _)| s.path.display().to_string())
        .collect();
    let inputs = songs.iter().zip(&names).map(|((s, f), name)| {
        let input = Input::Features {
            rows: &f.rows,
            spans: &f.spans,
        };
        (Truth::of(s), name.as_str(), input)
    });
    evaluate(model, inputs, &ProgressBar::hidden())
}

/// Songs as segments in memory, with progress; unreadable songs are reported and left out.
pub fn load_segments(songs: &[Song], cache: &DecodeCache, what: &str) -> Vec<SongSegments> {
    let pb = progress::bar(songs.len() as u64, what);
    let (ok, bad) = data::load(songs, cache, &pb);
    report_skipped(&bad);
    ok
}

/// The features of `songs`, with progress; unreadable songs are reported and left out.
pub fn load_features(
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

fn report_skipped(issues: &[Issue]) {
    for i in issues {
        eprintln!("skipped: {i}");
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
    let model = source.load(device)?;
    let songs = if all {
        Dataset::load(&spec.dir, spec.layout)?.songs
    } else {
        let run = match (source, &spec.split) {
            (ModelSource::Run(r), None) => Some(r),
            (_, Some(_)) => None,
            (ModelSource::Bundle(_) | ModelSource::Default, None) => {
                bail!("evaluating a bundle needs --split FILE or --all")
            }
        };
        spec.split_songs(run)?.test
    };
    evaluate_songs(&model, &songs, cache)
}

/// Segment- and song-level scores of `model` on `songs`, read through `cache` (as segments
/// or as features, whichever the model takes); unreadable songs are reported and left out.
pub fn evaluate_songs(model: &Model, songs: &[Song], cache: &DecodeCache) -> Result<Evaluation> {
    match model.features() {
        None => {
            let set = load_segments(songs, cache, "loading");
            let pb = progress::bar(set.len() as u64, "evaluating");
            let inputs = set
                .iter()
                .map(|s| (s.truth(), s.id.as_str(), Input::Segments(&s.segments)));
            evaluate(model, inputs, &pb)
        }
        Some(features) => {
            let set = load_features(songs, features, cache, "features");
            evaluate_features(model, &set)
        }
    }
}
