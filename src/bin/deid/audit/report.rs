//! `deid audit report`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use deid::audit::hashes::AuditOptions;
use deid::audit::report::{self, Claims, Status};
use deid::io::table::{Format, TableOptions};

#[derive(Clone, Copy, clap::ValueEnum)]
enum Output {
    Md,
    Json,
    Html,
}

/// Arguments of `deid audit report`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid audit report export.csv                                   # every test, with columns guessed by scan
  deid audit report export.csv --claims claims.toml --format html -o report.html

claims.toml:
  irreversible = [\"phone_sha256\"]
  k_anonymity = { qi = [\"birth_date\", \"sex\", \"postal_code\"], k = 5 }
  max_unique_share = 0.01
  not_linkable = { auxiliary = \"voters.csv\", on = [\"birth_date\", \"sex\", \"postal_code\"], truth = \"customer_id\" }

Each claim is SUPPORTED, REFUTED or NOT TESTED with its evidence, and the headline answers
\"individuals cannot be identified\". The HTML report is one self-contained file (inline SVG charts)
that opens offline. Exit status: 4 when any claim is refuted, 0 otherwise, 1 bad input, 2 usage.")]
pub struct Args {
    /// The export under test.
    input: PathBuf,
    /// Claims to test (TOML).
    #[arg(long, value_name = "FILE")]
    claims: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "md")]
    format: Output,
    /// Write the report here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Threads for the hash search [default: all cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Input format [default: from the extension].
    #[arg(long = "input-format", value_name = "csv|jsonl")]
    input_format: Option<Format>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (claims, base) = match &args.claims {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            (
                Claims::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                p.parent().map(PathBuf::from).unwrap_or_default(),
            )
        }
        None => (Claims::default(), PathBuf::from(".")),
    };
    let mut audit = AuditOptions::default();
    if let Some(t) = args.threads {
        audit.threads = t.max(1);
    }
    let r = report::build(
        &args.input,
        &TableOptions::new().format_opt(args.input_format),
        &claims,
        &base,
        &audit,
    )?;
    let text = match args.format {
        Output::Md => report::to_markdown(&r),
        Output::Json => serde_json::to_string_pretty(&r)? + "\n",
        Output::Html => report::to_html(&r),
    };
    match &args.output {
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    let refuted = r.claims.iter().any(|c| c.status == Status::Refuted);
    Ok(if refuted {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}
