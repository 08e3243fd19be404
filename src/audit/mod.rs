//! Re-identification audits: hash reversal, quasi-identifier risk, linkage
//! and the verdict report.

pub mod hashes;
pub mod link;
pub mod report;
pub mod risk;
