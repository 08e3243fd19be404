//! Read-only tabular access to CSV and JSON Lines for scan and the audits.
