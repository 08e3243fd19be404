//! `deid keygen`.

use std::process::ExitCode;

/// Arguments of `deid keygen`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid keygen` is not built yet")
}
