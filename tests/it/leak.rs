//! The first promise under attack: a value the policy says to transform never
//! reaches the output in clear, whatever the input looks like.
//!
//! Hostile CSV (every quoting trick, duplicate names, ragged rows, CR-only
//! line ends, byte order marks at row starts, an unterminated quote) and
//! hostile JSON Lines (dotted keys, nesting, arrays of arrays and of objects,
//! a path that changes type between lines) carry planted tokens (`PLANT` and
//! digits) in every protected column. Kept columns hold innocuous text only,
//! so any `PLANT` in the output is a protected value written in clear.
//!
//! Each input runs at the smallest chunk size the options allow and at the
//! default one, on 1, 2 and 3 threads: a run either fails (and the caller
//! writes nothing) or writes no planted token, all runs agree, and the bytes
//! are identical. For CSV, the `csv` crate is the oracle for where records
//! end: what the pipeline accepts, the `csv` crate reads, row for row.
//!
//! Each property switches on one family of hostile features (and one all of
//! them), so that each defect shrinks to its own minimal case. Debugging:
//! `LEAK_STATS=1` prints whether each case was accepted (a property whose
//! cases all fail proves little); `LEAK_DUMP=<dir>` writes the latest failing
//! input of each property there, which after shrinking is the minimal one.
#![cfg(feature = "std")]

use std::io::{Cursor, Read};

use deid::io::InputError;
use deid::io::pipeline::{PipelineOptions, Summary, run};
use deid::io::table::Format;
use deid::key::Keyset;
use deid::policy::Policy;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

const KEYS: &str = include_str!("../fixtures/keys.json");

/// What the tests plant in protected columns and look for in the output.
const PLANT: &[u8] = b"PLANT";

/// Hands out at most `step` bytes a read, so the reader's buffer ends
/// anywhere, inside quoted fields included.
struct Trickle {
    data: Cursor<Vec<u8>>,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.data.read(&mut buf[..n])
    }
}

/// (smallest chunk size the options allow?, threads, bytes per read).
const RUNS: [(bool, usize, usize); 5] = [
    (true, 1, 1 << 16),
    (true, 2, 997),
    (true, 3, 4093),
    (false, 1, 1 << 16),
    (false, 2, 997),
];

fn apply(
    policy: &Policy,
    format: Format,
    input: &[u8],
    small_chunks: bool,
    threads: usize,
    step: usize,
) -> Result<(Vec<u8>, Summary), InputError> {
    let keys = Keyset::from_json(KEYS).unwrap();
    let mut opts = PipelineOptions::new().format(format).threads(threads);
    if small_chunks {
        // The options clamp this to their minimum.
        opts = opts.chunk_bytes(0);
    }
    let mut out = Vec::new();
    let input = Trickle {
        data: Cursor::new(input.to_vec()),
        step,
    };
    let summary = run(
        policy,
        &keys,
        Box::new(input),
        "input",
        &mut out,
        &opts,
        &mut |_| {},
    )?;
    Ok((out, summary))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Fails the case if a planted token is in `out`, quoting the bytes around it.
fn no_plant(out: &[u8], what: &str) -> Result<(), TestCaseError> {
    if let Some(at) = find(out, PLANT) {
        let lo = at.saturating_sub(40);
        let hi = (at + 40).min(out.len());
        return Err(TestCaseError::fail(format!(
            "{what}: a planted value is in the output: …{}…",
            String::from_utf8_lossy(&out[lo..hi]).escape_debug()
        )));
    }
    Ok(())
}

/// A run's output and summary, or its error as text.
type RunResult = Result<(Vec<u8>, Summary), String>;

/// Runs every (chunk size, threads) combination; checks that no run leaks,
/// that they agree on success, and that successful outputs are identical.
/// Returns the common output, or `None` when every run failed.
fn run_all(
    policy: &Policy,
    format: Format,
    input: &[u8],
) -> Result<Option<(Vec<u8>, Summary)>, TestCaseError> {
    let mut first: Option<(String, RunResult)> = None;
    for (small, threads, step) in RUNS {
        let label = format!(
            "{} chunks, {threads} threads, {step}-byte reads",
            if small { "smallest" } else { "default" }
        );
        let got = apply(policy, format, input, small, threads, step).map_err(|e| e.to_string());
        if let Ok((out, _)) = &got {
            no_plant(out, &label)?;
        }
        match &first {
            None => first = Some((label, got)),
            Some((first_label, first_got)) => match (first_got, &got) {
                (Ok((a, _)), Ok((b, _))) => prop_assert!(
                    a == b,
                    "output differs between {first_label} and {label}:\n{}\n---\n{}",
                    String::from_utf8_lossy(a).escape_debug(),
                    String::from_utf8_lossy(b).escape_debug()
                ),
                (Err(_), Err(_)) => {}
                (a, b) => prop_assert!(
                    false,
                    "{first_label}: {:?}; {label}: {:?} (success must not depend on chunking)",
                    a.as_ref().map(|_| "ok"),
                    b.as_ref().map(|_| "ok")
                ),
            },
        }
    }
    Ok(first.and_then(|(_, r)| r.ok()))
}

fn is_hex_pseudonym(v: &[u8]) -> bool {
    v.len() == 32
        && v.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

// ---------------------------------------------------------------- CSV

const CSV_POLICY: &str = r#"
version = 1
unlisted = "keep"
on_error = "fail"

[fields.phone]
transform = "pseudonymize"

[fields.email]
transform = "encrypt"
mode = "deterministic"

[fields.name]
transform = "drop"

[fields.code]
transform = "mask"
keep_first = 1
keep_last = 1
"#;

/// The columns: two kept (`id` innocuous and unique, `note` hostile but
/// innocuous), four protected.
const COLUMNS: [&str; 6] = ["id", "note", "phone", "email", "name", "code"];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Quoting {
    /// Written unquoted wherever that is still valid CSV: quotes inside
    /// stay bare (`5'11"`); text with a delimiter, a line end or a leading
    /// quote is quoted anyway (else nearly every case would be ragged).
    Bare,
    /// In quotes, inner quotes doubled.
    Quoted,
}

#[derive(Clone, Copy, Debug)]
enum LineEnd {
    Lf,
    CrLf,
    Cr,
}

impl LineEnd {
    fn bytes(self) -> &'static str {
        match self {
            LineEnd::Lf => "\n",
            LineEnd::CrLf => "\r\n",
            LineEnd::Cr => "\r",
        }
    }
}

#[derive(Clone, Debug)]
struct CsvRow {
    note: (String, Quoting),
    /// Text around the planted token, and its quoting.
    protected: Vec<(usize, Quoting)>,
    end: LineEnd,
    blank_before: bool,
    bom: bool,
    /// Some(true): one field too many; Some(false): one too few.
    ragged: Option<bool>,
}

#[derive(Clone, Debug)]
struct CsvCase {
    columns: Vec<&'static str>,
    /// A second column with the same name as `columns[i]`.
    duplicate: Option<usize>,
    header_end: LineEnd,
    rows: Vec<CsvRow>,
    /// How many times the rows repeat (with fresh ids and tokens).
    repeat: usize,
    /// Row (mod the row count) of the last repetition whose note opens a
    /// quote it never closes.
    unterminated: Option<usize>,
}

/// Innocuous kept text, the nastier the better for a record splitter.
fn note_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ok".to_string()),
        Just(String::new()),
        Just("5'11\"".to_string()),
        Just("a,b".to_string()),
        Just("line one\nline two".to_string()),
        Just("cr\rinside".to_string()),
        Just("crlf\r\ninside".to_string()),
        Just("he said \"hi\"".to_string()),
        Just("\"".to_string()),
        Just("\"\n".to_string()),
        Just("x\"\ny".to_string()),
        Just(",\n,\n".to_string()),
        Just("ünï 한글".to_string()),
        "[a-z ,\"\n]{0,12}",
    ]
}

/// How a planted token is dressed: phone- and email-like, or with bytes that
/// need quoting.
const DRESS: [(&str, &str); 8] = [
    ("", ""),
    ("010-", "-5678"),
    ("", "@example.com"),
    ("Kim ", ", Jr."),
    ("", "\nsecond line"),
    ("say \"", "\""),
    ("\u{feff}", ""),
    ("", "\r\n"),
];

fn quoting() -> impl Strategy<Value = Quoting> {
    prop_oneof![3 => Just(Quoting::Quoted), 2 => Just(Quoting::Bare)]
}

fn line_end() -> impl Strategy<Value = LineEnd> {
    prop_oneof![
        3 => Just(LineEnd::Lf),
        2 => Just(LineEnd::CrLf),
        1 => Just(LineEnd::Cr),
    ]
}

fn csv_row(width: usize) -> impl Strategy<Value = CsvRow> {
    (
        (note_text(), quoting()),
        proptest::collection::vec((0..DRESS.len(), quoting()), width),
        line_end(),
        proptest::bool::weighted(0.05),
        proptest::bool::weighted(0.05),
        proptest::option::weighted(0.003, any::<bool>()),
    )
        .prop_map(|(note, protected, end, blank_before, bom, ragged)| CsvRow {
            note,
            protected,
            end,
            blank_before,
            bom,
            ragged,
        })
}

/// Which hostile features a CSV property generates; the others are
/// replaced by plain equivalents, so each defect shrinks to its own case.
#[derive(Clone, Copy, Debug)]
struct CsvKnobs {
    /// Unquoted fields holding quotes, delimiters or newlines; ragged rows.
    bare: bool,
    /// CR-only line ends.
    cr: bool,
    /// U+FEFF at the start of rows and values.
    bom: bool,
    /// A column name twice in the header.
    duplicate: bool,
    /// A quote opened and never closed.
    unterminated: bool,
}

const ALL: CsvKnobs = CsvKnobs {
    bare: true,
    cr: true,
    bom: true,
    duplicate: true,
    unterminated: true,
};
const NONE: CsvKnobs = CsvKnobs {
    bare: false,
    cr: false,
    bom: false,
    duplicate: false,
    unterminated: false,
};

impl CsvCase {
    fn tame(mut self, k: CsvKnobs) -> Self {
        let end = |e: LineEnd| match e {
            LineEnd::Cr if !k.cr => LineEnd::Lf,
            e => e,
        };
        self.header_end = end(self.header_end);
        if !k.duplicate && self.duplicate.is_some() {
            self.duplicate = None;
            for row in &mut self.rows {
                row.protected.pop();
            }
        }
        if !k.unterminated {
            self.unterminated = None;
        }
        for row in &mut self.rows {
            row.end = end(row.end);
            if !k.bom {
                row.bom = false;
                for (dress, _) in &mut row.protected {
                    if DRESS[*dress].0.starts_with('\u{feff}') {
                        *dress = 0;
                    }
                }
            }
            if !k.cr {
                row.note.0 = row.note.0.replace('\r', "\n");
                for (dress, _) in &mut row.protected {
                    if DRESS[*dress].1.contains('\r') {
                        *dress = 0;
                    }
                }
            }
            if !k.bare {
                row.note.1 = Quoting::Quoted;
                row.ragged = None;
                for (_, q) in &mut row.protected {
                    *q = Quoting::Quoted;
                }
            }
        }
        self
    }
}

fn csv_case(knobs: CsvKnobs) -> impl Strategy<Value = CsvCase> {
    (
        Just(COLUMNS.to_vec()).prop_shuffle(),
        proptest::option::weighted(0.1, 0..COLUMNS.len()),
        line_end(),
    )
        .prop_flat_map(move |(columns, duplicate, header_end)| {
            let width = columns.len() + usize::from(duplicate.is_some());
            (
                Just(columns),
                Just(duplicate),
                Just(header_end),
                proptest::collection::vec(csv_row(width), 1..40),
                prop_oneof![Just(1usize), 1usize..80],
                // Mostly present when the property is about it alone.
                proptest::option::weighted(
                    if knobs.unterminated && !knobs.bare {
                        0.9
                    } else {
                        0.1
                    },
                    any::<usize>(),
                ),
            )
        })
        .prop_map(
            move |(columns, duplicate, header_end, rows, repeat, unterminated)| {
                CsvCase {
                    columns,
                    duplicate,
                    header_end,
                    unterminated: unterminated.map(|u| u % rows.len()),
                    rows,
                    repeat,
                }
                .tame(knobs)
            },
        )
}

fn push_cell(out: &mut String, text: &str, quoting: Quoting) {
    match quoting {
        Quoting::Bare if !text.starts_with('"') && !text.contains([',', '\n', '\r']) => {
            out.push_str(text)
        }
        _ => {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        }
    }
}

impl CsvCase {
    /// The header names in input order.
    fn header(&self) -> Vec<&'static str> {
        let mut h = self.columns.clone();
        if let Some(d) = self.duplicate {
            h.push(self.columns[d]);
        }
        h
    }

    fn render(&self) -> Vec<u8> {
        let header = self.header();
        let mut s = header.join(",");
        s.push_str(self.header_end.bytes());
        let mut n = 0usize;
        for rep in 0..self.repeat {
            for (r, row) in self.rows.iter().enumerate() {
                n += 1;
                if row.blank_before {
                    s.push_str(row.end.bytes());
                }
                if row.bom {
                    s.push('\u{feff}');
                }
                let mut protected = row.protected.iter();
                for (c, name) in header.iter().enumerate() {
                    if c > 0 {
                        s.push(',');
                    }
                    match *name {
                        "id" => s.push_str(&n.to_string()),
                        "note" if rep + 1 == self.repeat && self.unterminated == Some(r) => {
                            // Opens a quote and never closes it.
                            s.push('"');
                            s.push_str(&row.note.0.replace('"', "\"\""));
                        }
                        "note" => push_cell(&mut s, &row.note.0, row.note.1),
                        _ => {
                            let (dress, q) =
                                protected.next().copied().unwrap_or((0, Quoting::Bare));
                            let (pre, post) = DRESS[dress];
                            push_cell(&mut s, &format!("{pre}PLANT{n}x{c}{post}"), q);
                        }
                    }
                }
                match row.ragged {
                    Some(true) => s.push_str(",extra"),
                    Some(false) => {
                        if let Some(i) = s.rfind(',') {
                            s.truncate(i);
                        }
                    }
                    None => {}
                }
                s.push_str(row.end.bytes());
            }
        }
        s.into_bytes()
    }
}

/// What the `csv` crate reads: the header and every record, or its error.
fn csv_oracle(input: &[u8]) -> Result<(csv::ByteRecord, Vec<csv::ByteRecord>), csv::Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = rdr.byte_headers()?.clone();
    let records = rdr.byte_records().collect::<Result<Vec<_>, _>>()?;
    Ok((header, records))
}

/// Whether the input ends inside a quoted field as `csv_core` reads it: a
/// sentinel record appended after a newline stays a record of its own only
/// if no quote is open.
fn ends_in_open_quote(input: &[u8]) -> bool {
    const SENTINEL: &[u8] = b"\x01sentinel";
    let mut data = input.to_vec();
    data.push(b'\n');
    data.extend_from_slice(SENTINEL);
    let last = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&data[..])
        .into_byte_records()
        .last();
    !matches!(last, Some(Ok(r)) if r.len() == 1 && &r[0] == SENTINEL)
}

fn column(header: &csv::ByteRecord, name: &str) -> Option<usize> {
    header.iter().position(|h| h == name.as_bytes())
}

fn check_csv(name: &str, case: &CsvCase) -> Result<(), TestCaseError> {
    let input = case.render();
    check_csv_input(&input).inspect_err(|_| dump(name, &input))
}

/// With `LEAK_DUMP=<dir>`, keeps the latest failing input of each property
/// there: after shrinking, the minimal one.
fn dump(name: &str, input: &[u8]) {
    if let Some(dir) = std::env::var_os("LEAK_DUMP") {
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), input);
    }
}

fn check_csv_input(input: &[u8]) -> Result<(), TestCaseError> {
    let policy = Policy::from_toml(CSV_POLICY).unwrap();
    let Some((out, summary)) = run_all(&policy, Format::Csv, input)? else {
        if std::env::var_os("LEAK_STATS").is_some() {
            eprintln!("csv case: all runs failed ({} bytes)", input.len());
        }
        return Ok(());
    };
    if std::env::var_os("LEAK_STATS").is_some() {
        eprintln!("csv case: accepted ({} bytes)", input.len());
    }
    // An unterminated quote at the end of input is an error.
    prop_assert!(
        !ends_in_open_quote(input),
        "accepted an input that ends inside a quoted field"
    );
    let (in_header, records) = csv_oracle(input).map_err(|e| {
        TestCaseError::fail(format!(
            "the pipeline accepted what the csv crate rejects: {e}"
        ))
    })?;
    // Duplicate column names are an error, whatever the column.
    let mut names: Vec<&[u8]> = in_header.iter().collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(TestCaseError::fail(format!(
            "a header with two '{}' columns was accepted",
            String::from_utf8_lossy(w[0])
        )));
    }
    let (out_header, out_records) =
        csv_oracle(&out).map_err(|e| TestCaseError::fail(format!("the output is not CSV: {e}")))?;
    prop_assert_eq!(summary.rows_in, records.len() as u64, "rows read");
    prop_assert_eq!(
        out_records.len() as u64,
        records.len() as u64 - summary.rows_dropped,
        "rows written"
    );
    // Kept columns are the csv crate's fields, record for record.
    for name in ["id", "note"] {
        let (Some(i), Some(o)) = (column(&in_header, name), column(&out_header, name)) else {
            return Err(TestCaseError::fail(format!("column {name} missing")));
        };
        for (n, (a, b)) in records.iter().zip(&out_records).enumerate() {
            prop_assert!(
                a.get(i) == b.get(o),
                "row {}: {name} is {:?} in the input but {:?} in the output",
                n + 1,
                a.get(i).map(String::from_utf8_lossy),
                b.get(o).map(String::from_utf8_lossy)
            );
        }
    }
    // Pseudonymized cells are pseudonyms.
    let o = column(&out_header, "phone").expect("phone is pseudonymized, not dropped");
    for (n, rec) in out_records.iter().enumerate() {
        let v = rec.get(o).unwrap_or_default();
        prop_assert!(
            v.is_empty() || is_hex_pseudonym(v),
            "row {}: phone is {:?}",
            n + 1,
            String::from_utf8_lossy(v)
        );
    }
    prop_assert!(
        column(&out_header, "name").is_none(),
        "dropped column written"
    );
    Ok(())
}

// ---------------------------------------------------------------- JSON Lines

const JSONL_POLICY: &str = r#"
version = 1
unlisted = "keep"
on_error = "fail"

[fields."customer.phone"]
transform = "pseudonymize"

[fields."contact.email"]
transform = "encrypt"
mode = "deterministic"

[fields.tags]
transform = "pseudonymize"

[fields.secret]
transform = "drop"

[fields.code]
transform = "mask"
keep_first = 1
keep_last = 1
"#;

/// `customer.phone`: a literal dotted key, a nested path, null or absent.
#[derive(Clone, Copy, Debug)]
enum Phone {
    Dotted,
    Nested,
    Null,
    Absent,
}

/// `contact.email`: under an object, or `contact` itself a string.
#[derive(Clone, Copy, Debug)]
enum Contact {
    Object,
    ObjectWithNull,
    Str,
    Null,
    Absent,
}

/// `tags`: a scalar, arrays of scalars, of arrays, of objects, null.
#[derive(Clone, Copy, Debug)]
enum Tags {
    Scalar,
    Number,
    Array(usize),
    ArrayOfArrays(usize),
    ArrayOfObjects(usize),
    Mixed,
    Null,
    Absent,
}

/// `secret` (dropped): any shape.
#[derive(Clone, Copy, Debug)]
enum Secret {
    Str,
    Object,
    Array,
    Absent,
}

#[derive(Clone, Debug)]
struct JsonLine {
    phone: Phone,
    contact: Contact,
    tags: Tags,
    secret: Secret,
    code: bool,
    note: String,
    crlf: bool,
    blank_before: bool,
    bom: bool,
}

#[derive(Clone, Debug)]
struct JsonCase {
    first_phone_dotted: bool,
    lines: Vec<JsonLine>,
    repeat: usize,
}

fn json_line() -> impl Strategy<Value = JsonLine> {
    (
        prop_oneof![
            3 => Just(Phone::Dotted),
            3 => Just(Phone::Nested),
            1 => Just(Phone::Null),
            1 => Just(Phone::Absent),
        ],
        prop_oneof![
            4 => Just(Contact::Object),
            1 => Just(Contact::ObjectWithNull),
            1 => Just(Contact::Str),
            1 => Just(Contact::Null),
            1 => Just(Contact::Absent),
        ],
        prop_oneof![
            Just(Tags::Scalar),
            Just(Tags::Number),
            (0usize..4).prop_map(Tags::Array),
            (0usize..3).prop_map(Tags::ArrayOfArrays),
            (0usize..3).prop_map(Tags::ArrayOfObjects),
            Just(Tags::Mixed),
            Just(Tags::Null),
            Just(Tags::Absent),
        ],
        prop_oneof![
            Just(Secret::Str),
            Just(Secret::Object),
            Just(Secret::Array),
            Just(Secret::Absent),
        ],
        any::<bool>(),
        note_text(),
        any::<bool>(),
        proptest::bool::weighted(0.05),
        proptest::bool::weighted(0.05),
    )
        .prop_map(
            |(phone, contact, tags, secret, code, note, crlf, blank_before, bom)| JsonLine {
                phone,
                contact,
                tags,
                secret,
                code,
                note,
                crlf,
                blank_before,
                bom,
            },
        )
}

/// Which JSON shapes a property generates; the others become plain ones.
#[derive(Clone, Copy, Debug)]
struct JsonKnobs {
    /// `customer.phone` as a literal top-level key.
    dotted: bool,
    /// Arrays of arrays and of objects, mixed arrays.
    nested_arrays: bool,
    /// `contact` a string where the policy path needs an object.
    type_change: bool,
}

impl JsonCase {
    fn tame(mut self, k: JsonKnobs) -> Self {
        if !k.dotted {
            self.first_phone_dotted = false;
        }
        for line in &mut self.lines {
            if !k.dotted && matches!(line.phone, Phone::Dotted | Phone::Null) {
                line.phone = Phone::Nested;
            }
            if !k.nested_arrays
                && matches!(
                    line.tags,
                    Tags::ArrayOfArrays(_) | Tags::ArrayOfObjects(_) | Tags::Mixed
                )
            {
                line.tags = Tags::Array(2);
            }
            if !k.type_change && matches!(line.contact, Contact::Str) {
                line.contact = Contact::Object;
            }
        }
        self
    }
}

fn json_case(knobs: JsonKnobs) -> impl Strategy<Value = JsonCase> {
    (
        any::<bool>(),
        proptest::collection::vec(json_line(), 0..40),
        prop_oneof![Just(1usize), 1usize..60],
    )
        .prop_map(move |(first_phone_dotted, lines, repeat)| {
            JsonCase {
                first_phone_dotted,
                lines,
                repeat,
            }
            .tame(knobs)
        })
}

impl JsonLine {
    fn value(&self, n: usize) -> Value {
        use serde_json::json;
        let p = |k: &str| Value::String(format!("PLANT{n}{k}"));
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(n));
        m.insert("note".into(), Value::String(self.note.clone()));
        match self.phone {
            Phone::Dotted => {
                m.insert("customer.phone".into(), p("p"));
            }
            Phone::Nested => {
                m.insert("customer".into(), json!({ "phone": p("p") }));
            }
            Phone::Null => {
                m.insert("customer.phone".into(), Value::Null);
            }
            Phone::Absent => {}
        }
        match self.contact {
            Contact::Object => {
                m.insert("contact".into(), json!({ "email": p("e") }));
            }
            Contact::ObjectWithNull => {
                m.insert("contact".into(), json!({ "email": null }));
            }
            Contact::Str => {
                m.insert("contact".into(), p("e"));
            }
            Contact::Null => {
                m.insert("contact".into(), Value::Null);
            }
            Contact::Absent => {}
        }
        let tags = match self.tags {
            Tags::Scalar => Some(p("t")),
            // A number is written as its digits, never in clear either.
            Tags::Number => Some(json!(n)),
            Tags::Array(k) => Some(Value::Array((0..k).map(|i| p(&format!("t{i}"))).collect())),
            Tags::ArrayOfArrays(k) => Some(Value::Array(
                (0..k)
                    .map(|i| json!([p(&format!("t{i}a")), [p(&format!("t{i}b"))]]))
                    .collect(),
            )),
            Tags::ArrayOfObjects(k) => Some(Value::Array(
                (0..k)
                    .map(|i| json!({ "v": p(&format!("t{i}")), "w": [p(&format!("t{i}w"))] }))
                    .collect(),
            )),
            Tags::Mixed => Some(json!([p("t0"), null, [p("t1")], { "v": p("t2") }, 7])),
            Tags::Null => Some(Value::Null),
            Tags::Absent => None,
        };
        if let Some(t) = tags {
            m.insert("tags".into(), t);
        }
        match self.secret {
            Secret::Str => {
                m.insert("secret".into(), p("s"));
            }
            Secret::Object => {
                m.insert("secret".into(), json!({ "inner": p("s") }));
            }
            Secret::Array => {
                m.insert("secret".into(), json!([p("s"), { "x": p("s2") }]));
            }
            Secret::Absent => {}
        }
        if self.code {
            m.insert("code".into(), p("c"));
        }
        Value::Object(m)
    }
}

impl JsonCase {
    /// The first line names every policy path (what fixes the columns).
    fn first_line(&self) -> JsonLine {
        JsonLine {
            phone: if self.first_phone_dotted {
                Phone::Dotted
            } else {
                Phone::Nested
            },
            contact: Contact::Object,
            tags: Tags::Array(2),
            secret: Secret::Str,
            code: true,
            note: "first".into(),
            crlf: false,
            blank_before: false,
            bom: false,
        }
    }

    fn render(&self) -> Vec<u8> {
        let mut s = String::new();
        let first = self.first_line();
        let mut n = 0usize;
        let all = std::iter::once(&first)
            .chain(std::iter::repeat_n(self.lines.iter(), self.repeat).flatten());
        for line in all {
            n += 1;
            if line.blank_before {
                s.push('\n');
            }
            if line.bom {
                s.push('\u{feff}');
            }
            s.push_str(&line.value(n).to_string());
            s.push_str(if line.crlf { "\r\n" } else { "\n" });
        }
        s.into_bytes()
    }
}

/// Every scalar under `v`, strings as their text, numbers as JSON text.
fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
        Value::Object(m) => m.values().for_each(|x| scalars(x, out)),
        other => out.push(other.to_string()),
    }
}

fn check_jsonl(name: &str, case: &JsonCase) -> Result<(), TestCaseError> {
    let input = case.render();
    check_jsonl_input(case, &input).inspect_err(|_| dump(name, &input))
}

fn check_jsonl_input(case: &JsonCase, input: &[u8]) -> Result<(), TestCaseError> {
    let policy = Policy::from_toml(JSONL_POLICY).unwrap();
    let Some((out, summary)) = run_all(&policy, Format::Jsonl, input)? else {
        if std::env::var_os("LEAK_STATS").is_some() {
            eprintln!("jsonl case: all runs failed ({} bytes)", input.len());
        }
        return Ok(());
    };
    if std::env::var_os("LEAK_STATS").is_some() {
        eprintln!("jsonl case: accepted ({} bytes)", input.len());
    }
    let lines: Vec<Value> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(serde_json::from_slice)
        .collect::<Result<_, _>>()
        .map_err(|e| TestCaseError::fail(format!("the output is not JSON Lines: {e}")))?;
    let expected = 1 + case.lines.len() * case.repeat;
    prop_assert_eq!(summary.rows_in, expected as u64, "records read");
    prop_assert_eq!(
        lines.len() as u64,
        expected as u64 - summary.rows_dropped,
        "records written"
    );
    for line in &lines {
        // Pseudonymized paths hold pseudonyms (or null) only.
        let mut seen = Vec::new();
        for v in [
            line.get("customer.phone"),
            line.get("customer").and_then(|c| c.get("phone")),
            line.get("tags"),
        ]
        .into_iter()
        .flatten()
        {
            scalars(v, &mut seen);
        }
        for s in &seen {
            prop_assert!(
                is_hex_pseudonym(s.as_bytes()),
                "record {}: a pseudonymized path holds {s:?}",
                line.get("id").unwrap_or(&Value::Null)
            );
        }
        prop_assert!(line.get("secret").is_none(), "dropped path written");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 1024,
        max_shrink_time: 20_000,
        ..ProptestConfig::default()
    })]

    /// Every hostile CSV feature at once.
    #[test]
    fn csv_never_writes_a_planted_value(case in csv_case(ALL)) {
        check_csv("csv_never_writes_a_planted_value", &case)?;
    }

    /// Quoting alone: quoted delimiters, newlines and `""`, quotes inside
    /// unquoted fields, ragged rows; LF and CRLF only.
    #[test]
    fn csv_quoting_never_writes_a_planted_value(case in csv_case(CsvKnobs { bare: true, ..NONE })) {
        check_csv("csv_quoting_never_writes_a_planted_value", &case)?;
    }

    /// CR-only line ends (mixed with LF and CRLF), quoting tame.
    #[test]
    fn csv_cr_line_ends_never_lose_or_leak_rows(case in csv_case(CsvKnobs { cr: true, ..NONE })) {
        check_csv("csv_cr_line_ends_never_lose_or_leak_rows", &case)?;
    }

    /// U+FEFF at row starts and value starts, quoting tame.
    #[test]
    fn csv_bom_in_rows_never_changes_the_output(case in csv_case(CsvKnobs { bom: true, ..NONE })) {
        check_csv("csv_bom_in_rows_never_changes_the_output", &case)?;
    }

    /// A duplicate column name, quoting tame.
    #[test]
    fn csv_duplicate_names_fail(case in csv_case(CsvKnobs { duplicate: true, ..NONE })) {
        check_csv("csv_duplicate_names_fail", &case)?;
    }

    /// A quote opened and never closed, quoting otherwise tame.
    #[test]
    fn csv_unterminated_quote_never_swallows_rows(case in csv_case(CsvKnobs { unterminated: true, ..NONE })) {
        check_csv("csv_unterminated_quote_never_swallows_rows", &case)?;
    }

    /// Every JSON shape at once.
    #[test]
    fn jsonl_never_writes_a_planted_value(case in json_case(JsonKnobs {
        dotted: true,
        nested_arrays: true,
        type_change: true,
    })) {
        check_jsonl("jsonl_never_writes_a_planted_value", &case)?;
    }

    /// Nested objects and arrays of scalars only: the shapes the contract
    /// has always covered.
    #[test]
    fn jsonl_plain_shapes_never_write_a_planted_value(case in json_case(JsonKnobs {
        dotted: false,
        nested_arrays: false,
        type_change: false,
    })) {
        check_jsonl("jsonl_plain_shapes_never_write_a_planted_value", &case)?;
    }

    /// Arrays of arrays and of objects at a policy path.
    #[test]
    fn jsonl_nested_arrays_never_write_a_planted_value(case in json_case(JsonKnobs {
        dotted: false,
        nested_arrays: true,
        type_change: false,
    })) {
        check_jsonl("jsonl_nested_arrays_never_write_a_planted_value", &case)?;
    }

    /// A literal top-level key with a dot, named by a quoted policy key.
    #[test]
    fn jsonl_dotted_keys_never_write_a_planted_value(case in json_case(JsonKnobs {
        dotted: true,
        nested_arrays: false,
        type_change: false,
    })) {
        check_jsonl("jsonl_dotted_keys_never_write_a_planted_value", &case)?;
    }

    /// A path whose parent is an object on some lines, a string on others.
    #[test]
    fn jsonl_type_changes_never_write_a_planted_value(case in json_case(JsonKnobs {
        dotted: false,
        nested_arrays: false,
        type_change: true,
    })) {
        check_jsonl("jsonl_type_changes_never_write_a_planted_value", &case)?;
    }
}
