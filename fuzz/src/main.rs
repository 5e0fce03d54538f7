//! `mer-fuzz`: fuzzes the targets for a while and prints what it found. Inputs under
//! `--out/corpus/<target>/` are mutated besides the seeds, and those that find new edges (in a
//! build with coverage) are added there as they are found; crashes are written to
//! `--out/crashes/<target>/`. An input the process died on is replayed by the next run
//! ([`mer_fuzz::journal`]).

use anyhow::{Context, Result, bail};
use clap::Parser;
use mer_fuzz::engine::{Budget, fuzz, run_one};
use mer_fuzz::journal::{self, Files, Started};
use mer_fuzz::targets;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Fuzz the parsers of untrusted bytes.
#[derive(Parser)]
#[command(name = "mer-fuzz")]
struct Args {
    /// Targets to fuzz [default: all].
    targets: Vec<String>,
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Most executions per target.
    #[arg(long, default_value_t = u64::MAX)]
    executions: u64,
    /// Seed of the mutations.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder of extra inputs (`corpus/<target>/`), of the crashes found and of the input in
    /// flight.
    #[arg(long, default_value = "target/fuzz")]
    out: PathBuf,
    /// Longest one execution may run; a longer one stops the run, and the next replays it.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    hang_seconds: u64,
    /// Run this one input through the one target named, and exit 1 if it panics.
    #[arg(long)]
    replay: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let all = targets::all();
    for t in &args.targets {
        if !all.iter().any(|a| a.name == t) {
            let names: Vec<&str> = all.iter().map(|a| a.name).collect();
            bail!("no target {t}; the targets are {}", names.join(", "));
        }
    }
    if let Some(file) = &args.replay {
        let [name] = args.targets.as_slice() else {
            bail!("--replay takes exactly one target");
        };
        let target = all.iter().find(|t| t.name == *name).expect("checked above");
        let input = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        if let Some(message) = run_one(target, &input) {
            eprintln!("{name}: {message}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let hang = Duration::from_secs(args.hang_seconds);
    let started = Started::default();
    journal::watchdog(started.clone(), hang);
    let budget = Budget {
        executions: args.executions,
        time: Duration::from_secs(args.seconds),
    };
    let edges = mer_fuzz::coverage::edges();
    if edges > 0 {
        println!("coverage-guided: {edges} edges instrumented");
    } else {
        println!("blind: this build has no edge coverage (scripts/fuzz builds one)");
    }
    println!(
        "{:<22} {:>10} {:>9} {:>7} {:>7} {:>8}",
        "target", "execs", "execs/s", "corpus", "edges", "crashes"
    );
    let mut crashed = 0;
    for t in all
        .iter()
        .filter(|t| args.targets.is_empty() || args.targets.iter().any(|n| n == t.name))
    {
        let replay = |file: &std::path::Path| {
            let mut c = Command::new(std::env::current_exe().expect("this program's path"));
            c.arg(t.name).arg("--replay").arg(file);
            c
        };
        if let Some(path) = journal::recover(&args.out, t.name, hang, replay)? {
            eprintln!(
                "{}: the last run died on an input, and so did its replay ({})",
                t.name,
                path.display()
            );
            crashed += 1;
        }
        let corpus_dir = args.out.join("corpus").join(t.name);
        let corpus: Vec<Vec<u8>> = match std::fs::read_dir(&corpus_dir) {
            Ok(entries) => entries
                .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut files = Files::new(&args.out, t.name, started.clone())?;
        let r = fuzz(t, corpus, budget, args.seed, &mut files);
        let journal = files.finish();
        for c in &r.crashes {
            let path = journal::save_crash(&args.out, t.name, &c.input)?;
            eprintln!("{}: {} ({})", t.name, c.message, path.display());
        }
        journal?;
        crashed += r.crashes.len();
        println!(
            "{:<22} {:>10} {:>9.0} {:>7} {:>7} {:>8}",
            t.name,
            r.executions,
            r.executions as f64 / r.seconds.max(1e-9),
            r.corpus,
            r.edges,
            r.crashes.len()
        );
    }
    if crashed > 0 {
        bail!(
            "{crashed} distinct panics; their inputs are under {}",
            args.out.join("crashes").display()
        );
    }
    Ok(())
}
