//! The audit report: every test deid has, run against an export and a set of
//! testable claims, ending in a verdict a regulator can read. Markdown,
//! JSON, or one self-contained HTML file with inline SVG charts.
//!
//! Claims (TOML):
//!
//! ```toml
//! irreversible = ["phone_sha256", "email_sha256"]     # hashed columns cannot be reversed
//! k_anonymity = { qi = ["birth_date", "sex", "postal_code"], k = 5 }
//! max_unique_share = 0.01                              # on the k_anonymity QIs (or { qi = [...], share = 0.01 })
//! not_linkable = { auxiliary = "voters.csv", on = ["birth_date", "sex", "postal_code"], truth = "customer_id" }
//! sampling_fraction = 0.01                             # optional: population uniqueness too
//! hash_spaces = ["kr-mobile"]                          # optional: spaces for the hash audit
//! no_identifiers_in_text = ["memo"]                    # free text holds no identifier (after redact)
//! max_average_risk = 0.05                              # optional: average prosecutor risk (classes / records)
//! max_suppression = 0.05                               # optional: records a remedy may suppress (5% by default)
//! ```
//!
//! Each claim is SUPPORTED, REFUTED or NOT TESTED with its evidence. The
//! headline answers "individuals cannot be identified": REFUTED when any
//! test re-identifies someone, otherwise NOT REFUTED by the tests run, which
//! is never presented as proof of anonymity.

mod claims;
mod criteria;
mod html;
mod markdown;
mod optimum;
mod remedy;
mod verdict;

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use super::hashes::ColumnReport;
use super::link::LinkReport;
use super::risk::RiskReport;
use crate::scan::Kind;

pub use claims::{Claims, DEFAULT_MAX_RISK, DeltaClaim, KClaim, KMapClaim, LinkClaim, UniqueClaim};
pub use criteria::{Citation, FindingKind, criteria_for};
pub use html::to_html;
pub use markdown::to_markdown;
pub use optimum::{Optimum, OptimumColumn, REMEDY_METRIC};
pub use remedy::{GeneralizationOption, MAX_SUPPRESSION, Remedy};
pub use verdict::{build, build_with_progress};

/// A claim's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The tests support it.
    Supported,
    /// The tests refute it.
    Refuted,
    /// It could not be tested.
    NotTested,
}

impl Status {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Supported => "SUPPORTED",
            Status::Refuted => "REFUTED",
            Status::NotTested => "NOT TESTED",
        }
    }
}

/// One claim and its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimResult {
    /// The claim, in words.
    pub claim: String,
    /// The outcome.
    pub status: Status,
    /// What was measured.
    pub evidence: String,
}

/// A column holding stable tokens or pseudonyms.
#[derive(Clone, Debug, Serialize)]
pub struct Linkable {
    /// Column.
    pub column: String,
    /// What it looks like.
    pub kind: Kind,
    /// Values sampled.
    pub values: u64,
    /// Distinct values sampled.
    pub distinct: u64,
    /// The finding.
    pub finding: String,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Input file.
    pub input: String,
    /// Headline verdict on "individuals cannot be identified".
    pub verdict: Status,
    /// The headline in words.
    pub headline: String,
    /// Claims and outcomes.
    pub claims: Vec<ClaimResult>,
    /// Hash reversal per hashed column.
    pub hashes: Vec<ColumnReport>,
    /// Quasi-identifier risk.
    pub risk: Option<RiskReport>,
    /// Linkage attack.
    pub link: Option<LinkReport>,
    /// Columns of stable pseudonyms or deterministic tokens.
    pub linkable: Vec<Linkable>,
    /// Identifiers found inside free-text columns (src/audit/text.rs).
    pub free_text: Vec<crate::audit::text::TextFinding>,
    /// The version of deid that computed the report.
    pub deid_version: &'static str,
    /// What was tested, with which parameters, so two audits can be compared.
    pub parameters: Parameters,
    /// Whose point of view the figures take, and what was not tested.
    pub adversary: Adversary,
    /// Each finding and the criteria it bears on.
    pub findings: Vec<Finding>,
    /// What would fix each refuted claim, checked on this file.
    pub remedies: Vec<Remedy>,
}

/// The parameters of an audit.
#[derive(Clone, Debug, Serialize)]
pub struct Parameters {
    /// The claims tested, as parsed.
    pub claims: Claims,
    /// Hashed columns attacked.
    pub hashed_columns: Vec<String>,
    /// Quasi-identifiers measured.
    pub quasi_identifiers: Vec<String>,
    /// Maximum re-identification probability the report compares with
    /// (`max_risk` in the claims; 0.09 by default).
    pub max_risk: f64,
    /// Largest share of records a generalization remedy may suppress.
    pub max_suppression: f64,
    /// Threads of the hash search.
    pub threads: usize,
    /// Birth years for resident registration numbers.
    pub born: (i32, i32),
}

/// The adversary model the figures assume.
#[derive(Clone, Debug, Serialize)]
pub struct Adversary {
    /// Who the adversary is and what they hold.
    pub holds: String,
    /// What else the audit gave them (a population file, an auxiliary file,
    /// dictionaries, known salts or keys).
    pub given: Vec<String>,
    /// What was not tested.
    pub not_tested: Vec<String>,
}

/// One finding and the criteria it bears on.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// What the finding is about (a claim as in the claims table, a column).
    pub subject: String,
    /// Its kind.
    pub kind: FindingKind,
    /// Its outcome.
    pub status: Status,
    /// The criteria it bears on.
    pub criteria: Vec<Citation>,
}

/// Errors building a report (the audits' one error type).
pub use super::engine::AuditError as ReportError;
