//! Every normalizer and the date parser on arbitrary bytes.
//!
//! Oracles: no panic (also into a buffer too small); normalizing is
//! idempotent (a normalized value normalizes to itself, so a pseudonym does
//! not depend on whether a value was normalized before); a parsed date
//! written back in its layout parses to the same date; day arithmetic
//! agrees with day numbers.
#![no_main]

use deid::date::Date;
use deid::normalize::{Country, Normalizer, apply_chain};
use libfuzzer_sys::fuzz_target;

/// The text normalizers, then `phone:<CC>` for every country.
fn normalizers() -> impl Iterator<Item = String> {
    ["trim", "lowercase", "digits", "email"]
        .into_iter()
        .map(String::from)
        .chain(Country::ALL.map(|c| format!("phone:{}", c.code())))
}

fuzz_target!(|data: &[u8]| {
    let cap = data.len() * 4 + 32;
    for name in normalizers() {
        let n: Normalizer = name.parse().expect("a known normalizer");
        let mut small = vec![0u8; data.len() / 2];
        let _ = n.apply(data, &mut small);
        let mut out = vec![0u8; cap];
        let Ok(once) = n.apply(data, &mut out) else {
            continue;
        };
        let once = once.to_vec();
        let mut again = vec![0u8; once.len() * 4 + 32];
        match n.apply(&once, &mut again) {
            Ok(twice) => assert!(twice == once.as_slice(), "{name} is not idempotent"),
            Err(e) => panic!("{name} refuses its own output: {e}"),
        }
    }
    let chain: Vec<Normalizer> = ["trim", "lowercase", "email"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let (mut a, mut b) = (vec![0u8; cap], vec![0u8; cap]);
    let _ = apply_chain(&chain, data, &mut a, &mut b);

    if let Ok((date, layout)) = Date::parse(data) {
        let mut buf = vec![0u8; data.len() + 16];
        let written = date
            .write(layout, data, &mut buf)
            .expect("a parsed date writes back");
        let (again, layout2) = Date::parse(written).expect("a written date parses");
        assert_eq!(again, date);
        assert_eq!(layout2, layout);
        assert_eq!(Date::from_days(date.to_days()), date);
        let n = i64::from(i32::from_le_bytes(
            data.iter()
                .copied()
                .chain([0; 4])
                .take(4)
                .collect::<Vec<_>>()
                .try_into()
                .unwrap(),
        )) % 3_000_000;
        assert_eq!(date.add_days(n).to_days(), date.to_days() + n);
        let _ = date.age_at(date.add_days(n));
    }
});
