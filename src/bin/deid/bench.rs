//! `deid bench`.

use std::process::ExitCode;

/// Arguments of `deid bench`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid bench` is not built yet")
}
