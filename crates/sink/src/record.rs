//! The record type that every sink accepts, independent of what produced it.

use chrono::{DateTime, SecondsFormat, Utc};

/// Kind of record, which selects the Kafka topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Anomaly findings (OCSF Detection Finding JSON).
    Findings,
    /// Window statistics.
    Windows,
    /// Classified login attempts.
    Attempts,
}

impl Stream {
    /// All streams, in the order of their wire codes.
    pub const ALL: [Stream; 3] = [Stream::Findings, Stream::Windows, Stream::Attempts];

    /// Lower-case name used in logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Findings => "findings",
            Stream::Windows => "windows",
            Stream::Attempts => "attempts",
        }
    }

    /// Byte that identifies the stream in the spool file.
    pub(crate) fn code(self) -> u8 {
        match self {
            Stream::Findings => 0,
            Stream::Windows => 1,
            Stream::Attempts => 2,
        }
    }

    /// Inverse of [`Stream::code`].
    pub(crate) fn from_code(code: u8) -> Option<Stream> {
        Stream::ALL.into_iter().find(|stream| stream.code() == code)
    }
}

/// One record to deliver: a JSON payload with the metadata that Kafka headers and keys need.
///
/// The payload must be one compact JSON document (as `serde_json::to_vec` writes it): the line
/// sinks print it as one line, so [`OutRecord::validate`] rejects payloads with a line break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    /// Stream, which selects the topic.
    pub stream: Stream,
    /// Kafka message key; for findings `detector|scope`, so that one finding's history stays on
    /// one partition.
    pub key: String,
    /// Unique id of this record, sent as the CloudEvents `ce_id` header.
    pub id: String,
    /// Event time, sent as the `ce_time` header and as the Kafka message timestamp.
    pub time: DateTime<Utc>,
    /// CloudEvents type, e.g. `io.pushwatch.finding.opened`, sent as the `ce_type` header.
    pub ce_type: String,
    /// The JSON document.
    pub payload: Vec<u8>,
}

impl OutRecord {
    /// Checks what every sink needs: a non-empty id and type, and a non-empty payload without
    /// line breaks.
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        if self.id.is_empty() {
            return Err(InvalidRecord::new(self, "the id is empty"));
        }
        if self.ce_type.is_empty() {
            return Err(InvalidRecord::new(self, "the CloudEvents type is empty"));
        }
        if self.payload.is_empty() {
            return Err(InvalidRecord::new(self, "the payload is empty"));
        }
        if self
            .payload
            .iter()
            .any(|&byte| byte == b'\n' || byte == b'\r')
        {
            return Err(InvalidRecord::new(
                self,
                "the payload contains a line break; serialize it as compact JSON",
            ));
        }
        Ok(())
    }

    /// Formats [`OutRecord::time`] as RFC 3339 in UTC, the form of the `ce_time` header.
    pub fn time_rfc3339(&self) -> String {
        self.time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

/// A record that no sink accepts, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid record {id:?} (key {key:?}): {reason}")]
pub struct InvalidRecord {
    /// The record's id.
    pub id: String,
    /// The record's key.
    pub key: String,
    /// Description of the problem.
    pub reason: &'static str,
}

impl InvalidRecord {
    fn new(record: &OutRecord, reason: &'static str) -> InvalidRecord {
        InvalidRecord {
            id: record.id.clone(),
            key: record.key.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record(payload: &str) -> OutRecord {
        OutRecord {
            stream: Stream::Findings,
            key: "push_silence|site:paris".to_string(),
            id: "f-1".to_string(),
            time: Utc.timestamp_opt(1_700_000_000, 250_000_000).unwrap(),
            ce_type: "io.pushwatch.finding.opened".to_string(),
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[test]
    fn validate_accepts_compact_json() {
        assert_eq!(record(r#"{"a":1}"#).validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_line_breaks() {
        let error = record("{\n\"a\":1}").validate().unwrap_err();
        assert!(error.reason.contains("line break"), "{error}");
    }

    #[test]
    fn validate_rejects_empty_fields() {
        let mut empty_id = record("{}");
        empty_id.id.clear();
        assert!(empty_id.validate().is_err());
        let mut empty_type = record("{}");
        empty_type.ce_type.clear();
        assert!(empty_type.validate().is_err());
        assert!(record("").validate().is_err());
    }

    #[test]
    fn time_formats_as_rfc3339_utc() {
        assert_eq!(record("{}").time_rfc3339(), "2023-11-14T22:13:20.250Z");
    }

    #[test]
    fn stream_codes_round_trip() {
        for stream in Stream::ALL {
            assert_eq!(Stream::from_code(stream.code()), Some(stream));
        }
        assert_eq!(Stream::from_code(3), None);
    }
}
