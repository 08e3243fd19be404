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

use std::borrow::ToOwned;
use std::boxed::Box;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use std::vec;
use std::vec::Vec;

use crossbeam_channel::{Receiver, Sender, bounded};
use serde::Serialize;
use serde_json::Value;

use super::rng::BufferedOsRng;
use super::table::Format;
use crate::error::Error;
use crate::field::{FieldProcessor, Scratch};
use crate::key::Keyset;
use crate::policy::{OnError, Policy, PolicyError, Unlisted};
use crate::transform::{FieldSpec, TransformKind};

/// Largest single record accepted (a guard against unbounded memory on a
/// file with an unclosed quote).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Whether values are protected or recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Apply the policy's transforms (`deid apply`).
    Apply,
    /// Reverse `encrypt` and `fpe` fields (`deid decrypt`); other columns pass through.
    Decrypt,
}

/// How to run the pipeline. Built like csv's `ReaderBuilder`.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    format: Format,
    delimiter: u8,
    has_header: bool,
    threads: usize,
    chunk_bytes: usize,
    direction: Direction,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            format: Format::Csv,
            delimiter: b',',
            has_header: true,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_bytes: 1 << 20,
            direction: Direction::Apply,
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
    /// Apply or decrypt.
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = d;
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

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunErrorKind {
    /// A value could not be transformed (the rule, never the value).
    Value(TransformKind, Error),
    /// The policy does not fit the input.
    Policy(PolicyError),
    /// A CSV row with the wrong number of fields.
    Ragged {
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// Malformed input (the category, never the text).
    Malformed(String),
    /// Reading or writing failed.
    Io(io::Error),
}

/// An error with its place: file, row, column.
#[derive(Debug)]
pub struct RunError {
    /// Input file name (`<stdin>`).
    pub file: String,
    /// 1-based data row (header excluded), if the error belongs to a row.
    pub row: Option<u64>,
    /// Column or dotted path, if known.
    pub column: Option<String>,
    /// What went wrong.
    pub kind: RunErrorKind,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(r) = self.row {
            write!(f, ": row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column '{c}'")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            RunErrorKind::Value(t, e) => write!(f, "{t} failed: {e}"),
            RunErrorKind::Policy(e) => write!(f, "{e}"),
            RunErrorKind::Ragged { expected, found } => {
                write!(f, "row has {found} fields, the header has {expected}")
            }
            RunErrorKind::Malformed(m) => f.write_str(m),
            RunErrorKind::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RunErrorKind::Io(e) => Some(e),
            RunErrorKind::Policy(e) => Some(e),
            _ => None,
        }
    }
}

/// An error inside a chunk, before the chunk's first row number is known.
struct ChunkError {
    local_row: u64,
    column: Option<String>,
    kind: RunErrorKind,
}

struct ChunkOut {
    bytes: Vec<u8>,
    rows: u64,
    dropped: u64,
    counts: Vec<u64>,
    bytes_in: u64,
}

/// The compiled policy for one input.
struct Plan {
    processors: Vec<FieldProcessor>,
    /// CSV: what to do with each input column.
    csv: Vec<Action>,
    /// CSV: index of the subject column for each processor (dateshift).
    subjects: Vec<Option<usize>>,
    /// JSON Lines: processor index per dotted path.
    paths: Vec<(String, usize)>,
    unlisted: Unlisted,
    on_error: OnError,
    direction: Direction,
}

#[derive(Clone, Copy)]
enum Action {
    Keep,
    Drop,
    Field(usize),
}

/// Runs the policy over `input` (CSV or JSON Lines), writing to `output`.
///
/// `source` names the input in errors. `progress` is called from this
/// thread after each chunk is written.
///
/// # Errors
/// The first problem in input order: a value that cannot be transformed
/// (unless `on_error = "drop-record"`), a ragged row, malformed input, a
/// policy that does not fit the input, or I/O. Nothing after the failing
/// chunk is written; callers writing to a file use
/// [`AtomicFile`](super::atomic::AtomicFile) so nothing at all appears.
pub fn run(
    policy: &Policy,
    keys: &Keyset,
    input: Box<dyn Read + Send>,
    source: &str,
    output: &mut dyn Write,
    opts: &PipelineOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, RunError> {
    let start = Instant::now();
    let err = |row, column: Option<&str>, kind| RunError {
        file: source.to_owned(),
        row,
        column: column.map(ToOwned::to_owned),
        kind,
    };
    let mut reader = ChunkReader::new(input, opts.format, opts.chunk_bytes);

    // Read what fixes the columns (CSV header, first JSON record) up front,
    // so policy errors come before anything is written.
    let mut header_bytes = 0u64;
    let (plan, header_out) = match opts.format {
        Format::Csv => {
            let first = reader
                .first_record(opts.delimiter)
                .map_err(|e| err(None, None, e))?;
            let Some(first) = first else {
                return Err(err(
                    None,
                    None,
                    RunErrorKind::Malformed("the input is empty (no header row)".into()),
                ));
            };
            let header = parse_csv_record(&first, opts.delimiter)
                .map_err(|kind| err(Some(0), None, kind))?;
            let columns: Vec<String> = if opts.has_header {
                header_bytes = first.len() as u64;
                header
                    .iter()
                    .map(|h| String::from_utf8(h.to_vec()))
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        err(
                            Some(0),
                            None,
                            RunErrorKind::Malformed("header is not valid UTF-8".into()),
                        )
                    })?
            } else {
                reader.unread(first);
                (1..=header.len()).map(|i| i.to_string()).collect()
            };
            let plan = compile_csv(policy, keys, &columns, opts.direction)
                .map_err(|kind| err(None, None, kind))?;
            let mut out = Vec::new();
            if opts.has_header {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(opts.delimiter)
                    .from_writer(&mut out);
                let kept: Vec<&String> = columns
                    .iter()
                    .zip(&plan.csv)
                    .filter(|(_, a)| !matches!(a, Action::Drop))
                    .map(|(c, _)| c)
                    .collect();
                if !kept.is_empty() {
                    w.write_record(kept)
                        .map_err(|e| err(None, None, RunErrorKind::Io(e.into())))?;
                }
                w.flush()
                    .map_err(|e| err(None, None, RunErrorKind::Io(e)))?;
            }
            let dropped = columns
                .iter()
                .zip(&plan.csv)
                .filter(|(_, a)| matches!(a, Action::Drop))
                .map(|(c, _)| c.clone())
                .collect::<Vec<_>>();
            (plan, (out, dropped))
        }
        Format::Jsonl => {
            let first = reader.peek_first_line().map_err(|e| err(None, None, e))?;
            let leaves = match &first {
                Some(line) => {
                    let v = parse_json_object(line).map_err(|kind| err(Some(1), None, kind))?;
                    let mut leaves = Vec::new();
                    leaf_paths(&v, &mut String::new(), &mut leaves);
                    leaves
                }
                None => Vec::new(),
            };
            let plan = compile_jsonl(policy, keys, &leaves, first.is_some(), opts.direction)
                .map_err(|kind| err(None, None, kind))?;
            let dropped = if plan.unlisted == Unlisted::Drop {
                leaves
                    .iter()
                    .filter(|l| !plan.paths.iter().any(|(p, _)| p == *l))
                    .cloned()
                    .collect()
            } else {
                plan.paths
                    .iter()
                    .filter(|(_, i)| plan.processors[*i].drops_column())
                    .map(|(p, _)| p.clone())
                    .collect()
            };
            (plan, (Vec::new(), dropped))
        }
    };
    let (header, dropped_columns) = header_out;
    output
        .write_all(&header)
        .map_err(|e| err(None, None, RunErrorKind::Io(e)))?;
    let mut bytes_out = header.len() as u64;

    let threads = opts.threads.max(1);
    let in_flight = 4 * threads;
    let (work_tx, work_rx) = bounded::<(u64, Vec<u8>)>(2 * threads);
    let (done_tx, done_rx) = bounded::<(u64, Result<ChunkOut, ChunkError>)>(in_flight);
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = permit_tx.send(());
    }
    let stop = AtomicBool::new(false);
    let read_error: std::sync::Mutex<Option<RunErrorKind>> = std::sync::Mutex::new(None);

    let mut totals = Summary {
        rows_in: 0,
        rows_out: 0,
        rows_dropped: 0,
        bytes_in: 0,
        bytes_out: 0,
        columns: plan
            .processors
            .iter()
            .filter(|p| !p.drops_column())
            .map(|p| ColumnCount {
                column: p.column().to_owned(),
                transform: p.kind(),
                values: 0,
            })
            .collect(),
        dropped_columns,
        threads,
        seconds: 0.0,
    };
    let counted: Vec<usize> = plan
        .processors
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.drops_column())
        .map(|(i, _)| i)
        .collect();

    let result: Result<(), RunError> = std::thread::scope(|s| {
        // Reader: cut the input into chunks at record boundaries.
        {
            let stop = &stop;
            let read_error = &read_error;
            let permit_rx = permit_rx;
            s.spawn(move || {
                let mut seq = 0u64;
                loop {
                    if stop.load(Ordering::Relaxed) || permit_rx.recv().is_err() {
                        return;
                    }
                    match reader.next_chunk() {
                        Ok(Some(chunk)) => {
                            if work_tx.send((seq, chunk)).is_err() {
                                return;
                            }
                            seq += 1;
                        }
                        Ok(None) => return,
                        Err(kind) => {
                            if let Ok(mut slot) = read_error.lock() {
                                *slot = Some(kind);
                            }
                            return;
                        }
                    }
                }
            });
        }
        // Workers.
        for _ in 0..threads {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let plan = &plan;
            let delimiter = opts.delimiter;
            let format = opts.format;
            s.spawn(move || {
                let mut rng = BufferedOsRng::default();
                let mut scratch = Scratch::default();
                while let Ok((seq, chunk)) = work_rx.recv() {
                    let out = match format {
                        Format::Csv => csv_chunk(plan, &chunk, delimiter, &mut rng, &mut scratch),
                        Format::Jsonl => jsonl_chunk(plan, &chunk, &mut rng, &mut scratch),
                    };
                    if done_tx.send((seq, out)).is_err() {
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
        r
    });
    result?;
    if let Some(kind) = read_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(err(Some(totals.rows_in + 1), None, kind));
    }
    output
        .flush()
        .map_err(|e| err(None, None, RunErrorKind::Io(e)))?;
    totals.bytes_in += header_bytes;
    totals.bytes_out = bytes_out;
    totals.seconds = start
        .elapsed()
        .as_secs_f64()
        .max(Duration::from_nanos(1).as_secs_f64());
    Ok(totals)
}

type WriteError = (Option<u64>, Option<String>, RunErrorKind);

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
    while let Ok((seq, res)) = done_rx.recv() {
        pending.insert(seq, res);
        while let Some(res) = pending.remove(&next) {
            match res {
                Ok(chunk) => {
                    output
                        .write_all(&chunk.bytes)
                        .map_err(|e| (None, None, RunErrorKind::Io(e)))?;
                    *bytes_out += chunk.bytes.len() as u64;
                    totals.rows_in += chunk.rows;
                    totals.rows_out += chunk.rows - chunk.dropped;
                    totals.rows_dropped += chunk.dropped;
                    totals.bytes_in += chunk.bytes_in;
                    for (slot, &i) in totals.columns.iter_mut().zip(counted) {
                        slot.values += chunk.counts[i];
                    }
                    progress(Progress {
                        bytes: totals.bytes_in,
                        rows: totals.rows_in,
                    });
                }
                Err(e) => return Err((Some(totals.rows_in + e.local_row), e.column, e.kind)),
            }
            next += 1;
            let _ = permit_tx.send(());
        }
    }
    Ok(())
}

fn compile_csv(
    policy: &Policy,
    keys: &Keyset,
    columns: &[String],
    direction: Direction,
) -> Result<Plan, RunErrorKind> {
    let fields: Vec<(&String, &FieldSpec)> = match direction {
        Direction::Apply => {
            policy
                .check_columns(columns)
                .map_err(RunErrorKind::Policy)?;
            policy.fields.iter().collect()
        }
        Direction::Decrypt => {
            let rev: Vec<_> = policy.reversible_fields().collect();
            let missing: Vec<String> = rev
                .iter()
                .filter(|(k, _)| !columns.contains(k))
                .map(|(k, _)| (*k).clone())
                .collect();
            if !missing.is_empty() {
                return Err(RunErrorKind::Policy(PolicyError::MissingColumns(missing)));
            }
            rev
        }
    };
    let mut processors = Vec::new();
    let mut csv = vec![
        if direction == Direction::Apply && policy.unlisted == Unlisted::Drop {
            Action::Drop
        } else {
            Action::Keep
        };
        columns.len()
    ];
    let mut subjects = Vec::new();
    for (name, spec) in fields {
        let p = FieldProcessor::new(name, spec, keys)
            .map_err(|e| RunErrorKind::Value(spec.transform.kind(), e))?;
        let Some(col) = columns.iter().position(|c| c == name) else {
            continue;
        };
        csv[col] = if p.drops_column() {
            Action::Drop
        } else {
            Action::Field(processors.len())
        };
        subjects.push(
            p.subject_column()
                .and_then(|s| columns.iter().position(|c| c == s)),
        );
        processors.push(p);
    }
    Ok(Plan {
        processors,
        csv,
        subjects,
        paths: Vec::new(),
        unlisted: policy.unlisted,
        on_error: policy.on_error,
        direction,
    })
}

fn compile_jsonl(
    policy: &Policy,
    keys: &Keyset,
    leaves: &[String],
    have_first: bool,
    direction: Direction,
) -> Result<Plan, RunErrorKind> {
    let fields: Vec<(&String, &FieldSpec)> = match direction {
        Direction::Apply => policy.fields.iter().collect(),
        Direction::Decrypt => policy.reversible_fields().collect(),
    };
    if have_first {
        // A listed path must exist in the first record (or be an object
        // holding leaves, which is refused: name the leaves).
        let missing: Vec<String> = fields
            .iter()
            .filter(|(k, _)| !leaves.contains(k))
            .map(|(k, _)| (*k).clone())
            .collect();
        if !missing.is_empty() && direction == Direction::Apply {
            return Err(RunErrorKind::Policy(PolicyError::MissingColumns(missing)));
        }
        if direction == Direction::Apply && policy.unlisted == Unlisted::Error {
            let unlisted: Vec<String> = leaves
                .iter()
                .filter(|l| !policy.fields.contains_key(*l))
                .cloned()
                .collect();
            if !unlisted.is_empty() {
                return Err(RunErrorKind::Policy(PolicyError::UnlistedColumns(unlisted)));
            }
        }
    }
    let mut processors = Vec::new();
    let mut paths = Vec::new();
    for (name, spec) in fields {
        let p = FieldProcessor::new(name, spec, keys)
            .map_err(|e| RunErrorKind::Value(spec.transform.kind(), e))?;
        paths.push((name.clone(), processors.len()));
        processors.push(p);
    }
    let unlisted = if direction == Direction::Apply {
        policy.unlisted
    } else {
        Unlisted::Keep
    };
    Ok(Plan {
        processors,
        csv: Vec::new(),
        subjects: Vec::new(),
        paths,
        unlisted,
        on_error: policy.on_error,
        direction,
    })
}

fn transform_value(
    plan: &Plan,
    i: usize,
    value: &[u8],
    subject: Option<&[u8]>,
    rng: &mut BufferedOsRng,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let p = &plan.processors[i];
    match plan.direction {
        Direction::Apply => p.transform(value, subject, rng, scratch, out),
        Direction::Decrypt => p.reverse(value, scratch, out),
    }
}

fn csv_chunk(
    plan: &Plan,
    chunk: &[u8],
    delimiter: u8,
    rng: &mut BufferedOsRng,
    scratch: &mut Scratch,
) -> Result<ChunkOut, ChunkError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(chunk);
    let mut wtr = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::with_capacity(chunk.len() + chunk.len() / 2));
    let mut rec = csv::ByteRecord::new();
    let mut out_rec = csv::ByteRecord::new();
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); plan.processors.len()];
    let mut counts = vec![0u64; plan.processors.len()];
    let (mut rows, mut dropped) = (0u64, 0u64);
    let any_output = plan.csv.iter().any(|a| !matches!(a, Action::Drop));
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(ChunkError {
                    local_row: rows + 1,
                    column: None,
                    kind: RunErrorKind::Malformed(csv_error_text(&e)),
                });
            }
        }
        rows += 1;
        if rec.len() != plan.csv.len() {
            return Err(ChunkError {
                local_row: rows,
                column: None,
                kind: RunErrorKind::Ragged {
                    expected: plan.csv.len(),
                    found: rec.len(),
                },
            });
        }
        out_rec.clear();
        let mut failed = None;
        for (col, action) in plan.csv.iter().enumerate() {
            match *action {
                Action::Keep => out_rec.push_field(&rec[col]),
                Action::Drop => {}
                Action::Field(i) => {
                    let subject = plan.subjects[i].map(|s| &rec[s]);
                    let value = &rec[col];
                    match transform_value(plan, i, value, subject, rng, scratch, &mut bufs[i]) {
                        Ok(()) => {
                            if !value.is_empty() {
                                counts[i] += 1;
                            }
                            out_rec.push_field(&bufs[i]);
                        }
                        Err(e) => {
                            failed = Some((i, e));
                            break;
                        }
                    }
                }
            }
        }
        if let Some((i, e)) = failed {
            if plan.on_error == OnError::DropRecord && plan.direction == Direction::Apply {
                dropped += 1;
                continue;
            }
            let p = &plan.processors[i];
            return Err(ChunkError {
                local_row: rows,
                column: Some(p.column().to_owned()),
                kind: RunErrorKind::Value(p.kind(), e),
            });
        }
        if any_output {
            wtr.write_byte_record(&out_rec).map_err(|e| ChunkError {
                local_row: rows,
                column: None,
                kind: RunErrorKind::Io(e.into()),
            })?;
        }
    }
    let bytes = wtr.into_inner().map_err(|e| ChunkError {
        local_row: rows,
        column: None,
        kind: RunErrorKind::Io(e.into_error()),
    })?;
    Ok(ChunkOut {
        bytes,
        rows,
        dropped,
        counts,
        bytes_in: chunk.len() as u64,
    })
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::Io(_) => "read failed".into(),
        _ => "malformed CSV".into(),
    }
}

fn jsonl_chunk(
    plan: &Plan,
    chunk: &[u8],
    rng: &mut BufferedOsRng,
    scratch: &mut Scratch,
) -> Result<ChunkOut, ChunkError> {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 2);
    let mut counts = vec![0u64; plan.processors.len()];
    let (mut rows, mut dropped) = (0u64, 0u64);
    let mut buf = Vec::new();
    let mut text = Vec::new();
    for line in chunk.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        rows += 1;
        let mut value = parse_json_object(line).map_err(|kind| ChunkError {
            local_row: rows,
            column: None,
            kind,
        })?;
        match transform_json(
            plan,
            &mut value,
            rng,
            scratch,
            &mut buf,
            &mut text,
            &mut counts,
        ) {
            Ok(()) => {}
            Err((path, kind)) => {
                if plan.on_error == OnError::DropRecord
                    && plan.direction == Direction::Apply
                    && matches!(kind, RunErrorKind::Value(..))
                {
                    dropped += 1;
                    continue;
                }
                return Err(ChunkError {
                    local_row: rows,
                    column: Some(path),
                    kind,
                });
            }
        }
        serde_json::to_writer(&mut out, &value).map_err(|e| ChunkError {
            local_row: rows,
            column: None,
            kind: RunErrorKind::Io(e.into()),
        })?;
        out.push(b'\n');
    }
    Ok(ChunkOut {
        bytes: out,
        rows,
        dropped,
        counts,
        bytes_in: chunk.len() as u64,
    })
}

fn transform_json(
    plan: &Plan,
    value: &mut Value,
    rng: &mut BufferedOsRng,
    scratch: &mut Scratch,
    buf: &mut Vec<u8>,
    text: &mut Vec<u8>,
    counts: &mut [u64],
) -> Result<(), (String, RunErrorKind)> {
    for (path, i) in &plan.paths {
        let p = &plan.processors[*i];
        if p.drops_column() {
            remove_path(value, path);
            continue;
        }
        // The subject's original text, read before anything is changed.
        let subject: Option<Vec<u8>> =
            p.subject_column()
                .and_then(|s| lookup(value, s))
                .and_then(|v| {
                    let mut t = Vec::new();
                    scalar_text(v, &mut t).then_some(t)
                });
        let Some(target) = lookup_mut(value, path) else {
            continue;
        };
        let mut apply = |v: &mut Value| -> Result<(), RunErrorKind> {
            text.clear();
            if v.is_null() || !scalar_text(v, text) {
                return Ok(());
            }
            transform_value(plan, *i, text, subject.as_deref(), rng, scratch, buf)
                .map_err(|e| RunErrorKind::Value(p.kind(), e))?;
            if !text.is_empty() {
                counts[*i] += 1;
            }
            let s = String::from_utf8(buf.clone())
                .map_err(|_| RunErrorKind::Value(p.kind(), Error::Invalid("UTF-8 output")))?;
            *v = Value::String(s);
            Ok(())
        };
        let r = match target {
            Value::Array(items) => items.iter_mut().try_for_each(&mut apply),
            Value::Object(_) => Err(RunErrorKind::Malformed(
                "the policy names an object; name its fields instead".into(),
            )),
            v => apply(v),
        };
        r.map_err(|k| (path.clone(), k))?;
    }
    if plan.unlisted == Unlisted::Drop {
        retain_listed(value, &mut String::new(), &plan.paths);
    } else if plan.unlisted == Unlisted::Error {
        let mut leaves = Vec::new();
        leaf_paths(value, &mut String::new(), &mut leaves);
        if let Some(l) = leaves
            .into_iter()
            .find(|l| !plan.paths.iter().any(|(p, _)| p == l))
        {
            return Err((
                l.clone(),
                RunErrorKind::Policy(PolicyError::UnlistedColumns(vec![l])),
            ));
        }
    }
    Ok(())
}

/// Strings as their content, numbers and booleans as their JSON text.
/// Returns false for null, arrays and objects.
fn scalar_text(v: &Value, out: &mut Vec<u8>) -> bool {
    match v {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        _ => return false,
    }
    true
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn lookup_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(v, |v, k| v.get_mut(k))
}

fn remove_path(v: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (lookup_mut(v, p), l),
        None => (Some(v), path),
    };
    if let Some(Value::Object(map)) = parent {
        map.shift_remove(last);
    }
}

/// Keeps only leaves that are listed (or lie under a listed path).
fn retain_listed(v: &mut Value, prefix: &mut String, listed: &[(String, usize)]) {
    if let Value::Object(map) = v {
        map.retain(|k, child| {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(k);
            let keep = if listed.iter().any(|(p, _)| p == prefix) {
                true
            } else if child.is_object()
                && listed.iter().any(|(p, _)| {
                    p.starts_with(prefix.as_str()) && p.as_bytes().get(prefix.len()) == Some(&b'.')
                })
            {
                retain_listed(child, prefix, listed);
                true
            } else {
                false
            };
            prefix.truncate(len);
            keep
        });
    }
}

fn leaf_paths(v: &Value, prefix: &mut String, out: &mut Vec<String>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(k);
            if child.is_object() {
                leaf_paths(child, prefix, out);
            } else {
                out.push(prefix.clone());
            }
            prefix.truncate(len);
        }
    }
}

fn parse_json_object(line: &[u8]) -> Result<Value, RunErrorKind> {
    match serde_json::from_slice::<Value>(line) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(RunErrorKind::Malformed(
            "the line is JSON but not an object".into(),
        )),
        // serde_json can quote the offending token: keep only category and position.
        Err(e) => Err(RunErrorKind::Malformed(
            if std::str::from_utf8(line).is_err() {
                "not valid UTF-8".into()
            } else {
                std::format!(
                    "invalid JSON ({:?} error at character {})",
                    e.classify(),
                    e.column()
                )
                .to_lowercase()
            },
        )),
    }
}

fn parse_csv_record(bytes: &[u8], delimiter: u8) -> Result<csv::ByteRecord, RunErrorKind> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(_) => Ok(rec),
        Err(e) => Err(RunErrorKind::Malformed(csv_error_text(&e))),
    }
}

/// Cuts a byte stream into chunks that end at record boundaries.
pub(crate) struct ChunkReader<R> {
    input: R,
    format: Format,
    target: usize,
    buf: Vec<u8>,
    eof: bool,
    first: bool,
}

impl<R: Read> ChunkReader<R> {
    pub(crate) fn new(input: R, format: Format, target: usize) -> Self {
        ChunkReader {
            input,
            format,
            target,
            buf: Vec::new(),
            eof: false,
            first: true,
        }
    }

    fn fill(&mut self, want: usize) -> Result<(), RunErrorKind> {
        let mut tmp = [0u8; 64 * 1024];
        while self.buf.len() < want && !self.eof {
            match self.input.read(&mut tmp) {
                Ok(0) => self.eof = true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RunErrorKind::Io(e)),
            }
        }
        if self.first && self.buf.len() >= 3 {
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            self.first = false;
        }
        Ok(())
    }

    /// The end (exclusive) of the last complete record in `buf`, if any.
    fn boundary(&self, all: bool) -> Option<usize> {
        let buf = &self.buf[..];
        match self.format {
            Format::Jsonl => memchr::memrchr(b'\n', buf).map(|i| i + 1),
            // Without a quote every newline ends a record: one backward
            // search. Otherwise jump between quotes and newlines, tracking
            // whether we are inside a quoted field.
            Format::Csv if !all && memchr::memchr(b'"', buf).is_none() => {
                memchr::memrchr(b'\n', buf).map(|i| i + 1)
            }
            Format::Csv => {
                let mut in_quote = false;
                let mut last = None;
                for i in memchr::memchr2_iter(b'"', b'\n', buf) {
                    if buf[i] == b'"' {
                        in_quote = !in_quote;
                    } else if !in_quote {
                        last = Some(i + 1);
                        if all {
                            return last;
                        }
                    }
                }
                last
            }
        }
    }

    /// The first CSV record (the header), removed from the stream.
    pub(crate) fn first_record(&mut self, _delimiter: u8) -> Result<Option<Vec<u8>>, RunErrorKind> {
        let mut want = 64 * 1024;
        loop {
            self.fill(want)?;
            if let Some(end) = self.boundary(true) {
                return Ok(Some(self.buf.drain(..end).collect()));
            }
            if self.eof {
                return Ok(if self.buf.is_empty() {
                    None
                } else {
                    Some(core::mem::take(&mut self.buf))
                });
            }
            if self.buf.len() > MAX_RECORD_BYTES {
                return Err(RunErrorKind::Malformed(
                    "header record longer than 64 MiB (an unclosed quote?)".into(),
                ));
            }
            want = self.buf.len() * 2;
        }
    }

    /// Puts a record back at the front of the stream.
    fn unread(&mut self, record: Vec<u8>) {
        let mut v = record;
        v.extend_from_slice(&self.buf);
        self.buf = v;
    }

    /// The first non-blank line, left in the stream.
    fn peek_first_line(&mut self) -> Result<Option<Vec<u8>>, RunErrorKind> {
        let mut want = 64 * 1024;
        loop {
            self.fill(want)?;
            for line in self.buf.split_inclusive(|&b| b == b'\n') {
                let complete = line.ends_with(b"\n") || self.eof;
                if !complete {
                    break;
                }
                let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
                let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
                if !trimmed.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Some(trimmed.to_vec()));
                }
            }
            if self.eof {
                return Ok(None);
            }
            if self.buf.len() > MAX_RECORD_BYTES {
                return Err(RunErrorKind::Malformed("line longer than 64 MiB".into()));
            }
            want = self.buf.len() * 2;
        }
    }

    /// The next run of whole records, about `target` bytes long.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, RunErrorKind> {
        let mut want = self.target;
        loop {
            self.fill(want)?;
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(core::mem::take(&mut self.buf)));
            }
            if let Some(end) = self.boundary(false) {
                let rest = self.buf.split_off(end);
                return Ok(Some(core::mem::replace(&mut self.buf, rest)));
            }
            if self.buf.len() > MAX_RECORD_BYTES {
                return Err(RunErrorKind::Malformed(
                    "record longer than 64 MiB (an unclosed quote?)".into(),
                ));
            }
            want = self.buf.len() * 2;
        }
    }
}
