//! The one error type of the input layer: every reader, the pipeline and the
//! audits report a failure as an [`InputError`] with its place (file, row,
//! column) and a kind that names the rule that was broken.
//!
//! None of these ever holds a field's value: parser messages that could quote
//! input (serde_json, csv) are reduced to their category and position, and
//! column names are only shown where they came from a policy or a validated
//! header.

use std::borrow::ToOwned;
use std::fmt;
use std::io;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::error::Error;
use crate::policy::PolicyError;
use crate::transform::TransformKind;

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// Reading or writing failed.
    Io(io::Error),
    /// A CSV row has a different number of fields than the header.
    Ragged {
        /// Fields in the header (or the first row).
        expected: u64,
        /// Fields in this row.
        found: u64,
    },
    /// A field or line is not valid UTF-8 where text is required.
    Utf8,
    /// A JSON Lines line is not a JSON object (the category, never the text).
    Json(String),
    /// A quoted CSV field is still open at the end of the input.
    UnterminatedQuote,
    /// A quoted CSV field is followed by text before the next delimiter
    /// (`"ok,"text`): read leniently, that text would join the field before
    /// it, so the record is refused.
    MalformedQuote,
    /// A record is longer than the reader's limit (a quoted field spanning
    /// most of the file, usually a stray quote).
    RecordTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// Two columns of the input have the same name. Positions are 1-based;
    /// the name is not shown, since a header may hold data.
    DuplicateColumn {
        /// The first column with the name.
        first: usize,
        /// The later column with the same name.
        second: usize,
    },
    /// The CSV header's cells at these 1-based positions look like data
    /// (phones, emails, numbers): the file most likely has no header row, and
    /// its first record must not be shown as column names.
    HeaderLooksLikeData {
        /// Positions of the suspect cells.
        columns: Vec<usize>,
    },
    /// A JSON value has a shape the policy path cannot take: an object where
    /// a value is expected, a scalar where the path goes deeper, or a path
    /// that matches two keys (`"a.b"` and `a` → `b`) in one record.
    Shape(&'static str),
    /// A requested column is not in the input.
    MissingColumn {
        /// The columns the input has (only names that look like names).
        available: Vec<String>,
    },
    /// The format could not be told from the file name.
    UnknownFormat,
    /// The input has no header row (it is empty).
    Empty,
    /// The policy does not fit the input.
    Policy(PolicyError),
    /// A value could not be transformed (the rule, never the value).
    Value(TransformKind, Error),
    /// A Parquet file or Arrow batch is unreadable or has a shape deid
    /// cannot take (corrupt pages, a schema other than the bound one, a
    /// column type without a text form). Never holds a value.
    Arrow(String),
    /// A bug in deid stopped a worker (a panic, caught so that the run
    /// stops with no output rather than waiting for it). Never holds a
    /// value.
    Internal(&'static str),
}

/// An input error with its location: file, row, column. Never holds a value.
#[derive(Debug)]
pub struct InputError {
    file: String,
    row: Option<u64>,
    column: Option<String>,
    kind: InputErrorKind,
}

impl InputError {
    /// An error at `file` (its name), optional 1-based data row and column.
    pub fn new(file: &str, row: Option<u64>, column: Option<&str>, kind: InputErrorKind) -> Self {
        InputError {
            file: file.to_owned(),
            row,
            column: column.map(ToOwned::to_owned),
            kind,
        }
    }

    /// The file (or `<stdin>`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based data row (the header is row 0), if known.
    pub fn row(&self) -> Option<u64> {
        self.row
    }

    /// The column or dotted path, if known.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &InputErrorKind {
        &self.kind
    }

    /// Whether the error is the caller's to fix by asking differently (a
    /// header row of data: pass `--no-header`), not the input's.
    pub fn is_usage(&self) -> bool {
        matches!(self.kind, InputErrorKind::HeaderLooksLikeData { .. })
    }

    /// Whether a value could not be transformed (the only kind that
    /// `on_error = "drop-record"` may skip).
    pub fn is_value_error(&self) -> bool {
        matches!(self.kind, InputErrorKind::Value(..))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(row) = self.row {
            write!(f, ": row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column '{col}'")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            // The I/O error itself is the source (shown as its cause).
            InputErrorKind::Io(_) => f.write_str("read or write failed"),
            InputErrorKind::Ragged { expected, found } => {
                write!(f, "row has {found} fields, the header has {expected}")
            }
            InputErrorKind::Utf8 => f.write_str("not valid UTF-8"),
            InputErrorKind::Json(what) => write!(f, "not a JSON object: {what}"),
            InputErrorKind::UnterminatedQuote => f.write_str(
                "a quoted field opened in this row is never closed before the end of the input",
            ),
            InputErrorKind::MalformedQuote => f.write_str(
                "a quoted field is followed by text before the next delimiter (a quote that closes too early?)",
            ),
            InputErrorKind::RecordTooLong { limit } => write!(
                f,
                "record longer than {} MiB (a quoted field that is never closed?)",
                limit >> 20
            ),
            InputErrorKind::DuplicateColumn { first, second } => write!(
                f,
                "columns {first} and {second} have the same name; rename one (duplicate names are refused)"
            ),
            InputErrorKind::HeaderLooksLikeData { columns } => {
                let list: Vec<String> = columns.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "the first row looks like data, not column names (column{} {}); if the file has no header row, pass --no-header and name columns by number (1, 2, ...)",
                    if columns.len() == 1 { "" } else { "s" },
                    list.join(", ")
                )
            }
            InputErrorKind::Shape(what) => f.write_str(what),
            InputErrorKind::MissingColumn { available } => {
                if available.is_empty() {
                    f.write_str("no such column")
                } else {
                    write!(
                        f,
                        "no such column (the input has: {})",
                        available.join(", ")
                    )
                }
            }
            InputErrorKind::UnknownFormat => f.write_str(
                "cannot tell the format from the file name; pass --format csv or --format jsonl",
            ),
            InputErrorKind::Empty => f.write_str("the input is empty (no header row)"),
            InputErrorKind::Policy(e) => write!(f, "{e}"),
            InputErrorKind::Value(t, e) => write!(f, "{t} failed: {e}"),
            InputErrorKind::Arrow(what) => write!(f, "Parquet/Arrow: {what}"),
            InputErrorKind::Internal(what) => {
                write!(f, "internal error: {what} (a bug in deid; please report it)")
            }
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            InputErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Refuses an input whose columns are not unique (CSV header names, JSON
/// leaf paths): a second `phone` column would otherwise pass a policy that
/// names `phone` once.
///
/// # Errors
/// [`InputErrorKind::DuplicateColumn`] with the 1-based positions.
pub fn check_unique_columns(columns: &[String]) -> Result<(), InputErrorKind> {
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        if let Some(&first) = seen.get(c.as_str()) {
            return Err(InputErrorKind::DuplicateColumn {
                first: first + 1,
                second: i + 1,
            });
        }
        seen.insert(c, i);
    }
    Ok(())
}
