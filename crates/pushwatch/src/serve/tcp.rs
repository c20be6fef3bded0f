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
static TAIL_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static RESYNC_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

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
/// send their last frames, including an unterminated one at the end.
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
            read = tokio::time::timeout(idle, stream.read(&mut chunk)) => Some(read),
            _ = shutdown.wait_for(|stop| *stop) => None,
        };
        let end = match read {
            None => Some("shutdown"),
            Some(Err(_elapsed)) => {
                metrics::counter!(names::TCP_IDLE_TIMEOUTS).increment(1);
                Some("idle timeout")
            }
            Some(Ok(Err(error))) => {
                if let Some(suppressed) = CONNECTION_LOG.check() {
                    warn!(%peer, %error, suppressed, "reading a TCP connection failed");
                }
                Some("read error")
            }
            Some(Ok(Ok(0))) => Some("closed by peer"),
            Some(Ok(Ok(length))) => {
                decoder.push(&chunk[..length]);
                None
            }
        };
        let mut batch = Batch::new(Origin::Tcp(peer), now_nanos());
        drain_frames(&mut decoder, &mut batch, peer, &config);
        if let Some(reason) = end {
            // However the connection ends, the bytes after the last complete frame are a
            // message the sender has already written, so they are processed as a final frame.
            decoder.finish();
            drain_tail(&mut decoder, &mut batch, peer, reason);
        }
        let stats = decoder.stats();
        if stats.resynced > resynced {
            metrics::counter!(names::TCP_RESYNCS).increment(stats.resynced - resynced);
            resynced = stats.resynced;
            if let Some(suppressed) = RESYNC_LOG.check() {
                warn!(%peer, suppressed, "invalid octet-count prefix on a TCP connection; \
                    skipping to the next LF");
            }
        }
        if !batch.is_empty() && queue.send(batch).await.is_err() {
            break "engine stopped";
        }
        if let Some(reason) = end {
            break reason;
        }
    };
    metrics::gauge!(names::TCP_OPEN).decrement(1.0);
    debug!(%peer, reason, mode = decoder.mode().as_str(), "TCP connection closed");
}

/// Moves the complete frames out of `decoder` into `batch`, counting the cut ones.
fn drain_frames(
    decoder: &mut FrameDecoder,
    batch: &mut Batch,
    peer: SocketAddr,
    config: &TcpSourceConfig,
) {
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
}

/// Moves the frame left in a finished `decoder` into `batch`: an LF-delimited line without
/// its LF, or the part of an octet-counted frame that arrived (flagged as truncated). Counts
/// and logs it, because the sender may have been cut off mid-message.
fn drain_tail(decoder: &mut FrameDecoder, batch: &mut Batch, peer: SocketAddr, reason: &str) {
    while let Some(frame) = decoder.next_frame() {
        batch.push(frame.bytes, frame.truncated);
        metrics::counter!(names::TCP_UNTERMINATED).increment(1);
        if let Some(suppressed) = TAIL_LOG.check() {
            info!(%peer, reason, bytes = frame.bytes.len(), incomplete = frame.truncated,
                suppressed, "TCP connection ended inside a frame; processing it as a final frame");
        }
    }
}
