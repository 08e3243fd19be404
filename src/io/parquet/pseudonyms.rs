//! A pseudonymized text column chunk written from its pages.
//!
//! A column that a `pseudonymize` field transforms value by value
//! ([`BatchTransformer::pseudonym_field`]) and whose output is a
//! [`TextChunk`] needs nothing of its rows but each value's bytes and
//! whether it is null. Its chunk is read page by page: the definition
//! levels give the nulls, a PLAIN page gives its values as they lie in the
//! page, a dictionary-encoded page gives indices into the dictionary page,
//! whose entries are pseudonymized once each. The pseudonyms go into the
//! output's pages with the same page breaks as the row-by-row path, so the
//! output is byte for byte the one that decoding the rows gives; only the
//! Arrow arrays in between (a copy of each value in, one of each pseudonym
//! out, and the check that the pseudonyms are UTF-8) are left out.
//!
//! Every value is checked as the row-by-row path checks it: it must be
//! UTF-8 (the reader's rule for a text column) and not empty, and the
//! field must accept it. Anything else (an empty value, a value that is not
//! UTF-8, an encoding other than PLAIN or a dictionary's, a page that does
//! not parse, a count that does not add up) gives `None`, and the caller
//! decodes the chunk row by row, which reports any error at its row or
//! treats the empty values as it always does. No value is written but the
//! pseudonyms.

use std::vec::Vec;

use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_schema::DataType;
use parquet::basic::{ConvertedType, Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::column::writer::ColumnCloseResult;
use parquet::file::properties::WriterProperties;

use super::CopiedChunk;
use super::dictionary::{InputPages, Job, hybrid, plain_slices};
use super::text::TextChunk;
use crate::arrow::BatchTransformer;
use crate::field::{FieldProcessor, PseudonymBatch};

/// The output chunk and how many values it pseudonymized, or `None` when
/// the chunk must be decoded row by row (see the module's documentation).
pub(super) fn rewrite(
    job: &Job<'_>,
    transformer: &BatchTransformer,
    props: &WriterProperties,
) -> Option<(CopiedChunk, ColumnCloseResult, u64)> {
    let rg = job.meta.row_group(job.row_group);
    let desc = rg.column(job.leaf).column_descr();
    let max_def = desc.max_def_level();
    if desc.max_rep_level() != 0
        || max_def > 1
        || desc.physical_type() != PhysicalType::BYTE_ARRAY
        || !matches!(
            desc.converted_type(),
            ConvertedType::NONE | ConvertedType::UTF8
        )
        || !matches!(job.data_type, DataType::Utf8 | DataType::LargeUtf8)
        || !TextChunk::fits(&job.out, props)
    {
        return None;
    }
    let field = transformer.pseudonym_field(job.root)?;
    let width = PseudonymBatch::output_len(field).ok()?;
    let rows = usize::try_from(rg.num_rows()).ok()?;
    let mut pages = InputPages::open(job)?;
    let mut text = TextChunk::new(job.out.clone(), props)?;
    let mut work = Work {
        field,
        width,
        dictionary: None,
        pseudonyms: Vec::new(),
        offsets: Vec::new(),
    };
    let (mut row, mut nulls, mut first) = (0usize, 0usize, true);
    while let Some(page) = pages.next()? {
        let (n, levels, values, encoding) = match &page {
            // The dictionary, first or not at all.
            Page::DictionaryPage {
                buf,
                num_values,
                encoding: Encoding::PLAIN | Encoding::PLAIN_DICTIONARY,
                ..
            } if first && *num_values as usize <= MAX_PAGE_VALUES => {
                let entries = plain_slices(buf, *num_values as usize)?;
                let mut out = std::vec![0u8; entries.len().checked_mul(width)?];
                pseudonymize(field, &entries, buf.is_ascii(), &mut out)?;
                work.dictionary = Some(out);
                first = false;
                continue;
            }
            Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                ..
            } => {
                if max_def == 0 {
                    (*num_values as usize, None, &buf[..], *encoding)
                } else if *def_level_encoding == Encoding::RLE {
                    let (len, rest) = buf.split_first_chunk::<4>()?;
                    let (levels, values) =
                        rest.split_at_checked(u32::from_le_bytes(*len) as usize)?;
                    (*num_values as usize, Some(levels), values, *encoding)
                } else {
                    return None;
                }
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding,
                num_rows,
                def_levels_byte_len,
                rep_levels_byte_len: 0,
                ..
            } if num_rows == num_values => {
                let (levels, values) = buf.split_at_checked(*def_levels_byte_len as usize)?;
                match max_def {
                    0 => (
                        levels.is_empty().then_some(*num_values as usize)?,
                        None,
                        values,
                        *encoding,
                    ),
                    _ => (*num_values as usize, Some(levels), values, *encoding),
                }
            }
            _ => return None,
        };
        first = false;
        nulls += work.page(n, levels, values, encoding, &mut text)?;
        row = row.checked_add(n)?;
    }
    if row != rows {
        return None;
    }
    let (data, close) = text.finish().ok()?;
    Some((data, close, (rows - nulls) as u64))
}

/// The most values a page (or a dictionary) may hold to be written from
/// its pages: its pseudonyms are made at once, 32 bytes each in hex, so a
/// header claiming billions of values (a run of one index can say that in a
/// few bytes) would size buffers of gigabytes. Writers start a page long
/// before (parquet-rs at 20,000 rows, pyarrow and Spark at 1 MB); a larger
/// one is decoded row by row, in batches.
const MAX_PAGE_VALUES: usize = 1 << 20;

/// What the pages of one chunk share.
struct Work<'a> {
    field: &'a FieldProcessor,
    /// The bytes of one pseudonym.
    width: usize,
    /// The pseudonyms of the dictionary page's entries, back to back.
    dictionary: Option<Vec<u8>>,
    /// A page's pseudonyms and the offsets of its rows (reused).
    pseudonyms: Vec<u8>,
    offsets: Vec<i64>,
}

impl Work<'_> {
    /// Writes the pseudonyms of a data page of `n` rows into `text`:
    /// `levels` its definition levels (none when the column has no nulls),
    /// `values` its values in `encoding`. Returns its nulls.
    fn page(
        &mut self,
        n: usize,
        levels: Option<&[u8]>,
        values: &[u8],
        encoding: Encoding,
        text: &mut TextChunk,
    ) -> Option<usize> {
        if n > MAX_PAGE_VALUES {
            return None;
        }
        let width = self.width;
        let (mut valid, mut nulls) = (None, 0);
        if let Some(levels) = levels {
            let mut bits = BooleanBufferBuilder::new(n);
            hybrid(levels, 1, n, |level, k| {
                bits.append_n(k, level == 1);
                nulls += if level == 0 { k } else { 0 };
                level <= 1
            })?;
            valid = (nulls > 0).then(|| NullBuffer::new(bits.finish()));
        }
        let m = n - nulls;
        // Grown, never cleared: every byte of `out` is written below (a
        // pseudonym for each of the `m` values, or the page is declined).
        let need = m.checked_mul(width)?;
        if self.pseudonyms.len() < need {
            self.pseudonyms.resize(need, 0);
        }
        let out = &mut self.pseudonyms[..need];
        match encoding {
            Encoding::PLAIN => {
                let slices = plain_slices(values, m)?;
                pseudonymize(self.field, &slices, values.is_ascii(), out)?;
            }
            Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY => {
                let dictionary = self.dictionary.as_deref()?;
                let (&bits, indices) = values.split_first()?;
                let mut slots = out.chunks_exact_mut(width);
                hybrid(indices, u32::from(bits), m, |index, k| {
                    let Some(p) = usize::try_from(index)
                        .ok()
                        .and_then(|i| dictionary.get(i * width..(i + 1) * width))
                    else {
                        return false;
                    };
                    slots.by_ref().take(k).for_each(|s| s.copy_from_slice(p));
                    true
                })?;
            }
            _ => return None,
        }
        // Each row's end: a null row ends where the row before it does.
        let offsets = &mut self.offsets;
        offsets.clear();
        offsets.push(0);
        let mut end = 0i64;
        let width = i64::try_from(width).ok()?;
        offsets.extend((0..n).map(|r| {
            if valid.as_ref().is_none_or(|v| v.is_valid(r)) {
                end += width;
            }
            end
        }));
        text.push_values(offsets, out, valid.as_ref()).ok()?;
        Some(nulls)
    }
}

/// The pseudonyms of `values` into `out` (each the field's width), when
/// every value is UTF-8, not empty and accepted by the field. `ascii` says
/// that the page they lie in is ASCII, values and lengths (each below 128)
/// alike, and so each value: the usual case, checked in one pass over the
/// page rather than value by value.
fn pseudonymize(
    field: &FieldProcessor,
    values: &[&[u8]],
    ascii: bool,
    out: &mut [u8],
) -> Option<()> {
    for v in values {
        let text = ascii || v.is_ascii() || core::str::from_utf8(v).is_ok();
        if v.is_empty() || !text || !PseudonymBatch::check(field, v).ok()? {
            return None;
        }
    }
    PseudonymBatch::compute_each(field, values.len(), values.iter().copied(), out).ok()
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::string::String;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::ArrowReaderMetadata;
    use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
    use parquet::basic::Compression;
    use parquet::file::properties::{EnabledStatistics, WriterVersion};
    use parquet::schema::types::ColumnPath;

    use super::*;
    use crate::io::parquet::PositionalFile;
    use crate::key::{Keyset, MasterKey};
    use crate::policy::{Direction, Policy};

    /// The properties `run` gives a pseudonym column.
    fn output_props() -> WriterProperties {
        let phone = ColumnPath::from("phone");
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_column_dictionary_enabled(phone.clone(), false)
            .set_column_statistics_enabled(phone.clone(), EnabledStatistics::None)
            .set_column_encoding(phone, Encoding::DELTA_LENGTH_BYTE_ARRAY)
            .build()
    }

    /// `rewrite` of each row group of a file of `phones` written with
    /// `props`, pseudonymized by `policy`: per row group, the values it
    /// counted, or `None` where it declined.
    fn rewritten(
        phones: Vec<Option<String>>,
        props: WriterProperties,
        policy: &str,
    ) -> Vec<Option<u64>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let column: ArrayRef = Arc::new(StringArray::from(phones));
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "phone",
            DataType::Utf8,
            true
        )]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), std::vec![column]).unwrap();
        let mut w =
            ArrowWriter::try_new(File::create(&path).unwrap(), schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let file = File::open(&path).unwrap();
        let meta = ArrowReaderMetadata::load(&file, Default::default()).unwrap();
        let file = PositionalFile(Arc::new(file));
        let policy = Policy::from_toml(policy).unwrap();
        let keys = Keyset::from_keys(std::vec![MasterKey::from_bytes(1, [9u8; 32])]).unwrap();
        let t = BatchTransformer::new(&policy, &keys, Arc::clone(meta.schema()), Direction::Apply)
            .unwrap();
        let props = output_props();
        let descr = meta.metadata().file_metadata().schema_descr();
        (0..meta.metadata().num_row_groups())
            .map(|row_group| {
                let job = Job {
                    file: &file,
                    meta: meta.metadata(),
                    row_group,
                    leaf: 0,
                    root: 0,
                    data_type: &DataType::Utf8,
                    out: descr.column(0),
                    codec: Compression::SNAPPY,
                    statistics: EnabledStatistics::None,
                    page_index: true,
                    truncate: None,
                };
                rewrite(&job, &t, &props).map(|(_, _, values)| values)
            })
            .collect()
    }

    const PSEUDONYMIZE: &str = "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\n";

    fn phones(n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|i| (i % 7 != 3).then(|| std::format!("010-{:04}-{:04}", i % 900, i)))
            .collect()
    }

    /// Every shape of chunk a writer leaves is written from its pages: a
    /// dictionary that fills up (pages indexing it, then plain pages), plain
    /// pages only, on data pages v1 and v2; the count is of the values
    /// that are not null. (parquet-rs writes v2 text pages
    /// DELTA_BYTE_ARRAY unless told PLAIN, as pyarrow and Spark write
    /// them; such pages are decoded row by row.)
    #[test]
    fn every_chunk_shape_is_written_from_its_pages() {
        for dictionary in [true, false] {
            for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
                let props = WriterProperties::builder()
                    .set_writer_version(version)
                    .set_encoding(Encoding::PLAIN)
                    .set_dictionary_enabled(dictionary)
                    .set_dictionary_page_size_limit(2048)
                    .set_data_page_row_count_limit(300)
                    .set_write_batch_size(300)
                    .set_max_row_group_row_count(Some(2000))
                    .set_compression(Compression::ZSTD(Default::default()))
                    .build();
                let want: Vec<Option<u64>> = phones(5000)
                    .chunks(2000)
                    .map(|rg| Some(rg.iter().flatten().count() as u64))
                    .collect();
                assert_eq!(rewritten(phones(5000), props, PSEUDONYMIZE), want);
            }
        }
    }

    /// A page whose header claims more values than a page holds is left
    /// to the row-by-row path before anything is sized by its count.
    #[test]
    fn a_page_of_too_many_values_is_declined() {
        let field = Policy::from_toml(PSEUDONYMIZE).unwrap();
        let keys = Keyset::from_keys(std::vec![MasterKey::from_bytes(1, [9u8; 32])]).unwrap();
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "phone",
            DataType::Utf8,
            true
        )]));
        let t = BatchTransformer::new(&field, &keys, schema, Direction::Apply).unwrap();
        let out = ArrowSchemaConverter::new()
            .convert(t.output_schema().as_ref())
            .unwrap();
        let mut text = TextChunk::new(out.column(0), &output_props()).unwrap();
        let mut work = Work {
            field: t.pseudonym_field(0).unwrap(),
            width: 32,
            dictionary: Some(std::vec![b'0'; 32]),
            pseudonyms: Vec::new(),
            offsets: Vec::new(),
        };
        // A bit width of 1, then one run of index 0 repeated 2^31 times.
        let run = [1u8, 0x80, 0x80, 0x80, 0x80, 0x10, 0];
        let n = 1usize << 31;
        assert_eq!(
            work.page(n, None, &run, Encoding::RLE_DICTIONARY, &mut text),
            None
        );
        assert!(work.pseudonyms.is_empty() && work.offsets.is_empty());
        // The same run over a page's worth of rows is written.
        let run = [1u8, 0x80, 0xfa, 0x01, 0];
        assert_eq!(
            work.page(16_000, None, &run, Encoding::RLE_DICTIONARY, &mut text),
            Some(0)
        );
    }

    /// What the row-by-row path must see: an empty value (kept empty,
    /// not counted), a field that normalizes its values, pages in an
    /// encoding other than PLAIN or a dictionary's.
    #[test]
    fn empty_values_normalized_fields_and_other_encodings_are_declined() {
        let delta = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_dictionary_enabled(false)
            .build();
        assert_eq!(rewritten(phones(100), delta, PSEUDONYMIZE), [None]);
        let props = || {
            WriterProperties::builder()
                .set_max_row_group_row_count(Some(500))
                .build()
        };
        let mut values = phones(1000);
        values[700] = Some(String::new());
        assert_eq!(rewritten(values, props(), PSEUDONYMIZE), [Some(429), None]);
        let normalized = "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\nnormalize = [\"phone:KR\"]\n";
        assert_eq!(rewritten(phones(1000), props(), normalized), [None, None]);
    }
}
