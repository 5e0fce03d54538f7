//! 4Q-EMOTION: `Q1/`..`Q4/` folders of clips named by AllMusic id (`Q1/MT0000040632.mp3`),
//! and, when present, `panda_dataset_taffc_annotations.csv` (columns `Song`, `Quadrant`).
//!
//! The folders define the labels, as in the paper's code. The annotations are cross-checked:
//! every song whose row disagrees with its folder, every row without a file and every file
//! without a row is reported.

use super::table::{Table, cell};
use super::{DatasetError, Issue, Song, audio_files, find_subdir, stem};
use model_format::Quadrant;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The annotations file of the published dataset.
pub const ANNOTATIONS: &str = "panda_dataset_taffc_annotations.csv";
/// The metadata file of the published dataset (not needed for labels).
pub const METADATA: &str = "panda_dataset_taffc_metadata.csv";

pub(super) fn load(root: &Path) -> Result<(Vec<Song>, Vec<Issue>), DatasetError> {
    let mut issues = Vec::new();
    // id → (quadrant, path); a song found in two folders is ambiguous and dropped.
    let mut found: BTreeMap<String, (Quadrant, PathBuf)> = BTreeMap::new();
    let mut ambiguous: Vec<String> = Vec::new();
    for q in Quadrant::ALL {
        let Some(dir) = find_subdir(root, q.name())? else {
            continue;
        };
        for path in audio_files(&dir, false, &mut issues)? {
            let id = stem(&path);
            if let Some((other, _)) = found.get(&id) {
                issues.push(Issue::skipped(
                    path.clone(),
                    format!("song {id} is in both {other} and {q}; dropped"),
                ));
                ambiguous.push(id);
            } else {
                found.insert(id, (q, path));
            }
        }
    }
    for id in &ambiguous {
        found.remove(id);
    }

    let annotations = root.join(ANNOTATIONS);
    if annotations.is_file() {
        cross_check(&annotations, &found, &mut issues)?;
    }

    let songs = found
        .into_iter()
        .map(|(id, (quadrant, path))| Song {
            id,
            path,
            quadrant,
            valence_arousal: None,
        })
        .collect();
    Ok((songs, issues))
}

fn cross_check(
    path: &Path,
    found: &BTreeMap<String, (Quadrant, PathBuf)>,
    issues: &mut Vec<Issue>,
) -> Result<(), DatasetError> {
    let table = Table::read(path)?;
    let song_col = table.require("Song")?;
    let quad_col = table.require("Quadrant")?;
    let mut annotated: BTreeMap<String, Quadrant> = BTreeMap::new();
    for (line, row) in &table.rows {
        let id = cell(row, song_col).to_string();
        match cell(row, quad_col).parse::<Quadrant>() {
            Ok(q) => {
                annotated.insert(id, q);
            }
            Err(e) => issues.push(Issue::note(path, format!("line {line}: {e}"))),
        }
    }
    for (id, (q, file)) in found {
        match annotated.get(id) {
            Some(a) if a != q => issues.push(Issue::note(
                file.clone(),
                format!("in folder {q}, but {ANNOTATIONS} says {a}; the folder is used"),
            )),
            Some(_) => {}
            None => issues.push(Issue::note(
                file.clone(),
                format!("no row in {ANNOTATIONS}"),
            )),
        }
    }
    for (id, a) in &annotated {
        if !found.contains_key(id) {
            issues.push(Issue::note(
                path,
                format!("song {id} ({a}) has no audio file in the {a} folder"),
            ));
        }
    }
    Ok(())
}
