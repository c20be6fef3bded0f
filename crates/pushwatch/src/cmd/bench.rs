//! `pushwatch bench`: parser throughput on a log file held in memory.
//!
//! Each run frames every LF-delimited line and then does the work of the chosen mode. The
//! report gives the median lines/s and MB/s over the runs. Modes are plain functions from
//! the input buffer to a [`Pass`], so a new mode is one more enum variant and one match arm.

use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::ValueEnum as _;
use pushwatch_parser::{lines, peek, Context, Parser, DEFAULT_MAX_FRAME_LEN};

/// Work each run does with every line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Full parse: header, every field tokenised, event time resolved.
    Full,
    /// Fast path: header, format, class and identity fields and event time.
    Peek,
    /// Framing only: find the lines (the floor for touching every line).
    Scan,
    /// The whole pipeline: fast path, full parse of the lines the rule table keeps, and the
    /// window engine with the default configuration. Lines are received at the first line's
    /// event time, so that year-less syslog headers resolve to the file's year.
    Pipeline,
}

/// Arguments of `pushwatch bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log file, plain or gzip; it is read into memory before the runs.
    pub file: PathBuf,
    /// Work each run does with every line.
    #[arg(long, value_enum, default_value_t = Mode::Full)]
    pub mode: Mode,
    /// Number of timed runs; the report gives their median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub runs: u64,
}

/// The outcome of one pass over the input.
#[derive(Debug, Clone, Copy, Default)]
struct Pass {
    lines: u64,
    /// Fields, errors or time values summed so that the work cannot be optimised away.
    checksum: u64,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut input = Vec::new();
    super::parse::open(&args.file)?
        .read_to_end(&mut input)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let context = Context::now();
    let runs = usize::try_from(args.runs).unwrap_or(1);
    let mut times = Vec::with_capacity(runs);
    let mut pass = Pass::default();
    for _ in 0..runs {
        let start = Instant::now();
        pass = match args.mode {
            Mode::Full => full(&input, &context),
            Mode::Peek => fast_path(&input, &context),
            Mode::Scan => scan(&input),
            Mode::Pipeline => pipeline(&input)?,
        };
        times.push(start.elapsed());
        black_box(pass.checksum);
    }
    report(&args, input.len(), pass, &mut times);
    Ok(ExitCode::SUCCESS)
}

fn full(input: &[u8], context: &Context) -> Pass {
    let mut parser = Parser::new();
    let mut pass = Pass::default();
    for frame in lines(input, DEFAULT_MAX_FRAME_LEN) {
        let record = parser.parse(frame.bytes, context);
        pass.lines += 1;
        pass.checksum = pass
            .checksum
            .wrapping_add(record.field_count() as u64)
            .wrapping_add(record.time().unix_nanos as u64)
            .wrapping_add(record.errors().len() as u64);
    }
    pass
}

fn fast_path(input: &[u8], context: &Context) -> Pass {
    let mut pass = Pass::default();
    for frame in lines(input, DEFAULT_MAX_FRAME_LEN) {
        let quick = peek(frame.bytes, context);
        pass.lines += 1;
        let id_len = quick.event_id().map_or(0, |id| id.raw().len());
        pass.checksum = pass
            .checksum
            .wrapping_add(quick.time.unix_nanos as u64)
            .wrapping_add(id_len as u64);
    }
    pass
}

fn pipeline(input: &[u8]) -> anyhow::Result<Pass> {
    let first = lines(input, DEFAULT_MAX_FRAME_LEN).next();
    let received = first.map_or(0, |frame| {
        peek(frame.bytes, &Context::now()).time.unix_nanos
    });
    let config = pushwatch_window::Config::default();
    let mut engine = pushwatch_window::Engine::new(config, None, None)?;
    // As in a replay, the archive is not dated after the time it is read.
    engine.set_reference_time(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX));
    let mut out = Vec::new();
    let mut pass = Pass::default();
    for frame in lines(input, DEFAULT_MAX_FRAME_LEN) {
        engine.process_line(frame.bytes, received, &mut out);
        pass.lines += 1;
        pass.checksum = pass.checksum.wrapping_add(out.len() as u64);
        out.clear();
    }
    engine.finish(&mut out);
    pass.checksum = pass.checksum.wrapping_add(out.len() as u64);
    Ok(pass)
}

fn scan(input: &[u8]) -> Pass {
    let mut pass = Pass::default();
    for frame in lines(input, DEFAULT_MAX_FRAME_LEN) {
        pass.lines += 1;
        pass.checksum = pass.checksum.wrapping_add(frame.bytes.len() as u64);
    }
    pass
}

fn report(args: &Args, bytes: usize, pass: Pass, times: &mut [Duration]) {
    times.sort();
    let median = times[times.len() / 2].as_secs_f64().max(1e-9);
    let lines_per_second = pass.lines as f64 / median;
    let megabytes_per_second = bytes as f64 / median / 1e6;
    println!(
        "file: {} ({} lines, {:.1} MB, {:.0} bytes/line)",
        args.file.display(),
        pass.lines,
        bytes as f64 / 1e6,
        bytes as f64 / pass.lines.max(1) as f64
    );
    let runs: Vec<String> = times
        .iter()
        .map(|time| format!("{:.3}", time.as_secs_f64()))
        .collect();
    println!(
        "mode: {}, runs: {} (seconds, sorted: {})",
        args.mode
            .to_possible_value()
            .map_or_else(String::new, |value| value.get_name().to_owned()),
        times.len(),
        runs.join(" ")
    );
    println!(
        "median: {:.3} s, {:.2} M lines/s, {:.0} MB/s",
        median,
        lines_per_second / 1e6,
        megabytes_per_second
    );
}
