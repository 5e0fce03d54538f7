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
    keep_freed_memory();
    let cli = trainer::cli::Cli::parse();
    if let Err(e) = trainer::cli::run(cli, &mut std::io::stdout().lock()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// glibc gives every block above its mmap threshold (32 MiB at most, by its own adjustment)
/// back to the kernel when the block is freed, and trims the free top of its heap. A SincNet
/// training step allocates and frees tensors of over 100 MiB, which the kernel then faults in
/// and zeroes afresh at every step. Keeping freed blocks of up to 1 GiB for reuse took
/// `trainer bench sincnet`'s training on 2 threads from 64 chunks/s (one run) to 69–114 (eight
/// runs). Blocks larger than a rayon worker's own heap (64 MiB) are still mapped afresh.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    const LIMIT: std::ffi::c_int = 1 << 30;
    // SAFETY: mallopt only sets glibc's allocator parameters, and no other thread runs yet.
    #[allow(
        unsafe_code,
        reason = "two allocator settings, before any thread starts"
    )]
    unsafe {
        // A glibc that refuses so high a threshold (older ones cap it at 32 MiB) keeps its
        // own; setting the trim threshold alone would freeze the mmap threshold at 128 KiB.
        if libc::mallopt(libc::M_MMAP_THRESHOLD, LIMIT) == 1 {
            libc::mallopt(libc::M_TRIM_THRESHOLD, LIMIT);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
