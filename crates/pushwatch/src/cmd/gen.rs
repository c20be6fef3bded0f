//! `pushwatch gen`: deterministic synthetic FortiGate and FortiAuthenticator logs.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::gen::{mix, scenario, GenOptions, Scenario};

/// Arguments of `pushwatch gen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate: `mix` is the throughput mix of traffic, UTM, user, VPN and
    /// FortiAuthenticator lines; the others are event-time scenarios with a known outcome.
    #[arg(long, value_enum, default_value_t = Scenario::Mix)]
    pub scenario: Scenario,
    /// Number of lines for `mix` (scenarios have their own length).
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    /// Seed of the pseudo-random generator; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file; `-` or no value writes to stdout. A name ending in `.gz` is gzip-compressed.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Directory for the side files of a scenario (token inventory, configuration, expected
    /// findings). Defaults to the directory of `--output`.
    #[arg(long)]
    pub side_files: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = GenOptions {
        lines: args.lines,
        seed: args.seed,
        side_files: args.side_files.clone().or_else(|| {
            args.output
                .as_ref()
                .and_then(|path| path.parent().map(|dir| dir.to_path_buf()))
        }),
    };
    let out: Box<dyn Write> = match &args.output {
        None => Box::new(io::stdout().lock()),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdout().lock()),
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            if path.extension().is_some_and(|ext| ext == "gz") {
                Box::new(flate2::write::GzEncoder::new(
                    BufWriter::new(file),
                    flate2::Compression::default(),
                ))
            } else {
                Box::new(file)
            }
        }
    };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    match args.scenario {
        Scenario::Mix => mix::write(&options, &mut out)?,
        other => scenario::write(other, &options, &mut out)?,
    }
    out.flush().context("cannot write generated lines")?;
    Ok(ExitCode::SUCCESS)
}
