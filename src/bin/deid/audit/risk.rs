//! `deid audit risk`.

use std::process::ExitCode;

/// Arguments of `deid audit risk`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid audit risk` is not built yet")
}
