//! `trainer train`: SincNet or an MLP baseline on a dataset's split, in a run folder.

use crate::audio::DecodeCache;
use crate::dataset::Song;
use crate::dataset::split::Split;
use crate::export::{bundle_of, write_bundle};
use crate::metrics::Evaluation;
use crate::mlp::experiment::{self, MlpRunConfig};
use crate::models::{evaluate_features, load_features, load_segments};
use crate::run::{DataSpec, RunDir, RunKind, SplitSongs, write_json};
use crate::sincnet::init::{self, InitFrom};
use crate::sincnet::train::{TrainConfig, train};
use anyhow::{Result, bail};
use burn::prelude::*;
use model_format::bundle::{Bundle, ModelKind, Provenance, WeightsDType, pack_weights};
use model_format::inference::Model;
use std::io::Write;
use std::path::Path;

/// Refuses a run folder that holds the other kind of model.
fn check_kind(run: &RunDir, kind: RunKind) -> Result<()> {
    match run.kind() {
        Some(k) if k != kind => bail!(
            "{} holds {} run; choose another --run",
            run.path().display(),
            match k {
                RunKind::SincNet => "a SincNet",
                RunKind::Mlp => "an MLP",
            }
        ),
        _ => Ok(()),
    }
}

/// The run's split of `spec`'s songs, announced on `out` with `what` the run is.
fn split_songs(
    spec: &DataSpec,
    run: &RunDir,
    what: &str,
    out: &mut dyn Write,
) -> Result<SplitSongs> {
    let songs = spec.split_songs(Some(run))?;
    writeln!(
        out,
        "{} train / {} test songs (split seed {}){what}; run folder {}",
        songs.train.len(),
        songs.test.len(),
        songs.split.seed,
        run.path().display()
    )?;
    Ok(songs)
}

/// `trainer train`: trains SincNet on the split's training songs, evaluating on its test songs,
/// from fresh weights or from those of the run folder or bundle `init_from`.
#[allow(clippy::too_many_arguments)]
pub fn train_command(
    spec: &DataSpec,
    config: &TrainConfig,
    run: &RunDir,
    resume: bool,
    init_from: Option<&Path>,
    devices: &[Device],
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<Option<Evaluation>> {
    check_kind(run, RunKind::SincNet)?;
    if resume && run.kind().is_none() {
        bail!("{} holds no run to resume", run.path().display());
    }
    let from = match init_from {
        Some(p) => format!("; starting from {}", p.display()),
        None => String::new(),
    };
    let songs = split_songs(spec, run, &from, out)?;
    train_sincnet(
        &songs.train,
        &songs.test,
        config,
        run,
        resume,
        init_from,
        devices,
        cache,
        out,
    )
}

/// Trains SincNet in `run` (whose split the caller has saved) on `train`, evaluating on
/// `test`; returns the final evaluation, also saved in the run folder.
#[allow(clippy::too_many_arguments)]
pub fn train_sincnet(
    train_songs: &[Song],
    test_songs: &[Song],
    config: &TrainConfig,
    run: &RunDir,
    resume: bool,
    init_from: Option<&Path>,
    devices: &[Device],
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<Option<Evaluation>> {
    check_kind(run, RunKind::SincNet)?;
    let mut config = config.clone();
    let init = init_from
        .map(|p| init::load(p, &config.model))
        .transpose()?;
    config.init_from = init.as_ref().map(|w| w.from.clone());
    let train_set = load_segments(train_songs, cache, "loading train");
    let test_set = load_segments(test_songs, cache, "loading test");
    let (_, history) = train(
        &config, &train_set, &test_set, run, resume, init, devices, out,
    )?;
    let Some(last) = history.last() else {
        return Ok(None);
    };
    writeln!(
        out,
        "trained {} epochs: loss {:.3}, train window accuracy {:.3}, {:.1} chunks/s",
        last.epoch, last.loss, last.train_accuracy, last.chunks_per_second
    )?;
    if let Some(e) = &last.eval {
        write_json(&run.eval(), e)?;
        write!(out, "\ntest set:\n{}", e.render())?;
    }
    Ok(last.eval.clone())
}

/// `trainer train --model mlp`: extracts (or reads back) the features of the split's songs,
/// fits the baseline on the training songs and evaluates it on the test songs. The run folder
/// gets the settings, the split, the fit report, the evaluation and the model as a bundle.
pub fn train_mlp_command(
    spec: &DataSpec,
    config: &MlpRunConfig,
    run: &RunDir,
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<Evaluation> {
    check_kind(run, RunKind::Mlp)?;
    let features = format!("; {} features", config.features.name());
    let songs = split_songs(spec, run, &features, out)?;
    train_mlp(&[songs.train], &songs.test, config, run, cache, out)
}

/// Fits the MLP baseline in `run` (whose split the caller has saved) on the training songs of
/// one or several datasets, and evaluates it on `test`. With several, each dataset's classes
/// are down-sampled to the smallest class of any of them, so each weighs the same.
pub fn train_mlp(
    train_sets: &[Vec<Song>],
    test_songs: &[Song],
    config: &MlpRunConfig,
    run: &RunDir,
    cache: &DecodeCache,
    out: &mut dyn Write,
) -> Result<Evaluation> {
    check_kind(run, RunKind::Mlp)?;
    let set = config.features;
    let mut train_set = Vec::new();
    let mut groups = Vec::new();
    for (g, songs) in train_sets.iter().enumerate() {
        let features = load_features(songs, set, cache, "train features");
        groups.extend(std::iter::repeat_n(g, features.len()));
        train_set.extend(features);
    }
    let test_set = load_features(test_songs, set, cache, "test features");
    let fitted = experiment::fit(config, &train_set, &groups, &Device::flex())?;
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
    write_json(&run.fit(), r)?;
    let kind = ModelKind::Mlp {
        config: model_format::mlp::MlpConfig {
            inputs: fitted.pipeline.selected.len(),
            hidden: config.train.hidden,
            classes: 4,
        },
        features: set,
        pipeline: fitted.pipeline.clone(),
    };
    let weights = pack_weights(&fitted.model, WeightsDType::F32)?;
    let epochs = r.epochs;
    let model = Model::mlp(fitted.model, set, fitted.pipeline);
    let eval = evaluate_features(&model, &test_set)?;
    write_json(&run.eval(), &eval)?;
    write!(out, "\ntest set:\n{}", eval.render())?;
    let (split, split_hash) = run.load_split()?;
    let provenance = Provenance {
        setup: setup_of(&split, None),
        datasets: split.datasets(),
        split: Some(split_hash),
        seed: config.train.seed,
        epochs,
        metrics_json: serde_json::to_string_pretty(&eval)?,
        ..Provenance::default()
    };
    let bundle = Bundle {
        va_head: config.train.va_head,
        ..bundle_of(kind, 0, provenance, WeightsDType::F32, weights)
    };
    write_bundle(&bundle, &run.mlp_model())?;
    // Last: its presence marks a finished MLP run.
    write_json(&run.mlp_config(), config)?;
    Ok(eval)
}

/// The set-up a model's bundle records: within one dataset, mixed over several, or transfer
/// from another model's weights.
pub fn setup_of(split: &Split, init: Option<&InitFrom>) -> String {
    match init {
        Some(i) => format!("transfer: fine-tuned from {}", i.source.display()),
        None if split.datasets().len() > 1 => "mixed".into(),
        None => "within".into(),
    }
}
