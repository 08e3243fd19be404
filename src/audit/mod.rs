//! Re-identification audits: hash reversal, quasi-identifier risk, linkage
//! and the verdict report, fed by one engine ([`engine`]) that reads each
//! input once.

pub mod engine;
pub mod hashes;
pub mod link;
pub mod progress;
pub mod report;
pub mod risk;
pub mod text;

pub use engine::AuditError;
