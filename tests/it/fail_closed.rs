//! One regression test per known way the input layer failed open: each input
//! plants `PLANT` tokens in protected columns and states the behaviour the
//! contract asks for (docs: "Inputs" and "Failing closed").
#![cfg(feature = "std")]

use std::io::{Cursor, Read};

use deid::io::InputError;
use deid::io::pipeline::{PipelineOptions, Summary, run};
use deid::io::table::Format;
use deid::key::Keyset;
use deid::policy::Policy;
use serde_json::Value;

const KEYS: &str = include_str!("../fixtures/keys.json");

/// Hands out at most `step` bytes a read.
struct Trickle(Cursor<Vec<u8>>, usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

fn apply_with(
    policy: &str,
    format: Format,
    input: &[u8],
    opts: PipelineOptions,
) -> Result<(Vec<u8>, Summary), InputError> {
    let policy = Policy::from_toml(policy).unwrap();
    let keys = Keyset::from_json(KEYS).unwrap();
    let mut out = Vec::new();
    let summary = run(
        &policy,
        &keys,
        Box::new(Trickle(Cursor::new(input.to_vec()), 1000)),
        "input",
        &mut out,
        &opts.format(format),
        &mut |_| {},
    )?;
    Ok((out, summary))
}

/// The smallest chunks the options allow, and the default ones.
fn chunkings(format: Format) -> [PipelineOptions; 3] {
    let o = PipelineOptions::new().format(format);
    [
        o.clone().threads(1).chunk_bytes(0),
        o.clone().threads(2).chunk_bytes(0),
        o.threads(2),
    ]
}

fn apply(policy: &str, format: Format, input: &[u8]) -> Result<(Vec<u8>, Summary), InputError> {
    apply_with(policy, format, input, PipelineOptions::new().threads(1))
}

fn assert_no_plant(out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(
        !text.contains("PLANT"),
        "a planted value is in the output:\n{text}"
    );
}

fn assert_fails(policy: &str, format: Format, input: &[u8], why: &str) -> InputError {
    let mut last = None;
    for opts in chunkings(format) {
        match apply_with(policy, format, input, opts.clone()) {
            Ok((out, _)) => panic!(
                "{why}: accepted ({opts:?}), wrote:\n{}",
                String::from_utf8_lossy(&out)
            ),
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains("PLANT"), "the error echoes a value: {msg}");
                last = Some(e);
            }
        }
    }
    last.unwrap()
}

fn is_hex_pseudonym(v: &[u8]) -> bool {
    v.len() == 32
        && v.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// The csv crate's records (header excluded), the contract's grammar.
fn csv_records(input: &[u8]) -> Vec<csv::ByteRecord> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input)
        .byte_records()
        .collect::<Result<_, _>>()
        .unwrap()
}

const PSEUDONYMIZE_PHONE: &str = "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\n";

// (1) An unterminated quote at the end of input.

#[test]
fn unterminated_quote_in_a_kept_column_at_end_of_input_is_an_error() {
    // Row 2's note opens a quote that never closes: read leniently, it
    // swallows row 3, whose phone would be written in clear inside the note.
    let input = b"id,phone,note\n1,PLANT1,ok\n2,PLANT2,\"open\n3,PLANT3,x\n";
    assert_fails(
        PSEUDONYMIZE_PHONE,
        Format::Csv,
        input,
        "an unterminated quote",
    );
}

#[test]
fn unterminated_quote_in_a_kept_column_of_a_large_input_is_an_error() {
    let mut input = String::from("id,phone,note\n");
    for i in 0..2000 {
        input.push_str(&format!("{i},PLANT{i},\"note {i}, quoted\"\n"));
    }
    input.push_str("2000,PLANT2000,\"never closed\n");
    for i in 2001..2100 {
        input.push_str(&format!("{i},PLANT{i},plain\n"));
    }
    assert_fails(
        PSEUDONYMIZE_PHONE,
        Format::Csv,
        input.as_bytes(),
        "an unterminated quote after many chunks",
    );
}

#[cfg(feature = "cli")]
#[test]
fn unterminated_quote_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, KEYS).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, PSEUDONYMIZE_PHONE).unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "id,phone,note\n1,PLANT1,ok\n2,PLANT2,\"open\n3,PLANT3,x\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_deid"))
        .args(["apply", "-q", "-p"])
        .arg(&policy)
        .arg("-k")
        .arg(&keys)
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert!(!o.status.success(), "exit status {:?}", o.status);
    assert!(!out.exists(), "an output file was left behind");
    assert_no_plant(&o.stdout);
    assert_no_plant(&o.stderr);
}

// (2) Duplicate column names.

#[test]
fn duplicate_pseudonymized_header_is_an_error() {
    assert_fails(
        PSEUDONYMIZE_PHONE,
        Format::Csv,
        b"id,phone,phone\n1,PLANT1,PLANT2\n",
        "two 'phone' columns",
    );
}

#[test]
fn duplicate_dropped_header_is_an_error() {
    assert_fails(
        "version = 1\n[fields.name]\ntransform = \"drop\"\n",
        Format::Csv,
        b"id,name,name\n1,PLANT1,PLANT2\n",
        "two 'name' columns",
    );
}

#[test]
fn duplicate_header_is_an_error_under_unlisted_error() {
    let policy = "version = 1\nunlisted = \"error\"\n[fields.id]\ntransform = \"keep\"\n[fields.phone]\ntransform = \"pseudonymize\"\n";
    assert_fails(
        policy,
        Format::Csv,
        b"id,phone,phone\n1,PLANT1,PLANT2\n",
        "two 'phone' columns under unlisted = error",
    );
    let policy = "version = 1\nunlisted = \"error\"\n[fields.id]\ntransform = \"keep\"\n[fields.name]\ntransform = \"drop\"\n";
    assert_fails(
        policy,
        Format::Csv,
        b"id,name,name\n1,PLANT1,PLANT2\n",
        "two 'name' columns under unlisted = error",
    );
}

#[test]
fn duplicate_kept_header_is_an_error() {
    assert_fails(
        PSEUDONYMIZE_PHONE,
        Format::Csv,
        b"id,phone,id\n1,PLANT1,2\n",
        "two 'id' columns",
    );
}

// (3) JSON Lines: every value at a policy path, whatever its shape.

fn json_lines(out: &[u8]) -> Vec<Value> {
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
        Value::Object(m) => m.values().for_each(|x| scalars(x, out)),
        other => out.push(other.to_string()),
    }
}

/// Every scalar at `key` of every output record is a pseudonym, and there
/// are `count` of them in all.
fn assert_all_pseudonyms(out: &[u8], key: &str, count: usize) {
    assert_no_plant(out);
    let mut seen = Vec::new();
    for line in json_lines(out) {
        scalars(line.get(key).expect("the path is still there"), &mut seen);
    }
    assert_eq!(seen.len(), count, "values at {key}: {seen:?}");
    for s in seen {
        assert!(is_hex_pseudonym(s.as_bytes()), "{key} holds {s:?}");
    }
}

const PSEUDONYMIZE_TAGS: &str = "version = 1\n[fields.tags]\ntransform = \"pseudonymize\"\n";

#[test]
fn jsonl_array_of_objects_at_a_policy_path_is_transformed_throughout() {
    let input = br#"{"id":1,"tags":[{"name":"PLANT1","phone":"PLANT2"},{"name":"PLANT3","age":41}]}
{"id":2,"tags":[{"name":"PLANT4"}]}
"#;
    let (out, _) = apply(PSEUDONYMIZE_TAGS, Format::Jsonl, input).unwrap();
    assert_all_pseudonyms(&out, "tags", 5);
}

#[test]
fn jsonl_array_of_arrays_at_a_policy_path_is_transformed_throughout() {
    let input = br#"{"id":1,"tags":[["PLANT1","PLANT2"],["PLANT3",["PLANT4"]]]}
{"id":2,"tags":["PLANT5",["PLANT6"]]}
"#;
    let (out, _) = apply(PSEUDONYMIZE_TAGS, Format::Jsonl, input).unwrap();
    assert_all_pseudonyms(&out, "tags", 6);
}

#[test]
fn jsonl_array_of_scalars_is_transformed_element_by_element() {
    // The shape that works today, kept working.
    let input = br#"{"id":1,"tags":["PLANT1","PLANT2",3]}
"#;
    let (out, _) = apply(PSEUDONYMIZE_TAGS, Format::Jsonl, input).unwrap();
    assert_all_pseudonyms(&out, "tags", 3);
}

#[test]
fn jsonl_top_level_dotted_key_is_transformed() {
    let policy = "version = 1\n[fields.\"customer.phone\"]\ntransform = \"pseudonymize\"\n";
    let input = br#"{"id":1,"customer.phone":"PLANT1"}
{"id":2,"customer.phone":"PLANT2"}
"#;
    let (out, summary) = apply(policy, Format::Jsonl, input).unwrap();
    assert_eq!(summary.rows_out, 2);
    assert_all_pseudonyms(&out, "customer.phone", 2);
}

#[test]
fn jsonl_top_level_dotted_key_is_dropped() {
    let policy = "version = 1\n[fields.\"customer.phone\"]\ntransform = \"drop\"\n";
    let input = br#"{"id":1,"customer.phone":"PLANT1"}
{"id":2,"customer.phone":"PLANT2","customer":{"name":"kept"}}
"#;
    let (out, _) = apply(policy, Format::Jsonl, input).unwrap();
    assert_no_plant(&out);
    for line in json_lines(&out) {
        assert!(line.get("customer.phone").is_none(), "{line}");
    }
}

#[test]
fn jsonl_path_that_is_an_object_then_a_string_fails_that_record() {
    // `contact.email` resolves on line 1; on line 2 `contact` is a plain
    // string, so whatever it holds is under a protected path.
    let policy = "version = 1\n[fields.\"contact.email\"]\ntransform = \"pseudonymize\"\n";
    let input = br#"{"id":1,"contact":{"email":"PLANT1"}}
{"id":2,"contact":"PLANT2"}
"#;
    let e = assert_fails(
        policy,
        Format::Jsonl,
        input,
        "a string where the path needs an object",
    );
    assert_eq!(e.row(), Some(2), "{e}");
}

// (4) A bare quote in an unquoted field; a quoted multi-line field near the cut.

/// Same records as the csv crate, no clear values, the same bytes at every
/// chunking.
fn assert_like_csv_crate(input: &[u8], policy: &str, kept: &str) {
    let expected = csv_records(input);
    let mut first: Option<Vec<u8>> = None;
    for opts in chunkings(Format::Csv) {
        let (out, summary) = apply_with(policy, Format::Csv, input, opts.clone())
            .unwrap_or_else(|e| panic!("{opts:?}: {e}"));
        assert_no_plant(&out);
        assert_eq!(summary.rows_in, expected.len() as u64, "{opts:?}");
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(&out[..]);
        let header = rdr.byte_headers().unwrap().clone();
        let o = header.iter().position(|h| h == kept.as_bytes()).unwrap();
        let got: Vec<csv::ByteRecord> = rdr.byte_records().map(Result::unwrap).collect();
        assert_eq!(got.len(), expected.len(), "{opts:?}");
        let in_header = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(input)
            .byte_headers()
            .unwrap()
            .clone();
        let i = in_header.iter().position(|h| h == kept.as_bytes()).unwrap();
        for (n, (a, b)) in expected.iter().zip(&got).enumerate() {
            assert_eq!(a.get(i), b.get(o), "{opts:?}: row {}", n + 1);
        }
        match &first {
            None => first = Some(out),
            Some(f) => assert!(f == &out, "{opts:?}: output differs"),
        }
    }
}

#[test]
fn bare_quote_before_a_multiline_field_at_the_chunk_cut_reads_like_the_csv_crate() {
    // The reader takes the first 64 KiB at once, then about a chunk at a
    // time; padding moves the bare quote and the multi-line fields after it
    // across one whole cut period, about 100 bytes at a step.
    let policy = PSEUDONYMIZE_PHONE;
    for pad in 0..56 {
        let mut s = String::from("id,height,phone,note\n");
        let mut i = 0;
        while s.len() < (64 << 10) + pad * 97 {
            i += 1;
            s.push_str(&format!("{i},170,PLANT{i},plain\n"));
        }
        i += 1;
        s.push_str(&format!("{i},5'11\",PLANT{i},plain\n"));
        for _ in 0..6 {
            i += 1;
            s.push_str(&format!(
                "{i},180,PLANT{i},\"multi\nline {i},x,not a phone,y\nend\"\n"
            ));
        }
        for _ in 0..100 {
            i += 1;
            s.push_str(&format!("{i},160,PLANT{i},\"q\"\n"));
        }
        assert_like_csv_crate(s.as_bytes(), policy, "id");
    }
}

#[test]
fn bare_quote_in_a_header_field_reads_like_the_csv_crate() {
    let input = b"id,he\"ight,phone\n1,170,PLANT1\n2,\"5'11\"\"\",PLANT2\n3,180,PLANT3\n";
    assert_like_csv_crate(input, PSEUDONYMIZE_PHONE, "id");
}

// (5) Line endings and byte order marks.

#[test]
fn cr_only_line_endings_process_every_row() {
    let mut s = String::from("id,phone\r");
    for i in 1..=8000 {
        s.push_str(&format!("{i},PLANT{i}\r"));
    }
    assert_like_csv_crate(s.as_bytes(), PSEUDONYMIZE_PHONE, "id");
    assert_eq!(csv_records(s.as_bytes()).len(), 8000);
}

#[test]
fn cr_only_small_input_processes_every_row() {
    let input = b"id,phone\r1,PLANT1\r2,PLANT2\r";
    let (out, summary) = apply(PSEUDONYMIZE_PHONE, Format::Csv, input).unwrap();
    assert_no_plant(&out);
    assert_eq!(summary.rows_out, 2);
}

#[test]
fn a_row_starting_with_a_bom_gets_the_same_pseudonym_wherever_chunks_are_cut() {
    // Only the file's first bytes may be a byte order mark; a U+FEFF at the
    // start of a later row is data, whether or not a chunk starts there.
    let mut s = String::from("phone,id\n");
    for i in 1..=10_000 {
        s.push_str(&format!("\u{feff}PLANT{},{i}\n", i % 7));
    }
    assert_like_csv_crate(s.as_bytes(), PSEUDONYMIZE_PHONE, "id");
    // The same value gives the same pseudonym on every row.
    let (out, _) = apply_with(
        PSEUDONYMIZE_PHONE,
        Format::Csv,
        s.as_bytes(),
        PipelineOptions::new().threads(1).chunk_bytes(0),
    )
    .unwrap();
    let mut by_value = std::collections::BTreeMap::new();
    let rows = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&out[..])
        .into_byte_records()
        .map(Result::unwrap);
    for (n, rec) in rows.enumerate() {
        let seen = by_value
            .entry((n + 1) % 7)
            .or_insert_with(|| rec[0].to_vec());
        assert_eq!(seen, &rec[0].to_vec(), "row {}", n + 1);
    }
}

#[test]
fn a_bom_at_the_start_of_the_file_is_not_data() {
    let input = "\u{feff}phone,id\nPLANT1,1\n";
    let (out, _) = apply(PSEUDONYMIZE_PHONE, Format::Csv, input.as_bytes()).unwrap();
    assert!(
        out.starts_with(b"phone,id\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_no_plant(&out);
}

// Found by tests/it/leak.rs: text after a closing quote.

#[test]
fn text_after_a_closing_quote_does_not_carry_a_protected_value_into_a_kept_column() {
    // The note's quote closes after "ok," and csv_core appends the text that
    // follows (the phone) to the note; the comma inside the phone's own
    // quotes then restores the field count. Read leniently, the record is
    // valid and the phone sits in clear in a kept column. The promise holds
    // for any input: refuse the record or transform what is protected.
    let input = b"id,note,phone,extra\n1,\"ok,\"PLANT1, Jr.\",y\n";
    let records = csv_records(input);
    assert_eq!(&records[0][1], b"ok,PLANT1", "the csv crate's reading");
    for opts in chunkings(Format::Csv) {
        if let Ok((out, _)) = apply_with(PSEUDONYMIZE_PHONE, Format::Csv, input, opts) {
            assert_no_plant(&out);
        }
    }
}
