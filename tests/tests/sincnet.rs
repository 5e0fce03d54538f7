//! SincNet through the command line: train on a synthetic set, export, predict, evaluate, and
//! import the upstream parity weights.

mod common;

use common::{synth, trainer, trainer_ok};
use std::path::{Path, PathBuf};

fn shared_parity_weights() -> PathBuf {
    std::env::var_os("MER_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("reference/sincnet-parity/weights.safetensors")
}

#[test]
fn train_export_predict_and_evaluate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("4q");
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("run");
    synth("4q", 16, 4.0, &data);
    let (d, c, r) = (
        data.to_str().unwrap(),
        cache.to_str().unwrap(),
        run.to_str().unwrap(),
    );
    let out = trainer_ok(&[
        "train",
        "--data",
        d,
        "--run",
        r,
        "--cache-dir",
        c,
        "--fc",
        "32,32",
        "--epochs",
        "2",
        "--batches-per-epoch",
        "3",
        "--batch-size",
        "8",
        "--eval-every",
        "1",
        "--shift-ms",
        "250",
    ]);
    assert!(out.contains("12 train / 4 test songs"), "{out}");
    assert!(out.contains("epoch 2: test segment accuracy"), "{out}");
    let eval: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("eval.json")).unwrap()).unwrap();
    assert_eq!(eval["segment_scores"]["support"], 16);
    assert_eq!(eval["song_scores"]["support"], 4);

    let bundle = tmp.path().join("model.mer");
    trainer_ok(&["export", "--run", r, "--out", bundle.to_str().unwrap()]);
    let b = bundle.to_str().unwrap();
    // The run and its bundle evaluate identically on the run's split.
    let from_run = trainer_ok(&["eval", "--run", r, "--data", d, "--cache-dir", c, "--json"]);
    let split = run.join("split.json");
    let from_bundle = trainer_ok(&[
        "eval",
        "--model",
        b,
        "--data",
        d,
        "--split",
        split.to_str().unwrap(),
        "--cache-dir",
        c,
        "--json",
    ]);
    assert_eq!(from_run, from_bundle);

    let song = data
        .join("Q2")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let json = trainer_ok(&[
        "predict",
        song.to_str().unwrap(),
        "--model",
        b,
        "--cache-dir",
        c,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let p = &v[0]["prediction"];
    let probs: Vec<f64> = p["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-5);
    assert_eq!(p["segments"].as_array().unwrap().len(), 4);
    let q = p["quadrant"].as_str().unwrap();
    let best = probs.iter().cloned().fold(0.0, f64::max);
    assert_eq!(probs[q[1..].parse::<usize>().unwrap() - 1], best);

    // A folder with a broken file: reported, the rest predicted.
    std::fs::write(data.join("Q3").join("broken.mp3"), b"\xff\xfb not really").unwrap();
    let table = trainer_ok(&[
        "predict",
        data.join("Q3").to_str().unwrap(),
        "--model",
        b,
        "--cache-dir",
        c,
    ]);
    assert!(
        table.contains("5 files:") && table.contains("1 could not be read"),
        "{table}"
    );
    assert!(table.contains("broken.mp3: error:"), "{table}");
}

#[test]
fn damaged_bundles_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let imported = tmp.path().join("imported.mer");
    trainer_ok(&[
        "import-pytorch",
        shared_parity_weights().to_str().unwrap(),
        "--out",
        imported.to_str().unwrap(),
        "--fc",
        "32,32,32",
    ]);
    let bytes = std::fs::read(&imported).unwrap();
    let cut = tmp.path().join("cut.mer");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let song = common::fixture("tones.ogg");
    let err = trainer(&[
        "predict",
        song.to_str().unwrap(),
        "--model",
        cut.to_str().unwrap(),
        "--no-cache",
    ])
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("cut.mer") && text.contains("truncated"),
        "{text}"
    );
    // The intact import runs.
    let out = trainer_ok(&[
        "predict",
        song.to_str().unwrap(),
        "--model",
        imported.to_str().unwrap(),
        "--no-cache",
    ]);
    assert!(out.contains("tones.ogg: Q"), "{out}");
    // Weights of another width do not import.
    let err = trainer(&[
        "import-pytorch",
        shared_parity_weights().to_str().unwrap(),
        "--out",
        tmp.path().join("x.mer").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("weights.safetensors"),
        "{err:#}"
    );
}
