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
use std::string::String;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use crossbeam_channel::bounded;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, Encoding, Type as PhysicalType, ZstdLevel};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::ParquetError;
use parquet::file::metadata::{
    ColumnChunkMetaData, PageIndexPolicy, ParquetMetaData, RowGroupMetaData,
};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::ChunkReader;
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use super::error::{InputError, InputErrorKind};
use super::format::Format;
use super::pipeline::{
    PipelineOptions, Progress, READER_PANICKED, Summary, WORKER_PANICKED, contained,
};
use super::record::CsvWriter;
use super::table::{Row, TableOptions, TableReader};
use crate::arrow::{BatchTransformer, arrow_message, placeholder, text_column_names, text_leaves};

mod dictionary;
mod pages;
mod pseudonyms;
mod text;
use crate::key::Keyset;
use crate::policy::Policy;

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
    /// The default output codec for an input compressed with `input`: the
    /// same, or zstd for a codec deid reads but does not write (gzip, LZ4,
    /// Brotli).
    fn output_for(input: Compression) -> Self {
        match input {
            Compression::SNAPPY => Codec::Snappy,
            Compression::UNCOMPRESSED => Codec::None,
            _ => Codec::Zstd,
        }
    }

    fn parquet(self) -> Compression {
        match self {
            Codec::Zstd => Compression::ZSTD(ZstdLevel::default()),
            Codec::Snappy => Compression::SNAPPY,
            Codec::None => Compression::UNCOMPRESSED,
        }
    }
}

/// How to run a Parquet job: the [`PipelineOptions`] every `apply` and
/// `decrypt` takes (input format, CSV delimiter and header, threads,
/// direction), plus the output's format and compression.
///
/// # Example
/// ```
/// use deid::io::Format;
/// use deid::io::parquet::{Codec, ParquetOptions};
/// use deid::io::pipeline::PipelineOptions;
///
/// // CSV in (';'-separated), Parquet out with zstd, on 4 threads.
/// let opts = ParquetOptions::from(PipelineOptions::new().delimiter(b';').threads(4))
///     .output_format(Format::Parquet)
///     .compression(Some(Codec::Zstd));
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
pub struct ParquetOptions {
    pipeline: PipelineOptions,
    output: Format,
    compression: Option<Codec>,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions::from(PipelineOptions::new().format(Format::Parquet))
    }
}

impl From<PipelineOptions> for ParquetOptions {
    /// The input format, delimiter, header, threads and direction of
    /// `pipeline`; Parquet out with the input's codec.
    fn from(pipeline: PipelineOptions) -> Self {
        ParquetOptions {
            pipeline,
            output: Format::Parquet,
            compression: None,
        }
    }
}

impl ParquetOptions {
    /// Parquet to Parquet, all cores, the input's codec, applying.
    pub fn new() -> Self {
        Self::default()
    }
    /// The options shared with CSV and JSON Lines (the input's format).
    pub fn pipeline(&self) -> &PipelineOptions {
        &self.pipeline
    }
    /// Changes the shared options (a builder call on them).
    pub fn with_pipeline(mut self, f: impl FnOnce(PipelineOptions) -> PipelineOptions) -> Self {
        self.pipeline = f(self.pipeline);
        self
    }
    /// The output's format (Parquet or CSV).
    pub fn output_format(mut self, f: Format) -> Self {
        self.output = f;
        self
    }
    /// Output compression; `None` keeps the input's (zstd for gzip, LZ4 or
    /// Brotli input; snappy for CSV input).
    pub fn compression(mut self, c: Option<Codec>) -> Self {
        self.compression = c;
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

/// Runs `f`, a call into the Parquet or Arrow decoders on the input's
/// bytes, turning a panic inside them into an error saying `what` could not
/// be decoded. Those crates still panic on some malformed files (an unknown
/// integer width in the embedded Arrow schema, for one; the mutated files
/// of tests/it/parquet_malformed.rs find them), and deid must fail with an
/// error naming the file, never crash. The panic's message is not shown: it
/// could quote the data. Of deid's own code only the file reads the
/// decoders ask for run inside `f`, never a transform, so no bug in a
/// transform is hidden.
fn decoding<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, InputErrorKind> {
    use std::cell::Cell;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    std::thread_local! {
        static DECODING: Cell<bool> = const { Cell::new(false) };
    }
    // The default hook would print the message; every other panic still
    // goes to the hook that was there before.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = DECODING.with(|d| d.replace(true));
    // Unwind safety: after a panic, whatever `f` held is dropped unused.
    let r = catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(outer));
    r.map_err(|_| {
        InputErrorKind::Arrow(std::format!(
            "not a valid Parquet file: {what} could not be decoded"
        ))
    })
}

/// A Parquet file's footer, read and checked by [`open_metadata`].
struct Footer {
    meta: ArrowReaderMetadata,
    /// The file's length in bytes.
    len: u64,
}

/// Reads a Parquet file's footer: its metadata, the page index if
/// `page_index` asks for it, and the Arrow schema. Every column chunk must
/// lie inside the file (the decoders assert it, by panicking).
fn open_metadata(file: &File, page_index: PageIndexPolicy) -> Result<Footer, InputErrorKind> {
    let meta = decoding("its footer", || {
        ArrowReaderMetadata::load(
            file,
            ArrowReaderOptions::new().with_page_index_policy(page_index),
        )
    })?
    .map_err(|e| parquet_error(&e))?;
    let len = file.metadata().map_err(InputErrorKind::Io)?.len();
    let invalid = |what: std::string::String| {
        InputErrorKind::Arrow(std::format!("not a valid Parquet file: {what}"))
    };
    for (i, rg) in meta.metadata().row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(invalid(std::format!(
                "row group {i} has a negative row count"
            )));
        }
        for c in rg.columns() {
            // Refused here, by name: the decoder's own error comes at the
            // first page and reads as a damaged file.
            if !readable(c.compression()) {
                return Err(InputErrorKind::Arrow(std::format!(
                    "row group {i}, column '{}' is compressed with {}, which deid does not \
                     read (it reads uncompressed, snappy, gzip, LZ4, zstd and Brotli \
                     columns); write the file again with one of those",
                    c.column_path().string(),
                    c.compression(),
                )));
            }
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(c.compressed_size()).ok())
                .and_then(|(start, size)| start.checked_add(size))
                .is_some_and(|end| end <= len);
            if !inside {
                return Err(invalid(std::format!(
                    "row group {i}, column {}: the chunk lies outside the file",
                    c.column_path()
                )));
            }
        }
    }
    Ok(Footer { meta, len })
}

/// Whether this build decompresses `c` (every codec the format has but
/// LZO, which the `parquet` crate does not implement).
fn readable(c: Compression) -> bool {
    matches!(
        c,
        Compression::UNCOMPRESSED
            | Compression::SNAPPY
            | Compression::GZIP(_)
            | Compression::LZ4
            | Compression::LZ4_RAW
            | Compression::ZSTD(_)
            | Compression::BROTLI(_)
    )
}

/// The next batch of `reader`. A decoder's panic or error becomes an
/// [`InputErrorKind`] that describes the damage, never the data.
fn next_batch(
    reader: &mut ParquetRecordBatchReader,
) -> Result<Option<RecordBatch>, InputErrorKind> {
    decoding("a page", || reader.next())?
        .transpose()
        .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)))
}

/// A Parquet file read by offset (`pread`), so that workers decoding row
/// groups in parallel never share a file position. `File`'s own
/// `ChunkReader` seeks a duplicated descriptor, whose position every
/// duplicate shares: two workers seeking at once read each other's pages
/// (seen as "Data corruption detected" from the decompressor).
#[derive(Clone)]
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

/// How a top-level input column is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RootUse {
    /// Decoded, and encoded again if it is in the output.
    Decode,
    /// Dropped and read by no transform: never decoded.
    Skip,
    /// Kept unchanged and read by no transform: its column chunks are
    /// copied through, as bytes where their codec is the output's, else
    /// page by page.
    Copy,
}

/// Which columns of a Parquet input are never decoded.
///
/// A column every leaf of which the policy keeps (not naming it, or with
/// an explicit `keep` whose count a chunk's metadata gives, see
/// [`kept_count`]), that no transform reads (not a `dateshift` subject)
/// and whose Parquet leaves are described exactly as the writer would
/// describe them, has its column chunks
/// spliced into the output as they are (pages, statistics, dictionary and
/// page index untouched; each page compressed again when the chunk's codec
/// is not the output's, see [`CopyPlan::copied_in`]) when no row
/// can be left out (`on_error = "drop-record"` copies nothing). A dropped
/// column no transform reads is not decoded at all. The transformer gets a
/// placeholder array for either ([`placeholder`]), whose output is
/// discarded.
struct CopyPlan {
    roots: Vec<RootUse>,
    /// Input leaf indices under each input root.
    in_leaves: Vec<Vec<usize>>,
    /// For each output leaf: its output root, and the input leaf it is
    /// copied from when that root is copied.
    out_leaves: Vec<(usize, Option<usize>)>,
    /// Input root of each output root.
    out_root_src: Vec<Option<usize>>,
    /// Per input root: a column transformed value by value, written from
    /// its dictionary where its chunk allows (src/io/parquet/dictionary.rs).
    per_value: Vec<Option<PerValue>>,
    /// Per copied input root that a `keep` field names: the field's slot in
    /// the value counts, taken from each chunk's metadata ([`kept_count`]).
    kept: Vec<Option<usize>>,
    codec: Compression,
}

/// An input root written through its dictionary where its chunk allows.
#[derive(Clone, Copy, Debug)]
struct PerValue {
    /// Its field's slot in the value counts.
    slot: usize,
    /// Its one input leaf.
    leaf: usize,
    /// Its output root and that root's one leaf.
    out_root: usize,
    out_leaf: usize,
}

impl CopyPlan {
    /// Everything decoded (CSV input, or no Parquet output).
    fn decode_all(schema: &Schema) -> Self {
        CopyPlan {
            roots: std::vec![RootUse::Decode; schema.fields().len()],
            in_leaves: Vec::new(),
            out_leaves: Vec::new(),
            out_root_src: Vec::new(),
            per_value: std::vec![None; schema.fields().len()],
            kept: std::vec![None; schema.fields().len()],
            codec: Compression::UNCOMPRESSED,
        }
    }

    fn new(
        transformer: &BatchTransformer,
        schema: &Schema,
        out_schema: &Schema,
        in_desc: &SchemaDescriptor,
        out_desc: Option<&SchemaDescriptor>,
        codec: Compression,
    ) -> Self {
        let n = schema.fields().len();
        let mut plan = CopyPlan::decode_all(schema);
        plan.codec = codec;
        if in_desc.root_schema().get_fields().len() != n {
            return plan;
        }
        plan.in_leaves = std::vec![Vec::new(); n];
        for l in 0..in_desc.num_columns() {
            plan.in_leaves[in_desc.get_column_root_idx(l)].push(l);
        }
        let mut out_leaves_of = std::vec![Vec::new(); out_schema.fields().len()];
        if let Some(out_desc) = out_desc {
            for l in 0..out_desc.num_columns() {
                let j = out_desc.get_column_root_idx(l);
                if let Some(v) = out_leaves_of.get_mut(j) {
                    v.push(l);
                }
                plan.out_leaves.push((j, None));
            }
        }
        plan.out_root_src = std::vec![None; out_schema.fields().len()];
        if out_desc.is_some() {
            for (i, slot) in transformer.per_value_columns().into_iter().enumerate() {
                let (Some(slot), Some(out_root)) =
                    (slot, out_schema.index_of(schema.field(i).name()).ok())
                else {
                    continue;
                };
                if let ([leaf], [out_leaf]) = (&plan.in_leaves[i][..], &out_leaves_of[out_root][..])
                {
                    plan.per_value[i] = Some(PerValue {
                        slot,
                        leaf: *leaf,
                        out_root,
                        out_leaf: *out_leaf,
                    });
                }
            }
        }
        let untouched = transformer.untouched_columns();
        // A column an explicit `keep` names is copied like one the policy
        // does not name; its count comes from the chunks' metadata.
        let kept = transformer.kept_columns();
        for (i, f) in schema.fields().iter().enumerate() {
            let out = out_schema.index_of(f.name()).ok();
            if let Some(j) = out {
                plan.out_root_src[j] = Some(i);
            }
            let kept = kept.get(i).copied().flatten();
            if !(untouched.get(i).copied().unwrap_or(false) || kept.is_some())
                || placeholder(f, 1).is_none()
            {
                continue;
            }
            match (out, out_desc) {
                (None, _) => plan.roots[i] = RootUse::Skip,
                (Some(j), Some(out_desc))
                    if !transformer.may_drop_rows()
                        && out_schema.field(j) == f.as_ref()
                        && out_leaves_of[j].len() == plan.in_leaves[i].len()
                        && out_leaves_of[j]
                            .iter()
                            .zip(&plan.in_leaves[i])
                            .all(|(&o, &l)| out_desc.column(o) == in_desc.column(l)) =>
                {
                    plan.roots[i] = RootUse::Copy;
                    plan.kept[i] = kept;
                    for (&o, &l) in out_leaves_of[j].iter().zip(&plan.in_leaves[i]) {
                        plan.out_leaves[o].1 = Some(l);
                    }
                }
                _ => {}
            }
        }
        plan
    }

    /// Per input root, whether it is copied in row group `rg`: a copy
    /// candidate each chunk of which has the output's codec or can be
    /// given it page by page ([`transcode`]: an unrepeated column, to a
    /// codec the workers write), and for one that a `keep` field names,
    /// whose count the chunk's metadata gives.
    fn copied_in(&self, rg: &RowGroupMetaData) -> Vec<bool> {
        let copyable = |l: usize| {
            let c = rg.column(l);
            same_codec(c.compression(), self.codec)
                || (c.column_descr().max_rep_level() == 0 && pages::PageCodec::supports(self.codec))
        };
        self.roots
            .iter()
            .enumerate()
            .map(|(i, u)| {
                *u == RootUse::Copy
                    && self.in_leaves[i]
                        .iter()
                        .all(|&l| l < rg.num_columns() && copyable(l))
                    && (self.kept[i].is_none() || self.kept_count(i, rg).is_some())
            })
            .collect()
    }

    /// For a copied root that a `keep` field names: its slot in the value
    /// counts and its count in row group `rg` ([`kept_count`]).
    fn kept_count(&self, i: usize, rg: &RowGroupMetaData) -> Option<(usize, u64)> {
        let slot = self.kept.get(i).copied().flatten()?;
        let [leaf] = self.in_leaves.get(i)?[..] else {
            return None;
        };
        Some((slot, kept_count(rg.columns().get(leaf)?)?))
    }
}

/// How many values of a kept column chunk are neither null nor empty (what
/// the field counts when its values are decoded), when the chunk's
/// metadata says so exactly: every value but the nulls (none in a column
/// that cannot be null, else the statistics' null count), where no value
/// can be empty. Numbers, dates and booleans never are; a chunk of text is
/// known to have none when its statistics' minimum is not empty (the
/// minimum, even truncated, is a lower bound, and the empty text is below
/// every other). `None` otherwise: the column is decoded and counted.
fn kept_count(c: &ColumnChunkMetaData) -> Option<u64> {
    let descr = c.column_descr();
    if descr.max_rep_level() != 0 {
        return None;
    }
    let stats = c.statistics();
    let nulls = if descr.max_def_level() == 0 {
        0
    } else {
        stats?.null_count_opt()?
    };
    match descr.physical_type() {
        PhysicalType::BYTE_ARRAY => match stats? {
            Statistics::ByteArray(s) if s.min_opt().is_some_and(|m| !m.is_empty()) => {}
            _ => return None,
        },
        PhysicalType::FIXED_LEN_BYTE_ARRAY => return None,
        _ => {}
    }
    u64::try_from(c.num_values()).ok()?.checked_sub(nulls)
}

/// A batch of the decoded columns `decode` (input root indices, ascending)
/// as a batch of the whole input `schema`, with [`placeholder`]s for the
/// columns not decoded. `placeholders` keeps them from batch to batch (per
/// input root): batches of a row group have the same length but the last,
/// and a placeholder is immutable.
fn widen(
    batch: RecordBatch,
    schema: &SchemaRef,
    decode: &[usize],
    placeholders: &mut [Option<ArrayRef>],
) -> Result<RecordBatch, InputErrorKind> {
    if decode.len() == schema.fields().len() {
        return RecordBatch::try_new(Arc::clone(schema), batch.columns().to_vec())
            .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)));
    }
    let n = batch.num_rows();
    let mut decoded = batch.columns().iter();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let a = if decode.binary_search(&i).is_ok() {
            decoded.next().cloned()
        } else {
            match placeholders.get_mut(i) {
                Some(Some(a)) if a.len() == n => Some(Arc::clone(a)),
                Some(slot) => {
                    *slot = placeholder(f, n);
                    slot.clone()
                }
                None => placeholder(f, n),
            }
        };
        columns.push(a.ok_or_else(|| {
            InputErrorKind::Arrow("the decoded columns do not match the schema".to_owned())
        })?);
    }
    RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)))
}

/// A column chunk held in memory, to be spliced into the output by the
/// writer thread ([`ChunkReader`] at the chunk's file offsets): an input
/// chunk read whole, or the pages a worker wrote, each in its own buffer
/// (`pages.rs`), never copied into one.
struct CopiedChunk {
    start: u64,
    parts: Vec<bytes::Bytes>,
}

impl CopiedChunk {
    /// `data`, found at `start`.
    fn whole(start: u64, data: bytes::Bytes) -> Self {
        Self {
            start,
            parts: std::vec![data],
        }
    }

    /// Where file offset `start` is in the chunk, if `length` bytes from it
    /// lie inside it.
    fn offset(&self, start: u64, length: usize) -> Result<usize, ParquetError> {
        let size = self.size();
        start
            .checked_sub(self.start)
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o.checked_add(length).is_some_and(|e| e <= size))
            .ok_or_else(|| self.outside(start, length))
    }

    /// The chunk's size in bytes.
    fn size(&self) -> usize {
        self.parts.iter().map(bytes::Bytes::len).sum()
    }

    fn outside(&self, start: u64, length: usize) -> ParquetError {
        ParquetError::EOF(std::format!(
            "{length} bytes at offset {start} are outside the copied column chunk"
        ))
    }

    /// The part holding `offset` (from `start`), and where in it.
    fn find(&self, mut offset: usize) -> Option<(usize, usize)> {
        for (i, p) in self.parts.iter().enumerate() {
            if offset < p.len() {
                return Some((i, offset));
            }
            offset -= p.len();
        }
        None
    }
}

impl parquet::file::reader::Length for CopiedChunk {
    fn len(&self) -> u64 {
        self.start + self.size() as u64
    }
}

/// Reads the parts of a [`CopiedChunk`] one after another.
struct PartsReader {
    parts: std::collections::VecDeque<bytes::Bytes>,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(p) = self.parts.front_mut() {
            if p.is_empty() {
                self.parts.pop_front();
                continue;
            }
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            bytes::Buf::advance(p, n);
            return Ok(n);
        }
        Ok(0)
    }
}

impl ChunkReader for CopiedChunk {
    type T = PartsReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let from = self.offset(start, 0)?;
        let mut parts = std::collections::VecDeque::new();
        if let Some((i, at)) = self.find(from) {
            parts.push_back(self.parts[i].slice(at..));
            parts.extend(self.parts[i + 1..].iter().cloned());
        }
        Ok(PartsReader { parts })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let from = self.offset(start, length)?;
        if length == 0 {
            return Ok(bytes::Bytes::new());
        }
        let (i, at) = self.find(from).ok_or_else(|| self.outside(start, length))?;
        if at + length <= self.parts[i].len() {
            return Ok(self.parts[i].slice(at..at + length));
        }
        // Across parts: copied into one buffer.
        let mut out = Vec::with_capacity(length);
        let mut r = self.get_read(start)?;
        out.resize(length, 0);
        r.read_exact(&mut out)?;
        Ok(out.into())
    }
}

/// Reads input leaf `leaf` of row group `rg` as a chunk to copy into an
/// output compressed with `codec`, with its metadata, statistics and page
/// index. A chunk with another codec has each page decompressed and
/// compressed again ([`transcode`]).
fn copy_chunk(
    file: &PositionalFile,
    meta: &ParquetMetaData,
    rg: usize,
    leaf: usize,
    codec: Compression,
) -> Result<(CopiedChunk, ColumnCloseResult), InputErrorKind> {
    let rgm = meta.row_group(rg);
    let cm = rgm.column(leaf).clone();
    let (start, length) = cm.byte_range();
    let length = usize::try_from(length)
        .map_err(|_| InputErrorKind::Arrow("a column chunk is too large".to_owned()))?;
    let data = file
        .get_bytes(start, length)
        .map_err(|e| parquet_error(&e))?;
    let column_index = meta
        .column_index()
        .and_then(|c| c.get(rg)?.get(leaf))
        .filter(|c| !matches!(c, ColumnIndexMetaData::NONE))
        .cloned();
    let offset_index = meta
        .offset_index()
        .and_then(|o| o.get(rg)?.get(leaf))
        .cloned();
    let chunk = CopiedChunk::whole(start, data);
    if !same_codec(cm.compression(), codec) {
        let rows = usize::try_from(rgm.num_rows())
            .map_err(|_| InputErrorKind::Arrow("a row group is too large".to_owned()))?;
        return decoding("a column chunk", || {
            transcode(chunk, &cm, rows, codec, column_index, offset_index)
        })?
        .map_err(|e| parquet_error(&e));
    }
    let close = ColumnCloseResult {
        bytes_written: length as u64,
        rows_written: rgm.num_rows().max(0) as u64,
        metadata: cm,
        bloom_filter: None,
        column_index,
        offset_index,
    };
    Ok((chunk, close))
}

/// Whether a chunk compressed with `a` can be copied as it is into an
/// output compressed with `b` (the level a codec was written at is not
/// recorded, nor needed to read it).
fn same_codec(a: Compression, b: Compression) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// The pages of the chunk `cm` (of an unrepeated column, in a row group of
/// `rows` rows), decompressed and compressed again with `codec`: the same
/// pages (type, counts, encodings, statistics, values) under headers
/// written anew, the same chunk statistics and column index; the offset
/// index gives the new places of the pages, when the input has one.
fn transcode(
    chunk: CopiedChunk,
    cm: &ColumnChunkMetaData,
    rows: usize,
    codec: Compression,
    column_index: Option<ColumnIndexMetaData>,
    offset_index: Option<parquet::file::page_index::offset_index::OffsetIndexMetaData>,
) -> Result<(CopiedChunk, ColumnCloseResult), ParquetError> {
    use parquet::column::page::{Page, PageReader};
    use parquet::file::serialized_reader::SerializedPageReader;
    let descr = cm.column_descr_ptr();
    if descr.max_rep_level() != 0 {
        return Err(ParquetError::General(
            "a repeated column chunk cannot be copied page by page".into(),
        ));
    }
    let mut pages = SerializedPageReader::new(Arc::new(chunk), cm, rows, None)?;
    let mut compressor = pages::PageCodec::new(codec)
        .ok_or_else(|| ParquetError::General("no compression context".into()))?;
    // The value bytes of each page, when the input's offset index has them.
    let unencoded = offset_index.as_ref().and_then(|o| {
        let u = o.unencoded_byte_array_data_bytes.as_ref()?;
        (u.len() == o.page_locations.len()).then_some(u.as_slice())
    });
    let mut out = pages::ChunkPages::new(codec, unencoded.is_some());
    let mut data_pages = 0;
    while let Some(page) = pages.get_next_page()? {
        let rows = match &page {
            // Unrepeated: a value, null or not, is a row.
            Page::DataPage { num_values, .. } => u64::from(*num_values),
            Page::DataPageV2 { num_rows, .. } => u64::from(*num_rows),
            Page::DictionaryPage { .. } => 0,
        };
        let value_bytes = match (&page, unencoded) {
            (Page::DictionaryPage { .. }, _) | (_, None) => 0,
            (_, Some(u)) => {
                data_pages += 1;
                u.get(data_pages - 1).copied().unwrap_or(0)
            }
        };
        let (page, raw) = pages::compress_page(page, &mut compressor)?;
        out.write(page, raw, rows, value_bytes)?;
    }
    let (data, close) = out.finish(
        &descr,
        cm.statistics().cloned(),
        column_index,
        offset_index.is_some(),
    )?;
    if close.rows_written != rows as u64 {
        return Err(ParquetError::General(
            "the pages of a column chunk do not hold its row group's rows".into(),
        ));
    }
    Ok((data, close))
}

/// One output column chunk of a row group.
enum Piece {
    Encoded(Box<ArrowColumnChunk>),
    Copied(CopiedChunk, Box<ColumnCloseResult>),
}

/// One unit of work and its result.
struct Unit {
    chunks: Option<Vec<Piece>>,
    csv: Vec<u8>,
    rows_in: u64,
    rows_out: u64,
    dropped: u64,
    suppressed: u64,
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
    let threads = opts.pipeline.threads.max(1);

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
            // The page index is read to be copied with the chunks it describes.
            let meta = open_metadata(&file, PageIndexPolicy::Optional)
                .map_err(|kind| err(None, kind))?
                .meta;
            let codec = meta
                .metadata()
                .row_groups()
                .first()
                .and_then(|rg| rg.columns().first())
                .map_or(Codec::Snappy, |c| Codec::output_for(c.compression()));
            let schema = Arc::clone(meta.schema());
            (Src::Parquet { file, meta }, schema, codec)
        }
        ParquetInput::Csv(r) => {
            let table = TableReader::from_reader(
                r,
                source,
                Format::Csv,
                &TableOptions::new()
                    .delimiter(opts.pipeline.delimiter)
                    .has_header(opts.pipeline.has_header),
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
    let transformer = BatchTransformer::with_suppression(
        policy,
        keys,
        Arc::clone(&schema),
        opts.pipeline.direction,
        source,
        opts.pipeline.suppress.clone(),
    )?;
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
    let mut writer_props = None;
    let in_meta = match &src {
        Src::Parquet { meta, .. } => Some(meta.metadata()),
        Src::Csv(_) => None,
    };
    let mut sink = if parquet_out {
        let mut props = WriterProperties::builder().set_compression(codec.parquet());
        // Pseudonyms, tokens and FF1 outputs are as distinct as their
        // inputs: a dictionary would fill its page, then fall back to plain
        // after hashing every value (about a tenth of `apply`'s time on
        // benches/parquet.sh), and their min/max prune nothing. They are
        // written DELTA_LENGTH_BYTE_ARRAY: the lengths apart, the values
        // back to back, which zstd compresses twice as fast as plain's
        // length before each value (and 5% smaller); with statistics off,
        // 25% less time in all on benches/parquet.sh. Dictionary columns
        // keep their dictionary.
        for path in transformer.distinct_leaves() {
            let path = ColumnPath::new(path);
            props = props
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
                .set_column_encoding(path, Encoding::DELTA_LENGTH_BYTE_ARRAY);
        }
        // Copied chunks bring their page index only when the input has one;
        // the output then has none at all rather than one for some columns.
        if in_meta.is_some_and(|m| m.offset_index().is_none()) {
            props = props
                .set_statistics_enabled(EnabledStatistics::Chunk)
                .set_offset_index_disabled(true);
        }
        let props = props.build();
        writer_props = Some(props.clone());
        let w = ArrowWriter::try_new(counting, Arc::clone(&out_schema), Some(props))
            .map_err(|e| err(None, parquet_error(&e)))?;
        let (w, f) = w
            .into_serialized_writer()
            .map_err(|e| err(None, parquet_error(&e)))?;
        factory = Some(f);
        Sink::Parquet(w)
    } else {
        csv_leaves = text_column_names(&out_schema);
        let mut header = Vec::new();
        CsvWriter::new(opts.pipeline.delimiter).record(&mut header, &csv_leaves);
        counting
            .write_all(&header)
            .map_err(|e| err(None, InputErrorKind::Io(e)))?;
        Sink::Csv(counting)
    };
    // Which column chunks go to the output as they are (Parquet in).
    let plan = match in_meta {
        Some(m) => CopyPlan::new(
            &transformer,
            &schema,
            &out_schema,
            m.file_metadata().schema_descr(),
            match &sink {
                Sink::Parquet(w) => Some(w.schema_descr()),
                Sink::Csv(_) => None,
            },
            codec.parquet(),
        ),
        None => CopyPlan::decode_all(&schema),
    };

    // What the workers need to write a chunk through its dictionary: the
    // output's leaves, and whether it has a page index (copied chunks bring
    // theirs only when the input has one, see above).
    let out_descr = match &sink {
        Sink::Parquet(w) => Some(Arc::new(w.schema_descr().clone())),
        Sink::Csv(_) => None,
    };
    let page_index = in_meta.is_some_and(|m| m.offset_index().is_some());
    // Output leaves whose chunks the workers write from the values
    // (src/io/parquet/text.rs): top-level text columns of pseudonyms,
    // tokens and FF1 outputs; per output root, its leaf.
    let text_root: Vec<Option<usize>> = match (&writer_props, &out_descr) {
        (Some(props), Some(descr)) => {
            let mut roots = std::vec![None; out_schema.fields().len()];
            for o in 0..descr.num_columns() {
                let j = descr.get_column_root_idx(o);
                if matches!(
                    out_schema.field(j).data_type(),
                    DataType::Utf8 | DataType::LargeUtf8
                ) && text::TextChunk::fits(descr.column(o).as_ref(), props)
                {
                    roots[j] = Some(o);
                }
            }
            roots
        }
        _ => Vec::new(),
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
        Src::Parquet { file, meta } => (Some(PositionalFile(Arc::new(file))), Some(meta), None),
        Src::Csv(t) => (None, None, Some(t)),
    };
    let result: Result<(), InputError> = std::thread::scope(|s| {
        // Producer.
        let producer = {
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
            })
        };
        // Workers.
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let done_tx = done_tx.clone();
            let transformer = &transformer;
            let factory = factory.as_ref();
            let out_schema = &out_schema;
            let schema = &schema;
            let plan = &plan;
            let writer_props = writer_props.as_ref();
            let out_descr = out_descr.as_deref();
            let file = file.as_ref();
            let meta = meta.as_ref();
            let csv_leaves = &csv_leaves;
            let text_root = &text_root;
            s.spawn(move || {
                while let Ok((seq, job)) = job_rx.recv() {
                    let mut unit = Unit {
                        chunks: None,
                        csv: Vec::new(),
                        rows_in: 0,
                        rows_out: 0,
                        dropped: 0,
                        suppressed: 0,
                        values: std::vec![0; transformer.counted_columns().len()],
                        bytes_in: 0,
                    };
                    let work = || -> Result<(), InputError> {
                        let mut writers = match factory {
                            Some(f) => {
                                Some(f.create_column_writers(seq as usize).map_err(|e| {
                                    InputError::new(source, None, None, parquet_error(&e))
                                })?)
                            }
                            None => None,
                        };
                        // Output leaves written from their values in this unit.
                        let mut texts: Vec<Option<text::TextChunk>> =
                            match (writer_props, out_descr) {
                                (Some(props), Some(descr)) => (0..descr.num_columns())
                                    .map(|o| {
                                        let j = descr.get_column_root_idx(o);
                                        text_root.get(j).copied().flatten().filter(|&t| t == o)?;
                                        text::TextChunk::new(descr.column(o), props)
                                    })
                                    .collect(),
                                _ => Vec::new(),
                            };
                        // Output roots whose chunks are copied in this unit.
                        let mut out_copied = std::vec![false; out_schema.fields().len()];
                        // Output leaves written through their dictionary.
                        let mut rewritten: Vec<Option<Piece>> = std::iter::repeat_with(|| None)
                            .take(plan.out_leaves.len())
                            .collect();
                        // Input roots written through their dictionary in this unit,
                        // and the values they transformed.
                        let mut skip = std::vec![false; schema.fields().len()];
                        let mut counted = Vec::new();
                        let mut each = |batch: RecordBatch,
                                        first_row: u64,
                                        out_copied: &[bool],
                                        skip: &[bool]|
                         -> Result<(), InputError> {
                            let out = transformer.transform_skipping(&batch, first_row, skip)?;
                            unit.rows_in += batch.num_rows() as u64;
                            unit.rows_out += out.batch.num_rows() as u64;
                            unit.dropped += out.rows_dropped;
                            unit.suppressed += out.rows_suppressed;
                            for (slot, v) in unit.values.iter_mut().zip(&out.values) {
                                *slot += v;
                            }
                            let at = |k| InputError::new(source, Some(first_row + 1), None, k);
                            match writers.as_mut() {
                                Some(ws) => {
                                    let mut ws = ws.iter_mut();
                                    for (j, (a, f)) in out
                                        .batch
                                        .columns()
                                        .iter()
                                        .zip(out_schema.fields())
                                        .enumerate()
                                    {
                                        if out_copied[j] {
                                            let n = plan
                                                .out_leaves
                                                .iter()
                                                .filter(|(r, _)| *r == j)
                                                .count();
                                            for _ in 0..n {
                                                ws.next();
                                            }
                                            continue;
                                        }
                                        if let Some(t) = text_root
                                            .get(j)
                                            .copied()
                                            .flatten()
                                            .and_then(|o| texts.get_mut(o)?.as_mut())
                                        {
                                            t.push(a.as_ref())
                                                .map_err(|e| at(parquet_error(&e)))?;
                                            ws.next();
                                            continue;
                                        }
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
                                    opts.pipeline.delimiter,
                                    &mut unit.csv,
                                )
                                .map_err(at)?,
                            }
                            Ok(())
                        };
                        let mut copy_from = None;
                        match job {
                            Job::RowGroup { index, first_row } => {
                                let (Some(file), Some(meta)) = (file, meta) else {
                                    return Ok(());
                                };
                                let rgm = meta.metadata().row_group(index);
                                let copied = plan.copied_in(rgm);
                                for (j, slot) in out_copied.iter_mut().enumerate() {
                                    *slot = plan.out_root_src[j].is_some_and(|i| copied[i]);
                                }
                                // A copied column a `keep` field names: its
                                // field counts from the chunk, not the rows.
                                for (i, &c) in copied.iter().enumerate() {
                                    if let Some((slot, n)) = plan.kept_count(i, rgm).filter(|_| c) {
                                        skip[i] = true;
                                        counted.push((slot, n));
                                    }
                                }
                                if let (Some(props), Some(out_descr)) = (writer_props, out_descr) {
                                    for (i, pv) in plan.per_value.iter().enumerate() {
                                        let Some(pv) = pv.filter(|_| !copied[i]) else {
                                            continue;
                                        };
                                        let out = out_descr.column(pv.out_leaf);
                                        let job = dictionary::Job {
                                            file,
                                            meta: meta.metadata(),
                                            row_group: index,
                                            leaf: pv.leaf,
                                            root: i,
                                            data_type: schema.field(i).data_type(),
                                            statistics: props.statistics_enabled(out.path()),
                                            out,
                                            codec: plan.codec,
                                            page_index,
                                            truncate: props.column_index_truncate_length(),
                                        };
                                        // Through its dictionary, or else,
                                        // for pseudonyms, from its pages.
                                        let text =
                                            text_root.get(pv.out_root) == Some(&Some(pv.out_leaf));
                                        if let Some((data, close, values)) =
                                            dictionary::rewrite(&job, transformer).or_else(|| {
                                                text.then(|| {
                                                    pseudonyms::rewrite(&job, transformer, props)
                                                })
                                                .flatten()
                                            })
                                        {
                                            skip[i] = true;
                                            out_copied[pv.out_root] = true;
                                            counted.push((pv.slot, values));
                                            rewritten[pv.out_leaf] =
                                                Some(Piece::Copied(data, Box::new(close)));
                                        }
                                    }
                                }
                                let decode: Vec<usize> = (0..schema.fields().len())
                                    .filter(|&i| {
                                        plan.roots[i] != RootUse::Skip && !copied[i] && !skip[i]
                                    })
                                    .collect();
                                unit.bytes_in = rgm.compressed_size().max(0) as u64;
                                copy_from = Some((file, meta.metadata(), index));
                                if decode.is_empty() {
                                    // Nothing to decode: every column is copied or dropped.
                                    let n = rgm.num_rows().max(0) as u64;
                                    unit.rows_in = n;
                                    unit.rows_out = n;
                                } else {
                                    let mask = ProjectionMask::roots(
                                        meta.metadata().file_metadata().schema_descr(),
                                        decode.iter().copied(),
                                    );
                                    let mut reader = decoding("a column chunk", || {
                                        ParquetRecordBatchReaderBuilder::new_with_metadata(
                                            file.clone(),
                                            meta.clone(),
                                        )
                                        .with_row_groups(std::vec![index])
                                        .with_projection(mask)
                                        .with_batch_size(BATCH_ROWS)
                                        .build()
                                    })
                                    .and_then(|r| r.map_err(|e| parquet_error(&e)))
                                    .map_err(|k| {
                                        InputError::new(source, Some(first_row + 1), None, k)
                                    })?;
                                    let mut row = first_row;
                                    let mut placeholders = std::vec![None; schema.fields().len()];
                                    loop {
                                        let at =
                                            |k| InputError::new(source, Some(row + 1), None, k);
                                        let Some(batch) = next_batch(&mut reader).map_err(at)?
                                        else {
                                            break;
                                        };
                                        let batch =
                                            widen(batch, schema, &decode, &mut placeholders)
                                                .map_err(at)?;
                                        let n = batch.num_rows() as u64;
                                        each(batch, row, &out_copied, &skip)?;
                                        row += n;
                                    }
                                }
                            }
                            Job::Batch {
                                batch,
                                first_row,
                                bytes,
                            } => {
                                unit.bytes_in = bytes;
                                each(batch, first_row, &out_copied, &skip)?;
                            }
                        }
                        for (slot, n) in counted {
                            unit.values[slot] += n;
                        }
                        if let Some(ws) = writers {
                            let perr = |e: ParquetError| {
                                InputError::new(source, None, None, parquet_error(&e))
                            };
                            let mut pieces = Vec::with_capacity(ws.len());
                            for (o, (w, (j, src))) in ws
                                .into_iter()
                                .zip(
                                    plan.out_leaves
                                        .iter()
                                        .copied()
                                        .chain(std::iter::repeat((usize::MAX, None))),
                                )
                                .enumerate()
                            {
                                if let Some(piece) = rewritten.get_mut(o).and_then(Option::take) {
                                    pieces.push(piece);
                                    continue;
                                }
                                let text = texts.get_mut(o).and_then(Option::take);
                                if let Some(t) = text.filter(|_| out_copied.get(j) != Some(&true)) {
                                    let (data, close) = t.finish().map_err(perr)?;
                                    pieces.push(Piece::Copied(data, Box::new(close)));
                                    continue;
                                }
                                match (out_copied.get(j), src, copy_from) {
                                    (Some(true), Some(leaf), Some((file, meta, index))) => {
                                        let (data, close) =
                                            copy_chunk(file, meta, index, leaf, plan.codec)
                                                .map_err(|k| {
                                                    let column = meta
                                                        .row_group(index)
                                                        .column(leaf)
                                                        .column_path()
                                                        .string();
                                                    InputError::new(source, None, Some(&column), k)
                                                })?;
                                        pieces.push(Piece::Copied(data, Box::new(close)));
                                    }
                                    _ => pieces
                                        .push(Piece::Encoded(Box::new(w.close().map_err(perr)?))),
                                }
                            }
                            unit.chunks = Some(pieces);
                        }
                        Ok(())
                    };
                    let r = contained(work, || {
                        InputError::new(source, None, None, WORKER_PANICKED)
                    });
                    let panicked =
                        matches!(&r, Err(e) if matches!(e.kind(), InputErrorKind::Internal(_)));
                    if done_tx.send((seq, r.map(|()| unit))).is_err() || panicked {
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
                                match c {
                                    Piece::Encoded(c) => c.append_to_row_group(&mut rg),
                                    Piece::Copied(data, close) => rg.append_column(&data, *close),
                                }
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
                    totals.rows_suppressed += unit.suppressed;
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
        // A producer that panicked ended the input early: never a success.
        if producer.join().is_err() {
            outcome = outcome.and(Err(err(None, READER_PANICKED)));
        }
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
        totals.bytes_in = file.0.metadata().map_or(totals.bytes_in, |m| m.len());
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
    let mut w = CsvWriter::new(delimiter);
    for i in 0..batch.num_rows() {
        w.record(
            out,
            cols.iter()
                .map(|c| if c.is_null(i) { "" } else { c.value(i) }),
        );
    }
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
    reader: ParquetRecordBatchReader,
    leaves: Vec<ArrayRef>,
    pos: usize,
    rows_read: u64,
    total_rows: u64,
    file_len: u64,
}

impl ParquetRows {
    /// Opens `file`; returns the reader and its column names.
    pub(crate) fn open(file: File) -> Result<(Self, Vec<String>), InputErrorKind> {
        // scan and the audits read every page in order: no page index.
        let Footer {
            meta,
            len: file_len,
        } = open_metadata(&file, PageIndexPolicy::Skip)?;
        let columns = text_column_names(meta.schema());
        let total_rows = meta.metadata().file_metadata().num_rows().max(0) as u64;
        let reader = decoding("a column chunk", || {
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
                .with_batch_size(BATCH_ROWS)
                .build()
        })?
        .map_err(|e| parquet_error(&e))?;
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
            match next_batch(&mut self.reader)? {
                None => return Ok(false),
                Some(b) => {
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use parquet::file::reader::{ChunkReader, Length};

    use super::CopiedChunk;

    #[test]
    fn a_chunk_in_parts_reads_as_one() {
        let chunk = CopiedChunk {
            start: 10,
            parts: std::vec![
                bytes::Bytes::from_static(b"abc"),
                bytes::Bytes::new(),
                bytes::Bytes::from_static(b"defg"),
            ],
        };
        assert_eq!(chunk.len(), 17);
        let bytes = |at, n| chunk.get_bytes(at, n).map(|b| b.to_vec());
        assert_eq!(bytes(10, 7).unwrap(), b"abcdefg");
        assert_eq!(bytes(11, 4).unwrap(), b"bcde");
        assert_eq!(bytes(13, 2).unwrap(), b"de");
        assert_eq!(bytes(17, 0).unwrap(), b"");
        assert!(bytes(9, 1).is_err());
        assert!(bytes(16, 2).is_err());
        let read = |at| {
            let mut out = std::vec::Vec::new();
            chunk.get_read(at)?.read_to_end(&mut out)?;
            Ok::<_, parquet::errors::ParquetError>(out)
        };
        assert_eq!(read(10).unwrap(), b"abcdefg");
        assert_eq!(read(12).unwrap(), b"cdefg");
        assert_eq!(read(17).unwrap(), b"");
        assert!(read(18).is_err());
        assert!(read(9).is_err());
    }
}
