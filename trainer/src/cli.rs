//! The `trainer` command line: argument parsing and the commands.

use crate::audio::DecodeCache;
use crate::dataset::split::{Split, balance};
use crate::dataset::{Dataset, Layout};
use crate::synth::{SynthOptions, write_dataset};
use crate::{bench, inspect, progress};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use model_format::FrontEnd;
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
    /// Speed measurements, printed as tables.
    #[command(subcommand)]
    Bench(BenchCommand),
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
}

/// Where a dataset is and how to read it.
#[derive(Args)]
struct Source {
    /// Layout; detected from the folder when left out.
    #[arg(long, value_enum)]
    layout: Option<Layout>,
    /// Folder of the decoded-audio cache [default: $MER_CACHE_DIR or ~/.cache/mer/decoded].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Decode everything afresh and store nothing.
    #[arg(long)]
    no_cache: bool,
}

impl Source {
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
            let cache = source.cache();
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
            let songs = if do_balance {
                balance(&ds.songs, seed)
            } else {
                ds.songs.clone()
            };
            let name = format!("{} {}", ds.layout.name(), ds.root.display());
            let split = Split::stratified(&name, &songs, test_fraction, seed, do_balance);
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
        Command::Bench(BenchCommand::Decode { files, repeat }) => {
            if files.is_empty() {
                bail!("name at least one audio file");
            }
            write!(w, "{}", bench::decode(&files, repeat)?)?;
        }
    }
    Ok(())
}
