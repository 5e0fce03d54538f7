//! `mer-fuzz`: fuzzes the targets for a while and prints what it found. Inputs under
//! `--out/corpus/<target>/` are mutated besides the seeds, and those that found new edges (in a
//! build with coverage) are added there; crashes are written to `--out/crashes/<target>/`.

use anyhow::{Context, Result, bail};
use clap::Parser;
use mer_fuzz::engine::{Budget, fuzz};
use mer_fuzz::targets;
use std::path::PathBuf;
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
    /// Folder of extra inputs (`corpus/<target>/`) and of the crashes found.
    #[arg(long, default_value = "target/fuzz")]
    out: PathBuf,
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
        let corpus_dir = args.out.join("corpus").join(t.name);
        let corpus: Vec<Vec<u8>> = match std::fs::read_dir(&corpus_dir) {
            Ok(entries) => entries
                .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        let r = fuzz(t, corpus, budget, args.seed);
        // Inputs that found new edges join the corpus, so the next run starts from them.
        if !r.discovered.is_empty() {
            std::fs::create_dir_all(&corpus_dir)?;
        }
        for input in &r.discovered {
            let name = blake3::hash(input).to_hex().to_string();
            std::fs::write(corpus_dir.join(&name[..16]), input)?;
        }
        for c in &r.crashes {
            let dir = args.out.join("crashes").join(t.name);
            std::fs::create_dir_all(&dir)?;
            let name = blake3::hash(&c.input).to_hex().to_string();
            let path = dir.join(&name[..16]);
            std::fs::write(&path, &c.input)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{}: {} ({})", t.name, c.message, path.display());
        }
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
