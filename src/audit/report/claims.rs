//! The claims an auditor can test, as parsed from TOML, and their
//! validation before any input is read.

use std::path::PathBuf;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::{Deserialize, Serialize};

use super::ReportError;

/// A k-anonymity claim.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KClaim {
    /// Quasi-identifiers.
    pub qi: Vec<String>,
    /// Claimed k.
    pub k: u64,
}

/// A maximum share of unique records.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum UniqueClaim {
    /// A share, on the k-anonymity (or declared) quasi-identifiers.
    Share(f64),
    /// A share on given quasi-identifiers.
    WithQi {
        /// Quasi-identifiers.
        qi: Vec<String>,
        /// Largest share of records unique on them.
        share: f64,
    },
}

/// A claim that the export cannot be linked to an auxiliary file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaim {
    /// The auxiliary file (relative to the claims file).
    pub auxiliary: PathBuf,
    /// Shared columns.
    pub on: Vec<String>,
    /// Ground-truth column present in both files.
    pub truth: Option<String>,
}

/// Testable claims about an export.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Hashed columns claimed irreversible.
    #[serde(default)]
    pub irreversible: Vec<String>,
    /// k-anonymity on quasi-identifiers.
    pub k_anonymity: Option<KClaim>,
    /// Largest share of unique records.
    pub max_unique_share: Option<UniqueClaim>,
    /// Not linkable to an auxiliary file.
    pub not_linkable: Option<LinkClaim>,
    /// Quasi-identifiers to measure when no claim names them.
    pub quasi_identifiers: Option<Vec<String>>,
    /// Sampling fraction, for population uniqueness.
    pub sampling_fraction: Option<f64>,
    /// Candidate spaces for the hash audit (e.g. `["kr-mobile"]` or a mask);
    /// by default the spaces that fit each column's name.
    pub hash_spaces: Option<Vec<String>>,
    /// Dictionaries per hashed column, from a column of an auxiliary file
    /// (`{ email_sha256 = "customers.csv:email" }`, the path relative to the
    /// claims file): the recipient's own list, normalized every way the
    /// search knows.
    pub dictionaries: Option<std::collections::BTreeMap<String, String>>,
    /// Highest re-identification probability accepted (1 / smallest class);
    /// 0.09 (the EMA Policy 0070 / Health Canada threshold) when absent.
    pub max_risk: Option<f64>,
    /// Hash-of-a-hash constructions tried besides plain hashes
    /// (`["md5-hex", "MD5-HEX", "sha256-hex"]`: `H(hex(inner(x)))`).
    pub hash_constructions: Option<Vec<String>>,
    /// A file of known global salts or peppers, one a line, relative to the
    /// claims file: each tried before and after the identifier.
    pub salts: Option<PathBuf>,
    /// A population (or identification) file over the same
    /// quasi-identifiers, relative to the claims file: journalist risk,
    /// delta-presence and k-map against it.
    pub population: Option<PathBuf>,
    /// delta-presence bounds claimed against `population`.
    pub delta_presence: Option<DeltaClaim>,
    /// k-map claimed against `population`.
    pub k_map: Option<KMapClaim>,
    /// Free-text columns claimed to hold no identifier any more (after
    /// `redact`): refuted by any identifier the free-text detectors find.
    #[serde(default)]
    pub no_identifiers_in_text: Vec<String>,
    /// Highest average prosecutor risk accepted (classes / records, on the
    /// quasi-identifiers measured).
    pub max_average_risk: Option<f64>,
    /// Largest share of records a generalization remedy may suppress
    /// ([`super::MAX_SUPPRESSION`] when absent).
    pub max_suppression: Option<f64>,
}

/// A delta-presence claim: every class's sample count over its population
/// count lies in `[min, max]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaClaim {
    /// Lower bound (0 by default).
    #[serde(default)]
    pub min: f64,
    /// Upper bound.
    pub max: f64,
}

/// A k-map claim: every sample class matches at least `k` people of the
/// population.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KMapClaim {
    /// Claimed k.
    pub k: u64,
}

/// The maximum-risk threshold when the claims set none (EMA Policy 0070,
/// Health Canada).
pub const DEFAULT_MAX_RISK: f64 = 0.09;

impl Claims {
    /// The maximum-risk threshold: `max_risk`, or [`DEFAULT_MAX_RISK`].
    pub fn max_risk(&self) -> f64 {
        self.max_risk.unwrap_or(DEFAULT_MAX_RISK)
    }

    /// The dictionaries as (hashed column, auxiliary file, its column).
    pub fn dictionary_sources(&self) -> Vec<(&str, &str, &str)> {
        self.dictionaries
            .iter()
            .flatten()
            .filter_map(|(col, src)| {
                src.rsplit_once(':')
                    .map(|(file, c)| (col.as_str(), file, c))
            })
            .collect()
    }
}

impl Claims {
    /// Parses claims TOML.
    ///
    /// # Errors
    /// [`ReportError::Request`] with the parser's line and column.
    ///
    /// Claims that cannot be tested as written are refused: `k` below 1,
    /// shares and sampling fractions outside [0, 1] (sampling fractions of 0),
    /// empty column lists and empty column names.
    pub fn from_toml(text: &str) -> Result<Self, ReportError> {
        let claims: Claims =
            toml::from_str(text).map_err(|e| ReportError::Request(e.to_string()))?;
        claims.validate()?;
        Ok(claims)
    }

    /// Checks that every claim can be tested as written (see
    /// [`from_toml`](Self::from_toml)); the columns it names are checked
    /// against the input by [`build`](super::build).
    ///
    /// # Errors
    /// [`ReportError::Request`] naming the claim and what is wrong with it.
    pub fn validate(&self) -> Result<(), ReportError> {
        let bad = |m: String| Err(ReportError::Request(m));
        let columns = |what: &str, cols: &[String]| -> Result<(), ReportError> {
            if cols.is_empty() {
                return bad(format!("{what} names no column"));
            }
            if cols.iter().any(|c| c.trim().is_empty()) {
                return bad(format!("{what} has an empty column name"));
            }
            Ok(())
        };
        let share_ok = |s: f64| (0.0..=1.0).contains(&s);
        if self.irreversible.iter().any(|c| c.trim().is_empty()) {
            return bad("irreversible has an empty column name".into());
        }
        if let Some(k) = &self.k_anonymity {
            columns("k_anonymity.qi", &k.qi)?;
            if k.k < 1 {
                return bad(format!(
                    "k_anonymity.k = {} is not a k-anonymity claim: k counts records per class, at least 1",
                    k.k
                ));
            }
        }
        match &self.max_unique_share {
            Some(UniqueClaim::Share(s)) if !share_ok(*s) => {
                return bad(format!(
                    "max_unique_share = {s} is not a share of records: give a fraction from 0 to 1 (0.01 for 1%)"
                ));
            }
            Some(UniqueClaim::WithQi { qi, share }) => {
                columns("max_unique_share.qi", qi)?;
                if !share_ok(*share) {
                    return bad(format!(
                        "max_unique_share.share = {share} is not a share of records: give a fraction from 0 to 1 (0.01 for 1%)"
                    ));
                }
            }
            _ => {}
        }
        if let Some(l) = &self.not_linkable {
            columns("not_linkable.on", &l.on)?;
            if l.auxiliary.as_os_str().is_empty() {
                return bad("not_linkable.auxiliary names no file".into());
            }
            if l.truth.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return bad("not_linkable.truth is an empty column name".into());
            }
        }
        if let Some(q) = &self.quasi_identifiers {
            columns("quasi_identifiers", q)?;
        }
        if let Some(r) = self.max_risk {
            if !(r > 0.0 && r <= 1.0) {
                return bad(format!(
                    "max_risk = {r} is not a probability threshold: give R with 0 < R <= 1 (0.09 is the EMA / Health Canada threshold)"
                ));
            }
        }
        if let Some(r) = self.max_average_risk {
            if !(r > 0.0 && r <= 1.0) {
                return bad(format!(
                    "max_average_risk = {r} is not a probability threshold: give R with 0 < R <= 1"
                ));
            }
        }
        if let Some(s) = self.max_suppression {
            if !share_ok(s) {
                return bad(format!(
                    "max_suppression = {s} is not a share of the records: give 0 <= S <= 1"
                ));
            }
        }
        if let Some(d) = &self.delta_presence {
            if !(share_ok(d.min) && share_ok(d.max) && d.min <= d.max) {
                return bad(format!(
                    "delta_presence = {{ min = {}, max = {} }} is not a range of shares: give 0 <= min <= max <= 1",
                    d.min, d.max
                ));
            }
        }
        if self.k_map.as_ref().is_some_and(|k| k.k < 1) {
            return bad(
                "k_map.k = 0 is not a k-map claim: k counts people of the population, at least 1"
                    .into(),
            );
        }
        if (self.delta_presence.is_some() || self.k_map.is_some()) && self.population.is_none() {
            return bad("delta_presence and k_map are measured against a population: add population = \"FILE\"".into());
        }
        for c in self.hash_constructions.iter().flatten() {
            if crate::audit::hashes::parse_nested(c).is_none() {
                return bad(format!(
                    "hash_constructions: {c} is not a hash of a hash: give md5-hex, sha1-hex or sha256-hex (upper case, MD5-HEX, for an upper-case inner digest)"
                ));
            }
        }
        for (col, src) in self.dictionaries.iter().flatten() {
            if col.trim().is_empty() {
                return bad("dictionaries has an empty column name".into());
            }
            match src.rsplit_once(':') {
                Some((f, c)) if !f.is_empty() && !c.trim().is_empty() => {}
                _ => {
                    return bad(format!(
                        "dictionaries.{col} = \"{src}\" is not FILE:COLUMN (e.g. \"customers.csv:email\")"
                    ));
                }
            }
        }
        if self
            .no_identifiers_in_text
            .iter()
            .any(|c| c.trim().is_empty())
        {
            return bad("no_identifiers_in_text has an empty column name".into());
        }
        if let Some(f) = self.sampling_fraction {
            if !(f > 0.0 && f <= 1.0) {
                return bad(format!(
                    "sampling_fraction = {f} is not a fraction of the population: give F with 0 < F <= 1"
                ));
            }
        }
        Ok(())
    }

    /// Every column the claims name in the export under test, with the
    /// claim that names it.
    pub(super) fn named_columns(&self) -> Vec<(&'static str, &str)> {
        let mut named: Vec<(&'static str, &str)> = Vec::new();
        named.extend(
            self.irreversible
                .iter()
                .map(|c| ("irreversible", c.as_str())),
        );
        if let Some(k) = &self.k_anonymity {
            named.extend(k.qi.iter().map(|c| ("k_anonymity.qi", c.as_str())));
        }
        if let Some(UniqueClaim::WithQi { qi, .. }) = &self.max_unique_share {
            named.extend(qi.iter().map(|c| ("max_unique_share.qi", c.as_str())));
        }
        if let Some(l) = &self.not_linkable {
            named.extend(l.on.iter().map(|c| ("not_linkable.on", c.as_str())));
            named.extend(l.truth.iter().map(|c| ("not_linkable.truth", c.as_str())));
        }
        if let Some(q) = &self.quasi_identifiers {
            named.extend(q.iter().map(|c| ("quasi_identifiers", c.as_str())));
        }
        named.extend(
            self.dictionaries
                .iter()
                .flatten()
                .map(|(c, _)| ("dictionaries", c.as_str())),
        );
        named.extend(
            self.no_identifiers_in_text
                .iter()
                .map(|c| ("no_identifiers_in_text", c.as_str())),
        );
        named
    }
}
