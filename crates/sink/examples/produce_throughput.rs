//! Measures how many small records per second the Kafka sink gets acknowledged by a local
//! broker: `PUSHWATCH_TEST_KAFKA` if set, else a Tansu broker started for the run, or with
//! `mock` librdkafka's in-process mock cluster, which shows the cost of the sink and librdkafka
//! without a broker process.
//!
//! ```sh
//! cargo run --release -p pushwatch-sink --features testing --example produce_throughput -- 200000 5
//! cargo run --release -p pushwatch-sink --features testing --example produce_throughput -- 200000 5 mock
//! ```
//!
//! Arguments: records per run (default 200000), runs (default 5) and optionally `mock`. Each
//! run uses a new topic and prints its rate; the last line is the median.

use std::time::{Duration, Instant};

use chrono::Utc;
use pushwatch_sink::testing::{create_topic, unique_topic, TestKafka};
use pushwatch_sink::{KafkaSink, KafkaSinkConfig, OutRecord, Sink, Stream};
use rdkafka::mocking::MockCluster;

/// The broker the records go to.
enum Broker {
    Mock(MockCluster<'static, rdkafka::producer::DefaultProducerContext>),
    Real(TestKafka),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let records: usize = args.next().map_or(Ok(200_000), |text| text.parse())?;
    let runs: usize = args.next().map_or(Ok(5), |text| text.parse())?;
    let broker = if args.next().as_deref() == Some("mock") {
        Broker::Mock(MockCluster::new(1)?)
    } else {
        Broker::Real(TestKafka::get()?)
    };
    let bootstrap = match &broker {
        Broker::Mock(mock) => mock.bootstrap_servers(),
        Broker::Real(kafka) => kafka.bootstrap(),
    };
    let payload =
        br#"{"class_uid":2004,"finding_info":{"uid":"push_silence|site:paris"},"severity_id":3}"#;
    println!(
        "broker {bootstrap}: {runs} runs of {records} records of {} payload bytes",
        payload.len()
    );

    let mut rates = Vec::with_capacity(runs);
    for run in 1..=runs {
        let topic = unique_topic("pushwatch-throughput");
        match &broker {
            Broker::Mock(mock) => mock.create_topic(&topic, 3, 1)?,
            Broker::Real(_) => create_topic(&bootstrap, &topic, 3)?,
        }
        let mut config = KafkaSinkConfig::new(&bootstrap, &topic);
        config.queue_capacity = 100_000;
        let mut sink = KafkaSink::new(config)?;
        let progress = sink.progress();
        let time = Utc::now();
        let started = Instant::now();
        let mut last = 0;
        for index in 0..records {
            last = sink.send(OutRecord {
                stream: Stream::Findings,
                key: format!("push_silence|site:{}", index % 16),
                id: format!("throughput-{run}-{index}"),
                time,
                ce_type: "io.pushwatch.finding.updated".to_string(),
                payload: payload.to_vec(),
            })?;
        }
        if !progress.wait_settled(last, Duration::from_secs(600)) {
            return Err(format!("run {run}: not all records acknowledged within 600 s").into());
        }
        let elapsed = started.elapsed();
        sink.close(Duration::from_secs(10))?;
        let rate = records as f64 / elapsed.as_secs_f64();
        println!("run {run}: {rate:.0} records/s ({elapsed:.2?})");
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median: {:.0} records/s", rates[rates.len() / 2]);
    Ok(())
}
