//! `generalize` and `mask` with arbitrary parameters and values.
//!
//! Oracles: no panic, also into buffers too small; `prefix` keeps a prefix
//! of the value's characters; `mask` keeps the character count and shows no
//! more than `keep_first + keep_last` of them, and a value no longer than
//! that is masked whole; year and year-month keep the date's digits.
#![no_main]

use deid::date::Date;
use deid::transform::generalize::Generalization;
use deid::transform::mask::Mask;
use libfuzzer_sys::fuzz_target;

fn u64_at(data: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, slot) in b.iter_mut().enumerate() {
        *slot = data.get(i + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 18 {
        return;
    }
    let (params, value) = data.split_at(18);
    let a = u64_at(params, 2);
    let b = u64_at(params, 10);
    let as_of = Date::from_days(i64::from((a % 4_000_000) as u32) - 719_468);
    let g = match params[0] % 6 {
        0 => Generalization::Year,
        1 => Generalization::YearMonth,
        2 => Generalization::AgeBand {
            width: (a % 200) as u32,
            as_of,
        },
        3 => Generalization::Bucket { width: b },
        4 => Generalization::Prefix {
            keep: (a % 64) as usize,
        },
        _ => Generalization::TopBottom {
            top: (params[1] & 1 == 1).then_some(a as i64),
            bottom: (params[1] & 2 == 2).then_some(b as i64),
        },
    };
    let mut tiny = [0u8; 3];
    let _ = g.apply(value, &mut tiny);
    let mut out = vec![0u8; value.len() * 4 + 64];
    if let Ok(o) = g.apply(value, &mut out) {
        match g {
            Generalization::Prefix { keep } => {
                let v = std::str::from_utf8(value).expect("prefix accepted UTF-8 only");
                let want: String = v.chars().take(keep).collect();
                assert_eq!(o, want.as_bytes(), "prefix");
            }
            Generalization::Year => {
                let (d, _) = Date::parse(value).expect("year accepted a date");
                assert_eq!(o, format!("{:04}", d.year()).as_bytes());
            }
            Generalization::YearMonth => {
                let (d, _) = Date::parse(value).expect("year-month accepted a date");
                assert_eq!(o, format!("{:04}-{:02}", d.year(), d.month()).as_bytes());
            }
            _ => {}
        }
    }

    let m = Mask {
        keep_first: usize::from(params[1] % 16),
        keep_last: usize::from(params[17] % 16),
        mask_char: char::from_u32(u32::from(params[16]) | 0x20).unwrap_or('*'),
    };
    let _ = m.apply(value, &mut tiny);
    if let Ok(o) = m.apply(value, &mut out) {
        let v = std::str::from_utf8(value).expect("mask accepted UTF-8 only");
        let o = std::str::from_utf8(o).expect("mask writes UTF-8");
        let (vc, oc): (Vec<char>, Vec<char>) = (v.chars().collect(), o.chars().collect());
        assert_eq!(vc.len(), oc.len(), "mask keeps the length");
        let shown = vc
            .iter()
            .zip(&oc)
            .filter(|(a, b)| a == b && **b != m.mask_char)
            .count();
        assert!(shown <= m.keep_first + m.keep_last, "mask shows too much");
        if vc.len() <= m.keep_first + m.keep_last {
            assert!(
                oc.iter().all(|&c| c == m.mask_char),
                "a short value is shown"
            );
        }
    }
});
