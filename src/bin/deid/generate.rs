//! `deid gen`.

use std::process::ExitCode;

/// Arguments of `deid gen`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid gen` is not built yet")
}
