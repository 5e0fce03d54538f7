//! The three corpora's layouts and the manifest: synthesised, read back, and damaged.

mod common;

use common::{counts, fixture, inspect_json, messages, synth, trainer, trainer_ok};
use model_format::Quadrant;
use std::fs;
use std::path::{Path, PathBuf};
use trainer::dataset::split::Split;
use trainer::dataset::{Dataset, Layout};

#[test]
fn synth_then_inspect_round_trips_every_layout() {
    for (layout, songs, want) in [
        ("4q", 12, [3, 3, 3, 3]),
        ("ch818", 20, [7, 4, 5, 4]),
        ("tr", 8, [2, 2, 2, 2]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(layout);
        let said = synth(layout, songs, 4.0, &dir);
        let want_line = format!(
            "Q1 {}, Q2 {}, Q3 {}, Q4 {}",
            want[0], want[1], want[2], want[3]
        );
        assert!(said.contains(&want_line), "{said}");
        let report = inspect_json(&dir, &tmp.path().join("cache"));
        assert_eq!(
            counts(&report, "listed"),
            want.map(|c| c as u64),
            "{layout}"
        );
        assert_eq!(
            counts(&report, "readable"),
            want.map(|c| c as u64),
            "{layout}"
        );
        assert_eq!(
            report["issues"].as_array().unwrap().len(),
            0,
            "{layout}: {report}"
        );
        assert_eq!(report["sample_rates"]["44100"], songs as u64);
        assert_eq!(report["channels"]["2"], songs as u64);
        let q = &report["quadrants"][0];
        assert!((q["mean_seconds"].as_f64().unwrap() - 4.0).abs() < 1e-3);
    }
}

#[test]
fn synth_resumes_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    synth("tr", 8, 3.0, &a);
    let song = a.join("sad").join("sad_001.wav");
    let first = fs::read(&song).unwrap();
    // A killed run leaves some songs missing: running again fills them in, identically.
    fs::remove_file(&song).unwrap();
    synth("tr", 8, 3.0, &a);
    assert_eq!(fs::read(&song).unwrap(), first);
    let b = tmp.path().join("b");
    synth("tr", 8, 3.0, &b);
    assert_eq!(fs::read(b.join("sad").join("sad_001.wav")).unwrap(), first);
}

#[test]
fn fourq_annotations_are_cross_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("4q");
    synth("4q", 12, 3.0, &dir);
    let moved = fs::read_dir(dir.join("Q1"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let moved_name = moved.file_name().unwrap().to_owned();
    fs::rename(&moved, dir.join("Q2").join(&moved_name)).unwrap();
    let gone = fs::read_dir(dir.join("Q3"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::remove_file(&gone).unwrap();
    fs::write(dir.join("Q4").join("readme.txt"), "liner notes").unwrap();
    fs::write(dir.join("Q4").join("MT9999999999.mp3"), b"not audio at all").unwrap();

    let report = inspect_json(&dir, &tmp.path().join("cache"));
    assert_eq!(counts(&report, "listed"), vec![2, 4, 2, 4]);
    assert_eq!(counts(&report, "readable"), vec![2, 4, 2, 3]);
    let moved_msgs = messages(&report, "issues", moved_name.to_str().unwrap());
    assert_eq!(
        moved_msgs,
        vec!["in folder Q2, but panda_dataset_taffc_annotations.csv says Q1; the folder is used"]
    );
    let gone_id = gone.file_stem().unwrap().to_str().unwrap();
    let ann = messages(&report, "issues", "panda_dataset_taffc_annotations.csv");
    assert!(
        ann.iter()
            .any(|m| m.contains(gone_id) && m.contains("no audio file")),
        "{ann:?}"
    );
    assert_eq!(
        messages(&report, "issues", "readme.txt"),
        vec!["not an audio file; skipped"]
    );
    let unreadable = messages(&report, "unreadable", "MT9999999999.mp3");
    assert!(
        unreadable[0].contains("not a supported audio file"),
        "{unreadable:?}"
    );
    // The corrupt file and the stray text file are the two skipped.
    let text = trainer_ok(&["data", "inspect", dir.to_str().unwrap(), "--no-cache"]);
    assert!(
        text.contains("11 songs readable; 2 skipped (1 unreadable, 1 left out by the layout)"),
        "{text}"
    );
}

#[test]
fn cached_songs_survive_a_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tr");
    let cache = tmp.path().join("cache");
    synth("tr", 8, 3.0, &dir);
    inspect_json(&dir, &cache);
    fs::copy(fixture("tones.mp3"), dir.join("happy").join("tones.mp3")).unwrap();
    let broken = dir.join("angry").join("broken.ogg");
    fs::write(&broken, &fs::read(fixture("tones.ogg")).unwrap()[..40]).unwrap();
    let text = trainer_ok(&[
        "data",
        "inspect",
        dir.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ]);
    assert!(text.contains("cache: 8 read back, 1 decoded"), "{text}");
    assert!(text.contains("broken.ogg"), "{text}");
}

#[test]
fn missing_quadrant_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tr");
    synth("tr", 8, 3.0, &dir);
    fs::remove_dir_all(dir.join("sad")).unwrap();
    let err = trainer(&["data", "inspect", dir.to_str().unwrap(), "--no-cache"]).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("TR-MUSIC dataset has no songs in Q3"),
        "{text}"
    );
    assert!(text.contains(dir.to_str().unwrap()), "{text}");
}

#[test]
fn tr_folders_match_without_case() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tr");
    synth("tr", 8, 3.0, &dir);
    fs::rename(dir.join("happy"), dir.join("Happy")).unwrap();
    fs::rename(dir.join("relax"), dir.join("RELAX")).unwrap();
    let ds = Dataset::load(&dir, None).unwrap();
    assert_eq!(ds.layout, Layout::TrMusic);
    assert_eq!(ds.counts(), [2, 2, 2, 2]);
}

#[test]
fn ch818_rows_match_files_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ch");
    synth("ch818", 20, 3.0, &dir);
    let ds = Dataset::load(&dir, None).unwrap();
    assert_eq!(ds.layout, Layout::Ch818);
    assert_eq!(ds.counts(), [7, 4, 5, 4]);
    // The synthesiser numbers clips class by class, so the label follows from the number
    // whatever order the workbook's shuffled rows are in.
    for s in &ds.songs {
        let n: usize = s.id.parse().unwrap();
        let want = match n {
            1..=7 => Quadrant::Q1,
            8..=11 => Quadrant::Q2,
            12..=16 => Quadrant::Q3,
            _ => Quadrant::Q4,
        };
        assert_eq!(s.quadrant, want, "clip {n}");
        let (v, a) = s.valence_arousal.unwrap();
        assert_eq!(Quadrant::from_valence_arousal(v, a), Some(want));
    }
}

#[test]
fn ch818_csv_export_with_ratings_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ch");
    synth("ch818", 8, 3.0, &dir);
    fs::remove_file(dir.join("CH818.xlsx")).unwrap();
    // Two raters' columns, averaged; clip names with extensions and zero padding.
    let mut csv = String::from("File,Valence_1,Valence_2,Arousal_1,Arousal_2\n");
    for (n, v, a) in [
        (1, 5.0, 4.0),
        (3, -2.0, 6.5),
        (5, -3.0, -1.0),
        (7, 4.0, -2.0),
        (8, 1.0, -3.0),
    ] {
        csv += &format!("{n:03}.wav,{v},{},{a},{}\n", v + 1.0, a - 0.5);
    }
    // Rater means disagreeing in sign with each other's columns still average to a side.
    csv += "2,-1,3,2,2\n";
    csv += "99,1,1,1,1\n";
    fs::write(dir.join("CH818.csv"), csv).unwrap();
    let ds = Dataset::load(&dir, None).unwrap();
    let labels: Vec<(String, Quadrant)> = ds
        .songs
        .iter()
        .map(|s| (s.id.clone(), s.quadrant))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("001".into(), Quadrant::Q1),
            ("002".into(), Quadrant::Q1),
            ("003".into(), Quadrant::Q2),
            ("005".into(), Quadrant::Q3),
            ("007".into(), Quadrant::Q4),
            ("008".into(), Quadrant::Q4),
        ]
    );
    let issues: Vec<String> = ds.issues.iter().map(|i| i.to_string()).collect();
    assert!(
        issues.iter().any(|i| i.contains("99: no audio file")),
        "{issues:?}"
    );
    assert_eq!(
        ds.issues.iter().filter(|i| i.skipped).count(),
        2,
        "{issues:?}"
    ); // clips 4 and 6
}

#[test]
fn malformed_annotations_name_the_file_and_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ch");
    synth("ch818", 8, 3.0, &dir);
    fs::write(dir.join("CH818.xlsx"), b"PK\x03\x04 truncated zip").unwrap();
    let err = Dataset::load(&dir, None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&dir.join("CH818.xlsx").display().to_string()),
        "{err}"
    );
    assert!(err.reason.contains("cannot read spreadsheet"), "{err}");

    let q = tmp.path().join("4q");
    synth("4q", 4, 3.0, &q);
    fs::write(
        q.join("panda_dataset_taffc_annotations.csv"),
        "Track,Mood\nMT1,Q1\n",
    )
    .unwrap();
    let err = Dataset::load(&q, None).unwrap_err();
    assert!(err.reason.contains("no `Song` column"), "{err}");
}

#[test]
fn manifests_take_quadrants_or_ratings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tr");
    synth("tr", 8, 3.0, &dir);
    let by_quadrant = tmp.path().join("quadrants.csv");
    fs::write(
        &by_quadrant,
        "path,quadrant\ntr/happy/happy_001.wav,Q1\ntr/angry/angry_001.wav,2\ntr/sad/sad_001.wav,q3\n\
         tr/relax/relax_001.wav,Q4\ntr/relax/relax_002.wav,Q7\ntr/missing.wav,Q1\n",
    )
    .unwrap();
    let ds = Dataset::load(&by_quadrant, None).unwrap();
    assert_eq!(ds.layout, Layout::Manifest);
    assert_eq!(ds.counts(), [1, 1, 1, 1]);
    assert_eq!(ds.issues.len(), 2);
    let by_rating = tmp.path().join("ratings.csv");
    fs::write(
        &by_rating,
        "path,valence,arousal\ntr/happy/happy_001.wav,0.5,0.5\ntr/angry/angry_001.wav,-0.5,0.9\n\
         tr/sad/sad_001.wav,-0.2,-0.3\ntr/relax/relax_001.wav,0.7,-0.1\ntr/relax/relax_002.wav,0,0.4\n",
    )
    .unwrap();
    let ds = Dataset::load(&by_rating, None).unwrap();
    assert_eq!(ds.counts(), [1, 1, 1, 1]);
    assert_eq!(ds.songs[0].valence_arousal, Some((-0.5, 0.9)));
    assert!(
        ds.issues[0].message.contains("on an axis"),
        "{:?}",
        ds.issues
    );
}

#[test]
fn split_command_writes_a_reproducible_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ch");
    synth("ch818", 40, 3.0, &dir);
    let out = tmp.path().join("split.json");
    let args = |seed: &str| {
        vec![
            "data".to_string(),
            "split".into(),
            dir.display().to_string(),
            "--balance".into(),
            "--seed".into(),
            seed.into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let run = |seed: &str| {
        let a = args(seed);
        trainer_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
        fs::read_to_string(&out).unwrap()
    };
    let first = run("42");
    assert_eq!(run("42"), first);
    assert_ne!(run("7"), first);
    let split = Split::load(&out).unwrap();
    // CH-818 synthetic classes are 13/8/10/9: balanced to 8 each, 2 of each to test.
    assert_eq!((split.train.len(), split.test.len()), (24, 8));
    assert!(split.balanced);
    let ds = Dataset::load(&dir, None).unwrap();
    let (train, test) = split.resolve(&ds.songs).unwrap();
    assert!(train.iter().all(|t| test.iter().all(|s| s.id != t.id)));
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `scripts/NAME --self-test`, which must succeed: its standard output.
fn python_self_test(name: &str) -> String {
    let out = std::process::Command::new("python3")
        .arg(root().join("scripts").join(name))
        .arg("--self-test")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `scripts/real-corpus` leaves out every recording of the held-out list, matched by package
/// and path (inside archives too), and keeps the others: its self-test builds package trees
/// from the list itself, then checks the committed label table by the same rule.
#[test]
fn the_real_corpus_leaves_out_every_held_out_recording() {
    let stdout = python_self_test("real-corpus");
    let listed = std::fs::read_to_string(root().join("data/heldout-tracks.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    assert!(
        stdout.contains(&format!(
            "{listed} held-out recordings, their variants and parts excluded"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("none of them among the label table's"),
        "{stdout}"
    );
}

/// `scripts/label-corpus`'s rule decides hand-made cases as documented, and the committed
/// label table is exactly what the rule makes of the sources it records.
#[test]
fn the_committed_labels_follow_the_documented_rule() {
    let stdout = python_self_test("label-corpus");
    assert!(stdout.contains("follow the rule"), "{stdout}");
}
