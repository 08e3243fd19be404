//! A dictionary-encoded column chunk transformed through its dictionary.
//!
//! A column that one field transforms value by value
//! ([`BatchTransformer::per_value_columns`]) and whose chunk is
//! dictionary-encoded holds each distinct value once, in the dictionary
//! page; the data pages hold only definition levels and indices into it.
//! Such a chunk is written without decoding its rows: the dictionary's
//! values are transformed once each into a new dictionary page, outputs
//! that coincide merged into one entry (readers take entries to be
//! distinct: pyarrow reads indices past the end of a dictionary with
//! repeats), and every data page goes to the output with its levels, and
//! its indices as they are or mapped to the merged entries, under a new
//! header that has no statistics (the input's would quote its values).
//! What a reader sees is the row-by-row transform of every value.
//!
//! The chunk gets the statistics the writer would give the column: min,
//! max and nulls for the chunk, and with a page index an offset index and a
//! column index (each page's smallest and largest value, found from the
//! entries its indices refer to).
//!
//! Every byte that goes through is accounted for before the chunk is given
//! out: a data page must be dictionary-encoded and consist exactly of its
//! definition levels and its indices (each below the dictionary's length),
//! with no repetition levels and nothing after them. The levels are read
//! before the dictionary is transformed; the indices are read once, as the
//! page is written (checked, mapped or ranked in that one pass). Anything
//! else (a page written plain after the dictionary filled up, a second
//! dictionary, a value the transform refuses or finds empty, an unreadable
//! page) gives `None`, and the caller decodes the chunk row by row, which
//! reports any error at its row.

use std::collections::HashMap;
use std::sync::Arc;
use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Date32Array, Int32Array, Int64Array, StringArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::DataType;
use parquet::basic::{BoundaryOrder, Compression, ConvertedType, Encoding, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::file::metadata::{ColumnIndexBuilder, ParquetMetaData};
use parquet::file::properties::EnabledStatistics;
use parquet::file::reader::ChunkReader;
use parquet::file::serialized_reader::SerializedPageReader;
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnDescPtr;

use super::pages::{ChunkPages, PageCodec, compress_page, pack_bits, with_buffer};
use super::{CopiedChunk, PositionalFile, decoding};
use crate::arrow::BatchTransformer;

/// One column chunk to write through its dictionary.
pub(super) struct Job<'a> {
    pub file: &'a PositionalFile,
    pub meta: &'a ParquetMetaData,
    pub row_group: usize,
    /// The input leaf (the whole top-level column `root`).
    pub leaf: usize,
    pub root: usize,
    /// The input column's Arrow type.
    pub data_type: &'a DataType,
    /// The output leaf.
    pub out: ColumnDescPtr,
    pub codec: Compression,
    /// The statistics the writer gives the column: none, the chunk's (min,
    /// max, nulls), or also each page's (a column index, with a page index).
    pub statistics: EnabledStatistics,
    /// Whether the output has a page index (then the chunk an offset index).
    pub page_index: bool,
    /// The writer's longest column index bound; a chunk with a longer one
    /// gets no column index.
    pub truncate: Option<usize>,
}

/// The pages of a job's input chunk, decompressed, one at a time.
pub(super) struct InputPages {
    reader: SerializedPageReader<CopiedChunk>,
}

impl InputPages {
    /// Reads the chunk; `None` when it cannot be read.
    pub fn open(job: &Job<'_>) -> Option<Self> {
        let rg = job.meta.row_group(job.row_group);
        let cm = rg.column(job.leaf);
        let rows = usize::try_from(rg.num_rows()).ok()?;
        let (start, length) = cm.byte_range();
        let data = job
            .file
            .get_bytes(start, usize::try_from(length).ok()?)
            .ok()?;
        let chunk = Arc::new(CopiedChunk::whole(start, data));
        let reader = decoding("a column chunk", || {
            SerializedPageReader::new(chunk, cm, rows, None)
        })
        .ok()?
        .ok()?;
        Some(Self { reader })
    }

    /// The next page (`Some(None)` after the last); `None` when it does not
    /// decode.
    pub fn next(&mut self) -> Option<Option<Page>> {
        decoding("a page", || self.reader.get_next_page())
            .ok()?
            .ok()
    }
}

/// The output chunk and how many values it transformed, or `None` when the
/// chunk must be decoded row by row (see the module's documentation).
pub(super) fn rewrite(
    job: &Job<'_>,
    transformer: &BatchTransformer,
) -> Option<(CopiedChunk, ColumnCloseResult, u64)> {
    let rg = job.meta.row_group(job.row_group);
    let cm = rg.column(job.leaf);
    let desc = cm.column_descr();
    if desc.max_rep_level() != 0 || desc.max_def_level() > 1 {
        return None;
    }
    if job.out.max_rep_level() != 0
        || job.out.max_def_level() != desc.max_def_level()
        || job.out.physical_type() != PhysicalType::BYTE_ARRAY
    {
        return None;
    }
    // The Arrow type the reader would give, from a Parquet type that means
    // it (not, say, an unsigned integer read as signed).
    let typed = matches!(
        (desc.physical_type(), desc.converted_type()),
        (
            PhysicalType::BYTE_ARRAY,
            ConvertedType::NONE | ConvertedType::UTF8
        ) | (
            PhysicalType::INT32,
            ConvertedType::NONE | ConvertedType::INT_32 | ConvertedType::DATE
        ) | (
            PhysicalType::INT64,
            ConvertedType::NONE | ConvertedType::INT_64
        )
    );
    // The footer's word that some data page is not dictionary-encoded (a
    // writer whose dictionary filled up) saves reading the pages to find
    // out; it is only a hint, every page is checked below.
    let all_dictionary = cm.page_encoding_stats_mask().is_none_or(|m| {
        m.is_only(Encoding::PLAIN_DICTIONARY) || m.is_only(Encoding::RLE_DICTIONARY)
    });
    if !typed || !all_dictionary || cm.dictionary_page_offset().is_none() {
        return None;
    }
    let rows = usize::try_from(rg.num_rows()).ok()?;
    let mut pages = InputPages::open(job)?;
    let mut next = || pages.next();

    // The dictionary's values.
    let Some(Page::DictionaryPage {
        buf,
        num_values,
        encoding: Encoding::PLAIN | Encoding::PLAIN_DICTIONARY,
        ..
    }) = next()?
    else {
        return None;
    };
    let values = plain_values(
        &buf,
        num_values as usize,
        desc.physical_type(),
        job.data_type,
    )?;
    let dict_len = values.len();

    // The data pages: levels read and nulls counted, with new headers (no
    // statistics), before any value is transformed. Their indices are read
    // once, when the page is written.
    let max_def = desc.max_def_level();
    let mut data_pages = Vec::new();
    let (mut row, mut nulls) = (0usize, 0u64);
    while let Some(page) = next()? {
        let (page, n, levels, page_nulls) = match page {
            Page::DataPage {
                buf,
                num_values,
                encoding: encoding @ (Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY),
                def_level_encoding,
                ..
            } => {
                let n = num_values as usize;
                let (levels, page_nulls) = if max_def == 0 {
                    (0, 0)
                } else if def_level_encoding == Encoding::RLE {
                    let len = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
                    let levels = buf.get(4..4usize.checked_add(len)?)?;
                    (4 + len, null_levels(levels, n)?)
                } else {
                    return None;
                };
                let page = Page::DataPage {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                };
                (page, n, levels, page_nulls)
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding: encoding @ (Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY),
                num_rows,
                def_levels_byte_len,
                rep_levels_byte_len: 0,
                ..
            } if num_rows == num_values => {
                let n = num_values as usize;
                let def = def_levels_byte_len as usize;
                let page_nulls = if max_def == 0 {
                    (def == 0).then_some(0)?
                } else {
                    null_levels(buf.get(..def)?, n)?
                };
                let page = Page::DataPageV2 {
                    buf,
                    num_values,
                    encoding,
                    num_nulls: u32::try_from(page_nulls).ok()?,
                    num_rows,
                    def_levels_byte_len,
                    rep_levels_byte_len: 0,
                    is_compressed: false,
                    statistics: None,
                };
                (page, n, def, page_nulls)
            }
            _ => return None,
        };
        data_pages.push((page, n, levels, n - page_nulls));
        row = row.checked_add(n)?;
        nulls += page_nulls as u64;
    }
    if row != rows {
        return None;
    }

    // The dictionary transformed: each value once. Outputs that coincide
    // (a mask, a year, two spellings of one phone number) become one entry,
    // and the indices are mapped to it: readers build their dictionaries on
    // the assumption that entries are distinct (pyarrow reads indices past
    // the end of a dictionary with repeats).
    let out = transformer.transform_values(job.root, &values)?;
    let out = text_values(&out)?;
    let mut entries: HashMap<&[u8], u32> = HashMap::with_capacity(out.len());
    let mut unique = Vec::with_capacity(out.len());
    let mut map = Vec::with_capacity(out.len());
    for v in &out {
        let next = u32::try_from(unique.len()).ok()?;
        map.push(*entries.entry(v).or_insert_with(|| {
            unique.push(*v);
            next
        }));
    }
    let remap = unique.len() != out.len();
    if out.len() != dict_len {
        return None;
    }
    let width = (u32::BITS
        - u32::try_from(unique.len().saturating_sub(1))
            .ok()?
            .leading_zeros())
    .max(1);
    // Each entry's rank in byte order (the order of a text column's
    // statistics): a page's bounds are the entries of the lowest and
    // highest rank it refers to.
    let column_index = job.page_index && job.statistics == EnabledStatistics::Page;
    let mut sorted: Vec<u32> = Vec::new();
    let mut rank = Vec::new();
    if column_index {
        sorted = (0..u32::try_from(unique.len()).ok()?).collect();
        sorted.sort_unstable_by_key(|&e| unique[e as usize]);
        rank = std::vec![0u32; unique.len()];
        for (r, &e) in sorted.iter().enumerate() {
            rank[e as usize] = r as u32;
        }
    }
    let mut pages_index = ColumnIndexBuilder::new(PhysicalType::BYTE_ARRAY);
    let (mut ascending, mut descending) = (true, true);
    let mut last: Option<(u32, u32)> = None;

    let mut dict = Vec::with_capacity(unique.iter().map(|v| v.len() + 4).sum());
    let (mut min, mut max): (Option<&[u8]>, Option<&[u8]>) = (None, None);
    for v in &unique {
        dict.extend_from_slice(&u32::try_from(v.len()).ok()?.to_le_bytes());
        dict.extend_from_slice(v);
        min = Some(min.map_or(*v, |m| m.min(*v)));
        max = Some(max.map_or(*v, |m| m.max(*v)));
    }

    // Written: the dictionary, then the data pages compressed again.
    let mut codec = PageCodec::new(job.codec)?;
    let mut chunk = ChunkPages::new(job.codec, false);
    let dict = Page::DictionaryPage {
        buf: dict.into(),
        num_values: u32::try_from(unique.len()).ok()?,
        encoding: Encoding::PLAIN,
        is_sorted: false,
    };
    let (dict, raw) = compress_page(dict, &mut codec).ok()?;
    chunk.write(dict, raw, 0, 0).ok()?;
    for (page, n, levels, values) in data_pages {
        // Each page's indices are read here, once: mapping or ranking them
        // checks them too (an index past the dictionary has no entry).
        let column_rank = column_index.then_some(rank.as_slice());
        let (page, bounds) = if remap {
            // The levels as they are, the indices mapped.
            let buf = page.buffer();
            // Sized once: mapped indices are rarely wider than the input's.
            let mut out = Vec::with_capacity(buf.len() + 8);
            out.extend_from_slice(buf.get(..levels)?);
            let bounds = remap_indices(
                buf.get(levels..)?,
                values,
                &map,
                width,
                column_rank,
                &mut out,
            )?;
            (
                with_buffer(page, out.into(), false),
                column_index.then_some(bounds),
            )
        } else {
            // The entries are the input's: the indices are the output's.
            let indices = page.buffer().get(levels..)?;
            let bounds = index_bounds(indices, values, dict_len, column_rank)?;
            (page, column_index.then_some(bounds))
        };
        if let Some(bounds) = bounds {
            let page_nulls = i64::try_from(n - values).ok()?;
            match bounds {
                None => pages_index.append(true, Vec::new(), Vec::new(), page_nulls),
                Some((lo, hi)) => {
                    if let Some((last_lo, last_hi)) = last {
                        ascending &= last_lo <= lo && last_hi <= hi;
                        descending &= last_lo >= lo && last_hi >= hi;
                    }
                    last = Some((lo, hi));
                    let entry = |r: u32| unique.get(*sorted.get(r as usize)? as usize).copied();
                    let (min, max) = (entry(lo)?, entry(hi)?);
                    if job.truncate.is_some_and(|t| min.len() > t || max.len() > t) {
                        // The writer would truncate it: no column index
                        // rather than another bound than the writer's.
                        pages_index.to_invalid();
                    }
                    pages_index.append(false, min.to_vec(), max.to_vec(), page_nulls);
                }
            }
        }
        let (page, raw) = compress_page(page, &mut codec).ok()?;
        chunk.write(page, raw, n as u64, 0).ok()?;
    }

    let statistics = (job.statistics != EnabledStatistics::None).then(|| {
        let (min, max) = (min.map(ByteArray::from), max.map(ByteArray::from));
        Statistics::new(min, max, None, Some(nulls), false)
    });
    let column_index = if column_index && pages_index.valid() {
        pages_index.set_boundary_order(match (ascending, descending) {
            (true, _) => BoundaryOrder::ASCENDING,
            (false, true) => BoundaryOrder::DESCENDING,
            (false, false) => BoundaryOrder::UNORDERED,
        });
        Some(pages_index.build().ok()?)
    } else {
        None
    };
    let (data, close) = chunk
        .finish(&job.out, statistics, column_index, job.page_index)
        .ok()?;
    Some((data, close, row as u64 - nulls))
}

/// A PLAIN dictionary page's `n` values as an array of the column's value
/// type (for a dictionary column, its values' type): text (checked UTF-8),
/// dates or integers.
fn plain_values(buf: &[u8], n: usize, physical: PhysicalType, t: &DataType) -> Option<ArrayRef> {
    let t = match t {
        DataType::Dictionary(_, v) => v.as_ref(),
        t => t,
    };
    let fixed =
        |width: usize| (buf.len() == n.checked_mul(width)?).then_some(buf.chunks_exact(width));
    Some(match (physical, t) {
        (PhysicalType::BYTE_ARRAY, DataType::Utf8) => {
            let mut offsets = Vec::with_capacity(n + 1);
            let mut values = Vec::with_capacity(buf.len());
            offsets.push(0i32);
            for v in plain_slices(buf, n)? {
                values.extend_from_slice(v);
                offsets.push(i32::try_from(values.len()).ok()?);
            }
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            Arc::new(StringArray::try_new(offsets, values.into(), None).ok()?)
        }
        (PhysicalType::INT32, DataType::Date32 | DataType::Int32) => {
            let v: Vec<i32> = fixed(4)?
                .map(|b| i32::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect();
            match t {
                DataType::Date32 => Arc::new(Date32Array::from(v)),
                _ => Arc::new(Int32Array::from(v)),
            }
        }
        (PhysicalType::INT64, DataType::Int64) => Arc::new(Int64Array::from(
            fixed(8)?
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect::<Vec<i64>>(),
        )),
        _ => return None,
    })
}

/// A data page's `n` dictionary indices (bit width first) through `map`,
/// appended to `out` at `width` bits, run for run: each run keeps its
/// header (the same count of values, or of groups of eight), a repeated
/// value is mapped once, a bit-packed group is unpacked, mapped and packed
/// again at `width` (the padding of a last group written as zeroes). With
/// `rank`, returns the lowest and highest rank of the mapped indices as
/// [`index_bounds`] does (`Some(None)` for a page of nulls only); without,
/// `Some(None)`. `None` when the runs are malformed or an index has no
/// entry in `map`.
fn remap_indices(
    buf: &[u8],
    n: usize,
    map: &[u32],
    width: u32,
    rank: Option<&[u32]>,
    out: &mut Vec<u8>,
) -> Option<Option<(u32, u32)>> {
    let (&from, runs_buf) = buf.split_first()?;
    out.push(u8::try_from(width).ok().filter(|&w| w <= 32)?);
    let mut bounds = None;
    let mut mapped = |v: u64| -> Option<u32> {
        let m = *map.get(usize::try_from(v).ok()?)?;
        if let Some(rank) = rank {
            widen(&mut bounds, *rank.get(m as usize)?);
        }
        Some(m)
    };
    runs(runs_buf, u32::from(from), n, |header, run| {
        out.extend_from_slice(header);
        match run {
            Run::Repeat { value, .. } => {
                let Some(m) = mapped(value) else {
                    return false;
                };
                out.extend_from_slice(&m.to_le_bytes()[..width.div_ceil(8) as usize]);
            }
            Run::Packed { groups, take } => {
                for (g, values) in groups.enumerate() {
                    let mut group = [0u32; 8];
                    for (slot, &v) in group.iter_mut().zip(&values).take(take - g * 8) {
                        let Some(m) = mapped(v) else {
                            return false;
                        };
                        *slot = m;
                    }
                    pack8(group, width, out);
                }
            }
        }
        true
    })?;
    Some(bounds)
}

/// The `n` values of a PLAIN byte-array page (each a 4-byte little-endian
/// length, then its bytes), which must take all of `buf`.
pub(super) fn plain_slices(buf: &[u8], n: usize) -> Option<Vec<&[u8]>> {
    // Each value takes four bytes at least: a count the page cannot hold
    // is refused before anything is sized by it.
    if n > buf.len() / 4 {
        return None;
    }
    let mut values = Vec::with_capacity(n);
    let mut rest = buf;
    for _ in 0..n {
        let (len, after) = rest.split_first_chunk::<4>()?;
        let (v, after) = after.split_at_checked(u32::from_le_bytes(*len) as usize)?;
        values.push(v);
        rest = after;
    }
    rest.is_empty().then_some(values)
}

/// Eight values below `2^width` bit-packed as Parquet packs them (least
/// significant bit first): exactly `width` bytes. Up to 8 bits the eight
/// make one 64-bit word, up to 16 one 128-bit word, written at once; the
/// merged dictionaries this packs are that small (a wider width means over
/// 65,536 entries).
fn pack8(group: [u32; 8], width: u32, out: &mut Vec<u8>) {
    if width <= 8 {
        let word = group
            .iter()
            .zip((0..).step_by(width as usize))
            .fold(0u64, |word, (&v, at)| word | u64::from(v) << at);
        out.extend_from_slice(&word.to_le_bytes()[..width as usize]);
    } else if width <= 16 {
        let word = group
            .iter()
            .zip((0..).step_by(width as usize))
            .fold(0u128, |word, (&v, at)| word | u128::from(v) << at);
        out.extend_from_slice(&word.to_le_bytes()[..width as usize]);
    } else {
        pack_bits(group.map(u64::from), width, out);
    }
}

/// The values of a transformed dictionary as bytes (`Utf8` or `LargeUtf8`).
fn text_values(a: &ArrayRef) -> Option<Vec<&[u8]>> {
    if a.null_count() > 0 {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(str::as_bytes)
            .collect(),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .flatten()
            .map(str::as_bytes)
            .collect(),
        _ => return None,
    })
}

/// One run of an RLE / bit-packed hybrid sequence (see [`runs`]).
enum Run<'a> {
    /// `len` copies of `value`.
    Repeat { value: u64, len: usize },
    /// Groups of eight bit-packed values, of which the first `take` count
    /// (the rest pad the last group).
    Packed { groups: Groups<'a>, take: usize },
}

/// The groups of eight values of a bit-packed run, unpacked.
struct Groups<'a> {
    bytes: &'a [u8],
    width: u32,
    left: usize,
}

impl Iterator for Groups<'_> {
    type Item = [u64; 8];

    fn next(&mut self) -> Option<[u64; 8]> {
        self.left = self.left.checked_sub(1)?;
        let w = self.width as usize;
        let (group, rest) = self.bytes.split_at_checked(w)?;
        self.bytes = rest;
        let mask = (1u64 << self.width) - 1;
        Some(if w <= 8 {
            // Eight values of at most 8 bits (a dictionary of up to 256
            // entries): one 64-bit load.
            let mut word = [0u8; 8];
            word[..w].copy_from_slice(group);
            let word = u64::from_le_bytes(word);
            core::array::from_fn(|i| (word >> (i * w)) & mask)
        } else if w <= 16 {
            // Eight values of at most 16 bits: one 128-bit load.
            let mut word = [0u8; 16];
            word[..w].copy_from_slice(group);
            let word = u128::from_le_bytes(word);
            core::array::from_fn(|i| (word >> (i * w)) as u64 & mask)
        } else {
            core::array::from_fn(|i| {
                let bit = i * w;
                let mut word = [0u8; 8];
                let from = bit / 8;
                let to = group.len().min(from + 8);
                word[..to - from].copy_from_slice(&group[from..to]);
                (u64::from_le_bytes(word) >> (bit % 8)) & mask
            })
        })
    }
}

/// Walks an RLE / bit-packed hybrid run sequence of `count` values of
/// `width` bits that must take all of `buf` (a last bit-packed group is
/// padded to eight values), calling `each(header, run)` with each run's
/// header bytes; `None` when it is malformed, ends early, leaves bytes over
/// or `each` refuses a run.
fn runs<'a>(
    buf: &'a [u8],
    width: u32,
    count: usize,
    mut each: impl FnMut(&'a [u8], Run<'a>) -> bool,
) -> Option<()> {
    if width > 32 {
        return None;
    }
    let value_bytes = width.div_ceil(8) as usize;
    let (mut at, mut seen) = (0usize, 0usize);
    while seen < count {
        let start = at;
        let mut header = 0u64;
        let mut shift = 0;
        loop {
            let b = *buf.get(at)?;
            at += 1;
            header |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 35 {
                return None;
            }
        }
        let head = buf.get(start..at)?;
        let len = usize::try_from(header >> 1).ok()?;
        if header & 1 == 0 {
            // A run of one value.
            if len == 0 || len > count - seen {
                return None;
            }
            let mut v = [0u8; 8];
            v[..value_bytes].copy_from_slice(buf.get(at..at + value_bytes)?);
            at += value_bytes;
            if !each(
                head,
                Run::Repeat {
                    value: u64::from_le_bytes(v),
                    len,
                },
            ) {
                return None;
            }
            seen += len;
        } else {
            // `len` groups of eight values, `width` bytes a group.
            let bytes = buf.get(at..at.checked_add(len.checked_mul(width as usize)?)?)?;
            at += bytes.len();
            let values = len.checked_mul(8)?;
            if len == 0 || values - 8 >= count - seen {
                return None;
            }
            let take = values.min(count - seen);
            let groups = Groups {
                bytes,
                width,
                left: len,
            };
            if !each(head, Run::Packed { groups, take }) {
                return None;
            }
            seen += take;
        }
    }
    (at == buf.len()).then_some(())
}

/// [`runs`] value by value: `each(value, repeats)`, a bit-packed value
/// once each.
pub(super) fn hybrid(
    buf: &[u8],
    width: u32,
    count: usize,
    mut each: impl FnMut(u64, usize) -> bool,
) -> Option<()> {
    runs(buf, width, count, |_, run| match run {
        Run::Repeat { value, len } => each(value, len),
        Run::Packed { groups, take } => groups
            .flat_map(IntoIterator::into_iter)
            .take(take)
            .all(|v| each(v, 1)),
    })
}

/// How many of a page's `n` definition levels (maximum 1, bit width 1) say
/// null.
fn null_levels(levels: &[u8], n: usize) -> Option<usize> {
    let mut nulls = 0;
    hybrid(levels, 1, n, |v, k| {
        if v == 0 {
            nulls += k;
        }
        v <= 1
    })?;
    Some(nulls)
}

/// Checks a data page's `n` dictionary indices (a bit width, then the
/// runs, and nothing else): each below `dict_len` and, with `rank`, ranked.
/// Returns their lowest and highest rank (`Some(None)` for a page of nulls
/// only, or without `rank`); `None` when the runs are malformed or an index
/// is out of range.
fn index_bounds(
    buf: &[u8],
    n: usize,
    dict_len: usize,
    rank: Option<&[u32]>,
) -> Option<Option<(u32, u32)>> {
    let (&width, runs) = buf.split_first()?;
    let mut bounds = None;
    hybrid(runs, u32::from(width), n, |v, _| {
        let Some(v) = usize::try_from(v).ok().filter(|&v| v < dict_len) else {
            return false;
        };
        match rank.map(|rank| rank.get(v)) {
            None => true,
            Some(Some(&r)) => {
                widen(&mut bounds, r);
                true
            }
            Some(None) => false,
        }
    })?;
    Some(bounds)
}

/// Widens the lowest and highest rank seen so far to take in `r`.
fn widen(bounds: &mut Option<(u32, u32)>, r: u32) {
    *bounds = Some(bounds.map_or((r, r), |(lo, hi)| (lo.min(r), hi.max(r))));
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::RecordBatch;
    use arrow_schema::{Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use std::string::String;

    /// The pages parquet-rs writes for `values` (a dictionary-encoded text
    /// column, nullable, one row group, uncompressed, pages of 1,000 rows).
    fn pages(values: &[Option<String>]) -> Vec<Page> {
        let a: ArrayRef = Arc::new(StringArray::from_iter(values.iter().cloned()));
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "v",
            DataType::Utf8,
            true
        )]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), std::vec![a]).unwrap();
        let props = WriterProperties::builder()
            .set_data_page_row_count_limit(1000)
            .set_write_batch_size(1000)
            .build();
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let r = SerializedFileReader::new(bytes::Bytes::from(out)).unwrap();
        let mut p = r
            .get_row_group(0)
            .unwrap()
            .get_column_page_reader(0)
            .unwrap();
        std::iter::from_fn(|| p.get_next_page().unwrap()).collect()
    }

    /// A v1 data page's definition levels (with their length) and indices.
    fn split(page: &Page) -> (&[u8], &[u8], usize) {
        let Page::DataPage {
            buf,
            num_values,
            encoding,
            ..
        } = page
        else {
            panic!("not a v1 data page");
        };
        assert_eq!(*encoding, Encoding::RLE_DICTIONARY);
        let len = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
        (&buf[4..4 + len], &buf[4 + len..], *num_values as usize)
    }

    /// Nulls and indices as parquet-rs writes them, at bit widths 1 to 12,
    /// in runs (RLE) and scattered (bit-packed), with and without nulls.
    #[test]
    fn levels_and_indices_read_as_parquet_writes_them() {
        for distinct in [2usize, 3, 9, 200, 4000] {
            for runs in [false, true] {
                let values: Vec<Option<String>> = (0..5000usize)
                    .map(|i| {
                        let v = if runs { i / 40 } else { i.wrapping_mul(7919) };
                        (i % 11 != 5).then(|| std::format!("v{}", v % distinct))
                    })
                    .collect();
                let pages = pages(&values);
                let Page::DictionaryPage {
                    num_values: dict, ..
                } = pages[0]
                else {
                    panic!("no dictionary first");
                };
                // The dictionary holds the values in order of first
                // appearance; rank them as text.
                let mut entries: Vec<&str> = Vec::new();
                for v in values.iter().flatten() {
                    if !entries.contains(&v.as_str()) {
                        entries.push(v);
                    }
                }
                let rank: Vec<u32> = entries
                    .iter()
                    .map(|e| entries.iter().filter(|o| *o < e).count() as u32)
                    .collect();
                let (mut row, mut out_of_range, mut unranked) = (0, 0, 0);
                for page in &pages[1..] {
                    let (levels, indices, n) = split(page);
                    let page_values = values[row..row + n].iter().flatten();
                    let nulls = n - page_values.clone().count();
                    assert_eq!(null_levels(levels, n), Some(nulls), "{distinct} {runs}");
                    let all = index_bounds(indices, n - nulls, dict as usize, None);
                    assert_eq!(all, Some(None));
                    let ranks =
                        page_values.map(|v| rank[entries.iter().position(|e| e == v).unwrap()]);
                    let want = ranks.clone().min().zip(ranks.max());
                    let ranked = index_bounds(indices, n - nulls, dict as usize, Some(&rank));
                    assert_eq!(ranked, Some(want), "{distinct} {runs}");
                    // The last entry without a rank: the pages using it
                    // are refused, the others ranked as before.
                    let cut = &rank[..rank.len() - 1];
                    let short = index_bounds(indices, n - nulls, dict as usize, Some(cut));
                    assert!(short.is_none() || short == ranked);
                    unranked += usize::from(short.is_none());
                    // One entry fewer: the page using the last entry (some
                    // page does) has an index out of range.
                    out_of_range += usize::from(
                        index_bounds(indices, n - nulls, dict as usize - 1, None).is_none(),
                    );
                    row += n;
                }
                assert_eq!(row, values.len());
                assert!(out_of_range > 0);
                assert_eq!(unranked, out_of_range);
            }
        }
    }

    /// Anything but exactly the page's runs is refused: cut short, a byte
    /// over, more or fewer values than the runs hold.
    #[test]
    fn runs_must_take_the_whole_page() {
        let values: Vec<Option<String>> = (0..1000usize)
            .map(|i| (i % 7 != 0).then(|| std::format!("v{}", i.wrapping_mul(31) % 50)))
            .collect();
        let pages = pages(&values);
        let (levels, indices, n) = split(&pages[1]);
        let nulls = null_levels(levels, n).unwrap();
        let m = n - nulls;
        assert!(index_bounds(indices, m, 50, None).is_some());
        assert!(index_bounds(&indices[..indices.len() - 1], m, 50, None).is_none());
        let mut long = indices.to_vec();
        long.push(0);
        assert!(index_bounds(&long, m, 50, None).is_none());
        assert!(index_bounds(indices, m + 9, 50, None).is_none());
        assert!(index_bounds(indices, m - 9, 50, None).is_none());
        assert!(null_levels(&levels[..levels.len() - 1], n).is_none());
        assert!(index_bounds(&[], 0, 1, None).is_none(), "no bit width");
        assert!(
            index_bounds(&[33, 3, 0], 1, 1, None).is_none(),
            "over 32 bits"
        );
    }

    /// RLE / bit-packed hybrid runs of `values` (each below `2^width`): a
    /// run of eight or more equal values as one RLE run, the rest
    /// bit-packed in groups of eight (the last padded with zeroes). Writes
    /// the tests' inputs.
    fn encode_hybrid(values: &[u32], width: u32, out: &mut Vec<u8>) {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let run = |i: usize, cap: usize| {
            values[i..]
                .iter()
                .take(cap)
                .take_while(|&&x| x == values[i])
                .count()
        };
        let value_bytes = width.div_ceil(8) as usize;
        let mut i = 0;
        while i < values.len() {
            let r = run(i, usize::MAX);
            if r >= 8 {
                varint(out, (r as u64) << 1);
                out.extend_from_slice(&values[i].to_le_bytes()[..value_bytes]);
                i += r;
                continue;
            }
            let start = i;
            let mut groups = 0usize;
            while i < values.len() && (groups == 0 || run(i, 8) < 8) {
                i += 8;
                groups += 1;
            }
            varint(out, ((groups as u64) << 1) | 1);
            for g in 0..groups {
                let group = (0..8).map(|k| values.get(start + g * 8 + k).copied().unwrap_or(0));
                pack_bits(group.map(u64::from), width, out);
            }
            i = i.min(values.len());
        }
    }

    /// Values as the tests draw them: stretches of one value, of random
    /// values and of slowly rising ones, each below `below`.
    fn draw(n: usize, below: u64, rand: &mut impl FnMut() -> u64) -> Vec<u32> {
        (0..n)
            .map(|i| match (i / 13) % 3 {
                0 => (below / 2) as u32,
                1 => (rand() % below) as u32,
                _ => ((i / 9) as u64 % below) as u32,
            })
            .collect()
    }

    fn xorshift() -> impl FnMut() -> u64 {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// What [`encode_hybrid`] writes, [`hybrid`] reads back exactly: runs,
    /// scattered values and both mixed, every width, lengths around the
    /// group of eight.
    #[test]
    fn encoded_runs_read_back() {
        let mut rand = xorshift();
        for width in 1..=32u32 {
            for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 100, 1001] {
                let values = draw(n, 1u64 << width, &mut rand);
                let mut buf = Vec::new();
                encode_hybrid(&values, width, &mut buf);
                let mut back = Vec::new();
                hybrid(&buf, width, n, |v, k| {
                    back.extend(std::iter::repeat_n(v as u32, k));
                    true
                })
                .unwrap_or_else(|| panic!("width {width} n {n}"));
                assert_eq!(back, values, "width {width} n {n}");
            }
        }
    }

    /// Mapping the runs equals mapping the values: at every input width
    /// and several output widths, what [`remap_indices`] writes reads back
    /// as the input's values through the map, with the bounds of their
    /// ranks; an index the map has no entry for, or a rank missing, refuses
    /// the page.
    #[test]
    fn remapped_runs_read_back_mapped() {
        let mut rand = xorshift();
        for from in 0..=32u32 {
            let entries = (1u64 << from).min(3000);
            for to in [1u32, 3, 8, 12, 16, 17, 32] {
                let targets = (1u64 << to).min(70_000);
                let mut map: Vec<u32> = (0..entries).map(|_| (rand() % targets) as u32).collect();
                map[0] = (targets - 1) as u32;
                let rank: Vec<u32> = (0..targets).map(|_| rand() as u32).collect();
                for n in [0usize, 1, 8, 9, 100, 1001] {
                    let values = draw(n, entries, &mut rand);
                    let mut buf = std::vec![u8::try_from(from).unwrap()];
                    encode_hybrid(&values, from, &mut buf);
                    let mut out = Vec::new();
                    let bounds = remap_indices(&buf, n, &map, to, Some(&rank), &mut out)
                        .unwrap_or_else(|| panic!("{from} to {to}, n {n}"));
                    let want: Vec<u32> = values.iter().map(|&v| map[v as usize]).collect();
                    assert_eq!(out[0], u8::try_from(to).unwrap());
                    let mut back = Vec::new();
                    hybrid(&out[1..], to, n, |v, k| {
                        back.extend(std::iter::repeat_n(v as u32, k));
                        true
                    })
                    .unwrap_or_else(|| panic!("{from} to {to}, n {n}"));
                    assert_eq!(back, want, "{from} to {to}, n {n}");
                    let ranks = want.iter().map(|&m| rank[m as usize]);
                    let want_bounds = ranks.clone().min().zip(ranks.max());
                    assert_eq!(bounds, want_bounds, "{from} to {to}, n {n}");
                    let mut plain = Vec::new();
                    assert_eq!(
                        remap_indices(&buf, n, &map, to, None, &mut plain),
                        Some(None)
                    );
                    assert_eq!(plain, out);
                    if n > 0 {
                        let short = &map[..values.iter().max().copied().unwrap() as usize];
                        assert_eq!(
                            remap_indices(&buf, n, short, to, None, &mut Vec::new()),
                            None
                        );
                        let few = &rank[..*want.iter().max().unwrap() as usize];
                        assert_eq!(
                            remap_indices(&buf, n, &map, to, Some(few), &mut Vec::new()),
                            None
                        );
                    }
                }
            }
        }
    }

    /// A group of eight packs as [`pack_bits`] packs it, at every width.
    #[test]
    fn eight_pack_as_bits_do() {
        let mut rand = xorshift();
        for width in 1..=32u32 {
            for _ in 0..200 {
                let mask = (1u64 << width) - 1;
                let group: [u32; 8] = core::array::from_fn(|_| (rand() & mask) as u32);
                let (mut fast, mut bits) = (Vec::new(), Vec::new());
                pack8(group, width, &mut fast);
                pack_bits(group.map(u64::from), width, &mut bits);
                assert_eq!(fast, bits, "width {width}");
                assert_eq!(fast.len(), width as usize);
            }
        }
    }

    #[test]
    fn width_zero_runs_are_zeros() {
        // One bit-packed group of eight (header 1 << 1 | 1, no bytes), and a
        // run of twelve (header 12 << 1, a value of no bytes).
        for (buf, n, want) in [
            (&[3u8][..], 8, 8),
            (&[3u8][..], 5, 5),
            (&[24u8][..], 12, 12),
        ] {
            let mut back = Vec::new();
            hybrid(buf, 0, n, |v, k| {
                back.extend(std::iter::repeat_n(v, k));
                true
            })
            .unwrap();
            assert_eq!(back, std::vec![0u64; want]);
        }
        // A group of eight cannot stand for twelve values.
        assert!(hybrid(&[3u8], 0, 12, |_, _| true).is_none());
    }

    #[test]
    fn plain_values_take_the_whole_page() {
        let mut buf = Vec::new();
        for v in ["Seoul", "", "부산"] {
            buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
            buf.extend_from_slice(v.as_bytes());
        }
        let a = plain_values(&buf, 3, PhysicalType::BYTE_ARRAY, &DataType::Utf8).unwrap();
        let s = a.as_string::<i32>();
        assert_eq!(
            s.iter().flatten().collect::<Vec<_>>(),
            ["Seoul", "", "부산"]
        );
        assert!(plain_values(&buf, 2, PhysicalType::BYTE_ARRAY, &DataType::Utf8).is_none());
        assert!(plain_values(&buf, 4, PhysicalType::BYTE_ARRAY, &DataType::Utf8).is_none());
        let mut bad = buf.clone();
        let last = bad.len() - 1;
        bad[last] = 0xff;
        assert!(plain_values(&bad, 3, PhysicalType::BYTE_ARRAY, &DataType::Utf8).is_none());
        let days: Vec<u8> = [0i32, -1, 19_000]
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        let a = plain_values(&days, 3, PhysicalType::INT32, &DataType::Date32).unwrap();
        assert_eq!(
            a.as_primitive::<arrow_array::types::Date32Type>().values(),
            &[0, -1, 19_000]
        );
        assert!(plain_values(&days[1..], 3, PhysicalType::INT32, &DataType::Date32).is_none());
        assert!(plain_values(&days, 3, PhysicalType::INT64, &DataType::Date32).is_none());
    }
}
