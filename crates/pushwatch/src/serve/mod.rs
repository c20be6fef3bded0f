//! `pushwatch run`: the long-running SIEM stage.
//!
//! Sources (UDP and TCP listeners, the Kafka consumer) run as tokio tasks and send frames over
//! bounded channels to one engine thread. That thread owns the parser, the window engine and
//! the sinks, so nothing in the engine is shared or locked. On SIGTERM or SIGINT the sources stop,
//! the engine drains what they queued, flushes the sinks, saves its state and the process
//! exits with status 0.

pub mod frames;
pub mod http;
pub mod kafka;
pub mod metrics;
pub mod tcp;
pub mod udp;

mod engine;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::config::Config;

/// Options of `pushwatch run` that are not in the configuration file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// File to write the bound addresses to, as JSON, once every listener is bound.
    pub ready_file: Option<PathBuf>,
}

/// The addresses the process listens on, written to the ready file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BoundAddresses {
    /// Process id.
    pub pid: u32,
    /// UDP syslog addresses.
    pub udp: Vec<SocketAddr>,
    /// TCP syslog addresses.
    pub tcp: Vec<SocketAddr>,
    /// Metrics endpoint, when on.
    pub metrics: Option<SocketAddr>,
}

/// Runs until SIGTERM or SIGINT.
pub fn run(config: Config, options: Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pushwatch-io")
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(run_async(config, options))
}

async fn run_async(config: Config, options: Options) -> anyhow::Result<()> {
    let sources = &config.sources;
    if sources.udp.listen.is_empty()
        && sources.tcp.listen.is_empty()
        && sources.kafka.topic.is_empty()
    {
        anyhow::bail!(
            "no source is configured: set sources.udp.listen, sources.tcp.listen or \
             sources.kafka.topic"
        );
    }
    // A state or output path that can never be written fails the start before any port is
    // bound.
    config.check_paths()?;
    let handle = metrics::install()?;
    let (stop_sender, stop) = watch::channel(false);
    // Bind everything before starting anything, so that a taken port fails the start.
    let Listeners {
        udp: udp_sockets,
        tcp: tcp_listeners,
        metrics: metrics_listener,
        bound,
    } = bind_listeners(&config).await?;

    let consumer = if sources.kafka.topic.is_empty() {
        None
    } else {
        Some(kafka::subscribe(&config)?)
    };

    let (udp_sender, udp_queue) = mpsc::channel(sources.udp.queue_frames);
    let (tcp_sender, tcp_queue) = mpsc::channel(sources.tcp.queue_batches);
    let (kafka_sender, kafka_queue) = mpsc::channel(sources.kafka.queue_records);
    let (processed_sender, processed) = mpsc::unbounded_channel();
    let queues = engine::Queues {
        udp: udp_queue,
        tcp: tcp_queue,
        kafka: kafka_queue,
        processed: processed_sender,
    };
    let engine = engine::start(&config, queues)?;
    let progress = engine.progress();
    // The engine thread reports its end, so that a broken sink stops the process too.
    let (engine_exit_sender, engine_exit) = oneshot::channel();
    let engine_result = tokio::task::spawn_blocking(move || {
        let result = engine.join();
        let _ = engine_exit_sender.send(());
        result
    });

    let mut tasks = JoinSet::new();
    for socket in udp_sockets {
        let max = sources.udp.max_frame_bytes;
        tasks.spawn(udp::serve(socket, max, udp_sender.clone(), stop.clone()));
    }
    for listener in tcp_listeners {
        let tcp_config = sources.tcp.clone();
        tasks.spawn(tcp::serve(
            listener,
            tcp_config,
            tcp_sender.clone(),
            stop.clone(),
        ));
    }
    drop(udp_sender);
    drop(tcp_sender);
    let (engine_done_sender, engine_done) = oneshot::channel();
    let kafka_task = match consumer {
        Some(consumer) => Some(tokio::spawn(kafka::serve(
            consumer,
            sources.kafka.topic.clone(),
            kafka_sender,
            processed,
            progress,
            stop.clone(),
            engine_done,
        ))),
        None => {
            drop(kafka_sender);
            None
        }
    };
    let metrics_task =
        metrics_listener.map(|listener| tokio::spawn(http::serve(listener, handle, stop.clone())));

    if let Some(path) = &options.ready_file {
        write_ready_file(path, &bound)?;
    }
    let metrics_address = bound
        .metrics
        .map_or_else(|| "off".to_string(), |address| address.to_string());
    info!(udp = ?bound.udp, tcp = ?bound.tcp, metrics = %metrics_address, "pushwatch run started");

    tokio::select! {
        signal = wait_for_signal() => {
            info!(signal = signal?, "shutting down: stopping the sources");
        }
        _ = engine_exit => warn!("the engine stopped; shutting down"),
    }
    let _ = stop_sender.send(true);
    while tasks.join_next().await.is_some() {}
    info!("sources stopped; waiting for the engine to drain and flush");
    let summary = engine_result
        .await
        .context("the engine thread could not be joined")?;
    let _ = engine_done_sender.send(());
    if let Some(task) = kafka_task {
        let _ = task.await;
    }
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    let summary = summary?;
    info!(
        lines = summary.lines,
        attempts = summary.attempts.values().sum::<u64>(),
        findings_opened = summary.findings_opened,
        "pushwatch run stopped"
    );
    Ok(())
}

/// The bound sockets of `pushwatch run`, not yet serving.
struct Listeners {
    udp: Vec<tokio::net::UdpSocket>,
    tcp: Vec<tokio::net::TcpListener>,
    metrics: Option<tokio::net::TcpListener>,
    bound: BoundAddresses,
}

/// Binds every configured listener and records the bound addresses.
async fn bind_listeners(config: &Config) -> anyhow::Result<Listeners> {
    let sources = &config.sources;
    let mut bound = BoundAddresses {
        pid: std::process::id(),
        ..BoundAddresses::default()
    };
    let mut udp_sockets = Vec::new();
    for address in &sources.udp.listen {
        let (socket, address) = udp::bind(address.0, &sources.udp)?;
        bound.udp.push(address);
        udp_sockets.push(socket);
    }
    let mut tcp_listeners = Vec::new();
    for address in &sources.tcp.listen {
        let (listener, address) = tcp::bind(address.0).await?;
        bound.tcp.push(address);
        tcp_listeners.push(listener);
    }
    let metrics_listener = match &config.metrics.listen {
        Some(address) => {
            let (listener, address) = http::bind(address.0).await?;
            bound.metrics = Some(address);
            Some(listener)
        }
        None => None,
    };
    Ok(Listeners {
        udp: udp_sockets,
        tcp: tcp_listeners,
        metrics: metrics_listener,
        bound,
    })
}

/// Waits for SIGTERM or SIGINT and returns its name.
async fn wait_for_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

/// Writes the bound addresses as JSON, through a temporary file and a rename so that a reader
/// never sees half a file.
fn write_ready_file(path: &std::path::Path, bound: &BoundAddresses) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(bound)?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).with_context(|| {
        format!(
            "cannot write the ready file {} (through {})",
            path.display(),
            temporary.display()
        )
    })?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write the ready file {}", path.display()))?;
    Ok(())
}
