//! `pushwatch replay`.

use std::process::ExitCode;

/// Arguments of `pushwatch replay`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch replay is not built yet")
}
