//! JSON-lines sinks: one payload per line on stdout or appended to a file.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::progress::{DeliveryProgress, Seq, Watermark};
use crate::stats::SinkStats;
use crate::{OutRecord, Sink, SinkError};

/// Writes each record's payload as one line to a writer. Lines are buffered; a record is
/// delivered and settled when [`Sink::flush`] has written it to the writer, which the caller
/// does once per batch.
pub struct JsonLinesSink<W: Write + Send> {
    name: String,
    writer: BufWriter<W>,
    sent: Seq,
    watermark: Arc<Watermark>,
    stats: Arc<SinkStats>,
    closed: bool,
}

impl<W: Write + Send> std::fmt::Debug for JsonLinesSink<W> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JsonLinesSink")
            .field("name", &self.name)
            .field("sent", &self.sent)
            .field("settled", &self.watermark.get())
            .finish_non_exhaustive()
    }
}

/// The sink that prints to standard output.
pub type StdoutSink = JsonLinesSink<Stdout>;

/// The sink that appends to a file.
pub type FileSink = JsonLinesSink<File>;

impl StdoutSink {
    /// Creates a sink that prints one JSON object per line on standard output.
    pub fn stdout() -> StdoutSink {
        JsonLinesSink::new("stdout", io::stdout())
    }
}

impl FileSink {
    /// Opens `path` for appending, creating it if needed.
    pub fn append(path: &Path) -> Result<FileSink, SinkError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| SinkError::Open {
                path: PathBuf::from(path),
                source,
            })?;
        Ok(JsonLinesSink::new("file", file))
    }
}

impl<W: Write + Send> JsonLinesSink<W> {
    /// Creates a sink over any writer; `name` labels its stats and errors.
    pub fn new(name: &str, writer: W) -> JsonLinesSink<W> {
        JsonLinesSink {
            name: name.to_string(),
            writer: BufWriter::with_capacity(64 << 10, writer),
            sent: 0,
            watermark: Arc::default(),
            stats: Arc::default(),
            closed: false,
        }
    }

    fn io_error(&self, source: io::Error) -> SinkError {
        SinkError::Write {
            sink: self.name.clone(),
            source,
        }
    }
}

impl<W: Write + Send> Sink for JsonLinesSink<W> {
    fn send(&mut self, record: OutRecord) -> Result<Seq, SinkError> {
        if self.closed {
            return Err(SinkError::Closed);
        }
        record.validate()?;
        let written = self
            .writer
            .write_all(&record.payload)
            .and_then(|()| self.writer.write_all(b"\n"));
        written.map_err(|source| self.io_error(source))?;
        self.sent += 1;
        SinkStats::add(&self.stats.sent, 1);
        Ok(self.sent)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.writer
            .flush()
            .map_err(|source| self.io_error(source))?;
        let newly = self.sent - self.watermark.get();
        SinkStats::add(&self.stats.delivered, newly);
        self.watermark.raise(self.sent);
        Ok(())
    }

    fn progress(&self) -> DeliveryProgress {
        DeliveryProgress::new(vec![self.watermark.clone()])
    }

    fn stats(&self) -> Vec<(String, Arc<SinkStats>)> {
        vec![(self.name.clone(), self.stats.clone())]
    }

    fn close(&mut self, _timeout: Duration) -> Result<(), SinkError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stream;
    use chrono::{TimeZone, Utc};

    fn record(id: &str, payload: &str) -> OutRecord {
        OutRecord {
            stream: Stream::Findings,
            key: "push_silence|global".to_string(),
            id: id.to_string(),
            time: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            ce_type: "io.pushwatch.finding.opened".to_string(),
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_settle_on_flush() {
        let mut sink = JsonLinesSink::new("memory", Vec::new());
        let progress = sink.progress();
        assert_eq!(sink.send(record("a", r#"{"n":1}"#)).unwrap(), 1);
        assert_eq!(sink.send(record("b", r#"{"n":2}"#)).unwrap(), 2);
        assert_eq!(progress.settled_through(), 0);
        sink.flush().unwrap();
        assert_eq!(progress.settled_through(), 2);
        assert_eq!(sink.writer.get_ref(), b"{\"n\":1}\n{\"n\":2}\n");
        let stats = sink.stats.snapshot();
        assert_eq!(stats.sent, 2);
        assert_eq!(stats.delivered, 2);
    }

    #[test]
    fn invalid_record_takes_no_seq() {
        let mut sink = JsonLinesSink::new("memory", Vec::new());
        assert!(matches!(
            sink.send(record("a", "{\n}")),
            Err(SinkError::Invalid(_))
        ));
        assert_eq!(sink.send(record("b", "{}")).unwrap(), 1);
    }

    #[test]
    fn file_sink_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("findings.jsonl");
        std::fs::write(&path, "{\"old\":true}\n").unwrap();
        let mut sink = FileSink::append(&path).unwrap();
        sink.send(record("a", r#"{"new":true}"#)).unwrap();
        sink.close(Duration::ZERO).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"old\":true}\n{\"new\":true}\n");
        assert!(matches!(
            sink.send(record("b", "{}")),
            Err(SinkError::Closed)
        ));
    }

    #[test]
    fn file_sink_reports_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("findings.jsonl");
        let error = FileSink::append(&path).unwrap_err();
        assert!(error.to_string().contains("missing"), "{error}");
    }
}
