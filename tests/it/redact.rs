//! `transform = "redact"` through the pipeline (src/transform/redact.rs):
//! identifiers in notes become the column pseudonyms (the join), tokens
//! decrypt back, tags, counts per type in the summary, failing closed, and a
//! leak property: a planted identifier never survives in clear.
#![cfg(feature = "std")]

use deid::io::InputError;
use deid::io::pipeline::{PipelineOptions, Summary, run};
use deid::key::Keyset;
use deid::policy::{Direction, Policy};
use proptest::prelude::*;

const KEYS: &str = include_str!("../fixtures/keys.json");

fn keys() -> Keyset {
    Keyset::from_json(KEYS).unwrap()
}

fn apply_dir(policy: &str, input: &str, dir: Direction) -> Result<(String, Summary), InputError> {
    let policy = Policy::from_toml(policy).unwrap();
    let mut out = Vec::new();
    let s = run(
        &policy,
        &keys(),
        Box::new(std::io::Cursor::new(input.as_bytes().to_vec())),
        "notes.csv",
        &mut out,
        &PipelineOptions::new().threads(2).direction(dir),
        &mut |_| {},
    )?;
    Ok((String::from_utf8(out).unwrap(), s))
}

fn apply(policy: &str, input: &str) -> Result<(String, Summary), InputError> {
    apply_dir(policy, input, Direction::Apply)
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

const JOIN_POLICY: &str = r#"
version = 1
[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
context = "customer-phone"
[fields.memo]
transform = "redact"
context = "customer-phone"
"#;

#[test]
fn a_phone_in_a_note_joins_to_the_phone_column() {
    let input = "phone,memo\n\
        010-1234-5678,\"고객 +82 10 1234 5678 연락 요망, 주문 3건\"\n\
        +82 10 9876 5432,배송 전 ０１０－９８７６－５４３２로 전화\n\
        02-123-4567,연락처 (02) 123-4567 / 010.1234.5678\n";
    let (out, summary) = apply(JOIN_POLICY, input).unwrap();
    let r = rows(&out);
    let (p1, p2, p3) = (&r[0][0], &r[1][0], &r[2][0]);
    assert_eq!(p1.len(), 32);
    assert_eq!(r[0][1], format!("고객 {p1} 연락 요망, 주문 3건"));
    assert_eq!(r[1][1], format!("배송 전 {p2}로 전화"));
    assert_eq!(
        r[2][1],
        format!("연락처 {p3} / {p1}"),
        "the opening parenthesis goes with the number"
    );
    let memo = summary.columns.iter().find(|c| c.column == "memo").unwrap();
    assert_eq!(memo.detections.get("phone:KR"), Some(&4));
    assert_eq!(memo.detections.len(), 1);
}

#[test]
fn tags_and_detector_lists() {
    let policy = r#"
version = 1
[fields.memo]
transform = "redact"
replace = "tag"
detect = ["email", "rrn", "card"]
"#;
    let input = "memo\n\"kim@naver.com, 940219-2499846, 4111-1111-1111-1111, 010-1234-5678\"\n";
    let (out, s) = apply(policy, input).unwrap();
    assert_eq!(rows(&out)[0][0], "[EMAIL], [RRN], [CARD], 010-1234-5678");
    let d = &s.columns[0].detections;
    assert_eq!(
        d.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
        [("card", 1), ("email", 1), ("rrn", 1)]
    );
}

#[test]
fn tokens_decrypt_back_and_pseudonyms_stay() {
    let policy = r#"
version = 1
[fields.memo]
transform = "redact"
replace = "token"
[fields.note2]
transform = "redact"
"#;
    let input = "memo,note2\n\
        \"메일 Kim@Naver.com, 전화 010-1234-5678, IP 192.168.0.1\",전화 010-1234-5678\n";
    let (out, _) = apply(policy, input).unwrap();
    let r = rows(&out);
    assert!(!r[0][0].contains("naver") && !r[0][0].contains("1234"));
    // The same identifier, the same token.
    let (again, _) = apply(policy, input).unwrap();
    assert_eq!(out, again);
    let (back, s) = apply_dir(policy, &out, Direction::Decrypt).unwrap();
    let b = rows(&back);
    assert_eq!(
        b[0][0],
        "메일 kim@naver.com, 전화 +821012345678, IP 192.168.0.1"
    );
    // Pseudonyms are one-way: the second note passes through decrypt unchanged.
    assert_eq!(b[0][1], r[0][1]);
    assert_eq!(s.columns.len(), 1);
}

#[test]
fn bad_text_fails_closed() {
    let policy = "version = 1\n[fields.memo]\ntransform = \"redact\"\n";
    let mut input = b"id,memo\n1,ok 010-1234-5678\n2,".to_vec();
    input.extend_from_slice(b"\xff\xfe 010-1234-5678\n");
    let p = Policy::from_toml(policy).unwrap();
    let mut out = Vec::new();
    let err = run(
        &p,
        &keys(),
        Box::new(std::io::Cursor::new(input.clone())),
        "notes.csv",
        &mut out,
        &PipelineOptions::new().threads(1),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("UTF-8 text for redact"), "{err}");
    assert!(err.contains("memo") && !err.contains("1234"), "{err}");
    // drop-record: the record is left out and counted.
    let p = Policy::from_toml(&format!("on_error = \"drop-record\"\n{policy}")).unwrap();
    let mut out = Vec::new();
    let s = run(
        &p,
        &keys(),
        Box::new(std::io::Cursor::new(input)),
        "notes.csv",
        &mut out,
        &PipelineOptions::new().threads(1),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((s.rows_out, s.rows_dropped), (1, 1));
    assert!(!String::from_utf8_lossy(&out).contains("1234"));
    // Over 1 MiB.
    let long = format!("memo\n{} 010-1234-5678\n", "가".repeat(400_000));
    let err = apply(policy, &long).unwrap_err().to_string();
    assert!(err.contains("at most 1 MiB"), "{err}");
}

#[test]
fn redact_takes_no_normalizer_and_checks_options() {
    for (p, msg) in [
        (
            "[fields.m]\ntransform = \"redact\"\nnormalize = [\"trim\"]\n",
            "`normalize` does not apply",
        ),
        (
            "[fields.m]\ntransform = \"redact\"\ndetect = [\"phone\"]\n",
            "detector",
        ),
        (
            "[fields.m]\ntransform = \"redact\"\ndetect = []\n",
            "lists no detector",
        ),
        (
            "[fields.m]\ntransform = \"redact\"\nreplace = \"hash\"\n",
            "unknown variant",
        ),
    ] {
        let err = Policy::from_toml(&format!("version = 1\n{p}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(msg), "{p}: {err}");
    }
}

/// Identifiers in several writings, with the digits or letters that must
/// not survive (`needle`) and the writing planted.
fn planted() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (0u32..100_000_000).prop_map(|n| {
            let d = format!("{n:08}");
            (format!("010-{}-{}", &d[..4], &d[4..]), d)
        }),
        (0u32..100_000_000).prop_map(|n| {
            let d = format!("{n:08}");
            (format!("+82 10 {} {}", &d[..4], &d[4..]), d)
        }),
        (0u32..100_000_000).prop_map(|n| {
            let d = format!("{n:08}");
            let fw: String = format!("010{d}")
                .chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap())
                .collect();
            (fw, d)
        }),
        "[a-z]{3,8}[0-9]{2}".prop_map(|l| (format!("{l}@naver.com"), l)),
        (0u64..1_000_000_000_000_000).prop_map(|n| {
            let body = format!("4{:014}", n % 100_000_000_000_000);
            let check = deid::checks::luhn_check_digit(body.as_bytes()) as char;
            let card = format!("{body}{check}");
            let spaced = format!(
                "{} {} {} {}",
                &card[..4],
                &card[4..8],
                &card[8..12],
                &card[12..]
            );
            (spaced, card[4..].to_string())
        }),
        (0u32..1000).prop_map(|n| {
            let s = deid::synth::Generator::new(u64::from(n))
                .customer(u64::from(n))
                .rrn;
            let tail = s[7..].to_string();
            (s, tail)
        }),
    ]
}

/// Text around a planted identifier: Korean, punctuation, numbers that are
/// not identifiers.
fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("고객".to_string()),
            Just(" ".to_string()),
            Just(", ".to_string()),
            Just("연락처:".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("주문 3건 ".to_string()),
            Just("금액 15,000원".to_string()),
            Just("\n".to_string()),
            Just("\"".to_string()),
            Just("으로".to_string()),
            // Long numbers that are not identifiers, read past the longest run.
            Just("1-2-3-4-5-6-7-8-9-10-11-12-13".to_string()),
            Just("20-24-01-15-09-30".to_string()),
            Just("1 2 3 4 5 6 7 8 9 10 11 12".to_string()),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn planted_identifiers_never_survive(
        items in prop::collection::vec((filler(), planted()), 1..5),
        tail in filler(),
        replace in prop_oneof![Just("pseudonym"), Just("token"), Just("tag")],
    ) {
        let mut memo = String::new();
        let mut needles = Vec::new();
        for (f, (id, needle)) in &items {
            // As written (a spaced card number) and as its digits.
            needles.push(id.clone());
            memo.push_str(f);
            // Identifiers are written apart from each other, as people do.
            memo.push(' ');
            memo.push_str(id);
            memo.push(' ');
            needles.push(needle.clone());
        }
        memo.push_str(&tail);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["memo"]).unwrap();
        w.write_record([&memo]).unwrap();
        let input = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let policy = format!("version = 1\n[fields.memo]\ntransform = \"redact\"\nreplace = \"{replace}\"\n");
        let (out, s) = apply(&policy, &input).unwrap();
        for n in &needles {
            prop_assert!(!out.contains(n.as_str()), "{n} survived in {out}");
        }
        let total: u64 = s.columns[0].detections.values().sum();
        prop_assert_eq!(total, items.len() as u64);
    }
}
