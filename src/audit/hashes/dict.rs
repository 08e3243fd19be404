//! Dictionaries from a column of an auxiliary file (the recipient's own
//! customer list), each value written every way matching programs write it
//! before hashing: as is, trimmed, trimmed and lowercased; emails with
//! Gmail's dots and any `+tag` removed; phone numbers in E.164 with and
//! without the `+`, and as bare digits.

use std::collections::BTreeSet;
use std::path::Path;
use std::string::String;
use std::vec::Vec;

use super::space::Space;
use crate::audit::engine::{self, Analyser, AuditError};
use crate::io::InputError;
use crate::io::table::{Row, TableOptions, TableReader};
use crate::normalize::{Country, Normalizer};

/// The normalizations tried on every dictionary value, by name.
pub const NORMALIZATIONS: &[&str] = &[
    "as written",
    "trimmed",
    "trimmed and lowercased",
    "email without +tag",
    "Gmail without dots and +tag",
    "phone E.164 (+82…)",
    "phone E.164 without +",
    "digits only",
];

/// Every normalized form of `value` (see [`NORMALIZATIONS`]), pushed to `out`.
///
/// # Example
/// ```
/// use deid::audit::hashes::dict::variants;
/// let mut v = Vec::new();
/// variants(b" Jane.Doe+news@GMail.com ", &mut v);
/// assert!(v.contains(&b"janedoe@gmail.com".to_vec()));
/// assert!(v.contains(&b"jane.doe+news@gmail.com".to_vec()));
/// let mut p = Vec::new();
/// variants(b"010-1234-5678", &mut p);
/// assert!(p.contains(&b"+821012345678".to_vec()));
/// assert!(p.contains(&b"821012345678".to_vec()));
/// ```
pub fn variants(value: &[u8], out: &mut Vec<Vec<u8>>) {
    out.push(value.to_vec());
    let Ok(text) = core::str::from_utf8(value) else {
        return;
    };
    let t = text.trim();
    out.push(t.as_bytes().to_vec());
    let lower = t.to_lowercase();
    out.push(lower.as_bytes().to_vec());
    if let Some((local, domain)) = lower.rsplit_once('@') {
        let untagged = local.split('+').next().unwrap_or(local);
        out.push(format!("{untagged}@{domain}").into_bytes());
        if matches!(domain, "gmail.com" | "googlemail.com") {
            let nodots: String = untagged.chars().filter(|&c| c != '.').collect();
            out.push(format!("{nodots}@gmail.com").into_bytes());
            out.push(format!("{nodots}@{domain}").into_bytes());
        }
        return;
    }
    let digits: Vec<u8> = t.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() >= 7 && digits.len() <= 15 {
        let mut buf = [0u8; 64];
        for country in [Country::KR, Country::US] {
            if let Ok(e164) = Normalizer::Phone(country).apply(t.as_bytes(), &mut buf) {
                out.push(e164.to_vec());
                out.push(e164.get(1..).unwrap_or_default().to_vec());
            }
        }
        out.push(digits);
    }
}

/// Collects one column's values, for [`from_column`].
struct Column {
    name: String,
    idx: usize,
    values: BTreeSet<Vec<u8>>,
}

impl Analyser for Column {
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError> {
        self.idx = table.column_index(&self.name)?;
        Ok(())
    }

    fn row(&mut self, row: &Row) {
        let v = row.get(self.idx).unwrap_or_default();
        if !v.is_empty() && v.len() <= 1000 {
            let mut out = Vec::new();
            variants(v, &mut out);
            self.values.extend(out);
        }
    }
}

/// A dictionary space from `column` of `file`, every value in every
/// normalization, named `dict:FILE:COLUMN`. Its `Debug` shows the size only.
///
/// # Errors
/// The file cannot be read or has no such column.
pub fn from_column(file: &Path, column: &str) -> Result<Space, AuditError> {
    let mut table = TableReader::open(Some(file), &TableOptions::new())?;
    let mut c = Column {
        name: column.into(),
        idx: 0,
        values: BTreeSet::new(),
    };
    engine::run(&mut table, &mut [&mut c])?;
    Ok(Space::dictionary(
        &format!("dict:{}:{column}", file.display()),
        c.values.into_iter().collect(),
    ))
}
