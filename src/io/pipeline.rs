//! The ordered parallel pipeline behind `deid apply` and `deid decrypt`.
//!
//! ```text
//! reader thread ──chunks──▶ N workers ──results──▶ writer (this thread)
//!   cuts the input at        parse, transform,       reorders by sequence
//!   record boundaries        serialize a chunk       number, writes in order
//! ```
//!
//! Memory is bounded by the chunk size times the number of chunks in flight
//! (a fixed multiple of the thread count), never by the input size: the
//! reader takes a permit per chunk and the writer returns it once the chunk
//! is written. Errors are reported in input order, so the first bad row of
//! the file is the one named, with its exact row number.

use std::boxed::Box;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use std::vec::Vec;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::Serialize;

use super::chunk::{ChunkReader, MAX_RECORD_BYTES};
use super::error::{InputError, InputErrorKind, check_unique_columns};
use super::process::{ChunkError, ChunkOut, Plan, process_chunk};
use super::record::{CsvParser, CsvRecord};
use super::suppress::SuppressClasses;
use super::table::Format;
use super::{json_path, process};
use crate::key::Keyset;
pub use crate::policy::Direction;
use crate::policy::{Policy, PolicyError};
use crate::transform::TransformKind;

/// How to run the pipeline. Built like csv's `ReaderBuilder`.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    format: Format,
    pub(super) delimiter: u8,
    pub(super) has_header: bool,
    pub(super) threads: usize,
    chunk_bytes: usize,
    max_record: usize,
    pub(super) direction: Direction,
    pub(super) suppress: Option<std::sync::Arc<SuppressClasses>>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            format: Format::Csv,
            delimiter: b',',
            has_header: true,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_bytes: 1 << 20,
            max_record: MAX_RECORD_BYTES,
            direction: Direction::Apply,
            suppress: None,
        }
    }
}

impl PipelineOptions {
    /// CSV with a header, all cores, 1 MiB chunks, applying the policy.
    pub fn new() -> Self {
        Self::default()
    }
    /// Input and output format.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
    /// CSV delimiter.
    pub fn delimiter(mut self, d: u8) -> Self {
        self.delimiter = d;
        self
    }
    /// Whether the CSV has a header row (without one, columns are `1`, `2`, …).
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }
    /// Worker threads (at least 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
    /// Target chunk size in bytes.
    pub fn chunk_bytes(mut self, n: usize) -> Self {
        self.chunk_bytes = n.max(4096);
        self
    }
    /// Longest record accepted, in bytes (default 64 MiB). A quoted field
    /// that is never closed makes one record of the rest of the file; this
    /// bounds the memory it can take before the run fails.
    pub fn max_record_bytes(mut self, n: usize) -> Self {
        self.max_record = n.max(1);
        self
    }
    /// Apply or decrypt.
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = d;
        self
    }
    /// Leaves out (and counts in [`Summary::rows_suppressed`]) the records
    /// whose output values in the classes' columns form one of `classes`
    /// (applying; CSV, JSON Lines, and Parquet through
    /// [`ParquetOptions`](super::parquet::ParquetOptions)): a policy's
    /// `[suppress]`, decided by `deid::anonymize::suppression`.
    pub fn suppress(mut self, classes: std::sync::Arc<SuppressClasses>) -> Self {
        self.suppress = Some(classes);
        self
    }
}

/// Values transformed in one column.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ColumnCount {
    /// Column name or dotted path.
    pub column: String,
    /// Transform applied (or reversed).
    pub transform: TransformKind,
    /// Non-empty values processed.
    pub values: u64,
    /// `redact`: identifiers replaced, per type (`phone:KR`, `email`, ...;
    /// counts only, never text). Empty for other transforms.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub detections: BTreeMap<String, u64>,
}

/// What a run did. Counts only: never a value.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Data rows read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Rows left out under `on_error = "drop-record"`.
    pub rows_dropped: u64,
    /// Rows left out by the policy's `[suppress]` (their class breaks a
    /// privacy model).
    pub rows_suppressed: u64,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Per-column counts, in policy order.
    pub columns: Vec<ColumnCount>,
    /// Columns removed from the output.
    pub dropped_columns: Vec<String>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl Summary {
    pub(crate) fn empty(threads: usize) -> Self {
        Summary {
            rows_in: 0,
            rows_out: 0,
            rows_dropped: 0,
            rows_suppressed: 0,
            bytes_in: 0,
            bytes_out: 0,
            columns: Vec::new(),
            dropped_columns: Vec::new(),
            threads,
            seconds: 0.0,
        }
    }

    /// Input throughput in MB/s (10^6 bytes).
    pub fn mb_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes_in as f64 / 1e6 / self.seconds
        } else {
            0.0
        }
    }
}

/// Progress after each chunk written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// Bytes of input consumed.
    pub bytes: u64,
    /// Rows written or dropped so far.
    pub rows: u64,
}

/// Runs the policy over `input` (CSV or JSON Lines), writing to `output`.
///
/// `source` names the input in errors. `progress` is called from this
/// thread after each chunk is written.
///
/// # Errors
/// The first problem in input order: a value that cannot be transformed
/// (unless `on_error = "drop-record"`), a ragged row, malformed input (an
/// unterminated quote, a record over the size limit, a JSON shape the policy
/// path cannot take), duplicate column names, a policy that does not fit the
/// input, or I/O. Nothing after the failing chunk is written; callers writing
/// to a file use [`AtomicFile`](super::atomic::AtomicFile) so nothing at all
/// appears.
pub fn run(
    policy: &Policy,
    keys: &Keyset,
    input: Box<dyn Read + Send>,
    source: &str,
    output: &mut dyn Write,
    opts: &PipelineOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, InputError> {
    let start = Instant::now();
    let err = |row, column: Option<&str>, kind| InputError::new(source, row, column, kind);
    let mut reader = ChunkReader::new(input, opts.format, opts.delimiter, opts.chunk_bytes)
        .max_record(opts.max_record);

    // Read what fixes the columns (CSV header, first JSON record) up front,
    // so policy errors come before anything is written.
    if opts.format == Format::Parquet {
        return Err(err(
            None,
            None,
            InputErrorKind::Arrow(
                "Parquet goes through deid::io::parquet::run, not the text pipeline".into(),
            ),
        ));
    }
    let (columns, header_row) = match opts.format {
        Format::Csv => csv_columns(&mut reader, opts).map_err(|(row, k)| err(row, None, k))?,
        Format::Jsonl | Format::Parquet => {
            match first_json_leaves(&mut reader).map_err(|k| err(Some(1), None, k))? {
                Some(leaves) => (leaves, None),
                // An empty JSON Lines input: nothing to bind, nothing to write.
                None => {
                    let mut s = Summary::empty(opts.threads);
                    s.bytes_in = reader.bytes_read();
                    s.seconds = start.elapsed().as_secs_f64();
                    return Ok(s);
                }
            }
        }
    };
    let plan = Plan::new(policy, keys, &columns, opts.format, opts.direction)
        .and_then(|p| {
            if opts.direction == Direction::Apply
                && policy.suppress.is_some()
                && opts.suppress.is_none()
            {
                // The classes come from a first pass
                // (`deid::anonymize::suppression`); without them the
                // records the policy leaves out would be written.
                return Err(InputErrorKind::Policy(PolicyError::Suppress(
                    "the policy has [suppress] but its classes were not counted (PipelineOptions::suppress)".into(),
                )));
            }
            p.with_suppression(opts.suppress.clone(), opts.format)
        })
        .map_err(|k| err(if header_row.is_some() { Some(0) } else { None }, None, k))?;
    let mut bytes_out = 0u64;
    if let Some(names) = &header_row {
        let header = process::csv_header(&plan, names, opts.delimiter);
        output
            .write_all(&header)
            .map_err(|e| err(None, None, InputErrorKind::Io(e)))?;
        bytes_out = header.len() as u64;
    }

    let threads = opts.threads.max(1);
    let in_flight = 4 * threads;
    let (work_tx, work_rx) = bounded::<(u64, Vec<u8>)>(2 * threads);
    let (done_tx, done_rx) = bounded::<(u64, Result<ChunkOut, ChunkError>)>(in_flight);
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = permit_tx.send(());
    }
    let stop = AtomicBool::new(false);
    let read_error: std::sync::Mutex<Option<InputErrorKind>> = std::sync::Mutex::new(None);

    let mut totals = Summary::empty(threads);
    totals.columns = plan.counted_columns();
    totals.dropped_columns = plan.binding.dropped.clone();
    let counted: Vec<usize> = plan.counted_indices();
    let header_bytes = reader.bytes_read();

    let result: Result<(), InputError> = std::thread::scope(|s| {
        // Reader: cut the input into chunks at record boundaries.
        let reader_thread = {
            let stop = &stop;
            let read_error = &read_error;
            s.spawn(move || {
                let mut seq = 0u64;
                loop {
                    if stop.load(Ordering::Relaxed) || permit_rx.recv().is_err() {
                        return reader.bytes_read();
                    }
                    match reader.next_chunk() {
                        Ok(Some(chunk)) => {
                            if work_tx.send((seq, chunk)).is_err() {
                                return reader.bytes_read();
                            }
                            seq += 1;
                        }
                        Ok(None) => return reader.bytes_read(),
                        Err(kind) => {
                            if let Ok(mut slot) = read_error.lock() {
                                *slot = Some(kind);
                            }
                            return reader.bytes_read();
                        }
                    }
                }
            })
        };
        // Workers.
        for _ in 0..threads {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let plan = &plan;
            let delimiter = opts.delimiter;
            let format = opts.format;
            s.spawn(move || {
                let mut state = process::Worker::new(delimiter);
                while let Ok((seq, chunk)) = work_rx.recv() {
                    let out = contained(
                        || process_chunk(plan, format, &chunk, &mut state),
                        || ChunkError {
                            local_row: 0,
                            column: None,
                            kind: WORKER_PANICKED,
                        },
                    );
                    let panicked =
                        matches!(&out, Err(e) if matches!(e.kind, InputErrorKind::Internal(_)));
                    if done_tx.send((seq, out)).is_err() || panicked {
                        return;
                    }
                }
            });
        }
        drop(work_rx);
        drop(done_tx);
        let r = write_in_order(
            done_rx,
            permit_tx,
            output,
            &mut totals,
            &counted,
            &mut bytes_out,
            progress,
        )
        .map_err(|(row, column, kind)| err(row, column.as_deref(), kind));
        stop.store(true, Ordering::Relaxed);
        // A reader that panicked ended the input early: never a success.
        let Ok(read) = reader_thread.join() else {
            return r.and(Err(err(None, None, READER_PANICKED)));
        };
        totals.bytes_in = read;
        r
    });
    result?;
    if let Some(kind) = read_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(err(Some(totals.rows_in + 1), None, kind));
    }
    output
        .flush()
        .map_err(|e| err(None, None, InputErrorKind::Io(e)))?;
    for (slot, &i) in totals.columns.iter_mut().zip(&counted) {
        slot.detections = plan.detections(i);
    }
    totals.bytes_in = totals.bytes_in.max(header_bytes);
    totals.bytes_out = bytes_out;
    totals.seconds = start
        .elapsed()
        .as_secs_f64()
        .max(Duration::from_nanos(1).as_secs_f64());
    Ok(totals)
}

/// The CSV columns (header names, or `1`, `2`, … without a header) and the
/// header names to write back, the header record taken off the stream.
#[allow(clippy::type_complexity)]
fn csv_columns<R: Read>(
    reader: &mut ChunkReader<R>,
    opts: &PipelineOptions,
) -> Result<(Vec<String>, Option<Vec<String>>), (Option<u64>, InputErrorKind)> {
    let first = reader.first_record().map_err(|k| (Some(0), k))?;
    let Some(first) = first else {
        return Err((None, InputErrorKind::Empty));
    };
    let mut rec = CsvRecord::new();
    let mut parser = CsvParser::new(opts.delimiter);
    let found = parser
        .read(&first, &mut 0, &mut rec)
        .map_err(|_| (Some(0), InputErrorKind::MalformedQuote))?;
    if !found {
        return Err((None, InputErrorKind::Empty));
    }
    if !opts.has_header {
        let n = rec.len();
        reader.unread(first);
        return Ok(((1..=n).map(|i| i.to_string()).collect(), None));
    }
    let names: Vec<String> = rec
        .iter()
        .map(|h| String::from_utf8(h.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| (Some(0), InputErrorKind::Utf8))?;
    check_unique_columns(&names).map_err(|k| (Some(0), k))?;
    Ok((names.clone(), Some(names)))
}

/// The leaf paths of the first non-blank JSON line, left in the stream;
/// `None` for an input with no record.
fn first_json_leaves<R: Read>(
    reader: &mut ChunkReader<R>,
) -> Result<Option<Vec<String>>, InputErrorKind> {
    let mut taken = Vec::new();
    let mut found = None;
    while let Some(line) = reader.first_record()? {
        let text = process::trim_line(&line);
        let blank = text.iter().all(u8::is_ascii_whitespace);
        if !blank {
            let value = process::parse_json_object(text)?;
            found = Some(json_path::leaf_paths(&value));
        }
        taken.extend_from_slice(&line);
        if !blank {
            break;
        }
    }
    reader.unread(taken);
    if let Some(leaves) = &found {
        check_unique_columns(leaves)?;
    }
    Ok(found)
}

type WriteError = (Option<u64>, Option<String>, InputErrorKind);

/// Runs one unit of a worker's work, turning a panic (a bug in deid) into
/// the error `bug` gives. The writer waits for every unit in order: a
/// worker that died silently would leave it waiting forever, and a run
/// must end, with no output, on any failure.
pub(crate) fn contained<T, E>(
    work: impl FnOnce() -> Result<T, E>,
    bug: impl FnOnce() -> E,
) -> Result<T, E> {
    // Unwind safety: after a panic the caller stops the run; what `work`
    // held is not used again.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| Err(bug()))
}

/// What a worker that panicked reports.
pub(crate) const WORKER_PANICKED: InputErrorKind =
    InputErrorKind::Internal("a worker stopped on an unexpected condition");

/// What a run whose reader panicked reports.
pub(crate) const READER_PANICKED: InputErrorKind =
    InputErrorKind::Internal("the reader stopped on an unexpected condition");

fn write_in_order(
    done_rx: Receiver<(u64, Result<ChunkOut, ChunkError>)>,
    permit_tx: Sender<()>,
    output: &mut dyn Write,
    totals: &mut Summary,
    counted: &[usize],
    bytes_out: &mut u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), WriteError> {
    let mut pending: BTreeMap<u64, Result<ChunkOut, ChunkError>> = BTreeMap::new();
    let mut next = 0u64;
    let mut bytes_in = 0u64;
    while let Ok((seq, res)) = done_rx.recv() {
        pending.insert(seq, res);
        while let Some(res) = pending.remove(&next) {
            match res {
                Ok(chunk) => {
                    output
                        .write_all(&chunk.bytes)
                        .map_err(|e| (None, None, InputErrorKind::Io(e)))?;
                    *bytes_out += chunk.bytes.len() as u64;
                    totals.rows_in += chunk.rows;
                    totals.rows_out += chunk.rows - chunk.dropped - chunk.suppressed;
                    totals.rows_dropped += chunk.dropped;
                    totals.rows_suppressed += chunk.suppressed;
                    bytes_in += chunk.bytes_in;
                    for (slot, &i) in totals.columns.iter_mut().zip(counted) {
                        slot.values += chunk.counts[i];
                    }
                    progress(Progress {
                        bytes: bytes_in,
                        rows: totals.rows_in,
                    });
                }
                Err(e) if matches!(e.kind, InputErrorKind::Internal(_)) => {
                    return Err((None, e.column, e.kind));
                }
                Err(e) => return Err((Some(totals.rows_in + e.local_row), e.column, e.kind)),
            }
            next += 1;
            let _ = permit_tx.send(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_unit_becomes_an_error() {
        let bug = || InputErrorKind::Internal("test");
        assert_eq!(contained(|| Ok::<_, InputErrorKind>(7), bug).unwrap(), 7);
        assert!(matches!(
            contained(|| Err::<u8, _>(InputErrorKind::Empty), bug),
            Err(InputErrorKind::Empty)
        ));
        let r = contained(
            || -> Result<u8, InputErrorKind> {
                let v: Vec<u8> = Vec::new();
                Ok(v[usize::from(v.is_empty())])
            },
            bug,
        );
        assert!(matches!(r, Err(InputErrorKind::Internal("test"))));
    }
}
