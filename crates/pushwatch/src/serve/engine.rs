//! The engine thread of `pushwatch run`: one task on its own single-threaded runtime owns the
//! pipeline, takes batches from the source queues, ticks once a second in processing time,
//! saves the state periodically and flushes everything when the queues close.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::mpsc;
use tracing::info;

use super::frames::{now_nanos, Batch};
use super::metrics as names;
use crate::config::Config;
use crate::pipeline::Pipeline;
use crate::summary::Summary;

/// The receiving ends of the source queues.
#[derive(Debug)]
pub struct Queues {
    /// UDP datagrams.
    pub udp: mpsc::Receiver<Batch>,
    /// Frames of TCP reads.
    pub tcp: mpsc::Receiver<Batch>,
}

/// A running engine thread.
#[derive(Debug)]
pub struct EngineThread {
    handle: JoinHandle<anyhow::Result<Summary>>,
}

impl EngineThread {
    /// Waits until the queues are closed and drained and the pipeline is flushed; returns the
    /// counters of the run.
    pub fn join(self) -> anyhow::Result<Summary> {
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?
    }
}

/// Builds the pipeline on the calling thread, so that configuration problems fail the start,
/// and moves it to a new engine thread.
pub fn start(config: Config, queues: Queues) -> anyhow::Result<EngineThread> {
    let pipeline = Pipeline::new(config.sources.default_offset_seconds(), true);
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
    Ok(EngineThread { handle })
}

async fn run_loop(
    mut pipeline: Pipeline,
    mut queues: Queues,
    save_interval: Duration,
) -> anyhow::Result<Summary> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_save = Instant::now();
    let mut udp_open = true;
    let mut tcp_open = true;
    while udp_open || tcp_open {
        tokio::select! {
            batch = queues.udp.recv(), if udp_open => match batch {
                Some(batch) => process(&mut pipeline, &batch),
                None => udp_open = false,
            },
            batch = queues.tcp.recv(), if tcp_open => match batch {
                Some(batch) => process(&mut pipeline, &batch),
                None => tcp_open = false,
            },
            _ = tick.tick() => {
                let depth = queues.udp.len() + queues.tcp.len();
                metrics::gauge!(names::QUEUE_DEPTH).set(depth as f64);
                pipeline.tick(now_nanos());
                if last_save.elapsed() >= save_interval {
                    pipeline.save_state();
                    last_save = Instant::now();
                }
            }
        }
    }
    info!("source queues closed and drained; flushing");
    pipeline.finish();
    Ok(pipeline.summary().clone())
}

fn process(pipeline: &mut Pipeline, batch: &Batch) {
    let source = batch.origin.label();
    metrics::counter!(names::LINES, "source" => source).increment(batch.len() as u64);
    metrics::counter!(names::BYTES, "source" => source).increment(batch.bytes() as u64);
    for (frame, truncated) in batch.frames() {
        let _event_time = pipeline.process(frame, truncated, batch.received_nanos);
    }
}
