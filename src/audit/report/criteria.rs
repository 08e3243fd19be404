//! The criteria auditors apply (EDPB, AEPD-EDPS, ENISA, Korea's PIPC and
//! PIPA, ISO/IEC 27559 and 20889, the EMA / Health Canada threshold), and
//! which finding cites which, read from one data file
//! (`src/audit/report/criteria.toml`) so that every text lives in one place.

use std::collections::BTreeMap;
use std::string::String;
use std::sync::OnceLock;
use std::vec::Vec;

use serde::{Deserialize, Serialize};

/// The data file, compiled in.
const CRITERIA_TOML: &str = include_str!("criteria.toml");

/// What a finding is about; each kind cites its own criteria.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A hashed column reversed to its identifiers.
    HashReversed,
    /// A hashed column searched and not reversed.
    HashNotReversed,
    /// A hashed column no space was searched for.
    HashNotTested,
    /// A column of stable pseudonyms or deterministic tokens.
    StablePseudonym,
    /// A k-anonymity claim.
    KAnonymity,
    /// A share of unique records.
    UniqueShare,
    /// The highest re-identification probability against a threshold.
    MaxRisk,
    /// A linkage attack.
    Linkage,
    /// delta-presence or k-map against a population file.
    Population,
    /// Identifiers left in clear inside a free-text column.
    FreeText,
}

impl FindingKind {
    /// The key in the data file.
    pub fn key(self) -> &'static str {
        match self {
            FindingKind::HashReversed => "hash_reversed",
            FindingKind::HashNotReversed => "hash_not_reversed",
            FindingKind::HashNotTested => "hash_not_tested",
            FindingKind::StablePseudonym => "stable_pseudonym",
            FindingKind::KAnonymity => "k_anonymity",
            FindingKind::UniqueShare => "unique_share",
            FindingKind::MaxRisk => "max_risk",
            FindingKind::Linkage => "linkage",
            FindingKind::Population => "population",
            FindingKind::FreeText => "free_text",
        }
    }
}

/// One criterion cited by a finding, with the reason it bears on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Citation {
    /// Short identifier (`edpb-2025`).
    pub id: String,
    /// Title.
    pub title: String,
    /// The reference, described.
    pub reference: String,
    /// Why this finding bears on it, in one line.
    pub reason: String,
}

#[derive(Deserialize)]
struct Criterion {
    title: String,
    reference: String,
}

#[derive(Deserialize)]
struct Cite {
    criterion: String,
    reason: String,
}

#[derive(Deserialize)]
struct Data {
    criteria: BTreeMap<String, Criterion>,
    finding: BTreeMap<String, Vec<Cite>>,
}

fn data() -> Option<&'static Data> {
    static DATA: OnceLock<Option<Data>> = OnceLock::new();
    DATA.get_or_init(|| toml::from_str(CRITERIA_TOML).ok())
        .as_ref()
}

/// The criteria a finding of `kind` cites, in the data file's order. Empty
/// only if the data file is broken, which a test rules out.
///
/// # Example
/// ```
/// use deid::audit::report::{FindingKind, criteria_for};
/// let c = criteria_for(FindingKind::KAnonymity);
/// assert!(c.iter().any(|c| c.id == "iso-27559"));
/// ```
pub fn criteria_for(kind: FindingKind) -> Vec<Citation> {
    let Some(d) = data() else {
        return Vec::new();
    };
    d.finding
        .get(kind.key())
        .map(|cites| {
            cites
                .iter()
                .filter_map(|c| {
                    d.criteria.get(&c.criterion).map(|k| Citation {
                        id: c.criterion.clone(),
                        title: k.title.clone(),
                        reference: k.reference.clone(),
                        reason: c.reason.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_every_citation_resolves() {
        let d = data().expect("criteria.toml parses");
        for (kind, cites) in &d.finding {
            assert!(!cites.is_empty(), "{kind} cites nothing");
            for c in cites {
                assert!(
                    d.criteria.contains_key(&c.criterion),
                    "{kind} cites unknown {}",
                    c.criterion
                );
                assert!(!c.reason.trim().is_empty() && !c.reason.contains('\n'));
            }
        }
        // Every criterion is cited by some finding, and every kind has its entry.
        for id in d.criteria.keys() {
            assert!(
                d.finding.values().flatten().any(|c| &c.criterion == id),
                "{id} is never cited"
            );
        }
        for kind in [
            FindingKind::HashReversed,
            FindingKind::HashNotReversed,
            FindingKind::HashNotTested,
            FindingKind::StablePseudonym,
            FindingKind::KAnonymity,
            FindingKind::UniqueShare,
            FindingKind::MaxRisk,
            FindingKind::Linkage,
            FindingKind::Population,
            FindingKind::FreeText,
        ] {
            assert!(!criteria_for(kind).is_empty(), "{}", kind.key());
        }
    }

    #[test]
    fn hash_findings_cite_hash_criteria_and_k_findings_do_not() {
        let ids = |k| {
            criteria_for(k)
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        let h = ids(FindingKind::HashReversed);
        assert!(h.contains(&"aepd-edps-hash".into()) && h.contains(&"edpb-2025".into()));
        assert!(!h.contains(&"iso-27559".into()));
        let k = ids(FindingKind::KAnonymity);
        assert!(k.contains(&"iso-27559".into()));
        assert!(!k.contains(&"aepd-edps-hash".into()));
        assert!(ids(FindingKind::MaxRisk).contains(&"ema-hc-threshold".into()));
    }
}
