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
    /// Free-text columns claimed to hold no identifier any more (after
    /// `redact`): refuted by any identifier the free-text detectors find.
    #[serde(default)]
    pub no_identifiers_in_text: Vec<String>,
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
            self.no_identifiers_in_text
                .iter()
                .map(|c| ("no_identifiers_in_text", c.as_str())),
        );
        named
    }
}
