//! Candidate spaces: every value an identifier column could hold, in each
//! written format, enumerated by incrementing digits in place.
//!
//! | space | formats | size per format |
//! |---|---|---|
//! | `kr-mobile` | `01012345678`, `010-1234-5678`, `+821012345678`, `821012345678` | 10^8 |
//! | `e164:KR` `e164:JP` `e164:GB` `e164:US` | `+<cc><national>` mobile ranges | 10^8 to 8·10^9 |
//! | `us-ssn` | `123-45-6789`, `123456789` | 10^9 |
//! | `ipv4` | dotted quad | 2^32 |
//! | `kr-rrn` | `YYMMDD-SXXXXXC`, `YYMMDDSXXXXXC` (pre-2020: sex/century digit, check digit) | days × 2 × 10^5 |
//! | `card:<BIN>` | the BIN, then digits to 16 with a valid Luhn digit | 10^(15 − len(BIN)) |
//! | mask | hashcat syntax: `?d ?l ?u ?h ?a` and literals | product of charsets |
//! | dictionary | one candidate a line, normalized | lines |
//!
//! Sizes are computed with checked arithmetic. A space of more than
//! [`MAX_CANDIDATES`] (10^12) candidates is refused by [`Space::parse`]
//! before any search starts, and [`Space::too_large`] says how large it is
//! and how long it would take at [`ESTIMATE_RATE`].
//!
//! (The file passes 600 lines with its tests, a third of it: the mask parser,
//! the named spaces and the enumeration read best together.)

use std::fmt;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::date::Date;
use crate::error::Error;

const DIGITS: &[u8] = b"0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEX: &[u8] = b"0123456789abcdef";
const PRINTABLE: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// The most candidates a space may hold to be searched: 10^12, about 5.6
/// hours at [`ESTIMATE_RATE`]. Every named space is far below it (the
/// largest, `kr-rrn` over 1900..2019, has about 1.8·10^10); a mask above it
/// is a mistake or a job for a GPU cracker, not for an audit run.
pub const MAX_CANDIDATES: u128 = 1_000_000_000_000;

/// Candidates per second assumed by the time estimate of a refused space:
/// 5·10^7, two cores at the ~2.5·10^7 SHA-256 candidates per second
/// measured on one core of a laptop (`deid bench`).
pub const ESTIMATE_RATE: f64 = 5e7;

/// A check digit filled in after the variable positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// None.
    None,
    /// Luhn check digit at this position (card numbers).
    Luhn(usize),
    /// Pre-2020 Korean RRN check digit at this position (weights 2..9,2..5).
    Rrn(usize),
}

/// A fixed-length template with variable positions, each over a charset.
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The bytes, literals in place.
    pub template: Vec<u8>,
    /// Variable positions and their alphabets; the last one varies fastest.
    pub vars: Vec<(usize, &'static [u8])>,
    /// A check digit computed from the other digits.
    pub check: Check,
}

impl Pattern {
    /// Number of candidates, or `None` when it does not fit a `u128` or an
    /// alphabet is empty or longer than 256 bytes (the odometer holds a
    /// `u8` per position), so that the pattern cannot be enumerated.
    pub fn checked_size(&self) -> Option<u128> {
        self.vars.iter().try_fold(1u128, |n, (_, cs)| {
            if cs.is_empty() || cs.len() > 256 {
                return None;
            }
            n.checked_mul(cs.len() as u128)
        })
    }

    /// Number of candidates, saturating at `u128::MAX` (see
    /// [`Pattern::checked_size`]).
    pub fn size(&self) -> u128 {
        self.checked_size().unwrap_or(u128::MAX)
    }

    /// Writes candidate `index` into `out` (which holds the template) and
    /// returns the per-position digit indices for incrementing.
    pub fn seek(&self, index: u128, out: &mut [u8], odometer: &mut [u8]) {
        let mut rest = index;
        for (k, (pos, cs)) in self.vars.iter().enumerate().rev() {
            let r = cs.len() as u128;
            if r == 0 {
                return;
            }
            let d = (rest % r) as u8;
            rest /= r;
            odometer[k] = d;
            out[*pos] = cs[usize::from(d)];
        }
        self.fill_check(out);
    }

    /// Moves `out` to the next candidate; false after the last one.
    #[inline]
    pub fn next(&self, out: &mut [u8], odometer: &mut [u8]) -> bool {
        for (k, (pos, cs)) in self.vars.iter().enumerate().rev() {
            let d = usize::from(odometer[k]) + 1;
            if d < cs.len() {
                odometer[k] = d as u8;
                out[*pos] = cs[d];
                self.fill_check(out);
                return true;
            }
            odometer[k] = 0;
            out[*pos] = cs[0];
        }
        false
    }

    #[inline]
    fn fill_check(&self, out: &mut [u8]) {
        match self.check {
            Check::None => {}
            Check::Luhn(pos) => out[pos] = crate::checks::luhn_check_digit(&out[..pos]),
            Check::Rrn(pos) => {
                out[pos] = crate::checks::rrn_check_digit(&out[..pos]).unwrap_or(b'0');
            }
        }
    }
}

/// One way of writing the values of a space.
#[derive(Clone, Debug)]
pub struct Format {
    /// Name for reports, e.g. `010-1234-5678`.
    pub name: String,
    /// The patterns that make up this format.
    pub patterns: Vec<Pattern>,
}

impl Format {
    /// Candidates in this format, or `None` past `u128::MAX`.
    pub fn checked_size(&self) -> Option<u128> {
        self.patterns
            .iter()
            .try_fold(0u128, |n, p| n.checked_add(p.checked_size()?))
    }

    /// Candidates in this format, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        self.checked_size().unwrap_or(u128::MAX)
    }
}

/// What a space enumerates. Its `Debug` shows a dictionary's size, not its
/// lines (they may be the recipient's own customer list).
#[derive(Clone)]
pub enum Source {
    /// Fixed-length patterns.
    Formats(Vec<Format>),
    /// Every IPv4 address in dotted-quad form.
    Ipv4,
    /// Dictionary lines.
    Dict(Vec<Vec<u8>>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Formats(v) => f.debug_tuple("Formats").field(v).finish(),
            Source::Ipv4 => f.write_str("Ipv4"),
            Source::Dict(d) => write!(f, "Dict({} lines)", d.len()),
        }
    }
}

/// A named candidate space.
#[derive(Clone, Debug)]
pub struct Space {
    /// Name as on the command line (`kr-mobile`).
    pub name: String,
    /// The candidates.
    pub source: Source,
}

impl Space {
    /// Total candidates over all formats, or `None` past `u128::MAX`.
    pub fn checked_size(&self) -> Option<u128> {
        match &self.source {
            Source::Formats(f) => f
                .iter()
                .try_fold(0u128, |n, f| n.checked_add(f.checked_size()?)),
            Source::Ipv4 => Some(1 << 32),
            Source::Dict(d) => Some(d.len() as u128),
        }
    }

    /// Total candidates over all formats, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        self.checked_size().unwrap_or(u128::MAX)
    }

    /// Whether the space is small enough to search (at most
    /// [`MAX_CANDIDATES`]).
    pub fn searchable(&self) -> bool {
        self.checked_size().is_some_and(|n| n <= MAX_CANDIDATES)
    }

    /// Parses a space name: `kr-mobile`, `e164:KR`, `us-ssn`, `ipv4`,
    /// `kr-rrn`, `card:<BIN>`, or a hashcat mask (anything with `?`).
    /// `born` narrows `kr-rrn` to birth years (inclusive).
    ///
    /// # Errors
    /// [`Error::Config`] naming what is wrong, including a space of more
    /// than [`MAX_CANDIDATES`] candidates ([`Space::too_large`] then says
    /// how many).
    pub fn parse(name: &str, born: (i32, i32)) -> Result<Space, Error> {
        let space = Self::parse_unlimited(name, born)?;
        if !space.searchable() {
            return Err(Error::Config(
                "space: more than the 10^12 candidates a search may take; narrow it",
            ));
        }
        Ok(space)
    }

    /// For a space name that [`Space::parse`] refuses as too large, its
    /// size and the time a search would take; `None` for any other name.
    ///
    /// # Example
    /// ```
    /// use deid::audit::hashes::Space;
    /// let t = Space::too_large(&"?d".repeat(16), (1950, 2005)).unwrap();
    /// assert_eq!(t.candidates(), Some(10u128.pow(16)));
    /// assert!(t.to_string().starts_with("10^16 candidates, about"));
    /// ```
    pub fn too_large(name: &str, born: (i32, i32)) -> Option<TooLarge> {
        let space = Self::parse_unlimited(name, born).ok()?;
        (!space.searchable()).then(|| TooLarge {
            candidates: space.checked_size(),
        })
    }

    fn parse_unlimited(name: &str, born: (i32, i32)) -> Result<Space, Error> {
        let formats = match name {
            "kr-mobile" => kr_mobile(),
            "us-ssn" => vec![
                fmt("123-45-6789", "###-##-####"),
                fmt("123456789", "#########"),
            ],
            "ipv4" => {
                return Ok(Space {
                    name: name.to_string(),
                    source: Source::Ipv4,
                });
            }
            "kr-rrn" => kr_rrn(born)?,
            _ if name.starts_with("e164:") => e164(&name[5..])?,
            _ if name.starts_with("card:") => card(&name[5..])?,
            _ if name.contains('?') => vec![Format {
                name: name.to_string(),
                patterns: vec![mask(name)?],
            }],
            _ => {
                return Err(Error::Config(
                    "space (kr-mobile, e164:<KR|JP|GB|US>, us-ssn, ipv4, kr-rrn, card:<BIN>, or a ?d mask)",
                ));
            }
        };
        Ok(Space {
            name: name.to_string(),
            source: Source::Formats(formats),
        })
    }

    /// A dictionary space.
    pub fn dictionary(name: &str, lines: Vec<Vec<u8>>) -> Space {
        Space {
            name: name.to_string(),
            source: Source::Dict(lines),
        }
    }
}

/// The size of a space too large to search, for an error message:
/// `10^16 candidates, about 6.3 years at 5e7/s (the limit is 10^12)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    candidates: Option<u128>,
}

impl TooLarge {
    /// The number of candidates, `None` when it exceeds `u128::MAX`.
    pub fn candidates(&self) -> Option<u128> {
        self.candidates
    }

    /// Seconds to search the whole space at [`ESTIMATE_RATE`].
    pub fn seconds(&self) -> f64 {
        self.candidates.map_or(f64::INFINITY, |n| n as f64) / ESTIMATE_RATE
    }
}

impl core::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.candidates {
            Some(n) => {
                let digits = n.checked_ilog10().unwrap_or(0);
                if 10u128.checked_pow(digits) == Some(n) {
                    write!(f, "10^{digits} candidates")?;
                } else {
                    write!(f, "{:.2e} candidates", n as f64)?;
                }
            }
            None => write!(f, "more than {:.1e} candidates", u128::MAX as f64)?,
        }
        let s = self.seconds();
        let (amount, unit) = if s < 2.0 * 86_400.0 {
            (s / 3600.0, "hours")
        } else if s < 2.0 * 365.25 * 86_400.0 {
            (s / 86_400.0, "days")
        } else {
            (s / (365.25 * 86_400.0), "years")
        };
        if amount.is_finite() && amount < 1e6 {
            write!(f, ", about {amount:.1} {unit}")?;
        } else if amount.is_finite() {
            write!(f, ", about {amount:.1e} {unit}")?;
        } else {
            write!(f, ", longer than the age of the universe")?;
        }
        write!(
            f,
            " at {ESTIMATE_RATE:e}/s (the limit is 10^{})",
            MAX_CANDIDATES.ilog10()
        )
    }
}

/// `#` is a digit; anything else literal.
fn pattern(p: &str) -> Pattern {
    let template: Vec<u8> = p
        .bytes()
        .map(|b| if b == b'#' { b'0' } else { b })
        .collect();
    let vars = p
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'#')
        .map(|(i, _)| (i, DIGITS))
        .collect();
    Pattern {
        template,
        vars,
        check: Check::None,
    }
}

fn fmt(name: &str, p: &str) -> Format {
    Format {
        name: name.to_string(),
        patterns: vec![pattern(p)],
    }
}

fn kr_mobile() -> Vec<Format> {
    vec![
        fmt("01012345678", "010########"),
        fmt("010-1234-5678", "010-####-####"),
        fmt("+821012345678", "+8210########"),
        fmt("821012345678", "8210########"),
    ]
}

fn e164(country: &str) -> Result<Vec<Format>, Error> {
    Ok(match country {
        "KR" | "kr" => vec![fmt("+821012345678", "+8210########")],
        "JP" | "jp" => vec![
            fmt("+819012345678", "+8190########"),
            fmt("+818012345678", "+8180########"),
            fmt("+817012345678", "+8170########"),
        ],
        "GB" | "gb" | "UK" | "uk" => vec![fmt("+447912345678", "+447#########")],
        "US" | "us" => {
            // NANP: area code and exchange start with 2-9.
            let mut p = pattern("+1##########");
            p.vars[0].1 = b"23456789";
            p.vars[3].1 = b"23456789";
            vec![Format {
                name: "+14155552671".into(),
                patterns: vec![p],
            }]
        }
        _ => return Err(Error::Config("e164 country (KR, JP, GB or US)")),
    })
}

fn card(bin: &str) -> Result<Vec<Format>, Error> {
    if !(4..=10).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Config("card BIN (4 to 10 digits)"));
    }
    let mut p = pattern(&format!("{bin}{}", "#".repeat(16 - bin.len())));
    let last = p.vars.pop().map_or(15, |v| v.0);
    p.check = Check::Luhn(last);
    Ok(vec![Format {
        name: format!("{bin}… (16 digits, Luhn)"),
        patterns: vec![p],
    }])
}

fn kr_rrn(born: (i32, i32)) -> Result<Vec<Format>, Error> {
    let (from, to) = born;
    if from > to || from < 1900 || to > 2019 {
        return Err(Error::Config(
            "--born range within 1900..2019 (pre-2020 RRN structure)",
        ));
    }
    let mut dashed = Vec::new();
    let mut plain = Vec::new();
    let start = Date::new(from, 1, 1)?.to_days();
    let end = Date::new(to, 12, 31)?.to_days();
    for day in start..=end {
        let d = Date::from_days(day);
        let yymmdd = format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day());
        let sex: &'static [u8] = if d.year() >= 2000 { b"34" } else { b"12" };
        for (out, p) in [
            (&mut dashed, format!("{yymmdd}-#######")),
            (&mut plain, format!("{yymmdd}#######")),
        ] {
            let mut pat = pattern(&p);
            // The first variable is the sex/century digit; the last the check digit.
            pat.vars[0].1 = sex;
            let last = pat.vars.pop().map_or(0, |v| v.0);
            pat.check = Check::Rrn(last);
            out.push(pat);
        }
    }
    Ok(vec![
        Format {
            name: "900101-1234567".into(),
            patterns: dashed,
        },
        Format {
            name: "9001011234567".into(),
            patterns: plain,
        },
    ])
}

/// A hashcat mask: `?d` digit, `?l` lowercase, `?u` uppercase, `?h` hex
/// lowercase, `?a` printable ASCII, `??` a literal `?`.
///
/// # Errors
/// [`Error::Config`] for an unknown `?x`.
pub fn mask(m: &str) -> Result<Pattern, Error> {
    let mut template = Vec::new();
    let mut vars = Vec::new();
    let mut it = m.bytes();
    while let Some(b) = it.next() {
        if b == b'?' {
            let cs: &'static [u8] = match it.next() {
                Some(b'd') => DIGITS,
                Some(b'l') => LOWER,
                Some(b'u') => UPPER,
                Some(b'h') => HEX,
                Some(b'a') => PRINTABLE,
                Some(b'?') => {
                    template.push(b'?');
                    continue;
                }
                _ => return Err(Error::Config("mask (?d ?l ?u ?h ?a, ?? for a literal ?)")),
            };
            vars.push((template.len(), cs));
            template.push(cs[0]);
        } else {
            template.push(b);
        }
    }
    Ok(Pattern {
        template,
        vars,
        check: Check::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &Pattern) -> Vec<String> {
        let mut out = p.template.clone();
        let mut odo = vec![0u8; p.vars.len()];
        p.seek(0, &mut out, &mut odo);
        let mut v = vec![String::from_utf8(out.clone()).unwrap()];
        while p.next(&mut out, &mut odo) {
            v.push(String::from_utf8(out.clone()).unwrap());
        }
        v
    }

    #[test]
    fn odometer_visits_every_candidate_once_in_order() {
        let p = mask("a?d?h").unwrap();
        let v = all(&p);
        assert_eq!(v.len(), 160);
        assert_eq!(v[0], "a00");
        assert_eq!(v[1], "a01");
        assert_eq!(v[16], "a10");
        assert_eq!(v[159], "a9f");
        // seek agrees with next
        let mut out = p.template.clone();
        let mut odo = vec![0u8; 2];
        p.seek(37, &mut out, &mut odo);
        assert_eq!(String::from_utf8(out).unwrap(), v[37]);
    }

    #[test]
    fn sizes() {
        let b = (1950, 2005);
        assert_eq!(
            Space::parse("kr-mobile", b).unwrap().size(),
            4 * 100_000_000
        );
        assert_eq!(Space::parse("us-ssn", b).unwrap().size(), 2_000_000_000);
        assert_eq!(
            Space::parse("e164:US", b).unwrap().size(),
            8 * 8 * 100_000_000
        );
        assert_eq!(
            Space::parse("card:411111", b).unwrap().size(),
            1_000_000_000
        );
        let rrn = Space::parse("kr-rrn", (1990, 1990)).unwrap();
        assert_eq!(rrn.size(), 2 * 365 * 2 * 100_000);
        assert!(Space::parse("nope", b).is_err());
        assert!(Space::parse("card:41x", b).is_err());
    }

    #[test]
    fn sizes_past_the_limit_are_refused_with_their_size() {
        let b = (1950, 2005);
        let d16 = "?d".repeat(16);
        assert!(matches!(Space::parse(&d16, b), Err(Error::Config(_))));
        let t = Space::too_large(&d16, b).unwrap();
        assert_eq!(t.candidates(), Some(10u128.pow(16)));
        let text = t.to_string();
        assert!(
            text.starts_with("10^16 candidates, about 6.3 years at 5e7/s"),
            "{text}"
        );
        assert!(text.ends_with(&format!("(the limit is 10^{})", MAX_CANDIDATES.ilog10())));
        // The refusal in `Space::parse` states the same limit.
        let Err(Error::Config(msg)) = Space::parse(&d16, b) else {
            panic!("not refused")
        };
        assert!(msg.contains(&format!("10^{}", MAX_CANDIDATES.ilog10())));

        let a12 = "?a".repeat(12);
        assert!(Space::parse(&a12, b).is_err());
        assert_eq!(
            Space::too_large(&a12, b).unwrap().candidates(),
            Some(95u128.pow(12))
        );
        // Past u128: no overflow, no panic.
        let a100 = "?a".repeat(100);
        assert!(Space::parse(&a100, b).is_err());
        let t = Space::too_large(&a100, b).unwrap();
        assert_eq!(t.candidates(), None);
        assert!(t.to_string().starts_with("more than 3.4e38 candidates"));

        // The limit itself is searchable, one more digit is not.
        assert_eq!(
            Space::parse(&"?d".repeat(12), b).unwrap().size(),
            MAX_CANDIDATES
        );
        assert!(Space::parse(&"?d".repeat(13), b).is_err());
        assert!(Space::too_large(&"?d".repeat(12), b).is_none());
        assert!(Space::too_large("kr-mobile", b).is_none());
        assert!(Space::too_large("?x", b).is_none());
        // 10^10 candidates in three formats of a space do not overflow a sum.
        assert!(Space::parse("kr-rrn", (1900, 2019)).unwrap().searchable());
    }

    #[test]
    fn sizes_are_checked() {
        let mut p = mask("?a").unwrap();
        p.vars = vec![(0, PRINTABLE); 20];
        assert_eq!(p.checked_size(), None);
        assert_eq!(p.size(), u128::MAX);
        let f = Format {
            name: "f".into(),
            patterns: vec![mask(&"?d".repeat(38)).unwrap(); 4],
        };
        assert_eq!(f.checked_size(), None);
        let mut empty = mask("?d").unwrap();
        empty.vars[0].1 = b"";
        assert_eq!(empty.checked_size(), None);
    }

    #[test]
    fn an_alphabet_of_256_bytes_steps_without_overflow() {
        static ALL: [u8; 256] = {
            let mut a = [0u8; 256];
            let mut i = 0;
            while i < 256 {
                a[i] = i as u8;
                i += 1;
            }
            a
        };
        let p = Pattern {
            template: vec![0],
            vars: vec![(0, &ALL)],
            check: Check::None,
        };
        let (mut out, mut odo) = (vec![0u8], vec![0u8]);
        p.seek(0, &mut out, &mut odo);
        let mut seen = vec![out[0]];
        while p.next(&mut out, &mut odo) {
            seen.push(out[0]);
        }
        assert_eq!(seen, ALL);
    }

    proptest::proptest! {
        #[test]
        fn any_mask_string_parses_or_is_refused_without_panic(
            m in "(\\?[dluha?xD]?|[a-z0-9?-]|\\PC){0,80}"
        ) {
            let b = (1950, 2005);
            match Space::parse(&m, b) {
                Ok(s) => {
                    proptest::prop_assert!(s.size() <= MAX_CANDIDATES);
                    proptest::prop_assert!(Space::too_large(&m, b).is_none());
                    if s.size() <= 1000 {
                        let Source::Formats(f) = &s.source else {
                            return Err(proptest::test_runner::TestCaseError::fail("no pattern"));
                        };
                        let n = f.iter().flat_map(|f| &f.patterns).map(|p| all(p).len()).sum::<usize>();
                        proptest::prop_assert_eq!(n as u128, s.size());
                    }
                }
                Err(_) => {
                    if let Some(t) = Space::too_large(&m, b) {
                        proptest::prop_assert!(t.candidates().is_none_or(|n| n > MAX_CANDIDATES));
                        proptest::prop_assert!(!t.to_string().is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn check_digits() {
        let p = card("4111111111").unwrap().remove(0).patterns.remove(0);
        assert!(all(&p).contains(&"4111111111111111".to_string()));
        let synth = crate::synth::Generator::new(3).customer(0);
        let rrn = synth.rrn.as_bytes();
        assert_eq!(crate::checks::rrn_check_digit(&rrn[..13]), Some(rrn[13]));
    }
}
