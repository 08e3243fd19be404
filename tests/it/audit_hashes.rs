//! `deid audit hashes` on data with known answers: every algorithm, format,
//! encoding and construction recovered; keyed pseudonyms not; partial and
//! malformed columns counted exactly. Spaces are small masks so the tests
//! stay fast; the full spaces run in benches/.
#![cfg(feature = "cli")]

use crate::common::{Ran, Workdir, assert_no_plant, audit_hashes, run};
use deid::audit::hashes::{Algorithm, Construction};

fn digest(algo: Algorithm, c: &Construction, id: &str) -> Vec<u8> {
    let mut out = [0u8; 64];
    let n = c.digest(algo, id.as_bytes(), &mut out);
    out[..n].to_vec()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

const PHONES: [&str; 4] = [
    "010-1234-0042",
    "010-1234-7777",
    "010-1234-0000",
    "010-1234-9999",
];

#[test]
fn every_algorithm_is_recovered() {
    let dir = Workdir::new();
    for algo in Algorithm::ALL {
        let values: Vec<String> = PHONES
            .iter()
            .map(|p| hex(&digest(algo, &Construction::Plain, p)))
            .collect();
        let f = dir.id_column_csv("h.csv", "h", &values);
        let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}: {}",
            algo.name(),
            o.stderr_text()
        );
        let col = &doc["columns"][0];
        assert_eq!(col["reversed_rows"], 4, "{}", algo.name());
        assert_eq!(col["reversed_share"], 1.0);
        assert_eq!(col["matches"][0]["algorithm"], algo.name());
        assert_eq!(col["digest_bytes"], algo.digest_len());
    }
}

#[test]
fn every_kr_mobile_format_and_encoding_is_recovered() {
    let dir = Workdir::new();
    // The four kr-mobile formats, restricted to 10^4 numbers by a mask.
    for (written, mask) in [
        ("01012340042", "0101234?d?d?d?d"),
        ("010-1234-0042", "010-1234-?d?d?d?d"),
        ("+821012340042", "+82101234?d?d?d?d"),
        ("821012340042", "82101234?d?d?d?d"),
    ] {
        let d = digest(Algorithm::Sha256, &Construction::Plain, written);
        for (enc, text) in [
            ("hex-lower", hex(&d)),
            ("hex-upper", hex(&d).to_uppercase()),
            ("base64", data_encoding::BASE64.encode(&d)),
            ("base64-url", data_encoding::BASE64URL_NOPAD.encode(&d)),
        ] {
            let f = dir.id_column_csv("h.csv", "h", &[text.clone(), text.clone()]);
            let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", mask, "--algo", "sha256"]);
            assert_eq!(o.status.code(), Some(3), "{written} {enc}");
            // base64url text without '-' or '_' is also valid base64: either name is right.
            let expected = if enc == "base64-url" && !text.contains(['-', '_']) {
                "base64"
            } else {
                enc
            };
            assert_eq!(doc["columns"][0]["encoding"], expected);
            assert_eq!(doc["columns"][0]["reversed_rows"], 2, "{written} {enc}");
            assert_eq!(doc["columns"][0]["distinct"], 1);
        }
    }
}

#[test]
fn known_salt_and_leaked_key_are_recovered() {
    let dir = Workdir::new();
    for (prefix, at) in [(true, "prefix"), (false, "suffix")] {
        let c = Construction::Salted {
            salt: b"pepper".to_vec(),
            prefix,
        };
        let values: Vec<String> = PHONES
            .iter()
            .map(|p| hex(&digest(Algorithm::Sha256, &c, p)))
            .collect();
        let f = dir.id_column_csv("s.csv", "h", &values);
        let (o, doc) = audit_hashes(&[
            &f,
            "-c",
            "h",
            "--space",
            "010-1234-?d?d?d?d",
            "--salt",
            "pepper",
            "--salt-at",
            at,
        ]);
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(doc["columns"][0]["reversed_rows"], 4);
        assert_eq!(
            doc["columns"][0]["matches"][0]["construction"],
            format!("salt-{at}")
        );
        // Without the salt nothing matches.
        let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(doc["columns"][0]["reversed_rows"], 0);
    }
    let key = b"leaked-key-0123456789";
    let c = Construction::Hmac {
        key: zeroize::Zeroizing::new(key.to_vec()),
    };
    let values: Vec<String> = PHONES
        .iter()
        .map(|p| hex(&digest(Algorithm::Sha256, &c, p)))
        .collect();
    let f = dir.id_column_csv("k.csv", "h", &values);
    let keyfile = dir.write("key.bin", key);
    let (o, doc) = audit_hashes(&[
        &f,
        "-c",
        "h",
        "--space",
        "010-1234-?d?d?d?d",
        "--hmac-key-file",
        &keyfile,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(doc["columns"][0]["reversed_rows"], 4);
    assert_eq!(doc["columns"][0]["matches"][0]["construction"], "hmac");
}

#[test]
fn keyed_pseudonyms_from_deid_apply_are_not_reversed_and_get_the_honest_verdict() {
    let dir = Workdir::new();
    let input = dir.id_column_csv(
        "in.csv",
        "phone",
        &PHONES.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let keys = dir.keygen("keys.json");
    // 32 bytes: the pseudonym has the length of a SHA-256 digest.
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.phone]\ntransform = \"pseudonymize\"\nbytes = 32\n",
    );
    let out = dir.file("out.csv");
    let o = run(&[
        "apply", "-q", "-p", &policy, "-k", &keys, "-o", &out, &input,
    ]);
    assert!(o.status.success());
    let (o, doc) = audit_hashes(&[&out, "-c", "phone", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(0), "nothing reversed exits 0");
    let col = &doc["columns"][0];
    assert_eq!(col["reversed_rows"], 0);
    assert_eq!(col["verdict"], deid::audit::hashes::NO_MATCH_VERDICT);
    let v = col["verdict"].as_str().unwrap();
    assert!(!v.contains("safe") && !v.contains("anonymous"));
}

#[test]
fn mixed_and_malformed_columns_are_counted_exactly() {
    let dir = Workdir::new();
    let mut values: Vec<String> = PHONES
        .iter()
        .map(|p| hex(&digest(Algorithm::Sha256, &Construction::Plain, p)))
        .collect();
    // Six random digests (outside the space), two malformed, one empty.
    for i in 0..6u8 {
        values.push(hex(&digest(
            Algorithm::Sha256,
            &Construction::Plain,
            &format!("random-{i}"),
        )));
    }
    values.push("not-a-digest".into());
    values.push("abcd".into());
    values.push(String::new());
    let f = dir.id_column_csv("m.csv", "h", &values);
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "010-1234-?d?d?d?d"]);
    assert_eq!(o.status.code(), Some(3));
    let col = &doc["columns"][0];
    assert_eq!(col["values"], 12);
    assert_eq!(col["empty"], 1);
    assert_eq!(col["malformed"], 2);
    assert_eq!(col["distinct"], 10);
    assert_eq!(col["reversed_rows"], 4);
    assert_eq!(col["reversed_distinct"], 4);
    assert_eq!(col["reversed_distinct_share"], 0.4);
    assert_eq!(col["reversed_share"], 4.0 / 12.0);
}

#[test]
fn naive_export_from_gen_reverses_with_a_dictionary_and_reveal_is_private() {
    let dir = Workdir::new();
    let data = dir.gen_csv("naive.csv", 300, &["--naive-hash"]);
    // The auditor's dictionary: every phone and email written in the file's
    // own format (what a recipient holding another customer list would have).
    let text = std::fs::read_to_string(&data).unwrap();
    let mut phones = String::new();
    let mut emails = String::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        phones.push_str(f[2]);
        phones.push('\n');
        emails.push_str(&f[3].to_uppercase());
        emails.push('\n');
    }
    let pd = dir.write("phones.txt", phones);
    let ed = dir.write("emails.txt", emails);
    let reveal = dir.file("reveal.csv");
    let (o, doc) = audit_hashes(&[
        &data,
        "-c",
        "phone_sha256",
        "--dict",
        &pd,
        "--space",
        "010-0000-00?d?d",
        "--reveal",
        &reveal,
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(doc["columns"][0]["reversed_rows"], 300);
    // Emails: the dictionary is uppercase; --dict-normalize email recovers them.
    let (_, doc) = audit_hashes(&[&data, "-c", "email_sha256", "--dict", &ed]);
    assert_eq!(doc["columns"][0]["reversed_rows"], 0);
    let (_, doc) = audit_hashes(&[
        &data,
        "-c",
        "email_sha256",
        "--dict",
        &ed,
        "--dict-normalize",
        "email",
    ]);
    assert_eq!(doc["columns"][0]["reversed_rows"], 300);
    // Nothing in clear on stdout/stderr; the reveal file is 0600 and complete.
    let first_phone = text.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    assert_no_plant("audit hashes --reveal", &o.stdout, [first_phone]);
    let rev = std::fs::read_to_string(&reveal).unwrap();
    assert!(rev.starts_with("column,digest,identifier,algorithm,format\n"));
    assert!(rev.contains(first_phone));
    assert_eq!(rev.lines().count(), 1 + doc_distinct(&data));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&reveal).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

fn doc_distinct(data: &str) -> usize {
    let text = std::fs::read_to_string(data).unwrap();
    let mut v: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(11).unwrap())
        .collect();
    v.sort();
    v.dedup();
    v.len()
}

#[test]
fn a_column_of_non_digests_is_not_tested_and_bad_input_exits_1() {
    let dir = Workdir::new();
    let f = dir.id_column_csv("n.csv", "h", &["hello world".into(), "x".into()]);
    let (o, doc) = audit_hashes(&[&f, "-c", "h", "--space", "?d"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        doc["columns"][0]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("not tested")
    );
    let (o, _) = audit_hashes(&[&f, "-c", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    // An unknown space is a usage error, like any bad option value.
    let (o, _) = audit_hashes(&[&f, "-c", "h", "--space", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn masks_too_large_to_search_are_refused_with_their_size_not_aborted() {
    let dir = Workdir::new();
    let values = vec![hex(&digest(
        Algorithm::Sha256,
        &Construction::Plain,
        "1234567890123456",
    ))];
    let f = dir.id_column_csv("h.csv", "h", &values);
    for (mask, size) in [
        ("?d".repeat(16), "10^16 candidates"),
        ("?a".repeat(12), "5.40e23 candidates"),
        ("?a".repeat(13), "5.13e25 candidates"),
        ("?a".repeat(40), "more than 3.4e38 candidates"),
    ] {
        let (o, _) = audit_hashes(&[&f, "-c", "h", "--space", &mask]);
        let err = o.stderr_text();
        assert_eq!(o.status.code(), Some(1), "{mask}: {err}");
        assert!(err.contains(size), "{mask}: {err}");
        assert!(err.contains("at 5e7/s"), "{mask}: {err}");
        assert!(err.contains("narrow it"), "{mask}: {err}");
        assert!(!err.contains("panicked"), "{mask}: {err}");
    }
    let (o, _) = audit_hashes(&[&f, "-c", "h", "--space", &"?d".repeat(16)]);
    assert!(o.stderr_text().contains("about 6.3 years"));
}

/// The engine's digest collector fed one record's values at a time
/// (`Digests::add`, what the Python package does with an Arrow table)
/// collects what the engine's pass over the same rows as a table does:
/// values, empty and malformed cells, the encoding, the length and the
/// distinct digests, for each column.
#[test]
fn digests_fed_values_collect_what_the_engine_does() {
    use deid::audit::engine::{self, Digests};
    let rows: Vec<[String; 2]> = (0..1500u32)
        .map(|i| {
            let id = format!("010{:08}", i % 900);
            let of = |a| hex(&digest(a, &Construction::Plain, &id));
            match i % 50 {
                0 => [String::new(), "not a digest".to_owned()],
                _ => [of(Algorithm::Sha256), of(Algorithm::Md5).to_uppercase()],
            }
        })
        .collect();
    let columns = ["a".to_owned(), "b".to_owned()];
    let mut table = crate::common::csv_table("a,b", &rows);
    let mut by_rows = Digests::new(&columns);
    assert_eq!(engine::run(&mut table, &mut [&mut by_rows]).unwrap(), 1500);
    let mut by_values = Digests::new(&columns);
    for r in &rows {
        by_values.add(&[r[0].as_bytes(), r[1].as_bytes()]);
    }
    let (want, got) = (by_rows.finish(), by_values.finish());
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
    assert_eq!(want[0].digest_bytes(), Some(32));
    assert_eq!(want[1].digest_bytes(), Some(16));
    let distinct: std::collections::HashSet<&String> = rows
        .iter()
        .map(|r| &r[0])
        .filter(|a| !a.is_empty())
        .collect();
    let counted = format!("counted: {}", distinct.len());
    assert!(format!("{want:?}").contains(&counted), "{want:?}");
}
