//! `pushwatch gen`: deterministic synthetic FortiGate and FortiAuthenticator logs.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::gen::scenario::SIDE_FILE_NAMES;
use crate::gen::{mix, scenario, GenOptions, Scenario};

/// Arguments of `pushwatch gen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output kind. `mix` is the throughput mix of traffic, UTM, user, VPN and
    /// FortiAuthenticator lines. The others are event-time scenarios with a known outcome.
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
    /// Directory to write the side files of a scenario to: `inventory.csv` (the token
    /// inventory) and `pushwatch.toml` (a configuration that uses it). Created if missing.
    /// Without this option no side files are written.
    #[arg(long, value_name = "DIR")]
    pub side_files: Option<PathBuf>,
    /// Overwrite side files that already exist in the `--side-files` directory.
    #[arg(long)]
    pub force: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(directory) = &args.side_files {
        if args.scenario == Scenario::Mix {
            anyhow::bail!(
                "--side-files applies to scenarios only; the mix has no side files, so remove \
                 the option or choose a scenario"
            );
        }
        if !args.force {
            check_no_side_files(directory)?;
        }
    }
    let options = GenOptions {
        lines: args.lines,
        seed: args.seed,
        side_files: args.side_files.clone(),
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

/// Fails when a side file already exists in `directory`, before anything is written.
fn check_no_side_files(directory: &Path) -> anyhow::Result<()> {
    for name in SIDE_FILE_NAMES {
        let path = directory.join(name);
        if path.exists() {
            anyhow::bail!(
                "{} already exists; pass --force to overwrite it or choose another --side-files \
                 directory",
                path.display()
            );
        }
    }
    Ok(())
}
