//! `deid apply`.

use std::process::ExitCode;

/// Arguments of `deid apply`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid apply` is not built yet")
}
