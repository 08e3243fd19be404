//! deid's integration tests, one module per subject, compiled into one test
//! binary: every file here used to be a test crate of its own, and each one
//! linked the library and its dependencies again (33 binaries in each of the
//! three feature sets of scripts/test.sh).
//!
//! Run one subject with a name filter: `cargo test --test it leak::`. A
//! module that needs a feature says so with `#![cfg(feature = ...)]` at its
//! top, and builds to nothing without it.

mod common;

mod anonymize;
mod anonymize_apply;
mod arrow_batch;
mod audit_free_text;
mod audit_hashes;
mod audit_risk;
mod audit_story;
mod audit_truncated;
mod batch_identity;
mod bench_cli;
mod cli;
mod cli_guards;
mod debug_redaction;
mod detect;
mod fail_closed;
mod golden;
mod html_report_browser;
mod keyset;
mod leak;
mod memo_corpus;
mod parquet_cli;
mod parquet_parallel;
mod pipeline;
mod properties;
mod redact;
mod suggest_policy;
mod suppress_formats;
mod transform_contract;
mod transforms;
mod vectors;
mod wycheproof;
