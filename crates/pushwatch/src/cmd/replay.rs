//! `pushwatch replay`: reads archived logs in event time and prints or publishes the findings.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pushwatch_parser::TimeSource;

use crate::config::Config;
use crate::input;
use crate::merge::Merge;
use crate::pipeline::{Pipeline, PipelineOptions};

/// Arguments of `pushwatch replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files, plain or gzip (detected by content); `-` reads stdin. Several files are
    /// merged in event time, each file being in time order by itself.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Configuration file (TOML); without it the built-in defaults apply.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Kafka bootstrap servers (HOST:PORT,...); sends the findings to Kafka instead of stdout.
    /// Overrides `kafka.brokers`.
    #[arg(long, value_name = "HOST:PORT")]
    pub kafka_brokers: Option<String>,
    /// Kafka topic of the findings. Overrides `kafka.topic`.
    #[arg(long, value_name = "NAME")]
    pub kafka_topic: Option<String>,
    /// Write an HTML page with the push and TOTP shares per window and the findings.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Skip lines with an event time before this instant (RFC 3339, e.g. 2026-03-01T00:00:00Z).
    #[arg(long, value_parser = parse_instant)]
    pub from: Option<DateTime<Utc>>,
    /// Skip lines with an event time at or after this instant (RFC 3339).
    #[arg(long, value_parser = parse_instant)]
    pub to: Option<DateTime<Utc>>,
    /// Baseline state file: loaded when it exists, saved at the end. Overrides `state.path`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Reference time for year-less syslog header times (RFC 3339): each takes the latest year
    /// that puts it at most one day after the last line with a full date, or after this
    /// instant before such a line. Defaults to the modification time of the newest input
    /// file, or the current time for stdin.
    #[arg(long, value_parser = parse_instant, value_name = "RFC3339")]
    pub receive_time: Option<DateTime<Utc>>,
    /// Maximum line length kept whole, in bytes; longer lines are cut and counted.
    #[arg(long, default_value_t = pushwatch_parser::DEFAULT_MAX_FRAME_LEN)]
    pub max_line_bytes: usize,
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            format!(
                "invalid time \"{text}\": {error}; expected RFC 3339 such as 2026-03-01T08:00:00Z"
            )
        })
}

/// Replays the files and prints the summary to stderr. Exits with 1 when a sink did not
/// deliver every record (the summary counts them by reason) or the state was not saved.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::logging::init();
    let mut config = Config::load_with_process_env(args.config.as_deref())?;
    if let Some(brokers) = &args.kafka_brokers {
        config.kafka.brokers = brokers.clone();
    }
    if let Some(topic) = &args.kafka_topic {
        config.kafka.topic = topic.clone();
    }
    if let Some(state) = &args.state {
        config.state.path = Some(state.clone());
    }
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            anyhow::bail!("--from {from} is not before --to {to}; nothing would be replayed");
        }
    }

    let bytes_read = Arc::new(AtomicU64::new(0));
    let inputs = input::open_all(&args.files, args.max_line_bytes, &bytes_read)?;
    let total_bytes: Option<u64> = inputs.iter().map(|input| input.size()).sum();
    let options = PipelineOptions {
        metrics: false,
        report: args.report.is_some(),
    };
    let mut pipeline = Pipeline::new(&config, options)?;
    let progress = progress_bar(total_bytes);

    let range = TimeRange::new(args.from, args.to);
    let reference_nanos = match args.receive_time {
        Some(time) => time.timestamp_nanos_opt().unwrap_or(i64::MAX),
        None => file_time_hint(&args.files),
    };
    let clock = pipeline.archive_clock(reference_nanos);
    // No archived line is dated after the replay itself. The file time is no limit: copies and
    // archives often carry a modification time older than their content.
    let now_nanos = Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
    pipeline.set_reference_time(reference_nanos.max(now_nanos));
    // A line without a time of its own before any line with one takes the reference time.
    let mut receive_nanos = reference_nanos;
    // The merge reads ahead in each file, so it dates lines with a clock of its own.
    let merge_clock = clock.clone();
    let mut merge = Merge::new(inputs, move |line: &[u8]| merge_clock.event_time(line));
    let started = Instant::now();
    let mut lines: u64 = 0;
    while let Some((_, line)) = merge.next_line().context("replay stopped")? {
        lines += 1;
        if lines % 16_384 == 0 {
            let rate = lines as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress.set_position(bytes_read.load(Ordering::Relaxed));
            progress.set_message(format!("{lines} lines, {rate:.0} lines/s"));
        }
        if !range.is_unbounded() {
            let time = clock.peek(&line.bytes, receive_nanos).1.time;
            if !range.contains(time.unix_nanos) {
                pipeline.skip_out_of_range(&line.bytes);
                if time.source != TimeSource::ReceiveTime {
                    receive_nanos = time.unix_nanos;
                }
                continue;
            }
        }
        let time = pipeline.process_archived(&line.bytes, line.truncated, &clock, receive_nanos)?;
        // A line without any time of its own takes the time of the last line that had one.
        if time.source != TimeSource::ReceiveTime {
            receive_nanos = time.unix_nanos;
        }
    }
    progress.finish_and_clear();
    pipeline.finish_input()?;
    pipeline.close()?;
    let summary = pipeline.summary();
    if let (Some(path), Some(report)) = (&args.report, pipeline.take_report()) {
        let title = format!("pushwatch replay of {}", describe_inputs(&args.files));
        std::fs::write(path, report.render(&title, &summary))
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    eprint!("{}", summary.render());
    let undelivered = pipeline.undelivered();
    eprint!("{}", undelivered.render());
    let mut failed = false;
    if undelivered.total() > 0 {
        tracing::error!(
            records = undelivered.total(),
            "some records were not delivered; the log above names the cause"
        );
        failed = true;
    }
    if let Some(error) = pipeline.state_save_error() {
        tracing::error!(
            error,
            "the state was not saved; the next replay starts without these baselines"
        );
        failed = true;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe_inputs(files: &[PathBuf]) -> String {
    let names: Vec<String> = files
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    names.join(", ")
}

/// The `--from`/`--to` range in nanoseconds since the epoch, end exclusive.
struct TimeRange {
    from: i64,
    to: i64,
}

impl TimeRange {
    fn new(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        let nanos = |time: DateTime<Utc>, fallback| time.timestamp_nanos_opt().unwrap_or(fallback);
        TimeRange {
            from: from.map_or(i64::MIN, |time| nanos(time, i64::MIN)),
            to: to.map_or(i64::MAX, |time| nanos(time, i64::MAX)),
        }
    }

    fn is_unbounded(&self) -> bool {
        self.from == i64::MIN && self.to == i64::MAX
    }

    fn contains(&self, nanos: i64) -> bool {
        (self.from..self.to).contains(&nanos)
    }
}

/// Returns the modification time of the newest input file, in nanoseconds: the reference time
/// of year-less syslog header times. Stdin and unreadable files give the current time.
///
/// NOTE: one reference serves every input, so a year-less line in an older file of several
/// may take a later year than its own file's modification time allows.
fn file_time_hint(files: &[PathBuf]) -> i64 {
    files
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok()?.modified().ok())
        .max()
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(Utc::now)
        .timestamp_nanos_opt()
        .unwrap_or(0)
}

/// Creates the progress bar: bytes of the input files with rate and ETA when the sizes are
/// known, a spinner for stdin. Hidden when stderr is not a terminal.
fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    let target = ProgressDrawTarget::stderr_with_hz(4);
    let bar = match total_bytes {
        Some(total) => {
            let style = ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::with_draw_target(Some(total), target).with_style(style)
        }
        None => {
            let style =
                ProgressStyle::with_template("{spinner} {bytes} {binary_bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
            ProgressBar::with_draw_target(None, target).with_style(style)
        }
    };
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
