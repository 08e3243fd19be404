//! A policy's `[suppress]` on CSV, JSON Lines and Parquet, in and out
//! (and mixed: CSV to Parquet, Parquet to CSV): the same records are left
//! out and counted, the rest come out with the same values; a policy that
//! cannot hold, or a record whose quasi-identifier has no value, fails with
//! no output file.
#![cfg(all(feature = "cli", feature = "parquet"))]

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::common::{Workdir, run, text};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
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

/// The batch API behind the Parquet path: class columns inside a struct
/// and dictionary-encoded, keyed on their output values; a class column in
/// a list is refused, and a row whose class column is null (or hidden
/// under a null struct) fails, naming its row and column.
#[test]
fn batch_transformer_suppresses_by_output_values() {
    use arrow_array::StructArray;
    use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_buffer::NullBuffer;
    use arrow_schema::{DataType, Field, Fields};
    use deid::arrow::BatchTransformer;
    use deid::io::suppress::SuppressClasses;
    use deid::policy::Direction;
    use deid::{Keyset, MasterKey, Policy};

    let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
    let mut city = StringDictionaryBuilder::<Int32Type>::new();
    for c in ["Seoul", "Suwon", "Busan", "Seoul", "Busan"] {
        city.append_value(c);
    }
    let city: ArrayRef = Arc::new(city.finish());
    let zip: ArrayRef = Arc::new(StringArray::from(vec![
        "04524", "16489", "48058", "04999", "48011",
    ]));
    let fields = Fields::from(vec![
        Field::new("city", city.data_type().clone(), true),
        Field::new("zip", DataType::Utf8, true),
    ]);
    let person = |nulls: Option<NullBuffer>| -> ArrayRef {
        Arc::new(StructArray::new(
            fields.clone(),
            vec![Arc::clone(&city), Arc::clone(&zip)],
            nulls,
        ))
    };
    let id: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]));
    let batch =
        RecordBatch::try_from_iter([("id", Arc::clone(&id)), ("person", person(None))]).unwrap();
    // City masked to its first letter, zip to its first two digits.
    let policy = Policy::from_toml(
        "version = 1\n[fields.\"person.city\"]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n\
         [fields.\"person.zip\"]\ntransform = \"mask\"\nkeep_first = 2\nkeep_last = 0\n",
    )
    .unwrap();
    let mut classes = SuppressClasses::new(vec!["person.city".into(), "person.zip".into()]);
    // (S****, 04***): ids 1 and 4; (S****, 16***) is not a class of the
    // data's cities (Suwon masks to S****, zip 16*** : id 2).
    classes.insert(&[b"S****", b"04***"]);
    classes.insert(&[b"B****", b"99***"]);
    let classes = Arc::new(classes);
    let t = BatchTransformer::with_suppression(
        &policy,
        &keys,
        batch.schema(),
        Direction::Apply,
        "t",
        Some(Arc::clone(&classes)),
    )
    .unwrap();
    assert!(t.may_drop_rows());
    let out = t.transform_counted(&batch, 0).unwrap();
    assert_eq!(out.rows_suppressed, 2);
    assert_eq!(out.rows_dropped, 0);
    let ids: Vec<i64> = out
        .batch
        .column(0)
        .as_primitive::<arrow_array::types::Int64Type>()
        .values()
        .to_vec();
    assert_eq!(ids, [2, 3, 5]);
    let p = out.batch.column(1).as_struct();
    let text = |a: &ArrayRef| -> Vec<String> {
        let a = arrow_cast::cast(a, &DataType::Utf8).unwrap();
        a.as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_owned())
            .collect()
    };
    assert_eq!(text(p.column(0)), ["S****", "B****", "B****"]);
    assert_eq!(text(p.column(1)), ["16***", "48***", "48***"]);

    // Without the classes, a policy with [suppress] is refused.
    let with_suppress = Policy::from_toml(&format!(
        "{}[suppress]\nquasi_identifiers = [\"person.city\"]\nk = 2\n",
        "version = 1\n[fields.\"person.city\"]\ntransform = \"mask\"\n"
    ))
    .unwrap();
    let err =
        BatchTransformer::new(&with_suppress, &keys, batch.schema(), Direction::Apply).unwrap_err();
    assert!(err.to_string().contains("first pass"), "{err}");

    // A null struct hides the class columns of row 3: that row fails.
    let hidden = RecordBatch::try_from_iter([
        ("id", Arc::clone(&id)),
        (
            "person",
            person(Some(NullBuffer::from(vec![true, true, false, true, true]))),
        ),
    ])
    .unwrap();
    let t = BatchTransformer::with_suppression(
        &policy,
        &keys,
        hidden.schema(),
        Direction::Apply,
        "t",
        Some(Arc::clone(&classes)),
    )
    .unwrap();
    let err = t.transform_counted(&hidden, 10).unwrap_err();
    assert_eq!(err.row(), Some(13));
    assert_eq!(err.column(), Some("person.city"));
    assert!(err.to_string().contains("no single value"), "{err}");

    // A class column inside a list has no one value per row: refused.
    let mut tags = ListBuilder::new(StringBuilder::new());
    for _ in 0..5 {
        tags.values().append_value("a");
        tags.append(true);
    }
    let tags: ArrayRef = Arc::new(tags.finish());
    let listed = RecordBatch::try_from_iter([("tags", tags)]).unwrap();
    let policy = Policy::from_toml("version = 1\n[fields.tags]\ntransform = \"mask\"\n").unwrap();
    let err = BatchTransformer::with_suppression(
        &policy,
        &keys,
        listed.schema(),
        Direction::Apply,
        "t",
        Some(Arc::new(SuppressClasses::new(vec!["tags".into()]))),
    )
    .unwrap_err();
    assert!(err.to_string().contains("outside any list"), "{err}");
}

/// `deid anonymize --policy-out` on JSON Lines (nested) and Parquet
/// (typed): `deid apply` on the same file suppresses what it predicted.
#[test]
fn policy_out_on_jsonl_and_parquet_gives_the_predicted_suppression() {
    let (dir, keys, _) = setup();
    let nested: String = jsonl()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{{\"id\":{},\"p\":{{\"age\":{},\"zipcode\":{}}},\"gender\":{}}}\n",
                v["id"], v["age"], v["zipcode"], v["gender"]
            )
        })
        .collect();
    dir.write("nested.jsonl", nested);
    for (input, qi, out) in [
        ("nested.jsonl", ["p.age", "p.zipcode"], "out.jsonl"),
        ("data.parquet", ["age", "zipcode"], "out.parquet"),
    ] {
        let policy = dir.file(&format!("{input}.toml"));
        let o = run(&[
            "anonymize",
            &dir.file(input),
            "--qi",
            &qi.join(","),
            "--hierarchy",
            &format!("{}={}", qi[0], dir.file("age.csv")),
            "--hierarchy",
            &format!("{}={}", qi[1], dir.file("zip.csv")),
            "--model",
            "k=3",
            "--suppress",
            "0.6",
            "--json",
            "--policy-out",
            &policy,
        ]);
        assert!(o.status.success(), "{input}: {}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let predicted = v["nodes"][0]["suppressed"].as_u64().unwrap();
        assert!(predicted > 0, "{input}: the test must suppress something");
        let out = dir.file(out);
        let o = apply(&keys, &policy, &dir.file(input), &out);
        assert!(o.status.success(), "{input}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        let summary: serde_json::Value =
            serde_json::from_str(err.lines().last().unwrap_or_default()).unwrap();
        assert_eq!(summary["rows_suppressed"], predicted, "{input}");
        assert_eq!(summary["rows_out"], 7 - predicted, "{input}");
    }
}
