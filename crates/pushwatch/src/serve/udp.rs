//! The UDP syslog listener: one message per datagram (RFC 5426), a configurable kernel receive
//! buffer, and a bounded queue towards the engine whose overflow is dropped and counted.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use super::frames::{now_nanos, Batch, Origin};
use super::metrics as names;
use crate::config::UdpSourceConfig;
use crate::ratelimit::LogLimiter;

static DROP_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));
static OVERSIZE_LOG: LogLimiter = LogLimiter::new(Duration::from_secs(10));

/// Binds a UDP socket with the configured receive buffer. Returns the socket and the address
/// it is bound to (with the real port when the configured port is 0).
pub fn bind(
    address: SocketAddr,
    config: &UdpSourceConfig,
) -> anyhow::Result<(UdpSocket, SocketAddr)> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    if address.is_ipv6() {
        // Listen on the IPv6 address only, so that the same port can also be bound on IPv4.
        socket.set_only_v6(true)?;
    }
    if config.receive_buffer_bytes > 0 {
        if let Err(error) = socket.set_recv_buffer_size(config.receive_buffer_bytes) {
            warn!(%address, %error, requested = config.receive_buffer_bytes,
                "cannot set the UDP receive buffer size; keeping the system default");
        }
    }
    socket
        .bind(&address.into())
        .map_err(|error| anyhow::anyhow!("cannot bind UDP {address}: {error}"))?;
    socket.set_nonblocking(true)?;
    let granted = socket.recv_buffer_size().unwrap_or(0);
    let socket = UdpSocket::from_std(socket.into())?;
    let bound = socket.local_addr()?;
    info!(address = %bound, receive_buffer_bytes = granted, "listening for syslog on UDP");
    Ok((socket, bound))
}

/// Receives datagrams until `shutdown` turns true, and queues each as one frame.
pub async fn serve(
    socket: UdpSocket,
    max_frame_bytes: usize,
    queue: mpsc::Sender<Batch>,
    mut shutdown: watch::Receiver<bool>,
) {
    // The limit does not count a final CRLF, and one byte more than that shows a longer
    // datagram (which the kernel cuts to the buffer) as cut.
    let mut buffer = vec![0u8; max_frame_bytes + 3];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (length, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                // ICMP port-unreachable and similar errors surface here on some systems;
                // they concern one peer, so the socket keeps serving.
                if let Some(suppressed) = DROP_LOG.check() {
                    warn!(%error, suppressed, "UDP receive failed");
                }
                continue;
            }
        };
        let frame = pushwatch_parser::datagram(&buffer[..length], max_frame_bytes);
        if frame.truncated {
            metrics::counter!(names::OVERSIZE_FRAMES, "source" => "udp").increment(1);
            if let Some(suppressed) = OVERSIZE_LOG.check() {
                warn!(%peer, limit = max_frame_bytes, suppressed,
                    "UDP datagram over sources.udp.max_frame_bytes; processing its start only");
            }
        }
        let mut batch = Batch::new(Origin::Udp(peer), now_nanos());
        batch.push(frame.bytes, frame.truncated);
        match queue.try_send(batch) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!(names::UDP_DROPPED).increment(1);
                if let Some(suppressed) = DROP_LOG.check() {
                    warn!(%peer, suppressed, "engine queue full; dropping UDP datagrams");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => break,
        }
    }
    match socket.local_addr() {
        Ok(address) => info!(%address, "UDP listener stopped"),
        Err(_) => info!("UDP listener stopped"),
    }
}
