//! A column chunk assembled page by page in memory.
//!
//! The workers write some column chunks without parquet's column writer:
//! a dictionary column through its dictionary (`dictionary.rs`) and a text
//! column of pseudonyms or tokens straight from its values (`text.rs`).
//! [`ChunkPages`] is what both share: it compresses each page with the
//! output's codec (one compression context for the whole chunk), writes it
//! with its header, and keeps what the chunk's metadata and offset index
//! need. [`ChunkPages::finish`] gives the chunk as the row group writer
//! takes it (`SerializedRowGroupWriter::append_column`), at offset 0.
//! [`pack_bits`] is the bit-packing both encode with.

use std::boxed::Box;
use std::sync::Arc;
use std::vec::Vec;

use parquet::basic::{Compression, Encoding, PageType};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, PageEncodingStats};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::page_index::offset_index::{OffsetIndexMetaData, PageLocation};
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use super::CopiedChunk;

/// A page codec: the output's compression, with one Zstandard context for
/// every page of a chunk.
pub(super) enum PageCodec {
    Zstd(zstd::bulk::Compressor<'static>),
    Snappy(Box<snap::raw::Encoder>),
    None,
}

impl PageCodec {
    /// Whether the workers compress pages with `compression` themselves
    /// (otherwise parquet's column writer writes the chunk).
    pub fn supports(compression: Compression) -> bool {
        matches!(
            compression,
            Compression::ZSTD(_) | Compression::SNAPPY | Compression::UNCOMPRESSED
        )
    }

    /// The codec for `compression`; `None` for one the workers do not write
    /// themselves ([`supports`](Self::supports)) or a Zstandard context that
    /// cannot be made.
    pub fn new(compression: Compression) -> Option<Self> {
        Some(match compression {
            Compression::ZSTD(level) => {
                Self::Zstd(zstd::bulk::Compressor::new(level.compression_level()).ok()?)
            }
            Compression::SNAPPY => Self::Snappy(Box::new(snap::raw::Encoder::new())),
            Compression::UNCOMPRESSED => Self::None,
            _ => return None,
        })
    }

    /// `raw` compressed.
    pub fn compress(&mut self, raw: &[u8]) -> Result<Vec<u8>, ParquetError> {
        let fail = |what: &str| ParquetError::General(std::format!("{what} failed on a page"));
        match self {
            Self::Zstd(z) => z.compress(raw).map_err(|_| fail("zstd")),
            Self::Snappy(s) => s.compress_vec(raw).map_err(|_| fail("snappy")),
            Self::None => Ok(raw.to_vec()),
        }
    }
}

/// `page` (read back uncompressed) compressed with `codec`, and its size
/// before: a dictionary page or a data page v1 whole, a data page v2 after
/// its levels, which it keeps as they are.
pub(super) fn compress_page(
    page: Page,
    codec: &mut PageCodec,
) -> Result<(Page, usize), ParquetError> {
    let raw = page.buffer().len();
    let buf = match &page {
        Page::DataPageV2 {
            buf,
            def_levels_byte_len,
            rep_levels_byte_len,
            ..
        } => {
            let levels = *def_levels_byte_len as usize + *rep_levels_byte_len as usize;
            let (levels, values) = buf
                .split_at_checked(levels)
                .ok_or_else(|| ParquetError::General("a page shorter than its levels".into()))?;
            let mut out = levels.to_vec();
            out.extend_from_slice(&codec.compress(values)?);
            out
        }
        Page::DataPage { buf, .. } | Page::DictionaryPage { buf, .. } => codec.compress(buf)?,
    };
    let compressed = !matches!(codec, PageCodec::None);
    Ok((with_buffer(page, buf.into(), compressed), raw))
}

/// `page` with `buf` for its bytes (a data page: its levels and values,
/// which a v2 page says are `compressed` or not).
pub(super) fn with_buffer(page: Page, buf: bytes::Bytes, compressed: bool) -> Page {
    match page {
        Page::DataPage {
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            statistics,
            ..
        } => Page::DataPage {
            buf,
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            statistics,
        },
        Page::DataPageV2 {
            num_values,
            encoding,
            num_nulls,
            num_rows,
            def_levels_byte_len,
            rep_levels_byte_len,
            statistics,
            ..
        } => Page::DataPageV2 {
            buf,
            num_values,
            encoding,
            num_nulls,
            num_rows,
            def_levels_byte_len,
            rep_levels_byte_len,
            is_compressed: compressed,
            statistics,
        },
        Page::DictionaryPage {
            num_values,
            encoding,
            is_sorted,
            ..
        } => Page::DictionaryPage {
            buf,
            num_values,
            encoding,
            is_sorted,
        },
    }
}

/// Where [`ChunkPages::write`] has parquet write a page with its header.
///
/// Parquet writes the header, then the page's buffer in one call. The
/// bytes of any call are copied, except those of the call that hands over
/// the page's buffer itself (the same address and length): that part is
/// the page's [`Bytes`](bytes::Bytes), shared rather than copied. Whatever
/// the calls, the parts hold the bytes written, in order.
struct PageSink {
    page: bytes::Bytes,
    parts: Vec<bytes::Bytes>,
    copied: Vec<u8>,
}

impl PageSink {
    fn new(page: bytes::Bytes) -> Self {
        Self {
            page,
            parts: Vec::with_capacity(2),
            copied: Vec::new(),
        }
    }

    /// The bytes written, as parts.
    fn finish(mut self) -> Vec<bytes::Bytes> {
        if !self.copied.is_empty() {
            self.parts.push(self.copied.into());
        }
        self.parts
    }
}

impl std::io::Write for PageSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !buf.is_empty() && core::ptr::eq(buf, self.page.as_ref()) {
            if !self.copied.is_empty() {
                self.parts.push(core::mem::take(&mut self.copied).into());
            }
            self.parts.push(self.page.clone());
        } else {
            self.copied.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The pages of one column chunk, written one after another.
pub(super) struct ChunkPages {
    compression: Compression,
    /// Each page with its header.
    parts: Vec<bytes::Bytes>,
    compressed: u64,
    uncompressed: u64,
    dictionary_offset: Option<i64>,
    data_offset: Option<u64>,
    encodings: Vec<Encoding>,
    encoding_stats: Vec<PageEncodingStats>,
    locations: Vec<PageLocation>,
    unencoded: Option<Vec<i64>>,
    rows: u64,
}

impl ChunkPages {
    /// An empty chunk compressed with `compression`; `unencoded_bytes`:
    /// whether the offset index says how many value bytes each page holds
    /// (a byte array column's, as parquet's writer gives it).
    pub fn new(compression: Compression, unencoded_bytes: bool) -> Self {
        Self {
            compression,
            parts: Vec::new(),
            compressed: 0,
            uncompressed: 0,
            dictionary_offset: None,
            data_offset: None,
            encodings: std::vec![Encoding::RLE],
            encoding_stats: Vec::new(),
            locations: Vec::new(),
            unencoded: unencoded_bytes.then(Vec::new),
            rows: 0,
        }
    }

    /// Writes `page`, whose buffer is compressed already and was `raw`
    /// bytes before; a data page holds the next `rows` rows and
    /// `value_bytes` bytes of values.
    pub fn write(
        &mut self,
        page: Page,
        raw: usize,
        rows: u64,
        value_bytes: i64,
    ) -> Result<(), ParquetError> {
        let (page_type, encoding) = (page.page_type(), page.encoding());
        // The header in a buffer of its own, and the page's buffer kept as
        // it is: the writer thread splices them without a copy.
        let mut sink = TrackedWrite::new(PageSink::new(page.buffer().clone()));
        let mut spec =
            SerializedPageWriter::new(&mut sink).write_page(CompressedPage::new(page, raw))?;
        let parts = sink
            .into_inner()
            .map_err(|e| ParquetError::General(std::format!("{e}")))?
            .finish();
        if parts.iter().map(bytes::Bytes::len).sum::<usize>() != spec.bytes_written as usize {
            return Err(ParquetError::General(
                "a page's bytes do not add up to its size".into(),
            ));
        }
        spec.offset = self.compressed;
        self.parts.extend(parts);
        self.compressed += spec.compressed_size as u64;
        self.uncompressed += spec.uncompressed_size as u64;
        if !self.encodings.contains(&encoding) {
            self.encodings.push(encoding);
        }
        match self.encoding_stats.last_mut() {
            Some(s) if s.page_type == page_type && s.encoding == encoding => s.count += 1,
            _ => self.encoding_stats.push(PageEncodingStats {
                page_type,
                encoding,
                count: 1,
            }),
        }
        if page_type == PageType::DICTIONARY_PAGE {
            self.dictionary_offset = Some(i64::try_from(spec.offset).map_err(too_large)?);
            return Ok(());
        }
        self.data_offset.get_or_insert(spec.offset);
        self.locations.push(PageLocation {
            offset: i64::try_from(spec.offset).map_err(too_large)?,
            compressed_page_size: i32::try_from(spec.bytes_written).map_err(too_large)?,
            first_row_index: i64::try_from(self.rows).map_err(too_large)?,
        });
        if let Some(u) = &mut self.unencoded {
            u.push(value_bytes);
        }
        self.rows += rows;
        Ok(())
    }

    /// The chunk of `column`: its bytes at offset 0, and its metadata with
    /// `statistics`, `column_index`, and an offset index when `page_index`.
    pub fn finish(
        self,
        column: &ColumnDescPtr,
        statistics: Option<Statistics>,
        column_index: Option<ColumnIndexMetaData>,
        page_index: bool,
    ) -> Result<(CopiedChunk, ColumnCloseResult), ParquetError> {
        let unencoded_total = self.unencoded.as_ref().map(|u| u.iter().sum::<i64>());
        let mut metadata = ColumnChunkMetaData::builder(Arc::clone(column))
            .set_compression(self.compression)
            .set_encodings(self.encodings)
            .set_page_encoding_stats(self.encoding_stats)
            .set_total_compressed_size(i64::try_from(self.compressed).map_err(too_large)?)
            .set_total_uncompressed_size(i64::try_from(self.uncompressed).map_err(too_large)?)
            .set_num_values(i64::try_from(self.rows).map_err(too_large)?)
            .set_data_page_offset(i64::try_from(self.data_offset.unwrap_or(0)).map_err(too_large)?)
            .set_dictionary_page_offset(self.dictionary_offset);
        if let Some(s) = statistics {
            metadata = metadata
                .set_statistics(s)
                .set_unencoded_byte_array_data_bytes(unencoded_total);
        }
        let close = ColumnCloseResult {
            bytes_written: self.compressed,
            rows_written: self.rows,
            metadata: metadata.build()?,
            bloom_filter: None,
            column_index,
            offset_index: page_index.then_some(OffsetIndexMetaData {
                page_locations: self.locations,
                unencoded_byte_array_data_bytes: self.unencoded,
            }),
        };
        Ok((
            CopiedChunk {
                start: 0,
                parts: self.parts,
            },
            close,
        ))
    }
}

/// Appends `values` bit-packed at `width` bits each (at most 64), least
/// significant bit first, as Parquet packs the RLE / bit-packed hybrid's
/// groups and DELTA_BINARY_PACKED's miniblocks; a last partial byte is
/// padded with zeroes (the callers pack whole bytes: eight values, or 32).
pub(super) fn pack_bits(values: impl IntoIterator<Item = u64>, width: u32, out: &mut Vec<u8>) {
    debug_assert!(width <= 64);
    let (mut acc, mut bits) = (0u128, 0u32);
    for v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

fn too_large(_: core::num::TryFromIntError) -> ParquetError {
    ParquetError::General("a column chunk too large for its metadata".into())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Parquet's own example (the format's Encodings.md, bit-packing): 0 to
    /// 7 at 3 bits are the bytes 10001000 11000110 11111010.
    #[test]
    fn bits_pack_as_parquet_specifies() {
        let mut out = Vec::new();
        pack_bits(0..8, 3, &mut out);
        assert_eq!(out, [0b1000_1000, 0b1100_0110, 0b1111_1010]);
        // Widths to 64: each value read back from its bits.
        for width in [1u32, 7, 13, 32, 33, 63, 64] {
            let values: Vec<u64> = (0..32u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - width))
                .collect();
            let mut out = Vec::new();
            pack_bits(values.iter().copied(), width, &mut out);
            assert_eq!(out.len(), 4 * width as usize);
            for (i, &v) in values.iter().enumerate() {
                let got = (0..width).fold(0u64, |acc, b| {
                    let bit = i * width as usize + b as usize;
                    acc | (u64::from(out[bit / 8] >> (bit % 8) & 1) << b)
                });
                assert_eq!(got, v, "width {width} value {i}");
            }
        }
        // A partial byte, padded.
        let mut out = Vec::new();
        pack_bits([1, 1, 1], 2, &mut out);
        assert_eq!(out, [0b01_0101]);
    }

    #[test]
    fn a_page_buffer_is_shared_and_other_bytes_copied() {
        // Through parquet's buffered sink, as ChunkPages::write has it: a
        // page larger than its buffer reaches the sink as itself.
        let page = bytes::Bytes::from(std::vec![7u8; 20_000]);
        let mut sink = TrackedWrite::new(PageSink::new(page.clone()));
        sink.write_all(b"header").unwrap();
        sink.write_all(&page).unwrap();
        sink.write_all(b"tail").unwrap();
        let parts = sink.into_inner().unwrap().finish();
        assert_eq!(parts.len(), 3);
        assert_eq!(&parts[0][..], b"header");
        assert!(core::ptr::eq(parts[1].as_ref(), page.as_ref()));
        assert_eq!(&parts[2][..], b"tail");

        // Equal bytes elsewhere, or part of the page, are copied.
        let copy = page.to_vec();
        let mut sink = PageSink::new(page.clone());
        sink.write_all(&copy).unwrap();
        sink.write_all(&page[..10]).unwrap();
        let parts = sink.finish();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 20_010);
        assert!(!core::ptr::eq(parts[0].as_ref(), page.as_ref()));
    }
}
