//! `deid`: make exports safe to share, and prove when they are not.
//!
//! This file only parses arguments and dispatches; each command lives in its
//! own module and uses the library's public API.

#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod anonymize;
mod apply;
mod audit;
mod bench;
mod decrypt;
mod demo;
mod generate;
mod heap;
mod keygen;
mod paths;
mod scan;
mod signals;
mod ui;

/// Keyed pseudonyms, reversible tokens and generalization for CSV, JSON
/// Lines and Parquet exports, and audits that test "individuals can't be
/// identified".
#[derive(Parser)]
#[command(name = "deid", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Start with `deid demo`, then `deid keygen -o keys.json` and `deid apply --help`.\n\
                  Exit status 70, from any command, is a bug in deid (no -o file is written); please report it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a keyset (mode 0600), or rotate in a new primary key.
    Keygen(keygen::Args),
    /// Transform an export with a policy: pseudonymize, encrypt, generalize, drop.
    Apply(apply::Args),
    /// Open `encrypt` and `fpe` fields of an export again, with the same policy and keyset.
    Decrypt(decrypt::Args),
    /// Detect identifier-like columns from a sample and suggest a policy.
    Scan(scan::Args),
    /// Generate a deterministic synthetic export for demos and benchmarks.
    #[command(name = "gen")]
    Gen(generate::Args),
    /// Find the least generalization that makes k-anonymity, l-diversity, t-closeness or a risk hold.
    Anonymize(anonymize::Args),
    /// Test anonymization claims: hash reversal, quasi-identifier risk, linkage, verdict.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Measure every transform on this device.
    Bench(bench::Args),
    /// Run the main job end to end on built-in sample data.
    Demo(demo::Args),
}

/// The exit status of a run that a bug stopped (`EX_SOFTWARE` of
/// sysexits.h); the panic is reported by place only (src/crash.rs).
const EXIT_INTERNAL: u8 = 70;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    heap::tune();
    signals::install();
    deid::crash::install();
    let command = cli.command;
    let Some(result) = deid::crash::guard(|| match command {
        Command::Keygen(a) => keygen::run(a),
        Command::Apply(a) => apply::run(a),
        Command::Decrypt(a) => decrypt::run(a),
        Command::Scan(a) => scan::run(a),
        Command::Gen(a) => generate::run(a),
        Command::Anonymize(a) => anonymize::run(a),
        Command::Audit(c) => audit::run(c),
        Command::Bench(a) => bench::run(a),
        Command::Demo(a) => demo::run(a),
    }) else {
        return ExitCode::from(EXIT_INTERNAL);
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // `deid ... | head` is not an error.
                return ExitCode::SUCCESS;
            }
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "deid: error: {err}");
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {cause}");
            }
            let input = || {
                err.chain()
                    .filter_map(|c| c.downcast_ref::<deid::io::InputError>())
            };
            if input().any(|e| matches!(e.kind(), deid::io::InputErrorKind::Internal(_))) {
                return ExitCode::from(EXIT_INTERNAL);
            }
            let usage = err.chain().any(|c| c.is::<ui::UsageError>())
                || input().any(deid::io::InputError::is_usage);
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}
