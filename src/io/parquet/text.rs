//! A column of pseudonyms, tokens or FF1 outputs written from its values.
//!
//! Such values are as distinct as their inputs, so the output gives their
//! columns no dictionary and no statistics, and encodes them
//! DELTA_LENGTH_BYTE_ARRAY: the lengths first, as DELTA_BINARY_PACKED, then
//! the values back to back (see the writer's properties in `parquet.rs`).
//! Parquet's column writer copies each value three times on the way to a
//! page (into its encoder, into the page, into the page behind its levels)
//! and compresses each page with a new context. [`TextChunk`] writes the
//! same pages from the Arrow arrays, or from values computed from the
//! input's pages (`pseudonyms.rs`): each value copied once into its page,
//! the definition levels taken from the validity bits, the lengths encoded
//! in one pass, and one compression context for the chunk (`pages.rs`).
//!
//! It writes only what the column writer would write the same way: a flat
//! (unnested, unrepeated) text column, data pages v1, and the properties
//! above; [`TextChunk::fits`] says which columns those are.

use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{Array, GenericStringArray, OffsetSizeTrait};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_schema::DataType;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::{ColumnDescPtr, ColumnDescriptor};

use super::CopiedChunk;
use super::pages::{ChunkPages, PageCodec, pack_bits};

/// One text column chunk, filled a batch at a time.
pub(super) struct TextChunk {
    column: ColumnDescPtr,
    pages: ChunkPages,
    codec: PageCodec,
    /// Whether the column has definition levels (it may hold nulls).
    nullable: bool,
    /// A page ends at this many rows, or once its values reach
    /// `page_bytes`, as the column writer ends them.
    page_rows: usize,
    page_bytes: usize,
    page_index: bool,
    // The page being filled: its rows, which of them are not null, and the
    // lengths of those.
    rows: usize,
    nulls: usize,
    valid: BooleanBufferBuilder,
    lengths: Vec<i32>,
    /// The page before compression: room for its levels and lengths, which
    /// go in front of the values once the page is full, then the values.
    raw: Vec<u8>,
    room: usize,
    /// The levels and lengths of the page.
    head: Vec<u8>,
}

/// The most value bytes a chunk reserves for its page up front.
const MAX_RESERVE: usize = 8 << 20;

impl TextChunk {
    /// Whether the output leaf `column` of a file written with `props` is
    /// this writer's to write (see the module's documentation).
    pub fn fits(column: &ColumnDescriptor, props: &WriterProperties) -> bool {
        let path = column.path();
        path.parts().len() == 1
            && column.max_rep_level() == 0
            && column.max_def_level() <= 1
            && column.physical_type() == PhysicalType::BYTE_ARRAY
            && props.writer_version() == WriterVersion::PARQUET_1_0
            && props.encoding(path) == Some(Encoding::DELTA_LENGTH_BYTE_ARRAY)
            && !props.dictionary_enabled(path)
            && props.statistics_enabled(path) == EnabledStatistics::None
            && props.bloom_filter_properties(path).is_none()
            && PageCodec::supports(props.compression(path))
    }

    /// A chunk for the output leaf `column` of a file written with `props`
    /// (with an offset index unless they disable it, as the column writer
    /// does), which [fits](Self::fits) it; `None` when no compression
    /// context can be made.
    pub fn new(column: ColumnDescPtr, props: &WriterProperties) -> Option<Self> {
        let path = column.path();
        let compression = props.compression(path);
        let page_rows = props.data_page_row_count_limit().max(1);
        let room = head_bound(page_rows);
        let page_bytes = props.column_data_page_size_limit(path).max(1);
        Some(Self {
            nullable: column.max_def_level() == 1,
            page_rows,
            page_bytes,
            codec: PageCodec::new(compression)?,
            pages: ChunkPages::new(compression, true),
            page_index: !props.offset_index_disabled(),
            column,
            rows: 0,
            nulls: 0,
            valid: BooleanBufferBuilder::new(0),
            lengths: Vec::new(),
            raw: {
                // Room for a whole page from the start (and the value that
                // ends it): grown by doubling, each chunk's first page was
                // copied as it grew.
                let mut raw = Vec::with_capacity(room + 2 * page_bytes.min(MAX_RESERVE));
                raw.resize(room, 0);
                raw
            },
            room,
            head: Vec::new(),
        })
    }

    /// Appends the rows of `array` (`Utf8` or `LargeUtf8`).
    pub fn push(&mut self, array: &dyn Array) -> Result<(), ParquetError> {
        match array.data_type() {
            DataType::Utf8 => self.push_strings(array.as_string::<i32>()),
            DataType::LargeUtf8 => self.push_strings(array.as_string::<i64>()),
            other => Err(ParquetError::General(std::format!(
                "a text column chunk given {other} values"
            ))),
        }
    }

    fn push_strings<O: OffsetSizeTrait>(
        &mut self,
        a: &GenericStringArray<O>,
    ) -> Result<(), ParquetError> {
        self.push_values(
            a.value_offsets(),
            a.value_data(),
            a.logical_nulls().as_ref(),
        )
    }

    /// Appends `offsets.len() - 1` rows: row `i` is the bytes of `data`
    /// from `offsets[i]` to `offsets[i + 1]` (offsets never decrease), or
    /// null where `nulls` says so. The bytes are not checked to be UTF-8: a
    /// caller gives text, or the encoding of bytes in an ASCII alphabet.
    pub fn push_values<O: OffsetSizeTrait>(
        &mut self,
        offsets: &[O],
        data: &[u8],
        nulls: Option<&NullBuffer>,
    ) -> Result<(), ParquetError> {
        let len = offsets.len().saturating_sub(1);
        let nulls = nulls.filter(|n| n.null_count() > 0);
        if nulls.is_some_and(|n| n.len() != len)
            || offsets.last().is_some_and(|o| o.as_usize() > data.len())
        {
            return Err(ParquetError::General(
                "text values that do not match their offsets".into(),
            ));
        }
        if nulls.is_some() && !self.nullable {
            return Err(ParquetError::General(
                "a null in a column that holds none".into(),
            ));
        }
        let at = |i: usize| offsets[i].as_usize();
        let mut i = 0;
        while i < len {
            let end = len.min(i + (self.page_rows - self.rows));
            let taken = if let Some(nulls) = nulls {
                let mut n = 0;
                while i + n < end && self.value_bytes() < self.page_bytes {
                    let r = i + n;
                    if nulls.is_valid(r) {
                        self.raw.extend_from_slice(&data[at(r)..at(r + 1)]);
                        self.lengths.push((at(r + 1) - at(r)) as i32);
                        self.valid.append(true);
                    } else {
                        self.valid.append(false);
                        self.nulls += 1;
                    }
                    n += 1;
                }
                n
            } else {
                // Values up to the one that fills the page, in one copy.
                let room = self.page_bytes.saturating_sub(self.value_bytes());
                let fit = offsets[i + 1..end].partition_point(|o| o.as_usize() - at(i) < room);
                let n = fit + 1;
                self.raw.extend_from_slice(&data[at(i)..at(i + n)]);
                self.lengths.extend(
                    offsets[i..=i + n]
                        .windows(2)
                        .map(|w| (w[1] - w[0]).as_usize() as i32),
                );
                if self.nullable {
                    self.valid.append_n(n, true);
                }
                n
            };
            self.rows += taken;
            i += taken;
            if self.rows >= self.page_rows || self.value_bytes() >= self.page_bytes {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// The bytes of the values in the page being filled.
    fn value_bytes(&self) -> usize {
        self.raw.len() - self.room
    }

    /// Writes the page being filled.
    fn flush(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let value_bytes = self.value_bytes();
        if value_bytes > i32::MAX as usize {
            return Err(ParquetError::General(
                "a text page of more than 2 GiB".into(),
            ));
        }
        let head = &mut self.head;
        head.clear();
        if self.nullable {
            // Definition levels (bit width 1), after their length: one run
            // of ones, or the validity bits as one bit-packed run.
            let groups = self.rows.div_ceil(8);
            head.extend_from_slice(&[0; 4]);
            if self.nulls == 0 {
                uleb128(head, (self.rows as u64) << 1);
                head.push(1);
            } else {
                uleb128(head, ((groups as u64) << 1) | 1);
                let bits = self.valid.as_slice();
                head.extend_from_slice(bits);
                head.resize(head.len() + groups - bits.len(), 0);
            }
            let len = (head.len() - 4) as u32;
            head[..4].copy_from_slice(&len.to_le_bytes());
        }
        delta_binary_packed(&self.lengths, head);
        // The head goes in front of the values: within the room kept for
        // it (head_bound), or, should it not fit, ahead of them all.
        let start = match self.room.checked_sub(head.len()) {
            Some(start) => {
                self.raw[start..self.room].copy_from_slice(head);
                start
            }
            None => {
                self.raw.splice(..self.room, head.iter().copied());
                self.room = head.len();
                0
            }
        };
        let page = &self.raw[start..];
        let buf = self.codec.compress(page)?;
        let page_len = page.len();
        let page = Page::DataPage {
            buf: buf.into(),
            num_values: u32::try_from(self.rows)
                .map_err(|_| ParquetError::General("a page of over 4 G rows".into()))?,
            encoding: Encoding::DELTA_LENGTH_BYTE_ARRAY,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        };
        self.pages
            .write(page, page_len, self.rows as u64, value_bytes as i64)?;
        self.rows = 0;
        self.nulls = 0;
        self.valid = BooleanBufferBuilder::new(self.page_rows.min(1 << 16));
        self.lengths.clear();
        self.raw.truncate(self.room);
        Ok(())
    }

    /// The chunk, as the row group writer takes it.
    pub fn finish(mut self) -> Result<(CopiedChunk, ColumnCloseResult), ParquetError> {
        self.flush()?;
        self.pages.finish(&self.column, None, None, self.page_index)
    }
}

/// The most bytes the levels and lengths of a page of `rows` rows take: the
/// levels' length, run header and bits, then the lengths' header and per
/// block of 128 its smallest delta, widths and 4 miniblocks of 32 deltas
/// at 32 bits at most (lengths lie in 0..2^31, so any two of their deltas
/// lie within 2^32 of each other).
fn head_bound(rows: usize) -> usize {
    let levels = 4 + 10 + rows.div_ceil(8).max(1);
    let blocks = rows.saturating_sub(1).div_ceil(BLOCK);
    levels + 4 * 10 + blocks * (10 + MINIBLOCKS + MINIBLOCKS * MINIBLOCK * 32 / 8)
}

/// `v` as ULEB128.
fn uleb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `v` zigzag-encoded, as ULEB128.
fn zigzag(out: &mut Vec<u8>, v: i64) {
    uleb128(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// The values per block and the miniblocks per block of
/// DELTA_BINARY_PACKED, as parquet's writer chooses them.
const BLOCK: usize = 128;
const MINIBLOCKS: usize = 4;
const MINIBLOCK: usize = BLOCK / MINIBLOCKS;

/// `values` as DELTA_BINARY_PACKED: a header (block size, miniblocks per
/// block, count, first value), then per block of 128 deltas the smallest
/// delta, each miniblock's bit width and the miniblocks of deltas above the
/// smallest, packed least significant bit first. A miniblock past the last
/// delta has width 0 and no bytes; the last one with deltas is padded with
/// zeros to its 32 values.
fn delta_binary_packed(values: &[i32], out: &mut Vec<u8>) {
    uleb128(out, BLOCK as u64);
    uleb128(out, MINIBLOCKS as u64);
    uleb128(out, values.len() as u64);
    zigzag(out, values.first().map_or(0, |&v| i64::from(v)));
    let mut deltas = [0u64; BLOCK];
    for block in values
        .get(1..)
        .unwrap_or_default()
        .chunks(BLOCK)
        .enumerate()
    {
        let (b, block) = block;
        // The value before each of the block's.
        let before = &values[b * BLOCK..b * BLOCK + block.len()];
        let delta = |k: usize| i64::from(block[k]) - i64::from(before[k]);
        let min = (0..block.len()).map(delta).min().unwrap_or(0);
        zigzag(out, min);
        deltas.fill(0);
        for (k, d) in deltas.iter_mut().enumerate().take(block.len()) {
            *d = (delta(k) - min) as u64;
        }
        let widths: [u32; MINIBLOCKS] = core::array::from_fn(|m| {
            if m * MINIBLOCK < block.len() {
                let max = deltas[m * MINIBLOCK..(m + 1) * MINIBLOCK]
                    .iter()
                    .fold(0, |a, &d| a | d);
                u64::BITS - max.leading_zeros()
            } else {
                0
            }
        });
        out.extend(widths.iter().map(|&w| w as u8));
        for (m, &width) in widths.iter().enumerate() {
            if width == 0 {
                continue;
            }
            // 32 values of `width` bits: whole bytes, `4 * width` of them.
            let miniblock = &deltas[m * MINIBLOCK..(m + 1) * MINIBLOCK];
            pack_bits(miniblock.iter().copied(), width, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::string::{String, ToString};
    use std::sync::Arc;

    use arrow_array::{ArrayRef, LargeStringArray, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use bytes::Bytes;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::schema::types::ColumnPath;

    use super::*;

    fn props(compression: Compression, page_rows: usize, page_bytes: usize) -> WriterProperties {
        let path = ColumnPath::from("t");
        WriterProperties::builder()
            .set_compression(compression)
            .set_data_page_row_count_limit(page_rows)
            .set_data_page_size_limit(page_bytes)
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path.clone(), EnabledStatistics::None)
            .set_column_encoding(path, Encoding::DELTA_LENGTH_BYTE_ARRAY)
            .build()
    }

    /// `arrays` written as column `t` twice, by parquet's writer and by
    /// [`TextChunk`]: both files, in that order.
    fn both(arrays: &[ArrayRef], props: &WriterProperties) -> (Bytes, Bytes) {
        let nullable = arrays.iter().any(|a| a.null_count() > 0);
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "t",
            arrays[0].data_type().clone(),
            nullable,
        )]));
        let mut theirs = Vec::new();
        let mut w =
            ArrowWriter::try_new(&mut theirs, Arc::clone(&schema), Some(props.clone())).unwrap();
        for a in arrays {
            w.write(&RecordBatch::try_new(Arc::clone(&schema), std::vec![Arc::clone(a)]).unwrap())
                .unwrap();
        }
        w.close().unwrap();

        let mut ours = Vec::new();
        let w = ArrowWriter::try_new(&mut ours, Arc::clone(&schema), Some(props.clone())).unwrap();
        let (mut w, _) = w.into_serialized_writer().unwrap();
        let column = w.schema_descr().column(0);
        let mut chunk = TextChunk::new(column, props).expect("a text column");
        for a in arrays {
            chunk.push(a.as_ref()).unwrap();
        }
        let (data, close) = chunk.finish().unwrap();
        let mut rg = w.next_row_group().unwrap();
        rg.append_column(&data, close).unwrap();
        rg.close().unwrap();
        w.close().unwrap();
        (Bytes::from(theirs), Bytes::from(ours))
    }

    fn read(file: &Bytes) -> Vec<ArrayRef> {
        ParquetRecordBatchReaderBuilder::try_new(file.clone())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| Arc::clone(b.unwrap().column(0)))
            .collect()
    }

    fn concat(arrays: &[ArrayRef]) -> ArrayRef {
        let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
        arrow_select::concat::concat(&refs).unwrap()
    }

    /// The values read back equal those written; the chunk's metadata says
    /// what the column writer's says; each page holds at most `page_rows`
    /// rows, and ends at the value that takes it to `page_bytes` (the last
    /// page may end sooner); the offset index gives each page's first row
    /// and value bytes.
    fn check(arrays: &[ArrayRef], props: &WriterProperties) {
        let (theirs, ours) = both(arrays, props);
        let all = concat(arrays);
        assert_eq!(&*concat(&read(&ours)), &*all);
        let open = |f: &Bytes| SerializedFileReader::new(f.clone()).unwrap();
        let (t, o) = (open(&theirs), open(&ours));
        let (tc, oc) = (
            t.metadata().row_group(0).column(0),
            o.metadata().row_group(0).column(0),
        );
        assert_eq!(oc.num_values(), tc.num_values());
        assert_eq!(oc.compression(), tc.compression());
        assert_eq!(oc.encodings_mask(), tc.encodings_mask());
        assert_eq!(oc.statistics(), tc.statistics());
        assert_eq!(oc.dictionary_page_offset(), None);

        let text = |i: usize| -> usize {
            match all.data_type() {
                DataType::Utf8 => all.as_string::<i32>().value(i).len(),
                _ => all.as_string::<i64>().value(i).len(),
            }
        };
        let limit = props.data_page_row_count_limit();
        let size = props.data_page_size_limit();
        let mut rows = Vec::new();
        let mut pr = o
            .get_row_group(0)
            .unwrap()
            .get_column_page_reader(0)
            .unwrap();
        while let Some(p) = pr.get_next_page().unwrap() {
            assert_eq!(p.encoding(), Encoding::DELTA_LENGTH_BYTE_ARRAY);
            rows.push(p.num_values() as usize);
        }
        let (mut first, mut firsts, mut bytes) = (0, Vec::new(), Vec::new());
        for (k, &n) in rows.iter().enumerate() {
            let b: usize = (first..first + n)
                .filter(|&i| all.is_valid(i))
                .map(text)
                .sum();
            assert!(n <= limit, "page {k}: {n} rows");
            if k + 1 < rows.len() && n < limit {
                let last = (first + n - 1, all.is_valid(first + n - 1));
                assert!(
                    b >= size && (!last.1 || b - text(last.0) < size),
                    "page {k}"
                );
            }
            firsts.push(first as i64);
            bytes.push(b as i64);
            first += n;
        }
        assert_eq!(first, all.len());
        let r = ParquetRecordBatchReaderBuilder::try_new_with_options(
            ours.clone(),
            parquet::arrow::arrow_reader::ArrowReaderOptions::new()
                .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required),
        )
        .unwrap();
        let oi = r.metadata().offset_index().unwrap()[0][0].clone();
        let got: Vec<i64> = oi
            .page_locations
            .iter()
            .map(|l| l.first_row_index)
            .collect();
        assert_eq!(got, firsts);
        assert_eq!(oi.unencoded_byte_array_data_bytes, Some(bytes));
    }

    fn strings(n: usize, f: impl Fn(usize) -> Option<String>) -> ArrayRef {
        Arc::new((0..n).map(f).collect::<StringArray>())
    }

    #[test]
    fn values_and_metadata_are_the_column_writers() {
        let hex =
            |i: usize| std::format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let zstd = Compression::ZSTD(ZstdLevel::default());
        for compression in [zstd, Compression::SNAPPY, Compression::UNCOMPRESSED] {
            // Pseudonyms: one length, no nulls, in batches across pages.
            let a: Vec<ArrayRef> = (0..5)
                .map(|b| strings(1500, |i| Some(hex(b * 1500 + i))))
                .collect();
            check(&a, &props(compression, 2000, 1 << 20));
            // Lengths that vary by every width the deltas can take, empty
            // values, and pages cut by size.
            let a: Vec<ArrayRef> = (0..3)
                .map(|b| {
                    strings(1000, |i| {
                        let n = (i * 7919 + b) % 400;
                        Some("x".repeat(if i % 37 == 0 { 0 } else { n }))
                    })
                })
                .collect();
            check(&a, &props(compression, 20_000, 4096));
        }
    }

    #[test]
    fn nulls_levels_and_large_offsets() {
        let zstd = Compression::ZSTD(ZstdLevel::default());
        // Nulls here and there, a page of nulls only, and a null slot that
        // holds bytes (Arrow allows it; they are not a value).
        let a = strings(3000, |i| {
            (i % 5 != 0 && !(1000..1200).contains(&i)).then(|| i.to_string())
        });
        check(&[a], &props(zstd, 100, 1 << 20));
        let offsets = arrow_buffer::OffsetBuffer::new(std::vec![0i32, 3, 6, 9].into());
        let nulls = arrow_buffer::NullBuffer::from(std::vec![true, false, true]);
        let with_bytes: ArrayRef = Arc::new(
            StringArray::try_new(offsets, "abcdefghi".as_bytes().into(), Some(nulls)).unwrap(),
        );
        check(&[with_bytes], &props(zstd, 2, 1 << 20));
        let large: ArrayRef = Arc::new(
            (0..2500)
                .map(|i| (i % 3 != 0).then(|| "é".repeat(i % 50)))
                .collect::<LargeStringArray>(),
        );
        check(&[large], &props(zstd, 1000, 1 << 20));
    }

    #[test]
    fn a_head_past_its_room_goes_ahead_of_the_values() {
        // No room kept: every page's levels and lengths are put in front
        // of its values by moving them.
        let p = props(Compression::ZSTD(ZstdLevel::default()), 700, 1 << 20);
        let a = strings(2000, |i| (i % 3 != 0).then(|| "v".repeat(i % 90)));
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "t",
            DataType::Utf8,
            true
        )]));
        let w = ArrowWriter::try_new(Vec::new(), Arc::clone(&schema), Some(p.clone())).unwrap();
        let (mut w, _) = w.into_serialized_writer().unwrap();
        let mut chunk = TextChunk::new(w.schema_descr().column(0), &p).unwrap();
        chunk.raw.clear();
        chunk.room = 0;
        chunk.push(a.as_ref()).unwrap();
        let (data, close) = chunk.finish().unwrap();
        let mut rg = w.next_row_group().unwrap();
        rg.append_column(&data, close).unwrap();
        rg.close().unwrap();
        let file = Bytes::from(w.into_inner().unwrap());
        assert_eq!(&*concat(&read(&file)), &*a);
    }

    #[test]
    fn delta_binary_packed_edges() {
        // A count of 0 and 1: the header alone.
        let mut out = Vec::new();
        delta_binary_packed(&[], &mut out);
        assert_eq!(out, [0x80, 0x01, 0x04, 0x00, 0x00]);
        out.clear();
        delta_binary_packed(&[32], &mut out);
        assert_eq!(out, [0x80, 0x01, 0x04, 0x01, 0x40]);
        // One length throughout: each block is its delta (0) and four zero widths.
        out.clear();
        delta_binary_packed(&[32; 130], &mut out);
        assert_eq!(
            out,
            [
                0x80, 0x01, 0x04, 0x82, 0x01, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
    }
}
