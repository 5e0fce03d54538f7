//! `trainer predict`: each audio file's quadrant, probabilities, valence and arousal and
//! segment timeline, as a table or JSON.

use crate::audio::DecodeCache;
use crate::features::song_features;
use crate::models::ModelSource;
use crate::progress;
use anyhow::Result;
use burn::prelude::*;
use model_format::analysis::{PointSource, SongPrediction};
use model_format::inference::Input;
use std::path::{Path, PathBuf};

/// One file's prediction, or why there is none.
pub struct FilePrediction {
    /// The audio file.
    pub path: PathBuf,
    /// The song's prediction, or why the file could not be read or run.
    pub result: Result<SongPrediction, String>,
}

/// `trainer predict`: a file, or every audio file under a folder. A file that cannot be read
/// is reported in its place and the others go on.
pub fn predict_command(
    path: &Path,
    model: &ModelSource,
    device: &Device,
    cache: &DecodeCache,
) -> Result<Vec<FilePrediction>> {
    let model = model.load(device)?;
    let files = crate::audio::audio_files(path)?;
    let pb = progress::bar(files.len() as u64, "predicting");
    let predict_one = |f: &Path| -> Result<SongPrediction, String> {
        match model.features() {
            None => {
                let (_, segments) = cache
                    .with_front_end(model.front_end())
                    .load_segments(f)
                    .map_err(|e| e.reason)?;
                model.predict(Input::Segments(&segments))
            }
            Some(set) => {
                let features = song_features(f, set, cache).map_err(|e| e.reason)?;
                model.predict(Input::Features {
                    rows: &features.rows,
                    spans: &features.spans,
                })
            }
        }
        .map_err(|e| e.to_string())
    };
    let out = files
        .into_iter()
        .map(|f| {
            let result = predict_one(&f);
            pb.inc(1);
            FilePrediction { path: f, result }
        })
        .collect();
    pb.finish_and_clear();
    Ok(out)
}

/// Predictions as JSON (`[{path, prediction | error}]`) or as a table with each song's
/// timeline and a summary.
pub fn render_predictions(preds: &[FilePrediction], json: bool) -> Result<String> {
    use std::fmt::Write as _;
    if json {
        let v: Vec<serde_json::Value> = preds
            .iter()
            .map(|p| match &p.result {
                Ok(r) => serde_json::json!({ "path": p.path, "prediction": r }),
                Err(e) => serde_json::json!({ "path": p.path, "error": e }),
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut s = String::new();
    let mut counts = [0usize; 4];
    let mut failed = 0;
    for p in preds {
        match &p.result {
            Ok(r) => {
                counts[r.quadrant.index()] += 1;
                let pr = r.probabilities;
                let _ = writeln!(
                    s,
                    "{}: {} ({})  P = Q1 {:.3}, Q2 {:.3}, Q3 {:.3}, Q4 {:.3}  valence {:+.2} arousal {:+.2}{}",
                    p.path.display(),
                    r.quadrant,
                    r.quadrant.emotions(),
                    pr[0],
                    pr[1],
                    pr[2],
                    pr[3],
                    r.valence,
                    r.arousal,
                    match r.point {
                        PointSource::Regression => " (regressed)",
                        PointSource::Probabilities => " (from P)",
                    }
                );
                for seg in &r.segments {
                    let windows = match seg.windows {
                        1 => String::new(),
                        n => format!(", {n} windows"),
                    };
                    let _ = writeln!(
                        s,
                        "    {:>6.1}–{:<6.1} s  {}  (p {:.3}{windows})  valence {:+.2} arousal {:+.2}",
                        seg.start_seconds,
                        seg.end_seconds,
                        seg.quadrant,
                        seg.probabilities[seg.quadrant.index()],
                        seg.valence,
                        seg.arousal,
                    );
                }
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(s, "{}: error: {e}", p.path.display());
            }
        }
    }
    if preds.len() > 1 {
        let _ = writeln!(
            s,
            "\n{} files: Q1 {}, Q2 {}, Q3 {}, Q4 {}; {failed} could not be read",
            preds.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
    }
    Ok(s)
}
