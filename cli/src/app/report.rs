//! Output helpers: plain-text tables, the JSON result line, and file writing with messages that
//! name the file.

use std::fmt::Write as _;
use std::path::Path;

use super::AppError;
use crate::csv::{Dataset, LABEL_COLUMN};

/// A plain-text table: a header row and data rows, columns padded to their widest cell; the
/// first column left-aligned, the others right-aligned (numbers).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Data rows (each as long as `header`).
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles and no rows.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text, one line per row (header, a rule, then the rows), each line ending
    /// with `\n`.
    pub fn render(&self) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in self.rows.iter().chain([&self.header]) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, row: &[String]| {
            let mut text = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = row.get(i).map_or("", String::as_str);
                if i > 0 {
                    text.push_str("  ");
                }
                if i == 0 {
                    let _ = write!(text, "{cell:<w$}");
                } else {
                    let _ = write!(text, "{cell:>w$}");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&mut out, &self.header);
        let rule: usize = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
        out.push_str(&"-".repeat(rule));
        out.push('\n');
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// A fraction as `0.9583`; NaN as `-`.
pub fn fixed4(x: f32) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{x:.4}")
    }
}

/// A JSON number for `x`, or `null` if it is not finite.
pub fn json_number(x: f32) -> serde_json::Value {
    if x.is_finite() {
        // Through the shortest decimal form, so 0.95 prints as 0.95, not 0.949999988079071.
        format!("{x}")
            .parse::<f64>()
            .map_or(serde_json::Value::Null, serde_json::Value::from)
    } else {
        serde_json::Value::Null
    }
}

/// Writes `bytes` to `path`.
///
/// # Errors
/// A message naming the file if it cannot be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    std::fs::write(path, bytes)
        .map_err(|e| AppError::new(format!("{}: cannot write: {e}", path.display())))
}

/// Creates the output directory `dir` (and its parents) if missing.
///
/// # Errors
/// A message naming the directory if it cannot be created or is not a writable directory.
pub fn create_out_dir(dir: &Path) -> Result<(), AppError> {
    let fail = |e: String| {
        AppError::new(format!(
            "{}: cannot use as the output directory: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    // Probe: a read-only directory is found now, before any work is done.
    let probe = dir.join(".tinytune-write-test");
    std::fs::write(&probe, b"").map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// `data` as a labelled CSV text in the format `crate::csv` reads (header, then one line per
/// sample; values in the shortest form that reads back to the same `f32`).
pub fn dataset_csv(data: &Dataset) -> String {
    let mut out = String::new();
    for name in &data.feature_names {
        out.push_str(name);
        out.push(',');
    }
    out.push_str(LABEL_COLUMN);
    out.push('\n');
    for (row, label) in data
        .data
        .chunks_exact(data.features.max(1))
        .zip(&data.labels)
    {
        for v in row {
            let _ = write!(out, "{v},");
        }
        let _ = writeln!(out, "{label}");
    }
    out
}

/// Prints the JSON result line (one line, the last of stdout).
pub fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
