//! `pushwatch parse`.

use std::process::ExitCode;

/// Arguments of `pushwatch parse`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pushwatch parse is not built yet")
}
