//! The `pushwatch` command: parses the command line and runs the chosen subcommand.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use pushwatch::cmd;

/// The engine allocates a few short strings per classified line; mimalloc's per-thread free
/// lists make that cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Watches the health of push MFA in FortiGate and FortiAuthenticator logs.
#[derive(Debug, Parser)]
#[command(name = "pushwatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Replays archived logs in event time and prints or publishes the findings.
    Replay(cmd::replay::Args),
    /// Runs as a SIEM pipeline stage: syslog or Kafka in, findings to Kafka.
    Run(cmd::run::Args),
    /// Prints what the parser makes of each line, as one JSON object per message.
    Parse(cmd::parse::Args),
    /// Measures parser and pipeline throughput on a log file.
    Bench(cmd::bench::Args),
    /// Writes synthetic FortiGate and FortiAuthenticator logs.
    Gen(cmd::gen::Args),
    /// Validates a configuration file without running.
    CheckConfig(cmd::check_config::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => cmd::replay::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Parse(args) => cmd::parse::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Gen(args) => cmd::gen::run(args),
        Command::CheckConfig(args) => cmd::check_config::run(args),
    };
    match result {
        Ok(code) => code,
        // A reader that goes away early (`pushwatch replay … | head`) is not a failure.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pushwatch: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Tells whether an error comes from writing to a pipe whose reader has closed.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io_error| io_error.kind() == io::ErrorKind::BrokenPipe)
    })
}
