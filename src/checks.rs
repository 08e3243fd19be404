//! Check digits of the identifiers deid detects and enumerates: Luhn (card
//! numbers), the Korean resident and foreigner registration numbers (RRN,
//! FRN) and the Korean business registration number (BRN).
//!
//! `no_std` and allocation-free. Numbers are ASCII bytes; every byte that is
//! not an ASCII digit is skipped, so `4111-1111-1111-1111` and
//! `940219-2499846` are read as written. Callers that need a strict shape
//! (no separators, a dash in one place) check it themselves. A check digit is
//! returned as an ASCII digit, ready to write into a candidate.
//!
//! A valid check digit says a number is well formed, not that it was ever
//! issued.
//!
//! # Example
//! ```
//! use deid::checks;
//! assert!(checks::luhn_valid(b"4111 1111 1111 1111"));
//! assert_eq!(checks::luhn_check_digit(b"7992739871"), b'3');
//! assert!(checks::brn_valid(b"116-82-00276"));
//! assert!(!checks::brn_valid(b"116-82-00277"));
//! ```

/// The Luhn check digit (ISO/IEC 7812-1, annex B) to append to the digits of
/// `body`: from the right, every other digit starting with the last one is
/// doubled (minus 9 when over 9), and the check digit brings the sum to a
/// multiple of 10.
#[inline]
pub fn luhn_check_digit(body: &[u8]) -> u8 {
    let mut sum = 0u32;
    let mut double = true;
    for &c in body.iter().rev() {
        if !c.is_ascii_digit() {
            continue;
        }
        let mut d = u32::from(c - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        double = !double;
        sum += d;
    }
    b'0' + ((10 - sum % 10) % 10) as u8
}

/// Whether the last digit of `number` is the Luhn check digit of the digits
/// before it (at least two digits).
pub fn luhn_valid(number: &[u8]) -> bool {
    let Some(last) = number.iter().rposition(u8::is_ascii_digit) else {
        return false;
    };
    let body = &number[..last];
    body.iter().any(u8::is_ascii_digit) && luhn_check_digit(body) == number[last]
}

/// Exactly `N` digit values from the ASCII digits of `s`, or `None`.
fn digits<const N: usize>(s: &[u8]) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut n = 0;
    for &c in s.iter().filter(|c| c.is_ascii_digit()) {
        *out.get_mut(n)? = u32::from(c - b'0');
        n += 1;
    }
    (n == N).then_some(out)
}

/// The RRN check digit for the first twelve digits (`YYMMDD-SNNNNN`, the
/// dash optional); `None` unless `body` holds exactly twelve digits.
///
/// The rule of RRNs issued before October 2020: weights 2, 3, 4, 5, 6, 7, 8,
/// 9, 2, 3, 4, 5 over the twelve digits, check = (11 − sum mod 11) mod 10.
/// Numbers issued since then end in random digits and need not satisfy it.
pub fn rrn_check_digit(body: &[u8]) -> Option<u8> {
    const W: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let d = digits::<12>(body)?;
    let sum: u32 = d.iter().zip(W).map(|(d, w)| d * w).sum();
    Some(b'0' + ((11 - sum % 11) % 10) as u8)
}

/// Whether `rrn` has thirteen digits and a valid pre-2020 check digit (see
/// [`rrn_check_digit`]).
pub fn rrn_valid(rrn: &[u8]) -> bool {
    let Some(last) = rrn.iter().rposition(u8::is_ascii_digit) else {
        return false;
    };
    rrn_check_digit(&rrn[..last]) == Some(rrn[last])
}

/// The foreigner registration number (FRN) check digit for the first
/// twelve digits (`YYMMDD-SNNNNN`, sex digit 5 to 8); `None` unless `body`
/// holds exactly twelve digits.
///
/// FRNs issued before October 2020 share the RRN layout and weights (see
/// [`rrn_check_digit`]) with a check offset by two: check =
/// (13 − sum mod 11) mod 10, the rule Korean identity-verification code
/// applies to them. Numbers issued since then, like RRNs, end in random
/// digits.
pub fn frn_check_digit(body: &[u8]) -> Option<u8> {
    const W: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let d = digits::<12>(body)?;
    let sum: u32 = d.iter().zip(W).map(|(d, w)| d * w).sum();
    Some(b'0' + ((13 - sum % 11) % 10) as u8)
}

/// Whether `frn` has thirteen digits and a valid pre-2020 check digit (see
/// [`frn_check_digit`]).
pub fn frn_valid(frn: &[u8]) -> bool {
    let Some(last) = frn.iter().rposition(u8::is_ascii_digit) else {
        return false;
    };
    frn_check_digit(&frn[..last]) == Some(frn[last])
}

/// The BRN check digit for the first nine digits (`NNN-NN-NNNN`, dashes
/// optional); `None` unless `body` holds exactly nine digits.
///
/// A BRN is three digits of tax office, two of business type, four serial
/// digits and a check digit (layout: the Value-Added Tax Act's enforcement
/// decree; the OECD's Korea TIN sheet). The check is the National Tax
/// Service's, as Korean tax and accounting software implements it (for
/// example `src/kr/brn.ts` of stdnum-js); the official documents give the
/// layout but not the weights:
///
/// ```text
/// sum   = d1·1 + d2·3 + d3·7 + d4·1 + d5·3 + d6·7 + d7·1 + d8·3 + d9·5 + ⌊d9·5 / 10⌋
/// check = (10 − sum mod 10) mod 10
/// ```
///
/// The numbers in python-stdnum's `kr.brn` examples (116-82-00276,
/// 134-86-72683) satisfy it.
pub fn brn_check_digit(body: &[u8]) -> Option<u8> {
    const W: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
    let d = digits::<9>(body)?;
    let sum: u32 = d.iter().zip(W).map(|(d, w)| d * w).sum::<u32>() + d[8] * 5 / 10;
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Whether `brn` has ten digits and a valid check digit (see
/// [`brn_check_digit`]).
pub fn brn_valid(brn: &[u8]) -> bool {
    let Some(last) = brn.iter().rposition(u8::is_ascii_digit) else {
        return false;
    };
    brn_check_digit(&brn[..last]) == Some(brn[last])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every single-digit change of a valid number must fail `valid`.
    fn flips_fail(number: &[u8], valid: fn(&[u8]) -> bool) {
        assert!(valid(number), "{:?}", core::str::from_utf8(number));
        let mut buf = [0u8; 32];
        let buf = &mut buf[..number.len()];
        for i in 0..number.len() {
            if !number[i].is_ascii_digit() {
                continue;
            }
            for d in b'0'..=b'9' {
                if d == number[i] {
                    continue;
                }
                buf.copy_from_slice(number);
                buf[i] = d;
                assert!(!valid(buf), "{:?}", core::str::from_utf8(buf));
            }
        }
    }

    #[test]
    fn luhn_known_numbers() {
        // Card-network test numbers and the textbook example.
        for n in [
            &b"4111111111111111"[..],
            b"4012888888881881",
            b"5555555555554444",
            b"378282246310005",
            b"6011111111111117",
            b"79927398713",
            b"4111-1111-1111-1111",
        ] {
            flips_fail(n, luhn_valid);
        }
        assert_eq!(luhn_check_digit(b"411111111111111"), b'1');
        assert_eq!(luhn_check_digit(b"7992739871"), b'3');
        assert_eq!(luhn_check_digit(b""), b'0');
        // Swapping adjacent digits (other than 0 and 9) is caught too.
        assert!(!luhn_valid(b"79927398731"));
        assert!(!luhn_valid(b"7"));
        assert!(!luhn_valid(b""));
        assert!(!luhn_valid(b"--"));
    }

    #[cfg(feature = "std")]
    #[test]
    fn rrn_synthetic_numbers_are_valid() {
        let g = crate::synth::Generator::new(11);
        for i in 0..500 {
            let rrn = g.customer(i).rrn;
            let b = rrn.as_bytes();
            assert_eq!(rrn_check_digit(&b[..13]), Some(b[13]));
            assert!(rrn_valid(b));
            assert!(rrn_valid(rrn.replace('-', "").as_bytes()));
            // A changed check digit always fails.
            let mut wrong = [0u8; 14];
            wrong.copy_from_slice(b);
            wrong[13] = b'0' + (b[13] - b'0' + 1) % 10;
            assert!(!rrn_valid(&wrong));
        }
    }

    #[test]
    fn rrn_rule_by_hand() {
        // 940219-249984?: 9·2+4·3+0·4+2·5+1·6+9·7+2·8+4·9+9·2+9·3+8·4+4·5 = 258,
        // 258 mod 11 = 5, (11 - 5) mod 10 = 6.
        assert_eq!(rrn_check_digit(b"940219-249984"), Some(b'6'));
        // The sum is 5 mod 11, away from the 0/10 residues that share check
        // digit 1, so every single-digit change fails.
        flips_fail(b"940219-2499846", rrn_valid);
        assert!(!rrn_valid(b"940219-2499845"));
        assert_eq!(rrn_check_digit(b"94021924998"), None);
        assert!(!rrn_valid(b"940219-24998455"));
        assert!(!rrn_valid(b""));
    }

    #[test]
    fn frn_rule_by_hand() {
        // 900101-570001?: 9·2+0·3+0·4+1·5+0·6+1·7+5·8+7·9+0·2+0·3+0·4+1·5 = 138,
        // 138 mod 11 = 6, (13 - 6) mod 10 = 7.
        assert_eq!(frn_check_digit(b"900101-570001"), Some(b'7'));
        flips_fail(b"900101-5700017", frn_valid);
        // The same body under the RRN rule gives another digit.
        assert_eq!(rrn_check_digit(b"900101-570001"), Some(b'5'));
        assert_eq!(frn_check_digit(b"90010157000"), None);
    }

    #[test]
    fn brn_known_numbers() {
        for n in [&b"116-82-00276"[..], b"1348672683", b"124-81-00998"] {
            flips_fail(n, brn_valid);
        }
        assert_eq!(brn_check_digit(b"116-82-0027"), Some(b'6'));
        assert_eq!(brn_check_digit(b"11682002"), None);
        assert!(!brn_valid(b"116-82-002766"));
    }
}
