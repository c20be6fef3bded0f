//! The engine: parsed lines in, classified attempts, window statistics and findings out, all in
//! event time.
//!
//! Relevant signals wait in a reorder buffer until the watermark (highest event time seen minus
//! the allowed lateness) passes them, so stitching sees them in event-time order whatever the
//! arrival order within the lateness. A window closes once the watermark is past its end plus
//! the attempt timeout, when every attempt that started in it has ended. Lines older than the
//! watermark are counted as late and not stitched. Because every decision depends only on the
//! sequence of lines, replaying a file, feeding it in chunks, or stopping and restarting from
//! a state file gives the same output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use pushwatch_parser::{peek, Context, Parser, Peek, Record};
use serde::{Deserialize, Serialize};

use crate::attempt::{LoginAttempt, OutcomeClass};
use crate::baseline::Baselines;
use crate::canary::{CanaryEvent, CanaryTracker, Schedule};
use crate::certificate::{CertificateTracker, Renewal, Step};
use crate::config::{Config, ScopeKind};
use crate::detect::{display_user, names, Closing, DetectorState};
use crate::finding::{Evidence, Finding, FindingBook, FindingRecord, Severity};
use crate::inventory::Inventory;
use crate::reorder::ReorderBuffer;
use crate::rules::{source_name, MatchedRule, RuleSet, Triage};
use crate::signal::{AuthSignal, SignalKind};
use crate::state::{SavedState, StateError};
use crate::stitch::{Context as StitchContext, Stitcher};
use crate::time::{format_rfc3339, window_start, Millis, DAY};
use crate::window::{Accumulator, ServiceEvent, WindowSet, WindowStats};

/// Longest quiet gap, in event time, that is closed window by window; after a longer gap the
/// engine skips ahead, so a line from a far future or past does not stall it.
const MAX_GAP: Millis = 30 * DAY;

/// One output of the engine, in emission order.
#[derive(Debug, Clone)]
pub enum Output {
    /// A finding was opened, updated or resolved.
    Finding(FindingRecord),
    /// A window closed for one scope.
    Window(WindowStats),
    /// A login attempt was classified.
    Attempt(LoginAttempt),
}

/// Engine counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Lines seen.
    pub lines_seen: u64,
    /// Lines that passed the fast-path filter and were parsed in full.
    pub relevant_lines: u64,
    /// Lines that a rule classified.
    pub signals: u64,
    /// Lines older than the watermark when they arrived (all lines).
    pub late_lines: u64,
    /// Lines dated more than `windows.max_clock_skew_secs` after their receive time (or the
    /// replay's reference time), skipped so that a bad clock cannot move the watermark.
    #[serde(default)]
    pub future_lines: u64,
    /// Classified lines older than the watermark, not stitched.
    pub late_signals: u64,
    /// Attempts whose window had already closed.
    pub late_attempts: u64,
    /// Attempts by outcome class.
    pub attempts_by_class: BTreeMap<String, u64>,
    /// Classified lines by rule name.
    pub rule_hits: BTreeMap<String, u64>,
    /// Open attempts evicted at the cap.
    pub evicted_attempts: u64,
    /// Users evicted from the push history at the cap.
    pub evicted_users: u64,
    /// Unknown FortiToken failure reasons and their counts.
    pub unknown_failure_reasons: BTreeMap<String, u64>,
    /// Windows closed.
    pub windows_closed: u64,
    /// Findings opened.
    pub findings_opened: u64,
    /// Finding updates emitted.
    pub findings_updated: u64,
    /// Findings resolved.
    pub findings_resolved: u64,
    /// MFA fatigue findings not opened because an outage finding covered the user.
    pub suppressed_fatigue: u64,
    /// MFA fatigue findings resolved because an outage finding in the user's scope opened
    /// around the same time.
    #[serde(default)]
    pub explained_fatigue: u64,
    /// Attempts kept out of the population windows because their user had an open MFA fatigue
    /// finding.
    #[serde(default)]
    pub fatigue_excluded_attempts: u64,
    /// FortiAuthenticator lines left unclassified because their fields cannot be trusted
    /// (see [`RuleSet::is_ambiguous`]), most likely through a quote in a user name.
    #[serde(default)]
    pub ambiguous_lines: u64,
}

/// The engine's counters as it keeps them: attempts by class in an array indexed by
/// [`OutcomeClass::index`] and classified lines by rule position, so that counting one costs
/// no string comparison. They are folded into [`Counters::attempts_by_class`] and
/// [`Counters::rule_hits`] when read or saved, so the state file keeps the shape of
/// [`Counters`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Counters", into = "Counters")]
struct EngineCounters {
    counters: Counters,
    /// Attempts by class not yet added to `counters.attempts_by_class`.
    by_class: [u64; OutcomeClass::ALL.len()],
    /// Rule name and classified lines by rule position ([`MatchedRule::position`]), not yet
    /// added to `counters.rule_hits`. A name is empty until its rule matches a line.
    by_rule: Vec<(String, u64)>,
}

impl EngineCounters {
    /// Counts one attempt of `class`.
    fn count_attempt(&mut self, class: OutcomeClass) {
        self.by_class[class.index()] += 1;
    }

    /// Counts one line classified by `rule`.
    fn count_rule(&mut self, rule: MatchedRule<'_>) {
        if self.by_rule.len() <= rule.position {
            self.by_rule.resize(rule.position + 1, (String::new(), 0));
        }
        let (name, count) = &mut self.by_rule[rule.position];
        if name.is_empty() {
            name.push_str(rule.name);
        }
        *count += 1;
    }
}

impl From<Counters> for EngineCounters {
    fn from(counters: Counters) -> Self {
        EngineCounters {
            counters,
            by_class: [0; OutcomeClass::ALL.len()],
            by_rule: Vec::new(),
        }
    }
}

impl From<EngineCounters> for Counters {
    fn from(engine: EngineCounters) -> Self {
        let mut counters = engine.counters;
        for (class, count) in OutcomeClass::ALL.into_iter().zip(engine.by_class) {
            // Only classes with attempts get an entry.
            if count > 0 {
                *counters
                    .attempts_by_class
                    .entry(class.as_str().to_owned())
                    .or_insert(0) += count;
            }
        }
        // Likewise only rules that matched a line.
        for (name, count) in engine.by_rule {
            if count > 0 {
                *counters.rule_hits.entry(name).or_insert(0) += count;
            }
        }
        counters
    }
}

impl std::ops::Deref for EngineCounters {
    type Target = Counters;

    fn deref(&self) -> &Counters {
        &self.counters
    }
}

impl std::ops::DerefMut for EngineCounters {
    fn deref_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }
}

/// Everything that changes while lines are processed; saved to and restored from the state
/// file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EngineState {
    max_time: Option<Millis>,
    first_time: Option<Millis>,
    last_watermark: Option<Millis>,
    next_window: Option<Millis>,
    sequence: u64,
    buffer: ReorderBuffer,
    stitcher: Stitcher,
    windows: WindowSet,
    baselines: Baselines,
    detectors: DetectorState,
    book: FindingBook,
    canaries: CanaryTracker,
    certificates: CertificateTracker,
    counters: EngineCounters,
    /// Processing time of the last line (live mode only), for `tick`.
    last_receive: Option<Millis>,
    /// Records produced while observing a line, emitted by the next `advance`.
    pending: Vec<FindingRecord>,
    /// Whether `tick` opened the whole-input silence finding.
    input_silence_open: bool,
    /// Lowest watermark at which `advance` has work: the first buffered signal, the first
    /// attempt deadline or the next window close. Lines below it skip `advance`.
    next_wakeup: Option<Millis>,
}

/// The MFA health engine. Build it with [`Engine::new`], feed lines with
/// [`Engine::process_line`] (or parsed records with [`Engine::process_record`]), call
/// [`Engine::tick`] periodically in live mode and [`Engine::finish`] at the end of input.
pub struct Engine {
    config: Config,
    rules: RuleSet,
    inventory: Option<Inventory>,
    canary_users: BTreeSet<String>,
    schedules: Vec<(String, Schedule)>,
    parser: Parser,
    state: EngineState,
    /// Start of the window of the last line seen.
    line_window: Option<Millis>,
    /// Replays: the time no line can be dated after (beyond the allowed skew), instead of
    /// each line's receive time.
    reference: Option<Millis>,
    /// Window length, allowed lateness and clock skew from the configuration, in ms.
    size_ms: Millis,
    lateness_ms: Millis,
    skew_ms: Option<Millis>,
    /// The last receive time in ns and in ms. The lines of one read or one replay mostly share
    /// their receive time, so the division is done once for all of them.
    receive: (i64, Millis),
    /// Attempts closed by one step of the stitcher, kept to reuse the allocation.
    attempts: Vec<LoginAttempt>,
}

/// Errors of [`Engine::new`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The state file cannot be used.
    #[error(transparent)]
    State(#[from] StateError),
}

impl Engine {
    /// Builds an engine from a validated configuration, an optional token inventory and an
    /// optional saved state.
    pub fn new(
        config: Config,
        inventory: Option<Inventory>,
        saved: Option<SavedState>,
    ) -> Result<Engine, EngineError> {
        config.validate()?;
        let rules = RuleSet::new(&config.rules);
        let strip = config.stitching.strip_at_domain;
        let mut canary_users = BTreeSet::new();
        let mut schedules = Vec::new();
        for canary in &config.canaries {
            if let Some(user) = crate::user::normalise(&canary.user, strip) {
                if let Ok(schedule) = Schedule::parse(&canary.schedule) {
                    schedules.push((user.name.to_string(), schedule));
                }
                canary_users.insert(user.name.into_owned());
            }
        }
        let state = match saved {
            Some(saved) => saved.into_engine_state()?,
            None => EngineState::default(),
        };
        let (size_ms, lateness_ms, skew_ms) = (
            config.windows.size_ms(),
            config.windows.lateness_ms(),
            config.windows.skew_ms(),
        );
        Ok(Engine {
            config,
            rules,
            inventory,
            canary_users,
            schedules,
            parser: Parser::new(),
            state,
            line_window: None,
            reference: None,
            size_ms,
            lateness_ms,
            skew_ms,
            receive: (0, 0),
            attempts: Vec::new(),
        })
    }

    /// Loads the inventory named in the configuration, if any.
    pub fn load_inventory(
        config: &Config,
    ) -> Result<Option<Inventory>, crate::inventory::InventoryError> {
        match &config.inventory.path {
            Some(path) => Inventory::load(path, config.stitching.strip_at_domain).map(Some),
            None => Ok(None),
        }
    }

    /// Returns the configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Processes one line received at `receive_time_ns` (ns since the epoch; the event time
    /// of last resort), with UTC as the default zone.
    pub fn process_line(&mut self, line: &[u8], receive_time_ns: i64, out: &mut Vec<Output>) {
        self.process_line_with_context(line, &Context::new(receive_time_ns), out);
    }

    /// Processes one line with a caller-built parser context (e.g. a per-source default zone).
    /// Irrelevant lines take the parser's fast path and are never tokenised in full.
    pub fn process_line_with_context(
        &mut self,
        line: &[u8],
        context: &Context,
        out: &mut Vec<Output>,
    ) {
        let peeked = peek(line, context);
        self.process_peeked(&peeked, line, context, out);
    }

    /// Processes a line that the caller already peeked with `context`, so that a caller running
    /// its own fast path does not peek the line twice.
    pub fn process_peeked(
        &mut self,
        peeked: &Peek<'_>,
        line: &[u8],
        context: &Context,
        out: &mut Vec<Output>,
    ) {
        let time = nanos_to_millis(peeked.time.unix_nanos);
        let receive_ms = self.receive_millis(context.receive_time);
        if self.skip_future_line(time, receive_ms) {
            return;
        }
        self.observe(time, peek_source(peeked), receive_ms);
        match self.rules.triage(peeked, line) {
            Triage::Irrelevant => {}
            Triage::Counted(rule) => {
                self.state.counters.relevant_lines += 1;
                count_signal(&mut self.state, rule);
                is_late(&self.config, &mut self.state, time);
            }
            Triage::Parse => self.parse_and_handle(line, context, time),
        }
        self.advance(out);
    }

    /// Parses a relevant line in full and classifies it. Kept out of the line loop, which
    /// most lines leave before this step, so that the loop needs fewer registers.
    #[inline(never)]
    fn parse_and_handle(&mut self, line: &[u8], context: &Context, time: Millis) {
        let record = self.parser.parse(line, context);
        handle_record(&self.config, &self.rules, &mut self.state, &record, time);
    }

    /// Processes a record the caller parsed (without the fast path).
    pub fn process_record(
        &mut self,
        record: &Record<'_>,
        receive_time_ns: i64,
        out: &mut Vec<Output>,
    ) {
        let time = nanos_to_millis(record.time().unix_nanos);
        let receive_ms = self.receive_millis(receive_time_ns);
        if self.skip_future_line(time, receive_ms) {
            return;
        }
        let source = source_name(record);
        self.observe(time, source.as_deref().map(str::as_bytes), receive_ms);
        handle_record(&self.config, &self.rules, &mut self.state, record, time);
        self.advance(out);
    }

    /// Returns whether a peeked line can be relevant.
    pub fn is_relevant(&self, peeked: &Peek<'_>, line: &[u8]) -> bool {
        self.rules.is_relevant(peeked, line)
    }

    /// Returns whether [`Engine::process_peeked`] parses this line in full. A caller that runs
    /// its own fast path can skip its own full parse when this is false. Irrelevant lines and
    /// lines whose rule is settled by the fast path (count-only signals) need no full parse.
    pub fn needs_parse(&self, peeked: &Peek<'_>, line: &[u8]) -> bool {
        self.rules.triage(peeked, line) == Triage::Parse
    }

    /// Live mode: opens `source_silence` for the whole input when no line was received for
    /// `silent_windows` windows of processing time (`now_ms`). Replays never call it, so it
    /// cannot change their results.
    pub fn tick(&mut self, now_ms: Millis, out: &mut Vec<Output>) {
        let config = &self.config.detectors.source_silence;
        let Some(last) = self.state.last_receive else {
            return;
        };
        let silence = self.config.windows.size_ms() * i64::from(config.silent_windows);
        if !config.enabled
            || now_ms - last < silence
            || self.state.book.is_open(names::SOURCE_SILENCE, "input")
        {
            return;
        }
        let evidence = Evidence {
            window_start: last,
            window_end: now_ms,
            metric: "seconds_without_input".to_owned(),
            observed: Some(((now_ms - last) / 1_000) as f64),
            probable_causes: vec!["every source stopped sending, or the collector or relay in front of pushwatch broke".to_owned()],
            details: BTreeMap::from([("clock".to_owned(), "processing time".to_owned())]),
            ..Evidence::default()
        };
        let finding = Finding {
            detector: names::SOURCE_SILENCE.to_owned(),
            scope: "input".to_owned(),
            title: "No log lines received".to_owned(),
            severity: Severity::High,
            opened: now_ms,
            evidence,
        };
        if let Some(record) = self.state.book.open(finding, now_ms) {
            self.state.input_silence_open = true;
            out.push(Output::Finding(record));
        }
    }

    /// Ends the input: releases every buffered signal, times out open attempts, closes every
    /// window and runs the detectors on them. Open findings stay open.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        let Some(max) = self.state.max_time else {
            return;
        };
        // Every buffered signal is released at once, and most of them end an attempt that
        // becomes one output. Growing the output once saves copying it at every doubling.
        out.reserve(self.state.buffer.len());
        self.release(Millis::MAX, out);
        self.expire_attempts(Millis::MAX, out);
        let last = window_start(max, self.config.windows.size_ms());
        self.close_windows_through(last, out);
    }

    /// Writes the state to `path` atomically (temporary file and rename).
    pub fn save_state(&self, path: &Path) -> Result<(), StateError> {
        SavedState::from_engine_state(&self.state).save(path)
    }

    /// Returns the counters.
    pub fn counters(&self) -> Counters {
        let mut counters = Counters::from(self.state.counters.clone());
        let stitch = &self.state.stitcher.counters;
        counters.evicted_attempts = stitch.evicted_attempts;
        counters.evicted_users = stitch.evicted_users;
        counters.unknown_failure_reasons = stitch.unknown_reasons.clone();
        counters.findings_opened = self.state.book.opened;
        counters.findings_updated = self.state.book.updated;
        counters.findings_resolved = self.state.book.resolved;
        counters.suppressed_fatigue = self.state.detectors.suppressed_fatigue;
        counters.explained_fatigue = self.state.detectors.explained_fatigue;
        counters
    }

    /// Iterates over the open findings.
    pub fn open_findings(&self) -> impl Iterator<Item = &Finding> {
        self.state.book.open_findings()
    }

    /// Number of open attempts and users with push history (for memory monitoring).
    pub fn sizes(&self) -> (usize, usize) {
        (
            self.state.stitcher.open_attempts(),
            self.state.stitcher.known_users(),
        )
    }

    /// Replays: sets the time after which (beyond `windows.max_clock_skew_secs`) no line can
    /// be dated, such as the archive's modification time. Without it each line's receive time
    /// is the limit, which is right for live input only.
    pub fn set_reference_time(&mut self, reference_ns: i64) {
        self.reference = Some(reference_ns.div_euclid(1_000_000));
    }

    /// Converts a receive time from ns to ms, reusing the last conversion.
    #[inline(always)]
    fn receive_millis(&mut self, receive_ns: i64) -> Millis {
        if self.receive.0 != receive_ns {
            self.receive = (receive_ns, nanos_to_millis(receive_ns));
        }
        self.receive.1
    }

    /// Counts and skips a line dated too far after its receive time: a device with a bad clock
    /// would otherwise move the watermark and make every later line late.
    #[inline(always)]
    fn skip_future_line(&mut self, time: Millis, receive_ms: Millis) -> bool {
        let Some(skew) = self.skew_ms else {
            return false;
        };
        let limit = self.reference.unwrap_or(receive_ms);
        if time <= limit.saturating_add(skew) {
            return false;
        }
        self.state.counters.lines_seen += 1;
        self.state.counters.future_lines += 1;
        true
    }

    #[inline(always)]
    fn observe(&mut self, time: Millis, source: Option<&[u8]>, receive_ms: Millis) {
        let state = &mut self.state;
        state.counters.lines_seen += 1;
        state.last_receive = Some(receive_ms);
        if state.first_time.is_none() {
            state.first_time = Some(time);
        }
        let lateness = self.lateness_ms;
        match state.max_time {
            Some(max) if time <= max => {
                if time < max - lateness {
                    state.counters.late_lines += 1;
                }
            }
            _ => state.max_time = Some(time),
        }
        // Consecutive lines mostly fall in one window, so the division is done once per window.
        let start = match self.line_window {
            Some(start) if (start..start + self.size_ms).contains(&time) => start,
            _ => {
                let start = window_start(time, self.size_ms);
                self.line_window = Some(start);
                start
            }
        };
        state
            .detectors
            .sources
            .count(source.unwrap_or(b"unknown"), start);
        if state.input_silence_open {
            self.resolve_input_silence(time);
        }
    }

    /// Resolves the whole-input silence finding when a line arrives after it opened.
    #[cold]
    fn resolve_input_silence(&mut self, time: Millis) {
        let state = &mut self.state;
        state.input_silence_open = false;
        let time = state.max_time.unwrap_or(time);
        if let Some(record) = state
            .book
            .resolve(names::SOURCE_SILENCE, "input", time, None)
        {
            state.pending.push(record);
        }
    }

    /// Moves the watermark: releases buffered signals, times out attempts, closes windows.
    /// Most lines neither move the watermark nor reach the next wakeup, and return here after
    /// a few comparisons.
    #[inline(always)]
    fn advance(&mut self, out: &mut Vec<Output>) {
        if !self.state.pending.is_empty() {
            out.extend(self.state.pending.drain(..).map(Output::Finding));
        }
        let Some(max) = self.state.max_time else {
            return;
        };
        let watermark = max - self.lateness_ms;
        if self
            .state
            .last_watermark
            .is_some_and(|last| watermark <= last)
        {
            return;
        }
        self.state.last_watermark = Some(watermark);
        if self
            .state
            .next_wakeup
            .is_some_and(|wakeup| watermark < wakeup)
        {
            return;
        }
        self.advance_to(watermark, out);
    }

    /// Releases the signals at or before `watermark`, times out attempts and closes the
    /// windows that the new watermark allows.
    #[inline(never)]
    fn advance_to(&mut self, watermark: Millis, out: &mut Vec<Output>) {
        self.release(watermark, out);
        self.expire_attempts(watermark, out);
        let size = self.config.windows.size_ms();
        let closable = watermark - self.config.stitching.timeout_ms() - size;
        if closable >= window_start(closable, size) {
            self.close_windows_through(window_start(closable, size), out);
        }
        self.state.next_wakeup = self.next_wakeup();
    }

    /// Returns the lowest watermark at which `advance` has work again.
    fn next_wakeup(&self) -> Option<Millis> {
        let size = self.config.windows.size_ms();
        let first_signal = self.state.buffer.first_time();
        let deadline = self.state.stitcher.next_deadline();
        let next_window = self
            .state
            .next_window
            .or_else(|| self.state.first_time.map(|time| window_start(time, size)));
        let close = next_window.map(|start| start + size + self.config.stitching.timeout_ms());
        [first_signal, deadline, close].into_iter().flatten().min()
    }

    fn release(&mut self, watermark: Millis, out: &mut Vec<Output>) {
        while let Some(signal) = self.state.buffer.pop_through(watermark) {
            self.handle_signal(signal, out);
        }
    }

    /// Times out the open attempts whose deadline is at or before `now` and routes them.
    fn expire_attempts(&mut self, now: Millis, out: &mut Vec<Output>) {
        let mut attempts = std::mem::take(&mut self.attempts);
        self.state.stitcher.expire(
            &stitch_context(&self.config, self.inventory.as_ref(), &self.canary_users),
            now,
            &mut attempts,
        );
        self.route_all(&mut attempts, out);
        self.attempts = attempts;
    }

    /// Routes and removes every attempt of `attempts`.
    fn route_all(&mut self, attempts: &mut Vec<LoginAttempt>, out: &mut Vec<Output>) {
        for attempt in attempts.drain(..) {
            self.route(attempt, out);
        }
    }

    fn handle_signal(&mut self, signal: Box<AuthSignal>, out: &mut Vec<Output>) {
        let size = self.config.windows.size_ms();
        if signal.kind.is_push_service_error() {
            let event = service_event(&self.config, &signal);
            self.state
                .windows
                .window_mut(window_start(signal.time, size))
                .errors
                .push(event);
        }
        if signal.kind == SignalKind::HaRoleChange {
            let event = service_event(&self.config, &signal);
            let mut records = Vec::new();
            self.state
                .detectors
                .ha_event(&self.config, event, &mut self.state.book, &mut records);
            out.extend(records.into_iter().map(Output::Finding));
        }
        let mut attempts = std::mem::take(&mut self.attempts);
        let ctx = stitch_context(&self.config, self.inventory.as_ref(), &self.canary_users);
        self.state.stitcher.handle(&ctx, &signal, &mut attempts);
        self.route_all(&mut attempts, out);
        self.attempts = attempts;
    }

    fn route(&mut self, attempt: LoginAttempt, out: &mut Vec<Output>) {
        let state = &mut self.state;
        state.counters.count_attempt(attempt.class);
        let size = self.config.windows.size_ms();
        let start = window_start(attempt.time, size);
        let mut records = Vec::new();
        if attempt.canary {
            if let Some(canary) = self.config.canaries.iter().find(|canary| {
                crate::user::normalise(&canary.user, self.config.stitching.strip_at_domain)
                    .is_some_and(|user| user.name == attempt.user)
            }) {
                if let Some(event) = state.canaries.attempt(canary, &attempt.user, &attempt) {
                    canary_finding(&self.config, &mut state.book, event, &mut records);
                }
            }
        } else if state.next_window.is_some_and(|next| start < next) {
            state.counters.late_attempts += 1;
        } else {
            state
                .detectors
                .fatigue_attempt(&self.config, &attempt, &mut state.book, &mut records);
            // An attacked user's attempts stay out of the population windows, as canary attempts
            // do, so that one account's failed pushes cannot pass for an outage. The check runs
            // after the fatigue detector, so the attempt that opens the finding is left out too.
            // Attacks target a few accounts: when more users than that look attacked at once,
            // their failures are an outage's and stay in.
            let limit = self.config.detectors.mfa_fatigue.max_excluded_users;
            if state.detectors.is_under_fatigue(&state.book, &attempt.user)
                && !state.detectors.fatigue_is_widespread(&state.book, limit)
            {
                state.counters.fatigue_excluded_attempts += 1;
                state.windows.window_mut(start).fatigue_excluded_attempts += 1;
            } else {
                state
                    .windows
                    .add(start, &self.config.windows.scopes, &attempt);
            }
        }
        out.extend(records.into_iter().map(Output::Finding));
        out.push(Output::Attempt(attempt));
    }

    /// Closes every window from the next unclosed one through the one starting at `last`.
    fn close_windows_through(&mut self, last: Millis, out: &mut Vec<Output>) {
        let size = self.config.windows.size_ms();
        let first = self.state.first_time.unwrap_or(last);
        let mut next = self
            .state
            .next_window
            .unwrap_or_else(|| window_start(first, size));
        if last - next > MAX_GAP {
            next = window_start(last - MAX_GAP, size);
        }
        while next <= last {
            self.close_window(next, out);
            next += size;
        }
        self.state.next_window = Some(next);
    }

    fn close_window(&mut self, start: Millis, out: &mut Vec<Output>) {
        let size = self.config.windows.size_ms();
        let end = start + size;
        let state = &mut self.state;
        // Windows older than `start` can only exist after a skip over a long gap.
        while state.windows.oldest().is_some_and(|oldest| oldest < start) {
            state.windows.pop_until(start - 1);
        }
        let window = state
            .windows
            .pop_until(start)
            .map(|(_, window)| window)
            .unwrap_or_default();
        let mut stats: BTreeMap<String, WindowStats> = window
            .scopes
            .iter()
            .map(|(scope, accumulator)| (scope.clone(), accumulator.stats(scope, start, end)))
            .collect();
        // A window whose only attempts were left out for MFA fatigue still reports them, with
        // empty global statistics that no detector fires or clears on.
        if window.fatigue_excluded_attempts > 0
            && self.config.windows.scopes.contains(&ScopeKind::Global)
            && !stats.contains_key("global")
        {
            let empty = Accumulator::default().stats("global", start, end);
            stats.insert("global".to_owned(), empty);
        }
        if let Some(global) = stats.get_mut("global") {
            global.late_lines = window.late_lines;
            global.fatigue_excluded_attempts = window.fatigue_excluded_attempts;
        }
        state.counters.windows_closed += 1;
        out.extend(stats.values().cloned().map(Output::Window));
        let closing = Closing {
            config: &self.config,
            start,
            end,
            stats: &stats,
            accumulators: &window.scopes,
            baselines: &state.baselines,
            errors: &window.errors,
            has_inventory: self
                .inventory
                .as_ref()
                .is_some_and(|inventory| !inventory.is_empty()),
        };
        let mut records = Vec::new();
        state
            .detectors
            .close_window(&closing, &mut state.book, &mut records);
        if self.config.detectors.canary_missed.enabled {
            let first = state.first_time.unwrap_or(start);
            for canary in &self.config.canaries {
                let Some((user, schedule)) = self.schedules.iter().find(|(user, _)| {
                    crate::user::normalise(&canary.user, self.config.stitching.strip_at_domain)
                        .is_some_and(|n| &n.name == user)
                }) else {
                    continue;
                };
                for event in state.canaries.due(canary, user, schedule, first, end) {
                    canary_finding(&self.config, &mut state.book, event, &mut records);
                }
            }
        }
        if self.config.detectors.certificate_expiring.enabled {
            // Records are dated no earlier than this window's start, so that a countdown
            // that began before the input, or restarts after a renewal, never goes back in
            // time behind a record already sent for the same finding.
            for renewal in state.certificates.renewed(&self.config.certificates) {
                records.extend(certificate_renewed(
                    &self.config,
                    &mut state.book,
                    renewal,
                    start,
                ));
            }
            for mut step in state.certificates.due(
                &self.config.detectors.certificate_expiring,
                &self.config.certificates,
                end,
            ) {
                step.time = step.time.max(start);
                certificate_finding(&self.config, &mut state.book, step, size, &mut records);
            }
        }
        for (scope, window_stats) in &stats {
            let outage_open = names::OUTAGE
                .iter()
                .any(|detector| state.book.is_open(detector, scope));
            // Global statistics that only carry left-out attempts hold no sample to learn from.
            let empty = window_stats.attempts == 0;
            if !empty && !outage_open && !state.detectors.is_firing(scope) {
                state.baselines.learn(&self.config.baseline, window_stats);
            }
        }
        out.extend(records.into_iter().map(Output::Finding));
    }
}

fn handle_record(
    config: &Config,
    rules: &RuleSet,
    state: &mut EngineState,
    record: &Record<'_>,
    time: Millis,
) {
    state.counters.relevant_lines += 1;
    let Some((rule, signal)) = rules.classify(record) else {
        if rules.is_ambiguous(record) {
            state.counters.ambiguous_lines += 1;
        }
        return;
    };
    count_signal(state, rule);
    if is_late(config, state, time) || signal.kind.is_context_only() {
        return;
    }
    state.sequence += 1;
    state.next_wakeup = Some(
        state
            .next_wakeup
            .map_or(signal.time, |wakeup| wakeup.min(signal.time)),
    );
    state.buffer.insert((signal.time, state.sequence), signal);
}

/// Counts a signal of `rule`.
fn count_signal(state: &mut EngineState, rule: MatchedRule<'_>) {
    state.counters.signals += 1;
    state.counters.count_rule(rule);
}

/// Returns whether a signal at `time` is behind the watermark, counting it as late if so.
fn is_late(config: &Config, state: &mut EngineState, time: Millis) -> bool {
    let watermark = state.max_time.map(|max| max - config.windows.lateness_ms());
    if watermark.is_none_or(|watermark| time >= watermark) {
        return false;
    }
    state.counters.late_signals += 1;
    let start = window_start(time, config.windows.size_ms());
    if state.next_window.is_none_or(|next| start >= next) {
        state.windows.window_mut(start).late_lines += 1;
    }
    true
}

/// Returns the sending device of a peeked line: the first of `devname`, `devid` and the header
/// host name that is not empty, `N/A` or `(null)`.
#[inline]
fn peek_source<'a>(peeked: &Peek<'a>) -> Option<&'a [u8]> {
    // The length test comes first, so that most names are accepted without a comparison.
    let usable = |raw: &[u8]| match raw.len() {
        0 => false,
        3 => raw.first_chunk() != Some(b"N/A"),
        6 => raw.first_chunk() != Some(b"(null)"),
        _ => true,
    };
    [&peeked.devname, &peeked.devid, &peeked.hostname]
        .into_iter()
        .find_map(|value| {
            value
                .as_ref()
                .map(|value| value.raw())
                .filter(|raw| usable(raw))
        })
}

/// Converts ns since the epoch to ms, rounding towards negative infinity like
/// `i64::div_euclid`. A non-negative time takes the cheaper unsigned division.
#[inline]
fn nanos_to_millis(nanos: i64) -> Millis {
    match u64::try_from(nanos) {
        Ok(unsigned) => (unsigned / 1_000_000) as Millis,
        Err(_) => nanos.div_euclid(1_000_000),
    }
}

fn stitch_context<'a>(
    config: &'a Config,
    inventory: Option<&'a Inventory>,
    canaries: &'a BTreeSet<String>,
) -> StitchContext<'a> {
    StitchContext {
        config: &config.stitching,
        sites: &config.sites,
        inventory,
        canaries,
    }
}

fn service_event(config: &Config, signal: &AuthSignal) -> ServiceEvent {
    let message = signal.message.clone().or_else(|| signal.reason.clone());
    let lower = message.as_deref().unwrap_or("").to_lowercase();
    let certificates = config
        .certificates
        .iter()
        .filter(|certificate| lower.contains(&certificate.name.to_lowercase()))
        .map(|certificate| certificate.name.clone())
        .collect();
    let site = signal
        .nas
        .as_deref()
        .and_then(|nas| config.sites.get(nas))
        .or_else(|| {
            signal
                .source
                .as_deref()
                .and_then(|source| config.sites.get(source))
        })
        .cloned();
    ServiceEvent {
        time: signal.time,
        kind: signal.kind.as_str().to_owned(),
        source: signal.source.clone(),
        site,
        message,
        certificates,
    }
}

fn canary_finding(
    config: &Config,
    book: &mut FindingBook,
    event: CanaryEvent,
    out: &mut Vec<FindingRecord>,
) {
    let detector = names::CANARY_MISSED;
    match event {
        CanaryEvent::Approved { scope, time, .. } => {
            out.extend(book.resolve(detector, &scope, time, None));
        }
        CanaryEvent::Missed {
            user,
            scope,
            scheduled,
            deadline,
        } => {
            let details = BTreeMap::from([
                ("canary".to_owned(), display_user(config, &user)),
                ("scheduled".to_owned(), format_rfc3339(scheduled)),
                (
                    "outcome".to_owned(),
                    "no push approval within the grace period".to_owned(),
                ),
            ]);
            open_canary(book, &scope, deadline, scheduled, details, out);
        }
        CanaryEvent::Failed {
            user,
            scope,
            class,
            time,
        } => {
            let details = BTreeMap::from([
                ("canary".to_owned(), display_user(config, &user)),
                ("outcome".to_owned(), class.as_str().to_owned()),
            ]);
            open_canary(book, &scope, time, time, details, out);
        }
    }
}

fn open_canary(
    book: &mut FindingBook,
    scope: &str,
    time: Millis,
    window_start: Millis,
    details: BTreeMap<String, String>,
    out: &mut Vec<FindingRecord>,
) {
    if book.is_open(names::CANARY_MISSED, scope) {
        return;
    }
    let evidence = Evidence {
        window_start,
        window_end: time,
        metric: "canary_push_approval".to_owned(),
        observed: Some(0.0),
        baseline: Some(1.0),
        samples: 1,
        distinct_users: 1,
        example_users: details.get("canary").cloned().into_iter().collect(),
        details,
        ..Evidence::default()
    };
    let finding = Finding {
        detector: names::CANARY_MISSED.to_owned(),
        scope: scope.to_owned(),
        title: format!("Canary push login missed on {scope}"),
        severity: Severity::High,
        opened: time,
        evidence,
    };
    out.extend(book.open(finding, time));
}

/// Returns the finding scope of the certificate `name` and what it protects (empty when the
/// certificate is no longer configured).
fn certificate_scope<'c>(config: &'c Config, name: &str) -> (String, &'c str) {
    let protects = config
        .certificates
        .iter()
        .find(|certificate| certificate.name == name)
        .map_or("", |certificate| certificate.protects.as_str());
    (format!("certificate:{name}"), protects)
}

/// Resolves the countdown finding of a certificate that was renewed or removed from the
/// configuration, at `time` (the start of the first window closed since).
fn certificate_renewed(
    config: &Config,
    book: &mut FindingBook,
    renewal: Renewal,
    time: Millis,
) -> Option<FindingRecord> {
    let (scope, protects) = certificate_scope(config, &renewal.name);
    let (stage, observed) = match renewal.new_expires {
        Some(expires) => ("renewed", Some((expires - time) as f64 / DAY as f64)),
        None => ("removed from the configuration", None),
    };
    let mut details = BTreeMap::from([
        ("certificate".to_owned(), renewal.name.clone()),
        (
            "previous_expires".to_owned(),
            format_rfc3339(renewal.old_expires),
        ),
        ("stage".to_owned(), stage.to_owned()),
    ]);
    if let Some(expires) = renewal.new_expires {
        details.insert("expires".to_owned(), format_rfc3339(expires));
    }
    if !protects.is_empty() {
        details.insert("protects".to_owned(), protects.to_owned());
    }
    let evidence = Evidence {
        window_start: window_start(time, config.windows.size_ms()),
        window_end: time,
        metric: "days_to_expiry".to_owned(),
        observed,
        samples: 1,
        details,
        ..Evidence::default()
    };
    book.resolve(names::CERTIFICATE_EXPIRING, &scope, time, Some(evidence))
}

fn certificate_finding(
    config: &Config,
    book: &mut FindingBook,
    step: Step,
    size: Millis,
    out: &mut Vec<FindingRecord>,
) {
    let detector = names::CERTIFICATE_EXPIRING;
    let (scope, protects) = certificate_scope(config, &step.name);
    let evidence = Evidence {
        window_start: window_start(step.time, size),
        window_end: step.time,
        metric: "days_to_expiry".to_owned(),
        observed: Some((step.expires - step.time) as f64 / DAY as f64),
        samples: 1,
        details: BTreeMap::from([
            ("certificate".to_owned(), step.name.clone()),
            ("protects".to_owned(), protects.to_owned()),
            ("expires".to_owned(), format_rfc3339(step.expires)),
            ("stage".to_owned(), step.label.clone()),
        ]),
        probable_causes: vec![format!(
            "certificate {} ({protects}) is not renewed",
            step.name
        )],
        ..Evidence::default()
    };
    let title = format!(
        "Push-path certificate {} expires at {}",
        step.name,
        format_rfc3339(step.expires)
    );
    if book.is_open(detector, &scope) {
        out.extend(book.update(
            detector,
            &scope,
            step.severity,
            evidence,
            step.time,
            window_start(step.time, size),
        ));
    } else {
        let finding = Finding {
            detector: detector.to_owned(),
            scope,
            title,
            severity: step.severity,
            opened: step.time,
            evidence,
        };
        out.extend(book.open(finding, step.time));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanos_to_millis_rounds_down() {
        let cases = [
            0,
            999_999,
            1_000_000,
            1_715_558_400_001_133_123,
            -1,
            -1_000_000,
            -1_000_001,
            i64::MIN,
            i64::MAX,
        ];
        for nanos in cases {
            assert_eq!(
                nanos_to_millis(nanos),
                nanos.div_euclid(1_000_000),
                "{nanos}"
            );
        }
    }

    /// Attempts counted in the array and attempts read from an older state file add up, and
    /// the saved counters keep the shape of [`Counters`].
    #[test]
    fn attempt_counts_fold_into_saved_map() {
        let old = r#"{"lines_seen":5,"relevant_lines":0,"signals":0,"late_lines":0,
            "late_signals":0,"late_attempts":0,"attempts_by_class":{"push_approved":2},
            "rule_hits":{},"evicted_attempts":0,"evicted_users":0,
            "unknown_failure_reasons":{},"windows_closed":0,"findings_opened":0,
            "findings_updated":0,"findings_resolved":0,"suppressed_fatigue":0}"#;
        let mut counters: EngineCounters = serde_json::from_str(old).expect("old counters");
        counters.count_attempt(OutcomeClass::PushApproved);
        counters.count_attempt(OutcomeClass::TotpFallback);
        counters.count_attempt(OutcomeClass::TotpFallback);
        counters.lines_seen += 1;
        let json = serde_json::to_value(&counters).expect("serialisable");
        let by_class = &json["attempts_by_class"];
        assert_eq!(by_class["push_approved"], 3);
        assert_eq!(by_class["totp_fallback"], 2);
        assert_eq!(by_class.as_object().map(|map| map.len()), Some(2));
        assert_eq!(json["lines_seen"], 6);
        let saved: Counters = serde_json::from_value(json).expect("shape of Counters");
        assert_eq!(saved, Counters::from(counters));
    }

    #[test]
    fn peek_source_skips_absent_values() {
        let context = Context::new(0);
        let line = br#"date=2024-05-13 time=02:00:00 devname="N/A" devid="FG100FTK23000001" logid="0000000013""#;
        let peeked = peek(line, &context);
        assert_eq!(peek_source(&peeked), Some(&b"FG100FTK23000001"[..]));
        let line = br#"date=2024-05-13 time=02:00:00 devname="(null)" devid="" logid="0000000013""#;
        let peeked = peek(line, &context);
        assert_eq!(peek_source(&peeked), None);
        let line = br#"date=2024-05-13 time=02:00:00 devname="fgt" logid="0000000013""#;
        let peeked = peek(line, &context);
        assert_eq!(peek_source(&peeked), Some(&b"fgt"[..]));
    }
}
