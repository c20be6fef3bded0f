//! Publishes records to a real Kafka-protocol broker (Tansu) and reads them back.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use pushwatch_sink::testing::{consume, create_topic, unique_topic, TestKafka};
use pushwatch_sink::{Compression, KafkaSink, KafkaSinkConfig, OutRecord, Sink, Stream};

fn finding(index: usize) -> OutRecord {
    let detector = if index % 2 == 0 {
        "push_silence"
    } else {
        "totp_surge"
    };
    OutRecord {
        stream: Stream::Findings,
        key: format!("{detector}|site:paris-{}", index % 3),
        id: format!("finding-{index}"),
        time: Utc.timestamp_opt(1_700_000_000 + index as i64, 0).unwrap(),
        ce_type: "io.pushwatch.finding.opened".to_string(),
        payload: format!(r#"{{"index":{index},"detector":"{detector}"}}"#).into_bytes(),
    }
}

fn config(bootstrap: &str, topic: &str) -> KafkaSinkConfig {
    let mut config = KafkaSinkConfig::new(bootstrap, topic);
    config.ce_source = "/pushwatch/test".to_string();
    config.message_timeout = Duration::from_secs(5);
    config
}

#[test]
fn roundtrip_keys_headers_bodies() {
    let kafka = TestKafka::get().expect("a Kafka-protocol broker for the test");
    let bootstrap = kafka.bootstrap();
    let topic = unique_topic("pushwatch-roundtrip");
    create_topic(&bootstrap, &topic, 3).expect("topic creation");

    let mut sink = KafkaSink::new(config(&bootstrap, &topic)).expect("Kafka sink");
    let progress = sink.progress();
    let count = 50;
    let mut last = 0;
    for index in 0..count {
        last = sink.send(finding(index)).expect("send");
    }
    assert_eq!(last, count as u64);
    assert!(
        progress.wait_settled(last, Duration::from_secs(30)),
        "only {} of {count} records were acknowledged",
        progress.settled_through()
    );
    sink.close(Duration::from_secs(5)).expect("close");
    let stats = sink.stats()[0].1.snapshot();
    assert_eq!(stats.delivered, count as u64);
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.queue_depth, 0);

    let records = consume(
        &bootstrap,
        &topic,
        count,
        Duration::from_secs(30),
        Duration::from_millis(500),
    )
    .expect("records read back");
    assert_eq!(records.len(), count, "duplicates arrived");
    let ids: BTreeSet<&str> = records.iter().filter_map(|r| r.header("ce_id")).collect();
    assert_eq!(ids.len(), count);
    for record in &records {
        let id = record.header("ce_id").expect("ce_id header");
        let index: usize = id
            .trim_start_matches("finding-")
            .parse()
            .expect("numbered id");
        let expected = finding(index);
        assert_eq!(
            record.key.as_deref(),
            Some(expected.key.as_bytes()),
            "key of {id}"
        );
        assert_eq!(
            record.payload.as_deref(),
            Some(&expected.payload[..]),
            "body of {id}"
        );
        let body: serde_json::Value =
            serde_json::from_slice(record.payload.as_deref().unwrap_or_default()).expect("JSON");
        assert_eq!(body["index"], index);
        assert_eq!(record.header("ce_specversion"), Some("1.0"));
        assert_eq!(record.header("ce_source"), Some("/pushwatch/test"));
        assert_eq!(
            record.header("ce_type"),
            Some("io.pushwatch.finding.opened")
        );
        assert_eq!(record.header("content-type"), Some("application/json"));
        let time = Utc.timestamp_opt(1_700_000_000 + index as i64, 0).unwrap();
        let expected_time = time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        assert_eq!(record.header("ce_time"), Some(expected_time.as_str()));
        assert_eq!(record.timestamp_ms, Some(time.timestamp_millis()));
    }
    // One finding's history stays on one partition: equal keys, equal partitions.
    for first in &records {
        for second in &records {
            if first.key == second.key {
                assert_eq!(first.partition, second.partition, "key {:?}", first.key);
            }
        }
    }
}

#[test]
fn streams_go_to_their_topics() {
    let kafka = TestKafka::get().expect("a Kafka-protocol broker for the test");
    let bootstrap = kafka.bootstrap();
    let findings = unique_topic("pushwatch-findings");
    let windows = unique_topic("pushwatch-windows");
    create_topic(&bootstrap, &findings, 1).expect("topic creation");
    create_topic(&bootstrap, &windows, 1).expect("topic creation");

    let mut config = config(&bootstrap, &findings);
    config.topics.windows = Some(windows.clone());
    config.compression = Compression::Zstd;
    let mut sink = KafkaSink::new(config).expect("Kafka sink");
    let progress = sink.progress();
    sink.send(finding(1)).expect("send");
    let mut window = finding(2);
    window.stream = Stream::Windows;
    window.id = "window-2".to_string();
    sink.send(window).expect("send");
    let mut attempt = finding(3);
    attempt.stream = Stream::Attempts;
    attempt.id = "attempt-3".to_string();
    let last = sink.send(attempt).expect("send");
    assert!(progress.wait_settled(last, Duration::from_secs(30)));
    sink.close(Duration::from_secs(5)).expect("close");
    let stats = sink.stats()[0].1.snapshot();
    assert_eq!(stats.delivered, 2);
    assert_eq!(stats.skipped, 1, "the attempts stream has no topic");

    let timeout = Duration::from_secs(30);
    let settle = Duration::from_millis(300);
    let got = consume(&bootstrap, &findings, 1, timeout, settle).expect("findings");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("ce_id"), Some("finding-1"));
    let got = consume(&bootstrap, &windows, 1, timeout, settle).expect("windows");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("ce_id"), Some("window-2"));
}
