//! `trainer reproduce` end to end on tiny synthetic stand-ins: every set-up's cells, the
//! report with each published number beside ours, a SIGKILL and a resume, and a failing cell
//! reported while the rest go on.

mod common;

use common::trainer_ok;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `trainer` executable cargo built beside this test.
fn trainer_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("trainer");
    assert!(bin.is_file(), "no trainer executable at {}", bin.display());
    bin
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_grid_runs_end_to_end_resumes_after_a_kill_and_reports_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cache = tmp.path().join("cache");
    let args = [
        "reproduce",
        "--out",
        out.to_str().unwrap(),
        "--synthetic",
        "--synthetic-songs",
        "12",
        "--synthetic-seconds",
        "4",
        "--profile",
        "tiny",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];

    // Killed in the middle of a SincNet cell's training, once it has finished an epoch: the
    // MLP cells are done by then.
    let mut child = Command::new(trainer_bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state = out.join("runs/within/sincnet200-4q/checkpoint/state.json");
    let epochs_done = || -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).ok()?).ok()?;
        v["epochs_done"].as_u64()
    };
    let t0 = Instant::now();
    while epochs_done().unwrap_or(0) < 1 {
        assert!(t0.elapsed() < Duration::from_secs(300), "no epoch ended");
        assert!(child.try_wait().unwrap().is_none(), "trainer ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("results.json").exists(), "killed before the end");

    let printed = trainer_ok(&args);
    assert!(
        printed.contains("within/mlp-essentia-4q: already done"),
        "{printed}"
    );
    assert!(
        printed.contains("within/sincnet200-4q: resumed after epoch"),
        "{printed}"
    );
    assert!(printed.contains("mixed/mlp-is13: trained"), "{printed}");
    assert!(printed.contains("29 of 29 cells done"), "{printed}");

    let results = json(&out.join("results.json"));
    let cells = results["cells"].as_array().unwrap();
    let cell = |id: &str| cells.iter().find(|c| c["id"] == id).unwrap();
    for setup in ["within", "transfer", "mixed"] {
        assert!(cells.iter().any(|c| c["setup"] == setup), "{setup}");
    }
    for c in cells {
        assert_eq!(c["status"], "done", "{}", c["id"]);
        assert!(!c["evals"].as_object().unwrap().is_empty(), "{}", c["id"]);
    }
    let evals = |id: &str| cell(id)["evals"].as_object().unwrap().len();
    assert_eq!(evals("within/mlp-is13-ch"), 3, "cross-dataset");
    assert_eq!(evals("within/sincnet200-tr"), 3, "cross-dataset");
    assert_eq!(evals("within/mlp-essentia-ch"), 1);
    assert_eq!(evals("transfer/sincnet200-ch-tr-4q"), 3);
    assert_eq!(evals("mixed/sincnet200"), 3);
    // A transfer stage started from its previous stage's run.
    let config = json(&out.join("runs/transfer/sincnet200-ch-tr-4q/config.json"));
    let from = config["init_from"]["source"].as_str().unwrap();
    assert!(from.ends_with("runs/transfer/sincnet200-ch-tr"), "{from}");
    assert!(
        !cell("within/sincnet200-4q")["history"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A mixed MLP balanced each dataset's classes alike.
    let fit = json(&out.join("runs/mixed/mlp-is13/fit.json"));
    assert_eq!(fit["balanced_segments"].as_u64().unwrap() % 12, 0);

    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for published in [
        "58/56/55/56",
        "23/30/23/30",
        "80/77/77/77",
        "11/27/16/27",
        "3/18/6/18",
        "57/56/51/56",
        "28/26/17/26",
        "73/73/73/73",
        "60/57/56/57",
        "61/51/50/51",
    ] {
        assert!(md.contains(&format!("| {published} |")), "{published}");
    }
    // The cross-dataset table holds ours beside the paper's: MLP IS13 trained and tested on 4Q.
    let acc = cell("within/mlp-is13-4q")["evals"]["4q"]["segment_scores"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(
        md.contains(&format!("| 4Q | {:.0} (paper 63) |", 100.0 * acc)),
        "{md}"
    );
    assert!(md.contains("SYNTHETIC STAND-IN"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("<svg").count() > 60, "heatmaps and curves");
    for fetch in ["src=", "href", "url(", "<script", "@import"] {
        assert!(!html.contains(fetch), "the page requests nothing: {fetch}");
    }

    // A damaged cell fails, the stages that start from it are skipped, the rest is kept.
    std::fs::write(
        out.join("runs/within/sincnet200-ch/config.json"),
        b"{ damaged",
    )
    .unwrap();
    for stale in [
        "runs/transfer/sincnet200-ch-tr",
        "runs/transfer/sincnet200-ch-tr-4q",
    ] {
        std::fs::remove_dir_all(out.join(stale)).unwrap();
    }
    let printed = trainer_ok(&args);
    assert!(
        printed.contains("within/sincnet200-ch: failed:"),
        "{printed}"
    );
    assert!(printed.contains("config.json"), "{printed}");
    assert!(
        printed.contains(
            "transfer/sincnet200-ch-tr-4q: skipped: it starts from transfer/sincnet200-ch-tr, \
             which was not trained"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("within/mlp-is13-4q: already done"),
        "{printed}"
    );
    assert!(
        printed.contains("transfer/sincnet200-ch-4q: skipped"),
        "{printed}"
    );
    assert!(printed.contains("24 of 29 cells done"), "{printed}");

    // --only runs a part of the grid; the report still holds the rest.
    let mut only = args.to_vec();
    only.extend(["--only", "mixed/mlp"]);
    let printed = trainer_ok(&only);
    assert!(
        printed.contains("[1/1] mixed/mlp-is13: already done"),
        "{printed}"
    );
    assert!(printed.contains("24 of 29 cells done"), "{printed}");
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("within/sincnet200-ch: failed"),
        "the report says so"
    );
}
