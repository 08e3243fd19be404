//! Detects identifier-like columns from a sample and suggests a policy
//! (`deid scan`).
//!
//! Each value is classified by the first detector that accepts it (email,
//! RRN with a valid check digit, card number with a valid Luhn digit, Korean
//! mobile, other E.164 phone, IP address, date, digest, postal code, Korean
//! name, number); a column gets the kind most of its values have. Samples
//! are only ever shown masked.
//!
//! Two column-level rules follow: a column whose sampled values are all
//! distinct and share one structure (the same letters-and-digits shape,
//! `C000000001`, `123456-01-234567`, or UUIDs) is a *record key*: a
//! customer or account id that links back to the source system, suggested
//! for `pseudonymize`. In a free-text column every value goes through the
//! free-text detectors (src/detect.rs); the identifiers found are counted
//! per type and the column is suggested for `redact`.
//!
//! # Example
//! ```
//! use deid::io::table::{TableOptions, TableReader};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("x.csv");
//! std::fs::write(&path, "phone,email\n010-1234-5678,a@b.kr\n010-9876-5432,c@d.com\n").unwrap();
//! let mut t = TableReader::open(Some(&path), &TableOptions::new()).unwrap();
//! let scan = deid::scan::scan(&mut t, 1000).unwrap();
//! assert_eq!(scan[0].kind, deid::scan::Kind::KrMobile);
//! assert_eq!(scan[1].kind, deid::scan::Kind::Email);
//! assert!(deid::scan::suggest_policy(&scan).contains("[fields.phone]"));
//! ```

use std::collections::{BTreeMap, HashSet};
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Serialize;

use crate::date::Date;
use crate::encoding::Encoding;
use crate::io::table::{InputError, Row, TableReader};
use crate::normalize::{Country, Normalizer};
use crate::policy::{OnError, Policy, Unlisted};
use crate::transform::generalize::Generalization;
use crate::transform::mask::Mask;
use crate::transform::pseudonym;
use crate::transform::{EncryptMode, FieldSpec, TransformSpec};

/// What a column looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// Korean mobile number (010 and the older 011/016-019).
    KrMobile,
    /// Another phone number in E.164 form.
    Phone,
    /// Email address.
    Email,
    /// Korean resident registration number with a valid check digit.
    KrRrn,
    /// Card number with a valid Luhn digit.
    CardNumber,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Date (optionally with a time).
    Date,
    /// Hexadecimal digest (MD5 to SHA-512 lengths).
    HexDigest,
    /// Base64 digest.
    Base64Digest,
    /// 5-digit postal code.
    PostalCode,
    /// A Korean personal name (2-4 Hangul syllables).
    KrName,
    /// A number.
    Number,
    /// Few distinct values.
    Category,
    /// Anything else.
    Text,
    /// No values.
    Empty,
    /// All values distinct, one structure: a customer or account id.
    RecordKey,
}

impl Kind {
    /// Human description.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::KrMobile => "Korean mobile number",
            Kind::Phone => "phone number (E.164)",
            Kind::Email => "email address",
            Kind::KrRrn => "resident registration number (valid check digit)",
            Kind::CardNumber => "card number (valid Luhn digit)",
            Kind::Ipv4 => "IPv4 address",
            Kind::Ipv6 => "IPv6 address",
            Kind::Date => "date",
            Kind::HexDigest => "hex digest",
            Kind::Base64Digest => "base64 digest",
            Kind::PostalCode => "postal code",
            Kind::KrName => "Korean personal name",
            Kind::Number => "number",
            Kind::Category => "category (few distinct values)",
            Kind::Text => "free text",
            Kind::Empty => "empty",
            Kind::RecordKey => "record key (distinct values, one structure)",
        }
    }

    /// Whether the kind directly identifies a person.
    pub fn is_identifier(self) -> bool {
        matches!(
            self,
            Kind::KrMobile
                | Kind::Phone
                | Kind::Email
                | Kind::KrRrn
                | Kind::CardNumber
                | Kind::Ipv4
                | Kind::Ipv6
                | Kind::KrName
                | Kind::HexDigest
                | Kind::Base64Digest
                | Kind::RecordKey
        )
    }
}

/// One column's scan. Holds counts and a masked example only.
#[derive(Clone, Serialize)]
pub struct ColumnScan {
    /// Column name.
    pub column: String,
    /// What most values look like.
    pub kind: Kind,
    /// Share of non-empty values of that kind.
    pub share: f64,
    /// Non-empty values sampled.
    pub values: u64,
    /// Empty values sampled.
    pub empty: u64,
    /// Distinct values sampled (counted up to 10,000).
    pub distinct: u64,
    /// Digest length in bytes, for digests.
    pub digest_bytes: Option<usize>,
    /// One value, masked.
    pub masked_example: String,
    /// Free text: identifiers found inside the sampled values, per detector
    /// type (`phone:KR`, `email`, ...). Counts only.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers_in_text: BTreeMap<&'static str, u64>,
}

impl std::fmt::Debug for ColumnScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A masked example still shows part of a value: its length only.
        f.debug_struct("ColumnScan")
            .field("column", &self.column)
            .field("kind", &self.kind)
            .field("share", &self.share)
            .field("values", &self.values)
            .field("empty", &self.empty)
            .field("distinct", &self.distinct)
            .field("digest_bytes", &self.digest_bytes)
            .field("masked_example_len", &self.masked_example.chars().count())
            .field("identifiers_in_text", &self.identifiers_in_text)
            .finish()
    }
}

const KINDS: usize = 17;

/// Values needed before a column can be called a record key.
const MIN_KEY_VALUES: u64 = 20;

/// The structure of a value: ASCII letters as `A`/`a`, digits as `9`, other
/// characters as themselves; every UUID (8-4-4-4-12 hex) has one shape.
fn shape(v: &str) -> String {
    let b = v.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid {
        return "uuid".to_string();
    }
    v.chars()
        .map(|c| match c {
            'A'..='Z' => 'A',
            'a'..='z' => 'a',
            '0'..='9' => '9',
            c => c,
        })
        .collect()
}

fn idx(k: Kind) -> usize {
    k as usize
}

/// Classifies one value.
pub fn classify(v: &str) -> (Kind, Option<usize>) {
    let v = v.trim();
    let mut buf = [0u8; 128];
    if v.len() < 128
        && v.contains('@')
        && Normalizer::Email.apply(v.as_bytes(), &mut buf).is_ok()
        && v.rsplit('@').next().is_some_and(|d| d.contains('.'))
    {
        return (Kind::Email, None);
    }
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    let only_digits_and_seps = v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '.' | '+' | '(' | ')'));
    if only_digits_and_seps
        && digits.len() == 13
        && !v.starts_with('+')
        && crate::checks::rrn_valid(v.as_bytes())
        && rrn_date_ok(&digits)
    {
        return (Kind::KrRrn, None);
    }
    if only_digits_and_seps
        && (13..=19).contains(&digits.len())
        && !v.starts_with('+')
        && crate::checks::luhn_valid(digits.as_bytes())
        && !digits.starts_with('0')
    {
        return (Kind::CardNumber, None);
    }
    if only_digits_and_seps && v.len() < 32 {
        if let Ok(e164) = Normalizer::Phone(Country::KR).apply(v.as_bytes(), &mut buf) {
            if e164.starts_with(b"+821") && e164.len() >= 12 {
                return (Kind::KrMobile, None);
            }
            if v.starts_with('+') {
                return (Kind::Phone, None);
            }
        }
    }
    if v.parse::<std::net::Ipv4Addr>().is_ok() {
        return (Kind::Ipv4, None);
    }
    if v.contains(':') && v.parse::<std::net::Ipv6Addr>().is_ok() {
        return (Kind::Ipv6, None);
    }
    if Date::parse(v.as_bytes()).is_ok() {
        return (Kind::Date, None);
    }
    if matches!(v.len(), 32 | 40 | 56 | 64 | 96 | 128) && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (Kind::HexDigest, Some(v.len() / 2));
    }
    if (22..=88).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/-_=".contains(&b))
        && v.bytes().any(|b| b.is_ascii_uppercase())
    {
        let body = v.trim_end_matches('=');
        let n = body.len() * 3 / 4;
        if [16, 20, 28, 32, 48, 64].contains(&n) {
            return (Kind::Base64Digest, Some(n));
        }
    }
    if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) {
        return (Kind::PostalCode, None);
    }
    let hangul = v.chars().count();
    if (2..=4).contains(&hangul) && v.chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) {
        return (Kind::KrName, None);
    }
    if v.parse::<f64>().is_ok() {
        return (Kind::Number, None);
    }
    (Kind::Text, None)
}

fn rrn_date_ok(d: &str) -> bool {
    let n = |r: core::ops::Range<usize>| d[r].parse::<u8>().unwrap_or(0);
    let century = match d.as_bytes()[6] {
        b'1' | b'2' | b'5' | b'6' => 1900,
        b'3' | b'4' | b'7' | b'8' => 2000,
        b'9' | b'0' => 1800,
        _ => return false,
    };
    Date::new(century + i32::from(n(0..2)), n(2..4), n(4..6)).is_ok()
}

/// Scans up to `rows` rows of `table`.
///
/// # Errors
/// The input cannot be read.
pub fn scan(table: &mut TableReader, rows: usize) -> Result<Vec<ColumnScan>, InputError> {
    let n = table.columns().len();
    let mut counts = vec![[0u64; KINDS]; n];
    let mut bytes: Vec<Option<usize>> = vec![None; n];
    let mut empty = vec![0u64; n];
    let mut distinct: Vec<HashSet<u64>> = vec![HashSet::new(); n];
    let mut example: Vec<Option<String>> = vec![None; n];
    let mut shapes: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); n];
    let mut in_text: Vec<[u64; crate::detect::Kind::ALL.len()]> =
        vec![[0; crate::detect::Kind::ALL.len()]; n];
    let mut all_distinct = vec![true; n];
    let mut row = Row::new();
    let mut read = 0;
    while read < rows && table.read_row(&mut row)? {
        read += 1;
        for c in 0..n {
            let raw = row.get(c).unwrap_or_default();
            let v = String::from_utf8_lossy(raw);
            if v.trim().is_empty() {
                empty[c] += 1;
                continue;
            }
            let (k, b) = classify(&v);
            counts[c][idx(k)] += 1;
            if b.is_some() {
                bytes[c] = b;
            }
            if distinct[c].len() < 10_000 && !distinct[c].insert(fxhash(raw)) {
                all_distinct[c] = false;
            }
            if shapes[c].len() < 64 {
                *shapes[c].entry(shape(v.trim())).or_default() += 1;
            }
            if k == Kind::Text {
                crate::detect::Detectors::all().scan(&v, |m| in_text[c][m.kind.index()] += 1);
            }
            if example[c].is_none() {
                example[c] = Some(v.trim().to_string());
            }
        }
    }
    let columns = table.columns().to_vec();
    Ok((0..n)
        .map(|c| {
            let values: u64 = counts[c].iter().sum();
            let (mut best, mut best_n) = (Kind::Empty, 0u64);
            for k in ALL_KINDS {
                if counts[c][idx(k)] > best_n {
                    best = k;
                    best_n = counts[c][idx(k)];
                }
            }
            let d = distinct[c].len() as u64;
            // Few distinct values over many rows: a category, whatever they look like.
            if values >= 50
                && d <= 20
                && !matches!(
                    best,
                    Kind::Email | Kind::KrRrn | Kind::CardNumber | Kind::KrMobile | Kind::Phone
                )
            {
                best = Kind::Category;
                best_n = values;
            }
            // Every value distinct and (nearly) all of one shape: a record key.
            let top_shape = shapes[c].values().copied().max().unwrap_or(0);
            if values >= MIN_KEY_VALUES
                && all_distinct[c]
                && top_shape * 100 >= values * 99
                && matches!(best, Kind::Text | Kind::Number)
            {
                best = Kind::RecordKey;
                best_n = top_shape;
            }
            let identifiers_in_text = if best == Kind::Text {
                crate::detect::Kind::ALL
                    .into_iter()
                    .filter(|k| in_text[c][k.index()] > 0)
                    .map(|k| (k.name(), in_text[c][k.index()]))
                    .collect()
            } else {
                BTreeMap::new()
            };
            ColumnScan {
                column: columns[c].clone(),
                kind: best,
                share: if values == 0 {
                    0.0
                } else {
                    best_n as f64 / values as f64
                },
                values,
                empty: empty[c],
                distinct: d,
                digest_bytes: if matches!(best, Kind::HexDigest | Kind::Base64Digest) {
                    bytes[c]
                } else {
                    None
                },
                masked_example: example[c].as_deref().map(mask).unwrap_or_default(),
                identifiers_in_text,
            }
        })
        .collect())
}

const ALL_KINDS: [Kind; 16] = [
    Kind::RecordKey,
    Kind::KrMobile,
    Kind::Phone,
    Kind::Email,
    Kind::KrRrn,
    Kind::CardNumber,
    Kind::Ipv4,
    Kind::Ipv6,
    Kind::Date,
    Kind::HexDigest,
    Kind::Base64Digest,
    Kind::PostalCode,
    Kind::KrName,
    Kind::Number,
    Kind::Category,
    Kind::Text,
];

fn fxhash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Masks a sample: short values entirely, longer ones keep 2 characters at each end.
fn mask(v: &str) -> String {
    let m = if v.chars().count() < 8 {
        Mask {
            keep_first: 0,
            keep_last: 0,
            mask_char: '*',
        }
    } else {
        Mask {
            keep_first: 2,
            keep_last: 2,
            mask_char: '*',
        }
    };
    let mut buf = vec![0u8; 4 * v.len() + 4];
    m.apply(v.as_bytes(), &mut buf)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// What `deid scan` suggests for one column.
enum Suggestion {
    /// A field table, and why.
    Field(&'static str, FieldSpec),
    /// No table, a comment asking for review.
    Review,
}

/// The suggestion for one scanned column, if any.
fn suggestion(s: &ColumnScan) -> Option<Suggestion> {
    let lower = s.column.to_ascii_lowercase();
    let pseudonym = TransformSpec::Pseudonymize {
        bytes: pseudonym::DEFAULT_BYTES,
        encoding: Encoding::default(),
    };
    let with = |normalize: Normalizer, transform: TransformSpec| FieldSpec {
        normalize: vec![normalize],
        ..FieldSpec::new(transform)
    };
    let generalize = |g| FieldSpec::new(TransformSpec::Generalize(g));
    let field = |why, spec| Some(Suggestion::Field(why, spec));
    match s.kind {
        Kind::KrMobile => field(
            "Korean mobile numbers: keyed pseudonym, same person same value",
            with(Normalizer::Phone(Country::KR), pseudonym),
        ),
        Kind::Phone => field("phone numbers: keyed pseudonym", FieldSpec::new(pseudonym)),
        Kind::Email => field(
            "emails: deterministic token (reversible with the key, joinable)",
            with(
                Normalizer::Email,
                TransformSpec::Encrypt {
                    mode: EncryptMode::Deterministic,
                },
            ),
        ),
        Kind::KrRrn => field(
            "resident registration numbers: do not ship them (pseudonymize if linkage needs them)",
            FieldSpec::new(TransformSpec::Drop),
        ),
        Kind::CardNumber => field(
            "card numbers: format-preserving encryption (or drop)",
            with(Normalizer::Digits, TransformSpec::Fpe),
        ),
        Kind::Ipv4 | Kind::Ipv6 => {
            field("IP addresses: keyed pseudonym", FieldSpec::new(pseudonym))
        }
        Kind::KrName => field("personal names: drop", FieldSpec::new(TransformSpec::Drop)),
        Kind::Date if lower.contains("birth") || lower.contains("dob") => field(
            "birth dates: year only (a quasi-identifier)",
            generalize(Generalization::Year),
        ),
        Kind::Date => field(
            "dates: year and month",
            generalize(Generalization::YearMonth),
        ),
        Kind::PostalCode => field(
            "postal codes: first 3 digits (a quasi-identifier)",
            generalize(Generalization::Prefix { keep: 3 }),
        ),
        Kind::HexDigest | Kind::Base64Digest => field(
            "digests: unsalted hashes of identifiers are reversible, so drop them; check with `deid audit hashes`",
            FieldSpec::new(TransformSpec::Drop),
        ),
        Kind::RecordKey => field(
            "record keys (all distinct, one structure) link back to the source system: keyed pseudonym, joins kept",
            FieldSpec::new(pseudonym),
        ),
        Kind::Text if !s.identifiers_in_text.is_empty() => field(
            "free text with identifiers inside: redact them (pseudonyms of the normalized identifiers)",
            FieldSpec::new(TransformSpec::Redact {
                detect: Vec::new(),
                replace: crate::transform::redact::Replace::Pseudonym,
                bytes: pseudonym::DEFAULT_BYTES,
                encoding: Encoding::default(),
            }),
        ),
        Kind::Text if s.values > 0 => Some(Suggestion::Review),
        _ => None,
    }
}

/// A policy (TOML) for the scanned columns, with a comment per decision.
///
/// The policy is built as a [`Policy`] and its [`FieldSpec`]s and written
/// with the `toml` serializer (which quotes column names as TOML needs), one
/// table at a time so each can carry its comment; it reads back with
/// [`Policy::from_toml`].
pub fn suggest_policy(scans: &[ColumnScan]) -> String {
    let header = Policy {
        version: 1,
        unlisted: Unlisted::Keep,
        on_error: OnError::Fail,
        fields: BTreeMap::new(),
        suppress: None,
    };
    let mut out = String::from("# Suggested by `deid scan`: review every field before use.\n");
    out.push_str(&to_toml(&header, "the policy header"));
    for s in scans {
        let column = comment_text(&s.column);
        match suggestion(s) {
            Some(Suggestion::Field(why, spec)) => {
                out.push_str(&format!(
                    "\n# {column}: {why} ({:.0}% of sampled values)\n",
                    s.share * 100.0
                ));
                if !s.identifiers_in_text.is_empty() {
                    let found: Vec<String> = s
                        .identifiers_in_text
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect();
                    out.push_str(&format!(
                        "# identifiers found in {} sampled values: {}\n",
                        s.values,
                        found.join(", ")
                    ));
                }
                let table = FieldTable {
                    fields: BTreeMap::from([(s.column.as_str(), &spec)]),
                };
                out.push_str(&to_toml(&table, &column));
            }
            Some(Suggestion::Review) => out.push_str(&format!(
                "\n# {column}: free text may contain identifiers; review it (transform = \"drop\" if unsure).\n"
            )),
            None => {}
        }
    }
    out
}

/// One `[fields.<column>]` table of a [`Policy`], written under its comment.
#[derive(Serialize)]
struct FieldTable<'a> {
    fields: BTreeMap<&'a str, &'a FieldSpec>,
}

/// `value` as TOML. The policy types always serialize (the tests write
/// every suggestion); should one ever fail, the line written instead is not
/// TOML, so the policy refuses to load rather than leave `what` unprotected.
fn to_toml<T: Serialize>(value: &T, what: &str) -> String {
    toml::to_string(value).unwrap_or_else(|_| {
        format!("!!! deid scan could not write {what}; do not use this policy\n")
    })
}

/// A column name fit for a one-line comment: control characters (a CSV
/// header may hold a newline) are escaped so they cannot start a TOML line.
fn comment_text(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind() {
        for (v, k) in [
            ("010-1234-5678", Kind::KrMobile),
            ("+82 10 1234 5678", Kind::KrMobile),
            ("+1 415 555 2671", Kind::Phone),
            ("Ada@Example.com", Kind::Email),
            ("4111 1111 1111 1111", Kind::CardNumber),
            ("192.168.0.1", Kind::Ipv4),
            ("2001:db8::1", Kind::Ipv6),
            ("1990-07-15", Kind::Date),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Kind::HexDigest,
            ),
            (
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                Kind::Base64Digest,
            ),
            ("04524", Kind::PostalCode),
            ("김민준", Kind::KrName),
            ("12345.5", Kind::Number),
            ("hello there", Kind::Text),
        ] {
            assert_eq!(classify(v).0, k, "{v}");
        }
        let rrn = crate::synth::Generator::new(1).customer(0).rrn;
        assert_eq!(classify(&rrn).0, Kind::KrRrn);
        // A wrong check digit is not an RRN.
        let mut bad = rrn.clone().into_bytes();
        bad[13] = if bad[13] == b'9' { b'0' } else { bad[13] + 1 };
        assert_ne!(classify(std::str::from_utf8(&bad).unwrap()).0, Kind::KrRrn);
    }

    #[test]
    fn shapes() {
        assert_eq!(shape("C000000001"), "A999999999");
        assert_eq!(shape("123456-01-234567"), "999999-99-999999");
        assert_eq!(shape("f47ac10b-58cc-4372-a567-0e02b2c3d479"), "uuid");
        assert_eq!(shape("F47AC10B-58CC-4372-A567-0E02B2C3D479"), "uuid");
    }

    #[test]
    fn masks_never_show_a_whole_value() {
        assert_eq!(mask("010-1234-5678"), "01*********78");
        assert_eq!(mask("M"), "*");
        assert_eq!(mask("short"), "*****");
    }
}
