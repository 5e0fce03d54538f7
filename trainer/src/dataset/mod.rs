//! Datasets: songs with quadrant labels, read from the layouts the real corpora use.
//!
//! - [`fourq`]: 4Q-EMOTION, `Q1/`..`Q4/` folders plus an optional annotations CSV;
//! - [`ch818`]: CH-818, a folder of clips plus `CH818.xlsx` (or a CSV export);
//! - [`tr_music`]: TR-MUSIC, `happy/`, `angry/`, `sad/`, `relax/` folders;
//! - [`manifest`]: any CSV of `path,quadrant` or `path,valence,arousal`.
//!
//! Loading lists and labels songs; problems that do not stop the whole dataset (a file in no
//! annotation, a disagreement, an unreadable row) are collected as [`Issue`]s and reported.

pub mod ch818;
pub mod fourq;
pub mod manifest;
pub mod split;
mod table;
pub mod tr_music;

use crate::audio::{DecodeCache, Decoded, is_audio_path};
use indicatif::ProgressBar;
use model_format::Quadrant;
use model_format::Segment;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// One labelled recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Song {
    /// Unique within its dataset; the split manifest refers to songs by it.
    pub id: String,
    /// The audio file.
    pub path: PathBuf,
    /// The song's label.
    pub quadrant: Quadrant,
    /// The valence–arousal rating in [−1, 1]², where the dataset has one.
    pub valence_arousal: Option<(f64, f64)>,
}

impl Song {
    /// The rating as the models' regression target `[valence, arousal]`, where there is one.
    pub fn va(&self) -> Option<[f32; 2]> {
        self.valence_arousal.map(|(v, a)| [v as f32, a as f32])
    }
}

/// A problem with one file or row; the rest of the dataset is still usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// The audio or annotation file concerned.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
    /// Whether a song was left out because of it (else the song is used and this is a note).
    pub skipped: bool,
}

impl Issue {
    /// A file or row left out of the dataset.
    pub fn skipped(path: impl Into<PathBuf>, message: impl Into<String>) -> Issue {
        Issue {
            path: path.into(),
            message: message.into(),
            skipped: true,
        }
    }

    /// A problem worth reporting that leaves the song in.
    pub fn note(path: impl Into<PathBuf>, message: impl Into<String>) -> Issue {
        Issue {
            path: path.into(),
            message: message.into(),
            skipped: false,
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The on-disk layouts the trainer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Layout {
    /// 4Q-EMOTION (English).
    #[value(name = "4q")]
    #[serde(rename = "4q")]
    FourQ,
    /// CH-818 (Mandarin).
    #[value(name = "ch818")]
    #[serde(rename = "ch818")]
    Ch818,
    /// TR-MUSIC (Turkish).
    #[value(name = "tr")]
    #[serde(rename = "tr")]
    TrMusic,
    /// A CSV manifest.
    #[value(name = "manifest")]
    #[serde(rename = "manifest")]
    Manifest,
}

impl Layout {
    /// The corpus's name, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::FourQ => "4Q-EMOTION",
            Layout::Ch818 => "CH-818",
            Layout::TrMusic => "TR-MUSIC",
            Layout::Manifest => "manifest",
        }
    }

    /// Recognises a layout from what `root` holds.
    pub fn detect(root: &Path) -> Result<Layout, DatasetError> {
        if root.is_file() {
            return Ok(Layout::Manifest);
        }
        if !root.is_dir() {
            return Err(DatasetError::new(root, "no such folder or file"));
        }
        let names: Vec<String> = subdirs(root)?
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_ascii_lowercase))
            .collect();
        let has = |n: &str| names.iter().any(|d| d == n);
        if ["q1", "q2", "q3", "q4"].iter().any(|n| has(n)) {
            return Ok(Layout::FourQ);
        }
        if tr_music::FOLDERS.iter().any(|(n, _)| has(n)) {
            return Ok(Layout::TrMusic);
        }
        if ch818::find_annotations(root)?.is_some() {
            return Ok(Layout::Ch818);
        }
        Err(DatasetError::new(
            root,
            "not a known layout: expected Q1..Q4 folders (4Q-EMOTION), happy/angry/sad/relax \
             folders (TR-MUSIC), a CH818.xlsx or CSV (CH-818), or a CSV manifest file",
        ))
    }
}

/// A whole dataset that cannot be used, with the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct DatasetError {
    /// The folder or file at fault.
    pub path: PathBuf,
    /// Why it cannot be used.
    pub reason: String,
}

impl DatasetError {
    /// An error about `path`.
    pub fn new(path: &Path, reason: impl ToString) -> Self {
        DatasetError {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// A labelled collection of songs and the problems found while reading it.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The layout it was read in.
    pub layout: Layout,
    /// The folder (or manifest file) it was read from.
    pub root: PathBuf,
    /// Sorted by id.
    pub songs: Vec<Song>,
    /// Problems found while reading it.
    pub issues: Vec<Issue>,
}

impl Dataset {
    /// Reads the dataset at `root` in `layout`, or in the layout [`Layout::detect`] finds.
    ///
    /// Fails when the layout is not recognised, an annotation file is malformed, or a
    /// quadrant has no songs.
    pub fn load(root: &Path, layout: Option<Layout>) -> Result<Dataset, DatasetError> {
        let layout = match layout {
            Some(l) => l,
            None => Layout::detect(root)?,
        };
        let (mut songs, issues) = match layout {
            Layout::FourQ => fourq::load(root)?,
            Layout::Ch818 => ch818::load(root)?,
            Layout::TrMusic => tr_music::load(root)?,
            Layout::Manifest => manifest::load(root)?,
        };
        songs.sort_by(|a, b| a.id.cmp(&b.id));
        let ds = Dataset {
            layout,
            root: root.to_path_buf(),
            songs,
            issues,
        };
        ds.require_all_quadrants()?;
        Ok(ds)
    }

    /// Songs per quadrant, in class order.
    pub fn counts(&self) -> [usize; 4] {
        count(&self.songs)
    }

    fn require_all_quadrants(&self) -> Result<(), DatasetError> {
        let counts = self.counts();
        let missing: Vec<&str> = Quadrant::ALL
            .iter()
            .filter(|q| counts[q.index()] == 0)
            .map(|q| q.name())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DatasetError::new(
                &self.root,
                format!(
                    "{} dataset has no songs in {} (found {} songs in all)",
                    self.layout.name(),
                    missing.join(", "),
                    self.songs.len()
                ),
            ))
        }
    }
}

/// Songs per quadrant, in class order.
pub fn count(songs: &[Song]) -> [usize; 4] {
    let mut c = [0; 4];
    for s in songs {
        c[s.quadrant.index()] += 1;
    }
    c
}

fn io_err(path: &Path, e: std::io::Error) -> DatasetError {
    DatasetError::new(path, format!("cannot read: {e}"))
}

/// Sub-folders of `dir`, sorted, hidden ones left out.
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    v.sort();
    Ok(v)
}

/// The sub-folder of `dir` named `name`, compared without case.
fn find_subdir(dir: &Path, name: &str) -> Result<Option<PathBuf>, DatasetError> {
    Ok(subdirs(dir)?.into_iter().find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }))
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Audio files under `dir` (recursively, sorted, hidden entries skipped); other files are
/// reported as issues, except annotation-like files directly in `dir` when `dir` is the
/// dataset's root (`root_level`).
fn audio_files(
    dir: &Path,
    root_level: bool,
    issues: &mut Vec<Issue>,
) -> Result<Vec<PathBuf>, DatasetError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io_err(&d, e))? {
            let p = entry.map_err(|e| io_err(&d, e))?.path();
            if is_hidden(&p) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if is_audio_path(&p) {
                out.push(p);
            } else if !(root_level && d == dir && is_annotation_like(&p)) {
                issues.push(Issue::skipped(p, "not an audio file; skipped"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Spreadsheets and text files beside the clips are annotations or notes, not strays.
fn is_annotation_like(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["csv", "xlsx", "xls", "ods", "txt", "md", "json", "pdf"]
            .contains(&e.to_ascii_lowercase().as_str())
    })
}

/// A file's stem as a string (lossy).
fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Decodes and segments `songs` in parallel through `cache`, turning each readable one into a
/// `T` with `f`; the others come back as skipped issues with their reason. Order is kept.
pub fn prepare_songs<T: Send>(
    songs: &[Song],
    cache: &DecodeCache,
    progress: &ProgressBar,
    f: impl Fn(&Song, Decoded, Vec<Segment>) -> T + Sync,
) -> (Vec<T>, Vec<Issue>) {
    progress.set_length(songs.len() as u64);
    let results: Vec<Result<T, Issue>> = songs
        .par_iter()
        .map(|song| {
            let r = cache
                .load_segments(&song.path)
                .map(|(d, segments)| f(song, d, segments))
                .map_err(|e| Issue::skipped(song.path.clone(), e.reason));
            progress.inc(1);
            r
        })
        .collect();
    progress.finish_and_clear();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for r in results {
        match r {
            Ok(t) => ok.push(t),
            Err(i) => bad.push(i),
        }
    }
    (ok, bad)
}
