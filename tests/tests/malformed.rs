//! A corpus of bad files, made at run time, through `data inspect`, `predict`, `features` and
//! `train`: no panic, every bad file named with its reason, and the rest of the batch done.

mod common;

use common::{fixture, inspect_json, trainer, trainer_ok, write_float_wav};
use std::fs;
use std::path::Path;

/// A 440 Hz tone of `seconds` on every channel.
fn tone(channels: u16, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (seconds * rate as f64) as usize;
    (0..n)
        .flat_map(|i| {
            let v = 0.3 * (std::f64::consts::TAU * 440.0 * i as f64 / rate as f64).sin() as f32;
            std::iter::repeat_n(v, channels as usize)
        })
        .collect()
}

/// The bad files: each name with the reason its error must give (`None`: it may decode).
fn write_bad_files(dir: &Path) -> Vec<(&'static str, Option<&'static str>)> {
    fs::create_dir_all(dir).unwrap();
    let cut = |name: &str, to: &str, share: f64| {
        let bytes = fs::read(fixture(name)).unwrap();
        fs::write(
            dir.join(to),
            &bytes[..(bytes.len() as f64 * share) as usize],
        )
        .unwrap();
    };
    cut("tones.mp3", "truncated.mp3", 0.4);
    cut("tones.ogg", "truncated.ogg", 0.4);
    cut("tones.flac", "truncated.flac", 0.4);
    cut("tones.ogg", "stub.ogg", 0.01);
    write_float_wav(&dir.join("whole.wav"), 1, 16_000, &tone(1, 16_000, 6.0));
    let whole = fs::read(dir.join("whole.wav")).unwrap();
    fs::write(dir.join("truncated.wav"), &whole[..whole.len() / 3]).unwrap();
    fs::remove_file(dir.join("whole.wav")).unwrap();
    fs::write(dir.join("empty.wav"), b"").unwrap();
    write_float_wav(&dir.join("header-only.wav"), 2, 44_100, &[]);
    fs::write(
        dir.join("image.mp3"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
    )
    .unwrap();
    let random: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(dir.join("random.flac"), random).unwrap();
    write_float_wav(
        &dir.join("eight-channels.wav"),
        8,
        48_000,
        &tone(8, 48_000, 5.0),
    );
    write_float_wav(&dir.join("192k.wav"), 1, 192_000, &tone(1, 192_000, 5.0));
    write_float_wav(&dir.join("8k.wav"), 1, 8_000, &tone(1, 8_000, 5.0));
    let mut nan = tone(1, 16_000, 5.0);
    nan[1000] = f32::NAN;
    nan[2000] = f32::INFINITY;
    nan[3000] = f32::NEG_INFINITY;
    write_float_wav(&dir.join("nan.wav"), 1, 16_000, &nan);
    write_float_wav(
        &dir.join("silence.wav"),
        2,
        44_100,
        &vec![0.0; 2 * 44_100 * 5],
    );
    write_float_wav(&dir.join("blip.wav"), 1, 44_100, &tone(1, 44_100, 0.1));
    vec![
        ("truncated.mp3", None),
        ("truncated.ogg", None),
        ("truncated.flac", None),
        ("truncated.wav", None),
        ("stub.ogg", Some("not a supported audio file")),
        ("empty.wav", Some("empty file")),
        ("header-only.wav", Some("no audio samples")),
        ("image.mp3", Some("not a supported audio file")),
        ("random.flac", Some("not a supported audio file")),
        ("eight-channels.wav", None),
        ("192k.wav", None),
        ("8k.wav", None),
        ("nan.wav", Some("not finite")),
        ("silence.wav", Some("silent")),
        ("blip.wav", Some("too short")),
    ]
}

#[test]
fn a_corpus_of_bad_files_is_reported_file_by_file_and_the_rest_is_done() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    common::synth("tr", 8, 4.0, &corpus.join("good"));
    let bad = write_bad_files(&corpus.join("bad"));

    // A manifest of the good songs, the bad files, and bad rows.
    let mut rows = String::from("path,quadrant\n");
    for (q, folder) in ["happy", "angry", "sad", "relax"].iter().enumerate() {
        for k in 1..=2 {
            rows.push_str(&format!("good/{folder}/{folder}_{k:03}.wav,Q{}\n", q + 1));
        }
    }
    for (k, (name, _)) in bad.iter().enumerate() {
        rows.push_str(&format!("bad/{name},Q{}\n", 1 + k % 4));
    }
    rows.push_str("good/happy/happy_001.wav,Q1\nbad/else.wav,Q5\n../outside.wav,Q2\n");
    let manifest = corpus.join("manifest.csv");
    fs::write(&manifest, rows).unwrap();
    let (m, c) = (manifest.to_str().unwrap(), cache.to_str().unwrap());

    // inspect: each bad row and each unreadable file named with its reason.
    let report = inspect_json(&manifest, &cache);
    let issues = serde_json::to_string(&report["issues"]).unwrap();
    for row in ["listed twice", "Q5", "outside.wav"] {
        assert!(issues.contains(row), "{row}: {issues}");
    }
    let unreadable = report["unreadable"].as_array().unwrap();
    let failed = |name: &str| {
        unreadable
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .map(|i| i["message"].as_str().unwrap().to_string())
    };
    for (name, reason) in &bad {
        match (reason, failed(name)) {
            (Some(r), Some(msg)) => assert!(msg.contains(r), "{name}: {msg}"),
            (Some(_), None) => panic!("{name} was not reported"),
            (None, _) => {}
        }
    }
    let readable: u64 = common::counts(&report, "readable").iter().sum();
    assert_eq!(readable as usize + unreadable.len(), 8 + bad.len());
    assert!(
        readable >= 8 + 3,
        "the good songs and the unusual but valid files"
    );

    // predict on the folder: every file gets a line, the bad ones an error naming them.
    let table = trainer_ok(&[
        "predict",
        corpus.join("bad").to_str().unwrap(),
        "--cache-dir",
        c,
    ]);
    for (name, reason) in &bad {
        let line = table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {table}"));
        if let Some(r) = reason {
            assert!(line.contains("error:") && line.contains(r), "{line}");
        }
    }

    // features: a row per segment of each readable file (cut as a model cuts them), the count
    // of the others.
    let csv = tmp.path().join("features.csv");
    let out = trainer_ok(&[
        "features",
        corpus.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
        "--set",
        "is13",
        "--segments",
        "--cache-dir",
        c,
    ]);
    let rows = fs::read_to_string(&csv).unwrap().lines().count() - 1;
    assert!(
        out.contains(&format!("{} files could not be read", unreadable.len())),
        "{out}"
    );
    assert_eq!(rows, 4 * readable as usize);

    // train: the MLP fits on what could be read.
    let run = tmp.path().join("run");
    let out = trainer(&[
        "train",
        "--model",
        "mlp",
        "--data",
        m,
        "--run",
        run.to_str().unwrap(),
        "--cache-dir",
        c,
    ])
    .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(out.contains("test set:"), "{out}");
    assert!(run.join("model.mermodel").is_file());
}
