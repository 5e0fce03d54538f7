//! The `trainer` binary; see [`trainer::cli`].

use clap::Parser;

fn main() {
    // burn puts loaded optimiser state on its default device (moving it to the model's at the
    // next step), and with wgpu compiled in that default is a GPU. Pin it to the CPU unless the
    // user chose: no command should wake a GPU it was not asked to use.
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: nothing else runs yet; no other thread can read the environment.
        #[allow(
            unsafe_code,
            reason = "the one environment write, before any thread starts"
        )]
        unsafe {
            std::env::set_var("BURN_DEVICE", "flex")
        };
    }
    let cli = trainer::cli::Cli::parse();
    if let Err(e) = trainer::cli::run(cli, &mut std::io::stdout().lock()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
