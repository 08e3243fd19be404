//! Normalizers run before a transform so the same person gets the same
//! pseudonym whatever the formatting: `trim`, `lowercase`, `digits`, `email`,
//! `phone:<ISO country>` (to E.164).
//!
//! All work on caller buffers. A value a normalizer cannot make sense of is an
//! error naming the rule (`phone:KR`), never the value: under the policy's
//! `on_error` it stops the run or drops the record, it is never written in
//! clear.
//!
//! # Example
//! ```
//! use deid::normalize::Normalizer;
//! let phone: Normalizer = "phone:KR".parse().unwrap();
//! let mut out = [0u8; 32];
//! assert_eq!(phone.apply(b"010-1234-5678", &mut out).unwrap(), b"+821012345678");
//! assert_eq!(phone.apply(b"+82 10 1234 5678", &mut out).unwrap(), b"+821012345678");
//! let email: Normalizer = "email".parse().unwrap();
//! assert_eq!(email.apply(b"  Ada@Example.COM ", &mut out).unwrap(), b"ada@example.com");
//! ```

use core::fmt;
use core::str::FromStr;

use crate::error::Error;

/// Countries whose phone numbers `phone:<country>` understands.
///
/// Each is read by the same rules (docs/FORMAT.md, "Normalizers") with its
/// own numbering plan: calling code, national number lengths, international
/// call prefixes and whether national numbers are dialled with a trunk `0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Country {
    /// South Korea (+82).
    KR,
    /// United States and the NANP (+1).
    US,
    /// Japan (+81).
    JP,
    /// China (+86).
    CN,
    /// United Kingdom (+44).
    GB,
    /// Germany (+49).
    DE,
    /// France (+33).
    FR,
    /// Spain (+34).
    ES,
    /// The Netherlands (+31).
    NL,
    /// Canada (+1, the NANP as [`Country::US`]).
    CA,
    /// Australia (+61).
    AU,
    /// India (+91).
    IN,
    /// Singapore (+65).
    SG,
    /// Hong Kong (+852).
    HK,
    /// Taiwan (+886).
    TW,
}

/// A country's numbering plan, as `phone:<country>` reads it.
struct Plan {
    /// ISO 3166-1 alpha-2 code.
    code: &'static str,
    /// ITU-T E.164 country calling code.
    calling_code: &'static [u8],
    /// Lengths a national significant number (without trunk prefix) may
    /// have.
    nsn_len: (usize, usize),
    /// The international call prefixes dialled from the country, each
    /// starting with `intl_root` (a unit test checks it).
    intl_prefixes: &'static [&'static [u8]],
    intl_root: &'static [u8],
    /// Whether national numbers are dialled with a leading trunk `0`.
    trunk_zero: bool,
    /// Mobile numbers dialled without the trunk `0`, though the country
    /// has one: their length and the range of their first digit.
    trunkless_mobile: Option<(usize, u8, u8)>,
}

impl Plan {
    /// Whether this is the North American Numbering Plan, whose area codes
    /// start with 2 to 9.
    const fn nanp(&self) -> bool {
        matches!(self.calling_code, [b'1'])
    }

    /// Whether `d`, read as national, is a mobile number dialled without
    /// the trunk `0`.
    fn is_trunkless_mobile(&self, d: &[u8]) -> bool {
        self.trunkless_mobile
            .is_some_and(|(len, lo, hi)| d.len() == len && (lo..=hi).contains(&d[0]))
    }
}

impl Country {
    /// Every country, in declaration order.
    pub const ALL: [Country; 15] = [
        Country::KR,
        Country::US,
        Country::JP,
        Country::CN,
        Country::GB,
        Country::DE,
        Country::FR,
        Country::ES,
        Country::NL,
        Country::CA,
        Country::AU,
        Country::IN,
        Country::SG,
        Country::HK,
        Country::TW,
    ];

    /// This country's numbering plan.
    const fn plan(self) -> Plan {
        const fn plan(
            code: &'static str,
            calling_code: &'static [u8],
            nsn_len: (usize, usize),
            intl_prefixes: &'static [&'static [u8]],
            intl_root: &'static [u8],
            trunk_zero: bool,
        ) -> Plan {
            Plan {
                code,
                calling_code,
                nsn_len,
                intl_prefixes,
                intl_root,
                trunk_zero,
                trunkless_mobile: None,
            }
        }
        const ZERO_ZERO: &[&[u8]] = &[b"00"];
        // The NANP's trunk prefix is `1`, which is its calling code: read
        // as the calling code, with no trunk `0`.
        const NANP: &[&[u8]] = &[b"011"];
        match self {
            // 02-123-4567 to 010-1234-5678; the carriers' 001 to 008 and
            // 00700 besides 00.
            Country::KR => plan(
                "KR",
                b"82",
                (8, 10),
                &[b"00700", b"001", b"002", b"005", b"006", b"008", b"00"],
                b"00",
                true,
            ),
            Country::US => plan("US", b"1", (10, 10), NANP, b"011", false),
            Country::CA => plan("CA", b"1", (10, 10), NANP, b"011", false),
            Country::JP => plan("JP", b"81", (9, 10), &[b"010"], b"010", true),
            // Mobiles: 11 digits from 1.
            Country::CN => Plan {
                trunkless_mobile: Some((11, b'1', b'1')),
                ..plan("CN", b"86", (9, 11), ZERO_ZERO, b"00", true)
            },
            Country::GB => plan("GB", b"44", (9, 10), ZERO_ZERO, b"00", true),
            Country::DE => plan("DE", b"49", (6, 13), ZERO_ZERO, b"00", true),
            Country::FR => plan("FR", b"33", (9, 9), ZERO_ZERO, b"00", true),
            Country::ES => plan("ES", b"34", (9, 9), ZERO_ZERO, b"00", false),
            Country::NL => plan("NL", b"31", (9, 9), ZERO_ZERO, b"00", true),
            Country::AU => plan("AU", b"61", (9, 9), &[b"0011"], b"0011", true),
            // Mobiles: 10 digits from 6 to 9.
            Country::IN => Plan {
                trunkless_mobile: Some((10, b'6', b'9')),
                ..plan("IN", b"91", (10, 10), ZERO_ZERO, b"00", true)
            },
            // 000 and the carriers' 001, 002, 008, 018 and 019.
            Country::SG => plan(
                "SG",
                b"65",
                (8, 8),
                &[b"000", b"001", b"002", b"008", b"018", b"019"],
                b"0",
                false,
            ),
            Country::HK => plan("HK", b"852", (8, 8), &[b"001"], b"001", false),
            // 002 and the carriers' 005, 006, 007, 009 and 019.
            Country::TW => plan(
                "TW",
                b"886",
                (8, 9),
                &[b"002", b"005", b"006", b"007", b"009", b"019"],
                b"0",
                true,
            ),
        }
    }

    /// ISO 3166-1 alpha-2 code.
    pub const fn code(self) -> &'static str {
        self.plan().code
    }

    /// ITU-T E.164 country calling code.
    pub const fn calling_code(self) -> &'static [u8] {
        self.plan().calling_code
    }
}

impl FromStr for Country {
    type Err = Error;

    /// An ISO 3166-1 code in capitals or in small letters (`KR`, `kr`);
    /// `UK` is `GB`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = match s {
            "UK" | "uk" => "GB",
            s => s,
        };
        let small = |c: &str| {
            code.len() == c.len()
                && code
                    .bytes()
                    .zip(c.bytes())
                    .all(|(a, b)| a == b.to_ascii_lowercase())
        };
        Country::ALL
            .into_iter()
            .find(|c| code == c.code() || small(c.code()))
            .ok_or(Error::Config(
                "phone country (KR, US, JP, CN, GB, DE, FR, ES, NL, CA, AU, IN, SG, HK or TW)",
            ))
    }
}

/// One normalization step, named as in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Normalizer {
    /// `trim`: leading and trailing Unicode white space removed.
    Trim,
    /// `lowercase`: Unicode lowercase.
    Lowercase,
    /// `digits`: every character but the ASCII digits removed.
    Digits,
    /// `email`: trimmed and lowercased (local part too: the providers that
    /// matter treat it case-insensitively), exactly one `@` with text on both
    /// sides, no white space inside.
    Email,
    /// `phone:<country>`: to E.164 (`+` and digits), national numbers read
    /// with this country's trunk and international prefixes.
    Phone(Country),
}

impl Normalizer {
    /// The name used in policies (`phone:KR`).
    pub fn name(self) -> NormalizerName {
        NormalizerName(self)
    }

    /// The longest output for an input of `len` bytes (Unicode lowercase may
    /// grow a string up to 3×; a phone gains at most a `+` and a calling code).
    pub const fn max_output_len(self, len: usize) -> usize {
        match self {
            Normalizer::Lowercase | Normalizer::Email => 3 * len,
            Normalizer::Phone(_) => len + 4,
            Normalizer::Trim | Normalizer::Digits => len,
        }
    }

    /// Normalizes `input` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the rule for input it cannot normalize
    /// (not UTF-8, not an email, not a phone number of that country);
    /// [`Error::BufferTooSmall`] if `out` is too short.
    pub fn apply<'a>(self, input: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let n = match self {
            Normalizer::Trim => {
                let s = text(input, "trim")?.trim();
                copy(s.as_bytes(), out)?
            }
            Normalizer::Lowercase => lowercase(text(input, "lowercase")?, out)?,
            Normalizer::Digits => {
                let mut n = 0;
                for &c in input.iter().filter(|c| c.is_ascii_digit()) {
                    *out.get_mut(n).ok_or(Error::BufferTooSmall(input.len()))? = c;
                    n += 1;
                }
                n
            }
            Normalizer::Email => email(input, out)?,
            Normalizer::Phone(country) => phone(country, input, out)?,
        };
        Ok(&out[..n])
    }
}

/// Displays a normalizer as in policies, e.g. `phone:KR`.
#[derive(Clone, Copy, Debug)]
pub struct NormalizerName(Normalizer);

impl fmt::Display for NormalizerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Normalizer::Trim => f.write_str("trim"),
            Normalizer::Lowercase => f.write_str("lowercase"),
            Normalizer::Digits => f.write_str("digits"),
            Normalizer::Email => f.write_str("email"),
            Normalizer::Phone(c) => write!(f, "phone:{}", c.code()),
        }
    }
}

impl fmt::Display for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name().fmt(f)
    }
}

impl FromStr for Normalizer {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "trim" => Normalizer::Trim,
            "lowercase" => Normalizer::Lowercase,
            "digits" => Normalizer::Digits,
            "email" => Normalizer::Email,
            _ => match s.strip_prefix("phone:") {
                Some(c) => Normalizer::Phone(c.parse()?),
                None => {
                    return Err(Error::Config(
                        "normalizer (trim, lowercase, digits, email or phone:<country>)",
                    ));
                }
            },
        })
    }
}

impl serde::Serialize for Normalizer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Normalizer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Normalizer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("one of \"trim\", \"lowercase\", \"digits\", \"email\", \"phone:<KR|US|JP|CN|GB|DE>\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Normalizer, E> {
                v.parse()
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Runs `chain` over `input`, ping-ponging between two scratch buffers.
/// With an empty chain the input is returned as is.
///
/// # Errors
/// The first normalizer's error.
#[inline]
pub fn apply_chain<'a>(
    chain: &[Normalizer],
    input: &'a [u8],
    a: &'a mut [u8],
    b: &'a mut [u8],
) -> Result<&'a [u8], Error> {
    let Some((first, rest)) = chain.split_first() else {
        return Ok(input);
    };
    let mut len = first.apply(input, a)?.len();
    let (mut src, mut dst) = (a, b);
    for n in rest {
        len = n.apply(&src[..len], dst)?.len();
        core::mem::swap(&mut src, &mut dst);
    }
    let src: &'a [u8] = src;
    Ok(&src[..len])
}

fn text<'a>(input: &'a [u8], rule: &'static str) -> Result<&'a str, Error> {
    core::str::from_utf8(input).map_err(|_| Error::Invalid(rule))
}

fn copy(src: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    out.get_mut(..src.len())
        .ok_or(Error::BufferTooSmall(src.len()))?
        .copy_from_slice(src);
    Ok(src.len())
}

fn lowercase(s: &str, out: &mut [u8]) -> Result<usize, Error> {
    if s.is_ascii() {
        let n = copy(s.as_bytes(), out)?;
        out[..n].make_ascii_lowercase();
        return Ok(n);
    }
    let mut n = 0;
    let mut utf8 = [0u8; 4];
    for c in s.chars().flat_map(char::to_lowercase) {
        let enc = c.encode_utf8(&mut utf8).as_bytes();
        out.get_mut(n..n + enc.len())
            .ok_or(Error::BufferTooSmall(3 * s.len()))?
            .copy_from_slice(enc);
        n += enc.len();
    }
    Ok(n)
}

fn email(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    if let Some(n) = email_short(input, out) {
        return n;
    }
    if input.is_ascii() {
        email_ascii(input, out)
    } else {
        email_text(input, out)
    }
}

/// The high bit of each byte of `m` (a mask as [`email_word`] makes), as
/// the low eight bits of the result: bit `i` for byte `i`.
fn byte_bits(m: u64) -> u32 {
    // Bit 8i of `m >> 7` times bit 56 - 7j of the constant lands on bit
    // 56 + 8i - 7j: a different bit for every pair (i, j), so nothing
    // carries, and on bits 56..64 only when i = j.
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// [`email_text`] for an address of 16 to 32 bytes with no whitespace:
/// `None` for any other input (or one that is not ASCII), which the
/// caller reads the general way. It reads the first sixteen bytes and the
/// last sixteen as four words (overlapping when the address is shorter
/// than 32 bytes) and decides on 32-bit masks of their `@`s, so its cost
/// does not depend on the address's length or where its `@` is: a column
/// of addresses of varied lengths costs what one repeated address does
/// (the common case on the hot path of `deid apply`).
fn email_short(input: &[u8], out: &mut [u8]) -> Option<Result<usize, Error>> {
    const HI: u64 = 0x8080_8080_8080_8080;
    let n = input.len();
    if !(16..=32).contains(&n) {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(input[at..at + 8].try_into().unwrap_or([0; 8]));
    let words = [word(0), word(8), word(n - 16), word(n - 8)];
    if words.iter().fold(0, |m, w| m | w) & HI != 0 {
        return None;
    }
    let [a0, a1, b0, b1] = words.map(email_word);
    if (a0.1 | a1.1 | b0.1 | b1.1) != 0 {
        return None;
    }
    // Bit i: whether byte i is an `@` (the halves overlap when n < 32).
    let half = |x: u64, y: u64| byte_bits(x) | byte_bits(y) << 8;
    let ats = half(a0.2, a1.2) | half(b0.2, b1.2) << (n - 16);
    let at = ats.trailing_zeros() as usize;
    if ats.count_ones() != 1
        || at == 0
        || at + 1 >= n
        || input[at + 1] == b'.'
        || input[n - 1] == b'.'
    {
        return Some(Err(Error::Invalid("email")));
    }
    let Some(out) = out.get_mut(..n) else {
        return Some(Err(Error::BufferTooSmall(n)));
    };
    out[..8].copy_from_slice(&a0.0.to_le_bytes());
    out[8..16].copy_from_slice(&a1.0.to_le_bytes());
    out[n - 16..n - 8].copy_from_slice(&b0.0.to_le_bytes());
    out[n - 8..].copy_from_slice(&b1.0.to_le_bytes());
    Some(Ok(n))
}

/// Whitespace as `char::is_whitespace` sees it, for ASCII bytes.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// [`email_text`] for ASCII input (the caller has checked it) of any
/// length, with spaces around it or not: trim, then lowercase eight bytes
/// at a time, gathering masks of the spaces and `@`s that the checks read
/// once at the end.
fn email_ascii(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let bad = Error::Invalid("email");
    let start = input
        .iter()
        .position(|&b| !is_ascii_space(b))
        .unwrap_or(input.len());
    let end = input
        .iter()
        .rposition(|&b| !is_ascii_space(b))
        .map_or(start, |i| i + 1);
    let s = &input[start..end];
    let out = out
        .get_mut(..s.len())
        .ok_or(Error::BufferTooSmall(s.len()))?;
    let (mut spaces, mut ats, mut at) = (0u64, 0usize, 0usize);
    let mut word = |from: usize, w: [u8; 8]| {
        let (lower, space, at_mask) = email_word(u64::from_le_bytes(w));
        spaces |= space;
        ats += at_mask.count_ones() as usize;
        if at_mask != 0 {
            at = from + at_mask.trailing_zeros() as usize / 8;
        }
        lower.to_le_bytes()
    };
    let mut words = s.chunks_exact(8);
    let mut outs = out.chunks_exact_mut(8);
    for (i, (w, o)) in (&mut words).zip(&mut outs).enumerate() {
        o.copy_from_slice(&word(8 * i, w.try_into().unwrap_or([0; 8])));
    }
    let rest = words.remainder().len();
    let n = s.len();
    if n >= 8 && rest > 0 {
        // The last eight bytes again, as one word (not copied into a
        // padded one: the load would wait on the copy's narrower stores).
        // The bytes seen already are masked off; lowercasing them again
        // writes what is there.
        let w = u64::from_le_bytes(s[n - 8..].try_into().unwrap_or([0; 8]));
        let (lower, space, at_mask) = email_word(w);
        let fresh = u64::MAX << (8 * (8 - rest));
        spaces |= space & fresh;
        ats += (at_mask & fresh).count_ones() as usize;
        if at_mask & fresh != 0 {
            at = n - 8 + (at_mask & fresh).trailing_zeros() as usize / 8;
        }
        out[n - 8..].copy_from_slice(&lower.to_le_bytes());
    } else if rest > 0 {
        // Under eight bytes: one word, padded with zeros (neither a space
        // nor `@`).
        let last = words.remainder();
        let mut padded = [0u8; 8];
        padded[..rest].copy_from_slice(last);
        let lower = word(0, padded);
        outs.into_remainder().copy_from_slice(&lower[..rest]);
    }
    let domain = &s[(at + 1).min(s.len())..];
    if spaces != 0
        || ats != 1
        || at == 0
        || domain.is_empty()
        || domain.starts_with(b".")
        || domain.ends_with(b".")
    {
        return Err(bad);
    }
    Ok(s.len())
}

/// Eight ASCII bytes of an address, lowercased, with masks of their
/// whitespace bytes (as [`is_ascii_space`]) and of their `@`s: the high bit
/// of each such byte. Every byte is below 0x80, so adding to it never
/// carries into the next one.
fn email_word(w: u64) -> (u64, u64, u64) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = LO << 7;
    // A byte's high bit, once `0x80 - c` is added: the byte is at least `c`.
    let at_least = |c: u8| w.wrapping_add((0x80 - u64::from(c)) * LO) & HI;
    // A byte's high bit, once 0x7F is added to it xor `c`: it is not `c`.
    let is = |c: u8| !(w ^ (u64::from(c) * LO)).wrapping_add(0x7F * LO) & HI;
    let upper = at_least(b'A') & !at_least(b'Z' + 1);
    let space = (at_least(0x09) & !at_least(0x0E)) | is(b' ');
    (w | (upper >> 2), space, is(b'@'))
}

fn email_text(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let s = text(input, "email")?.trim();
    let mut parts = s.split('@');
    let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(d), None) => (l, d),
        _ => return Err(Error::Invalid("email")),
    };
    if local.is_empty()
        || domain.is_empty()
        || s.chars().any(char::is_whitespace)
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(Error::Invalid("email"));
    }
    lowercase(s, out)
}

/// The rule `phone:<country>` errors name.
const PHONE_RULE: &str = "phone number";

fn phone(country: Country, input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    // The common case first: a value that starts and ends with a visible
    // ASCII byte has nothing to trim, and needs no UTF-8 check, since any
    // non-ASCII byte is refused below with the same error a failed check
    // gives. Other values are checked and trimmed as text.
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !is_ascii_space(b));
    if plain(input.first()) && plain(input.last()) {
        phone_trimmed(country, input, out)
    } else {
        phone_text(country, input, out)
    }
}

/// `phone` on any input: checked as UTF-8 and trimmed of Unicode
/// whitespace, then read by [`phone_trimmed`].
fn phone_text(country: Country, input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let s = text(input, PHONE_RULE)?.trim();
    phone_trimmed(country, s.as_bytes(), out)
}

/// `phone` on an input with nothing to trim.
fn phone_trimmed(country: Country, s: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    const RULE: &str = PHONE_RULE;
    // Digits only, remembering a leading '+'; separators may be spaces,
    // dashes, dots, slashes and parentheses, nothing else.
    let mut digits = [0u8; 24];
    let mut n = 0;
    let mut plus = false;
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                *digits.get_mut(n).ok_or(Error::Invalid(RULE))? = c;
                n += 1;
            }
            b'+' if i == 0 => plus = true,
            b' ' | b'-' | b'.' | b'(' | b')' | b'/' => {}
            _ => return Err(Error::Invalid(RULE)),
        }
    }
    let d = &digits[..n];
    let plan = country.plan();
    let cc = plan.calling_code;
    let (min, max) = plan.nsn_len;

    // International form: +CC..., or an international prefix, or (without
    // either) the calling code itself when the rest has a valid length.
    let intl: Option<&[u8]> = if plus {
        Some(d)
    } else if let Some(rest) = strip_intl_prefix(&plan, d) {
        Some(rest)
    } else if starts(d, cc)
        && (min..=max).contains(&(d.len() - cc.len()))
        && !(plan.trunk_zero && starts(d, b"0"))
    {
        Some(d)
    } else {
        None
    };

    let nsn: &[u8] = match intl {
        Some(full) if starts(full, cc) => {
            let rest = &full[cc.len()..];
            // "+82 (0)10 ..." style: a trunk zero written after the code.
            if plan.trunk_zero && starts(rest, b"0") {
                &rest[1..]
            } else {
                rest
            }
        }
        Some(full) => {
            // Another country's number: keep it as E.164 if plausible.
            if !(8..=15).contains(&full.len()) || starts(full, b"0") {
                return Err(Error::Invalid(RULE));
            }
            return write_e164(&[], full, out);
        }
        // Chinese and Indian mobile numbers are dialled without the trunk
        // zero.
        None if plan.is_trunkless_mobile(d) => d,
        None if plan.trunk_zero => starts(d, b"0")
            .then(|| &d[1..])
            .ok_or(Error::Invalid(RULE))?,
        None => d,
    };
    if !(min..=max).contains(&nsn.len()) || starts(nsn, b"0") {
        return Err(Error::Invalid(RULE));
    }
    if plan.nanp() && nsn[0] < b'2' {
        return Err(Error::Invalid(RULE)); // NANP area codes start with 2-9
    }
    write_e164(cc, nsn, out)
}

/// Strips an international call prefix. Prefixes can overlap (Korea's
/// `008` carrier prefix and `00` followed by `82`), so a prefix followed by
/// this country's own calling code wins.
fn strip_intl_prefix<'d>(plan: &Plan, d: &'d [u8]) -> Option<&'d [u8]> {
    if !starts(d, plan.intl_root) {
        return None;
    }
    let cc = plan.calling_code;
    let mut candidates = plan
        .intl_prefixes
        .iter()
        .filter(|p| starts(d, p))
        .map(|p| &d[p.len()..]);
    let first = candidates.next()?;
    if starts(first, cc) {
        return Some(first);
    }
    Some(candidates.find(|rest| starts(rest, cc)).unwrap_or(first))
}

/// `s.starts_with(prefix)` for the few bytes of a phone number, compared
/// inline (the slice method calls `memcmp`, which costs more than the
/// comparison on these lengths).
#[inline]
fn starts(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s.iter().zip(prefix).all(|(a, b)| a == b)
}

fn write_e164(cc: &[u8], nsn: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let len = 1 + cc.len() + nsn.len();
    let out = out.get_mut(..len).ok_or(Error::BufferTooSmall(len))?;
    out[0] = b'+';
    out[1..=cc.len()].copy_from_slice(cc);
    out[1 + cc.len()..].copy_from_slice(nsn);
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order() {
        for (i, c) in Country::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn every_intl_prefix_starts_with_its_countrys_root() {
        for c in Country::ALL {
            let plan = c.plan();
            for p in plan.intl_prefixes {
                assert!(p.starts_with(plan.intl_root), "{c:?}");
            }
        }
    }

    /// Both ASCII paths (`email_short` for 16-32 bytes without spaces,
    /// `email_ascii` for the rest) against the text path.
    #[test]
    fn email_ascii_paths_equal_the_text_path() {
        let check = |v: &[u8]| {
            let (mut a, mut b, mut c) = ([0u8; 64], [0u8; 64], [0u8; 64]);
            let fast = email(v, &mut a).map(|n| a[..n].to_vec());
            let text = email_text(v, &mut b).map(|n| b[..n].to_vec());
            proptest::prop_assert_eq!(&fast, &text);
            // `email_ascii` takes ASCII only (its caller checks).
            if v.is_ascii() {
                let ascii = email_ascii(v, &mut c).map(|n| c[..n].to_vec());
                proptest::prop_assert_eq!(&ascii, &text);
            }
            Ok(())
        };
        proptest::proptest!(|(v in "[ \t\n\x0b\x0c\r\x08\x0e\x1f!AZ@\\[`az{.-]{0,40}")| {
            check(v.as_bytes())?;
        });
        // Addresses as they come, of every length around the short path's.
        proptest::proptest!(|(v in "[a-zA-Z0-9._]{1,20}@[a-zA-Z0-9.]{0,3}[a-zA-Z0-9.@ ]{0,12}")| {
            check(v.as_bytes())?;
        });
        // Any ASCII bytes, in any number of words and tails.
        proptest::proptest!(|(v in proptest::collection::vec(0u8..0x80, 0..48))| {
            check(&v)?;
        });
        // Non-ASCII bytes anywhere in a 16-32-byte address go the text way.
        proptest::proptest!(|(len in 16usize..=32, at in 0usize..32, b in 0x80u8..=0xff)| {
            let mut v = b"abcdefghij@example.com.example.org"[..len].to_vec();
            v[at % len] = b;
            check(&v)?;
        });
    }

    #[test]
    fn email_short_path_places_and_counts_the_at_in_both_halves() {
        // One `@` at every place of every length the short path takes,
        // then two `@`s: the overlap of the halves must count each once.
        for n in 16..=32 {
            for at in 0..n {
                let mut v = [b'A'; 32];
                v[at] = b'@';
                let v = &v[..n];
                let mut out = [0u8; 64];
                let mut lower = [b'a'; 32];
                lower[at] = b'@';
                let want = (at > 0 && at + 1 < n).then_some(&lower[..n]);
                let got = email(v, &mut out).ok().map(|k| &out[..k]);
                assert_eq!(got, want, "{n} {at}");
                for second in (0..n).filter(|&s| s != at) {
                    let mut two = [0u8; 32];
                    two[..n].copy_from_slice(v);
                    two[second] = b'@';
                    assert!(email(&two[..n], &mut out).is_err(), "{n} {at} {second}");
                }
            }
        }
        // A buffer too small for the address is refused, not overrun.
        assert_eq!(
            email(b"ada.lovelace@example.com", &mut [0u8; 23]),
            Err(Error::BufferTooSmall(24))
        );
    }

    #[test]
    fn byte_bits_gathers_each_bytes_high_bit() {
        for m in 0..=255u32 {
            let spread = (0..8)
                .filter(|i| m >> i & 1 == 1)
                .fold(0u64, |w, i| w | 0x80 << (8 * i));
            assert_eq!(byte_bits(spread), m);
        }
    }

    #[test]
    fn phone_ascii_path_equals_the_text_path() {
        // Short inputs of digits, separators, '+', whitespace (ASCII and
        // not), other ASCII and non-ASCII letters, under every country.
        let bytes = proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(b"0123456789+ -./()\t\n\x0b\x0c\r\x1c#a".to_vec()),
                proptest::num::u8::ANY,
            ],
            0..26,
        );
        let with_text = proptest::prop_oneof![
            bytes.clone(),
            proptest::strategy::Strategy::prop_map("[0-9 +\u{a0}\u{3000}\u{85}-]{0,20}", |s| s
                .into_bytes()),
        ];
        proptest::proptest!(|(v in with_text, c in 0..Country::ALL.len())| {
            let country = Country::ALL[c];
            let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
            let fast = phone(country, &v, &mut a).map(|n| a[..n].to_vec());
            let text = phone_text(country, &v, &mut b).map(|n| b[..n].to_vec());
            proptest::prop_assert_eq!(fast, text);
        });
        // And on numbers written the usual ways, which mostly succeed.
        proptest::proptest!(|(p in "(\\+82 ?|0)?(10|2|31)[-. ]?[0-9]{3,4}[-. ]?[0-9]{4}", c in 0..Country::ALL.len())| {
            let country = Country::ALL[c];
            let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
            let fast = phone(country, p.as_bytes(), &mut a).map(|n| a[..n].to_vec());
            let text = phone_text(country, p.as_bytes(), &mut b).map(|n| b[..n].to_vec());
            proptest::prop_assert_eq!(fast, text);
        });
    }

    fn norm(n: &str, input: &str) -> Result<[u8; 64], Error> {
        let mut out = [0u8; 64];
        let len = n
            .parse::<Normalizer>()
            .unwrap()
            .apply(input.as_bytes(), &mut out)?
            .len();
        let mut fixed = [0u8; 64];
        fixed[..len].copy_from_slice(&out[..len]);
        Ok(fixed)
    }

    fn ok(n: &str, input: &str, want: &str) {
        let out = norm(n, input).unwrap_or_else(|e| panic!("{n} {input:?}: {e}"));
        let got = core::str::from_utf8(&out).unwrap().trim_end_matches('\0');
        assert_eq!(got, want, "{n} {input:?}");
    }

    fn bad(n: &str, input: &str) {
        assert!(
            matches!(norm(n, input), Err(Error::Invalid(_))),
            "{n} {input:?} should be rejected"
        );
    }

    #[test]
    fn korean_numbers_in_every_common_form() {
        for input in [
            "010-1234-5678",
            "01012345678",
            "010 1234 5678",
            "010.1234.5678",
            "+82 10-1234-5678",
            "+821012345678",
            "821012345678",
            "0082-10-1234-5678",
            "001-82-10-1234-5678",
            "+82 (0)10 1234 5678",
            " 010-1234-5678 ",
        ] {
            ok("phone:KR", input, "+821012345678");
        }
        ok("phone:KR", "02-123-4567", "+8221234567");
        ok("phone:KR", "031-123-4567", "+82311234567");
        bad("phone:KR", "1234");
        bad("phone:KR", "010-1234-5678-9999");
        bad("phone:KR", "010-12x4-5678");
        bad("phone:KR", "");
        bad("phone:KR", "++821012345678");
    }

    #[test]
    fn other_countries() {
        ok("phone:US", "(415) 555-2671", "+14155552671");
        ok("phone:US", "1-415-555-2671", "+14155552671");
        ok("phone:US", "+1 415 555 2671", "+14155552671");
        ok("phone:US", "011 44 20 7946 0958", "+442079460958");
        bad("phone:US", "(015) 555-2671");
        ok("phone:JP", "090-1234-5678", "+819012345678");
        ok("phone:JP", "03-1234-5678", "+81312345678");
        ok("phone:CN", "138 1234 5678", "+8613812345678");
        ok("phone:CN", "010-1234-5678", "+861012345678");
        ok("phone:GB", "07911 123456", "+447911123456");
        ok("phone:GB", "+44 20 7946 0958", "+442079460958");
        ok("phone:DE", "030 123456", "+4930123456");
        ok("phone:DE", "+49 1512 3456789", "+4915123456789");
        // Another country's number under phone:KR stays E.164.
        ok("phone:KR", "+1 415 555 2671", "+14155552671");
        ok("phone:FR", "06 12 34 56 78", "+33612345678");
        ok("phone:FR", "+33 (0)1 23 45 67 89", "+33123456789");
        ok("phone:FR", "0033 1 23 45 67 89", "+33123456789");
        bad("phone:FR", "06 12 34 56");
        ok("phone:ES", "612 34 56 78", "+34612345678");
        ok("phone:ES", "34 612 345 678", "+34612345678");
        ok("phone:ES", "0034 912 345 678", "+34912345678");
        bad("phone:ES", "0612 34 56 78");
        ok("phone:NL", "06-12345678", "+31612345678");
        ok("phone:NL", "020 123 4567", "+31201234567");
        ok("phone:CA", "(416) 555-0123", "+14165550123");
        ok("phone:CA", "1 604 555 0199", "+16045550199");
        bad("phone:CA", "(116) 555-0123");
        ok("phone:AU", "0412 345 678", "+61412345678");
        ok("phone:AU", "(02) 9876 5432", "+61298765432");
        ok("phone:AU", "0011 44 20 7946 0958", "+442079460958");
        ok("phone:IN", "98765 43210", "+919876543210");
        ok("phone:IN", "098765 43210", "+919876543210");
        ok("phone:IN", "+91 98765 43210", "+919876543210");
        ok("phone:IN", "91234 56789", "+919123456789");
        ok("phone:IN", "011 2345 6789", "+911123456789");
        bad("phone:IN", "58765 43210");
        ok("phone:SG", "9123 4567", "+6591234567");
        ok("phone:SG", "+65 6123 4567", "+6561234567");
        ok("phone:SG", "001 82 10 1234 5678", "+821012345678");
        bad("phone:SG", "0123 4567");
        ok("phone:HK", "9123 4567", "+85291234567");
        ok("phone:HK", "+852 2123 4567", "+85221234567");
        ok("phone:HK", "001 1 415 555 2671", "+14155552671");
        ok("phone:TW", "0912-345-678", "+886912345678");
        ok("phone:TW", "(02) 2345-6789", "+886223456789");
        ok("phone:TW", "+886 (0)912 345 678", "+886912345678");
        ok("phone:TW", "002 81 90 1234 5678", "+819012345678");
        bad("phone:TW", "912-345");
    }

    /// `phone:<CC>` names every country by its code, in capitals or small
    /// letters, and nothing else.
    #[test]
    fn countries_parse_by_code() {
        for c in Country::ALL {
            assert_eq!(c.code().parse::<Country>(), Ok(c));
            let mut small = [0u8; 2];
            small.copy_from_slice(c.code().as_bytes());
            small.make_ascii_lowercase();
            let small = core::str::from_utf8(&small).unwrap();
            assert_eq!(small.parse::<Country>(), Ok(c));
        }
        assert_eq!("UK".parse::<Country>(), Ok(Country::GB));
        for s in ["", "K", "Kr", "KOR", "IT", "BR", "ZZ"] {
            assert!(s.parse::<Country>().is_err(), "{s}");
        }
    }

    /// An international number is read by the country whose calling code
    /// starts it (`detect.rs`): no code may start another, except where
    /// countries share one plan (the NANP).
    #[test]
    fn calling_codes_do_not_start_one_another() {
        for a in Country::ALL {
            for b in Country::ALL {
                let (x, y) = (a.calling_code(), b.calling_code());
                if a != b && x.starts_with(y) {
                    assert!(a.plan().nanp() && b.plan().nanp(), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn text_normalizers() {
        ok("trim", "  a b \t", "a b");
        ok("lowercase", "ÀBC", "àbc");
        ok("digits", "010-1234 x5678", "01012345678");
        ok(
            "email",
            " Ada.Lovelace@Example.COM ",
            "ada.lovelace@example.com",
        );
        bad("email", "no-at-sign");
        bad("email", "a@b@c");
        bad("email", "@example.com");
        bad("email", "a b@example.com");
        bad("email", "a@");
        assert_eq!(
            Normalizer::Trim.apply(&[0xff], &mut [0u8; 4]),
            Err(Error::Invalid("trim"))
        );
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "trim",
            "lowercase",
            "digits",
            "email",
            "phone:KR",
            "phone:DE",
            "phone:TW",
        ] {
            let n: Normalizer = name.parse().unwrap();
            let mut buf = [0u8; 16];
            let text = crate::transform::format_into(&mut buf, format_args!("{n}")).unwrap();
            assert_eq!(text, name.as_bytes());
        }
        assert!("phone:IT".parse::<Normalizer>().is_err());
        assert!("upper".parse::<Normalizer>().is_err());
    }

    #[test]
    fn chains() {
        let chain = [Normalizer::Trim, Normalizer::Lowercase, Normalizer::Digits];
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        assert_eq!(
            apply_chain(&chain, b"  AB12cd34 ", &mut a, &mut b).unwrap(),
            b"1234"
        );
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        assert_eq!(
            apply_chain(&[], b"As Is", &mut a, &mut b).unwrap(),
            b"As Is"
        );
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        assert_eq!(
            apply_chain(&[Normalizer::Email], b" X@Y.Z", &mut a, &mut b).unwrap(),
            b"x@y.z"
        );
    }
}
