//! `pushwatch run`: syslog over UDP/TCP and/or a Kafka topic in, findings out, until SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::serve;

/// Arguments of `pushwatch run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (TOML). Keys can be overridden with PUSHWATCH_<SECTION>__<KEY>
    /// environment variables.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Write the bound UDP, TCP and metrics addresses to this file as JSON once every listener
    /// is bound; useful with port 0.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
}

/// Runs until SIGTERM or SIGINT, then flushes and exits with 0.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::logging::init();
    let config = Config::load_with_process_env(Some(&args.config))?;
    serve::run(
        config,
        serve::Options {
            ready_file: args.ready_file,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
