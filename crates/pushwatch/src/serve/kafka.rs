//! The Kafka source: raw log lines from a topic in a consumer group (rdkafka `StreamConsumer`).
//!
//! Offsets are committed only after what their records produced is delivered. For each
//! consumed record the engine reports the sink sequence number of the last output record sent
//! so far. This task commits the offset once the sinks' [`DeliveryProgress`] has settled that
//! number. Records that produced no output commit as soon as the records before them are
//! settled. The guarantee is at-least-once: records consumed but not committed at a crash or
//! a rebalance are read again.
//!
//! NOTE: a committed record's effect on open windows and baselines lives in memory until the
//! next state save (`state.save_interval_secs`). A crash between a commit and that save loses
//! this effect, although every finding sent before the commit is delivered.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use anyhow::Context as _;
use pushwatch_sink::DeliveryProgress;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use super::frames::{now_nanos, Batch, Origin};
use crate::config::Config;
use crate::ratelimit::LogLimiter;

static ERROR_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// How often settled offsets are committed.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// A consumed record, processed by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processed {
    /// Partition of the record.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
    /// Sink sequence number of the last record sent when this one was processed.
    pub seq: u64,
}

/// Creates the consumer and subscribes to the topic.
pub fn subscribe(config: &Config) -> anyhow::Result<StreamConsumer> {
    let mut client = ClientConfig::new();
    for (key, value) in config
        .kafka
        .options
        .iter()
        .chain(&config.sources.kafka.options)
    {
        client.set(key, value);
    }
    client
        .set("bootstrap.servers", &config.kafka.brokers)
        .set("group.id", &config.sources.kafka.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("client.id", "pushwatch-consumer");
    if !config
        .sources
        .kafka
        .options
        .contains_key("auto.offset.reset")
    {
        client.set("auto.offset.reset", "earliest");
    }
    let consumer: StreamConsumer = client
        .create()
        .context("cannot create the Kafka consumer; check kafka.brokers and the options")?;
    consumer
        .subscribe(&[config.sources.kafka.topic.as_str()])
        .with_context(|| {
            format!(
                "cannot subscribe to Kafka topic {}",
                config.sources.kafka.topic
            )
        })?;
    info!(topic = %config.sources.kafka.topic, group = %config.sources.kafka.group_id,
        "consuming raw log lines from Kafka");
    Ok(consumer)
}

/// Consumes until `shutdown` turns true, then keeps committing until `engine_done` fires and
/// makes a last synchronous commit.
pub async fn serve(
    consumer: StreamConsumer,
    topic: String,
    queue: mpsc::Sender<Batch>,
    mut processed: mpsc::UnboundedReceiver<Processed>,
    progress: DeliveryProgress,
    mut shutdown: watch::Receiver<bool>,
    mut engine_done: oneshot::Receiver<()>,
) {
    let mut pending = Pending::default();
    let mut commit_tick = tokio::time::interval(COMMIT_INTERVAL);
    let mut queue = Some(queue);
    loop {
        let step = tokio::select! {
            message = consumer.recv(), if queue.is_some() => match message {
                Ok(message) => Step::Batch(to_batch(&message)),
                Err(error) => {
                    if let Some(suppressed) = ERROR_LOG.check() {
                        warn!(%error, suppressed, "receiving from Kafka failed");
                    }
                    Step::Nothing
                }
            },
            Some(done) = processed.recv() => Step::Processed(done),
            _ = commit_tick.tick() => Step::Commit,
            _ = shutdown.wait_for(|stop| *stop), if queue.is_some() => Step::Stop,
            _ = &mut engine_done => break,
        };
        match step {
            Step::Batch(batch) => {
                // The send waits while the engine queue is full, which pauses consumption.
                let closed = match &queue {
                    Some(sender) => sender.send(batch).await.is_err(),
                    None => false,
                };
                if closed {
                    queue = None;
                }
            }
            Step::Processed(done) => pending.push(done),
            Step::Commit => commit(
                &consumer,
                &topic,
                &mut pending,
                &progress,
                CommitMode::Async,
            ),
            Step::Stop => {
                info!("Kafka source stopped consuming");
                queue = None;
            }
            Step::Nothing => {}
        }
    }
    while let Ok(done) = processed.try_recv() {
        pending.push(done);
    }
    commit(&consumer, &topic, &mut pending, &progress, CommitMode::Sync);
    info!(
        uncommitted = pending.len(),
        "Kafka source finished its last commit"
    );
}

/// Next action of the consume loop.
enum Step {
    Batch(Batch),
    Processed(Processed),
    Commit,
    Stop,
    Nothing,
}

/// Turns one Kafka record into a batch; a record with several lines is split at LF.
fn to_batch<M: Message>(message: &M) -> Batch {
    let origin = Origin::Kafka {
        partition: message.partition(),
        offset: message.offset(),
    };
    let mut batch = Batch::new(origin, now_nanos());
    let payload = message.payload().unwrap_or_default();
    for frame in pushwatch_parser::lines(payload, pushwatch_parser::DEFAULT_MAX_FRAME_LEN) {
        if frame.truncated {
            metrics::counter!(super::metrics::OVERSIZE_FRAMES, "source" => "kafka").increment(1);
        }
        batch.push(frame.bytes, frame.truncated);
    }
    batch
}

/// Processed records per partition, in offset order, not yet committed.
#[derive(Debug, Default)]
struct Pending {
    partitions: BTreeMap<i32, VecDeque<(i64, u64)>>,
}

impl Pending {
    /// Adds a processed record. Records of one partition that wait for the same sequence
    /// number share one entry, so a broker outage that holds back commits for a long time
    /// keeps one entry per output record, not one per input record.
    fn push(&mut self, done: Processed) {
        let records = self.partitions.entry(done.partition).or_default();
        match records.back_mut() {
            Some((offset, seq)) if *seq == done.seq && *offset < done.offset => {
                *offset = done.offset;
            }
            _ => records.push_back((done.offset, done.seq)),
        }
    }

    fn len(&self) -> usize {
        self.partitions.values().map(VecDeque::len).sum()
    }

    /// Removes the records whose output is settled and returns the offset to commit per
    /// partition: one past the last such record.
    fn take_settled(&mut self, settled: u64) -> BTreeMap<i32, i64> {
        let mut commits = BTreeMap::new();
        for (partition, records) in &mut self.partitions {
            while let Some(&(offset, seq)) = records.front() {
                if seq > settled {
                    break;
                }
                commits.insert(*partition, offset + 1);
                records.pop_front();
            }
        }
        commits
    }
}

fn commit(
    consumer: &StreamConsumer,
    topic: &str,
    pending: &mut Pending,
    progress: &DeliveryProgress,
    mode: CommitMode,
) {
    let commits = pending.take_settled(progress.settled_through());
    if commits.is_empty() {
        return;
    }
    let mut list = TopicPartitionList::new();
    for (partition, offset) in &commits {
        if let Err(error) = list.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            warn!(%error, partition, offset, "cannot add an offset to the commit");
        }
    }
    if let Err(error) = consumer.commit(&list, mode) {
        if let Some(suppressed) = ERROR_LOG.check() {
            warn!(
                %error,
                suppressed,
                "committing Kafka offsets failed; they are committed with the next ones"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_keeps_pending_small() {
        let mut pending = Pending::default();
        for offset in 0..100_000 {
            pending.push(Processed {
                partition: 0,
                offset,
                seq: 7,
            });
        }
        assert_eq!(pending.len(), 1);
        assert_eq!(
            pending.take_settled(6).get(&0),
            None,
            "seq 7 is not settled yet"
        );
        assert_eq!(pending.take_settled(7).get(&0), Some(&100_000));
    }

    #[test]
    fn only_settled_offsets_commit() {
        let mut pending = Pending::default();
        for (partition, offset, seq) in [(0, 10, 0), (0, 11, 2), (1, 5, 1), (0, 12, 2), (0, 13, 4)]
        {
            pending.push(Processed {
                partition,
                offset,
                seq,
            });
        }
        let commits = pending.take_settled(1);
        assert_eq!(
            commits.get(&0),
            Some(&11),
            "offset 10 produced nothing and commits"
        );
        assert_eq!(commits.get(&1), Some(&6));
        assert_eq!(
            pending.len(),
            2,
            "offsets 11 and 12 share one entry for seq 2; offset 13 waits for seq 4"
        );
        let commits = pending.take_settled(3);
        assert_eq!(
            commits.get(&0),
            Some(&13),
            "offsets 11 and 12 settle with seq 2"
        );
        assert_eq!(pending.len(), 1);
    }
}
