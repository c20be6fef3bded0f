//! The TCP syslog listener: LF-delimited or RFC 6587 octet-counted frames, detected per
//! connection by the parser's decoder, with limits on connections, frame size and idle time.
//! Every limit hit is counted in the metrics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pushwatch_parser::{FrameDecoder, FramingMode};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::frames::{now_nanos, Batch, Origin};
use super::metrics as names;
use crate::config::TcpSourceConfig;
use crate::ratelimit::LogLimiter;

/// Bytes read from a connection at once.
const READ_CHUNK_BYTES: usize = 64 << 10;

static REJECT_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static CONNECTION_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static OVERSIZE_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Binds a TCP listener. Returns it and the address it is bound to.
pub async fn bind(address: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| anyhow::anyhow!("cannot bind TCP {address}: {error}"))?;
    let bound = listener.local_addr()?;
    info!(address = %bound, "listening for syslog on TCP");
    Ok((listener, bound))
}

/// Accepts connections until `shutdown` turns true, then waits for the open connections to
/// finish their last complete frames.
pub async fn serve(
    listener: TcpListener,
    config: TcpSourceConfig,
    queue: mpsc::Sender<Batch>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let config = Arc::new(config);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Running out of file descriptors shows here; back off briefly so the loop
                // does not spin.
                if let Some(suppressed) = CONNECTION_LOG.check() {
                    warn!(%error, suppressed, "accepting a TCP connection failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            metrics::counter!(names::TCP_REJECTED).increment(1);
            if let Some(suppressed) = REJECT_LOG.check() {
                warn!(%peer, limit = config.max_connections, suppressed,
                    "TCP connection limit reached; closing the new connection");
            }
            drop(stream);
            continue;
        };
        connections.spawn(connection(
            stream,
            peer,
            permit,
            Arc::clone(&config),
            queue.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    info!("TCP listener stopped");
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
    config: Arc<TcpSourceConfig>,
    queue: mpsc::Sender<Batch>,
    mut shutdown: watch::Receiver<bool>,
) {
    metrics::gauge!(names::TCP_OPEN).increment(1.0);
    debug!(%peer, "TCP connection opened");
    let idle = Duration::from_secs(config.idle_timeout_secs);
    let mut decoder = FrameDecoder::new(FramingMode::Auto, config.max_frame_bytes);
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    let mut resynced = 0;
    let reason = loop {
        let read = tokio::select! {
            read = tokio::time::timeout(idle, stream.read(&mut chunk)) => read,
            _ = shutdown.wait_for(|stop| *stop) => break "shutdown",
        };
        let finished = match read {
            Err(_elapsed) => {
                metrics::counter!(names::TCP_IDLE_TIMEOUTS).increment(1);
                break "idle timeout";
            }
            Ok(Err(error)) => {
                if let Some(suppressed) = CONNECTION_LOG.check() {
                    warn!(%peer, %error, suppressed, "reading a TCP connection failed");
                }
                break "read error";
            }
            Ok(Ok(0)) => {
                decoder.finish();
                true
            }
            Ok(Ok(length)) => {
                decoder.push(&chunk[..length]);
                false
            }
        };
        let mut batch = Batch::new(Origin::Tcp(peer), now_nanos());
        while let Some(frame) = decoder.next_frame() {
            batch.push(frame.bytes, frame.truncated);
            if frame.truncated {
                metrics::counter!(names::OVERSIZE_FRAMES, "source" => "tcp").increment(1);
                if let Some(suppressed) = OVERSIZE_LOG.check() {
                    warn!(%peer, limit = config.max_frame_bytes, suppressed,
                        "TCP frame over sources.tcp.max_frame_bytes; processing its start only");
                }
            }
        }
        let stats = decoder.stats();
        if stats.resynced > resynced {
            metrics::counter!(names::TCP_RESYNCS).increment(stats.resynced - resynced);
            resynced = stats.resynced;
        }
        if !batch.is_empty() && queue.send(batch).await.is_err() {
            break "engine stopped";
        }
        if finished {
            break "closed by peer";
        }
    };
    metrics::gauge!(names::TCP_OPEN).decrement(1.0);
    debug!(%peer, reason, mode = decoder.mode().as_str(), "TCP connection closed");
}
