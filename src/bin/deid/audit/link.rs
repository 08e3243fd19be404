//! `deid audit link`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use deid::io::table::{Format, TableOptions, TableReader};

/// Arguments of `deid audit link`.
#[derive(clap::Args)]
#[command(after_help = "\
Example:
  deid audit link --released export.csv --auxiliary voters.csv --on zip,birth_date,sex --truth person_id

A released record matched to exactly one auxiliary record is re-identified (if the auxiliary file
names people). With --truth (a column present in both files), matches are checked, not assumed.
A CSV file whose first row looks like data is refused: pass --no-header and name columns by number.
Exit status: 0 done, 1 bad input, 2 usage.")]
pub struct Args {
    /// The release under test.
    #[arg(long, value_name = "FILE")]
    released: PathBuf,
    /// What an attacker holds (a register, a leaked list).
    #[arg(long, value_name = "FILE")]
    auxiliary: PathBuf,
    /// Columns both files share, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "COLS", required = true)]
    on: Vec<String>,
    /// A column in both files that identifies the person, to score matches.
    #[arg(long, value_name = "COL")]
    truth: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Input format [default: from the extensions].
    #[arg(long, value_name = "csv|jsonl|parquet")]
    format: Option<Format>,
    /// The CSV files have no header row: name columns by number (1, 2, ...).
    #[arg(long)]
    no_header: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = TableOptions::new()
        .format_opt(args.format)
        .has_header(!args.no_header)
        .refuse_data_header(!args.no_header);
    let mut released = TableReader::open(Some(&args.released), &opts)?;
    let mut aux = TableReader::open(Some(&args.auxiliary), &opts)?;
    let r = deid::audit::link::link(&mut released, &mut aux, &args.on, args.truth.as_deref())?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = super::versioned(
            &r,
            serde_json::json!({
                "released": args.released.display().to_string(),
                "auxiliary": args.auxiliary.display().to_string(),
                "on": args.on,
                "truth": args.truth,
            }),
        )?;
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "linkage on {}: {} released records against {} auxiliary records",
            r.on.join(", "),
            r.released_rows,
            r.auxiliary_rows
        )?;
        writeln!(
            out,
            "  matched to exactly one record: {} ({:.4})",
            r.unique_matches, r.unique_match_share
        )?;
        writeln!(
            out,
            "  matched to several: {}; unmatched: {}",
            r.ambiguous, r.unmatched
        )?;
        if let (Some(c), Some(s), Some(p)) = (r.correct, r.correct_share, r.precision) {
            writeln!(
                out,
                "  correct by ground truth: {c} ({s:.4} of released records; precision {p:.4})"
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
