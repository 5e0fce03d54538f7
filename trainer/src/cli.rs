//! The `trainer` command line: argument parsing and the commands.

use crate::audio::DecodeCache;
use crate::dataset::split::Split;
use crate::dataset::{Dataset, Layout};
use crate::device::Backend;
use crate::mlp::experiment::MlpRunConfig;
use crate::models::ModelSource;
use crate::reproduce::grid::Profile;
use crate::run::{DataSpec, RunDir};
use crate::sincnet::train::TrainConfig;
use crate::synth::{SynthOptions, write_dataset};
use crate::{bench, export, inspect, models, predict, progress, report, reproduce, train};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use model_format::FrontEnd;
use model_format::bundle::WeightsDType;
use model_format::features::FeatureSet;
use model_format::sincnet::SincNetConfig;
use std::io::Write;
use std::path::PathBuf;

/// The command line.
#[derive(Parser)]
#[command(
    name = "trainer",
    version,
    about = "Music emotion recognition: datasets, training, evaluation"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Datasets: synthesise, inspect, split.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train SincNet (resumable) or an MLP baseline on a dataset's split.
    Train(TrainArgs),
    /// Evaluate a run or a bundle: segment and song level metrics.
    Eval(EvalArgs),
    /// Write a run's model as a bundle for `predict` and the browser.
    Export(ExportArgs),
    /// Quadrant, probabilities, valence/arousal and per-segment timeline of audio files.
    Predict(PredictArgs),
    /// Bring upstream PyTorch SincNet weights (safetensors) over as a bundle.
    ImportPytorch(ImportArgs),
    /// Handcrafted features (IS13 ComParE, Essentia or both) of audio files, as CSV.
    Features(FeaturesArgs),
    /// Speed measurements, printed as tables.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Every experiment of the poster (within, cross-dataset, transfer, mixed), then the
    /// report; resumable, each cell a run folder.
    Reproduce(ReproduceArgs),
    /// REPORT.md and report.html of a `reproduce` folder's results.
    Report {
        /// The `--out` folder of `trainer reproduce`.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct ReproduceArgs {
    /// The 4Q-EMOTION folder.
    #[arg(long = "4q")]
    four_q: Option<PathBuf>,
    /// The CH-818 folder.
    #[arg(long)]
    ch818: Option<PathBuf>,
    /// The TR-MUSIC folder.
    #[arg(long)]
    tr: Option<PathBuf>,
    /// Folder for the data stand-ins, splits, run folders, evaluations and the report.
    #[arg(long)]
    out: PathBuf,
    /// How much each cell costs: `paper` (the protocol), `quick` (the grid at a laptop's
    /// cost) or `tiny` (tests).
    #[arg(long, value_enum, default_value_t = Profile::Paper)]
    profile: Profile,
    /// Only the cells whose id contains this (e.g. `within/`, `mlp-is13`, `ch-tr-4q`), with
    /// the cells they start from.
    #[arg(long)]
    only: Option<String>,
    /// Synthetic stand-ins (at the paper's sizes) for the corpora not given.
    #[arg(long)]
    synthetic: bool,
    /// Songs of every synthetic stand-in [default: 900, 818 and 400, the paper's].
    #[arg(long)]
    synthetic_songs: Option<usize>,
    /// Length of every synthetic song, seconds.
    #[arg(long, default_value_t = 30.0)]
    synthetic_seconds: f64,
    /// Also measure SincNet at the paper's settings on the device and estimate the `paper`
    /// profile's time.
    #[arg(long)]
    estimate: bool,
    #[command(flatten)]
    device: DeviceArgs,
    /// SincNet: train data-parallel on this many GPUs (with `--device wgpu`).
    #[arg(long, default_value_t = 1)]
    gpus: usize,
    #[command(flatten)]
    cache: CacheArgs,
}

impl ReproduceArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        if self.synthetic_songs.is_some_and(|n| n < 12) {
            bail!(
                "--synthetic-songs must be at least 12 (CH-818's balanced split needs two songs a class)"
            );
        }
        let opts = reproduce::Options {
            corpora: [self.four_q, self.ch818, self.tr],
            synthetic: self.synthetic,
            synthetic_songs: self.synthetic_songs,
            synthetic_seconds: self.synthetic_seconds,
            profile: self.profile,
            only: self.only,
            devices: self.device.device.devices(self.gpus)?,
            estimate: self.estimate,
            out: self.out,
        };
        let r = reproduce::reproduce(&opts, &self.cache.cache(), w)?;
        let done = r.cells.iter().filter(|c| c.status == "done").count();
        writeln!(
            w,
            "{done} of {} cells done in {:.0} s; wrote {} and {}",
            r.cells.len(),
            r.wall_seconds,
            opts.out.join("REPORT.md").display(),
            opts.out.join("report.html").display()
        )?;
        if let Some(e) = &r.paper_estimate {
            writeln!(
                w,
                "estimated SincNet time of the paper profile on {}: {:.1} h",
                e.device,
                e.sincnet_seconds / 3600.0
            )?;
        }
        Ok(())
    }
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Every song of the dataset rather than the split's test songs (cross-dataset).
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

impl EvalArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        let e = models::eval_command(
            &self.model.source()?,
            &self.data.spec(),
            self.all,
            &self.device.device.device()?,
            &self.data.cache.cache(),
        )?;
        if self.json {
            writeln!(w, "{}", serde_json::to_string_pretty(&e)?)?;
        } else {
            write!(w, "{}", e.render())?;
        }
        Ok(())
    }
}

#[derive(Args)]
struct ExportArgs {
    #[arg(long)]
    run: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// Half-precision weights (batch norms stay f32).
    #[arg(long)]
    f16: bool,
    /// Hop between analysis windows at prediction, ms [default: the run's evaluation hop].
    /// Fewer windows make prediction proportionally faster (the browser demo uses 200).
    #[arg(long)]
    shift_ms: Option<u32>,
}

impl ExportArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        let dtype = if self.f16 {
            WeightsDType::F16
        } else {
            WeightsDType::F32
        };
        let b = export::export_command(&RunDir::new(self.run), &self.out, dtype, self.shift_ms)?;
        let size = std::fs::metadata(&self.out)?.len();
        writeln!(
            w,
            "wrote {} ({}, {size} bytes)",
            self.out.display(),
            b.model.name()
        )?;
        Ok(())
    }
}

#[derive(Args)]
struct PredictArgs {
    /// An audio file or a folder of them.
    path: PathBuf,
    /// A model bundle [default: the browser demo's model, built in].
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArgs,
    #[command(flatten)]
    cache: CacheArgs,
}

impl PredictArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        let preds = predict::predict_command(
            &self.path,
            &self.model.map_or(ModelSource::Default, ModelSource::Bundle),
            &self.device.device.device()?,
            &self.cache.cache(),
        )?;
        write!(w, "{}", predict::render_predictions(&preds, self.json)?)?;
        Ok(())
    }
}

#[derive(Args)]
struct ImportArgs {
    weights: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 200)]
    window_ms: u32,
    /// Widths of the fully connected layers.
    #[arg(long, value_delimiter = ',', default_value = "2048,2048,2048")]
    fc: Vec<usize>,
    #[arg(long, default_value_t = 10)]
    shift_ms: u32,
}

impl ImportArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        let config = SincNetConfig {
            fc: self.fc,
            ..SincNetConfig::paper(self.window_ms)
        };
        let b = export::import_command(&self.weights, config, self.shift_ms, &self.out)?;
        writeln!(w, "wrote {} ({})", self.out.display(), b.model.name())?;
        Ok(())
    }
}

#[derive(Args)]
struct FeaturesArgs {
    /// Audio files or folders.
    paths: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "combined")]
    set: FeatureSet,
    /// One row per song segment (what the MLP learns from, cached) instead of per file.
    #[arg(long)]
    segments: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

impl FeaturesArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        if self.paths.is_empty() {
            bail!("name at least one audio file or folder");
        }
        let (rows, failed) = crate::features::extract(
            &self.paths,
            self.set,
            self.segments,
            &self.cache.cache(),
            &self.out,
        )?;
        for (p, why) in &failed {
            eprintln!("skipped {}: {why}", p.display());
        }
        writeln!(
            w,
            "wrote {rows} rows to {}; {} files could not be read",
            self.out.display(),
            failed.len()
        )?;
        Ok(())
    }
}

/// The songs of an experiment.
#[derive(Args)]
struct DataArgs {
    /// Dataset folder (or manifest CSV).
    #[arg(long)]
    data: PathBuf,
    #[arg(long, value_enum)]
    layout: Option<Layout>,
    /// Use this split manifest (else the run's, else a new stratified split).
    #[arg(long)]
    split: Option<PathBuf>,
    #[arg(long, default_value_t = 42)]
    split_seed: u64,
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Down-sample every quadrant to the smallest before splitting.
    #[arg(long)]
    balance: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

impl DataArgs {
    fn spec(&self) -> DataSpec {
        DataSpec {
            dir: self.data.clone(),
            layout: self.layout,
            split: self.split.clone(),
            split_seed: self.split_seed,
            test_fraction: self.test_fraction,
            balance: self.balance,
        }
    }
}

/// A run folder or a bundle.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct ModelArgs {
    #[arg(long)]
    run: Option<PathBuf>,
    #[arg(long)]
    model: Option<PathBuf>,
}

impl ModelArgs {
    fn source(self) -> Result<ModelSource> {
        Ok(match (self.run, self.model) {
            (Some(r), _) => ModelSource::Run(RunDir::new(r)),
            (None, Some(m)) => ModelSource::Bundle(m),
            (None, None) => bail!("name --run or --model"),
        })
    }
}

/// The model `trainer train` fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModelType {
    /// SincNet on the raw waveform.
    Sincnet,
    /// The MLP baseline on handcrafted features.
    Mlp,
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Run folder: configuration, split, checkpoints, results.
    #[arg(long)]
    run: PathBuf,
    /// SincNet: continue the run in `--run` from its last checkpoint (an MLP run reads its
    /// features back from the cache instead).
    #[arg(long)]
    resume: bool,
    /// SincNet: start from the weights of this run folder or bundle, the classifier included,
    /// with a fresh optimiser (transfer learning); the architecture must match.
    #[arg(long)]
    init_from: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ModelType::Sincnet)]
    model: ModelType,
    /// MLP: its features, is13, essentia or combined.
    #[arg(long, default_value = "is13")]
    features: FeatureSet,
    /// MLP: features kept by chi-squared selection.
    #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    k: usize,
    #[command(flatten)]
    device: DeviceArgs,
    /// SincNet: train data-parallel on this many GPUs (with `--device wgpu`).
    #[arg(long, default_value_t = 1)]
    gpus: usize,
    /// SincNet: analysis window, ms (200 or 500 in the paper).
    #[arg(long, default_value_t = 200)]
    window_ms: u32,
    /// SincNet: widths of the fully connected layers.
    #[arg(long, value_delimiter = ',', default_value = "2048,2048,2048")]
    fc: Vec<usize>,
    /// SincNet: windows per batch [default: 128, or 32 for windows of 500 ms and more].
    #[arg(long)]
    batch_size: Option<usize>,
    /// SincNet: batches per epoch.
    #[arg(long, default_value_t = 30)]
    batches_per_epoch: usize,
    /// SincNet: epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// SincNet: RMSprop learning rate (the MLP's Adam uses the paper's 1e-3).
    #[arg(long, default_value_t = 0.004)]
    lr: f64,
    /// Seed of the model's initialisation and batches.
    #[arg(long, default_value_t = 12)]
    seed: u64,
    /// SincNet: epochs between evaluations.
    #[arg(long, default_value_t = 10)]
    eval_every: usize,
    /// SincNet: hop between evaluation windows, ms.
    #[arg(long, default_value_t = 10)]
    shift_ms: u32,
    /// Also train a valence–arousal regression head on the songs rated in [-1, 1] (a CSV
    /// manifest's `valence` and `arousal`, CH-818's ratings); the model then places a song
    /// on the circumplex itself (bundle format 3).
    #[arg(long)]
    va_head: bool,
}

impl TrainArgs {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        let cache = self.data.cache.cache();
        let run = RunDir::new(&self.run);
        if self.model == ModelType::Mlp {
            if self.init_from.is_some() {
                bail!("--init-from takes SincNet weights; an MLP is fitted afresh");
            }
            // Features are cached per song, so a rerun resumes the slow part.
            return train::train_mlp_command(
                &self.data.spec(),
                &self.mlp_config(),
                &run,
                &cache,
                w,
            )
            .map(|_| ());
        }
        let devices = self.device.device.devices(self.gpus)?;
        train::train_command(
            &self.data.spec(),
            &self.config(),
            &run,
            self.resume,
            self.init_from.as_deref(),
            &devices,
            &cache,
            w,
        )
        .map(|_| ())
    }

    fn mlp_config(&self) -> MlpRunConfig {
        let mut c = MlpRunConfig::paper(self.features);
        c.k = self.k;
        c.train.seed = self.seed;
        c.train.va_head = self.va_head;
        c
    }

    fn config(&self) -> TrainConfig {
        let mut c = TrainConfig::paper(self.window_ms);
        c.model.fc = self.fc.clone();
        if let Some(b) = self.batch_size {
            c.batch_size = b;
        }
        c.batches_per_epoch = self.batches_per_epoch;
        c.epochs = self.epochs;
        c.lr = self.lr;
        c.seed = self.seed;
        c.eval_every = self.eval_every;
        c.shift_ms = self.shift_ms;
        c.va_head = self.va_head;
        c
    }
}

#[derive(Subcommand)]
enum DataCommand {
    /// Write a synthetic dataset in a real corpus's layout.
    Synth {
        #[arg(long, value_enum)]
        layout: Layout,
        /// Songs in all.
        #[arg(long, default_value_t = 40)]
        songs: usize,
        /// Length of each song, seconds.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Songs per quadrant, durations, sample rates and every unreadable file.
    Inspect {
        /// Dataset folder (or manifest CSV).
        dir: PathBuf,
        #[command(flatten)]
        source: Source,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Cut excerpts of a recording into 16-bit WAV files at its own rate and channels, spread
    /// over it; prints them as JSON (what `scripts/real-corpus` reads).
    Excerpts {
        /// The recording.
        file: PathBuf,
        /// Folder for the excerpts, named `{stem}.{k}.wav`.
        #[arg(long)]
        out: PathBuf,
        /// Length of each excerpt, seconds.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Most excerpts from one recording.
        #[arg(long, default_value_t = 3)]
        most: usize,
    },
    /// Write a seeded, stratified, song-level train/test split manifest.
    Split {
        dir: PathBuf,
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 0.2)]
        test_fraction: f64,
        /// Down-sample every quadrant to the smallest first (as the paper does for CH-818).
        #[arg(long)]
        balance: bool,
        /// Where to write the manifest.
        #[arg(long, default_value = "split.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Decode, resample and cache speed on the given files.
    Decode {
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Handcrafted feature extraction speed (IS13, Essentia, both) on the given files.
    Features {
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Model bundle sizes by configuration and weight precision.
    Bundle,
    /// SincNet training chunks/s and inference windows/s.
    Sincnet {
        #[command(flatten)]
        device: DeviceArgs,
        #[arg(long, default_value_t = 200)]
        window_ms: u32,
        #[arg(long, value_delimiter = ',', default_value = "2048,2048,2048")]
        fc: Vec<usize>,
        #[arg(long, default_value_t = 128)]
        batch_size: usize,
        /// Timed training steps (after one warm-up step).
        #[arg(long, default_value_t = 5)]
        steps: usize,
    },
}

/// Where a dataset is and how to read it.
#[derive(Args)]
struct Source {
    /// Layout; detected from the folder when left out.
    #[arg(long, value_enum)]
    layout: Option<Layout>,
    #[command(flatten)]
    cache: CacheArgs,
}

/// The compute device.
#[derive(Args)]
struct DeviceArgs {
    /// `cpu` (burn's flex backend) or `wgpu` (a GPU, or Mesa's lavapipe on the CPU).
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    device: Backend,
}

/// The decoded-audio cache.
#[derive(Args)]
struct CacheArgs {
    /// Folder of the decoded-audio cache [default: $MER_CACHE_DIR or ~/.cache/mer/decoded].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Decode everything afresh and store nothing.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    fn cache(&self) -> DecodeCache {
        let fe = FrontEnd::default();
        if self.no_cache {
            DecodeCache::disabled(fe)
        } else {
            DecodeCache::new(
                self.cache_dir
                    .clone()
                    .unwrap_or_else(DecodeCache::default_dir),
                fe,
            )
        }
    }
}

/// Parses `args` (the program name first) and runs the command, writing its report to `out`.
pub fn run_with_args<I, T>(args: I, w: &mut dyn Write) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run(Cli::try_parse_from(args)?, w)
}

impl DataCommand {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        match self {
            DataCommand::Synth {
                layout,
                songs,
                seconds,
                seed,
                out,
            } => {
                let opts = SynthOptions {
                    layout,
                    songs,
                    seconds,
                    seed,
                };
                let pb = progress::bar(songs as u64, "synthesising");
                let counts = write_dataset(&out, &opts, &pb)?;
                pb.finish_and_clear();
                writeln!(
                    w,
                    "wrote {songs} songs ({} s each) as {} to {}: Q1 {}, Q2 {}, Q3 {}, Q4 {}",
                    seconds,
                    layout.name(),
                    out.display(),
                    counts[0],
                    counts[1],
                    counts[2],
                    counts[3]
                )?;
            }
            DataCommand::Excerpts {
                file,
                out,
                seconds,
                most,
            } => {
                if seconds.is_nan() || seconds <= 0.0 || most == 0 {
                    bail!("--seconds and --most must be positive");
                }
                let r = crate::audio::excerpt::cut(&file, &out, seconds, most)?;
                writeln!(w, "{}", serde_json::to_string_pretty(&r)?)?;
            }
            DataCommand::Inspect { dir, source, json } => {
                let ds = Dataset::load(&dir, source.layout)?;
                let cache = source.cache.cache();
                let pb = progress::bar(ds.songs.len() as u64, "decoding");
                let report = inspect::inspect(&ds, &cache, &pb);
                if json {
                    writeln!(w, "{}", serde_json::to_string_pretty(&report)?)?;
                } else {
                    write!(w, "{}", inspect::render(&report))?;
                    let st = cache.stats();
                    writeln!(
                        w,
                        "cache: {} read back, {} decoded, {} damaged entries replaced",
                        st.hits, st.misses, st.repaired
                    )?;
                }
            }
            DataCommand::Split {
                dir,
                source,
                seed,
                test_fraction,
                balance: do_balance,
                out,
            } => {
                if !(0.0..1.0).contains(&test_fraction) || test_fraction == 0.0 {
                    bail!("--test-fraction must be in (0, 1)");
                }
                let ds = Dataset::load(&dir, source.layout)?;
                for i in &ds.issues {
                    eprintln!("warning: {i}");
                }
                let split = Split::of_dataset(&ds, test_fraction, seed, do_balance);
                split
                    .save(&out)
                    .with_context(|| format!("writing {}", out.display()))?;
                writeln!(
                    w,
                    "{} train / {} test songs; split written to {}",
                    split.train.len(),
                    split.test.len(),
                    out.display()
                )?;
            }
        }
        Ok(())
    }
}

impl BenchCommand {
    fn run(self, w: &mut dyn Write) -> Result<()> {
        match self {
            BenchCommand::Sincnet {
                device,
                window_ms,
                fc,
                batch_size,
                steps,
            } => {
                let config = SincNetConfig {
                    fc,
                    ..SincNetConfig::paper(window_ms)
                };
                write!(
                    w,
                    "{}",
                    bench::sincnet(&config, batch_size, steps, device.device)?
                )?;
            }
            BenchCommand::Features { files, repeat } => {
                if files.is_empty() {
                    bail!("name at least one audio file");
                }
                write!(w, "{}", bench::features(&files, repeat)?)?;
            }
            BenchCommand::Bundle => write!(w, "{}", bench::bundle_sizes()?)?,
            BenchCommand::Decode { files, repeat } => {
                if files.is_empty() {
                    bail!("name at least one audio file");
                }
                write!(w, "{}", bench::decode(&files, repeat)?)?;
            }
        }
        Ok(())
    }
}

/// Runs a parsed command, writing its report to `w`; progress goes to standard error.
pub fn run(cli: Cli, w: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Data(c) => c.run(w),
        Command::Train(a) => a.run(w),
        Command::Eval(a) => a.run(w),
        Command::Export(a) => a.run(w),
        Command::Predict(a) => a.run(w),
        Command::ImportPytorch(a) => a.run(w),
        Command::Features(a) => a.run(w),
        Command::Bench(c) => c.run(w),
        Command::Reproduce(a) => a.run(w),
        Command::Report { dir } => {
            report::report_command(&dir)?;
            writeln!(
                w,
                "wrote {} and {}",
                dir.join("REPORT.md").display(),
                dir.join("report.html").display()
            )?;
            Ok(())
        }
    }
}
