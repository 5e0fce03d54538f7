//! The trainer on wgpu (a GPU, or Mesa's lavapipe without one, as in CI): training,
//! evaluation and prediction run there, and predict what the CPU predicts.

mod common;

use common::{Scratch, trainer_ok};

fn probabilities(json: &str) -> Vec<f64> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v[0]["prediction"]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn train_evaluate_and_predict_on_wgpu() {
    let scratch = Scratch::new("tr", 8, 3.0);
    let (tmp, run) = (&scratch.tmp, &scratch.run);
    let (d, c, r) = scratch.args();
    let out = trainer_ok(&[
        "train",
        "--data",
        d,
        "--run",
        r,
        "--cache-dir",
        c,
        "--device",
        "wgpu",
        "--fc",
        "16,16",
        "--epochs",
        "2",
        // One small batch per epoch: a training step of the paper's SincNet takes seconds
        // on lavapipe.
        "--batches-per-epoch",
        "1",
        "--batch-size",
        "4",
        "--eval-every",
        "2",
        "--shift-ms",
        "500",
    ]);
    assert!(out.contains("epoch 2: test segment accuracy"), "{out}");
    let history: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("checkpoint").join("state.json")).unwrap())
            .unwrap();
    let losses: Vec<f64> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loss"].as_f64().unwrap())
        .collect();
    assert_eq!(losses.len(), 2);
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );

    // The run's weights give the same posteriors on both devices.
    let bundle = tmp.path().join("model.mermodel");
    let b = bundle.to_str().unwrap();
    trainer_ok(&["export", "--run", r, "--out", b, "--shift-ms", "250"]);
    let song = common::fixture("tones.flac");
    let predict = |device: &str| {
        probabilities(&trainer_ok(&[
            "predict",
            song.to_str().unwrap(),
            "--model",
            b,
            "--device",
            device,
            "--no-cache",
            "--json",
        ]))
    };
    let (cpu, gpu) = (predict("cpu"), predict("wgpu"));
    assert_eq!((cpu.len(), gpu.len()), (4, 4));
    for (a, g) in cpu.iter().zip(&gpu) {
        assert!((a - g).abs() < 1e-4, "cpu {cpu:?} vs wgpu {gpu:?}");
    }
    let eval = trainer_ok(&[
        "eval",
        "--run",
        r,
        "--data",
        d,
        "--cache-dir",
        c,
        "--device",
        "wgpu",
        "--json",
    ]);
    let e: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert!(e["song_scores"]["support"].as_u64().unwrap() > 0, "{eval}");
}
