//! A strict loader for labelled numeric CSV files (std, host only).
//!
//! # Format
//! - The first line is a header of column names; the last one must be `label`, every other
//!   column is a feature (at least one). Names are trimmed, must be non-empty and distinct.
//! - Each following line is one sample: as many comma-separated fields as the header. Feature
//!   fields are decimal numbers (anything [`str::parse::<f32>`] accepts) that must be finite;
//!   the label field is a non-negative decimal integer that fits a `u32` (`3`, not `3.0`).
//! - Fields are trimmed of spaces; `\n` and `\r\n` line endings are accepted; the last line may
//!   or may not end with a newline; a leading UTF-8 byte-order mark is skipped. No quoting, no
//!   comments, no blank lines.
//!
//! Every violation is a [`CsvError`] whose `Display` names the file, the 1-based line and, where
//! one column is at fault, its 1-based number and its name from the header, e.g.
//! `digits.csv, line 7, column 3 (p2): not a number: "x"`.

use std::fmt;
use std::path::Path;

/// Name the header's last column must have.
pub const LABEL_COLUMN: &str = "label";

/// A labelled data set held in memory: `labels.len()` samples of `features` values each.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Values per sample (the header's columns minus `label`).
    pub features: usize,
    /// The samples, row-major: `[samples, features]`.
    pub data: Vec<f32>,
    /// One class label per sample.
    pub labels: Vec<u32>,
    /// The feature columns' names from the header, in order (`label` excluded).
    pub feature_names: Vec<String>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features of sample `i`, or `None` if `i` is out of range.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let start = i.checked_mul(self.features)?;
        self.data.get(start..start.checked_add(self.features)?)
    }

    /// A new data set of the samples at `indices`, in that order (repeats allowed), with the
    /// same feature names; `None` if an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Option<Dataset> {
        let mut data = Vec::with_capacity(indices.len().saturating_mul(self.features));
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            data.extend_from_slice(self.row(i)?);
            labels.push(*self.labels.get(i)?);
        }
        Some(Dataset {
            features: self.features,
            data,
            labels,
            feature_names: self.feature_names.clone(),
        })
    }
}

/// What is wrong, without the position (see [`CsvError`]).
#[derive(Debug)]
pub enum CsvErrorKind {
    /// The file could not be read (or is not UTF-8).
    Io(std::io::Error),
    /// The file has no lines at all.
    Empty,
    /// The first line is all numbers: the header is missing.
    MissingHeader,
    /// The header's last column is not `label` (holds the name found).
    NoLabelColumn(String),
    /// The header has only the `label` column.
    NoFeatures,
    /// A header name is empty.
    EmptyName,
    /// A header name repeats an earlier one.
    DuplicateName,
    /// A data line has the wrong number of fields.
    ColumnCount {
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// A line is empty.
    BlankLine,
    /// A feature value does not parse as a number.
    NotANumber(String),
    /// A feature value is NaN or infinite (or overflows `f32`).
    NotFinite(String),
    /// The label is negative.
    NegativeLabel(String),
    /// The label is not a decimal integer.
    NonIntegerLabel(String),
    /// The label is an integer too large for `u32`.
    LabelTooLarge(String),
}

impl fmt::Display for CsvErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvErrorKind::Io(e) => write!(f, "cannot read: {e}"),
            CsvErrorKind::Empty => f.write_str("empty file: no header"),
            CsvErrorKind::MissingHeader => {
                f.write_str("missing header: the first line holds numbers, not column names")
            }
            CsvErrorKind::NoLabelColumn(name) => {
                write!(
                    f,
                    "the last column must be named `{LABEL_COLUMN}`, found {name:?}"
                )
            }
            CsvErrorKind::NoFeatures => f.write_str("no feature columns before `label`"),
            CsvErrorKind::EmptyName => f.write_str("empty column name"),
            CsvErrorKind::DuplicateName => f.write_str("duplicate column name"),
            CsvErrorKind::ColumnCount { expected, found } => {
                write!(f, "expected {expected} columns, found {found}")
            }
            CsvErrorKind::BlankLine => f.write_str("blank line"),
            CsvErrorKind::NotANumber(v) => write!(f, "not a number: {v:?}"),
            CsvErrorKind::NotFinite(v) => write!(f, "not a finite number: {v:?}"),
            CsvErrorKind::NegativeLabel(v) => write!(f, "negative label: {v:?}"),
            CsvErrorKind::NonIntegerLabel(v) => write!(f, "label is not an integer: {v:?}"),
            CsvErrorKind::LabelTooLarge(v) => write!(f, "label too large for u32: {v:?}"),
        }
    }
}

/// A CSV error with its position: the file, the 1-based line (none for an I/O error) and, when
/// one column is at fault, its 1-based number and header name (none for a blank line; for a
/// wrong field count the first missing or first extra column, named when the header has it).
#[derive(Debug)]
pub struct CsvError {
    /// The file name (as given to [`parse_labeled_csv`] or the path loaded).
    pub file: String,
    /// 1-based line number.
    pub line: Option<usize>,
    /// 1-based column number.
    pub column: Option<usize>,
    /// The column's name from the header, if known.
    pub column_name: Option<String>,
    /// What is wrong.
    pub kind: CsvErrorKind,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(name) = &self.column_name {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CsvErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads and parses the file at `path` (see the [module docs](self) for the format); errors
/// name the file by `path` as displayed.
///
/// # Errors
/// [`CsvErrorKind::Io`] if the file cannot be read as UTF-8 text; otherwise as
/// [`parse_labeled_csv`].
pub fn load_labeled_csv(path: impl AsRef<Path>) -> Result<Dataset, CsvError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_labeled_csv(&name, &text),
        Err(e) => Err(CsvError {
            file: name,
            line: None,
            column: None,
            column_name: None,
            kind: CsvErrorKind::Io(e),
        }),
    }
}

/// Parses `text` as a labelled CSV (see the [module docs](self)); `name` is the file name the
/// errors show.
///
/// # Errors
/// The first problem found, scanning line by line and left to right: see [`CsvErrorKind`].
pub fn parse_labeled_csv(name: &str, text: &str) -> Result<Dataset, CsvError> {
    let err = |line: usize, column: Option<usize>, column_name: Option<&str>, kind| CsvError {
        file: name.to_owned(),
        line: Some(line),
        column,
        column_name: column_name.map(str::to_owned),
        kind,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, header) = lines
        .next()
        .ok_or_else(|| err(1, None, None, CsvErrorKind::Empty))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.iter().all(|n| n.parse::<f64>().is_ok()) {
        return Err(err(1, None, None, CsvErrorKind::MissingHeader));
    }
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(err(1, Some(i + 1), None, CsvErrorKind::EmptyName));
        }
        if names[..i].contains(n) {
            return Err(err(1, Some(i + 1), Some(n), CsvErrorKind::DuplicateName));
        }
    }
    let columns = names.len();
    let features = columns - 1; // `split` yields at least one field.
    let last = names.last().copied().unwrap_or_default();
    if last != LABEL_COLUMN {
        let kind = CsvErrorKind::NoLabelColumn(last.to_owned());
        return Err(err(1, Some(columns), Some(last), kind));
    }
    if features == 0 {
        return Err(err(
            1,
            Some(1),
            Some(LABEL_COLUMN),
            CsvErrorKind::NoFeatures,
        ));
    }

    let mut data = Vec::new();
    let mut labels = Vec::new();
    for (line, row) in lines {
        if row.trim().is_empty() {
            return Err(err(line, None, None, CsvErrorKind::BlankLine));
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        if fields.len() != columns {
            // Point at the first missing column (short line) or the first extra one (long line).
            let column = fields.len().min(columns) + 1;
            let kind = CsvErrorKind::ColumnCount {
                expected: columns,
                found: fields.len(),
            };
            let column_name = names.get(column - 1).copied();
            return Err(err(line, Some(column), column_name, kind));
        }
        for (column, (field, col_name)) in fields.iter().zip(&names).enumerate() {
            let at = |kind| err(line, Some(column + 1), Some(col_name), kind);
            if column == features {
                labels.push(parse_label(field).map_err(at)?);
            } else {
                data.push(parse_value(field).map_err(at)?);
            }
        }
    }
    Ok(Dataset {
        features,
        data,
        labels,
        feature_names: names[..features].iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// A feature value: any number `f32` parses, finite.
fn parse_value(field: &str) -> Result<f32, CsvErrorKind> {
    match field.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(CsvErrorKind::NotFinite(field.to_owned())),
        Err(_) => Err(CsvErrorKind::NotANumber(field.to_owned())),
    }
}

/// A label: ASCII digits (optionally a leading `+`) fitting `u32`.
fn parse_label(field: &str) -> Result<u32, CsvErrorKind> {
    let digits = field.strip_prefix('+').unwrap_or(field);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits
            .parse::<u32>()
            .map_err(|_| CsvErrorKind::LabelTooLarge(field.to_owned()));
    }
    // Classify the failure: a negative number, or anything else that is not an integer.
    match field.parse::<f64>() {
        Ok(_) if field.starts_with('-') => Err(CsvErrorKind::NegativeLabel(field.to_owned())),
        _ => Err(CsvErrorKind::NonIntegerLabel(field.to_owned())),
    }
}
