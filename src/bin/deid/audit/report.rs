//! `deid audit report`.

use std::process::ExitCode;

/// Arguments of `deid audit report`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid audit report` is not built yet")
}
