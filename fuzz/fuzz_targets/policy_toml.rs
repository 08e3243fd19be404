//! `Policy::from_toml` on arbitrary text.
//!
//! Oracles: no panic; parsing is deterministic; an accepted policy compiles
//! every field with a known keyset, each compiled field transforms a sample
//! value without panicking, and the policy accepts an input that has exactly
//! its columns (plus dateshift subjects).
#![no_main]

use deid::field::{FieldProcessor, Scratch};
use deid::policy::{Policy, Unlisted};
use deid::transform::TransformSpec;
use deid::transform::encrypt::OsRng;
use deid_fuzz::keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_toml(text) else {
        return;
    };
    assert_eq!(
        Policy::from_toml(text).ok(),
        Some(policy.clone()),
        "parsing is deterministic"
    );
    assert_eq!(policy.version, 1);
    let mut columns: Vec<String> = policy.fields.keys().cloned().collect();
    for spec in policy.fields.values() {
        if let TransformSpec::Dateshift { subject, .. } = &spec.transform {
            if !columns.contains(subject) {
                columns.push(subject.clone());
            }
        }
    }
    if policy.unlisted != Unlisted::Error || columns.len() == policy.fields.len() {
        policy
            .check_columns(&columns)
            .expect("a policy accepts an input with exactly its columns");
    }
    let keys = keys();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    for (name, spec) in &policy.fields {
        let Ok(p) = FieldProcessor::new(name, spec, &keys) else {
            continue;
        };
        for sample in [
            &b""[..],
            b"010-1234-5678",
            b"1990-01-31",
            b"a@b.c",
            b"12345678901",
        ] {
            let _ = p.transform(sample, Some(b"s"), &mut OsRng, &mut scratch, &mut out);
        }
    }
});
