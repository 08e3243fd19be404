//! The transform contract (`deid::transform::Transform`): for any input,
//! every transform's output fits the maximum it publishes, and a buffer of
//! exactly that length is never too small.
#![cfg(feature = "std")]

use deid::MasterKey;
use deid::date::Date;
use deid::encoding::Encoding;
use deid::error::Error;
use deid::io::rng::OsRng;
use deid::transform::Transform;
use deid::transform::dateshift::DateShifter;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use deid::transform::fpe::Ff1Digits;
use deid::transform::generalize::Generalization;
use deid::transform::mask::Mask;
use deid::transform::pseudonym::Pseudonymizer;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn key() -> MasterKey {
    MasterKey::from_bytes(1, [7; 32])
}

/// Runs `write` into a buffer of exactly `max` bytes and into a roomier
/// one: a `BufferTooSmall` from the first, or a longer output from either,
/// breaks the contract. Other errors (a value the transform refuses) are
/// the transform's business.
fn within(
    max: usize,
    write: impl Fn(&mut [u8]) -> Result<usize, Error>,
) -> Result<(), TestCaseError> {
    let mut exact = vec![0u8; max];
    match write(&mut exact) {
        Ok(n) => prop_assert!(n <= max, "wrote {n} bytes, published {max}"),
        Err(Error::BufferTooSmall(need)) => {
            prop_assert!(false, "needed {need} bytes, published {max}")
        }
        Err(_) => {}
    }
    let mut roomy = vec![0u8; max + 64];
    if let Ok(n) = write(&mut roomy) {
        prop_assert!(n <= max, "wrote {n} bytes, published {max}");
    }
    Ok(())
}

fn check<T: Transform + ?Sized>(t: &T, value: &[u8]) -> Result<(), TestCaseError> {
    within(t.max_output_len(value.len()), |out| {
        Ok(t.apply(value, out)?.len())
    })
}

/// Dates in every layout the transforms read, with and without a time
/// part, over the whole four-digit year range.
fn date() -> impl Strategy<Value = String> {
    (
        0..=9999i32,
        1..=12u32,
        1..=31u32,
        prop_oneof![Just(""), Just("-"), Just("/"), Just(".")],
        prop_oneof![
            Just(String::new()),
            "T[0-9]{2}:[0-9]{2}(:[0-9]{2})?",
            " \\PC{0,12}"
        ],
    )
        .prop_map(|(y, m, d, sep, tail)| format!("{y:04}{sep}{m:02}{sep}{d:02}{tail}"))
}

/// Numbers as exports write them: integers up to the i64 range, decimals,
/// padding.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        (any::<i32>(), 0..1000u32).prop_map(|(a, b)| format!("{a}.{b}")),
        any::<i64>().prop_map(|v| format!("  {v} ")),
    ]
}

/// Anything a column may hold: dates, numbers, text in any script, bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        date().prop_map(String::into_bytes),
        number().prop_map(String::into_bytes),
        "\\PC{0,40}".prop_map(String::into_bytes),
        "[0-9 +().-]{0,90}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..80),
    ]
}

fn generalization() -> impl Strategy<Value = Generalization> {
    prop_oneof![
        Just(Generalization::Year),
        Just(Generalization::YearMonth),
        (1..=u32::MAX, 0..=9999i32, 1..=12u8, 1..=28u8).prop_map(|(width, y, m, d)| {
            Generalization::AgeBand {
                width,
                as_of: Date::new(y, m, d).unwrap(),
            }
        }),
        (1..=u64::MAX).prop_map(|width| Generalization::Bucket { width }),
        (0..50usize).prop_map(|keep| Generalization::Prefix { keep }),
        (any::<Option<i64>>(), any::<Option<i64>>())
            .prop_map(|(top, bottom)| Generalization::TopBottom { top, bottom }),
    ]
}

fn mask() -> impl Strategy<Value = Mask> {
    (0..8usize, 0..8usize, any::<char>()).prop_map(|(keep_first, keep_last, mask_char)| Mask {
        keep_first,
        keep_last,
        mask_char,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pseudonyms_fit(value in value(), bytes in 8usize..=32, enc in 0..3u8) {
        let encoding = [Encoding::Hex, Encoding::Base32, Encoding::Base64Url][usize::from(enc)];
        let p = Pseudonymizer::new(&key(), "c", bytes, encoding).unwrap();
        check(&p, &value)?;
    }

    #[test]
    fn tokens_fit(value in value()) {
        check(&DeterministicCipher::new(&key(), "c").unwrap(), &value)?;
        // Not a `Transform` (it draws a nonce per value), same contract.
        let r = RandomizedCipher::new(&key(), "c").unwrap();
        within(r.max_output_len(value.len()), |out| {
            Ok(r.encrypt(&mut OsRng, &value, out)?.len())
        })?;
    }

    #[test]
    fn ff1_fits(value in value()) {
        check(&Ff1Digits::new(&key(), "c").unwrap(), &value)?;
    }

    #[test]
    fn generalizations_fit(g in generalization(), value in value()) {
        check(&g, &value)?;
    }

    #[test]
    fn masks_fit(m in mask(), value in value()) {
        check(&m, &value)?;
    }

    #[test]
    fn shifted_dates_fit(max_days in 1..=10_000u32, subject in "\\PC{1,20}", value in prop_oneof![date().prop_map(String::into_bytes), value()]) {
        let s = DateShifter::new(&key(), "c", max_days).unwrap();
        check(&s.for_subject(subject.as_bytes()), &value)?;
        within(s.max_output_len(value.len()), |out| {
            Ok(s.shift(&value, subject.as_bytes(), out)?.len())
        })?;
    }
}

/// The published lengths are maxima that outputs reach, not loose guesses
/// the property above would pass anyway.
#[test]
fn published_lengths_are_reached() {
    let reached = |t: &dyn Transform, v: &str| {
        let max = t.max_output_len(v.len());
        let mut out = vec![0u8; max];
        assert_eq!(t.apply(v.as_bytes(), &mut out).unwrap().len(), max, "{v}");
    };
    let m = Mask {
        keep_first: 0,
        keep_last: 0,
        mask_char: '○',
    };
    reached(&m, "abcd");
    reached(&Generalization::Year, "1990-07-15");
    reached(&Generalization::YearMonth, "1990-07-15");
    reached(&Generalization::Bucket { width: 1 }, "-9223372036854775808");
    reached(
        &Generalization::TopBottom {
            top: None,
            bottom: Some(-9_223_372_036_854_775_807),
        },
        "-9223372036854775808",
    );
    reached(&Generalization::Prefix { keep: 9 }, "서울특별시");
    reached(&Ff1Digits::new(&key(), "c").unwrap(), "010-1234-5678");
    reached(
        &DeterministicCipher::new(&key(), "c").unwrap(),
        "ada@example.com",
    );
    reached(
        &Pseudonymizer::new(&key(), "c", 32, Encoding::Base32).unwrap(),
        "x",
    );
    let s = DateShifter::new(&key(), "c", 30).unwrap();
    reached(&s.for_subject(b"p1"), "2024-03-01T09:00");
    // A buffer one byte short of what a value needs is refused, not overrun.
    let mut short = [0u8; 2];
    assert_eq!(
        m.apply(b"a", &mut short),
        Err(Error::BufferTooSmall(m.max_output_len(1)))
    );
}
