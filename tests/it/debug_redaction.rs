//! Types that hold field values or secrets print none of them with `{:?}`:
//! each is built through the public API around a planted identifier, and
//! its debug output must show it in no form (text, byte list or hex).
#![cfg(feature = "std")]

use deid::MasterKey;
use deid::audit::hashes::{
    AuditOptions, ColumnTargets, Construction, Space, TargetSet, audit_values,
};
use deid::audit::link::link;
use deid::audit::risk::{ClassCounter, RiskOptions};
use deid::encoding::Encoding;
use deid::io::record::{CsvParser, CsvRecord};
use deid::io::table::{Format, Row, TableOptions, TableReader};
use deid::scan::{ColumnScan, Kind};
use deid::synth::{Customer, Generator};
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use deid::transform::pseudonym::Pseudonymizer;
use sha2::{Digest, Sha256};

const PLANTED: &str = "PLANTED-010-1234-5678";

/// Fails if `value` shows in `debug` as text, as a `[u8]` debug list or as hex.
fn assert_hidden(what: &str, debug: &str, value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    let list = format!("{value:?}");
    let list = list.trim_start_matches('[').trim_end_matches(']');
    let hex = data_encoding::HEXLOWER.encode(value);
    for form in [&*text, list, &hex, &hex.to_uppercase()] {
        assert!(
            !debug.contains(form),
            "{what}: debug output shows a value ({form}): {debug}"
        );
    }
}

fn check<T: std::fmt::Debug>(what: &str, x: &T) {
    let debug = format!("{x:?}");
    let pretty = format!("{x:#?}");
    assert_hidden(what, &debug, PLANTED.as_bytes());
    assert_hidden(what, &pretty, PLANTED.as_bytes());
}

fn key() -> MasterKey {
    MasterKey::from_bytes(7, [0x42; 32])
}

fn table(text: &str) -> TableReader {
    let bytes = text.as_bytes().to_vec();
    TableReader::from_reader(
        Box::new(std::io::Cursor::new(bytes)),
        "planted.csv",
        Format::Csv,
        &TableOptions::new(),
    )
    .unwrap()
}

#[test]
fn debug_output_never_shows_a_planted_value() {
    // Ciphers and pseudonymizers, keyed with the value as context.
    let r = RandomizedCipher::new(&key(), PLANTED).unwrap();
    let mut out = [0u8; 256];
    r.encrypt_with_nonce(&[1; 12], PLANTED.as_bytes(), &mut out)
        .unwrap();
    check("RandomizedCipher", &r);
    let d = DeterministicCipher::new(&key(), PLANTED).unwrap();
    check("DeterministicCipher", &d);
    check(
        "Pseudonymizer",
        &Pseudonymizer::new(&key(), PLANTED, 16, Encoding::Hex).unwrap(),
    );
    check(
        "Construction::Hmac",
        &Construction::Hmac {
            key: zeroize::Zeroizing::new(PLANTED.as_bytes().to_vec()),
        },
    );
    check(
        "Construction::Salted",
        &Construction::Salted {
            salt: PLANTED.as_bytes().to_vec(),
            prefix: true,
        },
    );

    // Equivalence classes intern quasi-identifier and sensitive values.
    let mut classes = ClassCounter::new(2, true);
    classes.add(&[PLANTED.as_bytes(), b"F"], Some(PLANTED.as_bytes()));
    classes.add(&[b"04524", PLANTED.as_bytes()], Some(b"flu"));
    check("ClassCounter", &classes);
    let report = classes.report(&["zip".into(), "sex".into()], &RiskOptions::default());
    assert_eq!(report.classes, 2);
    check("RiskReport", &report);

    // Digest targets: the first values are held raw until the encoding is known.
    let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(PLANTED.as_bytes()));
    let mut targets = ColumnTargets::new("phone_sha256");
    targets.push(PLANTED.as_bytes());
    targets.push(digest.as_bytes());
    check("ColumnTargets (pending)", &targets);
    check("ColumnTargets (settled)", &targets.finish());

    // A reversed digest: the report's hits hold the identifier, and the
    // options hold the dictionary it came from.
    let opts = AuditOptions {
        dictionary: Some(Space::dictionary(
            "customers.csv:phone",
            vec![PLANTED.as_bytes().to_vec()],
        )),
        spaces: vec![Space::parse("010-1234-?d", (1950, 2005)).unwrap()],
        threads: 1,
        ..AuditOptions::default()
    };
    check("AuditOptions", &opts);
    let hashes = audit_values("phone_sha256", [digest.as_bytes()], &opts);
    assert_eq!(hashes.reversed_rows, 1, "the planted digest is reversed");
    assert!(!hashes.hits.is_empty());
    check("ColumnReport", &hashes);
    check("Hit", &hashes.hits[0]);
    check(
        "Space (dictionary)",
        &Space::dictionary("d", vec![PLANTED.as_bytes().to_vec()]),
    );
    let key = u128::from_be_bytes(Sha256::digest(PLANTED.as_bytes())[..16].try_into().unwrap());
    let set = TargetSet::new(vec![key]);
    let debug = format!("{set:?}");
    assert!(!debug.contains(&key.to_string()), "TargetSet: {debug}");
    assert!(!debug.contains(&format!("{key:x}")), "TargetSet: {debug}");

    // A row as the readers hold it.
    let mut t = table(&format!("phone\n{PLANTED}\n"));
    let mut row = Row::new();
    assert!(t.read_row(&mut row).unwrap());
    check("Row", &row);
    let mut rec = CsvRecord::new();
    assert!(
        CsvParser::new(b',')
            .read(PLANTED.as_bytes(), &mut 0, &mut rec)
            .unwrap()
    );
    check("CsvRecord", &rec);

    // Linkage on a planted quasi-identifier.
    let released = format!("zip,dx\n{PLANTED},flu\n");
    let aux = format!("name,zip\nKim,{PLANTED}\n");
    let linked = link(
        &mut table(&released),
        &mut table(&aux),
        &["zip".into()],
        None,
    )
    .unwrap();
    assert_eq!(linked.unique_matches, 1);
    check("LinkReport", &linked);

    // A scan's masked example, here the value itself.
    let scan = ColumnScan {
        column: "phone".into(),
        kind: Kind::KrMobile,
        share: 1.0,
        values: 1,
        empty: 0,
        distinct: 1,
        digest_bytes: None,
        masked_example: PLANTED.into(),
        identifiers_in_text: Default::default(),
    };
    check("ColumnScan", &scan);
    let mut scanned = table(&format!("phone\n{PLANTED}\n"));
    for s in deid::scan::scan(&mut scanned, 10).unwrap() {
        check("ColumnScan (scanned)", &s);
    }

    // Synthetic records.
    let c = Customer {
        customer_id: PLANTED.into(),
        name: PLANTED.into(),
        phone: PLANTED.into(),
        email: PLANTED.into(),
        rrn: PLANTED.into(),
        birth_date: PLANTED.into(),
        sex: 'F',
        postal_code: PLANTED.into(),
        city: "서울",
        signup_date: PLANTED.into(),
        balance: 0,
    };
    check("Customer", &c);
    let generated = Generator::new(1).customer(0);
    let debug = format!("{generated:?}");
    for v in [
        &generated.phone,
        &generated.email,
        &generated.rrn,
        &generated.name,
    ] {
        assert_hidden("generated Customer", &debug, v.as_bytes());
    }
}
