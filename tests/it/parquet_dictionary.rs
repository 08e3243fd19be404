//! Dictionary-encoded Parquet chunks written through their dictionary
//! (src/io/parquet/dictionary.rs): each distinct value transformed once,
//! the indices kept or mapped, and the output read back row by row equal to
//! the in-memory transform of every row, with the summary's counts, on
//! data pages v1 and v2, with and without a page index, in every output
//! codec, with the column index a page index calls for; chunks that cannot go that way (a dictionary that filled up, an
//! empty value, a value the transform refuses) are decoded row by row; and
//! generated files with planted values never show one in the output.
//! Pseudonym chunks written from their pages (src/io/parquet/pseudonyms.rs)
//! are held to the same: the in-memory transform of every row, and no
//! planted value in the output.
#![cfg(feature = "parquet")]

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use deid::arrow::BatchTransformer;
use deid::io::parquet::{Codec, ParquetInput, ParquetOptions, run};
use deid::io::pipeline::Summary;
use deid::policy::Direction;
use deid::{Keyset, MasterKey, Policy};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::basic::{BoundaryOrder, Compression, Encoding, ZstdLevel};
use parquet::column::page::Page;
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, SerializedFileReader};

const ROWS: usize = 6000;
const CITIES: [&str; 5] = ["Seoul", "Suwon", "Sejong", "Busan", "Incheon"];

fn keys() -> Keyset {
    Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap()
}

/// city masked (Seoul and Suwon both become `S****`: the dictionary
/// shrinks and the indices are mapped), born to its year (thousands of
/// days, some eighty years), sex pseudonymized (an Arrow dictionary),
/// phone pseudonymized (distinct values, written plain in the input).
fn policy() -> Policy {
    Policy::from_toml(
        "version = 1\n\
         [fields.city]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n\
         [fields.born]\ntransform = \"generalize\"\nto = \"year\"\n\
         [fields.sex]\ntransform = \"pseudonymize\"\n\
         [fields.phone]\ntransform = \"pseudonymize\"\n",
    )
    .unwrap()
}

fn input(city: impl Fn(usize) -> Option<String>) -> RecordBatch {
    input_with(city, |i| {
        Some(format!("010-{:04}-{:04}", i / 100, i % 10_000))
    })
}

/// [`input`] with its phone numbers from `phone`.
fn input_with(
    city: impl Fn(usize) -> Option<String>,
    phone: impl Fn(usize) -> Option<String>,
) -> RecordBatch {
    let mut sex = StringDictionaryBuilder::<Int32Type>::new();
    for i in 0..ROWS {
        sex.append(["F", "M"][i % 2]).unwrap();
    }
    let cols: Vec<(&str, ArrayRef, bool)> = vec![
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..ROWS as i64)),
            false,
        ),
        (
            "city",
            Arc::new(StringArray::from_iter((0..ROWS).map(city))),
            true,
        ),
        (
            "born",
            Arc::new(Date32Array::from_iter_values(
                (0..ROWS as i32).map(|i| -10_000 + (i * 7919) % 29_000),
            )),
            false,
        ),
        ("sex", Arc::new(sex.finish()), false),
        (
            "phone",
            Arc::new(StringArray::from_iter((0..ROWS).map(&phone))),
            (0..ROWS).any(|i| phone(i).is_none()),
        ),
    ];
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a, null)| Field::new(*n, a.data_type().clone(), *null))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a, _)| a).collect(),
    )
    .unwrap()
}

fn cities() -> RecordBatch {
    input(|i| (i % 7 != 3).then(|| CITIES[(i * 31 / 7) % 5].to_owned()))
}

/// How a test file is written: row groups of 2,000 rows, pages of 500;
/// zstd and phone without a dictionary unless changed.
#[derive(Clone, Copy)]
struct Layout {
    v2: bool,
    page_index: bool,
    dict_limit: usize,
    codec: Compression,
    /// `Some(dictionary)`: phone has a dictionary or not, and its other
    /// pages are PLAIN (parquet-rs writes DELTA_BYTE_ARRAY on data pages v2
    /// unless told otherwise; pyarrow and Spark write PLAIN).
    phone: Option<bool>,
}

impl Layout {
    fn new(v2: bool, page_index: bool, dict_limit: usize) -> Self {
        Self {
            v2,
            page_index,
            dict_limit,
            codec: Compression::ZSTD(ZstdLevel::default()),
            phone: None,
        }
    }

    fn codec(self, codec: Compression) -> Self {
        Self { codec, ..self }
    }

    fn phone(self, dictionary: bool) -> Self {
        Self {
            phone: Some(dictionary),
            ..self
        }
    }
}

fn write(path: &std::path::Path, batch: &RecordBatch, layout: Layout) {
    let Layout {
        v2,
        page_index,
        dict_limit,
        codec,
        phone,
    } = layout;
    let mut props = WriterProperties::builder()
        .set_compression(codec)
        .set_max_row_group_row_count(Some(2000))
        .set_data_page_row_count_limit(500)
        .set_write_batch_size(500)
        .set_dictionary_page_size_limit(dict_limit)
        .set_column_dictionary_enabled("phone".into(), phone == Some(true));
    if phone.is_some() {
        props = props.set_column_encoding("phone".into(), Encoding::PLAIN);
    }
    if v2 {
        props = props.set_writer_version(WriterVersion::PARQUET_2_0);
    }
    if !page_index {
        props = props
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true);
    }
    let mut w = ArrowWriter::try_new(
        File::create(path).unwrap(),
        batch.schema(),
        Some(props.build()),
    )
    .unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// `policy` applied to the Parquet file at `path` on two threads, the
/// output compressed with `codec` (the input's when `None`); the error as
/// its message, which names the file by its name.
fn apply(
    policy: &Policy,
    path: &std::path::Path,
    codec: Option<Codec>,
) -> Result<(Vec<u8>, Summary), String> {
    let mut out = Vec::new();
    let name = path.file_name().unwrap().to_string_lossy();
    let summary = run(
        policy,
        &keys(),
        ParquetInput::File(File::open(path).unwrap()),
        &name,
        &mut out,
        &ParquetOptions::new()
            .with_pipeline(|p| p.threads(2))
            .compression(codec),
        &mut |_| {},
    )
    .map_err(|e| e.to_string())?;
    Ok((out, summary))
}

/// Every row of the output equals the in-memory transform of its row, and
/// the summary counts what the in-memory transform counts.
fn check_rows(out: &[u8], summary: &Summary, batch: &RecordBatch) {
    let t = BatchTransformer::new(&policy(), &keys(), batch.schema(), Direction::Apply).unwrap();
    let want = t.transform_counted(batch, 0).unwrap();
    let r = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out.to_vec()))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    let got = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(got.num_rows(), ROWS);
    crate::common::assert_same_rows(&got, &want.batch);
    let counts: Vec<u64> = summary.columns.iter().map(|c| c.values).collect();
    assert_eq!(counts, want.values);
}

/// Per output row group, for `column`: the dictionary page's length and
/// the number of data pages.
fn dictionary_pages(out: &[u8], column: &str) -> Vec<(u32, usize)> {
    let r = SerializedFileReader::new(bytes::Bytes::from(out.to_vec())).unwrap();
    let leaf = r
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().string() == column)
        .unwrap();
    (0..r.num_row_groups())
        .map(|rg| {
            let mut pages = r
                .get_row_group(rg)
                .unwrap()
                .get_column_page_reader(leaf)
                .unwrap();
            let (mut dict, mut data) = (0, 0);
            while let Some(p) = pages.get_next_page().unwrap() {
                match p {
                    Page::DictionaryPage { num_values, .. } => dict = num_values,
                    _ => data += 1,
                }
            }
            (dict, data)
        })
        .collect()
}

/// The column index of the columns written through their dictionary:
/// each page's bounds, null flag and null count are those of the rows the
/// offset index places in it, and the boundary order holds.
fn check_column_index(out: &[u8], batch: &RecordBatch) {
    let want = BatchTransformer::new(&policy(), &keys(), batch.schema(), Direction::Apply)
        .unwrap()
        .transform(batch, 0)
        .unwrap();
    let opts = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
    let meta = ParquetRecordBatchReaderBuilder::try_new_with_options(
        bytes::Bytes::from(out.to_vec()),
        opts,
    )
    .unwrap()
    .metadata()
    .clone();
    let (columns, offsets) = (meta.column_index().unwrap(), meta.offset_index().unwrap());
    let mut first_row = 0usize;
    for (rg, m) in meta.row_groups().iter().enumerate() {
        let rows = m.num_rows() as usize;
        for name in ["city", "born", "sex"] {
            let leaf = m
                .columns()
                .iter()
                .position(|c| c.column_path().string() == name)
                .unwrap();
            let col = want.column(want.schema().index_of(name).unwrap());
            let text = arrow_cast::cast(col, &DataType::Utf8).unwrap();
            let text = text.as_string::<i32>();
            let ColumnIndexMetaData::BYTE_ARRAY(index) = &columns[rg][leaf] else {
                panic!("{name}: no column index in row group {rg}");
            };
            let pages = &offsets[rg][leaf].page_locations;
            assert_eq!(index.num_pages() as usize, pages.len());
            let mut bounds = Vec::new();
            for (p, loc) in pages.iter().enumerate() {
                let from = first_row + loc.first_row_index as usize;
                let to = pages
                    .get(p + 1)
                    .map_or(first_row + rows, |n| first_row + n.first_row_index as usize);
                let values: Vec<&[u8]> = (from..to)
                    .filter(|&r| text.is_valid(r))
                    .map(|r| text.value(r).as_bytes())
                    .collect();
                assert_eq!(index.null_count(p), Some((to - from - values.len()) as i64));
                assert_eq!(index.is_null_page(p), values.is_empty(), "{name} page {p}");
                if values.is_empty() {
                    continue;
                }
                let (lo, hi) = (values.iter().min().unwrap(), values.iter().max().unwrap());
                assert_eq!(
                    index.min_value(p),
                    Some(*lo),
                    "{name} row group {rg} page {p}"
                );
                assert_eq!(
                    index.max_value(p),
                    Some(*hi),
                    "{name} row group {rg} page {p}"
                );
                bounds.push((*lo, *hi));
            }
            let ascending = bounds
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1);
            let descending = bounds
                .windows(2)
                .all(|w| w[0].0 >= w[1].0 && w[0].1 >= w[1].1);
            let order = columns[rg][leaf].get_boundary_order().unwrap();
            assert_eq!(
                order,
                match (ascending, descending) {
                    (true, _) => BoundaryOrder::ASCENDING,
                    (false, true) => BoundaryOrder::DESCENDING,
                    (false, false) => BoundaryOrder::UNORDERED,
                },
                "{name} row group {rg}"
            );
        }
        first_row += rows;
    }
}

#[test]
fn dictionary_chunks_match_the_row_by_row_transform() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = cities();
    for v2 in [false, true] {
        for page_index in [false, true] {
            write(&path, &batch, Layout::new(v2, page_index, 1 << 20));
            for codec in [None, Some(Codec::Snappy), Some(Codec::None)] {
                let (out, summary) = apply(&policy(), &path, codec).unwrap();
                check_rows(&out, &summary, &batch);
                // Written through the dictionary: one entry per distinct
                // output (four masks of five cities; the years of the row
                // group), and the input's four data pages of 500 rows (a
                // chunk encoded again has one: deid's writer starts a page
                // every 20,000 rows).
                for (dict, pages) in dictionary_pages(&out, "city") {
                    assert_eq!(dict, 4, "v2 {v2} index {page_index} {codec:?}");
                    assert_eq!(pages, 4);
                }
                for (dict, pages) in dictionary_pages(&out, "born") {
                    assert!((70..=81).contains(&dict), "{dict} years");
                    assert_eq!(pages, 4);
                }
                for (dict, pages) in dictionary_pages(&out, "sex") {
                    assert_eq!((dict, pages), (2, 4));
                }
                if codec == Some(Codec::None) {
                    for needle in CITIES.iter().map(|c| c.as_bytes()).chain([&b"010-00"[..]]) {
                        assert!(
                            !out.windows(needle.len()).any(|w| w == needle),
                            "{} in clear",
                            String::from_utf8_lossy(needle)
                        );
                    }
                }
                let meta =
                    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out.clone()))
                        .unwrap()
                        .metadata()
                        .clone();
                for rg in meta.row_groups() {
                    let city = rg.column(1);
                    assert!(city.encodings().any(|e| e == Encoding::RLE_DICTIONARY));
                    let s = city.statistics().unwrap();
                    assert_eq!(s.min_bytes_opt(), Some("B****".as_bytes()));
                    assert_eq!(s.max_bytes_opt(), Some("S*****".as_bytes()));
                    assert!(s.null_count_opt().unwrap() > 0);
                }
                if page_index {
                    check_column_index(&out, &batch);
                    // The offset index finds the rows: a range read through it.
                    let opts =
                        ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
                    let got = ParquetRecordBatchReaderBuilder::try_new_with_options(
                        bytes::Bytes::from(out.clone()),
                        opts,
                    )
                    .unwrap();
                    assert!(got.metadata().offset_index().is_some());
                    let sel = RowSelection::from(vec![
                        RowSelector::skip(2_600),
                        RowSelector::select(700),
                    ]);
                    let want =
                        BatchTransformer::new(&policy(), &keys(), batch.schema(), Direction::Apply)
                            .unwrap()
                            .transform(&batch.slice(2_600, 700), 2_600)
                            .unwrap();
                    let rows: Vec<RecordBatch> = got
                        .with_row_selection(sel)
                        .build()
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    let rows =
                        arrow_select::concat::concat_batches(&rows[0].schema(), &rows).unwrap();
                    for c in 0..want.num_columns() {
                        let g = arrow_cast::cast(rows.column(c), &DataType::Utf8).unwrap();
                        let e = arrow_cast::cast(want.column(c), &DataType::Utf8).unwrap();
                        assert_eq!(g.as_ref(), e.as_ref(), "column {c}");
                    }
                }
            }
        }
    }
}

/// Pseudonyms written from the pages of their column
/// (src/io/parquet/pseudonyms.rs): phone numbers that repeat, some null,
/// in chunks of every shape a writer leaves (a dictionary page, pages
/// indexing it, then plain pages once it filled up; plain pages only;
/// dictionary pages only), on data pages v1 and v2, compressed or not. The
/// output reads back as the in-memory transform of every row, with its
/// counts, and never shows a number in clear. An empty number sends its
/// chunk row by row, where it stays empty and is not counted.
#[test]
fn pseudonyms_from_pages_match_the_row_by_row_transform() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let phone =
        |i: usize| (i % 11 != 5).then(|| format!("010-{:04}-{:04}", i % 1500, 7000 + i % 1500));
    let batch = input_with(|i| Some(CITIES[i % 5].to_owned()), phone);
    // A dictionary of 4 KiB fills up within the first row group: its
    // pages index it, then the writer falls back to plain pages.
    for (dictionary, limit) in [(true, 4096), (true, 1 << 20), (false, 0)] {
        for v2 in [false, true] {
            for codec in [Compression::UNCOMPRESSED, Compression::SNAPPY] {
                write(
                    &path,
                    &batch,
                    Layout::new(v2, true, limit).codec(codec).phone(dictionary),
                );
                let (out, summary) = apply(&policy(), &path, None).unwrap();
                check_rows(&out, &summary, &batch);
                let phone = summary
                    .columns
                    .iter()
                    .find(|c| c.column == "phone")
                    .unwrap();
                assert_eq!(
                    phone.values,
                    (0..ROWS).filter(|i| i % 11 != 5).count() as u64
                );
                if codec == Compression::UNCOMPRESSED {
                    assert!(!out.windows(4).any(|w| w == b"010-"), "a phone in clear");
                }
            }
        }
    }
    let with_empty = input_with(
        |i| Some(CITIES[i % 5].to_owned()),
        |i| {
            Some(if i == 4500 {
                String::new()
            } else {
                phone(i).unwrap_or_default()
            })
        },
    );
    let layout = Layout::new(false, true, 4096).codec(Compression::SNAPPY);
    write(&path, &with_empty, layout.phone(true));
    let (out, summary) = apply(&policy(), &path, None).unwrap();
    check_rows(&out, &summary, &with_empty);
}

/// A dictionary that filled up (pages written plain after it), an empty
/// value in a dictionary, a value the transform refuses: each such chunk is
/// decoded row by row, so the output and counts are the same, and the
/// refusal names its row.
#[test]
fn chunks_that_cannot_go_through_their_dictionary_are_decoded() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    // A dictionary page limit of 64 bytes: born's dictionary (thousands of
    // days) fills up after a few values and the writer falls back to plain
    // pages; city's five names fit.
    let batch = cities();
    write(&path, &batch, Layout::new(false, true, 64));
    let (out, summary) = apply(&policy(), &path, None).unwrap();
    check_rows(&out, &summary, &batch);
    // born encoded again (one data page a chunk), city not.
    let pages = |out: &[u8], column| -> Vec<usize> {
        dictionary_pages(out, column)
            .iter()
            .map(|&(_, p)| p)
            .collect()
    };
    assert_eq!(pages(&out, "born"), [1, 1, 1]);
    assert_eq!(pages(&out, "city"), [4, 4, 4]);
    // An empty city in every row group: not counted, as row by row.
    let batch = input(|i| {
        Some(if i % 1000 == 17 {
            String::new()
        } else {
            CITIES[i % 5].to_owned()
        })
    });
    write(&path, &batch, Layout::new(false, true, 1 << 20));
    let (out, summary) = apply(&policy(), &path, None).unwrap();
    check_rows(&out, &summary, &batch);
    let city = summary.columns.iter().find(|c| c.column == "city").unwrap();
    assert_eq!(city.values, ROWS as u64 - 6);
    assert_eq!(pages(&out, "city"), [1, 1, 1]);
    assert_eq!(pages(&out, "born"), [4, 4, 4]);
    // A year from a text that is no date: the error names the first row
    // that holds it, in the third row group.
    let text = Policy::from_toml(
        "version = 1\n[fields.city]\ntransform = \"generalize\"\nto = \"year\"\n",
    )
    .unwrap();
    let batch = input(|i| {
        Some(if i >= 4321 && i % 2 == 1 {
            "not a date".to_owned()
        } else {
            "2020-01-02".to_owned()
        })
    });
    write(&path, &batch, Layout::new(false, true, 1 << 20));
    let e = apply(&text, &path, None).unwrap_err();
    assert!(e.contains("row 4322"), "{e}");
    assert!(!e.contains("not a date"), "{e}");
}

/// A data page whose indices are well formed but point past the dictionary
/// (a corrupt or hostile file): the run fails with an error naming the
/// file, whether the chunk's indices are mapped (a mask merging entries),
/// ranked for a column index or only checked, and on either page version.
#[test]
fn an_index_past_the_dictionary_fails_the_run() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let mask = policy();
    let distinct =
        Policy::from_toml("version = 1\n[fields.city]\ntransform = \"pseudonymize\"\n").unwrap();
    for (v2, page_index) in [(false, true), (false, false), (true, true)] {
        let layout = Layout::new(v2, page_index, 1 << 20).codec(Compression::UNCOMPRESSED);
        write(&path, &cities(), layout);
        let mut bytes = std::fs::read(&path).unwrap();
        // The second row group's first city page, found by its body (the
        // pages are stored uncompressed).
        let r = SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap();
        let mut pages = r
            .get_row_group(1)
            .unwrap()
            .get_column_page_reader(1)
            .unwrap();
        let (body, levels) = loop {
            match pages.get_next_page().unwrap().unwrap() {
                Page::DataPage { buf, .. } => {
                    let levels = 4 + u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
                    break (buf, levels);
                }
                Page::DataPageV2 {
                    buf,
                    def_levels_byte_len,
                    ..
                } => {
                    break (buf, def_levels_byte_len as usize);
                }
                _ => {}
            }
        };
        let at = bytes
            .windows(body.len())
            .position(|w| w == &body[..])
            .expect("the page's body in the file");
        // The indices: a bit width (3 bits for five entries), then a run
        // header. The first index becomes 7.
        let runs = at + levels + 1;
        assert_eq!(bytes[runs - 1], 3);
        let header = bytes[runs];
        assert!(header < 0x80, "a one-byte run header");
        bytes[runs + 1] |= 7;
        let bad = d.path().join("bad.parquet");
        std::fs::write(&bad, &bytes).unwrap();
        for policy in [&mask, &distinct] {
            let e = apply(policy, &bad, None).expect_err("an index past the dictionary");
            assert!(e.contains("bad.parquet"), "{e}");
            for city in CITIES {
                assert!(!e.contains(city), "{e}");
            }
        }
    }
}

/// A column that is null in every row (a dictionary of no entries, pages
/// of definition levels only) comes out null in every row, counted as
/// nothing.
#[test]
fn null_dictionary_columns_and_pages_stay_null() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = input(|_| None);
    write(&path, &batch, Layout::new(false, true, 1 << 20));
    let (out, summary) = apply(&policy(), &path, None).unwrap();
    check_rows(&out, &summary, &batch);
    let city = summary.columns.iter().find(|c| c.column == "city").unwrap();
    assert_eq!(city.values, 0);

    // Every other page of 500 rows null: null pages in the column index.
    let batch = input(|i| ((i / 500) % 2 == 1).then(|| CITIES[i % 5].to_owned()));
    write(&path, &batch, Layout::new(false, true, 1 << 20));
    let (out, summary) = apply(&policy(), &path, None).unwrap();
    check_rows(&out, &summary, &batch);
    assert!(
        dictionary_pages(&out, "city")
            .iter()
            .all(|&(_, pages)| pages == 4)
    );
    check_column_index(&out, &batch);
}

/// Generated files, as an attacker would vary them: dictionary columns of
/// planted values (`PLANT` and any text after it, nulls anywhere), row
/// groups and pages of any size, v1 or v2 pages, a page index or not, a
/// dictionary that fills up or not. The output (uncompressed, so its bytes
/// can be searched) never holds `PLANT`, and reads back row by row as the
/// in-memory transform, with the same counts.
mod generated {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> Policy {
        Policy::from_toml(
            "version = 1\n\
             [fields.a]\ntransform = \"pseudonymize\"\n\
             [fields.b]\ntransform = \"mask\"\nkeep_first = 0\nkeep_last = 0\n\
             [fields.d]\ntransform = \"generalize\"\nto = \"year\"\n",
        )
        .unwrap()
    }

    /// A row: the pool index of `a` and of `b` (or null), and `d`'s day.
    type Row = (Option<usize>, Option<usize>, i32);

    #[derive(Debug, Clone)]
    struct Case {
        pool: Vec<String>,
        rows: Vec<Row>,
        row_group: usize,
        page: usize,
        v2: bool,
        page_index: bool,
        dict_limit: usize,
        /// On data pages v2, text pages PLAIN (as pyarrow and Spark write
        /// them) rather than parquet-rs's DELTA_BYTE_ARRAY.
        plain: bool,
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            proptest::collection::vec(
                "PLANT[a-z0-9 ,\"\u{0}-\u{7f}\u{ac00}-\u{ac10}]{0,12}",
                1..40,
            ),
            1usize..1500,
            prop_oneof![Just(3usize), Just(64), Just(700), Just(5000)],
            prop_oneof![Just(1usize), Just(9), Just(200), Just(20_000)],
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(32usize), Just(1 << 20)],
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(
                |(pool, n, row_group, page, v2, page_index, dict_limit, seed, plain)| {
                    let mut x = seed | 1;
                    let mut next = move || {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x
                    };
                    let k = pool.len() as u64;
                    let rows = (0..n)
                        .map(|_| {
                            let r = next();
                            (
                                (r % 5 != 0).then(|| ((r >> 8) % k) as usize),
                                (r % 7 != 0).then(|| ((r >> 20) % k) as usize),
                                ((r >> 32) % 40_000) as i32 - 20_000,
                            )
                        })
                        .collect();
                    Case {
                        pool,
                        rows,
                        row_group,
                        page,
                        v2,
                        page_index,
                        dict_limit,
                        plain,
                    }
                },
            )
    }

    fn batch(c: &Case) -> RecordBatch {
        let text = |pick: fn(&Row) -> Option<usize>| {
            Arc::new(StringArray::from_iter(
                c.rows.iter().map(|r| pick(r).map(|i| c.pool[i].clone())),
            )) as ArrayRef
        };
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "id",
                Arc::new(Int64Array::from_iter_values(0..c.rows.len() as i64)),
            ),
            ("a", text(|r| r.0)),
            ("b", text(|r| r.1)),
            (
                "d",
                Arc::new(Date32Array::from_iter_values(c.rows.iter().map(|r| r.2))),
            ),
        ];
        let fields: Vec<Field> = cols
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            cols.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn planted_values_never_reach_the_output(c in case()) {
            let d = tempfile::tempdir().unwrap();
            let path = d.path().join("in.parquet");
            let b = batch(&c);
            let mut props = WriterProperties::builder()
                .set_max_row_group_row_count(Some(c.row_group))
                .set_data_page_row_count_limit(c.page)
                .set_write_batch_size(c.page.min(1024))
                .set_dictionary_page_size_limit(c.dict_limit);
            if c.v2 {
                props = props.set_writer_version(WriterVersion::PARQUET_2_0);
                if c.plain {
                    props = props.set_encoding(Encoding::PLAIN);
                }
            }
            if !c.page_index {
                props = props
                    .set_statistics_enabled(EnabledStatistics::Chunk)
                    .set_offset_index_disabled(true);
            }
            let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), b.schema(), Some(props.build())).unwrap();
            w.write(&b).unwrap();
            w.close().unwrap();
            let (out, summary) = super::apply(&policy(), &path, Some(Codec::None)).unwrap();
            prop_assert!(!out.windows(5).any(|w| w == b"PLANT"), "a planted value in clear");
            let want = BatchTransformer::new(&policy(), &keys(), b.schema(), Direction::Apply)
                .unwrap()
                .transform_counted(&b, 0)
                .unwrap();
            let r = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out)).unwrap().build().unwrap();
            let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
            let got = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
            crate::common::assert_same_rows(&got, &want.batch);
            let counts: Vec<u64> = summary.columns.iter().map(|c| c.values).collect();
            prop_assert_eq!(counts, want.values);
        }
    }
}
