//! The MLP baselines end to end on a synthetic TR-MUSIC set: features per segment (cached),
//! the paper's pipeline, evaluation, the bundle, and prediction from the bundle.

mod common;

use common::{Scratch, trainer, trainer_ok};
use serde_json::Value;
use std::path::Path;

fn train(s: &Scratch, set: &str, run: &Path, extra: &[&str]) -> String {
    let (data, cache, _) = s.args();
    let mut args = vec![
        "train",
        "--model",
        "mlp",
        "--features",
        set,
        "--data",
        data,
        "--cache-dir",
        cache,
        "--run",
        run.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    trainer_ok(&args)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn each_feature_set_trains_evaluates_exports_and_predicts() {
    let s = Scratch::new("tr", 40, 8.0);
    let (data, cache, _) = s.args();
    for set in ["is13", "essentia", "combined"] {
        let run = s.tmp.path().join(set);
        let report = train(&s, set, &run, &[]);
        assert!(report.contains(&format!("{set} features")), "{report}");
        let eval = json(&run.join("eval.json"));
        let fit = json(&run.join("fit.json"));
        assert_eq!(fit["selected"].as_array().unwrap().len(), 50, "k = 50");
        let test_songs = eval["song_scores"]["support"].as_u64().unwrap();
        assert_eq!(
            eval["segment_scores"]["support"].as_u64().unwrap(),
            4 * test_songs
        );
        // The synthetic quadrants differ in tempo, mode, loudness and timbre: every set
        // learns them well above chance (0.25).
        let accuracy = eval["segment_scores"]["accuracy"].as_f64().unwrap();
        eprintln!("{set}: segment accuracy {accuracy}");
        assert!(accuracy >= 0.4, "{set}: segment accuracy {accuracy}");

        // The run evaluates again to the same numbers, and so does its exported bundle.
        let again: Value = serde_json::from_str(&trainer_ok(&[
            "eval",
            "--run",
            run.to_str().unwrap(),
            "--data",
            data,
            "--cache-dir",
            cache,
            "--json",
        ]))
        .unwrap();
        assert_eq!(again, eval);
        let bundle = run.join("exported.mermodel");
        trainer_ok(&[
            "export",
            "--run",
            run.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ]);
        let split = run.join("split.json");
        let from_bundle: Value = serde_json::from_str(&trainer_ok(&[
            "eval",
            "--model",
            bundle.to_str().unwrap(),
            "--data",
            data,
            "--split",
            split.to_str().unwrap(),
            "--cache-dir",
            cache,
            "--json",
        ]))
        .unwrap();
        assert_eq!(from_bundle, eval);

        // Prediction from the bundle gives the evaluation's song confusion on the test songs.
        let preds: Value = serde_json::from_str(&trainer_ok(&[
            "predict",
            data,
            "--model",
            bundle.to_str().unwrap(),
            "--cache-dir",
            cache,
            "--json",
        ]))
        .unwrap();
        let test: Vec<String> = json(&split)["test"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| format!("{}.wav", t["id"].as_str().unwrap()))
            .collect();
        let mut confusion = [[0u64; 4]; 4];
        for p in preds.as_array().unwrap() {
            let path = p["path"].as_str().unwrap();
            if test.iter().any(|t| path.ends_with(t.as_str())) {
                let truth = ["/happy/", "/angry/", "/sad/", "/relax/"]
                    .iter()
                    .position(|folder| path.contains(folder))
                    .unwrap();
                let q = p["prediction"]["quadrant"].as_str().unwrap();
                confusion[truth][q[1..].parse::<usize>().unwrap() - 1] += 1;
                assert_eq!(p["prediction"]["segments"].as_array().unwrap().len(), 4);
            }
        }
        assert_eq!(
            serde_json::to_value(confusion).unwrap(),
            eval["song"],
            "{set}"
        );
    }
}

#[test]
fn same_seed_same_model_and_features_come_from_the_cache() {
    let s = Scratch::new("tr", 12, 6.0);
    let (a, b) = (s.tmp.path().join("a"), s.tmp.path().join("b"));
    train(&s, "is13", &a, &["--seed", "5"]);
    // A SincNet run folder is not overwritten by an MLP run.
    let sincnet_run = s.tmp.path().join("sincnet");
    std::fs::create_dir_all(&sincnet_run).unwrap();
    std::fs::write(sincnet_run.join("config.json"), b"{}").unwrap();
    let (data, cache, _) = s.args();
    let err = trainer(&[
        "train",
        "--model",
        "mlp",
        "--data",
        data,
        "--cache-dir",
        cache,
        "--run",
        sincnet_run.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("holds a SincNet run"), "{err}");
    let entries = std::fs::read_dir(s.cache.join("features")).unwrap().count();
    assert_eq!(entries, 12, "one cached entry per song");
    // Damage one entry: it is recomputed, and the result is the same.
    let first = std::fs::read_dir(s.cache.join("features"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&first, b"{ not json").unwrap();
    train(&s, "is13", &b, &["--seed", "5"]);
    for f in ["eval.json", "fit.json"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    // The bundles hold the same weights (their bytes differ in burn's random parameter ids).
    let predict = |run: &Path| {
        trainer_ok(&[
            "predict",
            s.data.to_str().unwrap(),
            "--model",
            run.join("model.mermodel").to_str().unwrap(),
            "--json",
        ])
    };
    assert_eq!(predict(&a), predict(&b));
    assert!(
        std::fs::read(&first).unwrap().starts_with(b"{\""),
        "entry rewritten"
    );
}

#[test]
fn an_unreadable_song_is_skipped_and_training_goes_on() {
    let s = Scratch::new("tr", 16, 6.0);
    let victim = std::fs::read_dir(s.data.join("sad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    std::fs::write(&victim, b"RIFF\x10\0\0\0WAVEjunk").unwrap();
    let run = s.tmp.path().join("run");
    let report = train(&s, "essentia", &run, &[]);
    let eval = json(&run.join("eval.json"));
    let fit = json(&run.join("fit.json"));
    let (train_songs, test_songs) = (
        fit["segments"].as_u64().unwrap() / 4,
        eval["song_scores"]["support"].as_u64().unwrap(),
    );
    assert_eq!(train_songs + test_songs, 15, "{report}");
    // A damaged bundle is a clear error naming the file.
    let bundle = run.join("model.mermodel");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    let broken = s.tmp.path().join("broken.mermodel");
    std::fs::write(&broken, bytes).unwrap();
    let err = trainer(&[
        "predict",
        s.data.to_str().unwrap(),
        "--model",
        broken.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("broken.mermodel") && err.contains("checksum"),
        "{err}"
    );
}
