//! Messages from the sources of `pushwatch run` to the engine thread.

use std::net::SocketAddr;

/// Source of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A UDP datagram from this peer.
    Udp(SocketAddr),
    /// A TCP connection from this peer.
    Tcp(SocketAddr),
    /// A Kafka record at this partition and offset.
    Kafka {
        /// Partition of the input topic.
        partition: i32,
        /// Offset of the record in the partition.
        offset: i64,
    },
}

impl Origin {
    /// Returns the source kind as a metric label: `udp`, `tcp` or `kafka`.
    pub fn label(&self) -> &'static str {
        match self {
            Origin::Udp(_) => "udp",
            Origin::Tcp(_) => "tcp",
            Origin::Kafka { .. } => "kafka",
        }
    }
}

/// Frames received together: one datagram, the frames decoded from one TCP read, or one Kafka
/// record. The frames are stored back to back in one buffer to save allocations.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Source of the frames.
    pub origin: Origin,
    /// Receive time in nanoseconds since the Unix epoch.
    pub received_nanos: i64,
    buffer: Vec<u8>,
    /// (end offset in `buffer`, truncated) per frame.
    ends: Vec<(usize, bool)>,
}

impl Batch {
    /// Creates an empty batch.
    pub fn new(origin: Origin, received_nanos: i64) -> Self {
        Batch {
            origin,
            received_nanos,
            buffer: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Appends a frame.
    pub fn push(&mut self, bytes: &[u8], truncated: bool) {
        self.buffer.extend_from_slice(bytes);
        self.ends.push((self.buffer.len(), truncated));
    }

    /// Returns the number of frames.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns true when the batch has no frame.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Returns the total size of the frames in bytes.
    pub fn bytes(&self) -> usize {
        self.buffer.len()
    }

    /// Returns the frames with their truncation flags.
    pub fn frames(&self) -> impl Iterator<Item = (&[u8], bool)> {
        let mut start = 0;
        self.ends.iter().map(move |&(end, truncated)| {
            let frame = &self.buffer[start..end];
            start = end;
            (frame, truncated)
        })
    }
}

/// A message to the engine thread.
#[derive(Debug)]
pub enum Event {
    /// Frames to parse and process.
    Frames(Batch),
    /// A processing-time tick: lets the engine close windows on silence and save its state.
    Tick,
}

/// Returns the current time in nanoseconds since the Unix epoch.
pub fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_returns_frames_in_order() {
        let mut batch = Batch::new(Origin::Udp(SocketAddr::from(([127, 0, 0, 1], 1))), 0);
        batch.push(b"one", false);
        batch.push(b"", false);
        batch.push(b"three", true);
        let frames: Vec<(&[u8], bool)> = batch.frames().collect();
        assert_eq!(
            frames,
            [
                (&b"one"[..], false),
                (&b""[..], false),
                (&b"three"[..], true)
            ]
        );
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.bytes(), 8);
    }
}
