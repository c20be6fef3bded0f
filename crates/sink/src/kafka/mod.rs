//! The Kafka sink: an idempotent producer with `acks=all`, CloudEvents binary-mode headers, a
//! bounded memory queue and a spool file for outages.

mod config;
mod worker;

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;

pub use config::{is_secret_option, Compression, KafkaSinkConfig, Topics};

use crate::progress::{DeliveryProgress, Seq, SeqTracker, Watermark};
use crate::spool::Spool;
use crate::stats::SinkStats;
use crate::{OutRecord, Sink, SinkError};
use worker::{Command, Worker};

/// Records that may wait on the channel between `send` and the worker.
const INTAKE_CAPACITY: usize = 1024;

/// Sends records to Kafka.
///
/// # Threading
///
/// [`KafkaSink`] is a handle. A worker thread (`pushwatch-kafka`) owns the librdkafka producer,
/// the memory queue and the spool file. librdkafka's own polling thread runs the delivery
/// callbacks, which pass each outcome to the worker over a channel. `send` only validates the
/// record and puts it on a bounded channel (1024 records) to the worker, so it blocks only
/// while the worker is busy writing the spool file. It does not need a tokio runtime; from
/// async code, call it directly for small batches or through `spawn_blocking` for large ones.
///
/// # Delivery
///
/// A record is delivered when the broker acknowledged it. Records not yet acknowledged stay in
/// memory up to [`KafkaSinkConfig::queue_capacity`]; further ones go to the spool file and come
/// back in order when memory frees up. [`Sink::close`] waits up to its timeout for
/// acknowledgements and then writes every unacknowledged record to the spool file, which the
/// next start sends first. A spooled record whose acknowledgement was not yet recorded when
/// the process stopped is sent again with the same `ce_id`, so delivery is at-least-once.
/// Records held only in memory are lost if the process is killed; `docs/kafka.md` describes
/// why offset commits therefore wait for [`crate::DeliveryProgress`].
pub struct KafkaSink {
    commands: Sender<Command>,
    sent: Seq,
    spooled_at_start: u64,
    watermark: Arc<Watermark>,
    stats: Arc<SinkStats>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KafkaSink")
            .field("sent", &self.sent)
            .field("settled", &self.watermark.get())
            .field("spooled_at_start", &self.spooled_at_start)
            .finish_non_exhaustive()
    }
}

impl KafkaSink {
    /// Creates the producer, opens the spool file (sending what an earlier run left in it
    /// first) and starts the worker thread. It does not wait for the broker.
    pub fn new(config: KafkaSinkConfig) -> Result<KafkaSink, SinkError> {
        let client_config = config.checked_client_config()?;
        let (reports_tx, reports) = crossbeam_channel::unbounded();
        let producer = worker::create_producer(&client_config, &reports_tx)?;
        let stats = Arc::new(SinkStats::default());
        let spool = match &config.spool_path {
            Some(path) => Some(open_spool(path, config.spool_max_bytes, &stats)?),
            None => None,
        };
        let spooled_at_start = spool.as_ref().map_or(0, Spool::unacked_records);

        let watermark = Arc::new(Watermark::default());
        let tracker = SeqTracker::new(watermark.clone(), spooled_at_start);
        let (commands_tx, commands) = crossbeam_channel::bounded(INTAKE_CAPACITY);
        let worker = Worker::new(
            config,
            client_config,
            producer,
            reports_tx,
            reports,
            commands,
            spool,
            tracker,
            stats.clone(),
        );
        let handle = std::thread::Builder::new()
            .name("pushwatch-kafka".to_string())
            .spawn(move || worker.run())
            .map_err(SinkError::Thread)?;
        Ok(KafkaSink {
            commands: commands_tx,
            sent: 0,
            spooled_at_start,
            watermark,
            stats,
            worker: Some(handle),
        })
    }

    /// Returns the number of records found in the spool file at start. They are sent before
    /// the first record of `send` and are not numbered in [`DeliveryProgress`].
    pub fn spooled_at_start(&self) -> u64 {
        self.spooled_at_start
    }
}

/// Opens the spool file, counts and logs what the check at open found.
fn open_spool(path: &Path, max_bytes: u64, stats: &SinkStats) -> Result<Spool, SinkError> {
    let (spool, report) = Spool::open(path, max_bytes, 1)?;
    SinkStats::add(&stats.spool_damaged_regions, report.damaged_regions);
    SinkStats::add(&stats.spool_damaged_bytes, report.damaged_bytes);
    if report.damaged_regions > 0 {
        tracing::warn!(
            path = %path.display(),
            regions = report.damaged_regions,
            bytes = report.damaged_bytes,
            "skipped damaged regions of the spool file (a torn tail after a crash is expected)"
        );
    }
    if report.records > 0 {
        tracing::info!(
            path = %path.display(),
            records = report.records,
            "sending records left in the spool file by an earlier run first"
        );
    }
    Ok(spool)
}

impl Sink for KafkaSink {
    fn send(&mut self, record: OutRecord) -> Result<Seq, SinkError> {
        record.validate()?;
        if self.worker.is_none() {
            return Err(SinkError::Closed);
        }
        let seq = self.sent + 1;
        self.commands
            .send(Command::Record(seq + self.spooled_at_start, record))
            .map_err(|_| SinkError::WorkerStopped)?;
        self.sent = seq;
        SinkStats::add(&self.stats.sent, 1);
        Ok(seq)
    }

    /// Does nothing: the worker sends records as it receives them, and librdkafka batches them
    /// for `linger.ms` (5 ms unless set in the options).
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    fn progress(&self) -> DeliveryProgress {
        DeliveryProgress::new(vec![self.watermark.clone()])
    }

    fn stats(&self) -> Vec<(String, Arc<SinkStats>)> {
        vec![("kafka".to_string(), self.stats.clone())]
    }

    fn close(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let Some(handle) = self.worker.take() else {
            return Ok(());
        };
        let (done_tx, done) = crossbeam_channel::bounded(0);
        if self.commands.send(Command::Close(timeout, done_tx)).is_ok() {
            // The worker drops its end when it is done; no value is ever sent.
            let _ = done.recv();
        }
        handle.join().map_err(|_| SinkError::WorkerStopped)
    }
}

impl Drop for KafkaSink {
    /// Closes without waiting for the broker, so every unacknowledged record goes to the
    /// spool file.
    fn drop(&mut self) {
        if let Err(error) = self.close(Duration::ZERO) {
            tracing::error!(%error, "closing the Kafka sink failed");
        }
    }
}
