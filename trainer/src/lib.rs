//! The trainer: datasets, decoding and the experiments of the paper.
//!
//! - [`audio`]: decoding files and the decoded-audio cache;
//! - [`dataset`]: the three corpora's layouts, manifests, balancing and the split;
//! - [`synth`]: synthetic datasets in those layouts;
//! - [`device`]: the CPU or a GPU, chosen at run time;
//! - [`sincnet`]: training, evaluating and running SincNet;
//! - [`features`]: handcrafted features of audio files;
//! - [`mlp`]: fitting the handcrafted-feature baseline (scaling, chi-squared selection, MLP);
//! - [`metrics`]: weighted precision, recall, F1, accuracy, confusion matrices;
//! - [`inspect`]: what a dataset holds, what cannot be read, and confound checks;
//! - [`bench`]: speed measurements printed as tables;
//! - [`cli`]: the `trainer` command line.

pub mod audio;
pub mod bench;
pub mod cli;
pub mod dataset;
pub mod device;
pub mod features;
pub mod inspect;
pub mod metrics;
pub mod mlp;
pub mod models;
pub mod progress;
pub mod sincnet;
pub mod synth;
