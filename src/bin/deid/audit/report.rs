//! `deid audit report`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use deid::audit::hashes::AuditOptions;
use deid::audit::report::{self, Claims, Status};
use deid::io::atomic::AtomicFile;
use deid::io::table::{Format, TableOptions};

use crate::paths::refuse_output_over_inputs;

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
  dictionaries = { email_sha256 = \"customers.csv:email\" }   # the recipient's own list, every normalization
  hash_spaces = [\"kr-mobile\"]                                # [] for the dictionaries alone
  hash_constructions = [\"md5-hex\"]                           # sha256(md5_hex(x)) and the like
  salts = \"known_peppers.txt\"                                 # each salt before and after
  max_risk = 0.09                                            # highest 1/class size (EMA / Health Canada default)
  population = \"census.csv\"                                  # journalist risk, delta-presence and k-map:
  delta_presence = { max = 0.5 }
  k_map = { k = 5 }

Each claim is SUPPORTED, REFUTED or NOT TESTED with its evidence, and the headline answers
\"individuals cannot be identified\". Each finding names the criteria it bears on (EDPB
Guidelines 01/2025, the AEPD-EDPS hashing note, ENISA, Korea's PIPC guideline and PIPA, ISO/IEC
27559 and 20889, the EMA / Health Canada 0.09 threshold); the report states the adversary it
assumes and what it did not test, and for each refuted claim a remedy checked on the file (the
keyed pseudonym policy lines for a reversed hash; for k, the built-in generalizations tried, with
the k and the share of records suppressed each gives). The HTML report is one self-contained file (inline SVG charts)
that opens offline. Claims that cannot be tested as written (k = 0, a share above 1, a column the
export does not have) are refused. -o may not be the export, the claims or the auxiliary file.
The export needs a header row. Exit status: 4 when the headline or any claim is REFUTED, 0
otherwise, 1 bad input or claims, 2 usage.")]
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
    /// Threads for the hash search, 1 to 256 [default: all cores].
    #[arg(long, value_name = "N", value_parser = crate::ui::parse_threads)]
    threads: Option<usize>,
    /// Hashed columns may be truncated digests: also try 32- and 40-hex-character values as the
    /// leading bytes of longer digests (lengths no algorithm has always are).
    #[arg(long)]
    truncated: bool,
    /// Input format [default: from the extension].
    #[arg(long = "input-format", value_name = "csv|jsonl|parquet")]
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
    let auxiliary = claims.not_linkable.as_ref().map(|l| {
        if l.auxiliary.is_absolute() {
            l.auxiliary.clone()
        } else {
            base.join(&l.auxiliary)
        }
    });
    let population = claims.population.as_ref().map(|p| {
        if p.is_absolute() {
            p.clone()
        } else {
            base.join(p)
        }
    });
    refuse_output_over_inputs(
        "-o",
        args.output.as_deref(),
        &[
            ("input", Some(&args.input)),
            ("claims file", args.claims.as_deref()),
            ("auxiliary file", auxiliary.as_deref()),
            ("population file", population.as_deref()),
        ],
    )?;
    let mut audit = AuditOptions::default();
    if let Some(t) = args.threads {
        audit.threads = t;
    }
    audit.truncated = args.truncated;
    // The report names the export's columns: refuse a first row of data.
    let table_opts = TableOptions::new()
        .format_opt(args.input_format)
        .refuse_data_header(true);
    let r = super::with_progress(false, |p| {
        report::build_with_progress(&args.input, &table_opts, &claims, &base, &audit, p)
    })?;
    let text = match args.format {
        Output::Md => report::to_markdown(&r),
        Output::Json => serde_json::to_string_pretty(&r)? + "\n",
        Output::Html => report::to_html(&r),
    };
    match &args.output {
        Some(p) => {
            let write = || -> std::io::Result<()> {
                let mut f = AtomicFile::create(p, None)?;
                f.write_all(text.as_bytes())?;
                f.commit()
            };
            write().with_context(|| format!("cannot write {}", p.display()))?;
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    // The exit status follows the headline: a REFUTED headline (someone
    // re-identified) fails even when no claims file states a claim.
    let refuted =
        r.verdict == Status::Refuted || r.claims.iter().any(|c| c.status == Status::Refuted);
    Ok(if refuted {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}
