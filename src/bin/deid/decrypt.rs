//! `deid decrypt`.

use std::process::ExitCode;

use deid::io::pipeline::Direction;

use crate::ui::{PipelineArgs, run_pipeline};

/// Arguments of `deid decrypt`.
#[derive(clap::Args)]
#[command(after_help = "\
Reverses the `encrypt` and `fpe` fields of an export made by `deid apply`, with the same policy and a
keyset holding the key that made each token (any key of the set: tokens carry their key id). Other
columns pass through unchanged; pseudonyms, generalized and dropped values cannot be reversed.
Values come back normalized (e.g. emails lowercased) as they were when encrypted. In `redact` fields
with replace = \"token\", the tokens inside the text open back to the normalized identifiers.

A tampered token, a token from another column (context) or a keyset without the token's key stops
the run naming row and column; no output file appears.

Example:
  deid decrypt --policy policy.toml --keys keys.json -o restored.csv safe.csv")]
pub struct Args {
    #[command(flatten)]
    common: PipelineArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    run_pipeline(&args.common, Direction::Decrypt)?;
    Ok(ExitCode::SUCCESS)
}
