//! `deid scan`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use deid::io::atomic::AtomicFile;
use deid::io::table::{Format, TableOptions, TableReader};

use crate::paths::refuse_output_over_inputs;

/// Arguments of `deid scan`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid scan export.csv                          # what each column looks like, and a policy to start from
  deid scan export.csv --policy-out policy.toml
  deid scan export.jsonl --rows 50000 --json

Values are classified (Korean mobile, E.164 phone, email, RRN with a valid check digit, card number
with a valid Luhn digit, IPv4/IPv6, date, postal code, hex/base64 digest, Korean name, number,
category, free text) and the share of matching values is shown. Samples are only ever shown masked.
A CSV file whose first row looks like data (phones, emails, numbers) is refused: pass --no-header,
and columns are named by number (1, 2, ...) as in `deid apply --no-header`.")]
pub struct Args {
    /// Input file (CSV, JSON Lines or Parquet); standard input when omitted or `-`.
    input: Option<PathBuf>,
    /// Rows to sample.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    /// Write the suggested policy here instead of printing it.
    #[arg(long, value_name = "FILE")]
    policy_out: Option<PathBuf>,
    /// Print one JSON document (columns and the suggested policy).
    #[arg(long)]
    json: bool,
    /// Input format [default: from the extension, CSV for standard input].
    #[arg(long, value_name = "csv|jsonl|parquet")]
    format: Option<Format>,
    /// CSV delimiter.
    #[arg(long, default_value = ",", value_name = "CHAR")]
    delimiter: char,
    /// The CSV has no header row: columns are named by number (1, 2, ...).
    #[arg(long)]
    no_header: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    refuse_output_over_inputs(
        "--policy-out",
        args.policy_out.as_deref(),
        &[("input", args.input.as_deref())],
    )?;
    let opts = TableOptions::new()
        .format_opt(args.format)
        .has_header(!args.no_header)
        .refuse_data_header(!args.no_header)
        .delimiter(
            u8::try_from(args.delimiter).context("the delimiter must be one ASCII character")?,
        );
    let mut table = TableReader::open(args.input.as_deref(), &opts)?;
    let scans = deid::scan::scan(&mut table, args.rows)?;
    let policy = deid::scan::suggest_policy(&scans);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "rows_sampled": table.row_number(), "columns": scans, "suggested_policy": policy }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} rows sampled from {}\n",
            table.row_number(),
            table.source()
        )?;
        writeln!(
            out,
            "{:<24} {:<48} {:>6} {:>8} {:>9}  example (masked)",
            "column", "looks like", "share", "values", "distinct"
        )?;
        for s in &scans {
            let mark = if s.kind.is_identifier() { "!" } else { " " };
            writeln!(
                out,
                "{:<24}{mark}{:<48} {:>5.0}% {:>8} {:>9}  {}",
                s.column,
                s.kind.describe(),
                s.share * 100.0,
                s.values,
                s.distinct,
                s.masked_example
            )?;
            if !s.identifiers_in_text.is_empty() {
                let found: Vec<String> = s
                    .identifiers_in_text
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                writeln!(out, "{:<25}identifiers inside: {}", "", found.join(", "))?;
            }
        }
        writeln!(out, "\n! marks direct identifiers.")?;
    }
    match &args.policy_out {
        Some(p) => {
            let write = || -> std::io::Result<()> {
                let mut f = AtomicFile::create(p, None)?;
                f.write_all(policy.as_bytes())?;
                f.commit()
            };
            write().with_context(|| format!("cannot write {}", p.display()))?;
            if !args.json {
                writeln!(out, "suggested policy written to {}", p.display())?;
            }
        }
        None if !args.json => writeln!(
            out,
            "\nSuggested policy (save with --policy-out FILE):\n\n{policy}"
        )?,
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}
