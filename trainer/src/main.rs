//! The `trainer` binary; see [`trainer::cli`].

use clap::Parser;

fn main() {
    let cli = trainer::cli::Cli::parse();
    if let Err(e) = trainer::cli::run(cli, &mut std::io::stdout().lock()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
