//! `deid decrypt`.

use std::process::ExitCode;

/// Arguments of `deid decrypt`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid decrypt` is not built yet")
}
