//! JSON Lines bytes through `deid apply` with a fixed policy and a known key.
//!
//! Oracles: the run fails, or
//! - it fails or succeeds alike, with the same bytes, at two chunk sizes and
//!   on one and two threads;
//! - every output line is a JSON object, one per non-blank input line;
//! - every scalar at a pseudonymized path (`customer.phone` as a literal
//!   key, else the path customer -> phone; `tags`) is a pseudonym or empty,
//!   whatever nesting holds it, and the dropped `secret` is gone.
#![no_main]

use deid::io::table::Format;
use deid::policy::Policy;
use deid_fuzz::{apply_everywhere, is_hex_pseudonym};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const POLICY: &str = r#"
version = 1
unlisted = "keep"
[fields."customer.phone"]
transform = "pseudonymize"
[fields.tags]
transform = "pseudonymize"
[fields.secret]
transform = "drop"
"#;

const FIRST: &[u8] = br#"{"id":0,"customer":{"phone":"x"},"tags":["a"],"secret":"s"}
"#;

fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
        Value::Object(m) => m.values().for_each(|x| scalars(x, out)),
        other => out.push(other.to_string()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    // Bit 0: start with a line that names every policy path; bits 1-3:
    // repeat the body 2^k times so that chunks split.
    let mut input = Vec::new();
    if mode & 1 == 1 {
        input.extend_from_slice(FIRST);
    }
    for _ in 0..1usize << ((mode >> 1) & 7) {
        input.extend_from_slice(body);
    }
    let policy = Policy::from_toml(POLICY).unwrap();
    let Some((out, summary)) = apply_everywhere(&policy, Format::Jsonl, &input) else {
        return;
    };
    let lines: Vec<Value> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len() as u64, summary.rows_out, "records written");
    let records = input
        .split(|&b| b == b'\n')
        .map(|l| l.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count();
    assert_eq!(summary.rows_in, records as u64, "records read");
    for line in &lines {
        assert!(line.is_object(), "an output line is not an object");
        let phone = match line.get("customer.phone") {
            Some(v) => Some(v),
            None => line.get("customer").and_then(|c| c.get("phone")),
        };
        let mut seen = Vec::new();
        for v in [phone, line.get("tags")].into_iter().flatten() {
            scalars(v, &mut seen);
        }
        for s in seen {
            // Empty strings stay empty (the policy's default `empty` rule).
            assert!(
                s.is_empty() || is_hex_pseudonym(s.as_bytes()),
                "a pseudonymized path holds a non-pseudonym"
            );
        }
        assert!(line.get("secret").is_none(), "a dropped path is written");
    }
});
