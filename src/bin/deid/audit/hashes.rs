//! `deid audit hashes`.

use std::process::ExitCode;

/// Arguments of `deid audit hashes`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid audit hashes` is not built yet")
}
