//! The processing chain shared by replay and run: parse a line, feed the window engine, send
//! what it produces to the sinks, and count everything for the summary and the metrics.
//!
//! Each line is peeked once (header, class fields and event time, without tokenising the
//! rest). Lines the rule table may care about are parsed in full and handed to the engine as
//! records. The others go to the engine together with that peek, so no line is peeked twice.
//!
//! NOTE: parse errors are counted from that peek for the lines the fast path skips, so errors
//! past the class fields of an irrelevant line are not counted.

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use pushwatch_parser::{peek, Context, ErrorKind, EventTime, Parser, Peek, TimeSource};
use pushwatch_sink::{
    DeliveryProgress, FanOut, FileSink, KafkaSink, OutRecord, Sink, SinkError, StdoutSink, Stream,
};
use pushwatch_window::finding::Activity;
use pushwatch_window::state::SavedState;
use pushwatch_window::{Counters, Engine, FindingRecord, LoginAttempt, Output, WindowStats};
use tracing::{debug, info, warn};

use crate::config::Config;
use crate::ratelimit::LogLimiter;
use crate::report::ReportBuilder;
use crate::serve::metrics as names;
use crate::summary::Summary;

static INVALID_RECORD_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static PARSE_ERROR_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Time the sinks get at the end to deliver what they hold before it is spooled.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Records that the sinks did not deliver, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Undelivered {
    /// Records the broker rejected as permanently invalid.
    pub rejected: u64,
    /// Records lost because no spool file was set, it was full or writing it failed.
    pub dropped: u64,
    /// Records waiting in the spool file for the next start.
    pub spooled: u64,
}

impl Undelivered {
    /// Returns the number of records not delivered, over all reasons.
    pub fn total(&self) -> u64 {
        self.rejected + self.dropped + self.spooled
    }

    /// Renders the summary line, e.g. `not delivered: 2 (dropped 2)`.
    pub fn render(&self) -> String {
        let reasons: Vec<String> = [
            ("rejected", self.rejected),
            ("dropped", self.dropped),
            ("spooled", self.spooled),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(reason, count)| format!("{reason} {count}"))
        .collect();
        if reasons.is_empty() {
            format!("not delivered: {}\n", self.total())
        } else {
            format!("not delivered: {} ({})\n", self.total(), reasons.join(", "))
        }
    }
}

/// Tolerance for clock skew between the devices and the machine that wrote an archive.
const ARCHIVE_CLOCK_TOLERANCE_NANOS: i64 = 86_400 * 1_000_000_000;

/// How far before a year-less time the parser is asked to look for its year, so that the
/// year before is the closest candidate: more than half of a 366-day year, less than 365 days.
const YEAR_BACK_NANOS: i64 = 200 * 86_400 * 1_000_000_000;

/// Dates archived lines. A year-less syslog header time (RFC 3164) takes the latest year
/// that puts it at or before the reference time plus one day for clock skew. The reference
/// is the time of the last line dated by its body (`eventtime`, `date`/`time`), or the time
/// given at creation before such a line. The parser itself picks the year that puts the time
/// closest to the receive time, so the clock peeks with the reference time and, when the
/// result lies after it, once more half a year before that result.
///
/// NOTE: a year-less Feb 29 whose closest leap year lies after the reference keeps that year,
/// because the parser looks only one year either side for a candidate.
#[derive(Debug, Clone)]
pub struct ArchiveClock {
    /// The reference time plus the tolerance, in nanoseconds since the epoch.
    latest_nanos: Cell<i64>,
    /// The first reference plus the tolerance: a body date after it comes from a bad clock
    /// and does not become the reference.
    ceiling_nanos: i64,
    default_offset: i32,
}

impl ArchiveClock {
    /// Creates a clock with the reference time `reference_nanos` (e.g. the file's modification
    /// time) and the default zone `default_offset` (seconds east of UTC).
    pub fn new(reference_nanos: i64, default_offset: i32) -> Self {
        let latest = reference_nanos.saturating_add(ARCHIVE_CLOCK_TOLERANCE_NANOS);
        ArchiveClock {
            latest_nanos: Cell::new(latest),
            ceiling_nanos: latest,
            default_offset,
        }
    }

    /// Returns the event time of `line`, or `None` when it has no time of its own.
    pub fn event_time(&self, line: &[u8]) -> Option<i64> {
        let (_, peeked) = self.peek(line, 0);
        (peeked.time.source != TimeSource::ReceiveTime).then_some(peeked.time.unix_nanos)
    }

    /// Peeks `line` and returns the peek with the context to parse it in. The context's
    /// receive time is the line's own event time, which gives the parser the same year again,
    /// or `previous_nanos` for a line without a time of its own. A line dated by its body
    /// becomes the reference, unless it is dated more than a day after the first reference.
    pub fn peek<'a>(&self, line: &'a [u8], previous_nanos: i64) -> (Context, Peek<'a>) {
        let latest_nanos = self.latest_nanos.get();
        let context = self.context(latest_nanos);
        let peeked = peek(line, &context);
        let time = peeked.time;
        match time.source {
            TimeSource::ReceiveTime => {
                let context = self.context(previous_nanos);
                let peeked = peek(line, &context);
                (context, peeked)
            }
            TimeSource::Header | TimeSource::HeaderDefaultZone
                if time.unix_nanos > latest_nanos =>
            {
                // A header time after the reference: if it has no year, the parser gives the
                // year before when asked from half a year earlier. A full date stays the same.
                let earlier = self.context(time.unix_nanos.saturating_sub(YEAR_BACK_NANOS));
                let again = peek(line, &earlier);
                if again.time.source == time.source && again.time.unix_nanos < time.unix_nanos {
                    (self.context(again.time.unix_nanos), again)
                } else {
                    (self.context(time.unix_nanos), peeked)
                }
            }
            TimeSource::Header | TimeSource::HeaderDefaultZone => {
                (self.context(time.unix_nanos), peeked)
            }
            TimeSource::Eventtime | TimeSource::DateTimeTz | TimeSource::DateTimeDefaultZone => {
                let latest = time
                    .unix_nanos
                    .saturating_add(ARCHIVE_CLOCK_TOLERANCE_NANOS);
                if latest <= self.ceiling_nanos {
                    self.latest_nanos.set(latest);
                }
                (self.context(time.unix_nanos), peeked)
            }
        }
    }

    fn context(&self, receive_nanos: i64) -> Context {
        Context::new(receive_nanos).with_default_offset(self.default_offset)
    }
}

/// Options of a pipeline.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// Update the Prometheus metrics and log findings at info level (run mode).
    pub metrics: bool,
    /// Collect windows and findings for the HTML report (replay with `--report`).
    pub report: bool,
}

/// Parser, engine and sinks of one replay or run. Owned by a single thread.
pub struct Pipeline {
    parser: Parser,
    engine: Engine,
    sink: Box<dyn Sink>,
    outputs: Vec<Output>,
    default_offset: i32,
    summary: Summary,
    options: PipelineOptions,
    state_path: Option<PathBuf>,
    /// Error of the latest state save, if it failed.
    state_save_error: Option<String>,
    send_windows: bool,
    send_attempts: bool,
    product_name: String,
    report: Option<ReportBuilder>,
    last_seq: u64,
    /// Engine counters at start, which a loaded state carries over from earlier runs.
    counters_at_start: Counters,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("summary", &self.summary)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Loads the token inventory and the saved state, builds the engine and opens the sinks.
    pub fn new(config: &Config, options: PipelineOptions) -> anyhow::Result<Self> {
        config.check_paths()?;
        let window_config = config.window_config();
        let inventory = Engine::load_inventory(&window_config)
            .context("cannot load the token inventory (inventory.path)")?;
        let saved = match &config.state.path {
            Some(path) if path.exists() => {
                let saved = SavedState::load(path)?;
                info!(path = %path.display(), "loaded the saved state");
                Some(saved)
            }
            _ => None,
        };
        let engine = Engine::new(window_config, inventory, saved)?;
        let counters_at_start = engine.counters();
        let sink = open_sinks(config)?;
        Ok(Pipeline {
            parser: Parser::new(),
            engine,
            sink,
            outputs: Vec::new(),
            default_offset: config.sources.default_offset_seconds(),
            summary: Summary::default(),
            report: options.report.then(ReportBuilder::new),
            options,
            state_path: config.state.path.clone(),
            state_save_error: None,
            send_windows: config.kafka.enabled() && !config.kafka.windows_topic.trim().is_empty(),
            send_attempts: config.kafka.enabled() && !config.kafka.attempts_topic.trim().is_empty(),
            product_name: config.findings.product_name.clone(),
            last_seq: 0,
            counters_at_start,
        })
    }

    /// Returns the parse context for a line received at `receive_nanos`.
    pub fn context(&self, receive_nanos: i64) -> Context {
        Context::new(receive_nanos).with_default_offset(self.default_offset)
    }

    /// Counts a line that `--from`/`--to` left out.
    pub fn skip_out_of_range(&mut self, line: &[u8]) {
        self.summary.lines += 1;
        self.summary.bytes += line.len() as u64;
        self.summary.skipped_out_of_range += 1;
    }

    /// Replays: no line can be dated more than `windows.max_clock_skew_secs` after
    /// `reference_nanos` (the time of the replay, or a later `--receive-time`).
    pub fn set_reference_time(&mut self, reference_nanos: i64) {
        self.engine.set_reference_time(reference_nanos);
    }

    /// Returns the clock that dates archived lines, with year-less header times at or before
    /// `reference_nanos` (see [`ArchiveClock`]).
    pub fn archive_clock(&self, reference_nanos: i64) -> ArchiveClock {
        ArchiveClock::new(reference_nanos, self.default_offset)
    }

    /// Processes one line or frame and returns its event time. Fails only when a sink is
    /// broken.
    pub fn process(
        &mut self,
        line: &[u8],
        truncated: bool,
        receive_nanos: i64,
    ) -> anyhow::Result<EventTime> {
        let context = self.context(receive_nanos);
        let peeked = peek(line, &context);
        self.process_peeked(line, truncated, &context, peeked)
    }

    /// Processes one archived line dated by `clock` and returns its event time. A line without
    /// a time of its own takes `previous_nanos`. Fails only when a sink is broken.
    pub fn process_archived(
        &mut self,
        line: &[u8],
        truncated: bool,
        clock: &ArchiveClock,
        previous_nanos: i64,
    ) -> anyhow::Result<EventTime> {
        let (context, peeked) = clock.peek(line, previous_nanos);
        self.process_peeked(line, truncated, &context, peeked)
    }

    fn process_peeked(
        &mut self,
        line: &[u8],
        truncated: bool,
        context: &Context,
        peeked: Peek<'_>,
    ) -> anyhow::Result<EventTime> {
        let context = *context;
        self.summary.lines += 1;
        self.summary.bytes += line.len() as u64;
        if truncated {
            self.summary.truncated += 1;
        }
        let time = peeked.time;
        let relevant = self.engine.needs_parse(&peeked, line);
        // The peek does not resolve a header time that the body's time overrides, so only the
        // full parse reports an invalid header date.
        if relevant || body_time_hides_header_date(&peeked, line) {
            let record = self.parser.parse(line, &context);
            count_errors(
                &mut self.summary,
                self.options.metrics,
                record.errors().iter().map(|e| e.kind),
            );
            if relevant {
                self.engine
                    .process_record(&record, context.receive_time, &mut self.outputs);
            } else {
                self.engine
                    .process_peeked(&peeked, line, &context, &mut self.outputs);
            }
        } else {
            count_errors(
                &mut self.summary,
                self.options.metrics,
                peeked.errors.as_slice().iter().map(|e| e.kind),
            );
            self.engine
                .process_peeked(&peeked, line, &context, &mut self.outputs);
        }
        self.emit()?;
        Ok(time)
    }

    /// Advances processing time to `now_nanos` (run mode): lets the engine notice silent
    /// sources and refreshes the sink metrics.
    pub fn tick(&mut self, now_nanos: i64) -> anyhow::Result<()> {
        self.engine
            .tick(now_nanos.div_euclid(1_000_000), &mut self.outputs);
        self.emit()?;
        if self.options.metrics {
            self.export_counters();
        }
        Ok(())
    }

    /// Saves the engine state to `state.path`, if configured. A failure is logged, counted and
    /// kept for [`Pipeline::state_save_error`], not fatal: the next save may succeed.
    pub fn save_state(&mut self) {
        let Some(path) = &self.state_path else {
            return;
        };
        match self.engine.save_state(path) {
            Ok(()) => {
                metrics::counter!(names::STATE_SAVES, "result" => "ok").increment(1);
                self.state_save_error = None;
            }
            Err(error) => {
                metrics::counter!(names::STATE_SAVES, "result" => "error").increment(1);
                // The error's Display leaves the cause to its source, so print the chain.
                let message = format!("{:#}", anyhow::Error::new(error));
                warn!(error = %message, path = %path.display(), "saving the state failed");
                self.state_save_error = Some(message);
            }
        }
    }

    /// Returns the error of the latest state save if it failed, e.g. after [`Pipeline::close`].
    pub fn state_save_error(&self) -> Option<&str> {
        self.state_save_error.as_deref()
    }

    /// Ends the input (replay): times out open attempts, closes every window and runs the
    /// detectors on them. Open findings stay open.
    pub fn finish_input(&mut self) -> anyhow::Result<()> {
        self.engine.finish(&mut self.outputs);
        self.emit()
    }

    /// Saves the state and closes the sinks, which deliver what they can within a timeout and
    /// spool the rest.
    pub fn close(&mut self) -> anyhow::Result<()> {
        self.save_state();
        self.sink.flush().context("flushing the sinks failed")?;
        self.sink
            .close(CLOSE_TIMEOUT)
            .context("closing the sinks failed")?;
        if self.options.metrics {
            self.export_counters();
        }
        Ok(())
    }

    /// Returns the counters of this replay or run, with the engine's (without what a loaded
    /// state counted before).
    pub fn summary(&self) -> Summary {
        let now = self.engine.counters();
        let start = &self.counters_at_start;
        let mut summary = self.summary.clone();
        summary.signals = now.signals.saturating_sub(start.signals);
        summary.attempts = now
            .attempts_by_class
            .into_iter()
            .map(|(class, count)| {
                let before = start.attempts_by_class.get(&class).copied().unwrap_or(0);
                (class, count.saturating_sub(before))
            })
            .collect();
        summary.late_lines = now.late_lines.saturating_sub(start.late_lines);
        summary.future_lines = now.future_lines.saturating_sub(start.future_lines);
        summary.suppressed_fatigue = now
            .suppressed_fatigue
            .saturating_sub(start.suppressed_fatigue);
        summary.explained_fatigue = now
            .explained_fatigue
            .saturating_sub(start.explained_fatigue);
        summary.ambiguous_lines = now.ambiguous_lines.saturating_sub(start.ambiguous_lines);
        summary.windows_closed = now.windows_closed.saturating_sub(start.windows_closed);
        summary.evicted_attempts = now.evicted_attempts.saturating_sub(start.evicted_attempts);
        summary.evicted_users = now.evicted_users.saturating_sub(start.evicted_users);
        summary.findings_opened = now.findings_opened.saturating_sub(start.findings_opened);
        summary.findings_updated = now.findings_updated.saturating_sub(start.findings_updated);
        summary.findings_resolved = now
            .findings_resolved
            .saturating_sub(start.findings_resolved);
        summary
    }

    /// Counts the records the sinks did not deliver, over all sinks. Meant for after
    /// [`Pipeline::close`], when nothing is in flight any more.
    pub fn undelivered(&self) -> Undelivered {
        let mut undelivered = Undelivered::default();
        for (_, stats) in self.sink.stats() {
            let snapshot = stats.snapshot();
            undelivered.rejected += snapshot.rejected;
            undelivered.dropped += snapshot.dropped;
            undelivered.spooled += snapshot.spool_records;
        }
        undelivered
    }

    /// Returns the sequence number of the last record sent to the sinks.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Returns the delivery progress of the sinks.
    pub fn progress(&self) -> DeliveryProgress {
        self.sink.progress()
    }

    /// Takes the collected report data, if `report` was requested.
    pub fn take_report(&mut self) -> Option<ReportBuilder> {
        self.report.take()
    }

    /// Sends the engine's outputs to the sinks, the report and the metrics.
    fn emit(&mut self) -> anyhow::Result<()> {
        if self.outputs.is_empty() {
            return Ok(());
        }
        let mut sent = false;
        let outputs = std::mem::take(&mut self.outputs);
        for output in &outputs {
            let record = match output {
                Output::Finding(finding) => {
                    self.observe_finding(finding);
                    Some(finding_record(finding, &self.product_name)?)
                }
                Output::Window(stats) => {
                    self.observe_window(stats);
                    self.send_windows
                        .then(|| window_record(stats))
                        .transpose()?
                }
                Output::Attempt(attempt) => {
                    if self.options.metrics {
                        metrics::counter!(names::ATTEMPTS, "class" => attempt.class.as_str())
                            .increment(1);
                    }
                    self.send_attempts
                        .then(|| attempt_record(attempt))
                        .transpose()?
                }
            };
            if let Some(record) = record {
                self.send(record)?;
                sent = true;
            }
        }
        // Reuse the allocation of the output buffer.
        self.outputs = outputs;
        self.outputs.clear();
        if sent {
            self.sink.flush().context("flushing the sinks failed")?;
        }
        Ok(())
    }

    fn send(&mut self, record: OutRecord) -> anyhow::Result<()> {
        match self.sink.send(record) {
            Ok(seq) => {
                self.last_seq = seq;
                Ok(())
            }
            Err(SinkError::Invalid(invalid)) => {
                metrics::counter!(names::SINK_DROPPED, "sink" => "all").increment(1);
                if let Some(suppressed) = INVALID_RECORD_LOG.check() {
                    warn!(error = %invalid, suppressed, "a sink rejected a record as invalid");
                }
                Ok(())
            }
            Err(error) => Err(error).context("a sink failed"),
        }
    }

    fn observe_finding(&mut self, record: &FindingRecord) {
        let finding = &record.finding;
        let transition = transition_name(record.activity);
        if self.options.metrics {
            let detector = finding.detector.clone();
            metrics::counter!(names::FINDINGS, "detector" => detector, "transition" => transition)
                .increment(1);
            info!(
                detector = %finding.detector,
                scope = %finding.scope,
                transition,
                title = %finding.title,
                "finding"
            );
        } else {
            // Replay prints every finding on stdout; logging them too would bury the summary.
            debug!(
                detector = %finding.detector,
                scope = %finding.scope,
                transition,
                "finding"
            );
        }
        let Some(report) = &mut self.report else {
            return;
        };
        let severity = finding.severity.caption();
        match record.activity {
            Activity::Create => report.finding_opened(
                &finding.detector,
                &finding.scope,
                &finding.title,
                severity,
                record.time,
            ),
            Activity::Update => report.finding_updated(&finding.detector, &finding.scope, severity),
            Activity::Close => {
                report.finding_resolved(&finding.detector, &finding.scope, record.time)
            }
        }
    }

    fn observe_window(&mut self, stats: &WindowStats) {
        if self.options.metrics
            && (stats.scope == "global"
                || stats.scope.starts_with("site:")
                || stats.scope.starts_with("platform:"))
        {
            let scope = stats.scope.clone();
            metrics::gauge!(names::WINDOW_ATTEMPTS, "scope" => scope.clone())
                .set(stats.attempts as f64);
            if let Some(share) = stats.push_success_share {
                metrics::gauge!(names::PUSH_SUCCESS_SHARE, "scope" => scope.clone()).set(share);
            }
            if let Some(share) = stats.totp_share {
                metrics::gauge!(names::TOTP_SHARE, "scope" => scope).set(share);
            }
        }
        if let Some(report) = &mut self.report {
            report.add_window(
                &stats.scope,
                stats.window_start,
                stats.window_end,
                stats.attempts,
                stats.push_success_share,
                stats.totp_share,
            );
        }
    }

    /// Copies the engine and sink counters to the metrics.
    fn export_counters(&self) {
        let counters = self.engine.counters();
        metrics::counter!(names::LATE_LINES).absolute(counters.late_lines);
        metrics::counter!(names::FUTURE_LINES).absolute(counters.future_lines);
        metrics::counter!(names::AMBIGUOUS_LINES).absolute(counters.ambiguous_lines);
        metrics::counter!(names::EVICTIONS, "kind" => "attempt")
            .absolute(counters.evicted_attempts);
        metrics::counter!(names::EVICTIONS, "kind" => "user").absolute(counters.evicted_users);
        metrics::counter!(names::FATIGUE_FINDINGS_HELD, "reason" => "suppressed")
            .absolute(counters.suppressed_fatigue);
        metrics::counter!(names::FATIGUE_FINDINGS_HELD, "reason" => "explained")
            .absolute(counters.explained_fatigue);
        metrics::counter!(names::FATIGUE_EXCLUDED_ATTEMPTS)
            .absolute(counters.fatigue_excluded_attempts);
        let mut delivery_errors = 0;
        for (name, stats) in self.sink.stats() {
            let snapshot = stats.snapshot();
            delivery_errors += snapshot.delivery_errors.values().sum::<u64>();
            metrics::counter!(names::SINK_DROPPED, "sink" => name.clone())
                .absolute(snapshot.dropped + snapshot.rejected);
            metrics::gauge!(names::SINK_QUEUE_DEPTH, "sink" => name.clone())
                .set(snapshot.queue_depth as f64);
            if name == "kafka" {
                metrics::gauge!(names::SPOOL_BYTES).set(snapshot.spool_bytes as f64);
            }
        }
        metrics::counter!(names::KAFKA_DELIVERY_ERRORS).absolute(delivery_errors);
    }
}

/// Returns whether `line` has a body time and a year-less RFC 3164 header date (`<PRI>Mmm dd`)
/// that may not exist: a day of 0, above the month's length, or Feb 29, which exists only in
/// leap years. The peek skips such a header date, so these rare lines are parsed in full.
fn body_time_hides_header_date(peeked: &Peek<'_>, line: &[u8]) -> bool {
    if !matches!(
        peeked.time.source,
        TimeSource::Eventtime | TimeSource::DateTimeTz | TimeSource::DateTimeDefaultZone
    ) {
        return false;
    }
    let mut rest = line;
    if let Some(after) = rest.strip_prefix(b"<") {
        let Some(end) = after.iter().position(|byte| *byte == b'>') else {
            return false;
        };
        rest = &after[end + 1..];
    }
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    const MAX_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let Some(month) = rest
        .get(..3)
        .and_then(|name| MONTHS.iter().position(|month| month.as_slice() == name))
    else {
        return false;
    };
    if rest.get(3) != Some(&b' ') {
        return false;
    }
    let digits: Vec<u32> = rest
        .get(4..)
        .unwrap_or_default()
        .iter()
        .skip_while(|byte| **byte == b' ')
        .take_while(|byte| byte.is_ascii_digit())
        .map(|byte| u32::from(byte - b'0'))
        .collect();
    let day = match digits.as_slice() {
        [one] => *one,
        [tens, ones] => tens * 10 + ones,
        _ => return false,
    };
    day == 0 || day > MAX_DAYS[month]
}

fn count_errors(summary: &mut Summary, metrics: bool, kinds: impl Iterator<Item = ErrorKind>) {
    for kind in kinds {
        let name = kind.as_str();
        *summary.parse_errors.entry(name).or_default() += 1;
        if metrics {
            metrics::counter!(names::PARSE_ERRORS, "kind" => name).increment(1);
            if let Some(suppressed) = PARSE_ERROR_LOG.check() {
                debug!(
                    kind = name,
                    suppressed, "parse error; the line is still processed"
                );
            }
        }
    }
}

/// Opens the configured sinks: Kafka when brokers are set, stdout (by default only without
/// Kafka) and a file.
fn open_sinks(config: &Config) -> anyhow::Result<Box<dyn Sink>> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let kafka = config.kafka.enabled();
    if kafka {
        let sink = KafkaSink::new(config.kafka.sink_config())
            .with_context(|| format!("cannot start the Kafka sink for {}", config.kafka.brokers))?;
        sinks.push(Box::new(sink));
    }
    if config.sinks.stdout_enabled(kafka) {
        sinks.push(Box::new(StdoutSink::stdout()));
    }
    if let Some(path) = &config.sinks.file {
        sinks.push(Box::new(FileSink::append(path)?));
    }
    Ok(Box::new(FanOut::new(sinks)))
}

fn event_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Returns the name of a finding transition in metrics, logs and CloudEvents types.
fn transition_name(activity: Activity) -> &'static str {
    match activity {
        Activity::Create => "opened",
        Activity::Update => "updated",
        Activity::Close => "resolved",
    }
}

fn finding_record(record: &FindingRecord, product_name: &str) -> anyhow::Result<OutRecord> {
    let activity = transition_name(record.activity);
    Ok(OutRecord {
        stream: Stream::Findings,
        key: record.key(),
        id: record.record_id(),
        time: event_time(record.time),
        ce_type: format!("io.pushwatch.finding.{activity}"),
        payload: serde_json::to_vec(&record.to_ocsf(product_name))?,
    })
}

fn window_record(stats: &WindowStats) -> anyhow::Result<OutRecord> {
    Ok(OutRecord {
        stream: Stream::Windows,
        key: stats.scope.clone(),
        id: format!("{}|{}", stats.scope, stats.window_start),
        time: event_time(stats.window_end),
        ce_type: "io.pushwatch.window.closed".to_string(),
        payload: serde_json::to_vec(stats)?,
    })
}

fn attempt_record(attempt: &LoginAttempt) -> anyhow::Result<OutRecord> {
    Ok(OutRecord {
        stream: Stream::Attempts,
        key: attempt.user.clone(),
        id: format!(
            "{}|{}|{}|{}",
            attempt.user,
            attempt.nas.as_deref().unwrap_or_default(),
            attempt.time,
            attempt.class.as_str()
        ),
        time: event_time(attempt.time),
        ce_type: "io.pushwatch.attempt.classified".to_string(),
        payload: serde_json::to_vec(attempt)?,
    })
}
