//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A SincNet small and short enough for a test: two epochs of three batches of 8 windows.
pub const TINY: [&str; 10] = [
    "--fc",
    "32,32",
    "--epochs",
    "2",
    "--batches-per-epoch",
    "3",
    "--batch-size",
    "8",
    "--shift-ms",
    "250",
];

/// A committed audio fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs the `trainer` command line in-process and returns what it printed.
pub fn trainer(args: &[&str]) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let argv = std::iter::once("trainer").chain(args.iter().copied());
    trainer::cli::run_with_args(argv, &mut out)?;
    Ok(String::from_utf8(out).expect("utf-8 output"))
}

/// Like [`trainer`], panicking with the error on failure.
pub fn trainer_ok(args: &[&str]) -> String {
    trainer(args).unwrap_or_else(|e| panic!("trainer {args:?} failed: {e:#}"))
}

/// `trainer data inspect DIR --json` (with a private cache) as JSON.
pub fn inspect_json(dir: &Path, cache: &Path) -> serde_json::Value {
    let out = trainer_ok(&[
        "data",
        "inspect",
        dir.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_str(&out).expect("inspect --json prints JSON")
}

/// A synthetic dataset of `songs` songs of `seconds` in `layout`, written under `dir`.
pub fn synth(layout: &str, songs: usize, seconds: f64, dir: &Path) -> String {
    trainer_ok(&[
        "data",
        "synth",
        "--layout",
        layout,
        "--songs",
        &songs.to_string(),
        "--seconds",
        &seconds.to_string(),
        "--seed",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ])
}

/// The `listed` or `readable` per-quadrant counts of an inspect report.
pub fn counts(report: &serde_json::Value, key: &str) -> Vec<u64> {
    match key {
        "listed" => report["listed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect(),
        _ => report["quadrants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["songs"].as_u64().unwrap())
            .collect(),
    }
}

/// Messages of the report's issues (or unreadable files) whose path ends with `suffix`.
pub fn messages(report: &serde_json::Value, list: &str, suffix: &str) -> Vec<String> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["path"].as_str().unwrap().ends_with(suffix))
        .map(|i| i["message"].as_str().unwrap().to_string())
        .collect()
}

/// The first song (by name) of `quadrant`'s folder of a 4Q-layout dataset.
pub fn first_song(dataset: &Path, quadrant: &str) -> PathBuf {
    let mut songs: Vec<PathBuf> = dataset
        .join(quadrant)
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    songs.sort();
    songs.swap_remove(0)
}

/// A temporary folder holding a synthetic dataset, a decode cache and a run folder.
pub struct Scratch {
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub cache: PathBuf,
    pub run: PathBuf,
}

impl Scratch {
    /// `songs` synthetic songs of `seconds` in `layout`.
    pub fn new(layout: &str, songs: usize, seconds: f64) -> Scratch {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join(layout);
        synth(layout, songs, seconds, &data);
        Scratch {
            cache: tmp.path().join("cache"),
            run: tmp.path().join("run"),
            data,
            tmp,
        }
    }

    /// The dataset, cache and run folders as arguments.
    pub fn args(&self) -> (&str, &str, &str) {
        (
            self.data.to_str().unwrap(),
            self.cache.to_str().unwrap(),
            self.run.to_str().unwrap(),
        )
    }
}

/// A 32-bit float WAV of `channels` channels at `rate` holding `samples` (interleaved).
pub fn write_float_wav(path: &Path, channels: u16, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    samples.iter().for_each(|&v| w.write_sample(v).unwrap());
    w.finalize().unwrap();
}
