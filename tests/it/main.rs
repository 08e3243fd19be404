//! deid's integration tests: one module per subject, all compiled into one
//! test binary, so that the library and its dependencies are linked once
//! per feature set of scripts/test.sh rather than once per file.
//!
//! Run one subject with a name filter: `cargo test --test it leak::`. A
//! module that needs a feature says so with `#![cfg(feature = ...)]` at its
//! top, and builds to nothing without it. `common.rs` holds the scaffolding
//! they share.

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
mod parquet_dictionary;
mod parquet_malformed;
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
