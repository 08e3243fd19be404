//! `deid apply`.

use std::process::ExitCode;

use deid::io::pipeline::Direction;

use crate::ui::{PipelineArgs, run_pipeline};

/// Arguments of `deid apply`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid keygen -o keys.json
  deid apply --policy policy.toml --keys keys.json -o safe.csv export.csv
  zcat export.jsonl.gz | deid apply -p policy.toml -k keys.json --format jsonl | gzip > safe.jsonl.gz
  deid apply -p policy.toml -k keys.json -o safe.parquet export.parquet     # Parquet, row group by row group
  deid apply -p policy.toml -k keys.json -o safe.parquet export.csv         # CSV in, Parquet out

Parquet: kept columns keep their type; transformed ones become Utf8 (typed values read as text:
integers in decimal, dates 2024-01-10, timestamps 2024-01-10T08:30:00); nulls stay null;
dictionary columns are transformed once per distinct value; struct fields by dotted path.

The policy names columns (CSV headers, or dotted paths such as customer.phone in JSON Lines):
  version = 1
  unlisted = \"keep\"          # keep | drop | error
  on_error = \"fail\"          # fail | drop-record
  [fields.phone]
  normalize = [\"phone:KR\"]
  transform = \"pseudonymize\"
  [fields.email]
  normalize = [\"email\"]
  transform = \"encrypt\"      # mode = \"deterministic\" (default) or \"randomized\"
  [fields.birth_date]
  transform = \"generalize\"
  to = \"year\"
  [fields.age]                # a generalization hierarchy at a level (docs/ANONYMIZE.md)
  transform = \"generalize\"
  hierarchy = \"age.csv\"      # ARX CSV file relative to the policy, or date, prefix, ...
  level = 2
  [fields.name]
  transform = \"drop\"
  [fields.memo]              # identifiers inside free text
  transform = \"redact\"       # detect = [\"phone:KR\", \"email\", ...] (all when absent)
  replace = \"pseudonym\"      # or \"token\" (decrypts back) or \"tag\" ([PHONE], [EMAIL], ...)

redact replaces each phone, email, RRN, FRN, business number, card, IP, passport, driver's
licence and account number it finds with the pseudonym (or token) of its normalized form under
the field's context: the value pseudonymize gives a column with that context. Detectors:
phone:KR, e164:<CC>, email, rrn, frn, brn, card, ipv4, ipv6, passport:KR, driver:KR, account:KR.
The summary counts them per type.

Record suppression: a [suppress] table (quasi_identifiers = [\"age\", ...], k = 5, and l, entropy_l,
t, ordered_t with sensitive = \"COL\", max_risk, limit = 0.02) makes apply read the input file
(CSV, JSON Lines or Parquet; not standard input) twice: first to find the classes of the generalized quasi-identifiers that break a model (as
`deid anonymize` counts them), then to write every other record. The summary counts the suppressed
records; if more than limit x records would go, nothing is written. `deid anonymize --policy-out`
writes such a policy.

A value the policy says to transform is never written in clear: with on_error = \"fail\" the first bad
value stops the run (its row and column are named, never its content) and no output file appears.
Exit status: 0 done, 1 bad input, policy or keyset, 2 usage, 70 a bug in deid (no output file).")]
pub struct Args {
    #[command(flatten)]
    common: PipelineArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    run_pipeline(&args.common, Direction::Apply)?;
    Ok(ExitCode::SUCCESS)
}
