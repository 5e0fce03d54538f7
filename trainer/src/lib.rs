//! The trainer: datasets, decoding and the experiments of the paper.
//!
//! - [`audio`]: decoding files and the decoded-audio cache;
//! - [`dataset`]: the three corpora's layouts, manifests, balancing and the split;
//! - [`synth`]: synthetic datasets in those layouts;
//! - [`device`]: the CPU or a GPU, chosen at run time;
//! - [`run`]: run folders, the split of a run, and writes a kill never leaves half done;
//! - [`sincnet`]: training SincNet (the protocol's sampling, optimiser and checkpoints);
//! - [`features`]: handcrafted features of audio files, cached per song;
//! - [`mlp`]: fitting the handcrafted-feature baseline (scaling, chi-squared selection, MLP);
//! - [`train`]: `trainer train`, either model on a dataset's split;
//! - [`models`]: a run's or a bundle's model ready to run, and its evaluation;
//! - [`export`]: model bundles from runs and from upstream PyTorch weights;
//! - [`predict`]: predictions for audio files, as a table or JSON;
//! - [`metrics`]: weighted precision, recall, F1, accuracy, confusion matrices;
//! - [`inspect`]: what a dataset holds, what cannot be read, and confound checks;
//! - [`reproduce`]: the poster's grid of experiments in one command;
//! - [`report`]: its results beside the poster's, as Markdown and a self-contained page;
//! - [`bench`]: speed measurements printed as tables;
//! - [`progress`]: progress bars;
//! - [`cli`]: the `trainer` command line.

pub mod audio;
pub mod bench;
pub mod cli;
pub mod dataset;
pub mod device;
pub mod export;
pub mod features;
pub mod inspect;
pub mod metrics;
pub mod mlp;
pub mod models;
pub mod predict;
pub mod progress;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod sincnet;
pub mod synth;
pub mod train;

/// The message a panic carried (`panic!` with a literal or a formatted one), for reporting a
/// panic caught with `catch_unwind` as an error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}
