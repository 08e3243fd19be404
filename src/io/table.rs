//! Read-only tabular access to CSV, JSON Lines and Parquet, for `scan` and
//! the audits.
//!
//! A [`TableReader`] streams rows one at a time into a reused [`Row`], so
//! memory stays bounded whatever the input size. CSV columns are the header
//! names (or `1`, `2`, … without a header); JSON Lines columns are dotted
//! paths to the scalar fields of the first record (`customer.address.zip`);
//! Parquet columns are the dotted leaf paths of the schema, typed values
//! rendered as text (`src/arrow/mod.rs`, "Typed values as text").
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
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::chunk::ChunkReader;
use super::error::check_unique_columns;
pub use super::error::{InputError, InputErrorKind};
pub use super::format::Format;
use super::json_path;
use super::process::{parse_json_object, trim_line};
use super::record::{CsvParser, CsvRecord};

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
    refuse_data_header: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            format: None,
            delimiter: b',',
            has_header: true,
            refuse_data_header: false,
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

    /// Refuses a CSV header whose cells look like data (phones, emails,
    /// numbers; see [`is_plausible_column_name`](super::header::is_plausible_column_name)):
    /// such a file most likely has no header row, and a tool that prints
    /// column names would print its first record. Off by default.
    pub fn refuse_data_header(mut self, yes: bool) -> Self {
        self.refuse_data_header = yes;
        self
    }

    /// The delimiter in use.
    pub fn get_delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Whether a CSV input starts with a header row.
    pub fn get_has_header(&self) -> bool {
        self.has_header
    }

    /// The forced format, if any.
    pub fn get_format(&self) -> Option<Format> {
        self.format
    }
}

/// One row, reused across reads to amortize allocations. Its `Debug` shows
/// the number of fields, never their contents.
#[derive(Default)]
pub struct Row {
    csv: CsvRecord,
    json: Vec<Option<Vec<u8>>>,
    is_json: bool,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("fields", &self.len())
            .finish_non_exhaustive()
    }
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

/// Streams the rows of a CSV or JSON Lines input.
///
/// Reads through the same chunker and grammar as `deid apply`, so every
/// command sees the same records: a quote left open at the end of the input,
/// duplicate column names or a record over 64 MiB are errors here too.
pub struct TableReader {
    #[cfg(feature = "parquet")]
    parquet: Option<super::parquet::ParquetRows>,
    chunks: ChunkReader<Box<dyn Read + Send>>,
    format: Format,
    parser: CsvParser,
    chunk: Vec<u8>,
    pos: usize,
    source: String,
    columns: Vec<String>,
    row: u64,
}

impl fmt::Debug for TableReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableReader")
            .field("source", &self.source)
            .field("columns", &self.columns.len())
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
        #[cfg(feature = "parquet")]
        if let (Format::Parquet, Some(p)) = (format, path) {
            let file = File::open(p)
                .map_err(|e| InputError::new(&source, None, None, InputErrorKind::Io(e)))?;
            return Self::from_parquet(file, &source);
        }
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
        if format == Format::Parquet {
            #[cfg(feature = "parquet")]
            {
                let file = super::parquet::spool(reader)
                    .map_err(|e| InputError::new(source, None, None, InputErrorKind::Io(e)))?;
                return Self::from_parquet(file, source);
            }
            #[cfg(not(feature = "parquet"))]
            return Err(InputError::new(
                source,
                None,
                None,
                InputErrorKind::Arrow("this build has no Parquet support (feature parquet)".into()),
            ));
        }
        let mut t = TableReader {
            #[cfg(feature = "parquet")]
            parquet: None,
            chunks: ChunkReader::new(reader, format, options.delimiter, 1 << 20),
            format,
            parser: CsvParser::new(options.delimiter),
            chunk: Vec::new(),
            pos: 0,
            source: source.to_owned(),
            columns: Vec::new(),
            row: 0,
        };
        let err = |row, kind| InputError::new(source, row, None, kind);
        match format {
            Format::Csv => {
                let first = t.chunks.first_record().map_err(|k| err(Some(0), k))?;
                let mut rec = CsvRecord::new();
                let width = match &first {
                    Some(f)
                        if t.parser
                            .read(f, &mut 0, &mut rec)
                            .map_err(|_| err(Some(0), InputErrorKind::MalformedQuote))? =>
                    {
                        rec.len()
                    }
                    _ => return Err(err(None, InputErrorKind::Empty)),
                };
                if options.has_header {
                    t.columns = rec
                        .iter()
                        .map(|h| std::str::from_utf8(h).map(ToOwned::to_owned))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| err(Some(0), InputErrorKind::Utf8))?;
                    if options.refuse_data_header {
                        let columns: Vec<usize> = t
                            .columns
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| !super::header::is_plausible_column_name(c))
                            .map(|(i, _)| i + 1)
                            .collect();
                        if !columns.is_empty() {
                            return Err(err(
                                Some(0),
                                InputErrorKind::HeaderLooksLikeData { columns },
                            ));
                        }
                    }
                    check_unique_columns(&t.columns).map_err(|k| err(Some(0), k))?;
                } else {
                    t.columns = (1..=width).map(|i| i.to_string()).collect();
                    if let Some(f) = first {
                        t.chunks.unread(f);
                    }
                }
            }
            Format::Parquet => {}
            Format::Jsonl => {
                // The first non-blank line fixes the columns; it stays in the stream.
                let mut taken = Vec::new();
                while let Some(line) = t.chunks.first_record().map_err(|k| err(Some(1), k))? {
                    let text = trim_line(&line);
                    let blank = text.iter().all(u8::is_ascii_whitespace);
                    if !blank {
                        let value = parse_json_object(text).map_err(|k| err(Some(1), k))?;
                        t.columns = json_path::leaf_paths(&value);
                        check_unique_columns(&t.columns).map_err(|k| err(Some(1), k))?;
                    }
                    taken.extend_from_slice(&line);
                    if !blank {
                        break;
                    }
                }
                t.chunks.unread(taken);
            }
        }
        Ok(t)
    }

    /// A Parquet file: its columns are the leaf paths of its schema (struct
    /// fields dotted), values rendered as text by the rule of
    /// `src/arrow/mod.rs`.
    #[cfg(feature = "parquet")]
    fn from_parquet(file: File, source: &str) -> Result<Self, InputError> {
        let (rows, columns) = super::parquet::ParquetRows::open(file)
            .map_err(|k| InputError::new(source, None, None, k))?;
        check_unique_columns(&columns).map_err(|k| InputError::new(source, None, None, k))?;
        Ok(TableReader {
            parquet: Some(rows),
            chunks: ChunkReader::new(Box::new(io::empty()), Format::Parquet, b',', 1 << 20),
            format: Format::Parquet,
            parser: CsvParser::new(b','),
            chunk: Vec::new(),
            pos: 0,
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
        self.format
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
        match self.format {
            Format::Jsonl if !name.is_empty() && !name.split('.').any(str::is_empty) => {
                self.columns.push(name.to_owned());
                Ok(self.columns.len() - 1)
            }
            _ => Err(InputError::new(
                &self.source,
                None,
                Some(name),
                InputErrorKind::MissingColumn {
                    // A header may be a row of data (a file without one):
                    // list only cells that look like names.
                    available: self
                        .columns
                        .iter()
                        .filter(|c| super::header::is_plausible_column_name(c))
                        .cloned()
                        .collect(),
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
        #[cfg(feature = "parquet")]
        if let Some(p) = &self.parquet {
            return p.bytes_read();
        }
        self.chunks
            .bytes_read()
            .saturating_sub((self.chunk.len() - self.pos.min(self.chunk.len())) as u64)
    }

    /// Moves to the next chunk; false at the end of input.
    fn next_chunk(&mut self) -> Result<bool, InputError> {
        match self.chunks.next_chunk() {
            Ok(Some(c)) => {
                self.chunk = c;
                self.pos = 0;
                self.parser.restart();
                Ok(true)
            }
            Ok(None) => {
                self.chunk.clear();
                self.pos = 0;
                Ok(false)
            }
            Err(kind) => Err(InputError::new(
                &self.source,
                Some(self.row + 1),
                None,
                kind,
            )),
        }
    }

    /// Reads the next row into `row`. Returns `false` at the end of input.
    ///
    /// # Errors
    /// I/O failures, ragged CSV rows, invalid JSON lines, JSON shapes a
    /// column's path cannot take; each names the row.
    pub fn read_row(&mut self, row: &mut Row) -> Result<bool, InputError> {
        let next_row = self.row + 1;
        let err = |source: &str, kind, column: Option<&str>| {
            InputError::new(source, Some(next_row), column, kind)
        };
        match self.format {
            Format::Csv => {
                row.is_json = false;
                while !self
                    .parser
                    .read(&self.chunk, &mut self.pos, &mut row.csv)
                    .map_err(|_| err(&self.source, InputErrorKind::MalformedQuote, None))?
                {
                    if !self.next_chunk()? {
                        return Ok(false);
                    }
                }
                if row.csv.len() != self.columns.len() {
                    return Err(err(
                        &self.source,
                        InputErrorKind::Ragged {
                            expected: self.columns.len() as u64,
                            found: row.csv.len() as u64,
                        },
                        None,
                    ));
                }
            }
            Format::Parquet => {
                row.is_json = true;
                #[cfg(feature = "parquet")]
                if let Some(p) = self.parquet.as_mut() {
                    let more = p
                        .read_row(&mut row.json)
                        .map_err(|k| err(&self.source, k, None))?;
                    if !more {
                        return Ok(false);
                    }
                }
            }
            Format::Jsonl => {
                row.is_json = true;
                let value = loop {
                    if self.pos >= self.chunk.len() && !self.next_chunk()? {
                        return Ok(false);
                    }
                    let rest = &self.chunk[self.pos..];
                    let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
                    let line = trim_line(&rest[..end]);
                    self.pos += end;
                    if !line.iter().all(u8::is_ascii_whitespace) {
                        break parse_json_object(line).map_err(|k| err(&self.source, k, None))?;
                    }
                };
                row.json.resize(self.columns.len(), None);
                let mut found = Vec::new();
                for (slot, path) in row.json.iter_mut().zip(&self.columns) {
                    let mut values = Vec::new();
                    json_path::values(&value, path, &mut values).map_err(|e| {
                        err(
                            &self.source,
                            InputErrorKind::Shape(e.describe()),
                            Some(path),
                        )
                    })?;
                    found.clear();
                    *slot = match values.as_slice() {
                        [] => None,
                        [one] => {
                            json_path::scalar_text(one, &mut found);
                            Some(found.clone())
                        }
                        // Several values (arrays): their JSON text.
                        many => Some(serde_json::to_vec(many).unwrap_or_default()),
                    };
                }
            }
        }
        self.row = next_row;
        Ok(true)
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
}
