//! `deid demo`.

use std::process::ExitCode;

/// Arguments of `deid demo`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`deid demo` is not built yet")
}
