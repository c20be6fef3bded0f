//! `pushwatch check-config`: loads a configuration file with its environment overrides, runs
//! the start-up checks of `run` and `replay` (inventory, state file, output directories, Kafka
//! options) and reports the first problem, without starting anything.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;

/// Arguments of `pushwatch check-config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file to validate.
    pub config: PathBuf,
    /// Print the effective configuration (file, defaults and environment overrides) as TOML.
    #[arg(long)]
    pub print: bool,
}

/// Validates the file; exits with 0 when it is valid and 2 with a message naming the key
/// when it is not.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load_with_process_env(Some(&args.config))?;
    config.check_startup()?;
    if args.print {
        print!("{}", config.to_toml());
    }
    eprintln!(
        "pushwatch: configuration {} is valid",
        args.config.display()
    );
    Ok(ExitCode::SUCCESS)
}
