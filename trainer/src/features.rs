//! Handcrafted features of songs, segment by segment, on every core: what the MLP baselines
//! learn from. Each song's values are cached on disk (keyed by the file's bytes and the
//! feature set), so an interrupted extraction resumes where it stopped.

use crate::audio::cache::PIPELINE_VERSION;
use crate::audio::{AudioError, DecodeCache, audio_files, decode_bytes, decode_file, read_file};
use crate::dataset::{Issue, Song};
use crate::progress;
use crate::run::write_atomically;
use anyhow::{Context, Result};
use indicatif::ProgressBar;
use model_format::FrontEnd;
use model_format::features::FeatureSet;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Bumped whenever an extractor changes what it computes.
const FEATURES_VERSION: u32 = 2;

/// The features of a song's segments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SongFeatures {
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// One row per segment, in [`SongFeatures::names`] order.
    pub rows: Vec<Vec<f32>>,
    /// Each segment's `(start, end)` in seconds.
    pub spans: Vec<(f64, f64)>,
}

impl SongFeatures {
    /// Whether these are a whole, finite set of `set`'s values (a cache entry may not be).
    fn complete(&self, set: FeatureSet) -> bool {
        self.names.len() == set.values()
            && !self.rows.is_empty()
            && self.rows.len() == self.spans.len()
            && self
                .rows
                .iter()
                .all(|r| r.len() == set.values() && r.iter().all(|v| v.is_finite()))
    }
}

/// The features a cache entry's bytes hold, or `None` when they are not a whole, finite set
/// of `set`'s values.
pub fn parse_entry(bytes: &[u8], set: FeatureSet) -> Option<SongFeatures> {
    serde_json::from_slice::<SongFeatures>(bytes)
        .ok()
        .filter(|f| f.complete(set))
}

/// Where a song's entry lives in the `features` folder of the decode cache: named by the
/// file's bytes, the set, and every version and setting that changes the values.
fn entry_path(cache: &DecodeCache, set: FeatureSet, bytes: &[u8]) -> Option<PathBuf> {
    let mut h = blake3::Hasher::new();
    h.update(&FEATURES_VERSION.to_le_bytes());
    h.update(&PIPELINE_VERSION.to_le_bytes());
    h.update(set.name().as_bytes());
    h.update(&serde_json::to_vec(&set.front_ends()).expect("front-ends serialise"));
    h.update(bytes);
    let key = h.finalize().to_hex();
    Some(cache.dir()?.join("features").join(format!("{key}.json")))
}

/// Computes a song's features: the file decoded once, then cut into segments by each
/// front-end the set needs. (The segments themselves are not cached: the values are.)
fn compute(path: &Path, bytes: Vec<u8>, set: FeatureSet) -> Result<SongFeatures, AudioError> {
    let pcm = decode_bytes(path, bytes)?;
    let song = set
        .segment(pcm.as_pcm(), None)
        .map_err(|e| AudioError::front_end(path, e))?;
    let mut out = SongFeatures {
        names: Vec::new(),
        rows: Vec::with_capacity(song.len()),
        spans: song.spans(),
    };
    for i in 0..song.len() {
        let named = set
            .extract_segment(&song, i)
            .map_err(|e| AudioError::new(path, format!("segment {}: {e}", i + 1)))?;
        if out.names.is_empty() {
            out.names = named.iter().map(|(n, _)| n.clone()).collect();
        }
        out.rows.push(named.into_iter().map(|(_, v)| v).collect());
    }
    Ok(out)
}

/// A song's features: from the cache when a complete entry exists, else computed and stored.
pub fn song_features(
    path: &Path,
    set: FeatureSet,
    cache: &DecodeCache,
) -> Result<SongFeatures, AudioError> {
    let bytes = read_file(path)?;
    let entry = entry_path(cache, set, &bytes);
    if let Some(e) = &entry
        && let Ok(stored) = std::fs::read(e)
        && let Some(f) = parse_entry(&stored, set)
    {
        return Ok(f);
    }
    let f = compute(path, bytes, set)?;
    if let Some(e) = &entry {
        // A cache that cannot be written only costs time.
        let _ = write_atomically(e, &serde_json::to_vec(&f).expect("features serialise"));
    }
    Ok(f)
}

/// The features of `songs`, in parallel; unreadable songs come back as skipped issues.
pub fn songs_features(
    songs: &[Song],
    set: FeatureSet,
    cache: &DecodeCache,
    progress: &ProgressBar,
) -> (Vec<(Song, SongFeatures)>, Vec<Issue>) {
    progress.set_length(songs.len() as u64);
    let results: Vec<_> = songs
        .par_iter()
        .map(|s| {
            let r = song_features(&s.path, set, cache)
                .map(|f| (s.clone(), f))
                .map_err(|e| Issue::skipped(s.path.clone(), e.reason));
            progress.inc(1);
            r
        })
        .collect();
    progress.finish_and_clear();
    let (ok, bad): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    (
        ok.into_iter().map(Result::unwrap).collect(),
        bad.into_iter().map(|r| r.unwrap_err()).collect(),
    )
}

/// The features of a whole file, unsegmented and not normalised: what the reference
/// extractors compute on the same file.
pub fn file_features(path: &Path, set: FeatureSet) -> Result<Vec<(String, f32)>, String> {
    let pcm = decode_file(path).map_err(|e| e.reason)?;
    let (fe16, fe44) = set.front_ends();
    let mono = |fe: FrontEnd| fe.to_model_rate(pcm.as_pcm()).map_err(|e| e.to_string());
    let m16 = fe16.map(mono).transpose()?;
    let m44 = fe44.map(mono).transpose()?;
    set.extract(m16.as_deref(), m44.as_deref())
}

/// Writes the features of every audio file under `paths` to `out` as CSV: `path`, then one
/// column per feature; with `segments`, one row per segment (and a `segment` column), else
/// one per whole file. Returns the rows written and the files that failed, with why.
pub fn extract(
    paths: &[PathBuf],
    set: FeatureSet,
    segments: bool,
    cache: &DecodeCache,
    out: &Path,
) -> Result<(usize, Vec<(PathBuf, String)>)> {
    let mut files = Vec::new();
    for p in paths {
        files.extend(audio_files(p).with_context(|| format!("listing {}", p.display()))?);
    }
    let pb = progress::bar(files.len() as u64, "extracting");
    /// Feature names, then each row with its segment number (per-segment mode).
    type Table = (Vec<String>, Vec<(Option<usize>, Vec<f32>)>);
    let results: Vec<(PathBuf, Result<Table, String>)> = files
        .into_par_iter()
        .map(|f| {
            let r = if segments {
                song_features(&f, set, cache)
                    .map(|s| {
                        (
                            s.names,
                            s.rows
                                .into_iter()
                                .enumerate()
                                .map(|(i, r)| (Some(i + 1), r))
                                .collect(),
                        )
                    })
                    .map_err(|e| e.reason)
            } else {
                file_features(&f, set).map(|named| {
                    let (names, values) = named.into_iter().unzip();
                    (names, vec![(None, values)])
                })
            };
            pb.inc(1);
            (f, r)
        })
        .collect();
    pb.finish_and_clear();
    let mut failed = Vec::new();
    let mut rows = 0;
    let write = || -> Result<()> {
        let mut w = csv::Writer::from_path(out)?;
        let mut header_written = false;
        for (path, r) in results {
            match r {
                Ok((names, values)) => {
                    if !header_written {
                        let lead = if segments {
                            vec!["path", "segment"]
                        } else {
                            vec!["path"]
                        };
                        w.write_record(lead.into_iter().map(String::from).chain(names))?;
                        header_written = true;
                    }
                    for (segment, v) in values {
                        w.write_record(
                            std::iter::once(path.display().to_string())
                                .chain(segment.map(|s| s.to_string()))
                                .chain(v.iter().map(|x| x.to_string())),
                        )?;
                        rows += 1;
                    }
                }
                Err(e) => failed.push((path, e)),
            }
        }
        Ok(w.flush()?)
    };
    write().with_context(|| format!("writing {}", out.display()))?;
    Ok((rows, failed))
}
