//! Read-only tabular access to CSV and JSON Lines, for `scan` and the audits.
//!
//! A [`TableReader`] streams rows one at a time into a reused [`Row`], so
//! memory stays bounded whatever the input size. CSV columns are the header
//! names (or `1`, `2`, … without a header); JSON Lines columns are dotted
//! paths to the scalar fields of the first record (`customer.address.zip`).
//!
//! Errors name the file, the row and the column, never a value: serde_json
//! and csv messages that could quote input are reduced to their category.
//!
//! # Example
//! ```
//! use deid::io::table::{Row, TableOptions, TableReader};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("people.csv");
//! std::fs::write(&path, "name,zip\nAda,04524\nLin,48058\n").unwrap();
//! let mut table = TableReader::open(Some(&path), &TableOptions::new()).unwrap();
//! let zip = table.column_index("zip").unwrap();
//! let mut row = Row::new();
//! let mut zips = Vec::new();
//! while table.read_row(&mut row).unwrap() {
//!     zips.push(row.get(zip).unwrap().to_vec());
//! }
//! assert_eq!(zips, [b"04524".to_vec(), b"48058".to_vec()]);
//! ```

use std::borrow::ToOwned;
use std::boxed::Box;
use std::fmt;
use std::format;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;
use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::Value;

/// The file formats deid reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// RFC 4180 CSV (any single-byte delimiter).
    Csv,
    /// JSON Lines: one JSON object per line.
    Jsonl,
}

impl Format {
    /// Guesses the format from a file extension: `.csv`, `.tsv`, `.txt` are
    /// CSV; `.jsonl`, `.ndjson`, `.json` are JSON Lines.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            other => Err(format!("unknown format '{other}' (expected csv or jsonl)")),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to read a table. Built like csv's `ReaderBuilder`.
///
/// # Example
/// ```
/// use deid::io::table::{Format, TableOptions};
/// let opts = TableOptions::new().format(Format::Csv).delimiter(b';').has_header(false);
/// assert_eq!(opts.get_delimiter(), b';');
/// ```
#[derive(Clone, Debug)]
pub struct TableOptions {
    format: Option<Format>,
    delimiter: u8,
    has_header: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            format: None,
            delimiter: b',',
            has_header: true,
        }
    }
}

impl TableOptions {
    /// CSV with a header and `,` unless the extension says otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces the format instead of guessing it from the extension.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Sets the format only if `format` is `Some`.
    pub fn format_opt(mut self, format: Option<Format>) -> Self {
        if format.is_some() {
            self.format = format;
        }
        self
    }

    /// CSV field delimiter (default `,`).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Whether a CSV input starts with a header row (default true). Without
    /// one, columns are named `1`, `2`, … in order.
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }

    /// The delimiter in use.
    pub fn get_delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The forced format, if any.
    pub fn get_format(&self) -> Option<Format> {
        self.format
    }
}

/// What went wrong reading a table.
#[derive(Debug)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// Reading failed.
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
    /// A requested column is not in the input.
    MissingColumn {
        /// The columns the input has.
        available: Vec<String>,
    },
    /// The format could not be told from the file name.
    UnknownFormat,
    /// The input has no header row (it is empty).
    Empty,
}

/// An input error with its location: file, row, column. Never holds a value.
#[derive(Debug)]
pub struct InputError {
    source: String,
    row: Option<u64>,
    column: Option<String>,
    kind: InputErrorKind,
}

impl InputError {
    /// An error at `source` (file name), optional 1-based data row and column.
    pub fn new(source: &str, row: Option<u64>, column: Option<&str>, kind: InputErrorKind) -> Self {
        InputError {
            source: source.to_owned(),
            row,
            column: column.map(ToOwned::to_owned),
            kind,
        }
    }

    /// The file (or `<stdin>`).
    pub fn file(&self) -> &str {
        &self.source
    }

    /// The 1-based data row (the header is row 0), if known.
    pub fn row(&self) -> Option<u64> {
        self.row
    }

    /// The column, if known.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &InputErrorKind {
        &self.kind
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(row) = self.row {
            write!(f, ": row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column '{col}'")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            InputErrorKind::Io(e) => write!(f, "read failed: {e}"),
            InputErrorKind::Ragged { expected, found } => {
                write!(f, "row has {found} fields, the header has {expected}")
            }
            InputErrorKind::Utf8 => f.write_str("not valid UTF-8"),
            InputErrorKind::Json(what) => write!(f, "not a JSON object: {what}"),
            InputErrorKind::MissingColumn { available } => {
                write!(
                    f,
                    "no such column (the input has: {})",
                    available.join(", ")
                )
            }
            InputErrorKind::UnknownFormat => f.write_str(
                "cannot tell the format from the file name; pass --format csv or --format jsonl",
            ),
            InputErrorKind::Empty => f.write_str("the input is empty (no header row)"),
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

/// One row, reused across reads to amortize allocations.
#[derive(Debug, Default)]
pub struct Row {
    csv: csv::ByteRecord,
    json: Vec<Option<Vec<u8>>>,
    is_json: bool,
}

impl Row {
    /// An empty row to read into.
    pub fn new() -> Self {
        Self::default()
    }

    /// The field at column `i`, or `None` if the row has no such field (a
    /// JSON record without that path, or a JSON `null`).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if self.is_json {
            self.json.get(i).and_then(|v| v.as_deref())
        } else {
            self.csv.get(i)
        }
    }

    /// Number of fields in this row.
    pub fn len(&self) -> usize {
        if self.is_json {
            self.json.len()
        } else {
            self.csv.len()
        }
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Inner {
    Csv(csv::Reader<Box<dyn Read + Send>>),
    Jsonl {
        lines: BufReader<Box<dyn Read + Send>>,
        line: Vec<u8>,
        bytes: u64,
        first: Option<Value>,
    },
}

/// Streams the rows of a CSV or JSON Lines input.
pub struct TableReader {
    inner: Inner,
    source: String,
    columns: Vec<String>,
    row: u64,
}

impl fmt::Debug for TableReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableReader")
            .field("source", &self.source)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl TableReader {
    /// Opens `path` (`None` or `-` for stdin). The format comes from
    /// `options`, else from the extension; stdin defaults to CSV.
    ///
    /// # Errors
    /// The file cannot be opened, its format is unknown, or its header (CSV)
    /// or first line (JSON Lines) cannot be read.
    pub fn open(path: Option<&Path>, options: &TableOptions) -> Result<Self, InputError> {
        let path = path.filter(|p| p.as_os_str() != "-");
        let source = path.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
        let format = match (options.format, path) {
            (Some(f), _) => f,
            (None, Some(p)) => Format::from_path(p).ok_or_else(|| {
                InputError::new(&source, None, None, InputErrorKind::UnknownFormat)
            })?,
            (None, None) => Format::Csv,
        };
        let reader: Box<dyn Read + Send> = match path {
            Some(p) => Box::new(
                File::open(p)
                    .map_err(|e| InputError::new(&source, None, None, InputErrorKind::Io(e)))?,
            ),
            None => Box::new(io::stdin()),
        };
        Self::from_reader(reader, &source, format, options)
    }

    /// Reads from any reader; `source` names it in errors.
    ///
    /// # Errors
    /// As [`TableReader::open`].
    pub fn from_reader(
        reader: Box<dyn Read + Send>,
        source: &str,
        format: Format,
        options: &TableOptions,
    ) -> Result<Self, InputError> {
        match format {
            Format::Csv => Self::open_csv(reader, source, options),
            Format::Jsonl => Self::open_jsonl(reader, source),
        }
    }

    fn open_csv(
        reader: Box<dyn Read + Send>,
        source: &str,
        options: &TableOptions,
    ) -> Result<Self, InputError> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(options.has_header)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(reader);
        let columns = if options.has_header {
            let headers = rdr.byte_headers().map_err(|e| csv_error(source, 0, e))?;
            if headers.is_empty() {
                return Err(InputError::new(source, None, None, InputErrorKind::Empty));
            }
            headers
                .iter()
                .map(|h| std::str::from_utf8(h).map(ToOwned::to_owned))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| InputError::new(source, Some(0), None, InputErrorKind::Utf8))?
        } else {
            // Peek the first record's width without consuming it: csv keeps
            // the first record when has_headers is false, so read headers.
            let width = rdr
                .byte_headers()
                .map_err(|e| csv_error(source, 1, e))?
                .len();
            (1..=width).map(|i| i.to_string()).collect()
        };
        Ok(TableReader {
            inner: Inner::Csv(rdr),
            source: source.to_owned(),
            columns,
            row: 0,
        })
    }

    fn open_jsonl(reader: Box<dyn Read + Send>, source: &str) -> Result<Self, InputError> {
        let mut lines = BufReader::with_capacity(1 << 16, reader);
        let mut line = Vec::new();
        let mut bytes = 0u64;
        let mut first = None;
        let mut columns = Vec::new();
        // The first non-blank line fixes the columns.
        loop {
            line.clear();
            let n = lines
                .read_until(b'\n', &mut line)
                .map_err(|e| InputError::new(source, Some(1), None, InputErrorKind::Io(e)))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            let text = strip_bom(trim_eol(&line));
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let value =
                parse_object(text).map_err(|kind| InputError::new(source, Some(1), None, kind))?;
            leaf_paths(&value, &mut String::new(), &mut columns);
            first = Some(value);
            break;
        }
        Ok(TableReader {
            inner: Inner::Jsonl {
                lines,
                line,
                bytes,
                first,
            },
            source: source.to_owned(),
            columns,
            row: 0,
        })
    }

    /// The file name used in errors (`<stdin>` for standard input).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The input's format.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Csv(_) => Format::Csv,
            Inner::Jsonl { .. } => Format::Jsonl,
        }
    }

    /// Column names: the CSV header, or the dotted paths of the first JSON record.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The index of a column by name (a dotted path for JSON Lines).
    ///
    /// For JSON Lines a path absent from the first record is accepted if
    /// `name` is a well-formed path; rows without it read as missing.
    ///
    /// # Errors
    /// [`InputErrorKind::MissingColumn`] for a CSV column that is not in the header.
    pub fn column_index(&mut self, name: &str) -> Result<usize, InputError> {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return Ok(i);
        }
        match self.inner {
            Inner::Jsonl { .. } if !name.is_empty() && !name.split('.').any(str::is_empty) => {
                self.columns.push(name.to_owned());
                Ok(self.columns.len() - 1)
            }
            _ => Err(InputError::new(
                &self.source,
                None,
                Some(name),
                InputErrorKind::MissingColumn {
                    available: self.columns.clone(),
                },
            )),
        }
    }

    /// The 1-based number of the last data row read (0 before the first).
    pub fn row_number(&self) -> u64 {
        self.row
    }

    /// Bytes consumed so far, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv(r) => r.position().byte(),
            Inner::Jsonl { bytes, .. } => *bytes,
        }
    }

    /// Reads the next row into `row`. Returns `false` at the end of input.
    ///
    /// # Errors
    /// I/O failures, ragged CSV rows, invalid JSON lines; each names the row.
    pub fn read_row(&mut self, row: &mut Row) -> Result<bool, InputError> {
        let next_row = self.row + 1;
        match &mut self.inner {
            Inner::Csv(rdr) => {
                row.is_json = false;
                if !rdr
                    .read_byte_record(&mut row.csv)
                    .map_err(|e| csv_error(&self.source, next_row, e))?
                {
                    return Ok(false);
                }
                if row.csv.len() != self.columns.len() {
                    return Err(InputError::new(
                        &self.source,
                        Some(next_row),
                        None,
                        InputErrorKind::Ragged {
                            expected: self.columns.len() as u64,
                            found: row.csv.len() as u64,
                        },
                    ));
                }
            }
            Inner::Jsonl {
                lines,
                line,
                bytes,
                first,
            } => {
                row.is_json = true;
                let value = if let Some(v) = first.take() {
                    v
                } else {
                    loop {
                        line.clear();
                        let n = lines.read_until(b'\n', line).map_err(|e| {
                            InputError::new(
                                &self.source,
                                Some(next_row),
                                None,
                                InputErrorKind::Io(e),
                            )
                        })?;
                        if n == 0 {
                            return Ok(false);
                        }
                        *bytes += n as u64;
                        let text = trim_eol(line);
                        if !text.iter().all(u8::is_ascii_whitespace) {
                            break parse_object(text).map_err(|kind| {
                                InputError::new(&self.source, Some(next_row), None, kind)
                            })?;
                        }
                    }
                };
                row.json.resize(self.columns.len(), None);
                for (slot, path) in row.json.iter_mut().zip(&self.columns) {
                    let field = lookup(&value, path);
                    match field {
                        None | Some(Value::Null) => *slot = None,
                        Some(v) => {
                            let buf = slot.get_or_insert_with(Vec::new);
                            buf.clear();
                            scalar_text(v, buf);
                        }
                    }
                }
            }
        }
        self.row = next_row;
        Ok(true)
    }
}

fn csv_error(source: &str, row: u64, e: csv::Error) -> InputError {
    let kind = match e.into_kind() {
        csv::ErrorKind::Io(e) => InputErrorKind::Io(e),
        csv::ErrorKind::Utf8 { .. } => InputErrorKind::Utf8,
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => InputErrorKind::Ragged {
            expected: expected_len,
            found: len,
        },
        // Remaining kinds come from serde paths that we do not use; keep
        // them generic rather than risk quoting input.
        _ => InputErrorKind::Io(io::Error::new(io::ErrorKind::InvalidData, "malformed CSV")),
    };
    InputError::new(source, Some(row), None, kind)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

fn parse_object(text: &[u8]) -> Result<Value, InputErrorKind> {
    match serde_json::from_slice::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(InputErrorKind::Json(
            "the line is JSON but not an object".to_owned(),
        )),
        // serde_json messages can quote the offending token; keep only the
        // category and the position.
        Err(e) if e.classify() == serde_json::error::Category::Io => {
            Err(InputErrorKind::Json("read failed".to_owned()))
        }
        Err(e) => Err(match std::str::from_utf8(text) {
            Err(_) => InputErrorKind::Utf8,
            Ok(_) => InputErrorKind::Json(
                format!("{:?} error at character {}", e.classify(), e.column()).to_lowercase(),
            ),
        }),
    }
}

/// Collects the dotted paths of scalar leaves (arrays count as leaves).
fn leaf_paths(value: &Value, prefix: &mut String, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(k);
            if v.is_object() {
                leaf_paths(v, prefix, out);
            } else {
                out.push(prefix.clone());
            }
            prefix.truncate(len);
        }
    }
}

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = value.get(path) {
        return Some(v); // a key that itself contains dots
    }
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// Strings as their content; other values as their JSON text.
fn scalar_text(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        other => {
            // Writing JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(text: &str, format: Format, opts: TableOptions) -> TableReader {
        TableReader::from_reader(
            Box::new(Cursor::new(text.as_bytes().to_vec())),
            "t",
            format,
            &opts,
        )
        .unwrap()
    }

    fn all(t: &mut TableReader) -> Vec<Vec<Option<String>>> {
        let mut row = Row::new();
        let mut out = Vec::new();
        while t.read_row(&mut row).unwrap() {
            out.push(
                (0..t.columns().len())
                    .map(|i| row.get(i).map(|b| String::from_utf8(b.to_vec()).unwrap()))
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn csv_with_bom_crlf_and_quoted_newline() {
        let mut t = reader(
            "\u{feff}a,b\r\n1,\"x\ny\"\r\n2,z\r\n",
            Format::Csv,
            TableOptions::new(),
        );
        assert_eq!(t.columns(), ["a", "b"]);
        let rows = all(&mut t);
        assert_eq!(rows[0], [Some("1".into()), Some("x\ny".into())]);
        assert_eq!(rows[1], [Some("2".into()), Some("z".into())]);
        assert_eq!(t.row_number(), 2);
    }

    #[test]
    fn csv_without_header_numbers_columns() {
        let mut t = reader(
            "1;2;3\n4;5;6\n",
            Format::Csv,
            TableOptions::new().delimiter(b';').has_header(false),
        );
        assert_eq!(t.columns(), ["1", "2", "3"]);
        assert_eq!(all(&mut t).len(), 2);
    }

    #[test]
    fn ragged_row_names_row_not_value() {
        let mut t = reader("a,b\n1,2\nsecret-value\n", Format::Csv, TableOptions::new());
        let mut row = Row::new();
        assert!(t.read_row(&mut row).unwrap());
        let err = t.read_row(&mut row).unwrap_err();
        assert_eq!(err.row(), Some(2));
        let msg = err.to_string();
        assert!(msg.contains("row 2"), "{msg}");
        assert!(!msg.contains("secret-value"), "{msg}");
    }

    #[test]
    fn missing_column_lists_available() {
        let mut t = reader("a,b\n", Format::Csv, TableOptions::new());
        let err = t.column_index("c").unwrap_err();
        assert!(err.to_string().contains("column 'c'"));
        assert!(err.to_string().contains("a, b"));
    }

    #[test]
    fn empty_csv_is_an_error() {
        let err = TableReader::from_reader(
            Box::new(Cursor::new(Vec::new())),
            "t",
            Format::Csv,
            &TableOptions::new(),
        )
        .unwrap_err();
        assert!(matches!(err.kind(), InputErrorKind::Empty));
    }

    #[test]
    fn jsonl_dotted_paths_and_scalars() {
        let text = "{\"id\":1,\"customer\":{\"phone\":\"010\",\"address\":{\"zip\":\"04524\"}},\"tags\":[1,2]}\n\n{\"id\":2,\"customer\":{\"phone\":null}}\n";
        let mut t = reader(text, Format::Jsonl, TableOptions::new());
        let zip = t.column_index("customer.address.zip").unwrap();
        let phone = t.column_index("customer.phone").unwrap();
        let tags = t.column_index("tags").unwrap();
        let rows = all(&mut t);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][zip].as_deref(), Some("04524"));
        assert_eq!(rows[0][phone].as_deref(), Some("010"));
        assert_eq!(rows[0][tags].as_deref(), Some("[1,2]"));
        assert_eq!(rows[1][zip], None);
        assert_eq!(rows[1][phone], None);
    }

    #[test]
    fn bad_json_line_names_row_not_text() {
        let mut t = reader(
            "{\"a\":1}\n{\"a\": secret-token}\n",
            Format::Jsonl,
            TableOptions::new(),
        );
        let mut row = Row::new();
        assert!(t.read_row(&mut row).unwrap());
        let err = t.read_row(&mut row).unwrap_err();
        assert_eq!(err.row(), Some(2));
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn format_from_path() {
        assert_eq!(Format::from_path(Path::new("x.CSV")), Some(Format::Csv));
        assert_eq!(
            Format::from_path(Path::new("x.ndjson")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("x.parquet")), None);
    }
}
