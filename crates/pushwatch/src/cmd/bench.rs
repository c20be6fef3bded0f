//! `pushwatch bench`.

use std::process::ExitCode;

/// Arguments of `pushwatch bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch bench is not built yet")
}
