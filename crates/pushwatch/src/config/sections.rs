//! The sections of the configuration that the binary owns: sources, Kafka, sinks, metrics and
//! state, with their defaults and range checks.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Config;

/// A listen address written `IP:PORT` (`0.0.0.0:5514`, `[::1]:5514`); port 0 picks a free port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr(pub SocketAddr);

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse::<SocketAddr>().map(ListenAddr).map_err(|_| {
            format!(
                "invalid listen address \"{text}\": expected IP:PORT such as \"0.0.0.0:5514\" \
                 or \"[::1]:5514\" (host names are not resolved)"
            )
        })
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for ListenAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads one listen address or a list of them, so `listen = "0.0.0.0:5514"` and an environment
/// override with a bare address both work.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ListenAddr>, D::Error> {
    struct Addresses;

    impl<'de> serde::de::Visitor<'de> for Addresses {
        type Value = Vec<ListenAddr>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an address IP:PORT or a list of them")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            text.parse().map(|addr| vec![addr]).map_err(E::custom)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut addresses = Vec::new();
            while let Some(addr) = seq.next_element::<ListenAddr>()? {
                addresses.push(addr);
            }
            Ok(addresses)
        }
    }

    deserializer.deserialize_any(Addresses)
}

/// Reads an optional listen address, where an empty string means none.
fn optional_address<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ListenAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

fn address_or_empty<S: Serializer>(
    address: &Option<ListenAddr>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match address {
        Some(address) => address.serialize(serializer),
        None => serializer.serialize_str(""),
    }
}

impl Serialize for ListenAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// `[sources]`: the inputs of `pushwatch run`, and how lines of any input are read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// UTC offset (`+02:00`, `-0500`, `UTC+2:00`) for local times written without a zone: a
    /// FortiGate `date`/`time` pair without `tz`, or a syslog header time without offset.
    /// Applies to replayed files too.
    pub default_utc_offset: String,
    /// `[sources.udp]`: syslog over UDP, one message per datagram.
    pub udp: UdpSourceConfig,
    /// `[sources.tcp]`: syslog over TCP, LF-delimited or octet-counted (RFC 6587).
    pub tcp: TcpSourceConfig,
    /// `[sources.kafka]`: raw log lines from a Kafka topic in a consumer group.
    pub kafka: KafkaSourceConfig,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            default_utc_offset: "+00:00".to_string(),
            udp: UdpSourceConfig::default(),
            tcp: TcpSourceConfig::default(),
            kafka: KafkaSourceConfig::default(),
        }
    }
}

impl SourcesConfig {
    /// Returns `default_utc_offset` in seconds east of UTC (checked when the file is loaded).
    pub fn default_offset_seconds(&self) -> i32 {
        pushwatch_parser::parse_offset(self.default_utc_offset.as_bytes()).unwrap_or(0)
    }
}

/// `[sources.udp]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UdpSourceConfig {
    /// Addresses to receive on; empty turns the UDP source off.
    #[serde(deserialize_with = "one_or_many")]
    pub listen: Vec<ListenAddr>,
    /// Requested kernel receive buffer (`SO_RCVBUF`) in bytes; 0 keeps the system default.
    pub receive_buffer_bytes: usize,
    /// Datagrams that may wait for the engine; datagrams that find the queue full are dropped
    /// and counted.
    pub queue_frames: usize,
    /// Largest datagram kept whole, in bytes; longer ones are cut and counted as oversize.
    pub max_frame_bytes: usize,
}

impl Default for UdpSourceConfig {
    fn default() -> Self {
        UdpSourceConfig {
            listen: Vec::new(),
            receive_buffer_bytes: 4 << 20,
            queue_frames: 16_384,
            max_frame_bytes: 64 << 10,
        }
    }
}

/// `[sources.tcp]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpSourceConfig {
    /// Addresses to accept connections on; empty turns the TCP source off.
    #[serde(deserialize_with = "one_or_many")]
    pub listen: Vec<ListenAddr>,
    /// Connections served at once; further connections are closed at once and counted.
    pub max_connections: usize,
    /// Largest frame kept whole, in bytes; longer frames are cut and counted as oversize.
    pub max_frame_bytes: usize,
    /// Seconds without a byte after which a connection is closed and counted.
    pub idle_timeout_secs: u64,
    /// Batches that may wait for the engine, a batch being the frames decoded from one read of
    /// up to 64 KiB. A full queue makes the connections wait (TCP back-pressure), so nothing
    /// is dropped.
    pub queue_batches: usize,
}

impl Default for TcpSourceConfig {
    fn default() -> Self {
        TcpSourceConfig {
            listen: Vec::new(),
            max_connections: 256,
            max_frame_bytes: 64 << 10,
            idle_timeout_secs: 300,
            queue_batches: 1_024,
        }
    }
}

/// `[sources.kafka]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSourceConfig {
    /// Topic of raw log lines to consume; empty turns the Kafka source off. The brokers are
    /// `kafka.brokers`.
    pub topic: String,
    /// Consumer group id.
    pub group_id: String,
    /// Records that may wait for the engine; a full queue pauses consumption.
    pub queue_records: usize,
    /// librdkafka consumer properties passed through unchanged, after `kafka.options`, e.g.
    /// `"auto.offset.reset" = "latest"` (default `earliest`).
    pub options: BTreeMap<String, String>,
}

impl Default for KafkaSourceConfig {
    fn default() -> Self {
        KafkaSourceConfig {
            topic: String::new(),
            group_id: "pushwatch".to_string(),
            queue_records: 4_096,
            options: BTreeMap::new(),
        }
    }
}

/// `[kafka]`: the connection shared by the Kafka source and the Kafka sink.
///
/// Its `Debug` and serialized forms replace the values of secret librdkafka options (see
/// [`pushwatch_sink::is_secret_option`]) with `<redacted>`, so `check-config --print` and logs
/// never show a password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT…]`; empty turns Kafka off.
    pub brokers: String,
    /// Topic that receives the findings.
    pub topic: String,
    /// Topic that receives the window statistics; empty sends none.
    pub windows_topic: String,
    /// Topic that receives every classified login attempt; empty sends none.
    pub attempts_topic: String,
    /// Findings that may wait in memory for the broker before they go to the spool file.
    pub queue_capacity: usize,
    /// Spool file for findings the broker has not acknowledged while the queue is full or at
    /// shutdown; no value keeps them in memory only.
    pub spool_path: Option<PathBuf>,
    /// Largest spool file in bytes; findings beyond it are dropped and counted.
    pub spool_max_bytes: u64,
    /// CloudEvents `source` attribute of every record sent, a URI reference.
    pub ce_source: String,
    /// Compression of produced batches: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: pushwatch_sink::Compression,
    /// Seconds librdkafka tries to deliver a record before the sink queues it again
    /// (librdkafka `message.timeout.ms`).
    pub message_timeout_secs: u64,
    /// librdkafka properties passed through unchanged to the producer and the consumer, e.g.
    /// `"security.protocol" = "ssl"`.
    #[serde(serialize_with = "serialize_redacted_options")]
    pub options: BTreeMap<String, String>,
}

const REDACTED: &str = "<redacted>";

/// Returns the librdkafka options with every secret value replaced by [`REDACTED`].
fn redacted_options(options: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    options
        .iter()
        .map(|(key, value)| {
            let shown = if pushwatch_sink::is_secret_option(key) {
                REDACTED
            } else {
                value.as_str()
            };
            (key.as_str(), shown)
        })
        .collect()
}

fn serialize_redacted_options<S: Serializer>(
    options: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    redacted_options(options).serialize(serializer)
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("topic", &self.topic)
            .field("windows_topic", &self.windows_topic)
            .field("attempts_topic", &self.attempts_topic)
            .field("queue_capacity", &self.queue_capacity)
            .field("spool_path", &self.spool_path)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .field("ce_source", &self.ce_source)
            .field("compression", &self.compression)
            .field("message_timeout_secs", &self.message_timeout_secs)
            .field("options", &redacted_options(&self.options))
            .finish()
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: String::new(),
            topic: "pushwatch.findings".to_string(),
            windows_topic: String::new(),
            attempts_topic: String::new(),
            queue_capacity: 10_000,
            spool_path: None,
            spool_max_bytes: 256 << 20,
            ce_source: "/pushwatch".to_string(),
            compression: pushwatch_sink::Compression::default(),
            message_timeout_secs: 30,
            options: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// Returns true when brokers are configured.
    pub fn enabled(&self) -> bool {
        !self.brokers.trim().is_empty()
    }

    /// Returns the settings of the Kafka sink.
    pub fn sink_config(&self) -> pushwatch_sink::KafkaSinkConfig {
        let optional = |topic: &str| (!topic.trim().is_empty()).then(|| topic.to_string());
        let mut sink = pushwatch_sink::KafkaSinkConfig::new(&self.brokers, &self.topic);
        sink.topics.windows = optional(&self.windows_topic);
        sink.topics.attempts = optional(&self.attempts_topic);
        sink.ce_source = self.ce_source.clone();
        sink.queue_capacity = self.queue_capacity;
        sink.spool_path = self.spool_path.clone();
        sink.spool_max_bytes = self.spool_max_bytes;
        sink.compression = self.compression;
        sink.message_timeout = std::time::Duration::from_secs(self.message_timeout_secs);
        sink.options = self.options.clone();
        sink
    }
}

/// `[sinks]`: outputs other than Kafka.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinksConfig {
    /// Print findings as JSON lines on stdout. No value means: only when Kafka is off.
    pub stdout: Option<bool>,
    /// Append findings as JSON lines to this file.
    pub file: Option<PathBuf>,
}

impl SinksConfig {
    /// Returns whether findings go to stdout, given whether Kafka is on.
    pub fn stdout_enabled(&self, kafka_enabled: bool) -> bool {
        self.stdout.unwrap_or(!kafka_enabled)
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the HTTP endpoint that serves `/metrics` in the Prometheus text format; an
    /// empty string turns it off.
    #[serde(
        deserialize_with = "optional_address",
        serialize_with = "address_or_empty"
    )]
    pub listen: Option<ListenAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: Some(ListenAddr(SocketAddr::from(([127, 0, 0, 1], 9898)))),
        }
    }
}

/// `[state]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// File that keeps baselines and windows across restarts; no value keeps them in memory.
    pub path: Option<PathBuf>,
    /// Seconds between two saves in `pushwatch run`; the state is also saved at shutdown.
    pub save_interval_secs: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            path: None,
            save_interval_secs: 300,
        }
    }
}

/// Checks ranges that the types alone do not enforce. Returns the dotted key and a message.
pub(super) fn validate(config: &Config) -> Result<(), (String, String)> {
    let offset = &config.sources.default_utc_offset;
    if pushwatch_parser::parse_offset(offset.as_bytes()).is_none() {
        return Err((
            "sources.default_utc_offset".to_string(),
            format!("invalid UTC offset \"{offset}\": expected +HH:MM, -HHMM or UTC+H:MM"),
        ));
    }

    let udp = &config.sources.udp;
    let tcp = &config.sources.tcp;
    check_range(
        "sources.udp.max_frame_bytes",
        udp.max_frame_bytes,
        512,
        1 << 20,
    )?;
    check_range("sources.udp.queue_frames", udp.queue_frames, 1, 1 << 24)?;
    check_range(
        "sources.udp.receive_buffer_bytes",
        udp.receive_buffer_bytes,
        0,
        1 << 30,
    )?;
    check_range(
        "sources.tcp.max_frame_bytes",
        tcp.max_frame_bytes,
        512,
        16 << 20,
    )?;
    check_range("sources.tcp.queue_batches", tcp.queue_batches, 1, 1 << 20)?;
    check_range(
        "sources.tcp.max_connections",
        tcp.max_connections,
        1,
        65_536,
    )?;
    let idle = usize::try_from(tcp.idle_timeout_secs).unwrap_or(usize::MAX);
    check_range("sources.tcp.idle_timeout_secs", idle, 1, 86_400)?;

    let kafka = &config.kafka;
    check_range("kafka.queue_capacity", kafka.queue_capacity, 1, 1 << 24)?;
    let records = config.sources.kafka.queue_records;
    check_range("sources.kafka.queue_records", records, 1, 1 << 20)?;
    let timeout = usize::try_from(kafka.message_timeout_secs).unwrap_or(usize::MAX);
    check_range("kafka.message_timeout_secs", timeout, 1, 3_600)?;
    let interval = usize::try_from(config.state.save_interval_secs).unwrap_or(usize::MAX);
    check_range("state.save_interval_secs", interval, 1, 86_400)?;

    if kafka.enabled() && kafka.topic.trim().is_empty() {
        return Err((
            "kafka.topic".to_string(),
            "invalid value \"\": a findings topic is required when kafka.brokers is set"
                .to_string(),
        ));
    }
    if !config.sources.kafka.topic.is_empty() && !kafka.enabled() {
        return Err((
            "sources.kafka.topic".to_string(),
            format!(
                "the Kafka source reads topic \"{}\" but kafka.brokers is empty; set the brokers \
                 or remove the topic",
                config.sources.kafka.topic
            ),
        ));
    }
    if !config.sources.kafka.topic.is_empty() && config.sources.kafka.group_id.trim().is_empty() {
        return Err((
            "sources.kafka.group_id".to_string(),
            "invalid value \"\": a consumer group id is required for the Kafka source".to_string(),
        ));
    }
    for key in kafka.options.keys() {
        if key == "bootstrap.servers" {
            return Err((
                format!("kafka.options.\"{key}\""),
                "set the brokers with kafka.brokers, not as a librdkafka option".to_string(),
            ));
        }
    }
    Ok(())
}

fn check_range(key: &str, value: usize, min: usize, max: usize) -> Result<(), (String, String)> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err((
            key.to_string(),
            format!("invalid value {value}: allowed range is {min} to {max}"),
        ))
    }
}
