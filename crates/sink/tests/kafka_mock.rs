//! Broker errors injected with librdkafka's in-process mock cluster: a permanently rejected
//! record, a broker that goes down and comes back, a shutdown during an outage and a full
//! spool file. The mock keeps its storage through an outage, so every record, including those
//! acknowledged before it, can be read back in order.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use pushwatch_sink::testing::consume;
use pushwatch_sink::{KafkaSink, KafkaSinkConfig, OutRecord, Sink, Stream};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

fn finding(index: usize) -> OutRecord {
    OutRecord {
        stream: Stream::Findings,
        key: "push_silence|global".to_string(),
        id: format!("mock-{index}"),
        time: Utc.timestamp_opt(1_700_000_000 + index as i64, 0).unwrap(),
        ce_type: "io.pushwatch.finding.updated".to_string(),
        payload: format!(r#"{{"index":{index}}}"#).into_bytes(),
    }
}

fn config(bootstrap: &str) -> KafkaSinkConfig {
    let mut config = KafkaSinkConfig::new(bootstrap, "findings");
    config.message_timeout = Duration::from_secs(2);
    config.retry_backoff = Duration::from_millis(100);
    config.retry_backoff_max = Duration::from_millis(500);
    config
}

/// Creates a one-broker mock cluster with topic `findings`, and a sink configuration that keeps
/// `queue_capacity` records in memory and spools the rest to a file in the returned directory.
fn spooling_mock(queue_capacity: usize) -> (Mock, tempfile::TempDir, KafkaSinkConfig) {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("findings", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = config(&mock.bootstrap_servers());
    config.queue_capacity = queue_capacity;
    config.spool_path = Some(dir.path().join("findings.spool"));
    (mock, dir, config)
}

type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

#[test]
fn rejected_record_is_settled_not_delivered() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("findings", 1, 1).expect("topic");
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );
    let mut sink = KafkaSink::new(config(&mock.bootstrap_servers())).expect("Kafka sink");
    let progress = sink.progress();
    let stats = sink.stats()[0].1.clone();

    let first = sink.send(finding(0)).expect("send");
    assert!(progress.wait_settled(first, Duration::from_secs(20)));
    let after_first = stats.snapshot();
    assert_eq!(after_first.rejected, 1);
    assert_eq!(after_first.delivered, 0);
    assert_eq!(
        after_first.delivery_errors.get("MessageSizeTooLarge"),
        Some(&1)
    );

    let second = sink.send(finding(1)).expect("send");
    assert!(progress.wait_settled(second, Duration::from_secs(20)));
    sink.close(Duration::from_secs(5)).expect("close");
    let end = stats.snapshot();
    assert_eq!(end.delivered, 1);
    assert_eq!(end.rejected, 1);
}

#[test]
fn broker_down_then_up_keeps_order() {
    let (mock, _dir, config) = spooling_mock(10);
    let bootstrap = mock.bootstrap_servers();
    let mut sink = KafkaSink::new(config).expect("Kafka sink");
    let progress = sink.progress();
    let stats = sink.stats()[0].1.clone();

    for index in 0..20 {
        sink.send(finding(index)).expect("send");
    }
    assert!(progress.wait_settled(20, Duration::from_secs(20)));

    mock.broker_down(1).expect("broker down");
    for index in 20..100 {
        sink.send(finding(index)).expect("send");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while stats.snapshot().delivery_errors.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let during = stats.snapshot();
    assert!(!during.delivery_errors.is_empty(), "{during:?}");
    assert!(during.spooled >= 80 - 10, "{during:?}");
    assert_eq!(progress.settled_through(), 20);

    mock.broker_up(1).expect("broker up");
    assert!(
        progress.wait_settled(100, Duration::from_secs(60)),
        "settled {} of 100: {:?}",
        progress.settled_through(),
        stats.snapshot()
    );
    sink.close(Duration::from_secs(5)).expect("close");

    let records = consume(
        &bootstrap,
        "findings",
        100,
        Duration::from_secs(30),
        Duration::from_millis(500),
    )
    .expect("records read back");
    let mut seen = std::collections::BTreeSet::new();
    let mut order = Vec::new();
    for record in &records {
        let id = record.header("ce_id").expect("ce_id").to_string();
        if seen.insert(id.clone()) {
            order.push(id);
        }
    }
    let expected: Vec<String> = (0..100).map(|index| format!("mock-{index}")).collect();
    assert_eq!(
        order, expected,
        "first arrivals of each record, in partition order"
    );
}

#[test]
fn close_during_outage_spools_everything() {
    let (mock, _dir, config) = spooling_mock(10);
    let bootstrap = mock.bootstrap_servers();

    mock.broker_down(1).expect("broker down");
    let mut sink = KafkaSink::new(config.clone()).expect("Kafka sink");
    for index in 0..30 {
        sink.send(finding(index)).expect("send");
    }
    sink.close(Duration::from_millis(200)).expect("close");
    let closed = sink.stats()[0].1.snapshot();
    assert_eq!(closed.delivered, 0);
    assert_eq!(closed.dropped, 0);
    assert_eq!(closed.spool_records, 30, "{closed:?}");
    drop(sink);

    mock.broker_up(1).expect("broker up");
    let mut sink = KafkaSink::new(config).expect("Kafka sink after the restart");
    assert_eq!(sink.spooled_at_start(), 30);
    let seq = sink.send(finding(30)).expect("send");
    assert!(sink.progress().wait_settled(seq, Duration::from_secs(30)));
    sink.close(Duration::from_secs(5)).expect("close");

    let records = consume(
        &bootstrap,
        "findings",
        31,
        Duration::from_secs(30),
        Duration::from_millis(500),
    )
    .expect("records read back");
    let ids: Vec<&str> = records.iter().filter_map(|r| r.header("ce_id")).collect();
    let expected: Vec<String> = (0..31).map(|index| format!("mock-{index}")).collect();
    assert_eq!(
        ids, expected,
        "memory records first, then the spooled ones, each once"
    );
}

#[test]
fn full_spool_drops_and_counts() {
    let (mock, _dir, mut config) = spooling_mock(5);
    // Room for the header and a few frames of about 150 bytes.
    config.spool_max_bytes = 600;

    mock.broker_down(1).expect("broker down");
    let mut sink = KafkaSink::new(config).expect("Kafka sink");
    let progress = sink.progress();
    let stats = sink.stats()[0].1.clone();
    for index in 0..40 {
        sink.send(finding(index)).expect("send");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.snapshot().dropped == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let during = stats.snapshot();
    assert!(during.dropped > 0, "{during:?}");
    assert!(during.spool_bytes <= 600, "{during:?}");
    assert_eq!(
        progress.settled_through(),
        0,
        "dropped records settle, but not ahead of the waiting ones"
    );

    mock.broker_up(1).expect("broker up");
    assert!(
        progress.wait_settled(40, Duration::from_secs(30)),
        "{:?}",
        stats.snapshot()
    );
    sink.close(Duration::from_secs(5)).expect("close");
    let end = stats.snapshot();
    assert_eq!(end.delivered + end.dropped, 40, "{end:?}");
    assert_eq!(end.delivered, 5 + end.spooled, "{end:?}");
}
