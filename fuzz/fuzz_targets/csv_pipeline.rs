//! CSV bytes through `deid apply` with a fixed policy and a known key.
//!
//! Oracles: the run fails, or
//! - it fails or succeeds alike, with the same bytes, at two chunk sizes and
//!   on one and two threads;
//! - what it accepted the `csv` crate reads (no open quote at the end, no
//!   duplicate column), with as many rows;
//! - kept columns are the `csv` crate's fields, record for record;
//! - every `phone` cell is a pseudonym or empty and `name` is gone.
#![no_main]

use deid::io::table::Format;
use deid::policy::Policy;
use deid_fuzz::{apply_everywhere, csv_read, ends_in_open_quote, has_duplicates, is_hex_pseudonym};
use libfuzzer_sys::fuzz_target;

const POLICY: &str = r#"
version = 1
unlisted = "keep"
[fields.phone]
transform = "pseudonymize"
[fields.name]
transform = "drop"
"#;

const HEADER: &[u8] = b"id,phone,name,note\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    // Bit 0: prepend a header that fits the policy (else the input brings
    // its own); bits 1-3: repeat the body 2^k times so that chunks split.
    let mut input = Vec::new();
    if mode & 1 == 1 {
        input.extend_from_slice(HEADER);
    }
    for _ in 0..1usize << ((mode >> 1) & 7) {
        input.extend_from_slice(body);
    }
    let policy = Policy::from_toml(POLICY).unwrap();
    let Some((out, summary)) = apply_everywhere(&policy, Format::Csv, &input) else {
        return;
    };
    assert!(
        !ends_in_open_quote(&input),
        "accepted an input that ends inside a quoted field"
    );
    let (in_header, records) = csv_read(&input).expect("accepted what the csv crate rejects");
    assert!(
        !has_duplicates(&in_header),
        "accepted a duplicate column name"
    );
    let (out_header, out_records) = csv_read(&out).expect("the output is CSV");
    assert_eq!(summary.rows_in, records.len() as u64, "rows read");
    assert_eq!(out_records.len(), records.len(), "rows written");
    for (i, name) in in_header.iter().enumerate() {
        if name == b"name" {
            continue;
        }
        let o = out_header
            .iter()
            .position(|h| h == name)
            .expect("a kept column is in the output");
        for (a, b) in records.iter().zip(&out_records) {
            if name == b"phone" {
                let v = &b[o];
                assert!(
                    v.is_empty() || is_hex_pseudonym(v),
                    "phone holds a non-pseudonym"
                );
            } else {
                assert_eq!(
                    a.get(i),
                    b.get(o),
                    "a kept field differs from the csv crate's"
                );
            }
        }
    }
    assert!(
        !out_header.iter().any(|h| h == b"name"),
        "a dropped column is written"
    );
});
