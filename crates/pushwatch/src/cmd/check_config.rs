//! `pushwatch check-config`.

use std::process::ExitCode;

/// Arguments of `pushwatch check-config`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch check-config is not built yet")
}
