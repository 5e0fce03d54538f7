//! A CSV manifest: a header with `path` and either `quadrant` or `valence` and `arousal` (in
//! [−1, 1]; both may be given, and a row may leave the ratings empty when it has a quadrant).
//! Paths are relative to the manifest's folder, within it (or absolute); the id is the path
//! as written.

use super::table::{Table, cell};
use super::{DatasetError, Issue, Song};
use model_format::Quadrant;
use std::collections::BTreeSet;
use std::path::Path;

pub(super) fn load(file: &Path) -> Result<(Vec<Song>, Vec<Issue>), DatasetError> {
    let table = Table::read(file)?;
    let base = file.parent().unwrap_or(Path::new("."));
    let path_col = table.require("path")?;
    let quad_col = table.column(|h| h == "quadrant");
    let va_cols = match (
        table.column(|h| h == "valence"),
        table.column(|h| h == "arousal"),
    ) {
        (Some(v), Some(a)) => Some((v, a)),
        _ => None,
    };
    if quad_col.is_none() && va_cols.is_none() {
        return Err(DatasetError::new(
            file,
            format!(
                "needs a `quadrant` column or `valence` and `arousal` columns (columns are: {})",
                table.headers.join(", ")
            ),
        ));
    }
    let mut songs = Vec::new();
    let mut issues = Vec::new();
    let mut seen = BTreeSet::new();
    for (line, row) in &table.rows {
        let mut problem =
            |message: String| issues.push(Issue::skipped(file, format!("line {line}: {message}")));
        let rel = cell(row, path_col);
        if rel.is_empty() {
            problem("empty path".into());
            continue;
        }
        if !seen.insert(rel.to_string()) {
            problem(format!("{rel} is listed twice; the first row is used"));
            continue;
        }
        let va = match va_cols {
            Some((v, a)) => match (cell(row, v).parse::<f64>(), cell(row, a).parse::<f64>()) {
                (Ok(v), Ok(a)) if (-1.0..=1.0).contains(&v) && (-1.0..=1.0).contains(&a) => {
                    Some((v, a))
                }
                (Ok(_), Ok(_)) => {
                    problem("valence and arousal must be in [-1, 1]".into());
                    continue;
                }
                _ if quad_col.is_some() => None,
                _ => {
                    problem("valence and arousal must be numbers".into());
                    continue;
                }
            },
            None => None,
        };
        let quadrant = match quad_col.map(|c| cell(row, c)).filter(|c| !c.is_empty()) {
            Some(text) => match text.parse::<Quadrant>() {
                Ok(q) => q,
                Err(e) => {
                    problem(e.to_string());
                    continue;
                }
            },
            None => match va.and_then(|(v, a)| Quadrant::from_valence_arousal(v, a)) {
                Some(q) => q,
                None => {
                    problem("no quadrant, and valence/arousal on an axis or missing".into());
                    continue;
                }
            },
        };
        if Path::new(rel)
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            problem(format!(
                "{rel} climbs out of the manifest's folder (give an absolute path instead)"
            ));
            continue;
        }
        let path = base.join(rel);
        if !path.is_file() {
            problem(format!("{} does not exist", path.display()));
            continue;
        }
        songs.push(Song {
            id: rel.to_string(),
            path,
            quadrant,
            valence_arousal: va,
        });
    }
    Ok((songs, issues))
}
