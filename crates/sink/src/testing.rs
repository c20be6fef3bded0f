//! Test support (feature `testing`): a Tansu Kafka-protocol broker on loopback, topic creation
//! and a consumer that reads records back with their headers.
//!
//! Tests use the broker named by `PUSHWATCH_TEST_KAFKA` (`HOST:PORT`, set by
//! `scripts/test.sh`) or start their own. Tests that stop and restart a broker always start
//! their own. When the `tansu` executable is missing, the helpers fail with an error that
//! tells the user to run `./scripts/test.sh`, which installs it. They never skip.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;

/// Environment variable naming a running broker that tests may share.
pub const TEST_KAFKA_ENV: &str = "PUSHWATCH_TEST_KAFKA";

/// Errors of the test support.
#[derive(Debug, thiserror::Error)]
pub enum TestingError {
    /// The `tansu` executable is not installed.
    #[error(
        "the tansu broker executable was not found in PATH or ~/.cargo/bin; run \
         ./scripts/test.sh, which installs it (cargo install --locked tansu@0.6.0 --features \
         dynostore)"
    )]
    TansuMissing,
    /// Starting or stopping the broker failed.
    #[error("tansu broker on port {port}: {message}")]
    Broker {
        /// The port of the broker.
        port: u16,
        /// The failure, with the tail of the broker's log where there is one.
        message: String,
    },
    /// A Kafka call failed.
    #[error("{action} failed: {source}")]
    Kafka {
        /// The action that failed.
        action: String,
        /// The client error.
        source: rdkafka::error::KafkaError,
    },
    /// Fewer records than expected arrived in time.
    #[error("expected {expected} records on topic {topic}, got {got} within {timeout:?}")]
    Timeout {
        /// The topic.
        topic: String,
        /// Records expected.
        expected: usize,
        /// Records read.
        got: usize,
        /// How long the helper waited.
        timeout: Duration,
    },
}

/// Returns the path of the `tansu` executable: the first in `PATH`, else `~/.cargo/bin/tansu`.
pub fn tansu_path() -> Result<PathBuf, TestingError> {
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("tansu"));
    let from_home =
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin/tansu"));
    from_path
        .chain(from_home)
        .find(|candidate| candidate.is_file())
        .ok_or(TestingError::TansuMissing)
}

/// A Tansu broker with in-memory storage, started by this process and killed on drop.
#[derive(Debug)]
pub struct TansuBroker {
    port: u16,
    child: Option<Child>,
    log_path: PathBuf,
}

impl TansuBroker {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    pub fn start() -> Result<TansuBroker, TestingError> {
        let port = free_port().map_err(|error| TestingError::Broker {
            port: 0,
            message: format!("no free loopback port: {error}"),
        })?;
        let log_path =
            std::env::temp_dir().join(format!("pushwatch-tansu-{}-{port}.log", std::process::id()));
        let mut broker = TansuBroker {
            port,
            child: None,
            log_path,
        };
        broker.restart()?;
        Ok(broker)
    }

    /// Returns the `HOST:PORT` bootstrap address.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Process id of the running broker, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the broker (SIGKILL, by its process id) and waits for it to exit. The memory
    /// storage loses every topic and record.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port (after [`TansuBroker::stop`]) and waits until
    /// it accepts connections. Topics must be created again.
    pub fn restart(&mut self) -> Result<(), TestingError> {
        self.stop();
        let tansu = tansu_path()?;
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let broker_error = |message: String| TestingError::Broker {
            port: self.port,
            message,
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|error| broker_error(format!("cannot open log file: {error}")))?;
        let log_err = log
            .try_clone()
            .map_err(|error| broker_error(format!("cannot open log file: {error}")))?;
        let child = Command::new(&tansu)
            .arg("broker")
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| broker_error(format!("cannot run {}: {error}", tansu.display())))?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    fn wait_until_ready(&mut self) -> Result<(), TestingError> {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(self.failure(&format!("exited with {status} before accepting")));
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(self.failure("did not accept connections within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn failure(&self, what: &str) -> TestingError {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        TestingError::Broker {
            port: self.port,
            message: format!(
                "{what}; last lines of {}:\n{}",
                self.log_path.display(),
                tail.join("\n")
            ),
        }
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A broker for a test: the shared one from `PUSHWATCH_TEST_KAFKA`, or one of its own.
#[derive(Debug)]
pub enum TestKafka {
    /// The broker named by the environment.
    Shared(String),
    /// A broker started for this test.
    Own(TansuBroker),
}

impl TestKafka {
    /// Uses `PUSHWATCH_TEST_KAFKA` when set, else starts a broker.
    pub fn get() -> Result<TestKafka, TestingError> {
        match std::env::var(TEST_KAFKA_ENV) {
            Ok(bootstrap) if !bootstrap.trim().is_empty() => Ok(TestKafka::Shared(bootstrap)),
            _ => TansuBroker::start().map(TestKafka::Own),
        }
    }

    /// Returns the `HOST:PORT` bootstrap address.
    pub fn bootstrap(&self) -> String {
        match self {
            TestKafka::Shared(bootstrap) => bootstrap.clone(),
            TestKafka::Own(broker) => broker.bootstrap(),
        }
    }
}

/// Returns a topic name that no other test uses: `prefix`, the process id and a counter.
pub fn unique_topic(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates `topic` with `partitions` partitions through the admin API and waits for the
/// result.
pub fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<(), TestingError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(|source| TestingError::Kafka {
            action: "creating the admin client".to_string(),
            source,
        })?;
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = futures_executor::block_on(admin.create_topics([&new_topic], &options)).map_err(
        |source| TestingError::Kafka {
            action: format!("creating topic {topic}"),
            source,
        },
    )?;
    for result in results {
        if let Err((name, code)) = result {
            return Err(TestingError::Kafka {
                action: format!("creating topic {name}"),
                source: rdkafka::error::KafkaError::AdminOp(code),
            });
        }
    }
    Ok(())
}

/// One record read back from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Key, if any.
    pub key: Option<Vec<u8>>,
    /// Value, if any.
    pub payload: Option<Vec<u8>>,
    /// Headers in order, with the value lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// Timestamp in milliseconds since the epoch, if the record has one.
    pub timestamp_ms: Option<i64>,
}

impl ConsumedRecord {
    /// Returns the value of the first header named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads `topic` from the beginning with a fresh consumer group until `expected` records
/// arrived, then for another `settle` to catch extra ones (duplicates), or fails after
/// `timeout`.
pub fn consume(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
    settle: Duration,
) -> Result<Vec<ConsumedRecord>, TestingError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_topic("pushwatch-test-group"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|source| TestingError::Kafka {
            action: "creating the consumer".to_string(),
            source,
        })?;
    consumer
        .subscribe(&[topic])
        .map_err(|source| TestingError::Kafka {
            action: format!("subscribing to {topic}"),
            source,
        })?;
    let mut records = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut settle_deadline = None;
    loop {
        let now = Instant::now();
        let until = settle_deadline.unwrap_or(deadline);
        if now >= until {
            break;
        }
        let Some(message) = consumer.poll((until - now).min(Duration::from_millis(200))) else {
            continue;
        };
        // Errors while the group forms (e.g. the coordinator is loading) are transient here.
        let Ok(message) = message else {
            continue;
        };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        let value = header
                            .value
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        (header.key.to_string(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push(ConsumedRecord {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
            timestamp_ms: message.timestamp().to_millis(),
        });
        if records.len() >= expected && settle_deadline.is_none() {
            settle_deadline = Some(Instant::now() + settle);
        }
    }
    if records.len() < expected {
        return Err(TestingError::Timeout {
            topic: topic.to_string(),
            expected,
            got: records.len(),
            timeout,
        });
    }
    Ok(records)
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
