//! Identifiers inside free text: Korean phone numbers, E.164 numbers,
//! emails, resident, foreigner and business registration numbers, payment
//! cards, IP addresses, passport, driver's licence and bank account numbers.
//!
//! `no_std` and allocation-free: [`Detectors::scan`] walks the bytes of a
//! text once and calls back with each [`Match`] in text order; matches never
//! overlap. [`Match::normalize`] writes the identifier in the form the column
//! transforms see after their normalizers (docs/FORMAT.md, "Free text"), so a
//! phone number in a note gets the pseudonym the phone column gets.
//!
//! # How numbers are read
//! A *run* is a stretch of digit groups (ASCII or full-width digits)
//! joined by separators: `-`, `.`, full-width `－`, the Unicode dashes
//! U+2010 to U+2015 (each *strong*, optionally with spaces around), the
//! parentheses of one parenthesized group (`(02) 1234-5678`, `+82 (0)10`)
//! or spaces alone (*weak*). Groups joined by strong separators
//! form a *segment* that is read whole or not at all: no detector fires on
//! the pieces of a longer number (`2024-010-1234-5678` is not a phone
//! number). Segments joined by spaces may be read together or apart, so
//! `3건 010 1234 5678` still finds the phone and `4111 1111 1111 1111`
//! is one card. A segment glued to a letter or a digit (`ID0101234`,
//! `12/010-1234-5678`) is never read. A `.` followed by a space ends a run.
//! A segment of more than twelve groups is not read either, but what follows
//! it after a space is: no length of text before an identifier hides it.
//!
//! Each candidate (one or more whole segments) goes through the rules below
//! in this order; the first that accepts it wins, longer candidates first.
//!
//! | id | rule | replacement tag |
//! |---|---|---|
//! | `e164:<CC>`, `phone:KR` | `+`, a calling code of [`E164_COUNTRIES`], a national number of that country's length (`normalize`'s `phone:<CC>`); `+82` numbers are `phone:KR` | `[PHONE]` |
//! | `rrn` | 13 digits, `YYMMDDS-NNNNNN` or without the dash: a valid birth date, sex digit 1 to 4 (9, 0: born in the 1800s); the check digit ([`checks::rrn_valid`]) unless born from October 2020 on (new numbers carry none) or a context word precedes | `[RRN]` |
//! | `frn` | as `rrn` with sex digit 5 to 8 and [`checks::frn_valid`] | `[FRN]` |
//! | `ipv4` | four dot-separated numbers 0 to 255 | `[IP]` |
//! | `driver:KR` | `RR-YY-NNNNNN-CC` with region code 11 to 28, or `서울 YY-NNNNNN-CC` with a region name; 12 plain digits after a context word | `[DRIVER_LICENSE]` |
//! | `brn` | `NNN-NN-NNNNN` (first digit not 0) with a valid check digit ([`checks::brn_valid`]); 10 plain digits after a context word | `[BRN]` |
//! | `card` | 13 to 19 digits passing Luhn, starting with 2 to 6 (any digit after a context word), written in one piece (15 or 16 digits; any length after a context word), in groups of four, or 4-6-5 / 4-6-4 | `[CARD]` |
//! | `phone:KR` | a national number starting with a Korean area or mobile code (`010`, `011`, `016` to `019`, `02`, `031` to `033`, `041` to `044`, `051` to `055`, `061` to `064`, `070`), the code as its own group when grouped | `[PHONE]` |
//! | `account:KR` | 10 to 14 digits in at most four groups of at least two, within 40 bytes after a bank keyword | `[ACCOUNT]` |
//!
//! Outside runs:
//!
//! | id | rule | replacement tag |
//! |---|---|---|
//! | `email` | `local@domain.tld`: local part of `A-Z a-z 0-9 . _ % + -` (at most 64), domain labels of letters, digits and `-`, a last label of two or more letters | `[EMAIL]` |
//! | `ipv6` | hex groups and colons parsed by `core::net::Ipv6Addr`, with at least three colons or a `::` and a digit | `[IP]` |
//! | `passport:KR` | `M12345678` or `M123A4567` (letter `M`, `S`, `R`, `G`, `D` or `T`; any capital after a context word), not glued to letters or digits | `[PASSPORT]` |
//!
//! Context words are searched in the 40 bytes before a candidate, within
//! its sentence:
//! 주민등록번호, 주민번호 (`rrn`), 외국인등록번호, 외국인번호 (`frn`),
//! 사업자 (`brn`), 카드 (`card`), 면허 (`driver:KR`), 여권
//! (`passport:KR`), and for `account:KR` 계좌, 입금, 송금, 환불, 은행 and the bank
//! names (국민, 신한, 우리, 하나, 농협, 기업, 카카오뱅크, 토스뱅크, 케이뱅크,
//! 우체국, 새마을, 신협, 수협, SC제일, 씨티).
//!
//! # Example
//! ```
//! use deid::detect::{Detectors, Kind};
//! let text = "고객 010-1234-5678 연락 요망, 이메일 kim@naver.com";
//! let mut found = Vec::new();
//! Detectors::all().scan(text, |m| found.push((m.kind, &text[m.start..m.end])));
//! assert_eq!(found, [(Kind::Phone, "010-1234-5678"), (Kind::Email, "kim@naver.com")]);
//!
//! let mut out = [0u8; 64];
//! let mut first = None;
//! Detectors::all().scan("연락처 ０１０．１２３４．５６７８", |m| first = Some(m));
//! let m = first.unwrap();
//! assert_eq!(m.normalize("연락처 ０１０．１２３４．５６７８", &mut out).unwrap(), b"+821012345678");
//! ```

use core::fmt;
use core::str::FromStr;

use crate::checks;
use crate::date::Date;
use crate::error::Error;
use crate::normalize::{Country, Normalizer};

/// The countries `e164:<CC>` detects (`+` and their calling code).
pub const E164_COUNTRIES: [Country; Country::ALL.len()] = Country::ALL;

/// The type of a detected identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// A Korean phone number, national or `+82` (`phone:KR`).
    Phone,
    /// An international number of another country of [`E164_COUNTRIES`] (`e164:<CC>`).
    E164,
    /// An email address (`email`).
    Email,
    /// A resident registration number (`rrn`).
    Rrn,
    /// A foreigner registration number (`frn`).
    Frn,
    /// A business registration number (`brn`).
    Brn,
    /// A payment card number (`card`).
    Card,
    /// An IPv4 address (`ipv4`).
    Ipv4,
    /// An IPv6 address (`ipv6`).
    Ipv6,
    /// A Korean passport number (`passport:KR`).
    Passport,
    /// A Korean driver's licence number (`driver:KR`).
    Driver,
    /// A bank account number after a bank keyword (`account:KR`).
    Account,
}

impl Kind {
    /// Every kind, in [`Kind::index`] order.
    pub const ALL: [Kind; 12] = [
        Kind::Phone,
        Kind::E164,
        Kind::Email,
        Kind::Rrn,
        Kind::Frn,
        Kind::Brn,
        Kind::Card,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Passport,
        Kind::Driver,
        Kind::Account,
    ];

    /// A dense index (0 to 11), for counters.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name used in summaries and reports (`phone:KR`, `e164`, `email`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Phone => "phone:KR",
            Kind::E164 => "e164",
            Kind::Email => "email",
            Kind::Rrn => "rrn",
            Kind::Frn => "frn",
            Kind::Brn => "brn",
            Kind::Card => "card",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Passport => "passport:KR",
            Kind::Driver => "driver:KR",
            Kind::Account => "account:KR",
        }
    }

    /// The tag `replace = "tag"` writes, with its brackets (`[PHONE]`).
    pub const fn tag(self) -> &'static str {
        match self {
            Kind::Phone | Kind::E164 => "[PHONE]",
            Kind::Email => "[EMAIL]",
            Kind::Rrn => "[RRN]",
            Kind::Frn => "[FRN]",
            Kind::Brn => "[BRN]",
            Kind::Card => "[CARD]",
            Kind::Ipv4 | Kind::Ipv6 => "[IP]",
            Kind::Passport => "[PASSPORT]",
            Kind::Driver => "[DRIVER_LICENSE]",
            Kind::Account => "[ACCOUNT]",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One detector as named in policies: `phone:KR`, `e164:US`, `email`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DetectorId {
    /// What it finds.
    pub kind: Kind,
    /// For `e164:<CC>`, the country.
    pub country: Option<Country>,
}

impl fmt::Display for DetectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.country) {
            (Kind::E164, Some(c)) => write!(f, "e164:{}", c.code()),
            (k, _) => f.write_str(k.name()),
        }
    }
}

impl FromStr for DetectorId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        const IDS: &str = "detector (phone:KR, e164:<CC>, email, rrn, frn, brn, card, ipv4, ipv6, passport:KR, driver:KR or account:KR)";
        if let Some(cc) = s.strip_prefix("e164:") {
            let country: Country = cc.parse().map_err(|_| Error::Config(IDS))?;
            return Ok(DetectorId {
                kind: Kind::E164,
                country: Some(country),
            });
        }
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.name() == s && *k != Kind::E164)
            .ok_or(Error::Config(IDS))?;
        Ok(DetectorId {
            kind,
            country: None,
        })
    }
}

impl serde::Serialize for DetectorId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DetectorId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DetectorId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a detector id such as \"phone:KR\" or \"email\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DetectorId, E> {
                v.parse().map_err(|e: Error| E::custom(e))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A set of detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Detectors {
    kinds: u16,
    /// Bit i: `E164_COUNTRIES[i]`.
    e164: u16,
}

impl Default for Detectors {
    fn default() -> Self {
        Self::all()
    }
}

const _: () = assert!(E164_COUNTRIES.len() <= u16::BITS as usize);

fn country_bit(c: Country) -> u16 {
    // `E164_COUNTRIES` is `Country::ALL`, in declaration order (a unit test
    // in `normalize.rs` checks it): a country's bit is its discriminant.
    1 << c as u16
}

impl Detectors {
    /// Every detector (`e164` for every country of [`E164_COUNTRIES`]).
    pub const fn all() -> Self {
        Detectors {
            kinds: (1 << Kind::ALL.len()) - 1,
            e164: (1 << E164_COUNTRIES.len()) - 1,
        }
    }

    /// No detector.
    pub const fn none() -> Self {
        Detectors { kinds: 0, e164: 0 }
    }

    /// This set and `id`.
    pub fn with(mut self, id: DetectorId) -> Self {
        self.kinds |= 1 << id.kind.index();
        if let (Kind::E164, Some(c)) = (id.kind, id.country) {
            self.e164 |= country_bit(c);
        }
        self
    }

    /// The set of `ids`; every detector when `ids` is empty.
    pub fn from_ids(ids: &[DetectorId]) -> Self {
        if ids.is_empty() {
            return Self::all();
        }
        ids.iter().fold(Self::none(), |d, &id| d.with(id))
    }

    /// Whether the set finds `kind`.
    pub const fn contains(&self, kind: Kind) -> bool {
        self.kinds & (1 << kind as usize) != 0
    }

    fn e164_for(&self, c: Country) -> bool {
        self.contains(Kind::E164) && self.e164 & country_bit(c) != 0
    }

    /// Calls `found` with every identifier in `text`, in text order, never
    /// overlapping.
    pub fn scan(&self, text: &str, mut found: impl FnMut(Match)) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if !INTERESTING[c as usize] {
                i += 1;
                continue;
            }
            if c.is_ascii_alphanumeric() || c == b'_' {
                if i > 0 && is_word(b[i - 1]) {
                    // Inside a word already passed over (cannot happen
                    // after the skips below, kept for safety).
                    i += 1;
                    continue;
                }
                if self.contains(Kind::Email) {
                    if let Some(end) = email_at(b, i) {
                        found(Match::new(Kind::Email, None, i, end));
                        i = end;
                        continue;
                    }
                }
                if self.contains(Kind::Ipv6) && c.is_ascii_hexdigit() {
                    if let Some(end) = ipv6_at(text, i) {
                        found(Match::new(Kind::Ipv6, None, i, end));
                        i = end;
                        continue;
                    }
                }
                if c.is_ascii_digit() {
                    i = self.run(b, i, &mut found);
                    continue;
                }
                if self.contains(Kind::Passport) {
                    if let Some(end) = passport_at(b, i) {
                        found(Match::new(Kind::Passport, None, i, end));
                        i = end;
                        continue;
                    }
                }
                // Pass over the rest of the word.
                i += 1;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                continue;
            }
            match c {
                b':' if self.contains(Kind::Ipv6)
                    && b.get(i + 1) == Some(&b':')
                    && (i == 0 || !is_word(b[i - 1])) =>
                {
                    if let Some(end) = ipv6_at(text, i) {
                        found(Match::new(Kind::Ipv6, None, i, end));
                        i = end;
                    } else {
                        i += 2;
                    }
                }
                b'+' => i = self.run(b, i, &mut found),
                0xEF if digit_at(b, i).is_some() || plus_at(b, i) > 0 => {
                    i = self.run(b, i, &mut found);
                }
                _ => i += 1,
            }
        }
    }

    /// Reads the run starting at `i` (a digit or a plus sign), reports what
    /// it holds, and returns where scanning resumes.
    fn run(&self, b: &[u8], i: usize, found: &mut impl FnMut(Match)) -> usize {
        let Some(run) = Run::parse(b, i) else {
            return i + plus_at(b, i).max(1);
        };
        // In a cut run (see `Run::cut`) a candidate may go on past the cut,
        // and then holds at least `MAX_GROUPS + 1 - seg_start[s]` groups. A
        // segment `s` is read here only when no candidate starting at it
        // can cross the cut: too many groups or too many segments. The rest
        // are left to a new run that starts at the first of them, so an
        // identifier is never split by the cut. The first segment is always
        // read here (`MAX_GROUPS` > `MAX_GROUPS_PER_CANDIDATE`), so the scan
        // moves on.
        let limit = if run.cut {
            (0..run.nseg)
                .find(|&s| {
                    run.nseg - s < MAX_SEGS_PER_CANDIDATE
                        && MAX_GROUPS + 1 - run.seg_start[s] <= MAX_GROUPS_PER_CANDIDATE
                })
                .unwrap_or(run.nseg)
        } else {
            run.nseg
        };
        let mut s = 0;
        while s < limit {
            if run.seg_poisoned(s) {
                s += 1;
                continue;
            }
            let mut matched = false;
            let last = (s + MAX_SEGS_PER_CANDIDATE).min(run.nseg);
            let mut e = last;
            while e > s {
                if (s..e).any(|x| run.seg_poisoned(x)) {
                    e -= 1;
                    continue;
                }
                let (g0, g1) = (run.seg_start[s], run.seg_start[e]);
                if let Some(m) = self.classify(b, &run, g0, g1) {
                    found(m);
                    matched = true;
                    break;
                }
                e -= 1;
            }
            s = if matched { e } else { s + 1 };
        }
        if s < run.nseg {
            run.groups[run.seg_start[s]].start
        } else {
            run.end
        }
    }

    /// The rules of the module doc, on groups `g0..g1` of `run`.
    fn classify(&self, b: &[u8], run: &Run, g0: usize, g1: usize) -> Option<Match> {
        let k = g1 - g0;
        if k > MAX_GROUPS_PER_CANDIDATE {
            return None;
        }
        let start = run.groups[g0].start;
        let end = run.groups[g1 - 1].end;
        let mut dbuf = [0u8; MAX_DIGITS];
        let mut n = 0;
        for g in &run.groups[g0..g1] {
            let d = run.digits(g);
            if n + d.len() > MAX_DIGITS {
                return None;
            }
            dbuf[n..n + d.len()].copy_from_slice(d);
            n += d.len();
        }
        let d = &dbuf[..n];
        let len = |j: usize| run.groups[g0 + j].len as usize;
        let sep = |j: usize| run.seps[g0 + j];
        let lens_are = |want: &[usize]| k == want.len() && (0..k).all(|j| len(j) == want[j]);
        let ctx = |words: &[&str]| context_before(b, start, words);

        // International numbers: the plus sign only belongs to the run's first group.
        if g0 == 0 && run.plus {
            return self.international(run.plus_start, end, d);
        }
        // IPv4.
        if self.contains(Kind::Ipv4)
            && k == 4
            && (0..3).all(|j| sep(j) == Sep::Dot)
            && (0..4).all(|j| len(j) <= 3)
            && !d.is_empty()
        {
            let mut octets = [0u32; 4];
            let mut p = 0;
            for (j, o) in octets.iter_mut().enumerate() {
                let l = len(j);
                if l > 1 && d[p] == b'0' {
                    return None;
                }
                *o = d[p..p + l]
                    .iter()
                    .fold(0, |a, &c| a * 10 + u32::from(c - b'0'));
                p += l;
            }
            return octets
                .iter()
                .all(|&o| o <= 255)
                .then(|| Match::new(Kind::Ipv4, None, start, end));
        }
        // Resident and foreigner registration numbers.
        if n == 13 && (k == 1 || (lens_are(&[6, 7]) && sep(0) != Sep::Dot)) {
            if let Some(kind) = registration(d, |k| {
                ctx(match k {
                    Kind::Rrn => RRN_WORDS,
                    _ => FRN_WORDS,
                })
            }) {
                if self.contains(kind) {
                    return Some(Match::new(kind, None, start, end));
                }
            }
        }
        // Driver's licences.
        if self.contains(Kind::Driver) {
            let region_ok = |r: &[u8]| (11..=28).contains(&two(r));
            let dashed = (0..k.saturating_sub(1)).all(|j| sep(j) == Sep::Dash);
            if lens_are(&[2, 2, 6, 2]) && dashed && region_ok(&d[..2]) {
                return Some(Match::new(Kind::Driver, None, start, end));
            }
            if lens_are(&[2, 6, 2]) && dashed {
                if let Some(rs) = region_name_before(b, start) {
                    return Some(Match::new(Kind::Driver, None, rs, end));
                }
            }
            if k == 1 && n == 12 && region_ok(&d[..2]) && ctx(DRIVER_WORDS) {
                return Some(Match::new(Kind::Driver, None, start, end));
            }
        }
        // Business registration numbers.
        if self.contains(Kind::Brn)
            && d.first() != Some(&b'0')
            && ((lens_are(&[3, 2, 5]) && sep(0) == Sep::Dash && sep(1) == Sep::Dash)
                || (k == 1 && n == 10 && ctx(BRN_WORDS)))
            && checks::brn_valid(d)
        {
            return Some(Match::new(Kind::Brn, None, start, end));
        }
        // Payment cards.
        if self.contains(Kind::Card) && (13..=19).contains(&n) && checks::luhn_valid(d) {
            let same_sep = (1..k.saturating_sub(1)).all(|j| sep(j) == sep(0));
            let fours = k >= 3 && (0..k - 1).all(|j| len(j) == 4) && (1..=4).contains(&len(k - 1));
            let amex = lens_are(&[4, 6, 5]) || lens_are(&[4, 6, 4]);
            let context = ctx(CARD_WORDS);
            let shape =
                (k == 1 && (context || n == 15 || n == 16)) || (same_sep && (fours || amex));
            if shape && (matches!(d[0], b'2'..=b'6') || context) {
                return Some(Match::new(Kind::Card, None, start, end));
            }
        }
        // Korean national phone numbers.
        if self.contains(Kind::Phone) && d.first() == Some(&b'0') && (9..=11).contains(&n) {
            if let Some(area) = kr_area_len(d) {
                let rest = n - area;
                let shape = match k {
                    1 => true,
                    2 => {
                        (len(0) == area && (7..=8).contains(&len(1)))
                            || ((area + 3..=area + 4).contains(&len(0)) && len(1) == 4)
                    }
                    3 => len(0) == area && (3..=4).contains(&len(1)) && len(2) == 4,
                    _ => false,
                };
                let mobile_ok = !(d.starts_with(b"010") || d.starts_with(b"070")) || rest == 8;
                if shape && (7..=8).contains(&rest) && mobile_ok {
                    // "(02) 1234-5678": the opening parenthesis goes with it.
                    let open = k >= 2 && sep(0) == Sep::Close && start > 0 && b[start - 1] == b'(';
                    let start = if open { start - 1 } else { start };
                    return Some(Match::new(Kind::Phone, Some(Country::KR), start, end));
                }
            }
        }
        // Bank accounts after a bank keyword.
        if self.contains(Kind::Account)
            && (10..=14).contains(&n)
            && k <= 4
            && (0..k).all(|j| len(j) >= 2)
            && (0..k.saturating_sub(1)).all(|j| sep(j) == Sep::Dash)
            && ctx(ACCOUNT_WORDS)
        {
            return Some(Match::new(Kind::Account, None, start, end));
        }
        None
    }

    /// `+` numbers: the country by calling code, the length by the
    /// country's rule (the `phone:<CC>` normalizer).
    fn international(&self, start: usize, end: usize, d: &[u8]) -> Option<Match> {
        if !(8..=15).contains(&d.len()) {
            return None;
        }
        // No calling code starts another (a unit test checks it); the NANP
        // countries share `1` and its rules: the first of them the set
        // detects takes the number.
        let (country, kind) = E164_COUNTRIES
            .into_iter()
            .filter(|c| d.starts_with(c.calling_code()))
            .find_map(|c| {
                if c == Country::KR && self.contains(Kind::Phone) {
                    Some((c, Kind::Phone))
                } else {
                    self.e164_for(c).then_some((c, Kind::E164))
                }
            })?;
        let mut tmp = [0u8; MAX_DIGITS + 1];
        tmp[0] = b'+';
        tmp[1..=d.len()].copy_from_slice(d);
        let mut out = [0u8; MAX_DIGITS + 8];
        Normalizer::Phone(country)
            .apply(&tmp[..=d.len()], &mut out)
            .ok()?;
        if country == Country::KR {
            // "+82 (0)10": a trunk zero written after the code.
            let cc = country.calling_code().len();
            let nsn = d[cc..].strip_prefix(b"0").unwrap_or(&d[cc..]);
            let mut national = [0u8; MAX_DIGITS + 1];
            national[0] = b'0';
            national[1..=nsn.len()].copy_from_slice(nsn);
            let national = &national[..=nsn.len()];
            let rest = kr_area_len(national).map(|a| national.len() - a);
            if !matches!(rest, Some(7..=8)) {
                return None;
            }
        }
        Some(Match::new(kind, Some(country), start, end))
    }
}

/// The candidate spans at most this many segments joined by spaces (a
/// French number written `+33 6 12 34 56 78` has six).
const MAX_SEGS_PER_CANDIDATE: usize = 6;
/// A candidate holds at most this many groups (a card of 19 digits in
/// fours has five).
const MAX_GROUPS_PER_CANDIDATE: usize = 6;
/// Groups kept per run; a run with more is cut (see `Run::cut`) or, when
/// one segment goes on past it, poisoned.
const MAX_GROUPS: usize = 12;
const _: () = assert!(MAX_GROUPS > MAX_GROUPS_PER_CANDIDATE);
/// Digits kept per group; a longer group poisons its segment.
const MAX_GROUP_DIGITS: usize = 19;
const MAX_DIGITS: usize = 24;
/// Bytes searched before a candidate for a context word.
const CONTEXT_BYTES: usize = 40;

const RRN_WORDS: &[&str] = &["주민등록번호", "주민번호"];
const FRN_WORDS: &[&str] = &["외국인등록번호", "외국인번호"];
const BRN_WORDS: &[&str] = &["사업자"];
const CARD_WORDS: &[&str] = &["카드"];
const DRIVER_WORDS: &[&str] = &["면허"];
const PASSPORT_WORDS: &[&str] = &["여권"];
const ACCOUNT_WORDS: &[&str] = &[
    "계좌",
    "입금",
    "송금",
    "환불",
    "은행",
    "국민",
    "신한",
    "우리",
    "하나",
    "농협",
    "기업",
    "카카오뱅크",
    "토스뱅크",
    "케이뱅크",
    "우체국",
    "새마을",
    "신협",
    "수협",
    "SC제일",
    "씨티",
];
/// Driver's licence regions by name, with their codes (in the normalized form).
const REGIONS: [(&str, &[u8; 2]); 17] = [
    ("서울", b"11"),
    ("부산", b"12"),
    ("경기", b"13"),
    ("강원", b"14"),
    ("충북", b"15"),
    ("충남", b"16"),
    ("전북", b"17"),
    ("전남", b"18"),
    ("경북", b"19"),
    ("경남", b"20"),
    ("제주", b"21"),
    ("대구", b"22"),
    ("인천", b"23"),
    ("광주", b"24"),
    ("대전", b"25"),
    ("울산", b"26"),
    ("세종", b"27"),
];

/// Bytes where an identifier may start: ASCII letters and digits, `_`, `+`,
/// `:` (IPv6) and 0xEF (full-width forms).
static INTERESTING: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'+' || b == b':' || b == 0xEF;
        c += 1;
    }
    t
};

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn two(d: &[u8]) -> u32 {
    u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0')
}

/// The ASCII digit at `i` and its byte length (ASCII or full-width U+FF10..U+FF19).
fn digit_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    match b.get(i)? {
        c @ b'0'..=b'9' => Some((*c, 1)),
        0xEF if b.get(i + 1) == Some(&0xBC) => match b.get(i + 2)? {
            c @ 0x90..=0x99 => Some((b'0' + (c - 0x90), 3)),
            _ => None,
        },
        _ => None,
    }
}

/// The length of a plus sign (ASCII or full-width U+FF0B) at `i`, or 0.
fn plus_at(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'+') => 1,
        Some(0xEF) if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x8B) => 3,
        _ => 0,
    }
}

/// How two digit groups are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    /// Spaces only.
    Space,
    /// `-` or a dash, spaces around allowed.
    Dash,
    /// `.` alone.
    Dot,
    /// `(`, spaces before allowed, before a parenthesized group.
    Open,
    /// `)`, spaces after allowed, after a parenthesized group.
    Close,
}

/// One separator character at `i`: its kind (`None` for a space) and length.
fn sep_char(b: &[u8], i: usize) -> Option<(Option<Sep>, usize)> {
    match b.get(i)? {
        b' ' => Some((None, 1)),
        b'-' => Some((Some(Sep::Dash), 1)),
        b'.' => Some((Some(Sep::Dot), 1)),
        b'(' => Some((Some(Sep::Open), 1)),
        b')' => Some((Some(Sep::Close), 1)),
        0xC2 if b.get(i + 1) == Some(&0xA0) => Some((None, 2)), // no-break space
        0xEF if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x8D) => {
            Some((Some(Sep::Dash), 3)) // full-width hyphen-minus
        }
        0xEF if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x8E) => {
            Some((Some(Sep::Dot), 3)) // full-width full stop
        }
        0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x90..=0x95)) => {
            Some((Some(Sep::Dash), 3)) // U+2010..U+2015
        }
        _ => None,
    }
}

/// The separator at `i` if a digit follows it: up to three characters, at
/// most one not a space; a dot with spaces ends a sentence, not a number.
fn sep_at(b: &[u8], i: usize) -> Option<(Sep, usize)> {
    let mut p = i;
    let mut strong: Option<Sep> = None;
    let mut spaces = 0;
    for _ in 0..3 {
        if digit_at(b, p).is_some() {
            break;
        }
        let (kind, len) = sep_char(b, p)?;
        match kind {
            None => spaces += 1,
            Some(k) => {
                if strong.is_some() {
                    return None;
                }
                strong = Some(k);
            }
        }
        p += len;
    }
    digit_at(b, p)?;
    match strong {
        None if spaces > 0 => Some((Sep::Space, p)),
        Some(Sep::Dot) if spaces > 0 => None,
        Some(k) => Some((k, p)),
        None => None,
    }
}

#[derive(Clone, Copy, Default)]
struct Group {
    start: usize,
    end: usize,
    /// Digits (0 when the group is too long to keep).
    len: u8,
    /// Offset of its digits in `Run::digits`.
    off: u8,
    long: bool,
}

/// A run of digit groups (see the module doc).
struct Run {
    plus: bool,
    plus_start: usize,
    groups: [Group; MAX_GROUPS],
    /// `seps[j]` joins groups j and j+1.
    seps: [Sep; MAX_GROUPS],
    n: usize,
    digits: [u8; MAX_GROUPS * MAX_GROUP_DIGITS],
    /// First group of each segment, and `n` after the last.
    seg_start: [usize; MAX_GROUPS + 1],
    nseg: usize,
    poisoned: u16,
    end: usize,
    /// Cut at [`MAX_GROUPS`] before a space, or before a segment that goes
    /// on past the limit: an identifier may go on past `end`.
    cut: bool,
}

impl Run {
    fn parse(b: &[u8], i: usize) -> Option<Run> {
        let mut run = Run {
            plus: false,
            plus_start: i,
            groups: [Group::default(); MAX_GROUPS],
            seps: [Sep::Space; MAX_GROUPS],
            n: 0,
            digits: [0; MAX_GROUPS * MAX_GROUP_DIGITS],
            seg_start: [0; MAX_GROUPS + 1],
            nseg: 0,
            poisoned: 0,
            end: i,
            cut: false,
        };
        let mut p = i;
        let pl = plus_at(b, p);
        if pl > 0 {
            run.plus = true;
            p += pl;
            if b.get(p) == Some(&b' ') {
                p += 1;
            }
            digit_at(b, p)?;
        }
        let glued_before = glued_before(b, i);
        let mut glued_tail = false;
        // A parenthesized group: `(02) 1234-5678`, `+82 (0)10`.
        let mut opened = !run.plus && i > 0 && b[i - 1] == b'(' && closes(b, i);
        loop {
            // One group.
            let mut g = Group {
                start: p,
                off: (run.n * MAX_GROUP_DIGITS) as u8,
                ..Group::default()
            };
            let mut count = 0usize;
            while let Some((d, l)) = digit_at(b, p) {
                if count < MAX_GROUP_DIGITS {
                    run.digits[run.n * MAX_GROUP_DIGITS + count] = d;
                }
                count += 1;
                p += l;
            }
            g.end = p;
            g.long = count > MAX_GROUP_DIGITS;
            g.len = count.min(MAX_GROUP_DIGITS) as u8;
            run.groups[run.n] = g;
            run.n += 1;
            let Some((sep, next)) = sep_at(b, p) else {
                break;
            };
            match sep {
                Sep::Close if opened => opened = false,
                Sep::Open if !opened && closes(b, next) => opened = true,
                Sep::Close | Sep::Open => break,
                _ if opened => break,
                _ => {}
            }
            if run.n == MAX_GROUPS {
                if sep == Sep::Space {
                    run.cut = true;
                } else if let Some(seg) = run.last_segment_start() {
                    // The current segment goes on past the limit: the run
                    // ends before it, and it is read again by a run of its
                    // own, so what follows it is still read.
                    run.n = seg;
                    p = run.groups[seg - 1].end;
                    run.cut = true;
                } else {
                    // One segment too long to read: the rest of it is
                    // consumed unread.
                    glued_tail = true;
                    p = skip_run(b, next);
                }
                break;
            }
            run.seps[run.n - 1] = sep;
            p = next;
        }
        run.end = p;
        if glued_after(b, run.groups[run.n - 1].end) {
            glued_tail = true;
        }
        // Segments.
        for j in 0..run.n {
            if j == 0 || run.seps[j - 1] == Sep::Space {
                run.seg_start[run.nseg] = j;
                run.nseg += 1;
            }
            if run.groups[j].long {
                run.poisoned |= 1 << (run.nseg - 1);
            }
        }
        run.seg_start[run.nseg] = run.n;
        if glued_before {
            run.poisoned |= 1;
        }
        if glued_tail {
            run.poisoned |= 1 << (run.nseg - 1);
        }
        Some(run)
    }

    /// The first group of the segment being read, when a space comes
    /// before it (segments are only known once the run is read).
    fn last_segment_start(&self) -> Option<usize> {
        (1..self.n).rev().find(|&j| self.seps[j - 1] == Sep::Space)
    }

    fn seg_poisoned(&self, s: usize) -> bool {
        self.poisoned & (1 << s) != 0
    }

    fn digits(&self, g: &Group) -> &[u8] {
        &self.digits[g.off as usize..g.off as usize + g.len as usize]
    }
}

/// Whether the digits from `p` are followed by `)`.
fn closes(b: &[u8], mut p: usize) -> bool {
    while let Some((_, l)) = digit_at(b, p) {
        p += l;
    }
    b.get(p) == Some(&b')')
}

/// Past the segment that goes on from `p`: every digit and every `-`, dash
/// or `.` between digits. It stops before spaces alone and parentheses, where
/// another segment may start.
fn skip_run(b: &[u8], mut p: usize) -> usize {
    loop {
        while let Some((_, l)) = digit_at(b, p) {
            p += l;
        }
        match sep_at(b, p) {
            Some((Sep::Dash | Sep::Dot, next)) => p = next,
            _ => return p,
        }
    }
}

/// Whether the text before `i` continues a longer token: a letter or digit
/// right before, or `-`, `.`, `/` after a digit.
fn glued_before(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let prev = b[i - 1];
    if is_word(prev) {
        return true;
    }
    if matches!(prev, b'-' | b'.' | b'/') && i >= 2 {
        let pp = b[i - 2];
        return pp.is_ascii_digit() || ((0x90..=0x99).contains(&pp) && i >= 4 && b[i - 4] == 0xEF);
    }
    false
}

/// Whether the text after `end` continues a longer token: a letter or
/// digit right after, or `-`, `/` and a digit.
fn glued_after(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        Some(&c) if is_word(c) => true,
        Some(b'-' | b'/' | b'@') => b.get(end + 1).is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Whether one of `words` ends within [`CONTEXT_BYTES`] before `start`.
/// The window stops at the end of the previous sentence (`. `, `! `, `? `
/// or a line break): a context word speaks for its own sentence.
fn context_before(b: &[u8], start: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(CONTEXT_BYTES);
    for j in (from..start).rev() {
        if b[j] == b'\n' || (matches!(b[j], b'.' | b'!' | b'?') && b.get(j + 1) == Some(&b' ')) {
            from = j + 1;
            break;
        }
    }
    let window = &b[from..start];
    words.iter().any(|w| contains(window, w.as_bytes()))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The start of a region name (with at most one space) right before `start`.
fn region_name_before(b: &[u8], start: usize) -> Option<usize> {
    let end = if start > 0 && b[start - 1] == b' ' {
        start - 1
    } else {
        start
    };
    REGIONS.iter().find_map(|(name, _)| {
        let n = name.len();
        (end >= n && &b[end - n..end] == name.as_bytes()).then(|| end - n)
    })
}

/// The length of the Korean area or mobile code that starts `d`.
fn kr_area_len(d: &[u8]) -> Option<usize> {
    match d {
        [b'0', b'2', ..] => Some(2),
        [b'0', b'1', b'0' | b'1' | b'6'..=b'9', ..] => Some(3),
        [b'0', b'3', b'1'..=b'3', ..]
        | [b'0', b'4', b'1'..=b'4', ..]
        | [b'0', b'5', b'1'..=b'5', ..]
        | [b'0', b'6', b'1'..=b'4', ..]
        | [b'0', b'7', b'0', ..] => Some(3),
        _ => None,
    }
}

/// An RRN or FRN by the rule of the module doc, `context(kind)` telling
/// whether its context word precedes.
fn registration(d: &[u8], context: impl Fn(Kind) -> bool) -> Option<Kind> {
    let s = d[6];
    let (century, kind) = match s {
        b'1' | b'2' => (1900, Kind::Rrn),
        b'3' | b'4' => (2000, Kind::Rrn),
        b'9' | b'0' => (1800, Kind::Rrn),
        b'5' | b'6' => (1900, Kind::Frn),
        b'7' | b'8' => (2000, Kind::Frn),
        _ => return None,
    };
    let year = century + two(&d[0..2]) as i32;
    let (month, day) = (two(&d[2..4]) as u8, two(&d[4..6]) as u8);
    Date::new(year, month, day).ok()?;
    let new_style = (year, month) >= (2020, 10);
    let check = match kind {
        Kind::Rrn => checks::rrn_valid(d),
        _ => checks::frn_valid(d),
    };
    (check || new_style || context(kind)).then_some(kind)
}

/// An email address starting at `i`, by the rule of the module doc.
fn email_at(b: &[u8], i: usize) -> Option<usize> {
    let local_char =
        |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut j = i;
    while j < b.len() && local_char(b[j]) && j - i <= 64 {
        j += 1;
    }
    if j == i || j - i > 64 || b.get(j) != Some(&b'@') || b[j - 1] == b'.' {
        return None;
    }
    let mut k = j + 1;
    let mut labels = 0;
    let mut last;
    loop {
        let ls = k;
        while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'-') {
            k += 1;
        }
        if k == ls {
            return None;
        }
        labels += 1;
        last = (ls, k);
        if b.get(k) == Some(&b'.') && b.get(k + 1).is_some_and(u8::is_ascii_alphanumeric) {
            k += 1;
            continue;
        }
        break;
    }
    let tld = &b[last.0..last.1];
    if labels < 2 || tld.len() < 2 || !tld.iter().all(u8::is_ascii_alphabetic) || k - j > 254 {
        return None;
    }
    if matches!(b.get(k), Some(b'@' | b'_')) {
        return None;
    }
    Some(k)
}

/// An IPv6 address starting at `i`, by the rule of the module doc.
fn ipv6_at(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut j = i;
    let mut colons = 0;
    while j < b.len() && j - i <= 45 && (b[j].is_ascii_hexdigit() || b[j] == b':' || b[j] == b'.') {
        colons += usize::from(b[j] == b':');
        j += 1;
    }
    if colons < 2 {
        return None;
    }
    while j > i && b[j - 1] == b'.' {
        j -= 1;
    }
    if b.get(j).is_some_and(|&c| is_word(c)) {
        return None;
    }
    let s = text.get(i..j)?;
    s.parse::<core::net::Ipv6Addr>().ok()?;
    let has_digit = s.bytes().any(|c| c.is_ascii_digit());
    (colons >= 3 || (s.contains("::") && has_digit)).then_some(j)
}

/// A Korean passport number starting at `i`.
fn passport_at(b: &[u8], i: usize) -> Option<usize> {
    let w = b.get(i..i + 9)?;
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let shape = w[0].is_ascii_uppercase()
        && (digits(&w[1..]) || (digits(&w[1..4]) && w[4].is_ascii_uppercase() && digits(&w[5..])));
    if !shape || b.get(i + 9).is_some_and(|&c| is_word(c)) {
        return None;
    }
    (matches!(w[0], b'M' | b'S' | b'R' | b'G' | b'D' | b'T')
        || context_before(b, i, PASSPORT_WORDS))
    .then_some(i + 9)
}

/// One identifier found in a text: its type and byte span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// What it is.
    pub kind: Kind,
    /// For phone numbers, the country whose rule read it.
    pub country: Option<Country>,
    /// Byte offset of its first byte (a char boundary).
    pub start: usize,
    /// Byte offset past its last byte (a char boundary).
    pub end: usize,
}

impl Match {
    fn new(kind: Kind, country: Option<Country>, start: usize, end: usize) -> Self {
        Match {
            kind,
            country,
            start,
            end,
        }
    }

    /// The most bytes [`Match::normalize`] writes.
    pub const fn max_normalized_len(&self) -> usize {
        let n = self.end - self.start;
        if n + 8 > 48 { n + 8 } else { 48 }
    }

    /// Writes the identifier as the column normalizers would give it
    /// (docs/FORMAT.md, "Free text"): phone numbers in E.164 (`phone:<CC>`),
    /// emails lowercased (`email`), RRN, FRN, BRN, card, account and
    /// driver's licence numbers as their digits (a region name as its code),
    /// IP addresses in their canonical text form, passports as written.
    /// Full-width digits and signs read as ASCII.
    ///
    /// # Errors
    /// [`Error::Invalid`] if `text` is not the text the match was found in;
    /// [`Error::BufferTooSmall`] if `out` is shorter than
    /// [`Match::max_normalized_len`].
    pub fn normalize<'a>(&self, text: &str, out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        const RULE: &str = "detected identifier";
        let span = text
            .as_bytes()
            .get(self.start..self.end)
            .ok_or(Error::Invalid(RULE))?;
        let mut fold = [0u8; 320];
        let mut n = 0;
        let mut p = 0;
        while p < span.len() {
            let (c, l) = if let Some(d) = digit_at(span, p) {
                d
            } else if plus_at(span, p) > 0 {
                (b'+', plus_at(span, p))
            } else if let Some((k, l)) = sep_char(span, p) {
                (
                    match k {
                        None | Some(Sep::Space) => b' ',
                        Some(Sep::Dash) => b'-',
                        Some(Sep::Dot) => b'.',
                        Some(Sep::Open | Sep::Close) => span[p],
                    },
                    l,
                )
            } else if let Some((name, code)) = REGIONS
                .iter()
                .find(|(name, _)| span[p..].starts_with(name.as_bytes()))
            {
                *fold.get_mut(n).ok_or(Error::Invalid(RULE))? = code[0];
                n += 1;
                (code[1], name.len())
            } else {
                (span[p], 1)
            };
            *fold.get_mut(n).ok_or(Error::Invalid(RULE))? = c;
            n += 1;
            p += l;
        }
        let folded = &fold[..n];
        let need = self.max_normalized_len();
        if out.len() < need {
            return Err(Error::BufferTooSmall(need));
        }
        match self.kind {
            Kind::Phone | Kind::E164 => {
                Normalizer::Phone(self.country.unwrap_or(Country::KR)).apply(folded, out)
            }
            Kind::Email => Normalizer::Email.apply(folded, out),
            Kind::Rrn | Kind::Frn | Kind::Brn | Kind::Card | Kind::Account | Kind::Driver => {
                Normalizer::Digits.apply(folded, out)
            }
            Kind::Passport => {
                out[..n].copy_from_slice(folded);
                Ok(&out[..n])
            }
            Kind::Ipv4 | Kind::Ipv6 => {
                let s = core::str::from_utf8(folded).map_err(|_| Error::Invalid(RULE))?;
                let ip: core::net::IpAddr = s.parse().map_err(|_| Error::Invalid(RULE))?;
                crate::transform::format_into(out, format_args!("{ip}"))
            }
        }
    }
}
