//! The docs/FORMAT.md formats against an independent Python implementation
//! (`tests/golden/golden.py`, standard library + `cryptography`), whose
//! outputs are checked in: if a format drifts, these fail.
#![cfg(feature = "std")]

use crate::common;

use common::repo_file;
use deid::MasterKey;
use deid::encoding::Encoding;
use deid::transform::dateshift::DateShifter;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use deid::transform::fpe::Ff1Digits;
use deid::transform::pseudonym::Pseudonymizer;

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(repo_file("tests/golden/golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn key() -> MasterKey {
    MasterKey::from_bytes(1, [7; 32])
}

#[test]
fn pseudonyms_in_every_encoding() {
    let g = golden();
    let mut out = [0u8; 64];
    for (bytes, enc, name) in [
        (16, Encoding::Hex, "pseudonym_hex"),
        (32, Encoding::Base32, "pseudonym_base32"),
        (8, Encoding::Base64Url, "pseudonym_base64url"),
    ] {
        for backend in deid::backend::Backend::available() {
            let p = Pseudonymizer::with_backend(*backend, &key(), "customer-phone", bytes, enc)
                .unwrap();
            assert_eq!(
                p.pseudonymize(b"+821012345678", &mut out).unwrap(),
                g[name],
                "{name} {backend}"
            );
        }
    }
}

#[test]
fn deterministic_token() {
    let g = golden();
    let c = DeterministicCipher::new(&key(), "email").unwrap();
    let mut out = [0u8; 128];
    assert_eq!(
        c.encrypt(b"ada@example.com", &mut out).unwrap(),
        g["siv_token"]
    );
}

#[test]
fn randomized_token_made_in_python_opens_and_is_reproduced() {
    let g = golden();
    let token = g["gcm_token_nonce_0_11"].as_str().unwrap();
    for backend in deid::backend::Backend::available() {
        let c = RandomizedCipher::with_backend(*backend, &key(), "email").unwrap();
        let mut out = [0u8; 128];
        assert_eq!(
            c.decrypt(token.as_bytes(), &mut out).unwrap(),
            b"ada@example.com"
        );
        let nonce: [u8; 12] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            c.encrypt_with_nonce(&nonce, b"ada@example.com", &mut out)
                .unwrap(),
            token
        );
    }
}

#[test]
fn ff1_and_dateshift() {
    let g = golden();
    let mut out = [0u8; 32];
    assert_eq!(
        Ff1Digits::new(&key(), "phone")
            .unwrap()
            .encrypt(b"010-1234-5678", &mut out)
            .unwrap(),
        g["fpe_phone"]
    );
    let s = DateShifter::new(&key(), "visit_date", 30).unwrap();
    assert_eq!(
        s.offset(b"C000000001"),
        g["dateshift_offset_c1_max30"].as_i64().unwrap()
    );
}

#[test]
fn the_cli_fixture_matches_python_byte_for_byte() {
    // tests/it/cli.rs checks that `deid apply` writes tests/fixtures/expected.csv;
    // here that file must equal what Python computed from scratch.
    let ours = std::fs::read(common::fixture("expected.csv")).unwrap();
    let python = std::fs::read(repo_file("tests/golden/expected_python.csv")).unwrap();
    assert_eq!(ours, python);
}
