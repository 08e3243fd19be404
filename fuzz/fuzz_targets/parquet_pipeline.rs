//! Parquet bytes through `deid apply` (src/io/parquet.rs), to Parquet and
//! to CSV, and through the reader of `scan` and the audits
//! (src/io/table.rs).
//!
//! Oracles: nothing panics or aborts (the decoders' own panics must be
//! contained), and each run fails with an error naming the file, or
//! - to Parquet, one and two threads write the same bytes, and the output
//!   reads back with the `parquet` crate: every `phone` and `contact.email`
//!   value is a pseudonym (or empty, as it came), every item of `tags` a
//!   pseudonym, empty or null, and `name` is gone;
//! - to CSV, the same holds of the columns the `csv` crate reads (a list
//!   as its JSON array);
//! - `city` (masked) and `born` (to its year) read the same, row by row,
//!   in both outputs (where a chunk is dictionary-encoded, the Parquet
//!   output transforms its dictionary and keeps its indices,
//!   src/io/parquet/dictionary.rs; CSV decodes every row), and every city
//!   is masked past its first character.
//!
//! Seeds (corpus/parquet_pipeline) are small files pyarrow wrote with the
//! policy's columns: plain and dictionary pages, v1 and v2 pages, none,
//! snappy and zstd, a page index, nulls, a struct, a list, a timestamp.
//! The output is uncompressed: the kept columns (`id`, `email`, `ts`) of
//! an uncompressed input are copied as bytes, those of a snappy or zstd one
//! page by page, each page decompressed.
#![no_main]

use std::fs::File;
use std::io::Write;

use arrow_array::ArrayRef;
use arrow_array::cast::AsArray;
use deid::io::format::Format;
use deid::io::parquet::{Codec, ParquetInput, ParquetOptions, run};
use deid::io::table::{Row, TableOptions, TableReader};
use deid::policy::Policy;
use deid_fuzz::{csv_read, is_hex_pseudonym, keys};
use libfuzzer_sys::fuzz_target;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const POLICY: &str = r#"
version = 1
[fields.phone]
transform = "pseudonymize"
[fields."contact.email"]
transform = "pseudonymize"
[fields.tags]
transform = "pseudonymize"
[fields.city]
transform = "mask"
keep_first = 1
keep_last = 0
[fields.born]
transform = "generalize"
to = "year"
[fields.name]
transform = "drop"
"#;

const SOURCE: &str = "fuzz.parquet";

/// `deid apply` of `file` to `output` on `threads` workers: the output, or
/// the error (which must name the file).
fn apply(file: &File, output: Format, threads: usize) -> Option<Vec<u8>> {
    let policy = Policy::from_toml(POLICY).unwrap();
    let opts = ParquetOptions::new()
        .with_pipeline(|p| p.threads(threads))
        .output_format(output)
        .compression(Some(Codec::None));
    let mut out = Vec::new();
    match run(
        &policy,
        &keys(),
        ParquetInput::File(file.try_clone().unwrap()),
        SOURCE,
        &mut out,
        &opts,
        &mut |_| {},
    ) {
        Ok(_) => Some(out),
        Err(e) => {
            assert!(e.to_string().contains(SOURCE), "unnamed error: {e}");
            None
        }
    }
}

/// The items of a JSON array of pseudonyms and nulls, as CSV writes a list.
fn pseudonym_list(cell: &[u8]) -> bool {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(cell) else {
        return false;
    };
    items.iter().all(|v| match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => is_hex_pseudonym(s.as_bytes()),
        _ => false,
    })
}

/// Every value at `path` under `a` is a pseudonym or null: structs are
/// walked by name, lists and dictionaries to their values, and a leaf is
/// read through deid's one text rule (Utf8, LargeUtf8 or Utf8View alike).
fn all_pseudonyms(a: &ArrayRef, path: &[&str], what: &str) {
    if let Some(s) = a.as_struct_opt() {
        let (first, rest) = path.split_first().expect("a struct is not a leaf");
        if let Some(c) = s.column_by_name(first) {
            all_pseudonyms(c, rest, what);
        }
    } else if let Some(l) = a.as_list_opt::<i32>() {
        all_pseudonyms(l.values(), path, what);
    } else if let Some(l) = a.as_list_opt::<i64>() {
        all_pseudonyms(l.values(), path, what);
    } else if let Some(l) = a.as_fixed_size_list_opt() {
        all_pseudonyms(l.values(), path, what);
    } else if let Some(d) = a.as_any_dictionary_opt() {
        all_pseudonyms(d.values(), path, what);
    } else {
        let text = deid::arrow::utf8_text(a).expect("a pseudonymized column is text");
        // An empty value stays empty (the default `empty = "keep"`), as
        // in the CSV output.
        for v in text.as_string::<i32>().iter().flatten() {
            assert!(
                v.is_empty() || is_hex_pseudonym(v.as_bytes()),
                "{what} not pseudonymized"
            );
        }
    }
}

/// The Parquet output's protected columns (the kept ones are copied as
/// they came, damaged pages and all, so they are not read back).
fn check_parquet(out: Vec<u8>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(out))
        .expect("deid's own output has a valid footer");
    assert!(
        builder.schema().field_with_name("name").is_err(),
        "a dropped column was written"
    );
    let mask =
        ProjectionMask::columns(builder.parquet_schema(), ["phone", "contact.email", "tags"]);
    let reader = builder.with_projection(mask).build().unwrap();
    for batch in reader {
        let batch = batch.expect("deid's own columns decode");
        for path in [&["phone"][..], &["contact", "email"], &["tags"]] {
            if let Some(c) = batch.column_by_name(path[0]) {
                all_pseudonyms(c, &path[1..], &path.join("."));
            }
        }
    }
}

/// Top-level column `name` of a Parquet output as text, row by row (nulls
/// as CSV writes them: empty); `None` when it has no such text column.
fn parquet_texts(out: &[u8], name: &str) -> Option<Vec<String>> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(out)).ok()?;
    let i = builder.schema().index_of(name).ok()?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [i]);
    let mut texts = Vec::new();
    for batch in builder.with_projection(mask).build().ok()? {
        let batch = batch.expect("deid's own columns decode");
        let text = deid::arrow::utf8_text(batch.column(0)).ok()?;
        texts.extend(
            text.as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or_default().to_owned()),
        );
    }
    Some(texts)
}

/// `city` and `born` read the same in the Parquet and the CSV output, and
/// every city is masked.
fn check_same(parquet: &[u8], csv: &[u8]) {
    let (header, records) = csv_read(csv).expect("deid's CSV reads back");
    for name in ["city", "born"] {
        let (Some(texts), Some(col)) = (
            parquet_texts(parquet, name),
            header.iter().position(|h| h == name.as_bytes()),
        ) else {
            continue;
        };
        assert_eq!(texts.len(), records.len(), "row counts differ");
        for (t, r) in texts.iter().zip(&records) {
            assert!(t.as_bytes() == &r[col], "{name} differs between outputs");
            if name == "city" {
                assert!(t.chars().skip(1).all(|c| c == '*'), "city not masked");
            }
        }
    }
}

/// The CSV output's protected columns.
fn check_csv(out: &[u8]) {
    let (header, records) = csv_read(out).expect("deid's CSV reads back");
    assert!(
        !header.iter().any(|h| h == b"name"),
        "a dropped column was written"
    );
    for (i, h) in header.iter().enumerate() {
        for r in &records {
            let cell = &r[i];
            match h {
                b"phone" | b"contact.email" => assert!(
                    cell.is_empty() || is_hex_pseudonym(cell),
                    "{} not pseudonymized",
                    String::from_utf8_lossy(h)
                ),
                b"tags" => assert!(
                    cell.is_empty() || pseudonym_list(cell),
                    "tags not pseudonymized"
                ),
                _ => {}
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.write_all(data).unwrap();
    let file = tmp.reopen().unwrap();

    let one = apply(&file, Format::Parquet, 1);
    let two = apply(&file, Format::Parquet, 2);
    assert_eq!(
        one.is_some(),
        two.is_some(),
        "fails on one thread count only"
    );
    if let (Some(a), Some(b)) = (&one, two) {
        assert!(*a == b, "output depends on the thread count");
        check_parquet(b);
    }
    if let Some(out) = apply(&file, Format::Csv, 2) {
        check_csv(&out);
        if let Some(parquet) = &one {
            check_same(parquet, &out);
        }
    }

    // `scan` and the audits: every row, or an error naming the file.
    let path = tmp.path().display().to_string();
    let opts = TableOptions::new().format(Format::Parquet);
    let read = || -> Result<(), deid::io::InputError> {
        let mut t = TableReader::open(Some(tmp.path()), &opts)?;
        let mut row = Row::new();
        while t.read_row(&mut row)? {}
        Ok(())
    };
    if let Err(e) = read() {
        assert!(e.to_string().contains(&path), "unnamed error: {e}");
    }
});
