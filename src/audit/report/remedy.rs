//! What would fix a refuted claim, checked on the file itself. For a
//! refuted k-anonymity or risk claim the remedy is the least generalization
//! that makes it hold, found by the exact lattice search
//! ([`crate::anonymize::search`], run by src/audit/report/optimum.rs on the
//! classes the report counted in its one pass): the optimal node, its loss,
//! the records suppressed, the best few nodes as options, and the command
//! line that reproduces it.

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use super::optimum::Optimum;

/// Share of records a remedy may suppress by default (the claims'
/// `max_suppression` overrides it).
pub const MAX_SUPPRESSION: f64 = 0.05;

/// One transformation the search found, and what it gives on this file.
#[derive(Clone, Debug, Serialize)]
pub struct GeneralizationOption {
    /// Each quasi-identifier's generalization (`birth_date to year`).
    pub steps: Vec<String>,
    /// The policy lines (`deid apply`) that generalize the columns so
    /// (empty when a level has no built-in rule); the suppressed records
    /// are removed besides.
    pub policy: String,
    /// Smallest class released (after suppression).
    pub k: u64,
    /// Classes.
    pub classes: u64,
    /// Share of records suppressed (in classes that break the claim).
    pub suppressed_share: f64,
    /// Whether the claim holds with at most the suppression limit
    /// suppressed.
    pub reaches_k: bool,
    /// Precision loss: mean generalization level (level / top level) over
    /// records and quasi-identifiers, suppressed records counting 1.
    pub loss: f64,
}

/// A remedy for one refuted claim.
#[derive(Clone, Debug, Serialize)]
pub struct Remedy {
    /// The claim, as in the claims table.
    pub claim: String,
    /// What to do, in words.
    pub remedy: String,
    /// Policy lines for `deid apply`, when one fixes it.
    pub policy: Option<String>,
    /// The best transformations found, best first (k and risk claims).
    pub options: Vec<GeneralizationOption>,
    /// The optimal generalization and its cost (k and risk claims).
    pub optimum: Option<Optimum>,
}
