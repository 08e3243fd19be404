//! `deid scan`'s suggested policy, built from typed specs: it parses with
//! `Policy::from_toml` and means what the hand-written TOML it replaced
//! meant, column for column.
#![cfg(feature = "std")]

use deid::io::table::{Format, TableOptions, TableReader};
use deid::policy::Policy;
use deid::scan::{ColumnScan, scan, suggest_policy};
use deid::transform::{FieldSpec, TransformSpec};

fn scanned(csv: Vec<u8>) -> Vec<ColumnScan> {
    let mut t = TableReader::from_reader(
        Box::new(std::io::Cursor::new(csv)),
        "test",
        Format::Csv,
        &TableOptions::new(),
    )
    .unwrap();
    scan(&mut t, 1000).unwrap()
}

fn generated() -> Vec<ColumnScan> {
    let mut csv = Vec::new();
    deid::synth::Generator::new(7)
        .naive_hash(true)
        .write(300, Format::Csv, &mut csv, 1)
        .unwrap();
    scanned(csv)
}

/// What `suggest_policy` wrote for the generated data before it was built
/// from typed specs (comments left out), plus the record key `customer_id`
/// (pseudonymized since scan flags record keys).
const BEFORE: &str = r#"
version = 1
unlisted = "keep"
on_error = "fail"
[fields.customer_id]
transform = "pseudonymize"
[fields.name]
transform = "drop"
[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
[fields.email]
normalize = ["email"]
transform = "encrypt"
mode = "deterministic"
[fields.rrn]
transform = "drop"
[fields.birth_date]
transform = "generalize"
to = "year"
[fields.postal_code]
transform = "generalize"
to = "prefix"
keep = 3
[fields.signup_date]
transform = "generalize"
to = "year-month"
[fields.phone_sha256]
transform = "drop"
[fields.email_sha256]
transform = "drop"
"#;

#[test]
fn generated_data_gets_the_same_policy_as_before() {
    let text = suggest_policy(&generated());
    let policy = Policy::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let transforms: Vec<(&str, &str)> = policy
        .fields
        .iter()
        .map(|(c, s)| (c.as_str(), s.transform.kind().as_str()))
        .collect();
    assert_eq!(
        transforms,
        [
            ("birth_date", "generalize"),
            ("customer_id", "pseudonymize"),
            ("email", "encrypt"),
            ("email_sha256", "drop"),
            ("name", "drop"),
            ("phone", "pseudonymize"),
            ("phone_sha256", "drop"),
            ("postal_code", "generalize"),
            ("rrn", "drop"),
            ("signup_date", "generalize"),
        ]
    );
    // Options, normalizers, defaults and the header too.
    assert_eq!(policy, Policy::from_toml(BEFORE).unwrap());
    // Each table keeps its comment, in column order; free text gets one.
    for (comment, table) in [
        (
            "# name: personal names: drop (100% of sampled values)",
            "[fields.name]",
        ),
        ("# phone: Korean mobile numbers", "[fields.phone]"),
        ("# email_sha256: digests:", "[fields.email_sha256]"),
        ("# customer_id: record keys", "[fields.customer_id]"),
    ] {
        let at = text
            .find(comment)
            .unwrap_or_else(|| panic!("{comment}\n{text}"));
        assert!(text[at..].lines().nth(1) == Some(table), "{text}");
    }
    assert!(text.contains("# customer_id: record keys (all distinct, one structure)"));
    assert!(text.find("[fields.name]") < text.find("[fields.email_sha256]"));
}

#[test]
fn every_suggestion_and_awkward_column_names_read_back() {
    // Kinds the generator does not make, under names TOML has to quote.
    let mut csv = String::from("\"card no\",\"a.b\",\"ip\",\"tel\"\"x\",\"when\nwhere\",n\n");
    for i in 0..60u32 {
        csv.push_str(&format!(
            "4111 1111 1111 1111,2001:db8::{i:x},10.0.0.{},+1 415 555 {:04},2024-01-{:02},{i}\n",
            i % 250,
            1000 + i,
            1 + i % 28
        ));
    }
    let scans = scanned(csv.into_bytes());
    let text = suggest_policy(&scans);
    let policy = Policy::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let spec = |c: &str| -> &FieldSpec { &policy.fields[c] };
    assert_eq!(spec("card no").transform, TransformSpec::Fpe);
    assert_eq!(spec("card no").normalize[0].to_string(), "digits");
    for c in ["a.b", "ip", "tel\"x"] {
        assert!(
            matches!(
                spec(c).transform,
                TransformSpec::Pseudonymize { bytes: 16, .. }
            ),
            "{c}"
        );
    }
    assert_eq!(spec("when\nwhere").transform.kind().as_str(), "generalize");
    // The newline in that name stays inside its comment.
    assert!(
        text.contains("# when\\nwhere: dates: year and month"),
        "{text}"
    );
    assert_eq!(policy.fields.len(), 5, "numbers get no table");
}

#[test]
fn record_keys_and_identifiers_in_free_text() {
    let mut csv = String::from("account,uuid,memo,note,amount\n");
    for i in 0..40u32 {
        csv.push_str(&format!(
            "{:06}-01-{:06},{:08x}-58cc-4372-a567-0e02b2c3d{:03x},\"고객 010-{:04}-5678 연락, 메일 k{i}@naver.com\",배송 {i}일 지연,{}\n",
            100_000 + i * 7,
            900_000 - i * 3,
            0xf47a_c10b_u32.wrapping_add(i * 977),
            i,
            1000 + i,
            i % 3
        ));
    }
    let scans = scanned(csv.into_bytes());
    let kind = |c: &str| scans.iter().find(|s| s.column == c).unwrap();
    assert_eq!(kind("account").kind, deid::scan::Kind::RecordKey);
    assert_eq!(kind("uuid").kind, deid::scan::Kind::RecordKey);
    let memo = kind("memo");
    assert_eq!(memo.kind, deid::scan::Kind::Text);
    assert_eq!(memo.identifiers_in_text.get("phone:KR"), Some(&40));
    assert_eq!(memo.identifiers_in_text.get("email"), Some(&40));
    // Free text without identifiers: review, no redact; repeated values are no key.
    assert!(kind("note").identifiers_in_text.is_empty());
    assert_ne!(kind("amount").kind, deid::scan::Kind::RecordKey);
    let text = suggest_policy(&scans);
    let policy = Policy::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        policy.fields["account"].transform.kind().as_str(),
        "pseudonymize"
    );
    assert_eq!(
        policy.fields["uuid"].transform.kind().as_str(),
        "pseudonymize"
    );
    assert_eq!(policy.fields["memo"].transform.kind().as_str(), "redact");
    assert!(!policy.fields.contains_key("note"));
    assert!(
        text.contains("# identifiers found in 40 sampled values: email 40, phone:KR 40"),
        "{text}"
    );
    // The counts never carry text.
    assert!(!text.contains("naver") && !text.contains("5678"), "{text}");
}
