//! SincNet through the command line: train on a synthetic set, export, predict, evaluate, and
//! import the upstream parity weights.

mod common;

use common::{Scratch, TINY, fixture, trainer, trainer_ok};
use std::path::PathBuf;

/// The upstream PyTorch weights of the parity fixture.
fn parity_weights() -> PathBuf {
    fixture("sincnet-parity/weights.safetensors")
}

#[test]
fn train_export_predict_and_evaluate() {
    let scratch = Scratch::new("4q", 16, 4.0);
    let (tmp, data, run) = (&scratch.tmp, &scratch.data, &scratch.run);
    let (d, c, r) = scratch.args();
    let mut args = vec![
        "train",
        "--data",
        d,
        "--run",
        r,
        "--cache-dir",
        c,
        "--eval-every",
        "1",
    ];
    args.extend(TINY);
    let out = trainer_ok(&args);
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

    let song = common::first_song(data, "Q2");
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

    // The bundle tells its training truthfully, and export refuses a run folder whose record
    // of it is damaged or gone.
    let exported = model_format::bundle::Bundle::from_bytes(&std::fs::read(&bundle).unwrap())
        .unwrap()
        .provenance;
    assert_eq!(exported.epochs, 2);
    assert!(exported.split.is_some());
    assert!(exported.metrics_json.contains("segment_scores"));
    transfer_from(&scratch);
    let again = tmp.path().join("again.mer");
    let export = || trainer(&["export", "--run", r, "--out", again.to_str().unwrap()]);
    std::fs::write(run.join("eval.json"), b"{ not json").unwrap();
    let err = format!("{:#}", export().unwrap_err());
    assert!(
        err.contains("eval.json") && err.contains("malformed"),
        "{err}"
    );
    std::fs::remove_file(run.join("eval.json")).unwrap();
    export().expect("a run without an evaluation exports");
    std::fs::remove_file(run.join("split.json")).unwrap();
    let err = format!("{:#}", export().unwrap_err());
    assert!(err.contains("split.json"), "{err}");
}

/// `--init-from` on the run of `scratch`: a run of no epochs holds the source's weights, one of
/// another architecture or from an MLP is refused, and a run from a bundle trains.
fn transfer_from(scratch: &Scratch) {
    let (d, c, r) = scratch.args();
    let dir = scratch.tmp.path();
    let train = |run: &str, from: &str, fc: &str, epochs: &str| {
        let run = dir.join(run);
        let args = [
            "train",
            "--data",
            d,
            "--cache-dir",
            c,
            "--run",
            run.to_str().unwrap(),
            "--init-from",
            from,
            "--fc",
            fc,
            "--epochs",
            epochs,
            "--batches-per-epoch",
            "2",
            "--batch-size",
            "8",
            "--shift-ms",
            "250",
        ];
        trainer(&args).map(|_| run)
    };
    let weights = |run: &std::path::Path| {
        let out = dir.join("w.mer");
        trainer_ok(&[
            "export",
            "--run",
            run.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let b = model_format::bundle::Bundle::from_bytes(&std::fs::read(&out).unwrap()).unwrap();
        trainer::sincnet::init::weights_digest(&b.sincnet(&burn::prelude::Device::flex()).unwrap())
            .unwrap()
    };
    let copy = train("copy", r, "32,32", "0").unwrap();
    assert_eq!(
        weights(&copy),
        weights(&scratch.run),
        "the source's weights, head included"
    );
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copy.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["init_from"]["source"], r);

    let err = format!("{:#}", train("wide", r, "64,32", "1").unwrap_err());
    assert!(err.contains("another architecture"), "{err}");
    let mlp = dir.join("mlp");
    trainer_ok(&[
        "train",
        "--model",
        "mlp",
        "--data",
        d,
        "--cache-dir",
        c,
        "--run",
        mlp.to_str().unwrap(),
    ]);
    let err = format!(
        "{:#}",
        train("from-mlp", mlp.to_str().unwrap(), "32,32", "1").unwrap_err()
    );
    assert!(err.contains("holds an MLP run"), "{err}");

    let bundle = dir.join("source.mer");
    trainer_ok(&["export", "--run", r, "--out", bundle.to_str().unwrap()]);
    let tuned = train("tuned", bundle.to_str().unwrap(), "32,32", "1").unwrap();
    assert_ne!(
        weights(&tuned),
        weights(&scratch.run),
        "an epoch changed the weights"
    );
}

#[test]
fn damaged_bundles_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let imported = tmp.path().join("imported.mer");
    trainer_ok(&[
        "import-pytorch",
        parity_weights().to_str().unwrap(),
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
        parity_weights().to_str().unwrap(),
        "--out",
        tmp.path().join("x.mer").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("weights.safetensors"),
        "{err:#}"
    );
}

/// Data-parallel training (two replicas, here both on the CPU), regression head included, is
/// deterministic through the whole loop; that a sharded step moves the weights as one device
/// does is the unit test `a_sharded_step_equals_one_device_but_for_batch_norm_statistics`.
#[test]
fn data_parallel_training_is_deterministic() {
    use burn::prelude::Device;
    use model_format::{FrontEnd, Quadrant};
    use trainer::sincnet::data::SongSegments;
    use trainer::sincnet::train::{TrainConfig, train};

    // Quadrant k: a tone whose pitch and loudness depend on k.
    let songs: Vec<SongSegments> = (0..8)
        .map(|i| {
            let q = Quadrant::ALL[i % 4];
            let f = 200.0 * (1 + q.index()) as f32;
            let x: Vec<f32> = (0..48_000)
                .map(|t| {
                    (t as f32 * f * std::f32::consts::TAU / 16_000.0).sin()
                        * (0.2 + 0.2 * (i / 4) as f32)
                })
                .collect();
            SongSegments {
                id: format!("song{i}"),
                quadrant: q,
                // Half the songs rated, for the regression head.
                va: (i < 4).then(|| [0.5 - q.index() as f32 / 4.0, 0.25]),
                segments: FrontEnd::default().segment(&x).unwrap(),
            }
        })
        .collect();
    let mut config = TrainConfig::paper(200);
    config.model.fc = vec![16, 16];
    config.batch_size = 8;
    config.batches_per_epoch = 3;
    config.epochs = 2;
    config.eval_every = 100;
    config.va_head = true;
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, devices: &[Device]| {
        let (model, history) = train(
            &config,
            &songs,
            &[],
            &trainer::run::RunDir::new(tmp.path().join(name)),
            false,
            None,
            devices,
            &mut std::io::sink(),
        )
        .unwrap();
        // The trained model's posteriors on fixed input stand for its weights.
        let x: Vec<f32> = (0..2 * 3200)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let x = burn::prelude::Tensor::<2>::from_data(
            burn::prelude::TensorData::new(x, [2, 3200]),
            &Device::flex(),
        );
        let (log_probs, va) = model.forward_va(x);
        let va = va.expect("the run trains a regression head");
        let out: Vec<f32> = burn::prelude::Tensor::cat(vec![log_probs, va], 1)
            .into_data()
            .try_into_vec_as()
            .unwrap();
        (out, history)
    };
    let two = [Device::flex(), Device::flex()];
    let (a, history) = run("a", &two);
    let (b, again) = run("b", &two);
    assert_eq!(a, b, "same seed, same weights");
    let losses = |h: &[trainer::sincnet::checkpoint::EpochLog]| -> Vec<f64> {
        h.iter().map(|e| e.loss).collect()
    };
    assert_eq!(losses(&history), losses(&again), "same seed, same losses");
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|e| e.loss.is_finite() && e.loss > 0.0));
}

/// `trainer predict` without `--model` runs the browser demo's bundled model, built in.
#[test]
fn predict_without_a_model_uses_the_demos_model() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("songs");
    common::synth("4q", 4, 6.0, &data);
    let song = common::first_song(&data, "Q1");
    let song = song.to_str().unwrap();
    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/assets/default.mermodel");
    let built_in = trainer_ok(&["predict", song, "--no-cache", "--json"]);
    let from_file = trainer_ok(&[
        "predict",
        song,
        "--model",
        demo.to_str().unwrap(),
        "--no-cache",
        "--json",
    ]);
    assert!(built_in.contains("\"prediction\""), "{built_in}");
    assert_eq!(built_in, from_file);
}

/// The demo's model says truthfully what it learnt from: the real corpus and its label
/// sources, split by package, with its test scores, and no path of the machine that trained it.
#[test]
fn the_demos_model_names_its_corpus_and_no_local_path() {
    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/assets/default.mermodel");
    let bundle = model_format::bundle::Bundle::from_bytes(&std::fs::read(demo).unwrap()).unwrap();
    let p = &bundle.provenance;
    assert!(
        p.datasets.iter().any(|d| d.contains("Debian game music")
            && d.contains("VibeNet")
            && d.contains("musicnn")
            && d.contains("data/real-corpus-labels.csv")),
        "{p:?}"
    );
    assert!(p.split.is_some() && p.epochs > 0, "{p:?}");
    assert!(p.metrics_json.contains("\"song\""), "{p:?}");
    let text = format!("{p:?}");
    for local in ["/work", "/tmp", "/root", "/home", "4Q-EMOTION"] {
        assert!(!text.contains(local), "the provenance names {local}: {p:?}");
    }
}

/// `--va-head` on CH-818's ratings: SincNet and the MLP learn valence and arousal beside the
/// quadrant, their evaluations score them, their bundles are format 3, and `predict` places
/// a song with the regressed point, inside the circle.
#[test]
fn a_regression_head_trains_exports_and_places_songs() {
    let scratch = Scratch::new("ch818", 16, 4.0);
    let (tmp, data) = (&scratch.tmp, &scratch.data);
    let (d, c, _) = scratch.args();
    let song = data.join("clips/001.wav");
    let sincnet_run = tmp.path().join("sincnet");
    let mlp_run = tmp.path().join("mlp");
    let mlp = ["--model", "mlp", "--features", "essentia"];
    for (run, extra) in [(&sincnet_run, &TINY[..]), (&mlp_run, &mlp[..])] {
        let r = run.to_str().unwrap();
        let mut args = vec![
            "train",
            "--data",
            d,
            "--run",
            r,
            "--cache-dir",
            c,
            "--va-head",
        ];
        args.extend_from_slice(extra);
        let out = trainer_ok(&args);
        assert!(out.contains("valence  MAE"), "{out}");
        let eval: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("eval.json")).unwrap()).unwrap();
        assert_eq!(eval["va"]["songs"], 4, "every test song of CH-818 is rated");
        // Two epochs learn little; what this guards is a defined score (a NaN fails here, as
        // the first training on real music did).
        let mae = eval["va"]["valence_mae"].as_f64().unwrap();
        assert!((0.0..=2.0).contains(&mae), "{mae}");

        let bundle = tmp
            .path()
            .join(format!("{}.mer", run.display().to_string().len()));
        trainer_ok(&["export", "--run", r, "--out", bundle.to_str().unwrap()]);
        let bytes = std::fs::read(&bundle).unwrap();
        assert_eq!(bytes[8..12], 3u32.to_le_bytes(), "format 3 holds the head");
        let json = trainer_ok(&[
            "predict",
            song.to_str().unwrap(),
            "--model",
            bundle.to_str().unwrap(),
            "--cache-dir",
            c,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let p = &v[0]["prediction"];
        assert_eq!(p["point"], "Regression", "{json}");
        let (valence, arousal) = (
            p["valence"].as_f64().unwrap(),
            p["arousal"].as_f64().unwrap(),
        );
        assert!(valence.hypot(arousal) <= 1.0 + 1e-6, "{valence} {arousal}");
        for s in p["segments"].as_array().unwrap() {
            let (v, a) = (
                s["valence"].as_f64().unwrap(),
                s["arousal"].as_f64().unwrap(),
            );
            assert!(v.hypot(a) <= 1.0 + 1e-6);
        }
    }
    // Songs without ratings cannot train a head.
    let plain = Scratch::new("tr", 8, 2.0);
    let (d, c, r) = plain.args();
    let err = trainer(&[
        "train",
        "--data",
        d,
        "--run",
        r,
        "--cache-dir",
        c,
        "--va-head",
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("valence and arousal ratings"), "{err}");
}
