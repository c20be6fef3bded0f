//! The engine thread of `pushwatch run`: one task on its own single-threaded runtime owns the
//! pipeline, takes batches from the source queues, ticks once a second in processing time,
//! saves the state periodically and flushes everything when the queues close.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pushwatch_sink::DeliveryProgress;
use tokio::sync::mpsc;
use tracing::info;

use super::frames::{now_nanos, Batch, Origin};
use super::kafka::Processed;
use super::metrics as names;
use crate::config::Config;
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::summary::Summary;

/// The receiving ends of the source queues, and where processed Kafka records are reported.
#[derive(Debug)]
pub struct Queues {
    /// UDP datagrams.
    pub udp: mpsc::Receiver<Batch>,
    /// Frames of TCP reads.
    pub tcp: mpsc::Receiver<Batch>,
    /// Records of the Kafka source.
    pub kafka: mpsc::Receiver<Batch>,
    /// Receives each processed Kafka record with the sink sequence number it waits for.
    pub processed: mpsc::UnboundedSender<Processed>,
}

/// A running engine thread.
#[derive(Debug)]
pub struct EngineThread {
    handle: JoinHandle<anyhow::Result<Summary>>,
    progress: DeliveryProgress,
}

impl EngineThread {
    /// Returns the delivery progress of the sinks, for committing Kafka offsets.
    pub fn progress(&self) -> DeliveryProgress {
        self.progress.clone()
    }

    /// Waits until the queues are closed and drained and the pipeline is flushed; returns the
    /// counters of the run.
    pub fn join(self) -> anyhow::Result<Summary> {
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?
    }
}

/// Builds the pipeline on the calling thread, so that configuration, inventory, state and sink
/// problems fail the start, and moves it to a new engine thread.
pub fn start(config: &Config, queues: Queues) -> anyhow::Result<EngineThread> {
    let options = PipelineOptions {
        metrics: true,
        report: false,
    };
    let pipeline = Pipeline::new(config, options)?;
    let progress = pipeline.progress();
    let save_interval = Duration::from_secs(config.state.save_interval_secs);
    let handle = std::thread::Builder::new()
        .name("pushwatch-engine".to_string())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .context("cannot start the engine runtime")?;
            runtime.block_on(run_loop(pipeline, queues, save_interval))
        })
        .context("cannot start the engine thread")?;
    Ok(EngineThread { handle, progress })
}

async fn run_loop(
    mut pipeline: Pipeline,
    mut queues: Queues,
    save_interval: Duration,
) -> anyhow::Result<Summary> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_save = Instant::now();
    let (mut udp_open, mut tcp_open, mut kafka_open) = (true, true, true);
    let result = loop {
        if !(udp_open || tcp_open || kafka_open) {
            break Ok(());
        }
        let step = tokio::select! {
            batch = queues.udp.recv(), if udp_open => match batch {
                Some(batch) => process(&mut pipeline, &batch, &queues.processed),
                None => { udp_open = false; Ok(()) }
            },
            batch = queues.tcp.recv(), if tcp_open => match batch {
                Some(batch) => process(&mut pipeline, &batch, &queues.processed),
                None => { tcp_open = false; Ok(()) }
            },
            batch = queues.kafka.recv(), if kafka_open => match batch {
                Some(batch) => process(&mut pipeline, &batch, &queues.processed),
                None => { kafka_open = false; Ok(()) }
            },
            _ = tick.tick() => {
                let depth = queues.udp.len() + queues.tcp.len() + queues.kafka.len();
                metrics::gauge!(names::QUEUE_DEPTH).set(depth as f64);
                if last_save.elapsed() >= save_interval {
                    pipeline.save_state();
                    last_save = Instant::now();
                }
                pipeline.tick(now_nanos())
            }
        };
        if let Err(error) = step {
            break Err(error);
        }
    };
    info!("source queues closed and drained; saving the state and closing the sinks");
    let closed = pipeline.close();
    result.and(closed)?;
    Ok(pipeline.summary())
}

fn process(
    pipeline: &mut Pipeline,
    batch: &Batch,
    processed: &mpsc::UnboundedSender<Processed>,
) -> anyhow::Result<()> {
    let source = batch.origin.label();
    metrics::counter!(names::LINES, "source" => source).increment(batch.len() as u64);
    metrics::counter!(names::BYTES, "source" => source).increment(batch.bytes() as u64);
    for (frame, truncated) in batch.frames() {
        pipeline.process(frame, truncated, batch.received_nanos)?;
    }
    if let Origin::Kafka { partition, offset } = batch.origin {
        // The Kafka task may have stopped at shutdown; its last commit then skips this record,
        // which is read again after a restart.
        let _ = processed.send(Processed {
            partition,
            offset,
            seq: pipeline.last_seq(),
        });
    }
    Ok(())
}
