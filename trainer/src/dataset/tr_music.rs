//! TR-MUSIC: class folders `happy/`, `angry/`, `sad/`, `relax/` (any case) of clips, mapped to
//! Q1, Q2, Q3, Q4.

use super::{DatasetError, Issue, Song, audio_files, find_subdir, stem};
use model_format::Quadrant;
use std::path::Path;

/// Folder names and their quadrants.
pub const FOLDERS: [(&str, Quadrant); 4] = [
    ("happy", Quadrant::Q1),
    ("angry", Quadrant::Q2),
    ("sad", Quadrant::Q3),
    ("relax", Quadrant::Q4),
];

pub(super) fn load(root: &Path) -> Result<(Vec<Song>, Vec<Issue>), DatasetError> {
    let mut issues = Vec::new();
    let mut songs = Vec::new();
    for (name, quadrant) in FOLDERS {
        let Some(dir) = find_subdir(root, name)? else {
            continue;
        };
        for path in audio_files(&dir, false, &mut issues)? {
            // Clip names repeat across the class folders, so the folder is part of the id.
            songs.push(Song {
                id: format!("{name}/{}", stem(&path)),
                path,
                quadrant,
                valence_arousal: None,
            });
        }
    }
    Ok((songs, issues))
}
