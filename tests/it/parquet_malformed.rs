//! Malformed Parquet never crashes deid. Mutated copies of a valid file
//! (bytes changed in the footer or anywhere, the file cut short), and the
//! malformed files that apache/parquet-testing keeps for Parquet readers
//! (tests/data/parquet-bad/), each go through `apply` (src/io/parquet.rs)
//! and through the reader of `scan` and the audits (src/io/table.rs): each
//! either succeeds or fails with an error naming the file; a panic anywhere
//! fails the test. Neither outcome may show a protected value: a success
//! never has a phone number in clear in the pseudonymized column, an error
//! never quotes one.
//!
//! Regression: the `parquet` and `arrow-ipc` decoders themselves panic on
//! some such files (a column chunk starting before the file, an unknown
//! integer width in the embedded Arrow schema), and `deid apply` exited 101
//! on them. The footer is now checked, and the decoders are run contained.
#![cfg(feature = "parquet")]

use std::fs::File;
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, StructArray};
use arrow_schema::{DataType, Field};
use deid::io::format::Format;
use deid::io::parquet::{Codec, ParquetInput, ParquetOptions, run};
use deid::io::table::{Row, TableOptions, TableReader};
use deid::{Keyset, MasterKey, Policy};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::common::TestRng;

const ROWS: usize = 300;

fn phone(i: usize) -> String {
    format!("010-{:04}-{:04}", 1000 + i, 7000 + i)
}

/// phone (Utf8), city (dictionary), born (Date32), id (Int64) and a struct
/// `contact.email`, in three row groups, uncompressed so that a value
/// written in clear would be seen as bytes; the embedded Arrow schema and
/// the page index as writers leave them.
fn valid_file() -> Vec<u8> {
    let mut city = StringDictionaryBuilder::<Int32Type>::new();
    for i in 0..ROWS {
        city.append(["Seoul", "Busan", "Jeju"][i % 3]).unwrap();
    }
    let email: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..ROWS).map(|i| format!("user{i}@example.com")),
    ));
    let contact = StructArray::from(vec![(
        Arc::new(Field::new("email", DataType::Utf8, false)),
        email,
    )]);
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..ROWS as i64)) as ArrayRef,
        ),
        (
            "phone",
            Arc::new(StringArray::from_iter(
                (0..ROWS).map(|i| (i % 9 != 4).then(|| phone(i))),
            )),
        ),
        ("city", Arc::new(city.finish())),
        (
            "born",
            Arc::new(Date32Array::from_iter_values(
                (0..ROWS as i32).map(|i| 3000 + 37 * i),
            )),
        ),
        ("contact", Arc::new(contact)),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_max_row_group_row_count(Some(ROWS / 3))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

fn policy() -> Policy {
    Policy::from_toml(
        "version = 1\n\
         [fields.phone]\ntransform = \"pseudonymize\"\n\
         [fields.city]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n\
         [fields.born]\ntransform = \"generalize\"\nto = \"year\"\n\
         [fields.\"contact.email\"]\ntransform = \"encrypt\"\n",
    )
    .unwrap()
}

fn keys() -> Keyset {
    Keyset::from_keys(vec![MasterKey::from_bytes(1, [3u8; 32])]).unwrap()
}

/// A number below `n`: the mutations are the same on every run.
fn below(rng: &mut TestRng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// A copy of `valid` with a few bytes changed: mostly in the footer (its
/// last 1,500 bytes, where offsets, lengths and the schema are), sometimes
/// anywhere, sometimes with a run of bytes cut out.
fn mutate(valid: &[u8], rng: &mut TestRng) -> Vec<u8> {
    let mut b = valid.to_vec();
    let footer = 1500.min(b.len());
    let kind = below(rng, 10);
    for _ in 0..[1, 1, 2, 3, 8][below(rng, 5)] {
        let at = if kind < 6 {
            b.len() - 1 - below(rng, footer)
        } else {
            below(rng, b.len())
        };
        b[at] = match below(rng, 4) {
            0 => 0,
            1 => 0xff,
            2 => b[at] ^ (1 << below(rng, 8)),
            _ => rng.next_u64() as u8,
        };
    }
    if kind == 9 {
        let at = below(rng, b.len());
        let n = (1 + below(rng, 64)).min(b.len() - at);
        b.drain(at..at + n);
    }
    b
}

/// `deid apply` of the file at `path`, named `source` in errors, written
/// uncompressed: the output, or the error's text.
fn run_apply(path: &std::path::Path, source: &str, policy: &Policy) -> Result<Vec<u8>, String> {
    run_apply_as(path, source, policy, Codec::None)
}

/// [`run_apply`] written with `codec`.
fn run_apply_as(
    path: &std::path::Path,
    source: &str,
    policy: &Policy,
    codec: Codec,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let opts = ParquetOptions::new()
        .with_pipeline(|p| p.threads(2))
        .compression(Some(codec));
    run(
        policy,
        &keys(),
        ParquetInput::File(File::open(path).unwrap()),
        source,
        &mut out,
        &opts,
        &mut |_| {},
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// What reaches the user from a run written with `codec`: the error text,
/// or the output's pseudonymized column.
fn apply(path: &std::path::Path, codec: Codec) -> Result<Vec<String>, String> {
    let out = run_apply_as(path, "m.parquet", &policy(), codec)?;
    // Only the column deid wrote: kept columns are copied as they are
    // (uncompressed, the input's codec), so a page damaged in the input
    // stays damaged in the output; or page by page (snappy), each page
    // decompressed and compressed again.
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out)).unwrap();
    let mask = ProjectionMask::columns(builder.parquet_schema(), ["phone"]);
    let reader = builder.with_projection(mask).build().unwrap();
    let mut phones = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        if let Some(c) = batch.column_by_name("phone") {
            phones.extend(c.as_string::<i32>().iter().flatten().map(str::to_owned));
        }
    }
    Ok(phones)
}

/// Every row `scan` and the audits would read, or the error.
fn read_rows(path: &std::path::Path) -> Result<u64, String> {
    let opts = TableOptions::new().format(Format::Parquet);
    let mut t = TableReader::open(Some(path), &opts).map_err(|e| e.to_string())?;
    let mut row = Row::new();
    let mut n = 0;
    while t.read_row(&mut row).map_err(|e| e.to_string())? {
        n += 1;
    }
    Ok(n)
}

#[test]
fn mutated_files_fail_cleanly_and_never_show_a_phone() {
    let valid = valid_file();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.parquet");
    std::fs::write(&path, &valid).unwrap();
    // The file itself goes through, every phone pseudonymized.
    for codec in [Codec::None, Codec::Snappy] {
        let phones = apply(&path, codec).unwrap();
        assert_eq!(phones.len(), (0..ROWS).filter(|i| i % 9 != 4).count());
    }
    assert_eq!(read_rows(&path).unwrap(), ROWS as u64);

    let clear: Vec<String> = (0..ROWS).map(phone).collect();
    let mut rng = TestRng(0x5eed);
    let (mut failed, mut passed) = (0, 0);
    for i in 0..1200 {
        let bytes = mutate(&valid, &mut rng);
        std::fs::write(&path, &bytes).unwrap();
        match apply(&path, [Codec::None, Codec::Snappy][i % 2]) {
            Ok(out) => {
                passed += 1;
                assert!(
                    !out.iter().any(|v| clear.contains(v)),
                    "mutation {i}: a phone number passed in clear"
                );
            }
            Err(e) => {
                failed += 1;
                assert!(e.contains("m.parquet"), "mutation {i}: {e}");
                assert!(
                    !clear.iter().any(|p| e.contains(p.as_str())),
                    "mutation {i}: the error quotes a phone number: {e}"
                );
            }
        }
        if let Err(e) = read_rows(&path) {
            assert!(!clear.iter().any(|p| e.contains(p.as_str())), "{e}");
        }
    }
    // Both outcomes are exercised: most mutations break the file, some
    // only change values.
    assert!(
        failed > 300 && passed > 50,
        "{failed} failed, {passed} passed"
    );
}

/// A kept column copied page by page into another codec is read page by
/// page: a page header that does not parse stops the run with an error
/// naming the file and the column. Copied as bytes (the input's codec),
/// the same damage goes through as it is.
#[test]
fn a_damaged_page_of_a_kept_column_fails_its_copy_into_another_codec() {
    let mut bytes = valid_file();
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes.clone()))
        .unwrap()
        .metadata()
        .clone();
    let id = meta.row_group(1).column(0);
    assert_eq!(id.column_path().string(), "id");
    let (start, _) = id.byte_range();
    // The first page header's first field (its type) made invalid.
    for b in &mut bytes[start as usize..start as usize + 4] {
        *b = 0xff;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.parquet");
    std::fs::write(&path, &bytes).unwrap();
    let e = run_apply_as(&path, "m.parquet", &policy(), Codec::Snappy).unwrap_err();
    assert!(e.contains("m.parquet") && e.contains("column 'id'"), "{e}");
    assert!(run_apply(&path, "m.parquet", &policy()).is_ok());
}

#[test]
fn parquet_testing_bad_files_are_refused() {
    // Every column decoded: a row may be dropped, so none is copied.
    let policy = Policy::from_toml("version = 1\non_error = \"drop-record\"\n").unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parquet-bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        8,
        "tests/data/parquet-bad/README.md lists 8 files"
    );
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let applied = run_apply(path, name, &policy);
        let read = read_rows(path);
        // arrow-rs reads a dictionary page of bit width 0 (README.md there).
        if name == "ARROW-GH-43605.parquet" {
            assert!(
                applied.is_ok() && read.is_ok(),
                "{name}: {applied:?} {read:?}"
            );
            continue;
        }
        for e in [applied.map(|_| ()), read.map(|_| ())] {
            let e = e.expect_err(name);
            assert!(e.contains(name), "{e}");
        }
    }
}

/// `valid_file` with its footer saying that every chunk of column `leaf`
/// is compressed with LZO (no writer at hand writes LZO; Hadoop-era files
/// have it), the bytes unchanged.
fn lzo_file(leaf: &str) -> Vec<u8> {
    use parquet::file::metadata::ParquetMetaDataWriter;
    let valid = valid_file();
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(valid.clone()))
        .unwrap()
        .metadata()
        .as_ref()
        .clone();
    let footer = u32::from_le_bytes(valid[valid.len() - 8..valid.len() - 4].try_into().unwrap());
    let data_end = valid.len() - 8 - footer as usize;
    let row_groups = meta
        .row_groups()
        .iter()
        .map(|rg| {
            let columns = rg
                .columns()
                .iter()
                .map(|c| {
                    let b = c.clone().into_builder();
                    if c.column_path().string() == leaf {
                        b.set_compression(Compression::LZO).build().unwrap()
                    } else {
                        b.build().unwrap()
                    }
                })
                .collect();
            rg.clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap()
        })
        .collect();
    let meta = meta
        .into_builder()
        .set_row_groups(row_groups)
        .set_column_index(None)
        .set_offset_index(None)
        .build();
    let mut out = valid[..data_end].to_vec();
    ParquetMetaDataWriter::new(&mut out, &meta)
        .finish()
        .unwrap();
    out
}

/// Regression: an LZO-compressed column was refused as "not a valid
/// Parquet file"; the file is valid, deid cannot read that codec, and says
/// so, naming the codec and the column.
#[test]
fn an_lzo_column_is_refused_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    for leaf in ["phone", "id"] {
        let path = dir.path().join("m.parquet");
        std::fs::write(&path, lzo_file(leaf)).unwrap();
        let applied = run_apply(&path, "m.parquet", &policy()).unwrap_err();
        let read = read_rows(&path).unwrap_err();
        for e in [applied, read] {
            assert!(e.contains("m.parquet"), "{e}");
            assert!(e.contains("LZO") && !e.contains("not a valid"), "{e}");
            assert!(e.contains(&std::format!("'{leaf}'")), "{e}");
        }
    }
}
