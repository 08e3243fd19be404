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
//! ```
//!
//! Each claim is SUPPORTED, REFUTED or NOT TESTED with its evidence. The
//! headline answers "individuals cannot be identified": REFUTED when any
//! test re-identifies someone, otherwise NOT REFUTED by the tests run, which
//! is never presented as proof of anonymity.

mod claims;
mod html;
mod markdown;
mod verdict;

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use super::hashes::ColumnReport;
use super::link::LinkReport;
use super::risk::RiskReport;
use crate::scan::Kind;

pub use claims::{Claims, KClaim, LinkClaim, UniqueClaim};
pub use html::to_html;
pub use markdown::to_markdown;
pub use verdict::build;

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
}

/// Errors building a report (the audits' one error type).
pub use super::engine::AuditError as ReportError;
