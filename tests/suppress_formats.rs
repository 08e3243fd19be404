//! A policy's `[suppress]` on CSV, JSON Lines and Parquet, in and out
//! (and mixed: CSV to Parquet, Parquet to CSV): the same records are left
//! out and counted, the rest come out with the same values; a policy that
//! cannot hold, or a record whose quasi-identifier has no value, fails with
//! no output file.
#![cfg(all(feature = "cli", feature = "parquet"))]

mod common;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use common::{Workdir, run, text};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// ARX's example data (org.deidentifier.arx.test.DataProvider), 7 records,
/// with an id to tell them apart.
const DATA: &str = "id,age,gender,zipcode\n1,34,male,81667\n2,45,female,81675\n3,66,male,81925\n4,70,female,81931\n5,34,female,81931\n6,70,male,81931\n7,45,male,81931\n";
const AGE: &str = "34;<50;*\n45;<50;*\n66;>=50;*\n70;>=50;*\n";
const ZIP: &str = "81667;816**;*\n81675;816**;*\n81925;819**;*\n81931;819**;*\n";

/// At levels (1, 1) the classes over (age, zipcode) are (<50,816**) of 2,
/// (>=50,819**) of 3 and (<50,819**) of 2: k = 3 leaves out records 1, 2,
/// 5 and 7 (4 of 7), which a limit of 0.6 allows and 0.5 does not.
const POLICY: &str = "version = 1
[fields.age]
transform = \"generalize\"
hierarchy = \"age.csv\"
level = 1
[fields.zipcode]
transform = \"generalize\"
hierarchy = \"zip.csv\"
level = 1
[suppress]
quasi_identifiers = [\"age\", \"zipcode\"]
k = 3
";

/// What every format must give: the records 3, 4 and 6, generalized.
fn expected() -> Vec<Vec<String>> {
    [
        ["3", ">=50", "male", "819**"],
        ["4", ">=50", "female", "819**"],
        ["6", ">=50", "male", "819**"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// The data as JSON Lines: age a JSON number, as an export would have it.
fn jsonl() -> String {
    DATA.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!(
                "{{\"id\":{},\"age\":{},\"gender\":\"{}\",\"zipcode\":\"{}\"}}\n",
                f[0], f[1], f[2], f[3]
            )
        })
        .collect()
}

/// The data as Parquet with typed columns (id Int64, age Int32), `age`
/// null in the rows listed in `null_age` (1-based ids).
fn write_parquet(path: &Path, null_age: &[i64]) {
    let rows: Vec<Vec<&str>> = DATA
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let id: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let age: Vec<Option<i32>> = rows
        .iter()
        .zip(&id)
        .map(|(r, i)| (!null_age.contains(i)).then(|| r[1].parse().unwrap()))
        .collect();
    let gender: Vec<&str> = rows.iter().map(|r| r[2]).collect();
    let zip: Vec<&str> = rows.iter().map(|r| r[3]).collect();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        ("age", Arc::new(Int32Array::from(age)) as ArrayRef),
        ("gender", Arc::new(StringArray::from(gender)) as ArrayRef),
        ("zipcode", Arc::new(StringArray::from(zip)) as ArrayRef),
    ])
    .unwrap();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Sorted rows of `id, age, gender, zipcode` from an output of any format.
fn output_rows(path: &str) -> Vec<Vec<String>> {
    let cols = ["id", "age", "gender", "zipcode"];
    let mut rows: Vec<Vec<String>> = if path.ends_with(".parquet") {
        let r = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for batch in r {
            let batch = batch.unwrap();
            let text: Vec<ArrayRef> = cols
                .iter()
                .map(|c| {
                    let a = batch.column_by_name(c).unwrap();
                    arrow_cast::cast(a.as_ref(), &arrow_schema::DataType::Utf8).unwrap()
                })
                .collect();
            for i in 0..batch.num_rows() {
                rows.push(
                    text.iter()
                        .map(|a| {
                            let s = a.as_any().downcast_ref::<StringArray>().unwrap();
                            assert!(!s.is_null(i));
                            s.value(i).to_string()
                        })
                        .collect(),
                );
            }
        }
        rows
    } else if path.ends_with(".jsonl") {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                cols.iter()
                    .map(|c| match &v[c] {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect()
    } else {
        let body = std::fs::read_to_string(path).unwrap();
        let mut lines = body.lines();
        assert_eq!(lines.next(), Some("id,age,gender,zipcode"));
        lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    };
    rows.sort();
    rows
}

fn setup() -> (Workdir, String, String) {
    let dir = Workdir::new();
    dir.write("age.csv", AGE);
    dir.write("zip.csv", ZIP);
    dir.write("data.csv", DATA);
    dir.write("data.jsonl", jsonl());
    write_parquet(&dir.join("data.parquet"), &[]);
    let keys = dir.keygen("keys.json");
    let policy = dir.write("p.toml", format!("{POLICY}limit = 0.6\n"));
    (dir, keys, policy)
}

fn apply(keys: &str, policy: &str, input: &str, out: &str) -> std::process::Output {
    run(&[
        "apply",
        "-p",
        policy,
        "-k",
        keys,
        "-o",
        out,
        "--json-summary",
        input,
    ])
}

#[test]
fn every_format_suppresses_the_same_records() {
    let (dir, keys, policy) = setup();
    for (input, out) in [
        ("data.csv", "out.csv"),
        ("data.jsonl", "out.jsonl"),
        ("data.parquet", "out.parquet"),
        ("data.csv", "csv_out.parquet"),
        ("data.parquet", "parquet_out.csv"),
    ] {
        let out = dir.file(out);
        let o = apply(&keys, &policy, &dir.file(input), &out);
        assert!(o.status.success(), "{input}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        let summary: serde_json::Value =
            serde_json::from_str(err.lines().last().unwrap_or_default()).unwrap();
        assert_eq!(summary["rows_in"], 7, "{input} -> {out}");
        assert_eq!(summary["rows_suppressed"], 4, "{input} -> {out}");
        assert_eq!(summary["rows_out"], 3, "{input} -> {out}");
        assert_eq!(output_rows(&out), expected(), "{input} -> {out}");
    }
}

#[test]
fn parquet_over_the_limit_or_with_a_null_writes_nothing() {
    let (dir, keys, _) = setup();
    let strict = dir.write("strict.toml", format!("{POLICY}limit = 0.5\n"));
    for input in ["data.parquet", "data.jsonl"] {
        let out = dir.file(&format!("out_{input}"));
        let o = apply(&keys, &strict, &dir.file(input), &out);
        assert_eq!(o.status.code(), Some(1), "{input}");
        let err = text(&o.stderr);
        assert!(
            err.contains("4 of 7") && err.contains("more than the limit"),
            "{input}: {err}"
        );
        assert!(!Path::new(&out).exists(), "{input}");
    }

    // A hierarchy that takes the empty value (the built-in mask), so the
    // first pass (which reads a null as empty) passes and the second
    // meets the null: a null quasi-identifier has no class of its own to
    // release or drop.
    let policy = dir.write(
        "mask.toml",
        POLICY
            .replace("\"age.csv\"", "\"mask\"")
            .replace("k = 3", "k = 1"),
    );
    write_parquet(&dir.join("nulls.parquet"), &[5]);
    dir.write(
        "nulls.jsonl",
        jsonl().replace(
            "\"age\":34,\"gender\":\"female\"",
            "\"age\":null,\"gender\":\"female\"",
        ),
    );
    for input in ["data.parquet", "data.jsonl"] {
        let out = dir.file(&format!("masked_{input}"));
        let o = apply(&keys, &policy, &dir.file(input), &out);
        assert!(o.status.success(), "{input}: {}", text(&o.stderr));
    }
    for input in ["nulls.parquet", "nulls.jsonl"] {
        let out = dir.file(&format!("out_{input}"));
        let o = apply(&keys, &policy, &dir.file(input), &out);
        assert_eq!(o.status.code(), Some(1), "{input}");
        let err = text(&o.stderr);
        assert!(
            err.contains("row 5") && err.contains("age") && err.contains("no single value"),
            "{input}: {err}"
        );
        assert!(!Path::new(&out).exists(), "{input}");
    }
}
