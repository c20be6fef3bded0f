//! `pushwatch gen`.

use std::process::ExitCode;

/// Arguments of `pushwatch gen`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch gen is not built yet")
}
