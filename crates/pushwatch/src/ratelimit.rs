//! Rate limiting for log lines about repeated per-line or per-connection problems, so that a
//! flood of bad input produces one warning per interval with a count instead of one per line.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A gate that opens at most once per interval and counts what it held back.
#[derive(Debug)]
pub struct LogLimiter {
    interval: Duration,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    /// Creates a limiter that lets one event through per `interval`.
    pub const fn new(interval: Duration) -> Self {
        LogLimiter {
            interval,
            state: Mutex::new(LimiterState {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Records one event. Returns `Some(suppressed)` when this event should be logged, with the
    /// number of events held back since the last one that was, and `None` otherwise.
    pub fn check(&self) -> Option<u64> {
        self.check_at(Instant::now())
    }

    fn check_at(&self, now: Instant) -> Option<u64> {
        // A poisoned lock only means another thread panicked while counting; the counts are
        // still usable.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let due = match state.last {
            None => true,
            Some(last) => now.duration_since(last) >= self.interval,
        };
        if due {
            state.last = Some(now);
            Some(std::mem::take(&mut state.suppressed))
        } else {
            state.suppressed += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_lets_first_through_then_counts() {
        let limiter = LogLimiter::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(limiter.check_at(start), Some(0));
        assert_eq!(limiter.check_at(start + Duration::from_secs(1)), None);
        assert_eq!(limiter.check_at(start + Duration::from_secs(2)), None);
        assert_eq!(limiter.check_at(start + Duration::from_secs(11)), Some(2));
        assert_eq!(limiter.check_at(start + Duration::from_secs(12)), None);
    }
}
