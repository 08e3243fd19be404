//! `deid apply` / `decrypt` / `scan` on Parquet, run as the built binary:
//! CSV -> Parquet -> CSV round trips, identical tokens across formats,
//! corrupt input leaving no output, and a file written and read back by
//! pyarrow (skipped loudly without pyarrow, failed under CI=true).
#![cfg(feature = "parquet")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn deid(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deid"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(args: &[&str], dir: &Path) {
    let o = deid(args, dir);
    assert!(
        o.status.success(),
        "deid {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `deid <cmd> -q -p <policy> -k keys.json -o <out> <input>`, run in `dir`.
fn with(cmd: &str, policy: &str, out: &str, input: &str, dir: &Path) -> std::process::Output {
    deid(
        &[cmd, "-q", "-p", policy, "-k", "keys.json", "-o", out, input],
        dir,
    )
}

/// [`with`], which must succeed.
fn ok_with(cmd: &str, policy: &str, out: &str, input: &str, dir: &Path) {
    let o = with(cmd, policy, out, input, dir);
    assert!(
        o.status.success(),
        "deid {cmd} -p {policy} {input}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const CSV: &str = "id,phone,email,city,born\n\
1,010-1234-5678,ada@example.com,Seoul,1990-01-02\n\
2,010-2222-3333,lin@example.com,Busan,1985-12-31\n\
3,,kim@example.com,Seoul,2001-07-15\n";

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.csv"), CSV).unwrap();
    ok(&["keygen", "-o", "keys.json"], d.path());
    std::fs::write(
        d.path().join("rev.toml"),
        "version = 1\n[fields.email]\ntransform = \"encrypt\"\n[fields.phone]\ntransform = \"encrypt\"\nmode = \"randomized\"\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("det.toml"),
        "version = 1\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n[fields.email]\ntransform = \"encrypt\"\n[fields.born]\ntransform = \"generalize\"\nto = \"year\"\n[fields.city]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n",
    )
    .unwrap();
    std::fs::write(d.path().join("keep.toml"), "version = 1\n").unwrap();
    d
}

#[test]
fn csv_to_parquet_to_csv_round_trip() {
    let d = setup();
    let p = d.path();
    ok_with("apply", "rev.toml", "s.parquet", "in.csv", p);
    let bytes = std::fs::read(p.join("s.parquet")).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    assert!(
        !bytes.windows(15).any(|w| w == b"ada@example.com"),
        "an encrypted value in clear"
    );
    ok_with("decrypt", "rev.toml", "back.csv", "s.parquet", p);
    assert_eq!(std::fs::read_to_string(p.join("back.csv")).unwrap(), CSV);
}

#[test]
fn same_tokens_from_csv_and_parquet() {
    let d = setup();
    let p = d.path();
    ok_with("apply", "det.toml", "a.csv", "in.csv", p);
    // The same data as Parquet (all columns kept), then through the policy.
    ok_with("apply", "keep.toml", "in.parquet", "in.csv", p);
    ok_with("apply", "det.toml", "b.csv", "in.parquet", p);
    assert_eq!(
        std::fs::read_to_string(p.join("a.csv")).unwrap(),
        std::fs::read_to_string(p.join("b.csv")).unwrap()
    );
    // And as JSON Lines.
    let jsonl = "{\"id\":\"1\",\"phone\":\"010-1234-5678\",\"email\":\"ada@example.com\",\"city\":\"Seoul\",\"born\":\"1990-01-02\"}\n";
    std::fs::write(p.join("in.jsonl"), jsonl).unwrap();
    ok_with("apply", "det.toml", "c.jsonl", "in.jsonl", p);
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("c.jsonl")).unwrap()).unwrap();
    let a = std::fs::read_to_string(p.join("a.csv")).unwrap();
    let row1: Vec<&str> = a.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(c["phone"], row1[1]);
    assert_eq!(c["email"], row1[2]);
    assert_eq!(c["city"], row1[3]);
    assert_eq!(c["born"], row1[4]);
}

#[test]
fn corrupt_or_mismatched_parquet_fails_without_output() {
    let d = setup();
    let p = d.path();
    ok_with("apply", "keep.toml", "in.parquet", "in.csv", p);
    let mut bytes = std::fs::read(p.join("in.parquet")).unwrap();
    // Damage the pages, keep the footer.
    let end = 200.min(bytes.len() / 2);
    for b in &mut bytes[8..end] {
        *b ^= 0x5a;
    }
    std::fs::write(p.join("bad.parquet"), &bytes).unwrap();
    let o = with("apply", "det.toml", "out.parquet", "bad.parquet", p);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.parquet"), "{err}");
    assert!(!err.contains("example.com"), "{err}");
    assert!(!p.join("out.parquet").exists());
    // Not Parquet at all.
    std::fs::write(p.join("text.parquet"), CSV).unwrap();
    let o = with("apply", "det.toml", "out.parquet", "text.parquet", p);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Parquet"));
    assert!(!p.join("out.parquet").exists());
    // A schema without the policy's columns.
    std::fs::write(
        p.join("other.toml"),
        "version = 1\n[fields.ssn]\ntransform = \"drop\"\n",
    )
    .unwrap();
    let o = with("apply", "other.toml", "out.parquet", "in.parquet", p);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ssn"));
    assert!(!p.join("out.parquet").exists());
}

#[test]
fn scan_reads_parquet() {
    let d = setup();
    let p = d.path();
    ok_with("apply", "keep.toml", "in.parquet", "in.csv", p);
    let o = deid(&["scan", "in.parquet"], p);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("phone") && out.contains("email"), "{out}");
}

const PYARROW: &str = r#"
import sys, datetime
import pyarrow as pa, pyarrow.parquet as pq
step, path = sys.argv[1], sys.argv[2]
if step.startswith("write"):
    n = 3000
    t = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "email": pa.array([None if i % 7 == 0 else f"user{i}@example.com" for i in range(n)]),
        "city": pa.array([["Seoul", "Busan", None][i % 3] for i in range(n)]).dictionary_encode(),
        "customer": pa.array([{"phone": f"010-{i:04d}-0000", "zip": "04524"} for i in range(n)]),
        "seen": pa.array([datetime.datetime(2024, 1, 1, 8, 30) for i in range(n)], pa.timestamp("us")),
        # Zones by name, as pandas writes tz-aware columns: the same instant,
        # 2023-12-31T20:00:00Z, is 2024 in Seoul.
        "utc": pa.array([datetime.datetime(2023, 12, 31, 20, tzinfo=datetime.timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
        "kst": pa.array([datetime.datetime(2023, 12, 31, 20, tzinfo=datetime.timezone.utc)] * n, pa.timestamp("us", tz="Asia/Seoul")),
        # Dictionary-encoded in the file (pyarrow's default) and masked or
        # generalized to outputs that coincide: written through the
        # dictionary, whose entries must stay distinct for pyarrow.
        "town": pa.array([["Seoul", "Suwon", "Sejong", None][i % 4] for i in range(n)]),
        "born": pa.array([datetime.date(1950, 1, 1) + datetime.timedelta(days=(i * 7919) % 20000) for i in range(n)], pa.date32()),
    })
    if step == "write":
        pq.write_table(t, path, row_group_size=1000, compression=sys.argv[3] or "snappy")
    else:
        # Data pages v2, zstd, and a page index: the other layout.
        pq.write_table(t, path, row_group_size=1000, data_page_version="2.0",
                       compression="zstd", write_page_index=True)
else:
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 3, f.metadata.num_row_groups
    t = f.read()
    s = t.schema
    assert s.field("id").type == pa.int64(), s
    assert s.field("email").type == pa.string(), s
    assert pa.types.is_dictionary(s.field("city").type), s
    assert s.field("customer").type.num_fields == 2, s
    assert s.field("seen").type == pa.string(), s
    assert s.field("utc").type == pa.timestamp("us", tz="UTC"), s
    assert s.field("kst").type == pa.string(), s
    rows = t.to_pylist()
    assert rows[0]["email"] is None and rows[1]["email"] is not None
    assert all("example.com" not in (r["email"] or "") for r in rows)
    assert rows[2]["city"] is None and rows[0]["city"] == rows[3]["city"] != "Seoul"
    assert rows[5]["customer"]["zip"] == "04524"
    assert rows[5]["customer"]["phone"] != "010-0005-0000"
    assert rows[0]["seen"] == "2024", rows[0]["seen"]
    assert rows[0]["kst"] == "2024", rows[0]["kst"]
    assert rows[0]["utc"] == datetime.datetime(2023, 12, 31, 20, tzinfo=datetime.timezone.utc), rows[0]["utc"]
    assert [r["town"] for r in rows[:4]] == ["S****", "S****", "S*****", None], rows[:4]
    assert all(r["born"] == str((datetime.date(1950, 1, 1) + datetime.timedelta(days=(i * 7919) % 20000)).year) for i, r in enumerate(rows))
    # The kept columns in the codec asked for (copied page by page when
    # the input's differs).
    want = sys.argv[3].upper()
    codecs = {f.metadata.row_group(g).column(c).compression
              for g in range(3) for c in range(f.metadata.num_columns)}
    assert codecs == {want}, (codecs, want)
    d = pq.read_table(path, read_dictionary=["town", "born"])
    assert d.column("town").to_pylist() == [r["town"] for r in rows]
    assert d.column("born").to_pylist() == [r["born"] for r in rows]
    t.to_pandas()
    print("pyarrow ok", len(rows))
"#;

#[test]
fn pyarrow_file_round_trip() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let have = Command::new(&python)
        .args(["-c", "import pyarrow, pandas"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("CI").is_err(),
            "CI=true but pyarrow or pandas is missing: pip install pyarrow pandas"
        );
        eprintln!(
            "SKIPPED pyarrow_file_round_trip: python3 with pyarrow and pandas not found (pip install pyarrow pandas)"
        );
        return;
    }
    let d = setup();
    let p = d.path();
    std::fs::write(p.join("t.py"), PYARROW).unwrap();
    let run = |step: &str, file: &str, codec: &str| {
        let o = Command::new(&python)
            .args(["t.py", step, file, codec])
            .current_dir(p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run("write", "py.parquet", "");
    run("write2", "py2.parquet", "");
    for codec in ["gzip", "lz4", "brotli"] {
        run("write", &format!("py_{codec}.parquet"), codec);
    }
    // `id` and `utc` are named with `keep`: they keep their types, as the
    // check asserts, like the columns the policy does not name.
    std::fs::write(
        p.join("py.toml"),
        "version = 1\n[fields.id]\ntransform = \"keep\"\n[fields.utc]\ntransform = \"keep\"\n[fields.email]\ntransform = \"pseudonymize\"\n[fields.city]\ntransform = \"pseudonymize\"\n[fields.\"customer.phone\"]\ntransform = \"pseudonymize\"\n[fields.seen]\ntransform = \"generalize\"\nto = \"year\"\n[fields.kst]\ntransform = \"generalize\"\nto = \"year\"\n[fields.town]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n[fields.born]\ntransform = \"generalize\"\nto = \"year\"\n",
    )
    .unwrap();
    ok_with("apply", "py.toml", "out.parquet", "py.parquet", p);
    run("check", "out.parquet", "snappy");
    // Each layout into each other codec: the kept columns (`id`, `utc`)
    // are copied page by page, compressed again.
    for (input, codec, pyarrow_name) in [
        ("py.parquet", "zstd", "zstd"),
        ("py.parquet", "none", "uncompressed"),
        ("py2.parquet", "snappy", "snappy"),
        ("py2.parquet", "zstd", "zstd"),
    ] {
        let o = deid(
            &[
                "apply",
                "-q",
                "-p",
                "py.toml",
                "-k",
                "keys.json",
                "--compression",
                codec,
                "-o",
                "out2.parquet",
                input,
            ],
            p,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        run("check", "out2.parquet", pyarrow_name);
    }
    // Codecs deid reads but does not write: zstd out by default.
    for codec in ["gzip", "lz4", "brotli"] {
        std::fs::remove_file(p.join("out2.parquet")).unwrap();
        ok_with(
            "apply",
            "py.toml",
            "out2.parquet",
            &format!("py_{codec}.parquet"),
            p,
        );
        run("check", "out2.parquet", "zstd");
    }
    // As CSV, typed values are written by the rule the transforms read
    // them with: a zone at its offset for the instant, `Z` for UTC.
    ok_with("apply", "keep.toml", "py.csv", "py.parquet", p);
    let csv = std::fs::read_to_string(p.join("py.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(at("seen"), "2024-01-01T08:30:00");
    assert_eq!(at("utc"), "2023-12-31T20:00:00Z");
    assert_eq!(at("kst"), "2024-01-01T05:00:00+09:00");
}

#[test]
fn gen_memo_writes_parquet() {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(
        &[
            "gen",
            "--rows",
            "300",
            "--memo",
            "--memo-truth",
            "truth.jsonl",
            "-o",
            "m.parquet",
        ],
        p,
    );
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(p.join("m.parquet")).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let g = deid::synth::Generator::new(1).memo(true);
    let mut row = 0u64;
    for b in r {
        let b = b.unwrap();
        let last = b.schema().fields().len() - 1;
        assert_eq!(b.schema().field(last).name(), "memo");
        let memo = b.column(last).as_string::<i32>();
        for i in 0..memo.len() {
            assert_eq!(memo.value(i), g.memo_of(row).text, "row {row}");
            row += 1;
        }
    }
    assert_eq!(row, 300);
    let truth = std::fs::read_to_string(p.join("truth.jsonl")).unwrap();
    assert_eq!(truth.lines().count(), 300);
}

/// Parquet written as CSV: a column with no text form (binary that is not
/// UTF-8) stops the run with an error that names it, and no output.
#[test]
fn a_column_without_text_names_itself_when_written_as_csv() {
    use arrow_array::{ArrayRef, BinaryArray, StringArray};
    let d = setup();
    let p = d.path();
    let blob: &[u8] = &[0xff, 0xfe, 0x00];
    write_batch(
        &p.join("blob.parquet"),
        std::vec![
            (
                "phone",
                Arc::new(StringArray::from(vec!["010-1234-5678"])) as ArrayRef,
            ),
            ("blob", Arc::new(BinaryArray::from(vec![blob])) as ArrayRef),
        ],
    );
    let o = with("apply", "keep.toml", "blob.csv", "blob.parquet", p);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("blob.parquet") && err.contains("column 'blob'"),
        "{err}"
    );
    assert!(!err.contains("010-1234-5678"), "{err}");
    assert!(!p.join("blob.csv").exists());
}

/// Writes one batch of `columns` to a Parquet file.
fn write_batch(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Nested columns written as CSV (and read by `scan`) are the JSON a JSON
/// Lines record would hold: lists as arrays, structs and maps as objects
/// (map keys in order, repeats kept), typed values as their text, nulls as
/// `null`; a null row is an empty field, and values under a null list slot
/// never appear. A transformed leaf inside a list of structs shows its
/// output only.
#[test]
fn nested_columns_are_written_as_json_text() {
    use arrow_array::builder::{Int32Builder, MapBuilder, StringBuilder};
    use arrow_array::{
        ArrayRef, FixedSizeListArray, Float64Array, Int32Array, Int64Array, ListArray, StringArray,
        StructArray,
    };
    use arrow_buffer::{NullBuffer, OffsetBuffer};
    use arrow_schema::{DataType, Field, Fields};
    let d = setup();
    let p = d.path();
    let mut tags = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    for (k, v) in [("a", Some(1)), ("b", None), ("a", Some(3))] {
        tags.keys().append_value(k);
        tags.values().append_option(v);
    }
    tags.append(true).unwrap();
    tags.append(false).unwrap();
    tags.append(true).unwrap();
    let item_fields = Fields::from(vec![
        Field::new("sku", DataType::Utf8, true),
        Field::new("qty", DataType::Int32, true),
    ]);
    let item = StructArray::try_new(
        item_fields.clone(),
        vec![
            Arc::new(StringArray::from(vec!["A1", "B2", "Z9"])) as ArrayRef,
            Arc::new(Int32Array::from(vec![2, 5, 9])) as ArrayRef,
        ],
        Some(NullBuffer::from(vec![true, false, true])),
    )
    .unwrap();
    // Row 3's list is null: its item (Z9) is hidden.
    let items = ListArray::try_new(
        Arc::new(Field::new("item", DataType::Struct(item_fields), true)),
        OffsetBuffer::from_lengths([2, 0, 1]),
        Arc::new(item),
        Some(NullBuffer::from(vec![true, true, false])),
    )
    .unwrap();
    let dims = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float64, true)),
        2,
        Arc::new(Float64Array::from(vec![1.5, -0.25, 0.5, 3.25, 0.0, 1.0])),
        None,
    )
    .unwrap();
    write_batch(
        &p.join("nested.parquet"),
        std::vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            ("tags", Arc::new(tags.finish()) as ArrayRef),
            ("items", Arc::new(items) as ArrayRef),
            ("dims", Arc::new(dims) as ArrayRef),
        ],
    );
    ok_with("apply", "keep.toml", "nested.csv", "nested.parquet", p);
    let csv = std::fs::read_to_string(p.join("nested.csv")).unwrap();
    assert_eq!(
        csv,
        "id,tags,items,dims\n\
         1,\"{\"\"a\"\":\"\"1\"\",\"\"b\"\":null,\"\"a\"\":\"\"3\"\"}\",\"[{\"\"sku\"\":\"\"A1\"\",\"\"qty\"\":\"\"2\"\"},null]\",\"[\"\"1.5\"\",\"\"-0.25\"\"]\"\n\
         2,,[],\"[\"\"0.5\"\",\"\"3.25\"\"]\"\n\
         3,{},,\"[\"\"0.0\"\",\"\"1.0\"\"]\"\n"
    );
    let o = deid(&["scan", "nested.parquet"], p);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A transformed leaf in a list of structs: only its pseudonym shows.
    std::fs::write(
        p.join("sku.toml"),
        "version = 1\n[fields.\"items.sku\"]\ntransform = \"pseudonymize\"\n",
    )
    .unwrap();
    ok_with("apply", "sku.toml", "sku.csv", "nested.parquet", p);
    let csv = std::fs::read_to_string(p.join("sku.csv")).unwrap();
    assert!(!csv.contains("A1") && !csv.contains("Z9"), "{csv}");
    assert!(csv.contains("\"\"sku\"\":\"\""), "{csv}");
}
