//! Sequence numbers of sent records and the watermark of settled ones, which a Kafka consumer
//! uses to decide which input offsets it may commit.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Sequence number of a record within one sink: the first record sent gets 1, the next 2, and
/// so on. Each successful `send` consumes exactly one number.
pub type Seq = u64;

/// Shared watermark of one sink: every record with a sequence number up to it is settled.
#[derive(Debug, Default)]
pub(crate) struct Watermark {
    settled: AtomicU64,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Watermark {
    pub(crate) fn get(&self) -> Seq {
        self.settled.load(Ordering::Acquire)
    }

    /// Raises the watermark and wakes the waiters. A lower value is ignored.
    pub(crate) fn raise(&self, seq: Seq) {
        if self.settled.fetch_max(seq, Ordering::AcqRel) < seq {
            let _guard = self
                .lock
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            self.changed.notify_all();
        }
    }

    fn wait(&self, seq: Seq, deadline: Instant) -> bool {
        let mut guard = self
            .lock
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        loop {
            if self.get() >= seq {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = match self.changed.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poison) => poison.into_inner().0,
            };
        }
    }
}

/// Read-only handle on the delivery progress of a sink, cheap to clone and usable from any
/// thread or task.
///
/// A record is *settled* when the sink is done with it: the broker acknowledged it (Kafka), it
/// was written and flushed (stdout, file), or the sink gave up on it and counted it (rejected by
/// the broker as invalid, or dropped because the queue and spool were full; see
/// [`crate::SinkStats`]). A record that waits in the spool file is not settled. A consumer of a
/// Kafka input should commit an offset only after every record derived from it is settled.
#[derive(Debug, Clone)]
pub struct DeliveryProgress {
    parts: Arc<[Arc<Watermark>]>,
}

impl DeliveryProgress {
    pub(crate) fn new(parts: Vec<Arc<Watermark>>) -> DeliveryProgress {
        DeliveryProgress {
            parts: parts.into(),
        }
    }

    pub(crate) fn parts(&self) -> &[Arc<Watermark>] {
        &self.parts
    }

    /// Returns N such that every record with a sequence number up to N is settled in every sink
    /// behind this handle (0 before the first).
    pub fn settled_through(&self) -> Seq {
        self.parts.iter().map(|part| part.get()).min().unwrap_or(0)
    }

    /// Blocks until record `seq` and all before it are settled, or until `timeout` passes.
    /// Returns whether they are settled.
    pub fn wait_settled(&self, seq: Seq, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        self.parts.iter().all(|part| part.wait(seq, deadline))
    }
}

/// Turns settlements that arrive in any order into the contiguous watermark.
///
/// Internal sequence numbers may run `offset` ahead of the published ones: the Kafka sink
/// numbers the records found in its spool at start 1 to `offset`, before the records of `send`.
#[derive(Debug)]
pub(crate) struct SeqTracker {
    through: Seq,
    ahead: BTreeSet<Seq>,
    offset: Seq,
    watermark: Arc<Watermark>,
}

impl SeqTracker {
    pub(crate) fn new(watermark: Arc<Watermark>, offset: Seq) -> SeqTracker {
        SeqTracker {
            through: 0,
            ahead: BTreeSet::new(),
            offset,
            watermark,
        }
    }

    /// Marks `seq` settled and publishes the new watermark if it moved.
    pub(crate) fn settle(&mut self, seq: Seq) {
        if seq <= self.through {
            return;
        }
        if seq != self.through + 1 {
            self.ahead.insert(seq);
            return;
        }
        self.through = seq;
        while self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
        }
        self.watermark
            .raise(self.through.saturating_sub(self.offset));
    }

    #[cfg(test)]
    pub(crate) fn through(&self) -> Seq {
        self.through
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_waits_for_gaps() {
        let watermark = Arc::new(Watermark::default());
        let mut tracker = SeqTracker::new(watermark.clone(), 0);
        tracker.settle(2);
        tracker.settle(3);
        assert_eq!(watermark.get(), 0);
        tracker.settle(1);
        assert_eq!(watermark.get(), 3);
        tracker.settle(5);
        assert_eq!(watermark.get(), 3);
        tracker.settle(4);
        assert_eq!(watermark.get(), 5);
    }

    #[test]
    fn tracker_ignores_repeats() {
        let watermark = Arc::new(Watermark::default());
        let mut tracker = SeqTracker::new(watermark.clone(), 0);
        tracker.settle(1);
        tracker.settle(1);
        assert_eq!(tracker.through(), 1);
        assert_eq!(watermark.get(), 1);
    }

    #[test]
    fn tracker_hides_reserved_numbers() {
        let watermark = Arc::new(Watermark::default());
        let mut tracker = SeqTracker::new(watermark.clone(), 2);
        tracker.settle(1);
        assert_eq!(watermark.get(), 0);
        tracker.settle(3);
        assert_eq!(watermark.get(), 0);
        tracker.settle(2);
        assert_eq!(watermark.get(), 1);
    }

    #[test]
    fn progress_is_minimum_of_parts() {
        let first = Arc::new(Watermark::default());
        let second = Arc::new(Watermark::default());
        let progress = DeliveryProgress::new(vec![first.clone(), second.clone()]);
        first.raise(7);
        second.raise(4);
        assert_eq!(progress.settled_through(), 4);
        assert!(progress.wait_settled(4, Duration::ZERO));
        assert!(!progress.wait_settled(5, Duration::from_millis(10)));
    }

    #[test]
    fn wait_wakes_on_raise() {
        let watermark = Arc::new(Watermark::default());
        let progress = DeliveryProgress::new(vec![watermark.clone()]);
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            watermark.raise(2);
        });
        assert!(progress.wait_settled(2, Duration::from_secs(10)));
        raiser.join().unwrap();
    }
}
