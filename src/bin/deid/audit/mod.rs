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

/// Runs `work` with a [`Progress`](deid::audit::progress::Progress) shown
/// on standard error: stage, rate and ETA on a terminal (unless `quiet`),
/// and every notice (a long hash search announced with its estimate)
/// printed as soon as it is queued, terminal or not.
fn with_progress<T: Send>(
    quiet: bool,
    work: impl FnOnce(&deid::audit::progress::Progress) -> T + Send,
) -> T {
    use std::sync::atomic::{AtomicBool, Ordering};
    let progress = deid::audit::progress::Progress::new();
    let bar = crate::ui::progress_bar(None, quiet);
    if let Some(b) = &bar {
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
    }
    let done = AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        let (p, d, b) = (&progress, &done, &bar);
        s.spawn(move || {
            loop {
                let finished = d.load(Ordering::Relaxed);
                for n in p.take_notices() {
                    match b {
                        Some(b) => b.println(format!("note: {n}")),
                        None => eprintln!("note: {n}"),
                    }
                }
                if finished {
                    break;
                }
                if let Some(b) = b {
                    b.set_message(p.snapshot().to_string());
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        let out = work(&progress);
        done.store(true, Ordering::Relaxed);
        out
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Hashes(a) => hashes::run(a),
        Command::Risk(a) => risk::run(a),
        Command::Link(a) => link::run(a),
        Command::Report(a) => report::run(a),
    }
}
