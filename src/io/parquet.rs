//! Parquet in and out for `deid apply` and `deid decrypt`, on the batch API
//! of `src/arrow/mod.rs`.
//!
//! ```text
//! Parquet in:  row group i ──worker: decode batches, transform, encode──▶ column chunks ─┐
//! CSV in:      reader: 128 Ki rows as a Utf8 batch ──worker: transform, encode─────────▶ ├─▶ writer (this
//!                                                                    (or render as CSV) ─┘   thread), in order
//! ```
//!
//! Every input row group becomes one output row group (CSV input: one row
//! group per 128 Ki rows), encoded and compressed by the worker that
//! transformed it, so every core works and the writer only appends bytes.
//! Memory is bounded by the row groups in flight (twice the thread count),
//! each held as its encoded output, never by the file size. Errors come in
//! input order with the input row number; callers writing a file use
//! [`AtomicFile`](super::atomic::AtomicFile) so a failure leaves no output.

use std::borrow::ToOwned;
use std::boxed::Box;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::string::{String, ToString};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use crossbeam_channel::bounded;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use super::error::{InputError, InputErrorKind};
use super::format::Format;
use super::pipeline::{Progress, Summary};
use super::table::{Row, TableOptions, TableReader};
use crate::arrow::{BatchTransformer, arrow_message};
use crate::key::Keyset;
use crate::policy::{Direction, Policy};

/// Rows per Arrow batch when decoding, and per row group from CSV input.
const BATCH_ROWS: usize = 8192;
const CSV_ROW_GROUP_ROWS: usize = 128 * 1024;

/// The compression of a Parquet output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// Zstandard (level 1).
    Zstd,
    /// Snappy (pandas' and Spark's default).
    Snappy,
    /// Uncompressed.
    None,
}

impl std::str::FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "zstd" => Ok(Codec::Zstd),
            "snappy" => Ok(Codec::Snappy),
            "none" | "uncompressed" => Ok(Codec::None),
            other => Err(std::format!(
                "unknown compression '{other}' (expected zstd, snappy or none)"
            )),
        }
    }
}

impl Codec {
    fn parquet(self) -> Compression {
        match self {
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
            Codec::Snappy => Compression::SNAPPY,
            Codec::None => Compression::UNCOMPRESSED,
        }
    }
}

/// How to run a Parquet job. Built like
/// [`PipelineOptions`](super::pipeline::PipelineOptions).
#[derive(Clone, Debug)]
pub struct ParquetOptions {
    input: Format,
    output: Format,
    delimiter: u8,
    has_header: bool,
    threads: usize,
    compression: Option<Codec>,
    direction: Direction,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            input: Format::Parquet,
            output: Format::Parquet,
            delimiter: b',',
            has_header: true,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            compression: None,
            direction: Direction::Apply,
        }
    }
}

impl ParquetOptions {
    /// Parquet to Parquet, all cores, the input's codec, applying.
    pub fn new() -> Self {
        Self::default()
    }
    /// The input's format (Parquet or CSV).
    pub fn input_format(mut self, f: Format) -> Self {
        self.input = f;
        self
    }
    /// The output's format (Parquet or CSV).
    pub fn output_format(mut self, f: Format) -> Self {
        self.output = f;
        self
    }
    /// CSV delimiter (CSV input or output).
    pub fn delimiter(mut self, d: u8) -> Self {
        self.delimiter = d;
        self
    }
    /// Whether a CSV input has a header row.
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }
    /// Worker threads (at least 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
    /// Output compression; `None` keeps the input's (snappy for CSV input).
    pub fn compression(mut self, c: Option<Codec>) -> Self {
        self.compression = c;
        self
    }
    /// Apply or decrypt.
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = d;
        self
    }
}

/// The input of a Parquet job.
#[non_exhaustive]
pub enum ParquetInput {
    /// A Parquet file (Parquet needs to seek: standard input is first
    /// copied to a temporary file).
    File(File),
    /// CSV text.
    Csv(Box<dyn Read + Send>),
}

fn parquet_error(e: &ParquetError) -> InputErrorKind {
    // The decoder's messages describe structure (pages, lengths, codecs);
    // Arrow errors go through the filter that drops any value they quote.
    match e {
        ParquetError::ArrowError(m) => InputErrorKind::Arrow(std::format!("invalid data: {m}")),
        ParquetError::External(_) => {
            InputErrorKind::Arrow("a page could not be decoded".to_owned())
        }
        other => InputErrorKind::Arrow(std::format!("not a valid Parquet file: {other}")),
    }
}

/// A Parquet file read by offset (`pread`), so that workers decoding row
/// groups in parallel never share a file position. `File`'s own
/// `ChunkReader` seeks a duplicated descriptor, whose position every
/// duplicate shares: two workers seeking at once read each other's pages
/// (seen as "Data corruption detected" from the decompressor).
struct PositionalFile(Arc<File>);

/// A [`Read`] at its own offset of a [`PositionalFile`].
struct PositionalRead {
    file: Arc<File>,
    pos: u64,
}

fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buf, offset);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "reading Parquet by offset needs a Unix or Windows file",
        ))
    }
}

impl Read for PositionalRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl parquet::file::reader::Length for PositionalFile {
    fn len(&self) -> u64 {
        self.0.metadata().map_or(0, |m| m.len())
    }
}

impl parquet::file::reader::ChunkReader for PositionalFile {
    type T = std::io::BufReader<PositionalRead>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(std::io::BufReader::new(PositionalRead {
            file: Arc::clone(&self.0),
            pos: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let mut buf = std::vec![0u8; length];
        let mut done = 0;
        while done < length {
            let n = read_at(&self.0, &mut buf[done..], start + done as u64)?;
            if n == 0 {
                return Err(ParquetError::EOF(std::format!(
                    "expected {length} bytes at offset {start}, the file ends after {done}"
                )));
            }
            done += n;
        }
        Ok(buf.into())
    }
}

/// One unit of work and its result.
struct Unit {
    chunks: Option<Vec<ArrowColumnChunk>>,
    csv: Vec<u8>,
    rows_in: u64,
    rows_out: u64,
    dropped: u64,
    values: Vec<u64>,
    bytes_in: u64,
}

/// Runs `policy` over a Parquet or CSV input into a Parquet or CSV output
/// (at least one side Parquet).
///
/// # Errors
/// As [`pipeline::run`](super::pipeline::run), plus
/// [`InputErrorKind::Arrow`] for an unreadable Parquet file, a schema the
/// policy cannot take or a format pair without Parquet.
#[allow(clippy::too_many_lines)]
pub fn run(
    policy: &Policy,
    keys: &Keyset,
    input: ParquetInput,
    source: &str,
    output: &mut (dyn Write + Send),
    opts: &ParquetOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, InputError> {
    let start = Instant::now();
    let err = |row: Option<u64>, kind| InputError::new(source, row, None, kind);
    let threads = opts.threads.max(1);

    // What fixes the schema, read before anything is written.
    enum Src {
        Parquet {
            file: File,
            meta: ArrowReaderMetadata,
        },
        Csv(Box<TableReader>),
    }
    let (src, schema, codec) = match input {
        ParquetInput::File(file) => {
            let meta = ArrowReaderMetadata::load(&file, Default::default())
                .map_err(|e| err(None, parquet_error(&e)))?;
            let codec = meta
                .metadata()
                .row_groups()
                .first()
                .and_then(|rg| rg.columns().first())
                .map_or(Codec::Snappy, |c| match c.compression() {
                    Compression::ZSTD(_) => Codec::Zstd,
                    Compression::UNCOMPRESSED => Codec::None,
                    _ => Codec::Snappy,
                });
            let schema = Arc::clone(meta.schema());
            (Src::Parquet { file, meta }, schema, codec)
        }
        ParquetInput::Csv(r) => {
            let table = TableReader::from_reader(
                r,
                source,
                Format::Csv,
                &TableOptions::new()
                    .delimiter(opts.delimiter)
                    .has_header(opts.has_header),
            )?;
            let fields: Vec<Field> = table
                .columns()
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect();
            (
                Src::Csv(Box::new(table)),
                Arc::new(Schema::new(fields)),
                Codec::Snappy,
            )
        }
    };
    let transformer =
        BatchTransformer::with_source(policy, keys, Arc::clone(&schema), opts.direction, source)?;
    let out_schema = transformer.output_schema();
    if out_schema.fields().is_empty() {
        return Err(err(
            None,
            InputErrorKind::Arrow("the policy drops every column: nothing to write".to_owned()),
        ));
    }
    let parquet_out = opts.output == Format::Parquet;
    let codec = opts.compression.unwrap_or(codec);

    let mut totals = Summary::empty(threads);
    totals.columns = transformer.counted_columns();
    totals.dropped_columns = transformer.dropped_columns().to_vec();
    let mut bytes_out = 0u64;

    // Writers: Parquet through the file writer, CSV straight to `output`,
    // both counting the bytes.
    let mut counting = Counting {
        inner: output,
        n: 0,
    };
    let mut factory = None;
    let mut csv_leaves = Vec::new();
    let mut sink = if parquet_out {
        let props = WriterProperties::builder()
            .set_compression(codec.parquet())
            .build();
        let w = ArrowWriter::try_new(counting, Arc::clone(&out_schema), Some(props))
            .map_err(|e| err(None, parquet_error(&e)))?;
        let (w, f) = w
            .into_serialized_writer()
            .map_err(|e| err(None, parquet_error(&e)))?;
        factory = Some(f);
        Sink::Parquet(w)
    } else {
        csv_leaves = text_columns(&out_schema);
        let mut header = Vec::new();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(opts.delimiter)
                .from_writer(&mut header);
            w.write_record(&csv_leaves)
                .map_err(|e| err(None, InputErrorKind::Io(e.into())))?;
            w.flush().map_err(|e| err(None, InputErrorKind::Io(e)))?;
        }
        counting
            .write_all(&header)
            .map_err(|e| err(None, InputErrorKind::Io(e)))?;
        Sink::Csv(counting)
    };

    // Work items: row groups (Parquet) or batches of CSV rows.
    enum Job {
        RowGroup {
            index: usize,
            first_row: u64,
        },
        Batch {
            batch: RecordBatch,
            first_row: u64,
            bytes: u64,
        },
    }
    let in_flight = 2 * threads;
    let (job_tx, job_rx) = bounded::<(u64, Job)>(threads);
    let (done_tx, done_rx) = bounded::<(u64, Result<Unit, InputError>)>(in_flight);
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = permit_tx.send(());
    }
    let stop = AtomicBool::new(false);

    let (file, meta, mut table) = match src {
        Src::Parquet { file, meta } => (Some(file), Some(meta), None),
        Src::Csv(t) => (None, None, Some(t)),
    };
    let result: Result<(), InputError> = std::thread::scope(|s| {
        // Producer.
        {
            let stop = &stop;
            let meta = meta.clone();
            let done_tx = done_tx.clone();
            let schema = Arc::clone(&schema);
            let table = table.as_deref_mut();
            s.spawn(move || {
                let mut seq = 0u64;
                let mut send = |job: Job| -> bool {
                    if stop.load(Ordering::Relaxed) || permit_rx.recv().is_err() {
                        return false;
                    }
                    let ok = job_tx.send((seq, job)).is_ok();
                    seq += 1;
                    ok
                };
                if let Some(meta) = &meta {
                    let mut first_row = 0u64;
                    for (index, rg) in meta.metadata().row_groups().iter().enumerate() {
                        if !send(Job::RowGroup { index, first_row }) {
                            return;
                        }
                        first_row += rg.num_rows().max(0) as u64;
                    }
                } else if let Some(table) = table {
                    let mut first_row = 0u64;
                    loop {
                        let before = table.bytes_read();
                        match csv_batch(table, &schema) {
                            Ok(Some(batch)) => {
                                let rows = batch.num_rows() as u64;
                                let bytes = table.bytes_read().saturating_sub(before);
                                if !send(Job::Batch {
                                    batch,
                                    first_row,
                                    bytes,
                                }) {
                                    return;
                                }
                                first_row += rows;
                            }
                            Ok(None) => return,
                            Err(e) => {
                                // Reported in order, after every earlier unit.
                                if !stop.load(Ordering::Relaxed) && permit_rx.recv().is_ok() {
                                    let _ = done_tx.send((seq, Err(e)));
                                }
                                return;
                            }
                        }
                    }
                }
            });
        }
        // Workers.
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let transformer = &transformer;
            let factory = factory.as_ref();
            let out_schema = &out_schema;
            let file = file.as_ref();
            let meta = meta.as_ref();
            let csv_leaves = &csv_leaves;
            s.spawn(move || {
                while let Ok((seq, job)) = job_rx.recv() {
                    let mut unit = Unit {
                        chunks: None,
                        csv: Vec::new(),
                        rows_in: 0,
                        rows_out: 0,
                        dropped: 0,
                        values: std::vec![0; transformer.counted_columns().len()],
                        bytes_in: 0,
                    };
                    let r = (|| -> Result<(), InputError> {
                        let mut writers = match factory {
                            Some(f) => {
                                Some(f.create_column_writers(seq as usize).map_err(|e| {
                                    InputError::new(source, None, None, parquet_error(&e))
                                })?)
                            }
                            None => None,
                        };
                        let mut each = |batch: RecordBatch,
                                        first_row: u64|
                         -> Result<(), InputError> {
                            let out = transformer.transform_counted(&batch, first_row)?;
                            unit.rows_in += batch.num_rows() as u64;
                            unit.rows_out += out.batch.num_rows() as u64;
                            unit.dropped += out.rows_dropped;
                            for (slot, v) in unit.values.iter_mut().zip(&out.values) {
                                *slot += v;
                            }
                            let at = |k| InputError::new(source, Some(first_row + 1), None, k);
                            match writers.as_mut() {
                                Some(ws) => {
                                    let mut ws = ws.iter_mut();
                                    for (a, f) in
                                        out.batch.columns().iter().zip(out_schema.fields())
                                    {
                                        for leaf in compute_leaves(f, a)
                                            .map_err(|e| at(parquet_error(&e)))?
                                        {
                                            let w = ws.next().ok_or_else(|| {
                                                at(InputErrorKind::Arrow(
                                                    "column writers do not match the schema"
                                                        .to_owned(),
                                                ))
                                            })?;
                                            w.write(&leaf).map_err(|e| at(parquet_error(&e)))?;
                                        }
                                    }
                                }
                                None => write_csv(
                                    &out.batch,
                                    csv_leaves.len(),
                                    opts.delimiter,
                                    &mut unit.csv,
                                )
                                .map_err(at)?,
                            }
                            Ok(())
                        };
                        match job {
                            Job::RowGroup { index, first_row } => {
                                let (Some(file), Some(meta)) = (file, meta) else {
                                    return Ok(());
                                };
                                let f = file.try_clone().map_err(|e| {
                                    InputError::new(source, None, None, InputErrorKind::Io(e))
                                })?;
                                let f = PositionalFile(Arc::new(f));
                                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                                    f,
                                    meta.clone(),
                                )
                                .with_row_groups(std::vec![index])
                                .with_batch_size(BATCH_ROWS)
                                .build()
                                .map_err(|e| {
                                    InputError::new(
                                        source,
                                        Some(first_row + 1),
                                        None,
                                        parquet_error(&e),
                                    )
                                })?;
                                unit.bytes_in =
                                    meta.metadata().row_group(index).compressed_size().max(0)
                                        as u64;
                                let mut row = first_row;
                                for batch in reader {
                                    let batch = batch.map_err(|e| {
                                        InputError::new(
                                            source,
                                            Some(row + 1),
                                            None,
                                            InputErrorKind::Arrow(arrow_message(&e)),
                                        )
                                    })?;
                                    let n = batch.num_rows() as u64;
                                    each(batch, row)?;
                                    row += n;
                                }
                            }
                            Job::Batch {
                                batch,
                                first_row,
                                bytes,
                            } => {
                                unit.bytes_in = bytes;
                                each(batch, first_row)?;
                            }
                        }
                        if let Some(ws) = writers {
                            unit.chunks = Some(
                                ws.into_iter()
                                    .map(|w| w.close())
                                    .collect::<Result<_, _>>()
                                    .map_err(|e| {
                                        InputError::new(source, None, None, parquet_error(&e))
                                    })?,
                            );
                        }
                        Ok(())
                    })();
                    if done_tx.send((seq, r.map(|()| unit))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(job_rx);
        drop(done_tx);

        // Writer: in input order.
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut bytes_in = 0u64;
        let mut outcome = Ok(());
        'recv: while let Ok((seq, r)) = done_rx.recv() {
            pending.insert(seq, r);
            while let Some(r) = pending.remove(&next) {
                let step = (|| -> Result<(), InputError> {
                    let unit = r?;
                    if let (Sink::Parquet(w), Some(chunks)) = (&mut sink, unit.chunks) {
                        if unit.rows_out > 0 {
                            let mut rg = w
                                .next_row_group()
                                .map_err(|e| err(None, parquet_error(&e)))?;
                            for c in chunks {
                                c.append_to_row_group(&mut rg)
                                    .map_err(|e| err(None, parquet_error(&e)))?;
                            }
                            rg.close().map_err(|e| err(None, parquet_error(&e)))?;
                        }
                    } else if let Sink::Csv(c) = &mut sink {
                        c.write_all(&unit.csv)
                            .map_err(|e| err(None, InputErrorKind::Io(e)))?;
                    }
                    totals.rows_in += unit.rows_in;
                    totals.rows_out += unit.rows_out;
                    totals.rows_dropped += unit.dropped;
                    for (slot, v) in totals.columns.iter_mut().zip(&unit.values) {
                        slot.values += v;
                    }
                    bytes_in += unit.bytes_in;
                    progress(Progress {
                        bytes: bytes_in,
                        rows: totals.rows_in,
                    });
                    Ok(())
                })();
                if let Err(e) = step {
                    outcome = Err(e);
                    break 'recv;
                }
                next += 1;
                let _ = permit_tx.send(());
            }
        }
        stop.store(true, Ordering::Relaxed);
        drop(permit_tx);
        // Unblock and drain the workers.
        while done_rx.try_recv().is_ok() {}
        drop(done_rx);
        totals.bytes_in = bytes_in;
        outcome
    });
    result?;
    let mut counting = match sink {
        Sink::Parquet(w) => w.into_inner().map_err(|e| err(None, parquet_error(&e)))?,
        Sink::Csv(c) => c,
    };
    counting
        .flush()
        .map_err(|e| err(None, InputErrorKind::Io(e)))?;
    bytes_out += counting.n;
    if let Some(file) = &file {
        totals.bytes_in = file.metadata().map_or(totals.bytes_in, |m| m.len());
    }
    for (slot, d) in totals.columns.iter_mut().zip(transformer.detections()) {
        slot.detections = d;
    }
    totals.bytes_out = bytes_out;
    totals.seconds = start.elapsed().as_secs_f64().max(1e-9);
    Ok(totals)
}

enum Sink<'a> {
    Parquet(SerializedFileWriter<Counting<'a>>),
    Csv(Counting<'a>),
}

/// Counts the bytes written through it.
struct Counting<'a> {
    inner: &'a mut (dyn Write + Send),
    n: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The next batch of CSV rows as `Utf8` columns; `None` at the end.
fn csv_batch(
    table: &mut TableReader,
    schema: &SchemaRef,
) -> Result<Option<RecordBatch>, InputError> {
    let n = table.columns().len();
    let mut values: Vec<Vec<u8>> = std::vec![Vec::new(); n];
    let mut offsets: Vec<Vec<i32>> = std::vec![std::vec![0]; n];
    let mut row = Row::new();
    let mut rows = 0;
    while rows < CSV_ROW_GROUP_ROWS && table.read_row(&mut row)? {
        rows += 1;
        for c in 0..n {
            let v = row.get(c).unwrap_or_default();
            if std::str::from_utf8(v).is_err() {
                return Err(InputError::new(
                    table.source(),
                    Some(table.row_number()),
                    Some(&table.columns()[c]),
                    InputErrorKind::Utf8,
                ));
            }
            values[c].extend_from_slice(v);
            let end = i32::try_from(values[c].len()).map_err(|_| {
                InputError::new(
                    table.source(),
                    Some(table.row_number()),
                    Some(&table.columns()[c]),
                    InputErrorKind::Arrow(
                        "over 2 GiB of text in one column of a row group".to_owned(),
                    ),
                )
            })?;
            offsets[c].push(end);
        }
    }
    if rows == 0 {
        return Ok(None);
    }
    let columns = values
        .into_iter()
        .zip(offsets)
        .map(|(v, o)| {
            StringArray::try_new(
                arrow_buffer::OffsetBuffer::new(arrow_buffer::ScalarBuffer::from(o)),
                v.into(),
                None,
            )
            .map(|a| Arc::new(a) as ArrayRef)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            InputError::new(
                table.source(),
                None,
                None,
                InputErrorKind::Arrow(arrow_message(&e)),
            )
        })?;
    RecordBatch::try_new(Arc::clone(schema), columns)
        .map(Some)
        .map_err(|e| {
            InputError::new(
                table.source(),
                None,
                None,
                InputErrorKind::Arrow(arrow_message(&e)),
            )
        })
}

/// The leaf arrays of a batch (struct fields flattened, values under a null
/// struct read as null), each rendered as text.
pub(crate) fn text_leaves(batch: &RecordBatch) -> Result<Vec<ArrayRef>, InputErrorKind> {
    fn walk(
        a: &ArrayRef,
        parent: Option<&arrow_buffer::NullBuffer>,
        out: &mut Vec<ArrayRef>,
    ) -> Result<(), InputErrorKind> {
        match a.data_type() {
            DataType::Struct(f) if !f.is_empty() => {
                let s = a.as_struct();
                let nulls = arrow_buffer::NullBuffer::union(parent, s.nulls());
                for c in s.columns() {
                    walk(c, nulls.as_ref(), out)?;
                }
                Ok(())
            }
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Map(..) => {
                // One JSON array per row, like a JSON Lines array.
                let text = list_json(a)?;
                out.push(with_nulls(text, parent)?);
                Ok(())
            }
            _ => {
                let text = arrow_cast::cast(a.as_ref(), &DataType::Utf8).map_err(|_| {
                    InputErrorKind::Arrow(std::format!(
                        "values of type {} have no text form",
                        a.data_type()
                    ))
                })?;
                out.push(with_nulls(text, parent)?);
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    for c in batch.columns() {
        walk(c, None, &mut out)?;
    }
    Ok(out)
}

fn with_nulls(
    a: ArrayRef,
    parent: Option<&arrow_buffer::NullBuffer>,
) -> Result<ArrayRef, InputErrorKind> {
    let Some(p) = parent else { return Ok(a) };
    let s = a.as_string::<i32>();
    let nulls = arrow_buffer::NullBuffer::union(Some(p), s.nulls());
    StringArray::try_new(s.offsets().clone(), s.values().clone(), nulls)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)))
}

/// A list column as one JSON array of strings per row.
fn list_json(a: &ArrayRef) -> Result<ArrayRef, InputErrorKind> {
    let mut out: Vec<Option<String>> = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if a.is_null(i) {
            out.push(None);
            continue;
        }
        let item = match a.data_type() {
            DataType::List(_) => a.as_list::<i32>().value(i),
            DataType::LargeList(_) => a.as_list::<i64>().value(i),
            DataType::FixedSizeList(..) => a.as_fixed_size_list().value(i),
            _ => {
                return Err(InputErrorKind::Arrow(
                    "a map column has no text form".to_owned(),
                ));
            }
        };
        let batch = RecordBatch::try_from_iter([("v", item)])
            .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)))?;
        let leaves = text_leaves(&batch)?;
        let mut items = Vec::new();
        for leaf in &leaves {
            let s = leaf.as_string::<i32>();
            for j in 0..s.len() {
                items.push(if s.is_null(j) {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(s.value(j).to_owned())
                });
            }
        }
        out.push(Some(serde_json::Value::Array(items).to_string()));
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// Appends `batch` as CSV records (no header): leaves flattened, nulls
/// empty.
fn write_csv(
    batch: &RecordBatch,
    width: usize,
    delimiter: u8,
    out: &mut Vec<u8>,
) -> Result<(), InputErrorKind> {
    let leaves = text_leaves(batch)?;
    if leaves.len() != width {
        return Err(InputErrorKind::Arrow(
            "the output's columns changed".to_owned(),
        ));
    }
    let cols: Vec<&StringArray> = leaves.iter().map(|a| a.as_string::<i32>()).collect();
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out);
    for i in 0..batch.num_rows() {
        for c in &cols {
            let v = if c.is_null(i) { "" } else { c.value(i) };
            w.write_field(v).map_err(|e| InputErrorKind::Io(e.into()))?;
        }
        w.write_record(None::<&[u8]>)
            .map_err(|e| InputErrorKind::Io(e.into()))?;
    }
    w.flush().map_err(InputErrorKind::Io)?;
    Ok(())
}

/// Reads a whole stream into a temporary file (Parquet must seek).
///
/// # Errors
/// I/O.
pub fn spool(mut r: Box<dyn Read + Send>) -> std::io::Result<File> {
    let mut f = tempfile::tempfile()?;
    std::io::copy(&mut r, &mut f)?;
    std::io::Seek::rewind(&mut f)?;
    Ok(f)
}

/// Row-by-row reading of a Parquet file for `scan` and the audits
/// ([`TableReader`]): one decoded batch at a time, values as text.
pub(crate) struct ParquetRows {
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    leaves: Vec<ArrayRef>,
    pos: usize,
    rows_read: u64,
    total_rows: u64,
    file_len: u64,
}

impl ParquetRows {
    /// Opens `file`; returns the reader and its column names.
    pub(crate) fn open(file: File) -> Result<(Self, Vec<String>), InputErrorKind> {
        let file_len = file.metadata().map_or(0, |m| m.len());
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| parquet_error(&e))?
            .with_batch_size(BATCH_ROWS);
        let columns = text_columns(builder.schema());
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let reader = builder.build().map_err(|e| parquet_error(&e))?;
        Ok((
            ParquetRows {
                reader,
                leaves: Vec::new(),
                pos: 0,
                rows_read: 0,
                total_rows,
                file_len,
            },
            columns,
        ))
    }

    /// Approximate bytes consumed (the file's share of rows read).
    pub(crate) fn bytes_read(&self) -> u64 {
        if self.total_rows == 0 {
            return 0;
        }
        (self.file_len as f64 * self.rows_read as f64 / self.total_rows as f64) as u64
    }

    /// The next row's values (`None` for null); false at the end.
    pub(crate) fn read_row(
        &mut self,
        out: &mut Vec<Option<Vec<u8>>>,
    ) -> Result<bool, InputErrorKind> {
        while self.leaves.first().is_none_or(|l| self.pos >= l.len()) {
            match self.reader.next() {
                None => return Ok(false),
                Some(Err(e)) => return Err(InputErrorKind::Arrow(arrow_message(&e))),
                Some(Ok(b)) => {
                    self.leaves = text_leaves(&b)?;
                    self.pos = 0;
                    if self.leaves.is_empty() {
                        return Ok(false);
                    }
                }
            }
        }
        out.resize(self.leaves.len(), None);
        for (slot, leaf) in out.iter_mut().zip(&self.leaves) {
            let s = leaf.as_string::<i32>();
            if s.is_null(self.pos) {
                *slot = None;
            } else {
                let v = slot.get_or_insert_with(Vec::new);
                v.clear();
                v.extend_from_slice(s.value(self.pos).as_bytes());
            }
        }
        self.pos += 1;
        self.rows_read += 1;
        Ok(true)
    }
}

/// The column names of a schema read as text ([`text_leaves`]): struct
/// fields dotted, a list one column.
pub(crate) fn text_columns(schema: &Schema) -> Vec<String> {
    fn walk(f: &Field, prefix: &str, out: &mut Vec<String>) {
        let path = if prefix.is_empty() {
            f.name().clone()
        } else {
            std::format!("{prefix}.{}", f.name())
        };
        match f.data_type() {
            DataType::Struct(children) if !children.is_empty() => {
                for c in children {
                    walk(c, &path, out);
                }
            }
            _ => out.push(path),
        }
    }
    let mut out = Vec::new();
    for f in schema.fields() {
        walk(f, "", &mut out);
    }
    out
}
