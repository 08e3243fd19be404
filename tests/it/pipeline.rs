//! The ordered parallel pipeline through the library API: however the input
//! is cut into chunks and however many workers run, the output is the same
//! bytes, including records whose quoted fields hold delimiters and newlines.
#![cfg(feature = "std")]

use crate::common;

use deid::io::pipeline::{PipelineOptions, run};
use deid::key::Keyset;
use deid::policy::Policy;

const POLICY: &str = r#"
version = 1
[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
[fields.email]
normalize = ["email"]
transform = "encrypt"
mode = "deterministic"
[fields.name]
transform = "drop"
"#;

fn input() -> Vec<u8> {
    let mut s = String::from("id,name,phone,email,note\r\n");
    for i in 0..3000u32 {
        let note = match i % 5 {
            0 => "plain".to_string(),
            1 => "\"a, b\"".to_string(),
            2 => format!("\"line one\nline {i}\""),
            3 => "\"say \"\"hi\"\"\"".to_string(),
            _ => String::new(),
        };
        s.push_str(&format!(
            "{i},\"Name {i}\",010-{:04}-{:04},User{i}@Example.com,{note}\r\n",
            i % 10_000,
            (i * 7) % 10_000
        ));
    }
    s.into_bytes()
}

/// Hands out at most 997 bytes a read, so chunk ends fall anywhere,
/// inside quoted fields included, and must be cut back to a record end.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(997);
        self.0.read(&mut buf[..n])
    }
}

fn apply(opts: &PipelineOptions) -> (Vec<u8>, u64) {
    let policy = Policy::from_toml(POLICY).unwrap();
    let keys = std::fs::read_to_string(common::fixture("keys.json")).unwrap();
    let keys = Keyset::from_json(&keys).unwrap();
    let mut out = Vec::new();
    let summary = run(
        &policy,
        &keys,
        Box::new(Trickle(std::io::Cursor::new(input()))),
        "input.csv",
        &mut out,
        opts,
        &mut |_| {},
    )
    .unwrap();
    (out, summary.rows_in)
}

#[test]
fn chunking_and_threads_do_not_change_the_output() {
    let (one, rows) = apply(&PipelineOptions::new().threads(1).chunk_bytes(1 << 24));
    assert_eq!(rows, 3000);
    let text = String::from_utf8(one.clone()).unwrap();
    assert!(text.starts_with("id,phone,email,note\n"));
    assert!(!text.contains("Example.com") && !text.contains("010-"));
    assert!(text.contains("\"line one\nline 2\""));
    // 4 KiB chunks end inside quoted fields again and again.
    for threads in [1, 2, 3] {
        let (got, rows) = apply(&PipelineOptions::new().threads(threads).chunk_bytes(4096));
        assert_eq!(rows, 3000);
        assert!(got == one, "{threads} threads, 4 KiB chunks");
    }
}
