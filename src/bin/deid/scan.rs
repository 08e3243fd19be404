//! `deid scan`.

use std::process::ExitCode;

/// Arguments of `deid scan`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid scan` is not built yet")
}
