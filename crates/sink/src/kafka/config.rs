//! Configuration of the Kafka sink and the librdkafka properties built from it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rdkafka::ClientConfig;

use crate::{SinkError, Stream};

/// Compression codec of produced batches (librdkafka `compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4, cheap on CPU and the default.
    #[default]
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// Returns the librdkafka name of the codec.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Topic of each stream; a stream without a topic is not sent to Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Topic of the findings.
    pub findings: String,
    /// Topic of the window statistics.
    pub windows: Option<String>,
    /// Topic of the classified login attempts.
    pub attempts: Option<String>,
}

impl Topics {
    /// Returns the topic of `stream`, if it has one.
    pub fn of(&self, stream: Stream) -> Option<&str> {
        match stream {
            Stream::Findings => Some(self.findings.as_str()),
            Stream::Windows => self.windows.as_deref(),
            Stream::Attempts => self.attempts.as_deref(),
        }
        .filter(|topic| !topic.is_empty())
    }
}

/// Settings of a [`crate::KafkaSink`].
///
/// Its `Debug` output hides the values of secret options (see [`is_secret_option`]).
#[derive(Clone)]
pub struct KafkaSinkConfig {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT…]`.
    pub brokers: String,
    /// Topic of each stream.
    pub topics: Topics,
    /// CloudEvents `source` attribute of every record (a URI reference, e.g. `/pushwatch/eu-1`).
    pub ce_source: String,
    /// Records held in memory, waiting to be produced or for their acknowledgement; further
    /// records go to the spool file.
    pub queue_capacity: usize,
    /// Spool file for records that do not fit in memory while the broker is unavailable, and
    /// for what is left at shutdown. Without one, those records are dropped and counted.
    pub spool_path: Option<PathBuf>,
    /// Largest spool file in bytes; records beyond it are dropped and counted.
    pub spool_max_bytes: u64,
    /// Compression of produced batches.
    pub compression: Compression,
    /// How long librdkafka tries to deliver a record before it reports a failure, after which
    /// the sink puts the record back in its queue (librdkafka `message.timeout.ms`).
    pub message_timeout: Duration,
    /// First pause after a failed delivery before the sink probes the broker with one record;
    /// it doubles after each further failure up to `retry_backoff_max`.
    pub retry_backoff: Duration,
    /// Maximum pause between two probes.
    pub retry_backoff_max: Duration,
    /// librdkafka properties passed through unchanged (SASL, TLS, `linger.ms`, …). They
    /// override the sink's defaults, but `bootstrap.servers`, `enable.idempotence` and `acks`
    /// are fixed: the first comes from `brokers`, the others must stay `true` and `all`.
    pub options: BTreeMap<String, String>,
}

impl KafkaSinkConfig {
    /// Returns a configuration with defaults for everything but the brokers and topics.
    pub fn new(brokers: &str, findings_topic: &str) -> KafkaSinkConfig {
        KafkaSinkConfig {
            brokers: brokers.to_string(),
            topics: Topics {
                findings: findings_topic.to_string(),
                windows: None,
                attempts: None,
            },
            ce_source: "/pushwatch".to_string(),
            queue_capacity: 10_000,
            spool_path: None,
            spool_max_bytes: 256 << 20,
            compression: Compression::default(),
            message_timeout: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(500),
            retry_backoff_max: Duration::from_secs(10),
            options: BTreeMap::new(),
        }
    }

    /// Checks the settings as [`crate::KafkaSink::new`] does, without creating a producer or
    /// connecting: the findings topic, the queue capacity, the options the sink fixes, and the
    /// name and value of every option against librdkafka's property table.
    pub fn validate(&self) -> Result<(), SinkError> {
        self.checked_client_config().map(drop)
    }

    /// Validates the settings and returns the librdkafka producer properties.
    pub(crate) fn checked_client_config(&self) -> Result<ClientConfig, SinkError> {
        if self.topics.findings.trim().is_empty() {
            return Err(SinkError::KafkaConfig(
                "the findings topic is empty; set a topic name".to_string(),
            ));
        }
        if self.queue_capacity == 0 {
            return Err(SinkError::KafkaConfig(
                "queue_capacity is 0; it must hold at least one record".to_string(),
            ));
        }
        let client_config = self.client_config().map_err(SinkError::KafkaConfig)?;
        // librdkafka checks each property when it is set on a native configuration, which
        // neither starts threads nor connects.
        client_config
            .create_native_config()
            .map_err(|error| SinkError::KafkaConfig(error.to_string()))?;
        Ok(client_config)
    }

    /// Builds the librdkafka producer properties, or returns a message naming the conflicting
    /// option.
    fn client_config(&self) -> Result<ClientConfig, String> {
        for (key, value) in &self.options {
            let fixed = match key.as_str() {
                "bootstrap.servers" | "metadata.broker.list" => Some("set the brokers instead"),
                "enable.idempotence" if value != "true" => {
                    Some("the sink needs the idempotent producer; remove the option")
                }
                "acks" | "request.required.acks" if value != "all" && value != "-1" => {
                    Some("the sink needs acks=all; remove the option")
                }
                "transactional.id" => Some("the sink does not use transactions"),
                _ => None,
            };
            if let Some(reason) = fixed {
                return Err(format!("Kafka option {key:?} cannot be set: {reason}"));
            }
        }
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", "pushwatch")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", self.compression.name())
            .set(
                "message.timeout.ms",
                self.message_timeout.as_millis().max(1).to_string(),
            )
            .set("linger.ms", "5");
        for (key, value) in &self.options {
            config.set(key, value);
        }
        Ok(config)
    }
}

/// Returns whether a librdkafka option contains a secret whose value must not be logged or shown:
/// any key containing `password`, `secret`, `token`, `credential`, `sasl.oauthbearer.config`,
/// `ssl.key.pem` or `sasl.kerberos.keytab`.
pub fn is_secret_option(key: &str) -> bool {
    const MARKERS: [&str; 7] = [
        "password",
        "secret",
        "token",
        "credential",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
        "sasl.kerberos.keytab",
    ];
    let key = key.to_ascii_lowercase();
    MARKERS.iter().any(|marker| key.contains(marker))
}

/// The options with secret values replaced, for Debug output and logs.
struct RedactedOptions<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for RedactedOptions<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = formatter.debug_map();
        for (key, value) in self.0 {
            if is_secret_option(key) {
                map.entry(key, &"<redacted>");
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

impl fmt::Debug for KafkaSinkConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("KafkaSinkConfig")
            .field("brokers", &self.brokers)
            .field("topics", &self.topics)
            .field("ce_source", &self.ce_source)
            .field("queue_capacity", &self.queue_capacity)
            .field("spool_path", &self.spool_path)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .field("compression", &self.compression)
            .field("message_timeout", &self.message_timeout)
            .field("retry_backoff", &self.retry_backoff)
            .field("retry_backoff_max", &self.retry_backoff_max)
            .field("options", &RedactedOptions(&self.options))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_values() {
        let mut config = KafkaSinkConfig::new("127.0.0.1:9092", "findings");
        for (key, value) in [
            ("sasl.password", "hunter2-a"),
            ("ssl.key.password", "hunter2-b"),
            ("ssl.key.pem", "hunter2-c"),
            ("sasl.oauthbearer.config", "hunter2-d"),
            ("sasl.oauthbearer.client.secret", "hunter2-e"),
            ("sasl.username", "alice"),
        ] {
            config.options.insert(key.to_string(), value.to_string());
        }
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("alice"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn fixed_options_are_rejected() {
        for (key, value) in [
            ("acks", "1"),
            ("enable.idempotence", "false"),
            ("bootstrap.servers", "x:1"),
            ("transactional.id", "t"),
        ] {
            let mut config = KafkaSinkConfig::new("127.0.0.1:9092", "findings");
            config.options.insert(key.to_string(), value.to_string());
            let error = config.client_config().unwrap_err();
            assert!(error.contains(key), "{error}");
        }
    }

    #[test]
    fn options_override_defaults() {
        let mut config = KafkaSinkConfig::new("127.0.0.1:9092", "findings");
        config
            .options
            .insert("linger.ms".to_string(), "50".to_string());
        config.options.insert("acks".to_string(), "all".to_string());
        let client = config.client_config().unwrap();
        assert_eq!(client.get("linger.ms"), Some("50"));
        assert_eq!(client.get("enable.idempotence"), Some("true"));
        assert_eq!(client.get("compression.type"), Some("lz4"));
    }

    #[test]
    fn topics_skip_empty_names() {
        let topics = Topics {
            findings: "f".to_string(),
            windows: Some(String::new()),
            attempts: Some("a".to_string()),
        };
        assert_eq!(topics.of(Stream::Findings), Some("f"));
        assert_eq!(topics.of(Stream::Windows), None);
        assert_eq!(topics.of(Stream::Attempts), Some("a"));
    }
}
