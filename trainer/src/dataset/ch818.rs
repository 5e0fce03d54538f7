//! CH-818: a folder of clips and `CH818.xlsx` (or a CSV export of it).
//!
//! Each row names its clip; rows are matched to files by that name (extension, case and
//! leading zeros of numeric names ignored), never by listing order. The label is the `Quads`
//! column; without one, the signs of the valence and arousal ratings (averaged over every
//! `valence*`/`arousal*` column, i.e. over raters) give the quadrant. The mean ratings, in
//! [−10, 10], are kept divided by 10.

use super::table::{Table, cell};
use super::{DatasetError, Issue, Song, audio_files, stem};
use crate::audio::is_audio_path;
use model_format::Quadrant;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The annotation workbook's name, as the dataset ships it.
pub const ANNOTATIONS: &str = "CH818.xlsx";

/// Headers (lower case) that name the clip column; the first column is used otherwise.
const NAME_HEADERS: &[&str] = &[
    "song",
    "file",
    "filename",
    "file name",
    "name",
    "clip",
    "id",
    "song id",
    "songid",
    "track",
];

/// `CH818.xlsx`, `.xls`, `.ods` or `.csv` in `root` (name compared without case).
pub fn find_annotations(root: &Path) -> Result<Option<PathBuf>, DatasetError> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| DatasetError::new(root, format!("cannot read: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && stem(p).eq_ignore_ascii_case("ch818")
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["xlsx", "xls", "ods", "csv"].contains(&e.to_ascii_lowercase().as_str())
                })
        })
        .collect();
    // Prefer the workbook over a CSV export when both exist.
    found.sort_by_key(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    Ok(found.into_iter().next())
}

/// The matching key of a clip name or file: file name without an audio extension, lower
/// case, leading zeros of a numeric name dropped.
fn key(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let base = match base.rsplit_once('.') {
        Some((s, _)) if is_audio_path(Path::new(base)) => s,
        _ => base,
    };
    let lower = base.to_ascii_lowercase();
    if !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_digit()) {
        let t = lower.trim_start_matches('0');
        return if t.is_empty() { "0".into() } else { t.into() };
    }
    lower
}

fn mean_of(row: &[String], cols: &[usize]) -> Option<f64> {
    let vals: Vec<f64> = cols
        .iter()
        .filter_map(|&c| cell(row, c).parse::<f64>().ok())
        .collect();
    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
}

pub(super) fn load(root: &Path) -> Result<(Vec<Song>, Vec<Issue>), DatasetError> {
    let ann = find_annotations(root)?.ok_or_else(|| {
        DatasetError::new(
            root,
            format!("no {ANNOTATIONS} (or CH818.csv) in the folder"),
        )
    })?;
    let table = Table::read(&ann)?;
    let name_col = table.column(|h| NAME_HEADERS.contains(&h)).unwrap_or(0);
    let quads_col = table.column(|h| ["quads", "quadrant", "quad"].contains(&h));
    let val_cols = table.columns(|h| h.contains("valence") || h == "v");
    let aro_cols = table.columns(|h| h.contains("arousal") || h == "a");
    if quads_col.is_none() && (val_cols.is_empty() || aro_cols.is_empty()) {
        return Err(DatasetError::new(
            &ann,
            format!(
                "needs a `Quads` column or valence and arousal columns (columns are: {})",
                table.headers.join(", ")
            ),
        ));
    }

    let mut issues = Vec::new();
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in audio_files(root, true, &mut issues)? {
        let k = key(&stem(&path));
        if let Some(first) = files.get(&k) {
            let message = format!("same clip name as {}; skipped", first.display());
            issues.push(Issue::skipped(path, message));
        } else {
            files.insert(k, path);
        }
    }

    let mut songs = Vec::new();
    let mut used = BTreeSet::new();
    let ann_name = ann
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for (line, row) in &table.rows {
        let mut problem = |message: String| {
            issues.push(Issue::note(ann.clone(), format!("row {line}: {message}")))
        };
        let name = cell(row, name_col);
        let k = key(name);
        if k.is_empty() {
            problem("no clip name".into());
            continue;
        }
        let va = mean_of(row, &val_cols).zip(mean_of(row, &aro_cols));
        let from_va = va.and_then(|(v, a)| Quadrant::from_valence_arousal(v, a));
        let quads = quads_col.map(|c| cell(row, c)).filter(|t| !t.is_empty());
        let quadrant = match (quads.map(str::parse::<Quadrant>), from_va) {
            (Some(Ok(q)), Some(s)) if q != s => {
                problem(format!(
                    "{name}: Quads says {q} but the ratings' signs say {s}; Quads is used"
                ));
                q
            }
            (Some(Ok(q)), _) => q,
            (Some(Err(e)), _) => {
                problem(format!("{name}: {e}"));
                continue;
            }
            (None, Some(s)) => s,
            (None, None) => {
                problem(format!("{name}: no quadrant and no usable ratings"));
                continue;
            }
        };
        let Some(path) = files.get(&k) else {
            problem(format!("{name}: no audio file of that name"));
            continue;
        };
        if !used.insert(k.clone()) {
            problem(format!("{name}: a second row for the same clip; skipped"));
            continue;
        }
        songs.push(Song {
            id: stem(path),
            path: path.clone(),
            quadrant,
            // The ratings run from −10 to 10.
            valence_arousal: va
                .map(|(v, a)| ((v / 10.0).clamp(-1.0, 1.0), (a / 10.0).clamp(-1.0, 1.0))),
        });
    }
    for (k, path) in &files {
        if !used.contains(k) {
            issues.push(Issue::skipped(
                path.clone(),
                format!("no row in {ann_name}; skipped"),
            ));
        }
    }
    Ok((songs, issues))
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn keys_ignore_extension_case_folders_and_zeros() {
        assert_eq!(key("007.mp3"), "7");
        assert_eq!(key("7"), "7");
        assert_eq!(key("clips/Song_A.MP3"), "song_a");
        assert_eq!(key("song.v2"), "song.v2");
        assert_eq!(key("000"), "0");
    }
}
