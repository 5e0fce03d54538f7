//! A training run killed mid-way and resumed ends with the same weights as one that ran
//! through (on the CPU, same machine, same seed).

use burn::prelude::*;
use model_format::bundle::Bundle;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_trainer");

fn trainer(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn run_ok(args: &[&str]) {
    let out = trainer(args).output().unwrap();
    assert!(
        out.status.success(),
        "trainer {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small synthetic TR-MUSIC set under `dir`.
fn synth_tr(dir: &Path) -> PathBuf {
    let data = dir.join("tr");
    let out = data.to_str().unwrap();
    run_ok(&[
        "data",
        "synth",
        "--layout",
        "tr",
        "--songs",
        "8",
        "--seconds",
        "3",
        "--out",
        out,
    ]);
    data
}

fn epochs_done(run: &Path) -> usize {
    std::fs::read_to_string(run.join("checkpoint/state.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["epochs_done"].as_u64())
        .unwrap_or(0) as usize
}

#[test]
fn killed_run_resumes_to_the_same_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let data = synth_tr(tmp.path());
    let cache = tmp.path().join("cache");
    let train = |run: &Path, resume: bool| {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--run",
            run.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--fc",
            "32,32",
            "--epochs",
            "6",
            "--batches-per-epoch",
            "4",
            "--batch-size",
            "8",
            "--eval-every",
            "100",
            "--shift-ms",
            "200",
            "--seed",
            "5",
        ];
        if resume {
            args.push("--resume");
        }
        trainer(&args)
    };

    let straight = tmp.path().join("straight");
    let out = train(&straight, false).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let killed = tmp.path().join("killed");
    let mut child = train(&killed, false).spawn().unwrap();
    let t0 = Instant::now();
    while epochs_done(&killed) < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no checkpoint appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = epochs_done(&killed);
    assert!(at_kill < 6, "killed after the last epoch");
    let out = train(&killed, true).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(epochs_done(&killed), 6);

    // The history is complete and the same, epoch by epoch.
    let history = |run: &Path| {
        let s = std::fs::read_to_string(run.join("checkpoint/state.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["loss"].as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        history(&straight),
        history(&killed),
        "resumed after epoch {at_kill}"
    );
    // Same weights: the exported models give bit-identical outputs.
    let outputs = |run: &Path| {
        let path = run.join("model.mer");
        run_ok(&[
            "export",
            "--run",
            run.to_str().unwrap(),
            "--out",
            path.to_str().unwrap(),
        ]);
        let bundle = Bundle::from_bytes(&std::fs::read(path).unwrap()).unwrap();
        let device = Device::flex();
        let model = bundle.sincnet(&device).unwrap().valid();
        let x: Vec<f32> = (0..3 * 3200)
            .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [3, 3200]), &device);
        model
            .forward(x)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap()
    };
    assert_eq!(
        outputs(&straight),
        outputs(&killed),
        "resumed after epoch {at_kill}"
    );
}

#[test]
fn resuming_with_other_settings_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = synth_tr(tmp.path());
    let run = tmp.path().join("run");
    let base = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--no-cache",
        "--fc",
        "16",
        "--epochs",
        "1",
        "--batches-per-epoch",
        "1",
        "--batch-size",
        "4",
        "--shift-ms",
        "500",
    ];
    run_ok(&base);
    let mut other = base.to_vec();
    other.extend(["--lr", "0.1", "--resume"]);
    let out = trainer(&other).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds a run with other settings"), "{err}");
}
