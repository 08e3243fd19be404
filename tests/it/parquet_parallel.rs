//! `deid::io::parquet::run` on Parquet files of many small row groups, on
//! several threads, checked row by row against the batch API applied in
//! memory (src/io/parquet.rs, src/arrow/mod.rs).
//!
//! Regression: workers once read row groups through duplicates of one file
//! descriptor (`File::try_clone`), which share a single file position, so two
//! workers seeking at once read each other's pages (a decompression error or,
//! worse, another row group's values). With hundreds of small zstd row groups
//! on four threads every run below hit that; reads now go by offset.
//!
//! Also: kept columns copied through as bytes keep their values, statistics
//! and page index, and a transformed column never reaches the output in clear.
#![cfg(feature = "parquet")]

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use deid::arrow::BatchTransformer;
use deid::io::format::Format;
use deid::io::parquet::{Codec, ParquetInput, ParquetOptions, run};
use deid::io::pipeline::Summary;
use deid::policy::Direction;
use deid::{Keyset, MasterKey, Policy};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

const ROWS: usize = 40_000;
/// Small row groups, yet column chunks of several reads each (over 8 KiB of
/// incompressible text in `name`).
const ROW_GROUP: usize = 400;

/// Incompressible, distinct text for row `i`.
fn noise(i: usize) -> String {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(i as u64), mix(!(i as u64)))
}

fn keys() -> Keyset {
    Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap()
}

fn policy() -> Policy {
    Policy::from_toml(
        "version = 1\n\
         [fields.phone]\ntransform = \"pseudonymize\"\n\
         [fields.city]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n\
         [fields.note]\ntransform = \"drop\"\n",
    )
    .unwrap()
}

/// id (Int64, kept), name (Utf8, kept, nullable), phone (pseudonymized),
/// city (dictionary, masked), note (dropped): every value tells its row.
fn input() -> RecordBatch {
    let mut city = StringDictionaryBuilder::<Int32Type>::new();
    for i in 0..ROWS {
        city.append(["Seoul", "Busan", "Incheon", "Daegu"][i % 4])
            .unwrap();
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..ROWS as i64)) as ArrayRef,
        ),
        (
            "name",
            Arc::new(StringArray::from_iter(
                (0..ROWS).map(|i| (i % 7 != 3).then(|| format!("{i}-{}", noise(i)))),
            )),
        ),
        (
            "phone",
            Arc::new(StringArray::from_iter_values((0..ROWS).map(|i| {
                format!("010-{:04}-{:04}", 1000 + i / 10_000, i % 10_000)
            }))),
        ),
        ("city", Arc::new(city.finish())),
        (
            "note",
            Arc::new(StringArray::from_iter_values(
                (0..ROWS).map(|i| format!("secret note {i}")),
            )),
        ),
    ];
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), *n == "name"))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

/// Writes `batch` in row groups of [`ROW_GROUP`] rows, zstd; with a page
/// index or without (pyarrow's default, and the layout the shared-position
/// defect showed on: pages are then streamed from the chunk's start).
fn write_input(path: &std::path::Path, batch: &RecordBatch, page_index: bool) {
    write_input_in(path, batch, page_index, ROW_GROUP);
}

/// [`write_input`] in row groups of `row_group` rows.
fn write_input_in(path: &std::path::Path, batch: &RecordBatch, page_index: bool, row_group: usize) {
    let mut props = WriterProperties::builder();
    if !page_index {
        props = props
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true);
    }
    let props = props
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(row_group))
        // An encoding deid's writer never picks by itself: seen in the
        // output, it shows the chunk was copied, not encoded again.
        .set_column_dictionary_enabled("id".into(), false)
        .set_column_encoding("id".into(), Encoding::DELTA_BINARY_PACKED)
        // Phone plain, as a writer whose dictionary filled up leaves it:
        // decoded and encoded again (a dictionary-encoded chunk would be
        // written through its dictionary, tests/it/parquet_dictionary.rs).
        .set_column_dictionary_enabled("phone".into(), false)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// The test policy over `input`, checking every row went through.
fn apply(input: &std::path::Path, opts: &ParquetOptions) -> Vec<u8> {
    let (out, summary) = apply_policy(&policy(), input, opts);
    assert_eq!(summary.rows_in, ROWS as u64);
    assert_eq!(summary.rows_out, ROWS as u64);
    out
}

/// `policy` over the Parquet file `input`: the output and its summary.
fn apply_policy(
    policy: &Policy,
    input: &std::path::Path,
    opts: &ParquetOptions,
) -> (Vec<u8>, Summary) {
    let mut out = Vec::new();
    let summary = run(
        policy,
        &keys(),
        ParquetInput::File(File::open(input).unwrap()),
        "in.parquet",
        &mut out,
        opts,
        &mut |_| {},
    )
    .unwrap();
    (out, summary)
}

fn read_all(bytes: Vec<u8>) -> RecordBatch {
    let r = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = r.map(Result::unwrap).collect();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// Every row of `got` equals the in-memory transform of the input's row.
fn assert_rows(got: &RecordBatch, expected: &RecordBatch) {
    assert_eq!(got.num_rows(), ROWS);
    crate::common::assert_same_rows(got, expected);
}

fn expected(batch: &RecordBatch) -> RecordBatch {
    BatchTransformer::new(&policy(), &keys(), batch.schema(), Direction::Apply)
        .unwrap()
        .transform(batch, 0)
        .unwrap()
}

#[test]
fn many_row_groups_on_four_threads_row_by_row() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = input();
    write_input(&path, &batch, false);
    let want = expected(&batch);
    // zstd out (the input's codec): kept columns are copied as bytes;
    // snappy out: page by page, each page compressed again.
    // The defect was a race: several rounds make a miss unlikely (with the
    // old reader put back, most runs of this test failed).
    for codec in [
        None,
        Some(Codec::Snappy),
        Some(Codec::Snappy),
        Some(Codec::Snappy),
    ] {
        for threads in [2, 4, 8] {
            let opts = ParquetOptions::new()
                .with_pipeline(|p| p.threads(threads))
                .compression(codec);
            let out = apply(&path, &opts);
            let got = read_all(out);
            assert_rows(&got, &want);
        }
    }
    // Parquet to CSV decodes every column too.
    let opts = ParquetOptions::new()
        .with_pipeline(|p| p.threads(4))
        .output_format(Format::Csv);
    let csv = String::from_utf8(apply(&path, &opts)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,name,phone,city");
    assert_eq!(lines.len(), ROWS + 1);
    let phone = want.column(2).as_string::<i32>();
    for (row, line) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0], row.to_string(), "row {row}");
        assert_eq!(f[2], phone.value(row), "row {row}");
    }
}

/// Row groups of several reads (8,192 rows a read, the last one shorter):
/// the columns not decoded (`id` and `name` copied, `city` written through
/// its dictionary) stand in each read as placeholders, kept from read to
/// read and made again for the shorter one.
#[test]
fn row_groups_of_several_reads_row_by_row() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = input();
    write_input_in(&path, &batch, true, ROWS / 2);
    let want = expected(&batch);
    for threads in [1, 2] {
        let opts = ParquetOptions::new().with_pipeline(|p| p.threads(threads));
        let got = read_all(apply(&path, &opts));
        assert_rows(&got, &want);
    }
}

/// Kept columns are copied: with the input's codec as its bytes, with
/// another one page by page, each page decompressed and compressed again.
/// Either way they keep their encodings, statistics, pages and page index.
#[test]
fn copied_columns_keep_statistics_and_page_index() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = input();
    write_input(&path, &batch, true);
    let inp = ParquetRecordBatchReaderBuilder::try_new_with_options(
        File::open(&path).unwrap(),
        ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required),
    )
    .unwrap();
    let im = inp.metadata().clone();
    let ii = im.offset_index().unwrap();
    for (codec, compression) in [
        (None, Compression::ZSTD(ZstdLevel::default())),
        (Some(Codec::Snappy), Compression::SNAPPY),
        (Some(Codec::None), Compression::UNCOMPRESSED),
    ] {
        let out = apply(
            &path,
            &ParquetOptions::new()
                .with_pipeline(|p| p.threads(2))
                .compression(codec),
        );
        // Nothing dropped or pseudonymized is there in clear.
        for needle in ["secret note", "010-1000-0001", "Incheon"] {
            assert!(
                !out.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in clear"
            );
        }
        let out = bytes::Bytes::from(out);
        let opts = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
        let got = ParquetRecordBatchReaderBuilder::try_new_with_options(out.clone(), opts).unwrap();
        let gm = got.metadata().clone();
        assert_eq!(gm.num_row_groups(), im.num_row_groups());
        assert_eq!(gm.num_row_groups(), ROWS.div_ceil(ROW_GROUP));
        let gi = gm.offset_index().unwrap();
        for rg in 0..gm.num_row_groups() {
            // id and name (leaves 0 and 1 on both sides) are copied: same
            // statistics, encodings and pages; the same compressed bytes
            // with the same codec.
            for leaf in 0..2 {
                let (g, i) = (gm.row_group(rg).column(leaf), im.row_group(rg).column(leaf));
                assert_eq!(g.compression(), compression, "rg {rg} leaf {leaf}");
                assert_eq!(g.statistics(), i.statistics(), "rg {rg} leaf {leaf}");
                assert_eq!(g.num_values(), i.num_values());
                if codec.is_none() {
                    assert_eq!(g.compressed_size(), i.compressed_size());
                } else {
                    assert_ne!(g.compressed_size(), i.compressed_size());
                }
                let mut ge: Vec<_> = g.encodings().collect();
                let mut ie: Vec<_> = i.encodings().collect();
                ge.sort_by_key(|e| *e as u8);
                ie.sort_by_key(|e| *e as u8);
                assert_eq!(ge, ie, "rg {rg} leaf {leaf}");
                let (gp, ip) = (&gi[rg][leaf], &ii[rg][leaf]);
                assert_eq!(gp.page_locations.len(), ip.page_locations.len());
                assert_eq!(
                    gp.unencoded_byte_array_data_bytes,
                    ip.unencoded_byte_array_data_bytes
                );
                for (gp, ip) in gp.page_locations.iter().zip(&ip.page_locations) {
                    if codec.is_none() {
                        assert_eq!(gp.compressed_page_size, ip.compressed_page_size);
                    }
                    assert_eq!(gp.first_row_index, ip.first_row_index);
                }
                assert_eq!(
                    gm.column_index().unwrap()[rg][leaf],
                    im.column_index().unwrap()[rg][leaf],
                    "rg {rg} leaf {leaf}"
                );
            }
        }
        // The page index (offsets shifted) reads the right rows back:
        // select a range in the middle through it.
        let sel = parquet::arrow::arrow_reader::RowSelection::from(vec![
            parquet::arrow::arrow_reader::RowSelector::skip(5_000),
            parquet::arrow::arrow_reader::RowSelector::select(100),
        ]);
        let r = got.with_row_selection(sel).build().unwrap();
        let mut row = 5_000i64;
        for b in r {
            let b = b.unwrap();
            let ids = b.column(0).as_primitive::<arrow_array::types::Int64Type>();
            for v in ids.values() {
                assert_eq!(*v, row);
                row += 1;
            }
        }
        assert_eq!(row, 5_100);
        assert_rows(&read_all(out.to_vec()), &expected(&batch));
        // An encoding deid's writer never picks: the chunk was copied.
        assert!(
            gm.row_group(0)
                .column(0)
                .encodings()
                .any(|e| e == Encoding::DELTA_BINARY_PACKED)
        );
    }
}

/// A pseudonymized column is written without a dictionary (its values are
/// as distinct as the input's: a dictionary would only fill up and fall
/// back), DELTA_LENGTH_BYTE_ARRAY and without statistics, while the masked
/// dictionary column stays dictionary-encoded with its statistics; the
/// values equal the in-memory transform either way.
#[test]
fn pseudonyms_plain_dictionaries_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.parquet");
    let batch = input();
    write_input(&path, &batch, true);
    let out = apply(
        &path,
        &ParquetOptions::new().with_pipeline(|p| p.threads(2)),
    );
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out.clone()))
        .unwrap()
        .metadata()
        .clone();
    for rg in meta.row_groups() {
        for c in rg.columns() {
            let dict = c.encodings().any(|e| e == Encoding::RLE_DICTIONARY);
            match c.column_path().string().as_str() {
                "phone" => {
                    assert!(!dict, "pseudonyms dictionary-encoded");
                    assert!(
                        c.encodings()
                            .any(|e| e == Encoding::DELTA_LENGTH_BYTE_ARRAY)
                    );
                    assert!(c.statistics().is_none(), "pseudonyms have min/max");
                }
                "city" => {
                    assert!(dict, "the masked dictionary column lost its dictionary");
                    assert!(c.statistics().is_some());
                }
                _ => {}
            }
        }
    }
    assert_rows(&read_all(out), &expected(&batch));
}

/// A kept dictionary column that cannot be null (the case `deid gen` and
/// Spark write) is copied through as bytes like any kept column, not
/// decoded and encoded again: its input chunks have no statistics, and a
/// chunk encoded again would have them.
#[test]
fn kept_dictionary_column_is_copied() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let batch = input();
    assert!(
        !batch
            .schema()
            .field_with_name("city")
            .unwrap()
            .is_nullable()
    );
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_column_statistics_enabled("city".into(), EnabledStatistics::None)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let keep_city = Policy::from_toml(
        "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\n\
         [fields.note]\ntransform = \"drop\"\n",
    )
    .unwrap();
    let two = ParquetOptions::new().with_pipeline(|p| p.threads(2));
    let (out, _) = apply_policy(&keep_city, &path, &two);
    let got = read_all(out.clone());
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out))
        .unwrap()
        .metadata()
        .clone();
    for rg in meta.row_groups() {
        let c = rg
            .columns()
            .iter()
            .find(|c| c.column_path().string() == "city");
        assert!(c.unwrap().statistics().is_none(), "city encoded again");
    }
    let want = BatchTransformer::new(&keep_city, &keys(), batch.schema(), Direction::Apply)
        .unwrap()
        .transform(&batch, 0)
        .unwrap();
    assert_eq!(
        got.schema().field_with_name("city").unwrap().data_type(),
        &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
    );
    assert_rows(&got, &want);
}

/// A column an explicit `transform = "keep"` names is copied through as
/// bytes like one the policy does not name, and counted from its chunks'
/// metadata: every value but the nulls where none can be empty (`id`: a
/// number; `name`: text whose statistics' minimum is not empty). Text that
/// holds empty values (`tag`) cannot be counted so, and is decoded. The
/// rows and the counts are those of the in-memory transform either way.
#[test]
fn explicit_keep_is_copied_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("in.parquet");
    let base = input();
    let tag: ArrayRef = Arc::new(StringArray::from_iter_values((0..ROWS).map(|i| {
        if i % 5 == 0 {
            String::new()
        } else {
            format!("t{}", i % 9)
        }
    })));
    let mut fields: Vec<Field> = base
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("tag", DataType::Utf8, false));
    let mut columns = base.columns().to_vec();
    columns.push(tag);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    // Small pages: a chunk encoded again (default page size) differs in
    // size from the input's, a copied one is the input's bytes.
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP * 10))
        .set_data_page_size_limit(512)
        .set_dictionary_enabled(false)
        .set_column_statistics_enabled("id".into(), EnabledStatistics::None)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(&path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let policy = Policy::from_toml(
        "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\n\
         [fields.note]\ntransform = \"drop\"\n\
         [fields.id]\ntransform = \"keep\"\n\
         [fields.name]\ntransform = \"keep\"\n\
         [fields.tag]\ntransform = \"keep\"\n",
    )
    .unwrap();
    let two = ParquetOptions::new().with_pipeline(|p| p.threads(2));
    let (out, summary) = apply_policy(&policy, &path, &two);

    // Rows and counts as the batch API gives them on the whole input.
    let t = BatchTransformer::new(&policy, &keys(), batch.schema(), Direction::Apply).unwrap();
    let want = t.transform_counted(&batch, 0).unwrap();
    let got = read_all(out.clone());
    assert_eq!(got.num_rows(), ROWS);
    crate::common::assert_same_rows(&got, &want.batch);
    let count = |c: &str| {
        summary
            .columns
            .iter()
            .find(|x| x.column == c)
            .map(|x| x.values)
    };
    for (c, &n) in t.counted_columns().iter().zip(&want.values) {
        assert_eq!(count(&c.column), Some(n), "{}", c.column);
    }
    assert_eq!(count("id"), Some(ROWS as u64));
    assert_eq!(
        count("name"),
        Some((0..ROWS).filter(|i| i % 7 != 3).count() as u64)
    );
    assert_eq!(
        count("tag"),
        Some((0..ROWS).filter(|i| i % 5 != 0).count() as u64)
    );

    // `id` and `name` copied as they were; `tag` encoded again.
    let size = |bytes: bytes::Bytes, c: &str| -> Vec<i64> {
        let meta = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .metadata()
            .clone();
        meta.row_groups()
            .iter()
            .map(|rg| {
                rg.columns()
                    .iter()
                    .find(|x| x.column_path().string() == c)
                    .unwrap()
                    .compressed_size()
            })
            .collect()
    };
    let input_bytes = bytes::Bytes::from(std::fs::read(&path).unwrap());
    let output_bytes = bytes::Bytes::from(out);
    for c in ["id", "name"] {
        assert_eq!(
            size(input_bytes.clone(), c),
            size(output_bytes.clone(), c),
            "{c} not copied"
        );
    }
    assert_ne!(
        size(input_bytes, "tag"),
        size(output_bytes, "tag"),
        "tag copied"
    );
}
