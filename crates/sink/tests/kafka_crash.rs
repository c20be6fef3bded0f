//! Kills a producing process with SIGKILL while records wait in its spool file, then checks
//! that the next start sends them.
//!
//! The test re-executes its own test binary with `--ignored --exact crash_child_process` and
//! environment variables that select the child role. The child produces to a port where no
//! broker listens, so its records pile up in memory and then in the spool.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use pushwatch_sink::testing::{consume, create_topic, unique_topic, TestKafka};
use pushwatch_sink::{KafkaSink, KafkaSinkConfig, OutRecord, Sink, Stream};

const CHILD_DIR_ENV: &str = "PUSHWATCH_CRASH_CHILD_DIR";
const CHILD_BROKERS_ENV: &str = "PUSHWATCH_CRASH_CHILD_BROKERS";
const CHILD_TOPIC_ENV: &str = "PUSHWATCH_CRASH_CHILD_TOPIC";
/// Records the child sends; the first `CHILD_QUEUE` of them stay in its memory.
const CHILD_RECORDS: usize = 40;
const CHILD_QUEUE: usize = 5;

fn finding(index: usize) -> OutRecord {
    OutRecord {
        stream: Stream::Findings,
        key: "push_silence|global".to_string(),
        id: format!("crash-{index}"),
        time: Utc.timestamp_opt(1_700_000_000 + index as i64, 0).unwrap(),
        ce_type: "io.pushwatch.finding.opened".to_string(),
        payload: format!(r#"{{"index":{index}}}"#).into_bytes(),
    }
}

fn sink_config(brokers: &str, topic: &str, dir: &Path) -> KafkaSinkConfig {
    let mut config = KafkaSinkConfig::new(brokers, topic);
    config.queue_capacity = CHILD_QUEUE;
    config.spool_path = Some(dir.join("findings.spool"));
    config.message_timeout = Duration::from_secs(60);
    config
}

/// The child role: sends records to a dead port until the spool contains all that do not fit in
/// memory, writes a `ready` file and waits to be killed.
#[test]
#[ignore = "child process of crash_spool_sent_after_restart"]
fn crash_child_process() {
    // Run directly (e.g. with --include-ignored), the role has no parent and nothing to do.
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let brokers = std::env::var(CHILD_BROKERS_ENV).expect("the crash test sets the brokers");
    let topic = std::env::var(CHILD_TOPIC_ENV).expect("the crash test sets the topic");
    let dir = Path::new(&dir);
    let mut sink = KafkaSink::new(sink_config(&brokers, &topic, dir)).expect("Kafka sink");
    for index in 0..CHILD_RECORDS {
        sink.send(finding(index)).expect("send");
    }
    let stats = sink.stats()[0].1.clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats.snapshot().spooled < (CHILD_RECORDS - CHILD_QUEUE) as u64 {
        assert!(
            Instant::now() < deadline,
            "spooling timed out: {:?}",
            stats.snapshot()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(dir.join("ready"), b"").expect("ready file");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn crash_spool_sent_after_restart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let topic = unique_topic("pushwatch-crash");
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();

    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args(["--ignored", "--exact", "crash_child_process", "--nocapture"])
        .env(CHILD_DIR_ENV, dir.path())
        .env(CHILD_BROKERS_ENV, format!("127.0.0.1:{dead_port}"))
        .env(CHILD_TOPIC_ENV, &topic)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child process");
    let ready = dir.path().join("ready");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if let Some(status) = child.try_wait().expect("child status") {
            panic!("the child exited with {status} before it was ready");
        }
        assert!(
            Instant::now() < deadline,
            "the child was not ready within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL: no destructor runs, so the records in the child's memory are lost and the
    // spool file is all that is left.
    child.kill().expect("SIGKILL to the child");
    child.wait().expect("child exit");

    // A torn half-written frame at the end, as a crash during a write leaves it.
    let spool_path = dir.path().join("findings.spool");
    let mut bytes = std::fs::read(&spool_path).expect("spool file");
    bytes.extend_from_slice(b"PW\x40\x00\x00\x00\x01\x02");
    std::fs::write(&spool_path, &bytes).expect("torn tail");

    let kafka = TestKafka::get().expect("a Kafka-protocol broker for the test");
    let bootstrap = kafka.bootstrap();
    create_topic(&bootstrap, &topic, 1).expect("topic creation");
    let mut config = sink_config(&bootstrap, &topic, dir.path());
    config.message_timeout = Duration::from_secs(10);
    let mut sink = KafkaSink::new(config).expect("Kafka sink after the crash");
    let spooled = CHILD_RECORDS - CHILD_QUEUE;
    assert_eq!(sink.spooled_at_start(), spooled as u64);
    let stats = sink.stats()[0].1.clone();
    assert_eq!(
        stats.snapshot().spool_damaged_regions,
        1,
        "the torn tail is counted"
    );

    // Records of this run come after the spooled ones, so once this one is settled, all are.
    let seq = sink.send(finding(1000)).expect("send");
    assert_eq!(seq, 1, "spooled records are not numbered for this run");
    assert!(
        sink.progress().wait_settled(seq, Duration::from_secs(60)),
        "not delivered: {:?}",
        stats.snapshot()
    );
    sink.close(Duration::from_secs(10)).expect("close");
    assert_eq!(stats.snapshot().delivered, spooled as u64 + 1);
    let spool_len = std::fs::metadata(&spool_path).expect("spool file").len();
    assert_eq!(
        spool_len, 16,
        "only the header is left once all is acknowledged"
    );

    let records = consume(
        &bootstrap,
        &topic,
        spooled + 1,
        Duration::from_secs(30),
        Duration::from_millis(500),
    )
    .expect("records read back");
    let ids: Vec<&str> = records.iter().filter_map(|r| r.header("ce_id")).collect();
    let mut expected: Vec<String> = (CHILD_QUEUE..CHILD_RECORDS)
        .map(|index| format!("crash-{index}"))
        .collect();
    expected.push("crash-1000".to_string());
    assert_eq!(
        ids, expected,
        "spooled records arrive once each and in order"
    );
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());
}
