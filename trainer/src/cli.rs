//! The `trainer` command line: argument parsing and the commands.

use crate::audio::DecodeCache;
use crate::dataset::split::Split;
use crate::dataset::{Dataset, Layout};
use crate::device::Backend;
use crate::mlp::experiment::MlpRunConfig;
use crate::models::{DataSpec, ModelSource};
use crate::sincnet::train::TrainConfig;
use crate::synth::{SynthOptions, write_dataset};
use crate::{bench, inspect, models, progress};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
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
    Eval {
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
    },
    /// Write a run's model as a bundle for `predict` and the browser.
    Export {
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
    },
    /// Quadrant, probabilities, valence/arousal and per-segment timeline of audio files.
    Predict {
        /// An audio file or a folder of them.
        path: PathBuf,
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        device: DeviceArgs,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Bring upstream PyTorch SincNet weights (safetensors) over as a bundle.
    ImportPytorch {
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
    },
    /// Handcrafted features (IS13 ComParE, Essentia or both) of audio files, as CSV.
    Features {
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
    },
    /// Speed measurements, printed as tables.
    #[command(subcommand)]
    Bench(BenchCommand),
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
    #[arg(long, value_parser = ["sincnet", "mlp"], default_value = "sincnet")]
    model: String,
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
}

impl TrainArgs {
    fn mlp_config(&self) -> MlpRunConfig {
        let mut c = MlpRunConfig::paper(self.features);
        c.k = self.k;
        c.train.seed = self.seed;
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
        c
    }
}

#[derive(Subcommand)]
enum DataCommand {
    /// Write a synthetic dataset in a real corpus's layout.
    Synth {
        #[arg(long, value_parser = ["4q", "ch818", "tr"])]
        layout: String,
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

/// Runs a parsed command, writing its report to `out`; progress goes to standard error.
pub fn run(cli: Cli, w: &mut dyn Write) -> Result<()> {
    match cli.command {
        Command::Data(DataCommand::Synth {
            layout,
            songs,
            seconds,
            seed,
            out,
        }) => {
            let layout = match layout.as_str() {
                "4q" => Layout::FourQ,
                "ch818" => Layout::Ch818,
                _ => Layout::TrMusic,
            };
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
        Command::Data(DataCommand::Inspect { dir, source, json }) => {
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
        Command::Data(DataCommand::Split {
            dir,
            source,
            seed,
            test_fraction,
            balance: do_balance,
            out,
        }) => {
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
        Command::Train(args) => {
            let cache = args.data.cache.cache();
            if args.model == "mlp" {
                // Features are cached per song, so a rerun resumes the slow part.
                return models::train_mlp_command(
                    &args.data.spec(),
                    &args.mlp_config(),
                    &args.run,
                    &cache,
                    w,
                );
            }
            if args.resume && !args.run.join("config.json").exists() {
                bail!("{} holds no run to resume", args.run.display());
            }
            let devices = args.device.device.devices(args.gpus)?;
            models::train_command(
                &args.data.spec(),
                &args.config(),
                &args.run,
                args.resume,
                &devices,
                &cache,
                w,
            )?;
        }
        Command::Eval {
            model,
            data,
            all,
            json,
            device,
        } => {
            let source = match (model.run, model.model) {
                (Some(r), _) => ModelSource::Run(r),
                (None, Some(m)) => ModelSource::Bundle(m),
                (None, None) => bail!("name --run or --model"),
            };
            let e = models::eval_command(
                &source,
                &data.spec(),
                all,
                &device.device.device()?,
                &data.cache.cache(),
            )?;
            if json {
                writeln!(w, "{}", serde_json::to_string_pretty(&e)?)?;
            } else {
                write!(w, "{}", e.render())?;
            }
        }
        Command::Export {
            run,
            out,
            f16,
            shift_ms,
        } => {
            let dtype = if f16 {
                WeightsDType::F16
            } else {
                WeightsDType::F32
            };
            let b = models::export_command(&run, &out, dtype, shift_ms)?;
            let size = std::fs::metadata(&out)?.len();
            writeln!(
                w,
                "wrote {} ({}, {size} bytes)",
                out.display(),
                b.model.name()
            )?;
        }
        Command::Predict {
            path,
            model,
            json,
            device,
            cache,
        } => {
            let preds =
                models::predict_command(&path, &model, &device.device.device()?, &cache.cache())?;
            write!(w, "{}", models::render_predictions(&preds, json)?)?;
        }
        Command::ImportPytorch {
            weights,
            out,
            window_ms,
            fc,
            shift_ms,
        } => {
            let config = SincNetConfig {
                fc,
                ..SincNetConfig::paper(window_ms)
            };
            let b = models::import_command(&weights, config, shift_ms, &out)?;
            writeln!(w, "wrote {} ({})", out.display(), b.model.name())?;
        }
        Command::Bench(BenchCommand::Sincnet {
            device,
            window_ms,
            fc,
            batch_size,
            steps,
        }) => {
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
        Command::Features {
            paths,
            out,
            set,
            segments,
            cache,
        } => {
            if paths.is_empty() {
                bail!("name at least one audio file or folder");
            }
            let (rows, failed) =
                crate::features::extract(&paths, set, segments, &cache.cache(), &out)?;
            for (p, why) in &failed {
                eprintln!("skipped {}: {why}", p.display());
            }
            writeln!(
                w,
                "wrote {rows} rows to {}; {} files could not be read",
                out.display(),
                failed.len()
            )?;
        }
        Command::Bench(BenchCommand::Features { files, repeat }) => {
            if files.is_empty() {
                bail!("name at least one audio file");
            }
            write!(w, "{}", bench::features(&files, repeat)?)?;
        }
        Command::Bench(BenchCommand::Bundle) => write!(w, "{}", bench::bundle_sizes()?)?,
        Command::Bench(BenchCommand::Decode { files, repeat }) => {
            if files.is_empty() {
                bail!("name at least one audio file");
            }
            write!(w, "{}", bench::decode(&files, repeat)?)?;
        }
    }
    Ok(())
}
