//! `trainer reproduce`: every experiment of the poster in one command (within, cross-dataset,
//! transfer learning, mixed), each cell an ordinary run folder, then the report.
//!
//! The output folder holds `data/` (synthetic stand-ins, when asked), `splits/` (one split
//! per corpus, made once), `runs/<cell>` (run folders), `evals/` (each model on each test set
//! it meets), `results.json`, `REPORT.md` and `report.html`. Everything is written atomically
//! and skipped when present, so a killed `reproduce` continues where it stopped; a failing
//! cell is reported and the rest go on.

pub mod grid;
pub mod paper;

use crate::audio::DecodeCache;
use crate::dataset::split::Split;
use crate::dataset::{Dataset, Song};
use crate::metrics::Evaluation;
use crate::models::{ModelSource, evaluate_songs, run_config};
use crate::run::{RunDir, RunKind, write_json};
use crate::sincnet::checkpoint::{self, EpochLog};
use crate::sincnet::init;
use crate::sincnet::train::TrainConfig;
use crate::synth::{SynthOptions, write_dataset};
use crate::{progress, report, train};
use anyhow::{Context, Result, bail};
use burn::prelude::*;
use grid::{Cell, Corpus, Profile, Setup};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `trainer reproduce` runs.
pub struct Options {
    /// Each corpus's folder, in [`Corpus::ALL`] order; `None` where not given.
    pub corpora: [Option<PathBuf>; 3],
    /// Synthetic stand-ins in place of the corpora not given.
    pub synthetic: bool,
    /// Songs of every stand-in [default: the paper's 900, 818 and 400].
    pub synthetic_songs: Option<usize>,
    /// Length of each stand-in song, seconds.
    pub synthetic_seconds: f64,
    /// The output folder.
    pub out: PathBuf,
    /// What each cell costs.
    pub profile: Profile,
    /// Only the cells whose id contains this (and the cells they start from).
    pub only: Option<String>,
    /// Devices to train SincNet on (data-parallel when several); evaluation uses the first.
    pub devices: Vec<Device>,
    /// Whether to measure SincNet's speed at the paper's settings and estimate the `paper`
    /// profile's time.
    pub estimate: bool,
}

/// Where one corpus came from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CorpusSource {
    /// The corpus.
    pub corpus: Corpus,
    /// Its folder.
    pub dir: PathBuf,
    /// Whether it is a synthetic stand-in.
    pub synthetic: bool,
    /// Training songs of its split.
    pub train_songs: usize,
    /// Test songs of its split.
    pub test_songs: usize,
}

/// What became of one cell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CellResult {
    /// The cell's id (its run folder below `runs/`).
    pub id: String,
    /// The model's key.
    pub net: grid::Net,
    /// The set-up.
    pub setup: Setup,
    /// The corpora it trained on, in order.
    pub corpora: Vec<Corpus>,
    /// `done`, `failed: …` or `skipped: …`.
    pub status: String,
    /// Wall time of its training, seconds, summed over the runs of `reproduce` that did it.
    pub train_seconds: f64,
    /// SincNet's epochs (loss, accuracy, evaluations).
    pub history: Vec<EpochLog>,
    /// The MLP's loss per epoch.
    pub mlp_loss: Vec<f64>,
    /// Its evaluation on each test set it meets.
    pub evals: BTreeMap<Corpus, Evaluation>,
}

/// Everything `reproduce` found, as `results.json` holds it; the report reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    /// The profile the cells ran at.
    pub profile: Profile,
    /// The corpora.
    pub corpora: Vec<CorpusSource>,
    /// The cells, in grid order.
    pub cells: Vec<CellResult>,
    /// Wall time of this invocation, seconds (cells skipped as done cost nothing).
    pub wall_seconds: f64,
    /// The estimate of the `paper` profile's time, when measured.
    pub paper_estimate: Option<paper::Estimate>,
    /// The CPU threads of the machine.
    pub threads: usize,
}

/// Each corpus's split with its train and test songs.
type Splits = BTreeMap<Corpus, (Split, Vec<Song>, Vec<Song>)>;

/// Seconds of training per cell, kept across invocations.
type Timings = BTreeMap<String, f64>;

/// Runs the grid and writes the report; returns the results.
pub fn reproduce(opts: &Options, cache: &DecodeCache, out: &mut dyn Write) -> Result<Results> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating {}", opts.out.display()))?;
    let sources = corpora(opts, out)?;
    let splits = splits(opts, &sources)?;
    let cells = grid::grid();
    let chosen = grid::select(&cells, opts.only.as_deref());
    if chosen.is_empty() {
        bail!("no cell of the grid matches --only {:?}", opts.only);
    }
    let timings_path = opts.out.join("timings.json");
    let mut timings: Timings = read_json(&timings_path)?.unwrap_or_default();
    let mut status: BTreeMap<String, String> = BTreeMap::new();
    let mut k = 0;
    for cell in &cells {
        let id = cell.id();
        let wanted = chosen.contains(cell);
        let missing: Vec<&str> = cell
            .corpora
            .iter()
            .chain(&cell.tests)
            .filter(|c| !splits.contains_key(c))
            .map(|c| c.name())
            .collect();
        let parent_not_done = cell.parent().and_then(|p| {
            let s = status.get(&p.id())?;
            let what = if s.starts_with("failed") {
                "failed"
            } else {
                "was not trained"
            };
            (s != "done").then(|| format!("{}, which {what}", p.id()))
        });
        let result = if !missing.is_empty() {
            Err(format!("skipped: no {} given", missing.join(", ")))
        } else if let Some(why) = parent_not_done {
            Err(format!("skipped: it starts from {why}"))
        } else {
            match guarded(|| state(opts, cell, &splits)) {
                Err(e) => Err(format!("failed: {e:#}")),
                Ok(State::Done) => Ok("already done".to_string()),
                Ok(_) if !wanted => Err(NOT_RUN.to_string()),
                Ok(state) => {
                    let how = match state {
                        State::Partial(epochs) => format!("resumed after epoch {epochs}"),
                        State::Stale => "retrained: the stage it starts from changed".into(),
                        _ => "trained".into(),
                    };
                    let t = Instant::now();
                    let r = guarded(|| train_cell(opts, cell, state, &splits, cache));
                    *timings.entry(id.clone()).or_default() += t.elapsed().as_secs_f64();
                    write_json(&timings_path, &timings)?;
                    r.map(|()| how).map_err(|e| format!("failed: {e:#}"))
                }
            }
        };
        if wanted {
            k += 1;
            let said = match &result {
                Ok(how) => how,
                Err(why) => why,
            };
            writeln!(out, "[{k}/{}] {id}: {said}", chosen.len())?;
        }
        status.insert(id, result.map_or_else(|why| why, |_| "done".to_string()));
    }

    let mut results = Vec::new();
    for cell in &cells {
        let id = cell.id();
        let s = status[&id].clone();
        let mut evals = BTreeMap::new();
        if s == "done" {
            for &t in &cell.tests {
                match guarded(|| evaluate_cell(opts, cell, t, &splits, cache)) {
                    Ok(e) => {
                        evals.insert(t, e);
                    }
                    Err(e) => writeln!(out, "{id} on {}: evaluation failed: {e:#}", t.name())?,
                }
            }
        }
        let run = run_of(opts, cell);
        let history = match checkpoint::load_state(&run) {
            Ok(Some(state)) if s == "done" => state.history,
            _ => Vec::new(),
        };
        let mlp_loss = read_json::<crate::mlp::experiment::FitReport>(&run.fit())
            .ok()
            .flatten()
            .map(|r| r.loss_curve)
            .unwrap_or_default();
        results.push(CellResult {
            net: cell.net,
            setup: cell.setup,
            corpora: cell.corpora.clone(),
            status: s,
            train_seconds: timings.get(&id).copied().unwrap_or(0.0),
            history,
            mlp_loss,
            evals,
            id,
        });
    }
    let paper_estimate = if opts.estimate {
        writeln!(
            out,
            "measuring SincNet at the paper's settings for the estimate…"
        )?;
        Some(paper::estimate(&opts.devices[0])?)
    } else {
        None
    };
    let results = Results {
        profile: opts.profile,
        corpora: describe(&sources, &splits),
        cells: results,
        wall_seconds: t0.elapsed().as_secs_f64(),
        paper_estimate,
        threads: rayon::current_num_threads(),
    };
    write_json(&opts.out.join("results.json"), &results)?;
    report::write(&results, &opts.out)?;
    Ok(results)
}

/// Reads a JSON file, `None` when it does not exist.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{}: malformed", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Each corpus's folder: the one given, else a synthetic stand-in (written once, resumably).
fn corpora(opts: &Options, out: &mut dyn Write) -> Result<Vec<(Corpus, PathBuf, bool)>> {
    let mut found = Vec::new();
    for (c, given) in Corpus::ALL.iter().zip(&opts.corpora) {
        if let Some(dir) = given {
            found.push((*c, dir.clone(), false));
        } else if opts.synthetic {
            let dir = opts.out.join("data").join(c.key());
            let synth = SynthOptions {
                layout: c.layout(),
                songs: opts.synthetic_songs.unwrap_or(c.paper_songs()),
                seconds: opts.synthetic_seconds,
                seed: 0,
            };
            writeln!(
                out,
                "{}: a synthetic stand-in of {} songs in {}",
                c.name(),
                synth.songs,
                dir.display()
            )?;
            // What the folder was written with: a stand-in of other options is refused, not
            // mixed with new songs.
            let record = dir.join("synth.json");
            let asked = serde_json::json!({
                "layout": c.layout(), "songs": synth.songs, "seconds": synth.seconds, "seed": 0
            });
            match read_json::<serde_json::Value>(&record)? {
                Some(v) if v != asked => bail!(
                    "{} holds a stand-in written with other options ({v}): remove it or give the \
                     same --synthetic-songs and --synthetic-seconds",
                    dir.display()
                ),
                Some(_) => {}
                None => write_json(&record, &asked)?,
            }
            let pb = progress::bar(synth.songs as u64, "synthesising");
            write_dataset(&dir, &synth, &pb)?;
            pb.finish_and_clear();
            found.push((*c, dir, true));
        }
    }
    Ok(found)
}

/// The split of each corpus (seed 42, a fifth of each class for testing, CH-818 balanced
/// first), made once and kept in `splits/`; with its songs.
fn splits(opts: &Options, sources: &[(Corpus, PathBuf, bool)]) -> Result<Splits> {
    let mut out = BTreeMap::new();
    for (c, dir, _) in sources {
        let ds = Dataset::load(dir, Some(c.layout()))?;
        for i in &ds.issues {
            eprintln!("warning: {i}");
        }
        let path = opts.out.join("splits").join(format!("{}.json", c.key()));
        let split = if path.is_file() {
            Split::load(&path)?
        } else {
            let s = Split::of_dataset(&ds, 0.2, 42, c.balanced());
            s.save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            s
        };
        let (train, test) = split
            .resolve(&ds.songs)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (side, songs) in [("train", &train), ("test", &test)] {
            let counts = crate::dataset::count(songs);
            if counts.contains(&0) {
                bail!(
                    "{}: the {side} side has a quadrant without songs ({counts:?}); the corpus is \
                     too small",
                    path.display()
                );
            }
        }
        out.insert(*c, (split, train, test));
    }
    Ok(out)
}

/// The corpora's sources with their split sizes, as the results record them.
fn describe(sources: &[(Corpus, PathBuf, bool)], splits: &Splits) -> Vec<CorpusSource> {
    sources
        .iter()
        .map(|(c, dir, synthetic)| CorpusSource {
            corpus: *c,
            dir: dir.clone(),
            synthetic: *synthetic,
            train_songs: splits[c].1.len(),
            test_songs: splits[c].2.len(),
        })
        .collect()
}

/// The run folder of `cell`.
fn run_of(opts: &Options, cell: &Cell) -> RunDir {
    RunDir::new(opts.out.join("runs").join(cell.id()))
}

/// The status of cells that `--only` left out and that are not done.
const NOT_RUN: &str = "not run (--only)";

/// Runs `f`, turning a panic into an error, so that one cell's panic fails that cell only.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|p| bail!("panicked: {}", crate::panic_message(&*p)))
}

/// What a cell's run folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Nothing yet.
    Fresh,
    /// A SincNet run this many epochs in.
    Partial(usize),
    /// A transfer stage trained from weights its previous stage no longer has.
    Stale,
    /// The model, trained to the end with the profile's settings on the cell's split.
    Done,
}

/// The split a cell trains and is tested on: its corpus's, or the three joined (mixed).
fn split_of(cell: &Cell, splits: &Splits) -> Split {
    match cell.trains_on() {
        Some(c) => splits[&c].0.clone(),
        None => {
            let parts: Vec<(&str, &Split)> = cell
                .corpora
                .iter()
                .map(|c| (c.key(), &splits[c].0))
                .collect();
            Split::mixed(&parts)
        }
    }
}

/// What the run folder of `cell` holds; an error when it holds a run of other settings or
/// another split, which `reproduce` will not overwrite.
fn state(opts: &Options, cell: &Cell, splits: &Splits) -> Result<State> {
    let run = run_of(opts, cell);
    let Some(kind) = run.kind() else {
        return Ok(State::Fresh);
    };
    let other = |what: &str| {
        anyhow::anyhow!(
            "{} holds a run with other {what} (another profile or data?): remove it or choose \
             another --out",
            run.path().display()
        )
    };
    if run.split().is_file() && run.load_split()?.0 != split_of(cell, splits) {
        return Err(other("split"));
    }
    match (cell.net.features(), kind) {
        (Some(set), RunKind::Mlp) => {
            let saved: crate::mlp::experiment::MlpRunConfig = read_json(&run.mlp_config())?
                .with_context(|| format!("{} vanished", run.mlp_config().display()))?;
            if saved != opts.profile.mlp(set) {
                return Err(other("settings"));
            }
            Ok(State::Done)
        }
        (None, RunKind::SincNet) => {
            let config = opts.profile.sincnet(cell.net, cell.trains_on());
            let saved = run_config(&run)?;
            if !saved.same_run(&TrainConfig {
                init_from: saved.init_from.clone(),
                ..config.clone()
            }) {
                return Err(other("settings"));
            }
            if let Some(parent) = cell.parent() {
                let now = init::load(run_of(opts, &parent).path(), &config.model)?;
                let started = saved.init_from.as_ref().map(|i| &i.weights_blake3);
                if started != Some(&now.from.weights_blake3) {
                    return Ok(State::Stale);
                }
            }
            let epochs = checkpoint::load_state(&run)?.map_or(0, |s| s.epochs_done);
            Ok(if epochs >= config.epochs {
                State::Done
            } else {
                State::Partial(epochs)
            })
        }
        _ => bail!("{} holds another kind of model", run.path().display()),
    }
}

/// Trains `cell` from its parent's weights, resuming its run folder's checkpoint when
/// `state` is partial, from scratch when stale; its earlier evaluations are dropped.
fn train_cell(
    opts: &Options,
    cell: &Cell,
    state: State,
    splits: &Splits,
    cache: &DecodeCache,
) -> Result<()> {
    let run = run_of(opts, cell);
    if state == State::Stale {
        std::fs::remove_dir_all(run.path())
            .with_context(|| format!("removing {}", run.path().display()))?;
    }
    for t in Corpus::ALL {
        let _ = std::fs::remove_file(eval_path(opts, cell, t));
    }
    let (train_sets, test): (Vec<Vec<Song>>, Vec<Song>) = match cell.trains_on() {
        Some(c) => (vec![splits[&c].1.clone()], splits[&c].2.clone()),
        None => {
            let train = cell.corpora.iter().map(|c| prefixed(c, &splits[c].1));
            let test = cell.corpora.iter().flat_map(|c| prefixed(c, &splits[c].2));
            (train.collect(), test.collect())
        }
    };
    split_of(cell, splits).save(&run.split())?;
    let mut sink = std::io::sink();
    match cell.net.features() {
        Some(set) => {
            let config = opts.profile.mlp(set);
            train::train_mlp(&train_sets, &test, &config, &run, cache, &mut sink)?;
        }
        None => {
            let config = opts.profile.sincnet(cell.net, cell.trains_on());
            let parent = cell.parent().map(|p| run_of(opts, &p).path().to_path_buf());
            train::train_sincnet(
                &train_sets.concat(),
                &test,
                &config,
                &run,
                matches!(state, State::Partial(_)),
                parent.as_deref(),
                &opts.devices,
                cache,
                &mut sink,
            )?;
        }
    }
    Ok(())
}

/// `songs` of corpus `c` with their ids as a mixed split names them.
fn prefixed(c: &Corpus, songs: &[Song]) -> Vec<Song> {
    songs
        .iter()
        .map(|s| Song {
            id: format!("{}/{}", c.key(), s.id),
            ..s.clone()
        })
        .collect()
}

/// Where the evaluation of `cell` on the test songs of `on` is kept.
fn eval_path(opts: &Options, cell: &Cell, on: Corpus) -> PathBuf {
    let name = format!("{}@{}.json", cell.id().replace('/', "_"), on.key());
    opts.out.join("evals").join(name)
}

/// The evaluation of the trained `cell` on the test songs of `on`, computed once and kept in
/// `evals/` (the run's own evaluation when it is of the same songs).
fn evaluate_cell(
    opts: &Options,
    cell: &Cell,
    on: Corpus,
    splits: &Splits,
    cache: &DecodeCache,
) -> Result<Evaluation> {
    let path = eval_path(opts, cell, on);
    if let Some(e) = read_json(&path)? {
        return Ok(e);
    }
    let run = run_of(opts, cell);
    let own = read_json::<Evaluation>(&run.eval())?.filter(|_| cell.trains_on() == Some(on));
    let e = match own {
        Some(e) => e,
        None => {
            let model = ModelSource::Run(run).load(&opts.devices[0])?;
            evaluate_songs(&model, &splits[&on].2, cache)?
        }
    };
    write_json(&path, &e)?;
    Ok(e)
}
