//! `deid audit link`.

use std::process::ExitCode;

/// Arguments of `deid audit link`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid audit link` is not built yet")
}
