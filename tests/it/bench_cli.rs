//! `deid bench` as a user runs it: the built binary, a short filtered run.
#![cfg(feature = "cli")]

use crate::common::{Ran, Workdir, deid, run};

#[test]
fn json_report_and_compare() {
    let dir = Workdir::new();
    let out = run(&[
        "bench",
        "--quick",
        "--json",
        "--threads",
        "2",
        "--filter",
        "mask",
    ]);
    out.assert_success();
    let v = out.stdout_json();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one and two threads");
    assert!(
        results
            .iter()
            .all(|r| r["ops_per_s"].as_f64().unwrap() > 0.0)
    );
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    let a = dir.write("a.json", &out.stdout);
    let cmp = run(&["bench", "--compare", &a, &a]);
    assert!(cmp.status.success());
    let text = String::from_utf8(cmp.stdout).unwrap();
    assert!(text.contains("mask") && text.contains("1.00x"), "{text}");
}

#[test]
fn emulation_note_and_bad_filter() {
    let out = deid()
        .args(["bench", "--filter", "generalize/prefix", "--threads", "1"])
        .env("DEID_EMULATED", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("NOT performance figures"), "{text}");
    let bad = run(&["bench", "--filter", "no-such-case"]);
    assert_eq!(bad.status.code(), Some(1));
    let bad = run(&["bench", "--compare", "/nonexistent.json", "/x.json"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn sizes_replace_the_default_lengths() {
    let out = run(&[
        "bench",
        "--quick",
        "--json",
        "--threads",
        "1",
        "--filter",
        "encrypt/deterministic",
        "--sizes",
        "22,40",
    ]);
    out.assert_success();
    let v = out.stdout_json();
    let sizes: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [22, 40]);
    for bad in ["0", "5000", "x"] {
        let out = run(&["bench", "--sizes", bad]);
        assert_eq!(out.status.code(), Some(2), "--sizes {bad}");
    }
}
