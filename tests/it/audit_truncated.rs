//! `deid audit hashes` on truncated digests (a hex prefix of a longer
//! digest, as real exports cut them): planted prefixes of every algorithm are
//! reversed exactly, by every search kernel (the one-block and multi-buffer
//! kernels of the mask loop, a salted block, and the generic hasher a hash
//! of a hash takes);
//! the 32-hex-character ambiguity between MD5 and half a SHA-256 is settled
//! by `--truncated`; keyed pseudonyms cut to the same length are not
//! reversed; prefixes too short to confirm a match are not searched.
#![cfg(feature = "cli")]

use crate::common::{Workdir, audit_hashes, run};
use deid::audit::hashes::{Algorithm, Construction};

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(algo: Algorithm, c: &Construction, id: &str) -> Vec<u8> {
    let mut out = [0u8; 64];
    let n = c.digest(algo, id.as_bytes(), &mut out);
    out[..n].to_vec()
}

/// The digests as column `h` of a CSV file.
fn write_csv(dir: &Workdir, name: &str, values: &[String]) -> String {
    dir.id_column_csv(name, "h", values)
}

/// Phones in the searched space (planted) and digests of values outside it
/// (decoys: they must stay unreversed).
const PLANTED: [&str; 5] = [
    "010-1234-0042",
    "010-1234-7777",
    "010-1234-0000",
    "010-1234-9999",
    "010-1234-5150",
];
const DECOYS: [&str; 3] = ["010-9999-0042", "020-1234-7777", "not a phone"];

fn column(algo: Algorithm, c: &Construction, hex_chars: usize) -> Vec<String> {
    PLANTED
        .iter()
        .chain(&DECOYS)
        .map(|p| hex(&digest(algo, c, p))[..hex_chars].to_string())
        .collect()
}

#[test]
fn planted_prefixes_of_every_algorithm_are_reversed_exactly() {
    let dir = Workdir::new();
    for algo in Algorithm::ALL {
        // 16 hex characters (8 bytes, the shortest searched) and one odd
        // byte count in between, both shorter than any digest.
        for hex_chars in [16, 26] {
            let f = write_csv(
                &dir,
                "h.csv",
                &column(algo, &Construction::Plain, hex_chars),
            );
            // The mask's last digits take the multi-buffer tail loop.
            let (o, doc) = audit_hashes(&[
                &f,
                "-c",
                "h",
                "--space",
                "010-1234-?d?d?d?d",
                "--algo",
                algo.name(),
            ]);
            let what = format!("{} cut to {hex_chars} hex", algo.name());
            assert_eq!(
                o.status.code(),
                Some(3),
                "{what}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let col = &doc["columns"][0];
            assert_eq!(col["reversed_rows"], PLANTED.len(), "{what}");
            assert_eq!(col["distinct"], PLANTED.len() + DECOYS.len(), "{what}");
            assert_eq!(col["digest_bytes"], hex_chars / 2, "{what}");
            assert_eq!(col["truncated_to_bytes"], hex_chars / 2, "{what}");
            assert_eq!(col["matches"][0]["algorithm"], algo.name(), "{what}");
            let prefixes = format!("{}-byte prefixes of {} digests", hex_chars / 2, algo.name());
            assert!(
                col["verdict"].as_str().unwrap().contains(&prefixes),
                "{what}: the verdict names the truncation"
            );
            let chance = col["expected_chance_matches"].as_f64().unwrap();
            assert!(chance < 1e-9, "{what}: {chance}");
        }
    }
}

#[test]
fn without_algo_a_prefix_is_tried_under_every_longer_algorithm() {
    let dir = Workdir::new();
    let f = write_csv(
        &dir,
        "h.csv",
        &column(Algorithm::Sha1, &Construction::Plain, 20),
    );
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(3));
    let col = &doc["columns"][0];
    assert_eq!(col["reversed_rows"], PLANTED.len());
    assert_eq!(col["matches"][0]["algorithm"], "sha1");
    // Ten bytes: every algorithm is longer, MD5 included.
    assert_eq!(
        col["algorithms"].as_array().unwrap().len(),
        Algorithm::ALL.len()
    );
}

#[test]
fn salted_and_nested_prefixes_are_reversed() {
    let dir = Workdir::new();
    let nested = Construction::Nested {
        inner: Algorithm::Md5,
        upper: false,
    };
    let f = write_csv(&dir, "n.csv", &column(Algorithm::Sha256, &nested, 16));
    let (o, doc) = audit_hashes(&[
        &f,
        "-c",
        "h",
        "--space",
        "010-1234-?d?d?d?d",
        "--algo",
        "sha256",
        "--hash-of",
        "md5",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(doc["columns"][0]["reversed_rows"], PLANTED.len());
    let salt = Construction::Salted {
        salt: b"pepper".to_vec(),
        prefix: true,
    };
    let f = write_csv(&dir, "h.csv", &column(Algorithm::Sha256, &salt, 16));
    let (o, doc) = audit_hashes(&[
        &f,
        "-c",
        "h",
        "--space",
        "010-1234-?d?d?d?d",
        "--algo",
        "sha256",
        "--salt",
        "pepper",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(doc["columns"][0]["reversed_rows"], PLANTED.len());
}

#[test]
fn thirty_two_hex_characters_are_md5_unless_truncated_is_given() {
    let dir = Workdir::new();
    let f = write_csv(
        &dir,
        "h.csv",
        &column(Algorithm::Sha256, &Construction::Plain, 32),
    );
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(0));
    let col = &doc["columns"][0];
    assert_eq!(col["algorithms"], serde_json::json!(["md5"]));
    assert_eq!(col["reversed_rows"], 0);
    assert!(col["truncated_to_bytes"].is_null());
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d", "--truncated"]);
    assert_eq!(o.status.code(), Some(3));
    let col = &doc["columns"][0];
    assert_eq!(col["reversed_rows"], PLANTED.len());
    assert_eq!(col["matches"][0]["algorithm"], "sha256");
    assert_eq!(col["truncated_to_bytes"], 16);
    assert_eq!(doc["parameters"]["truncated"], true);
    // Real MD5 digests still match with --truncated.
    let f = write_csv(
        &dir,
        "m.csv",
        &column(Algorithm::Md5, &Construction::Plain, 32),
    );
    let (_, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d", "--truncated"]);
    assert_eq!(doc["columns"][0]["reversed_rows"], PLANTED.len());
    assert_eq!(doc["columns"][0]["matches"][0]["algorithm"], "md5");
}

#[test]
fn keyed_pseudonyms_of_prefix_length_are_not_reversed() {
    let dir = Workdir::new();
    let mut text = "id,phone\n".to_string();
    for i in 0..2000 {
        text.push_str(&format!("{i},010-1234-{:04}\n", i * 5));
    }
    let input = dir.write("in.csv", text);
    let keys = dir.keygen("keys.json");
    // 8 bytes: 16 hex characters, the length of a cut SHA-256.
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\nbytes = 8\n",
    );
    let out = dir.file("out.csv");
    let o = run(&[
        "apply", "-q", "-p", &policy, "-k", &keys, "-o", &out, &input,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (o, doc) = audit_hashes(&[&out, "-c", "phone", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(0), "nothing reversed exits 0");
    let col = &doc["columns"][0];
    assert_eq!(col["truncated_to_bytes"], 8, "{col}");
    assert_eq!(col["reversed_rows"], 0);
    assert!(col["candidates"].as_u64().unwrap() >= 10_000 * 7);
    assert_eq!(col["verdict"], deid::audit::hashes::NO_MATCH_VERDICT);
}

#[test]
fn prefixes_shorter_than_sixteen_hex_characters_are_not_searched() {
    let dir = Workdir::new();
    let f = write_csv(
        &dir,
        "h.csv",
        &column(Algorithm::Sha256, &Construction::Plain, 14),
    );
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(0));
    let col = &doc["columns"][0];
    assert!(col["digest_bytes"].is_null(), "{col}");
    assert_eq!(col["reversed_rows"], 0);
    assert!(col["verdict"].as_str().unwrap().starts_with("not tested"));
}
