//! `pushwatch run`.

use std::process::ExitCode;

/// Arguments of `pushwatch run`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch run is not built yet")
}
