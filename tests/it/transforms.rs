//! Integration tests of the keyless and date transforms through the public
//! API: the dateshift offset recomputed independently from its documented
//! formula (what a Python user does), layouts kept, and no error ever
//! echoing the value it rejected. Runs without `alloc` in the crate.

use deid::date::Date;
use deid::normalize::Normalizer;
use deid::transform::dateshift::DateShifter;
use deid::transform::generalize::Generalization;
use deid::transform::mask::Mask;
use deid::{Error, MasterKey};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const SECRET: [u8; 32] = [0x42; 32];

/// The documented derivation, written from docs/FORMAT.md ("Date shifting")
/// and the module doc only:
/// subkey = HKDF-SHA256(no salt, secret, "deid/v1/dateshift/" || ctx, 32),
/// mac = HMAC-SHA256(subkey, subject),
/// offset = be_u64(mac[0..8]) mod (2 max + 1) - max.
fn reference_offset(ctx: &str, subject: &[u8], max_days: u32) -> i64 {
    let mut sub = [0u8; 32];
    let info = format!("deid/v1/dateshift/{ctx}");
    Hkdf::<Sha256>::new(None, &SECRET)
        .expand(info.as_bytes(), &mut sub)
        .unwrap();
    let mut m = Hmac::<Sha256>::new_from_slice(&sub).unwrap();
    m.update(subject);
    let mac = m.finalize().into_bytes();
    let head = u64::from_be_bytes(mac[..8].try_into().unwrap());
    (head % (2 * u64::from(max_days) + 1)) as i64 - i64::from(max_days)
}

#[test]
fn dateshift_offset_matches_the_documented_formula() {
    let key = MasterKey::from_bytes(1, SECRET);
    for (ctx, max) in [("visit_date", 30u32), ("signup_date", 365), ("d", 1)] {
        let shifter = DateShifter::new(&key, ctx, max).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..200u32 {
            let subject = format!("customer-{i}");
            let got = shifter.offset(subject.as_bytes());
            assert_eq!(got, reference_offset(ctx, subject.as_bytes(), max));
            assert!(got.abs() <= i64::from(max));
            seen.insert(got);
        }
        // 200 subjects spread over the range (max = 1 has only 3 values).
        assert!(seen.len() >= 3.min(2 * max as usize + 1), "{ctx}: {seen:?}");
    }
}

#[test]
fn dateshift_moves_the_date_by_the_offset_and_keeps_layout_and_time() {
    let key = MasterKey::from_bytes(1, SECRET);
    let shifter = DateShifter::new(&key, "visit_date", 60).unwrap();
    let off = shifter.offset(b"c-1");
    let want = Date::new(2024, 2, 29).unwrap().add_days(off);
    let mut out = [0u8; 64];
    for (input, layout) in [("2024-02-29", "-"), ("2024/02/29", "/"), ("20240229", "")] {
        let got = shifter.shift(input.as_bytes(), b"c-1", &mut out).unwrap();
        let expect = format!(
            "{:04}{layout}{:02}{layout}{:02}",
            want.year(),
            want.month(),
            want.day()
        );
        assert_eq!(std::str::from_utf8(got).unwrap(), expect, "{input}");
    }
    let got = shifter
        .shift(b"2024-02-29T13:45:00Z", b"c-1", &mut out)
        .unwrap();
    let got = std::str::from_utf8(got).unwrap();
    assert!(got.ends_with("T13:45:00Z"), "{got}");
    // Same subject, two dates: the interval between them survives.
    let a = shifter.shift(b"2024-01-01", b"c-1", &mut out).unwrap();
    let a = Date::parse(a).unwrap().0;
    let b = shifter.shift(b"2024-03-01", b"c-1", &mut out).unwrap();
    let b = Date::parse(b).unwrap().0;
    assert_eq!(b.to_days() - a.to_days(), 60);
    // Another context under the same key gives unrelated offsets.
    let other = DateShifter::new(&key, "other", 60).unwrap();
    let differs = (0..50u32)
        .filter(|i| {
            let s = format!("s{i}");
            other.offset(s.as_bytes()) != shifter.offset(s.as_bytes())
        })
        .count();
    assert!(differs > 40, "{differs}");
}

#[test]
fn dateshift_refuses_bad_ranges() {
    let key = MasterKey::from_bytes(1, SECRET);
    assert!(matches!(
        DateShifter::new(&key, "d", 0),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        DateShifter::new(&key, "d", 10_001),
        Err(Error::Config(_))
    ));
}

fn normalize(rule: &str, input: &str) -> Result<String, Error> {
    let n: Normalizer = rule.parse().unwrap();
    let mut out = [0u8; 128];
    let got = n.apply(input.as_bytes(), &mut out)?;
    Ok(std::str::from_utf8(got).unwrap().to_owned())
}

#[test]
fn every_country_to_e164() {
    for (rule, input, want) in [
        ("phone:KR", "010-1234-5678", "+821012345678"),
        ("phone:KR", "(010) 1234.5678", "+821012345678"),
        ("phone:KR", "0082 10 1234 5678", "+821012345678"),
        ("phone:US", "415.555.2671", "+14155552671"),
        ("phone:US", "+1 (415) 555-2671", "+14155552671"),
        ("phone:JP", "+81 90-1234-5678", "+819012345678"),
        ("phone:JP", "+81 (0)3 1234 5678", "+81312345678"),
        ("phone:CN", "+86 138-1234-5678", "+8613812345678"),
        ("phone:GB", "020 7946 0958", "+442079460958"),
        ("phone:GB", "0044 7911 123456", "+447911123456"),
        ("phone:DE", "0151 23456789", "+4915123456789"),
        ("phone:DE", "0049 30 123456", "+4930123456"),
        ("phone:FR", "06 12 34 56 78", "+33612345678"),
        ("phone:ES", "+34 612 34 56 78", "+34612345678"),
        ("phone:NL", "06-12345678", "+31612345678"),
        ("phone:CA", "(416) 555-0123", "+14165550123"),
        ("phone:AU", "0412 345 678", "+61412345678"),
        ("phone:IN", "98765 43210", "+919876543210"),
        ("phone:SG", "9123 4567", "+6591234567"),
        ("phone:HK", "+852 9123 4567", "+85291234567"),
        ("phone:TW", "0912-345-678", "+886912345678"),
    ] {
        let got = normalize(rule, input).unwrap_or_else(|e| panic!("{rule} {input}: {e}"));
        assert_eq!(got, want, "{rule} {input}");
    }
    for (rule, input) in [
        ("phone:KR", "010-123"),
        ("phone:US", "555-2671"),
        ("phone:JP", "12"),
        ("phone:CN", "138 1234"),
        ("phone:GB", "07911"),
        ("phone:DE", "030"),
        ("phone:FR", "06 12"),
        ("phone:HK", "9123"),
        ("phone:KR", "call me"),
    ] {
        assert!(
            matches!(normalize(rule, input), Err(Error::Invalid(_))),
            "{rule} {input}"
        );
    }
}

/// Rejected inputs that look like real identifiers; none may appear in the
/// error message.
#[test]
fn no_error_message_contains_the_value() {
    let key = MasterKey::from_bytes(1, SECRET);
    let shifter = DateShifter::new(&key, "d", 30).unwrap();
    let as_of = Date::new(2025, 1, 1).unwrap();
    let mut out = [0u8; 64];
    let mut small = [0u8; 2];
    let cases: Vec<(&str, Result<usize, Error>)> = vec![
        (
            "010-9876-54321",
            normalize("phone:KR", "010-9876-54321").map(|s| s.len()),
        ),
        (
            "jane.doe.example.org",
            normalize("email", "jane.doe.example.org").map(|s| s.len()),
        ),
        (
            "1987-13-45",
            Generalization::Year
                .apply(b"1987-13-45", &mut out)
                .map(<[u8]>::len),
        ),
        (
            "2099-01-01",
            Generalization::AgeBand { width: 10, as_of }
                .apply(b"2099-01-01", &mut out)
                .map(<[u8]>::len),
        ),
        (
            "salary98765x",
            Generalization::Bucket { width: 1000 }
                .apply(b"salary98765x", &mut out)
                .map(<[u8]>::len),
        ),
        (
            "4111111111111111",
            Mask::default()
                .apply(b"4111111111111111", &mut small)
                .map(<[u8]>::len),
        ),
        (
            "31/12/1999",
            shifter
                .shift(b"31/12/1999", b"s", &mut out)
                .map(<[u8]>::len),
        ),
    ];
    for (value, res) in cases {
        let err = res.expect_err(value);
        let msg = format!("{err} {err:?}");
        assert!(!msg.contains(value), "{msg}");
        // Not even a long run of the value's digits.
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 6 {
            assert!(!msg.contains(&digits[..6]), "{msg}");
        }
    }
}

#[test]
fn generalize_and_mask_hand_checked() {
    let mut out = [0u8; 64];
    let mut run = |g: Generalization, v: &str| {
        std::str::from_utf8(g.apply(v.as_bytes(), &mut out).unwrap())
            .unwrap()
            .to_owned()
    };
    assert_eq!(run(Generalization::Year, "2001-09-11T08:46:00"), "2001");
    assert_eq!(run(Generalization::YearMonth, "20010911"), "2001-09");
    let as_of = Date::new(2024, 3, 1).unwrap();
    // Born 1984-03-01: 40 on the reference date; born a day later: 39.
    let band = Generalization::AgeBand { width: 10, as_of };
    assert_eq!(run(band, "1984-03-01"), "40-49");
    assert_eq!(run(band, "1984-03-02"), "30-39");
    assert_eq!(run(Generalization::Bucket { width: 5 }, "0"), "0-4");
    assert_eq!(run(Generalization::Bucket { width: 5 }, "4"), "0-4");
    assert_eq!(run(Generalization::Bucket { width: 5 }, "5"), "5-9");
    assert_eq!(run(Generalization::Prefix { keep: 3 }, "06236"), "062");
    assert_eq!(run(Generalization::Prefix { keep: 1 }, "é12"), "é");
    let bottom_only = Generalization::TopBottom {
        top: None,
        bottom: Some(0),
    };
    assert_eq!(run(bottom_only, "-3"), "<=0");
    assert_eq!(run(bottom_only, "1000000"), "1000000");

    let m = Mask {
        keep_first: 3,
        keep_last: 4,
        mask_char: '*',
    };
    assert_eq!(
        m.apply(b"010-1234-5678", &mut out).unwrap(),
        b"010******5678"
    );
    // Shorter than what would be kept: fail safe, everything is masked.
    assert_eq!(m.apply(b"abc", &mut out).unwrap(), b"***");
}
