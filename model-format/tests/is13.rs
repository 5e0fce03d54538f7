//! The 260 IS13 features against openSMILE 2.6.0's own (`FeatureSet.IS13`), on a 2.5 s
//! recording of tones at 16 kHz. The reference was computed outside CI (see
//! `scripts/compare-features.py`): openSMILE's LLDs and deltas over the frames both levels
//! share, summarised by population stddev and mean.

use model_format::features::is13;
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/is13")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The samples of a 16-bit mono WAV, scaled as openSMILE scales them (by 1/32767).
fn pcm16(bytes: &[u8]) -> Vec<f32> {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == b"data" {
            return bytes[at + 8..at + 8 + len]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0)
                .collect();
        }
        at += 8 + len + len % 2;
    }
    panic!("no data chunk");
}

#[test]
fn the_260_features_match_opensmile() {
    let x = pcm16(&fixture("tones-16k.wav"));
    let ours = is13::features(&x, 16_000.0).unwrap();
    let text = String::from_utf8(fixture("tones-16k.is13.csv")).unwrap();
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let theirs: Vec<f64> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(names, is13::feature_names());
    let voice = ["F0final", "voicing", "jitter", "shimmer", "logHNR"];
    let mut worst = (0.0, "");
    for ((name, &a), &b) in names.iter().zip(&ours).zip(&theirs) {
        // Pitch and voice quality rest on discrete decisions (peaks, periods) that f32
        // rounding can flip at the edges of the file; the rest is arithmetic.
        let rel = if voice.iter().any(|v| name.starts_with(v)) {
            0.05
        } else {
            0.01
        };
        let err = (a as f64 - b).abs();
        assert!(
            err <= rel * b.abs() + 1e-6,
            "{name}: ours {a}, openSMILE {b}"
        );
        if b.abs() > 1e-3 && err / b.abs() > worst.0 {
            worst = (err / b.abs(), name);
        }
    }
    eprintln!("worst relative error above 1e-3: {worst:?}");
}
