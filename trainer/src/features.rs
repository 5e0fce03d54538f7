//! `trainer features`: handcrafted features of audio files, one CSV row per file, computed on
//! every core. A file that cannot be read is reported and left out; the rest go on.

use crate::audio::{audio_files, decode_file};
use crate::progress;
use anyhow::{Context, Result};
use model_format::FrontEnd;
use model_format::features::essentia;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Named feature values, in name order.
pub type Features = Vec<(String, f32)>;

/// The Essentia-style features of one file: decoded, mixed to mono, resampled to 44.1 kHz and
/// brought to the extractor's loudness.
pub fn essentia_features(path: &Path) -> Result<Features, String> {
    let pcm = decode_file(path).map_err(|e| e.reason)?;
    let at_44k = FrontEnd {
        sample_rate: essentia::RATE as u32,
        ..FrontEnd::default()
    };
    let mono = at_44k
        .to_model_rate(pcm.as_pcm())
        .map_err(|e| e.to_string())?;
    let x = essentia::analysis_signal(&mono).ok_or("silent: no replay gain")?;
    let f = essentia::features(&x);
    // A branch with every frame silent leaves its descriptors out (Essentia fails the file).
    if f.len() != 2 * essentia::DESCRIPTORS {
        return Err("too quiet to describe: every frame of a branch is silent".into());
    }
    Ok(f)
}

/// Writes the features of every audio file under `paths` to `out` (CSV: `path`, then one
/// column per feature). Returns the rows written and the files that failed, with why.
pub fn extract(paths: &[PathBuf], out: &Path) -> Result<(usize, Vec<(PathBuf, String)>)> {
    let mut files = Vec::new();
    for p in paths {
        files.extend(audio_files(p).with_context(|| format!("listing {}", p.display()))?);
    }
    let pb = progress::bar(files.len() as u64, "extracting");
    let results: Vec<(PathBuf, Result<Features, String>)> = files
        .into_par_iter()
        .map(|f| {
            let r = essentia_features(&f);
            pb.inc(1);
            (f, r)
        })
        .collect();
    pb.finish_and_clear();
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
    let mut header: Option<Vec<String>> = None;
    let mut failed = Vec::new();
    let mut rows = 0;
    for (path, r) in results {
        match r {
            Ok(f) => {
                let names: Vec<String> = f.iter().map(|(n, _)| n.clone()).collect();
                match &header {
                    None => {
                        w.write_record(std::iter::once("path".to_string()).chain(names.clone()))?;
                        header = Some(names);
                    }
                    Some(h) if *h != names => {
                        failed.push((path, "a different set of features".into()));
                        continue;
                    }
                    Some(_) => {}
                }
                w.write_record(
                    std::iter::once(path.display().to_string())
                        .chain(f.iter().map(|(_, v)| v.to_string())),
                )?;
                rows += 1;
            }
            Err(e) => failed.push((path, e)),
        }
    }
    w.flush()?;
    Ok((rows, failed))
}
