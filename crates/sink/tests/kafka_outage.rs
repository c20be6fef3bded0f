//! Stops the broker while records are produced and starts it again: every record that was not
//! acknowledged before the stop arrives afterwards, and none is counted as delivered while the
//! broker is down.
//!
//! Tansu's memory storage loses its topics and records when it stops, so the test recreates the
//! topic after the restart and can only read back what was delivered after it. Records the
//! broker acknowledged before the stop are gone with its storage; the test checks those through
//! the sink's progress instead.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use pushwatch_sink::testing::{consume, create_topic, unique_topic, TansuBroker};
use pushwatch_sink::{KafkaSink, KafkaSinkConfig, OutRecord, Sink, Stream};

fn finding(index: usize) -> OutRecord {
    OutRecord {
        stream: Stream::Findings,
        key: format!("push_silence|site:{}", index % 4),
        id: format!("outage-{index}"),
        time: Utc.timestamp_opt(1_700_000_000 + index as i64, 0).unwrap(),
        ce_type: "io.pushwatch.finding.updated".to_string(),
        payload: format!(r#"{{"index":{index}}}"#).into_bytes(),
    }
}

#[test]
fn outage_loses_no_record() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut broker = TansuBroker::start().expect("a Tansu broker of this test's own");
    let bootstrap = broker.bootstrap();
    let topic = unique_topic("pushwatch-outage");
    create_topic(&bootstrap, &topic, 2).expect("topic creation");
    let dir = tempfile::tempdir().expect("temporary directory");

    let mut config = KafkaSinkConfig::new(&bootstrap, &topic);
    config.queue_capacity = 20;
    config.spool_path = Some(dir.path().join("findings.spool"));
    config.message_timeout = Duration::from_secs(2);
    config.retry_backoff = Duration::from_millis(200);
    config.retry_backoff_max = Duration::from_secs(1);
    if let Ok(debug) = std::env::var("PUSHWATCH_TEST_RDKAFKA_DEBUG") {
        config.options.insert("debug".to_string(), debug);
    }
    let mut sink = KafkaSink::new(config).expect("Kafka sink");
    let progress = sink.progress();
    let stats = sink.stats()[0].1.clone();

    // Phase 1: the broker is up; the first records are acknowledged.
    for index in 0..30 {
        sink.send(finding(index)).expect("send");
    }
    assert!(progress.wait_settled(30, Duration::from_secs(30)));

    // Phase 2: stop the broker right after a burst, so records are in flight when it goes.
    for index in 30..60 {
        sink.send(finding(index)).expect("send");
    }
    broker.stop();
    std::thread::sleep(Duration::from_millis(500));
    let settled_at_stop = progress.settled_through();
    for index in 60..200 {
        sink.send(finding(index)).expect("send");
    }
    // Wait until the in-flight records have timed out (message_timeout is 2 s), so that the
    // failures are counted and requeued.
    let deadline = Instant::now() + Duration::from_secs(15);
    while stats.snapshot().delivery_errors.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let during = stats.snapshot();
    assert!(
        during.spooled > 0,
        "records beyond the memory queue go to the spool"
    );
    assert!(during.spool_records > 0);
    assert_eq!(during.dropped, 0);
    assert!(
        !during.delivery_errors.is_empty(),
        "the failed deliveries are counted"
    );
    assert_eq!(
        progress.settled_through(),
        settled_at_stop,
        "nothing is settled while the broker is down"
    );

    // Phase 3: the broker returns on the same port, with an empty storage.
    broker.restart().expect("broker restart");
    create_topic(&bootstrap, &topic, 2).expect("topic creation after restart");
    assert!(
        progress.wait_settled(200, Duration::from_secs(90)),
        "only {} of 200 records settled after the restart: {:?}",
        progress.settled_through(),
        stats.snapshot()
    );
    sink.close(Duration::from_secs(10)).expect("close");
    let after = stats.snapshot();
    assert_eq!(after.dropped, 0);
    assert_eq!(after.rejected, 0);
    assert_eq!(
        after.spool_records, 0,
        "the spool is empty once all is acknowledged"
    );

    let expected: BTreeSet<String> = (settled_at_stop as usize..200)
        .map(|index| format!("outage-{index}"))
        .collect();
    let records = consume(
        &bootstrap,
        &topic,
        expected.len(),
        Duration::from_secs(60),
        Duration::from_millis(500),
    )
    .expect("records read back");
    let got: BTreeSet<String> = records
        .iter()
        .filter_map(|record| record.header("ce_id").map(str::to_string))
        .collect();
    let missing: Vec<&String> = expected.difference(&got).collect();
    assert!(missing.is_empty(), "lost records: {missing:?}");

    // Per key, the records arrive in the order they were sent.
    let mut last_index_by_key = std::collections::BTreeMap::new();
    let mut by_position = records.clone();
    by_position.sort_by_key(|record| (record.partition, record.offset));
    for record in &by_position {
        let index: usize = record
            .header("ce_id")
            .and_then(|id| id.strip_prefix("outage-"))
            .and_then(|number| number.parse().ok())
            .expect("numbered ce_id");
        let previous = last_index_by_key.insert(record.key.clone(), index);
        if let Some(previous) = previous {
            assert!(
                previous < index || records.len() > expected.len(),
                "key {:?}: record {index} after {previous}",
                record.key
            );
        }
    }
}
