//! `trainer features` on real files: one CSV row per readable file, the rest reported.

mod common;

use common::{fixture, trainer_ok};

#[test]
fn features_of_files_and_folders_as_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("songs");
    std::fs::create_dir(&dir).unwrap();
    for f in ["tones.flac", "tones.mp3"] {
        std::fs::copy(fixture(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("broken.ogg"), b"OggS not really").unwrap();
    let out = tmp.path().join("features.csv");
    let report = trainer_ok(&[
        "features",
        dir.to_str().unwrap(),
        fixture("tones.m4a").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        report.contains("wrote 3 rows") && report.contains("1 files could not be read"),
        "{report}"
    );
    let mut r = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "path");
    assert!(header.contains(&"lowlevel.spectral_centroid.mean".to_string()));
    let rows: Vec<Vec<f64>> = r
        .records()
        .map(|rec| {
            rec.unwrap()
                .iter()
                .skip(1)
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3);
    // The same tones in three codecs give nearly the same features.
    let col = header
        .iter()
        .position(|h| h == "lowlevel.spectral_centroid.mean")
        .unwrap()
        - 1;
    let c: Vec<f64> = rows.iter().map(|r| r[col]).collect();
    assert!(c.iter().all(|v| (v - c[0]).abs() < 0.02 * c[0]), "{c:?}");
}
