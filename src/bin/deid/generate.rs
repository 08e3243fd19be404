//! `deid gen`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use deid::io::table::Format;
use deid::synth::Generator;

use crate::ui::{Output, progress_bar};

/// Data profiles.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Profile {
    /// Korean customers: customer_id, name, phone, email, rrn, birth_date, sex, postal_code, city, signup_date, balance.
    KrCustomers,
}

/// Arguments of `deid gen`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid gen --rows 100000 -o customers.csv
  deid gen --rows 1000000 --naive-hash -o naive.csv   # plus unsalted SHA-256 of phone and email
  deid gen --rows 1000 --format jsonl --seed 7
  deid gen --rows 100000 --memo --memo-truth truth.jsonl -o notes.csv   # plus Korean CS notes
  deid gen --rows 1000000 -o customers.parquet   # zstd, dictionary city/sex, Date32 dates

The same seed gives the same bytes, whatever the thread count. All data is synthetic: RRNs have
a valid check digit but are drawn at random.

--memo adds a last column `memo`: Korean customer-service notes with identifiers planted in a
sentence out of five to three (phones in every writing, emails, RRNs, FRNs, cards, accounts after a
bank name, business numbers, IPs, passports, driver's licences, foreign numbers) and decoys that
must not be taken for them (order and tracking numbers, amounts, dates, numbers failing their
check digit). --memo-truth FILE writes where each planted identifier is, one JSON line per row:
{\"row\":1,\"spans\":[{\"type\":\"phone:KR\",\"start\":12,\"end\":25}]} (byte offsets in the note).")]
pub struct Args {
    /// Rows to generate.
    #[arg(long, default_value_t = 1000)]
    rows: u64,
    /// Seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Data profile.
    #[arg(long, value_enum, default_value = "kr-customers")]
    profile: Profile,
    /// Add phone_sha256 and email_sha256: unsalted SHA-256 (lowercase hex) of the value as written.
    #[arg(long)]
    naive_hash: bool,
    /// Add a `memo` column of Korean customer-service notes with planted identifiers.
    #[arg(long)]
    memo: bool,
    /// Write the memo ground truth (JSON Lines: row, spans with type, start, end) to FILE.
    #[arg(long, value_name = "FILE", requires = "memo")]
    memo_truth: Option<PathBuf>,
    /// Output format [default: from the -o extension, else csv].
    #[arg(long, value_name = "csv|jsonl|parquet")]
    format: Option<Format>,
    /// Output file (written atomically); standard output when omitted.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Threads, 1 to 256 [default: all cores].
    #[arg(long, value_name = "N", value_parser = crate::ui::parse_threads)]
    threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Profile::KrCustomers = args.profile;
    crate::paths::refuse_output_over_inputs("-o", args.output.as_deref(), &[])?;
    if let (Some(t), Some(o)) = (&args.memo_truth, &args.output) {
        anyhow::ensure!(t != o, "--memo-truth and -o name the same file");
    }
    let format = args
        .format
        .or_else(|| args.output.as_deref().and_then(Format::from_path))
        .unwrap_or(Format::Csv);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let g = Generator::new(args.seed)
        .naive_hash(args.naive_hash)
        .memo(args.memo);
    let mut out = Output::open(args.output.as_deref())?;
    let bar = progress_bar(Some(args.rows), false);
    if format == Format::Parquet {
        g.write_parquet(args.rows, &mut out, threads, &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n);
            }
        })
        .context("cannot write the generated data")?;
    } else {
        g.write_with_progress(args.rows, format, &mut out, threads, &mut |n| {
            if let Some(b) = &bar {
                b.set_position(n);
            }
        })
        .context("cannot write the generated data")?;
    }
    out.flush()?;
    if let Some(path) = &args.memo_truth {
        let mut truth = Output::open(Some(path))?;
        g.write_memo_truth(args.rows, &mut truth)
            .context("cannot write the memo ground truth")?;
        truth.flush()?;
        truth.commit()?;
    }
    out.commit()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ExitCode::SUCCESS)
}
