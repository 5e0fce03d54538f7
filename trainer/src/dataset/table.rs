//! Annotation tables from CSV or spreadsheet files, as rows of text cells.

use super::DatasetError;
use calamine::{Data, Reader};
use std::path::{Path, PathBuf};

/// A header row and data rows of trimmed text cells.
pub(crate) struct Table {
    pub path: PathBuf,
    pub headers: Vec<String>,
    /// Data rows, each with its 1-based line (CSV) or row (sheet) number.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Reads a CSV file, or the first sheet of an `.xlsx`/`.xls`/`.ods` workbook.
    pub fn read(path: &Path) -> Result<Table, DatasetError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut table = match ext.as_str() {
            "xlsx" | "xlsm" | "xls" | "ods" => read_sheet(path)?,
            _ => read_csv(path)?,
        };
        if table.headers.iter().all(|h| h.is_empty()) {
            return Err(DatasetError::new(path, "no header row"));
        }
        // Rows left blank in a spreadsheet are not data.
        table.rows.retain(|(_, r)| r.iter().any(|c| !c.is_empty()));
        Ok(table)
    }

    /// Index of the first column whose header, lower-cased, satisfies `pred`.
    pub fn column(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| pred(&h.to_ascii_lowercase()))
    }

    /// Indices of every column whose header, lower-cased, satisfies `pred`.
    pub fn columns(&self, pred: impl Fn(&str) -> bool) -> Vec<usize> {
        (0..self.headers.len())
            .filter(|&i| pred(&self.headers[i].to_ascii_lowercase()))
            .collect()
    }

    /// Index of a column that must exist, by exact (case-insensitive) header.
    pub fn require(&self, name: &str) -> Result<usize, DatasetError> {
        self.column(|h| h == name.to_ascii_lowercase())
            .ok_or_else(|| {
                DatasetError::new(
                    &self.path,
                    format!(
                        "no `{name}` column (columns are: {})",
                        self.headers.join(", ")
                    ),
                )
            })
    }
}

/// Cell `i` of `row`, empty when the row is short.
pub(crate) fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map(String::as_str).unwrap_or("")
}

fn read_csv(path: &Path) -> Result<Table, DatasetError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| DatasetError::new(path, format!("cannot read CSV: {e}")))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| DatasetError::new(path, format!("malformed CSV header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DatasetError::new(path, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        rows.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(Table {
        path: path.to_path_buf(),
        headers,
        rows,
    })
}

fn read_sheet(path: &Path) -> Result<Table, DatasetError> {
    // calamine panics on some malformed workbooks (an overflow on a reversed `dimension`,
    // found by fuzzing): a damaged file is an error naming it, not a crash.
    let opened = std::panic::catch_unwind(|| {
        let mut wb = calamine::open_workbook_auto(path)
            .map_err(|e| format!("cannot read spreadsheet: {e}"))?;
        wb.worksheet_range_at(0)
            .ok_or_else(|| "the workbook has no sheet".to_string())?
            .map_err(|e| format!("cannot read first sheet: {e}"))
    });
    let range = match opened {
        Ok(r) => r.map_err(|e| DatasetError::new(path, e))?,
        Err(_) => {
            return Err(DatasetError::new(
                path,
                "cannot read spreadsheet: the workbook is malformed (its reader failed)",
            ));
        }
    };
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = range.rows().enumerate().map(|(i, r)| {
        (
            first_row + i + 1,
            r.iter().map(cell_text).collect::<Vec<String>>(),
        )
    });
    let headers = rows
        .next()
        .map(|(_, h)| h)
        .ok_or_else(|| DatasetError::new(path, "the first sheet is empty"))?;
    Ok(Table {
        path: path.to_path_buf(),
        headers,
        rows: rows.collect(),
    })
}

/// A spreadsheet cell as text; whole numbers lose their `.0` so `12.0` matches `12.mp3`.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Empty => String::new(),
        other => other.to_string().trim().to_string(),
    }
}
