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
/// from typed specs (comments left out).
const BEFORE: &str = r#"
version = 1
unlisted = "keep"
on_error = "fail"
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
    ] {
        let at = text
            .find(comment)
            .unwrap_or_else(|| panic!("{comment}\n{text}"));
        assert!(text[at..].lines().nth(1) == Some(table), "{text}");
    }
    assert!(text.contains("# customer_id: free text may contain identifiers"));
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
