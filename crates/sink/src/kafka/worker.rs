//! The thread that owns the librdkafka producer, the memory queue and the spool.
//!
//! Records flow in sequence order through three places: the spool file (only while the memory
//! queue is full), the memory queue (`pending`) and librdkafka (`in_flight`, until the broker
//! acknowledges). A failed delivery puts the record back into `pending` at its place, purges
//! what librdkafka has queued behind it so that it comes back in order too, and pauses sending.
//! After the pause the worker probes the broker with the oldest record alone and resumes when
//! that one is acknowledged.

use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig, ThreadedProducer,
};
use rdkafka::{ClientConfig, ClientContext};

use super::config::KafkaSinkConfig;
use crate::progress::{Seq, SeqTracker};
use crate::ratelimit::LogLimiter;
use crate::spool::{Spool, SpoolPos};
use crate::stats::SinkStats;
use crate::OutRecord;

/// Minimum time between two log lines of the same kind during an outage.
const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// How long shutdown waits for librdkafka to hand back purged records.
const PURGE_WAIT: Duration = Duration::from_secs(2);
/// Pause before producing again after librdkafka reported its queue full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(5);

/// A request from the [`super::KafkaSink`] handle.
pub(crate) enum Command {
    /// A record and its internal sequence number.
    Record(Seq, OutRecord),
    /// Deliver within the timeout, spool the rest and stop; the sender is dropped when done.
    Close(Duration, Sender<()>),
}

/// Identifies a produced record in its delivery report.
#[derive(Debug)]
pub(crate) struct Token {
    generation: u64,
    seq: Seq,
}

/// The outcome of one delivery, sent from librdkafka's polling thread to the worker.
#[derive(Debug)]
pub(crate) struct Report {
    token: Box<Token>,
    outcome: Result<(), (Option<RDKafkaErrorCode>, String)>,
}

/// librdkafka callbacks: delivery reports go to the worker, logs and errors to `tracing`.
pub(crate) struct DeliveryContext {
    reports: Sender<Report>,
    log_limit: Mutex<LogLimiter>,
}

impl DeliveryContext {
    pub(crate) fn new(reports: Sender<Report>) -> DeliveryContext {
        DeliveryContext {
            reports,
            log_limit: Mutex::new(LogLimiter::new(LOG_INTERVAL)),
        }
    }

    fn allow_log(&self) -> Option<u64> {
        self.log_limit
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .check()
    }
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error
            | RDKafkaLogLevel::Warning => {
                if let Some(suppressed) = self.allow_log() {
                    tracing::warn!(target: "librdkafka", facility, suppressed, "{message}");
                }
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}");
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(suppressed) = self.allow_log() {
            tracing::warn!(target: "librdkafka", %error, suppressed, "Kafka client error: {reason}");
        }
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<Token>;

    fn delivery(&self, result: &DeliveryResult<'_>, token: Box<Token>) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err((error, _)) => Err((error.rdkafka_error_code(), error.to_string())),
        };
        // Sending fails only after the worker has stopped, when the report has no reader.
        let _ = self.reports.send(Report { token, outcome });
    }
}

pub(crate) type KafkaProducer = ThreadedProducer<DeliveryContext>;

/// Creates a producer whose delivery reports go to `reports`.
pub(crate) fn create_producer(
    client_config: &ClientConfig,
    reports: &Sender<Report>,
) -> Result<KafkaProducer, KafkaError> {
    client_config.create_with_context(DeliveryContext::new(reports.clone()))
}

/// A record held in memory, with its place in the spool if it was read from there.
struct Entry {
    seq: Seq,
    record: OutRecord,
    spool: Option<SpoolPos>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Sending freely.
    Normal,
    /// Waiting after a failure until the instant.
    Backoff(Instant),
    /// Sending the oldest record alone until it is acknowledged.
    Probe,
}

/// Everything the worker thread owns.
pub(crate) struct Worker {
    pub(crate) config: KafkaSinkConfig,
    pub(crate) client_config: ClientConfig,
    pub(crate) producer: KafkaProducer,
    pub(crate) generation: u64,
    pub(crate) reports_tx: Sender<Report>,
    pub(crate) reports: Receiver<Report>,
    pub(crate) commands: Receiver<Command>,
    pub(crate) spool: Option<Spool>,
    pub(crate) tracker: SeqTracker,
    pub(crate) stats: Arc<SinkStats>,
    pending: VecDeque<Entry>,
    in_flight: BTreeMap<Seq, Entry>,
    mode: Mode,
    failures: u32,
    /// Message of the latest failed delivery, logged when the sink gives records up.
    last_failure: Option<String>,
    queue_full_until: Option<Instant>,
    failure_log: LogLimiter,
    drop_log: LogLimiter,
    spool_log: LogLimiter,
}

impl Worker {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: KafkaSinkConfig,
        client_config: ClientConfig,
        producer: KafkaProducer,
        reports_tx: Sender<Report>,
        reports: Receiver<Report>,
        commands: Receiver<Command>,
        spool: Option<Spool>,
        tracker: SeqTracker,
        stats: Arc<SinkStats>,
    ) -> Worker {
        Worker {
            config,
            client_config,
            producer,
            generation: 0,
            reports_tx,
            reports,
            commands,
            spool,
            tracker,
            stats,
            pending: VecDeque::new(),
            in_flight: BTreeMap::new(),
            mode: Mode::Normal,
            failures: 0,
            last_failure: None,
            queue_full_until: None,
            failure_log: LogLimiter::new(LOG_INTERVAL),
            drop_log: LogLimiter::new(LOG_INTERVAL),
            spool_log: LogLimiter::new(LOG_INTERVAL),
        }
    }

    /// Runs until the handle sends `Close` or goes away.
    pub(crate) fn run(mut self) {
        loop {
            self.step();
            let wait = self.wait_time();
            let command = crossbeam_channel::select! {
                recv(self.commands) -> command => Some(command),
                recv(self.reports) -> report => {
                    if let Ok(report) = report {
                        self.on_report(report);
                    }
                    None
                }
                default(wait) => None,
            };
            if let Some(command) = command {
                let command = command.unwrap_or(Command::Close(Duration::ZERO, never_read()));
                if self.handle(command).is_break() {
                    return;
                }
            }
            // Take whatever else is ready in one go, so that a burst is spooled or produced in
            // one step rather than one wake-up per record.
            for _ in 0..4096 {
                let Ok(command) = self.commands.try_recv() else {
                    break;
                };
                if self.handle(command).is_break() {
                    return;
                }
            }
            while let Ok(report) = self.reports.try_recv() {
                self.on_report(report);
            }
        }
    }

    fn handle(&mut self, command: Command) -> ControlFlow<()> {
        match command {
            Command::Record(seq, record) => {
                self.accept(seq, record);
                ControlFlow::Continue(())
            }
            Command::Close(timeout, done) => {
                self.close(timeout);
                drop(done);
                ControlFlow::Break(())
            }
        }
    }

    /// Produces what the mode allows, refills memory from the spool and updates the gauges.
    fn step(&mut self) {
        self.refill();
        self.pump();
        if let Some(spool) = &mut self.spool {
            if let Err(error) = spool.maintain(false) {
                SinkStats::add(&self.stats.spool_io_errors, 1);
                if let Some(suppressed) = self.spool_log.check() {
                    tracing::error!(%error, suppressed, "spool file maintenance failed");
                }
            }
        }
        self.publish_gauges();
    }

    fn wait_time(&self) -> Duration {
        let now = Instant::now();
        if let Mode::Backoff(until) = self.mode {
            return until
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
        }
        if let Some(until) = self.queue_full_until {
            return until.saturating_duration_since(now);
        }
        Duration::from_millis(100)
    }

    fn memory_len(&self) -> usize {
        self.pending.len() + self.in_flight.len()
    }

    /// Places a new record: behind the spool if the spool has unread records (to keep the
    /// order), else in memory if there is room, else in the spool.
    fn accept(&mut self, seq: Seq, record: OutRecord) {
        if self.config.topics.of(record.stream).is_none() {
            SinkStats::add(&self.stats.skipped, 1);
            self.tracker.settle(seq);
            return;
        }
        let spool_has_unread = self.spool.as_ref().is_some_and(Spool::has_unread);
        if !spool_has_unread && self.memory_len() < self.config.queue_capacity {
            self.pending.push_back(Entry {
                seq,
                record,
                spool: None,
            });
            return;
        }
        let Some(spool) = &mut self.spool else {
            self.drop_record(
                seq,
                &record,
                "the memory queue is full and no spool file is set",
            );
            return;
        };
        match spool.append(seq, &record) {
            Ok(true) => SinkStats::add(&self.stats.spooled, 1),
            Ok(false) => self.drop_record(seq, &record, "the spool file is full"),
            Err(error) => {
                SinkStats::add(&self.stats.spool_io_errors, 1);
                if let Some(suppressed) = self.spool_log.check() {
                    tracing::error!(%error, suppressed, "writing to the spool file failed");
                }
                self.drop_record(seq, &record, "writing to the spool file failed");
            }
        }
    }

    fn drop_record(&mut self, seq: Seq, record: &OutRecord, reason: &str) {
        SinkStats::add(&self.stats.dropped, 1);
        self.tracker.settle(seq);
        if let Some(suppressed) = self.drop_log.check() {
            tracing::error!(
                id = %record.id,
                key = %record.key,
                suppressed,
                "dropped a record because {reason}"
            );
        }
    }

    /// Moves records from the spool into memory while there is room.
    fn refill(&mut self) {
        let Some(spool) = &mut self.spool else {
            return;
        };
        while spool.has_unread()
            && self.pending.len() + self.in_flight.len() < self.config.queue_capacity
        {
            match spool.read_next() {
                Ok(Some((seq, record, pos))) => {
                    if self.config.topics.of(record.stream).is_none() {
                        SinkStats::add(&self.stats.skipped, 1);
                        self.tracker.settle(seq);
                        spool.ack(pos);
                        continue;
                    }
                    self.pending.push_back(Entry {
                        seq,
                        record,
                        spool: Some(pos),
                    });
                }
                Ok(None) => break,
                Err(error) => {
                    // The file changed under us after it was checked at open. Its unread
                    // records cannot be trusted any more, so they are counted as dropped.
                    SinkStats::add(&self.stats.spool_io_errors, 1);
                    let lost = spool.discard_unread();
                    SinkStats::add(&self.stats.dropped, lost.len() as u64);
                    for seq in lost.iter().copied() {
                        self.tracker.settle(seq);
                    }
                    tracing::error!(
                        %error,
                        dropped = lost.len(),
                        "reading the spool file failed; its unread records are dropped"
                    );
                    break;
                }
            }
        }
    }

    /// Hands records to librdkafka as far as the mode allows.
    fn pump(&mut self) {
        let now = Instant::now();
        if self.queue_full_until.is_some_and(|until| now < until) {
            return;
        }
        self.queue_full_until = None;
        if let Mode::Backoff(until) = self.mode {
            if now < until {
                return;
            }
            tracing::info!(
                waiting = self.memory_len(),
                "probing the Kafka broker with the oldest waiting record"
            );
            self.mode = Mode::Probe;
        }
        let window = match self.mode {
            Mode::Normal => self.config.queue_capacity,
            Mode::Probe if self.in_flight.is_empty() => 1,
            Mode::Probe | Mode::Backoff(_) => 0,
        };
        while self.in_flight.len() < window {
            let Some(entry) = self.pending.pop_front() else {
                break;
            };
            if let Err(failed) = self.produce(entry) {
                let (entry, error) = *failed;
                match error.rdkafka_error_code() {
                    Some(RDKafkaErrorCode::QueueFull) => {
                        self.pending.push_front(entry);
                        self.queue_full_until = Some(Instant::now() + QUEUE_FULL_PAUSE);
                    }
                    Some(code) if is_permanent(code) => {
                        self.stats.count_delivery_error(&format!("{code:?}"));
                        self.reject(entry, &error.to_string());
                        continue;
                    }
                    code => {
                        if let Some(code) = code {
                            self.stats.count_delivery_error(&format!("{code:?}"));
                        }
                        self.pending.push_front(entry);
                        self.enter_backoff(&error.to_string());
                        self.rebuild_if_fatal();
                    }
                }
                break;
            }
        }
    }

    fn produce(&mut self, entry: Entry) -> Result<(), Box<(Entry, KafkaError)>> {
        let Some(topic) = self.config.topics.of(entry.record.stream) else {
            // `accept` and `refill` settle records without a topic before they get here.
            self.tracker.settle(entry.seq);
            return Ok(());
        };
        let record = &entry.record;
        let time = record.time_rfc3339();
        let headers = OwnedHeaders::new_with_capacity(6)
            .insert(header("ce_specversion", "1.0"))
            .insert(header("ce_id", &record.id))
            .insert(header("ce_source", &self.config.ce_source))
            .insert(header("ce_type", &record.ce_type))
            .insert(header("ce_time", &time))
            .insert(header("content-type", "application/json"));
        let token = Box::new(Token {
            generation: self.generation,
            seq: entry.seq,
        });
        let base = BaseRecord::with_opaque_to(topic, token)
            .key(record.key.as_bytes())
            .payload(record.payload.as_slice())
            .timestamp(record.time.timestamp_millis())
            .headers(headers);
        match self.producer.send(base) {
            Ok(()) => {
                self.in_flight.insert(entry.seq, entry);
                Ok(())
            }
            Err((error, _)) => Err(Box::new((entry, error))),
        }
    }

    fn on_report(&mut self, report: Report) {
        if report.token.generation != self.generation {
            return;
        }
        let Some(entry) = self.in_flight.remove(&report.token.seq) else {
            return;
        };
        match report.outcome {
            Ok(()) => {
                SinkStats::add(&self.stats.delivered, 1);
                self.finish(&entry);
                self.failures = 0;
                if self.mode != Mode::Normal {
                    tracing::info!(
                        waiting = self.memory_len(),
                        spooled = self.spool.as_ref().map_or(0, Spool::unacked_records),
                        "the Kafka broker acknowledges again; sending the waiting records"
                    );
                    self.mode = Mode::Normal;
                }
            }
            Err((Some(RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight), _)) => {
                self.requeue(entry);
            }
            Err((code, message)) => {
                let name = code.map_or_else(|| "Unknown".to_string(), |code| format!("{code:?}"));
                self.stats.count_delivery_error(&name);
                if code.is_some_and(is_permanent) {
                    self.reject(entry, &message);
                    return;
                }
                let probe_failed = self.mode == Mode::Probe;
                self.requeue(entry);
                self.enter_backoff(&message);
                if self.rebuild_if_fatal() {
                    return;
                }
                if probe_failed {
                    // A new producer gets a new producer id. That clears states the old one
                    // cannot leave, e.g. when a restarted broker lost its producer ids (as
                    // Tansu's memory storage does) and rejects every epoch bump with
                    // UNKNOWN_PRODUCER_ID.
                    tracing::info!("the probe failed; creating a new Kafka producer");
                    self.rebuild_producer();
                }
            }
        }
    }

    /// Settles a record the sink is done with and frees its place in the spool.
    fn finish(&mut self, entry: &Entry) {
        self.tracker.settle(entry.seq);
        if let (Some(pos), Some(spool)) = (entry.spool, &mut self.spool) {
            spool.ack(pos);
        }
    }

    fn reject(&mut self, entry: Entry, message: &str) {
        SinkStats::add(&self.stats.rejected, 1);
        tracing::error!(
            id = %entry.record.id,
            key = %entry.record.key,
            "the Kafka broker rejected a record permanently: {message}"
        );
        self.finish(&entry);
    }

    /// Puts a record back into `pending` at its place in sequence order.
    fn requeue(&mut self, entry: Entry) {
        let index = self.pending.partition_point(|other| other.seq < entry.seq);
        self.pending.insert(index, entry);
    }

    fn enter_backoff(&mut self, message: &str) {
        self.last_failure = Some(message.to_string());
        if matches!(self.mode, Mode::Backoff(_)) {
            return;
        }
        self.failures = self.failures.saturating_add(1);
        let factor = 1u32 << (self.failures - 1).min(16);
        let delay = self
            .config
            .retry_backoff
            .saturating_mul(factor)
            .min(self.config.retry_backoff_max);
        self.mode = Mode::Backoff(Instant::now() + delay);
        // Records librdkafka has queued but not sent come back as purged and are requeued in
        // order, so nothing newer overtakes the failed record.
        self.producer.purge(PurgeConfig::default().queue());
        if let Some(suppressed) = self.failure_log.check() {
            tracing::warn!(
                waiting = self.memory_len(),
                spooled = self.spool.as_ref().map_or(0, Spool::unacked_records),
                retry_in = ?delay,
                suppressed,
                "Kafka delivery failed: {message}"
            );
        }
    }

    /// Replaces the producer if it hit a fatal error (e.g. the idempotent producer's sequence
    /// broke) and returns whether it did.
    fn rebuild_if_fatal(&mut self) -> bool {
        let Some((code, reason)) = self.producer.client().fatal_error() else {
            return false;
        };
        tracing::error!(?code, "the Kafka producer hit a fatal error: {reason}");
        self.rebuild_producer();
        true
    }

    /// Replaces the producer and sends its unacknowledged records again through the new one.
    /// The old producer's late reports carry the old generation and are ignored.
    fn rebuild_producer(&mut self) {
        match create_producer(&self.client_config, &self.reports_tx) {
            Ok(producer) => {
                self.generation += 1;
                let old = std::mem::replace(&mut self.producer, producer);
                let in_flight = std::mem::take(&mut self.in_flight);
                for entry in in_flight.into_values() {
                    self.requeue(entry);
                }
                // Dropping purges the old producer's queues and waits up to 500 ms for them.
                drop(old);
            }
            Err(error) => {
                tracing::error!(%error, "creating a new Kafka producer failed; keeping the old one");
            }
        }
    }

    /// Delivers within `timeout`, then writes what is left to the spool.
    fn close(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            self.step();
            let spool_has_unread = self.spool.as_ref().is_some_and(Spool::has_unread);
            if self.pending.is_empty() && self.in_flight.is_empty() && !spool_has_unread {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = self.wait_time().min(deadline - now);
            if let Ok(report) = self.reports.recv_timeout(wait) {
                self.on_report(report);
            }
        }
        if !self.in_flight.is_empty() {
            self.producer
                .purge(PurgeConfig::default().queue().inflight());
            let until = Instant::now() + PURGE_WAIT;
            while !self.in_flight.is_empty() {
                let wait = until.saturating_duration_since(Instant::now());
                match self.reports.recv_timeout(wait) {
                    Ok(report) => self.on_report(report),
                    Err(_) => break,
                }
            }
            // Records whose report did not come back are treated as not delivered; sending
            // them again may duplicate them, which the ce_id header lets consumers detect.
            let in_flight = std::mem::take(&mut self.in_flight);
            for entry in in_flight.into_values() {
                self.requeue(entry);
            }
        }
        self.spool_rest();
        self.publish_gauges();
    }

    fn spool_rest(&mut self) {
        let rest: Vec<(Seq, &OutRecord)> = self
            .pending
            .iter()
            .map(|entry| (entry.seq, &entry.record))
            .collect();
        let Some(spool) = &mut self.spool else {
            if !rest.is_empty() {
                SinkStats::add(&self.stats.dropped, rest.len() as u64);
                tracing::error!(
                    lost = rest.len(),
                    last_error = self.last_failure.as_deref().unwrap_or("none"),
                    "closing the Kafka sink without a spool file: undelivered records are lost"
                );
            }
            let seqs: Vec<Seq> = self.pending.drain(..).map(|entry| entry.seq).collect();
            for seq in seqs {
                self.tracker.settle(seq);
            }
            return;
        };
        // NOTE: this rewrite ignores spool_max_bytes, so the file can end up larger than the
        // limit by what was in memory (at most queue_capacity records).
        let result = if rest.is_empty() && !spool.has_unread() {
            spool.maintain(true)
        } else {
            spool.rewrite_for_close(&rest)
        };
        let rest_len = rest.len();
        match result {
            Ok(()) => {
                // The records are in the spool now; the queue gauge must not count them twice.
                self.pending.clear();
                if spool.unacked_records() > 0 {
                    tracing::info!(
                        spooled = spool.unacked_records(),
                        last_error = self.last_failure.as_deref().unwrap_or("none"),
                        "closed the Kafka sink; undelivered records wait in the spool file"
                    );
                }
            }
            Err(error) => {
                SinkStats::add(&self.stats.spool_io_errors, 1);
                tracing::error!(%error, records = rest_len, "writing the spool file at shutdown failed");
            }
        }
    }

    fn publish_gauges(&self) {
        SinkStats::set(&self.stats.queue_depth, self.memory_len() as u64);
        SinkStats::set(&self.stats.in_flight, self.in_flight.len() as u64);
        if let Some(spool) = &self.spool {
            SinkStats::set(&self.stats.spool_bytes, spool.file_bytes());
            SinkStats::set(&self.stats.spool_records, spool.unacked_records());
        }
    }
}

/// Error codes after which sending the same record again cannot succeed.
fn is_permanent(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::InvalidArgument
    )
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

/// A sender whose receiver is already gone, for a close whose caller does not wait.
fn never_read() -> Sender<()> {
    crossbeam_channel::bounded(0).0
}
