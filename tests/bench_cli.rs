//! `deid bench` as a user runs it: the built binary, a short filtered run.
#![cfg(feature = "cli")]

use std::process::Command;

fn deid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deid"))
}

#[test]
fn json_report_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = deid()
        .args([
            "bench",
            "--quick",
            "--json",
            "--threads",
            "2",
            "--filter",
            "mask",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one and two threads");
    assert!(
        results
            .iter()
            .all(|r| r["ops_per_s"].as_f64().unwrap() > 0.0)
    );
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    let a = dir.path().join("a.json");
    std::fs::write(&a, &out.stdout).unwrap();
    let cmp = deid()
        .args(["bench", "--compare"])
        .arg(&a)
        .arg(&a)
        .output()
        .unwrap();
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
    let bad = deid()
        .args(["bench", "--filter", "no-such-case"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let bad = deid()
        .args(["bench", "--compare", "/nonexistent.json", "/x.json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
