//! `audit report` on free text (src/audit/text.rs): a `no_identifiers_in_text`
//! claim is refuted while a note still holds identifiers, with counts per type
//! and masked examples only, and supported once the column is redacted.
#![cfg(feature = "std")]

use deid::audit::hashes::AuditOptions;
use deid::audit::report::{Claims, Status, build, to_markdown};
use deid::io::pipeline::{PipelineOptions, run};
use deid::io::table::TableOptions;
use deid::key::Keyset;
use deid::policy::Policy;

#[test]
fn a_note_with_identifiers_refutes_the_claim_and_redact_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("notes.csv");
    std::fs::write(
        &raw,
        "id,memo\n1,\"고객 010-1234-5678 연락, 메일 kim@naver.com\"\n2,배송 지연 3일\n3,주문번호 20240115-00123 환불 15000원\n",
    )
    .unwrap();
    let claims = Claims::from_toml("no_identifiers_in_text = [\"memo\"]\n").unwrap();
    let opts = TableOptions::new();
    let r = build(&raw, &opts, &claims, dir.path(), &AuditOptions::default()).unwrap();
    assert_eq!(r.claims[0].status, Status::Refuted);
    assert_eq!(r.verdict, Status::Refuted);
    assert!(
        r.claims[0]
            .evidence
            .contains("2 identifiers in 1 of 3 rows (email 1, phone:KR 1)"),
        "{}",
        r.claims[0].evidence
    );
    let f = &r.free_text[0];
    assert_eq!(f.masked_examples["email"], ["ki*********om"]);
    // The finding names the criteria it bears on.
    let finding = r
        .findings
        .iter()
        .find(|f| f.subject == "free-text column memo holds no identifier")
        .expect("a free-text finding");
    assert_eq!(finding.status, Status::Refuted);
    let cited: Vec<&str> = finding.criteria.iter().map(|c| c.id.as_str()).collect();
    assert!(cited.contains(&"pipc-guideline") && cited.contains(&"gdpr-recital-26"));
    assert!(!cited.contains(&"aepd-edps-hash"), "{cited:?}");
    let json = serde_json::to_string(&r).unwrap();
    let md = to_markdown(&r);
    for out in [&json, &md] {
        assert!(
            !out.contains("1234-5678") && !out.contains("kim@naver"),
            "{out}"
        );
    }

    // Redacted, the same claim holds.
    let keys = Keyset::from_json(include_str!("../fixtures/keys.json")).unwrap();
    let policy = Policy::from_toml("version = 1\n[fields.memo]\ntransform = \"redact\"\n").unwrap();
    let mut out = Vec::new();
    run(
        &policy,
        &keys,
        Box::new(std::fs::File::open(&raw).unwrap()),
        "notes.csv",
        &mut out,
        &PipelineOptions::new(),
        &mut |_| {},
    )
    .unwrap();
    let red = dir.path().join("redacted.csv");
    std::fs::write(&red, out).unwrap();
    let r = build(&red, &opts, &claims, dir.path(), &AuditOptions::default()).unwrap();
    assert_eq!(r.claims[0].status, Status::Supported);
    assert_eq!(r.free_text[0].identifiers, 0);
    // A claim on a column the file lacks is refused, naming the claim.
    let bad = Claims::from_toml("no_identifiers_in_text = [\"note\"]\n").unwrap();
    let err = build(&red, &opts, &bad, dir.path(), &AuditOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("no_identifiers_in_text names column note")
    );
}
