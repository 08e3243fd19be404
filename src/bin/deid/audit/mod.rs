//! `deid audit`: one subcommand per attack.

use std::process::ExitCode;

use clap::Subcommand;

mod hashes;
mod link;
mod report;
mod risk;

/// The audit subcommands.
// Parsed once per run: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Reverse hashed identifier columns the way a recipient would (exit 3 if any is reversed).
    Hashes(hashes::Args),
    /// Quasi-identifier risk: k-anonymity, uniqueness, prosecutor/journalist/marketer risk.
    Risk(risk::Args),
    /// Linkage attack: match released records to an auxiliary file on shared columns.
    Link(link::Args),
    /// All audits against testable claims, with a verdict (exit 4 if a claim is refuted).
    Report(report::Args),
}

/// `report` as one JSON object with `deid_version` and the `parameters`
/// used, so that two audits can be compared.
fn versioned(
    report: impl serde::Serialize,
    parameters: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut doc = serde_json::to_value(report)?;
    if let serde_json::Value::Object(m) = &mut doc {
        m.insert("deid_version".into(), env!("CARGO_PKG_VERSION").into());
        m.insert("parameters".into(), parameters);
    }
    Ok(doc)
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Hashes(a) => hashes::run(a),
        Command::Risk(a) => risk::run(a),
        Command::Link(a) => link::run(a),
        Command::Report(a) => report::run(a),
    }
}
