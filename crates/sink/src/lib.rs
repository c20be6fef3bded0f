//! Sinks that deliver findings, window statistics and login attempts: Kafka, stdout and files.
//!
//! Every sink takes generic [`OutRecord`]s (a JSON payload with a key, an id, a time and a
//! CloudEvents type) through the [`Sink`] trait:
//!
//! - [`KafkaSink`] produces to Kafka with CloudEvents headers and keeps what the broker has not
//!   acknowledged in memory and in a spool file;
//! - [`StdoutSink`] and [`FileSink`] write one payload per line, flushed once per batch;
//! - [`FanOut`] sends each record to several sinks.
//!
//! `send` numbers the records it accepts (1, 2, …) and [`DeliveryProgress`] reports which of them
//! are settled, so that a Kafka consumer can commit input offsets only after their output is
//! delivered. With the `testing` feature, the `testing` module starts a Tansu broker for tests.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use pushwatch_sink::{JsonLinesSink, OutRecord, Sink, Stream};
//!
//! let mut sink = JsonLinesSink::new("memory", Vec::new());
//! let progress = sink.progress();
//! let seq = sink.send(OutRecord {
//!     stream: Stream::Findings,
//!     key: "push_silence|site:paris".to_string(),
//!     id: "f-1".to_string(),
//!     time: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
//!     ce_type: "io.pushwatch.finding.opened".to_string(),
//!     payload: br#"{"severity_id":3}"#.to_vec(),
//! })?;
//! assert_eq!(progress.settled_through(), 0);
//! sink.flush()?;
//! assert_eq!(progress.settled_through(), seq);
//! # Ok::<(), pushwatch_sink::SinkError>(())
//! ```

mod fanout;
mod kafka;
mod lines;
mod progress;
mod ratelimit;
mod record;
mod spool;
mod stats;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

pub use fanout::FanOut;
pub use kafka::{is_secret_option, Compression, KafkaSink, KafkaSinkConfig, Topics};
pub use lines::{FileSink, JsonLinesSink, StdoutSink};
pub use progress::{DeliveryProgress, Seq};
pub use record::{InvalidRecord, OutRecord, Stream};
pub use spool::SpoolError;
pub use stats::{SinkStats, StatsSnapshot};

/// A destination for records.
///
/// All methods return quickly except `close`, and `send` when a sink's intake is full (see the
/// sink's documentation); none waits for a network round trip. A sink is `Send`, so it can live
/// in a blocking thread or be moved into `tokio::task::spawn_blocking`.
pub trait Sink: Send {
    /// Accepts one record and returns its sequence number. An [`SinkError::Invalid`] error
    /// rejects only this record and takes no number; any other error means the sink is broken.
    fn send(&mut self, record: OutRecord) -> Result<Seq, SinkError>;

    /// Pushes buffered records on their way; call it once per batch.
    fn flush(&mut self) -> Result<(), SinkError>;

    /// Returns a handle that reports which records are settled.
    fn progress(&self) -> DeliveryProgress;

    /// Returns the stats of this sink, or of each inner sink of a [`FanOut`], with their names.
    fn stats(&self) -> Vec<(String, Arc<SinkStats>)>;

    /// Delivers what it can within `timeout` and stores the rest durably where the sink can;
    /// later calls to `send` fail with [`SinkError::Closed`].
    fn close(&mut self, timeout: Duration) -> Result<(), SinkError>;
}

/// Errors of the sinks.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The record is invalid; the sink is still usable.
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
    /// An output file could not be opened.
    #[error("cannot open output file {}", path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing to the output failed.
    #[error("writing to the {sink} sink failed: {source}")]
    Write {
        /// Name of the sink.
        sink: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The sink was closed.
    #[error("the sink is closed")]
    Closed,
    /// The Kafka settings are invalid.
    #[error("invalid Kafka sink configuration: {0}")]
    KafkaConfig(String),
    /// librdkafka could not create the producer.
    #[error("cannot create the Kafka producer: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The spool file could not be opened or checked.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// The worker thread could not be started.
    #[error("cannot start the Kafka sink thread: {0}")]
    Thread(std::io::Error),
    /// The worker thread stopped unexpectedly (it panicked).
    #[error("the Kafka sink thread stopped unexpectedly")]
    WorkerStopped,
}
