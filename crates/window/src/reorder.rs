//! The reorder buffer: signals waiting for the watermark, kept in (event time, arrival)
//! order. Lines mostly arrive in event-time order, so a signal usually joins at the back in
//! constant time; a late one is placed by binary search. Signals are boxed, so that placing a
//! late one and growing the buffer move small entries rather than whole signals.

use std::collections::VecDeque;

use serde::{Deserialize, Deserializer, Serialize};

use crate::signal::AuthSignal;
use crate::time::Millis;

/// Entries compared one by one from the back before a binary search.
const NEAR_BACK: usize = 16;

/// Position of a signal: event time, then arrival sequence.
pub type Slot = (Millis, u64);

/// Signals sorted by [`Slot`]. Written as a list of `[slot, signal]` pairs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct ReorderBuffer {
    entries: VecDeque<(Slot, Box<AuthSignal>)>,
}

impl ReorderBuffer {
    /// Adds a signal; slots are unique because the sequence grows with every signal.
    pub fn insert(&mut self, slot: Slot, signal: AuthSignal) {
        match self.entries.back() {
            Some((last, _)) if *last > slot => {
                let at = self.position_of(slot);
                self.entries.insert(at, (slot, Box::new(signal)));
            }
            _ => self.entries.push_back((slot, Box::new(signal))),
        }
    }

    /// Returns where `slot` belongs. A signal out of order is usually only a little late (lines
    /// of one second from several devices), so the last few entries are tried first. A binary
    /// search over the whole buffer would touch a cold entry at every step.
    fn position_of(&self, slot: Slot) -> usize {
        let length = self.entries.len();
        for back in 1..=NEAR_BACK.min(length) {
            if self.entries[length - back].0 < slot {
                return length - back + 1;
            }
        }
        self.entries.partition_point(|(other, _)| *other < slot)
    }

    /// Event time of the earliest signal.
    pub fn first_time(&self) -> Option<Millis> {
        self.entries.front().map(|((time, _), _)| *time)
    }

    /// Removes and returns the earliest signal if its event time is at or before `watermark`.
    pub fn pop_through(&mut self, watermark: Millis) -> Option<Box<AuthSignal>> {
        if self.first_time()? > watermark {
            return None;
        }
        self.entries.pop_front().map(|(_, signal)| signal)
    }

    /// Number of waiting signals.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether no signal waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'de> Deserialize<'de> for ReorderBuffer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut entries = Vec::<(Slot, Box<AuthSignal>)>::deserialize(deserializer)?;
        // A state file written by hand or by an older build may list them in any order.
        entries.sort_by_key(|(slot, _)| *slot);
        Ok(ReorderBuffer {
            entries: entries.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::SignalKind;

    fn times(buffer: &mut ReorderBuffer, watermark: Millis) -> Vec<Millis> {
        std::iter::from_fn(|| buffer.pop_through(watermark))
            .map(|signal| signal.time)
            .collect()
    }

    #[test]
    fn late_signals_take_their_place_in_event_time() {
        let mut buffer = ReorderBuffer::default();
        for (sequence, time) in [10, 30, 20, 30, 5, 40].into_iter().enumerate() {
            let signal = AuthSignal::new(time, SignalKind::ChallengeSent);
            buffer.insert((time, sequence as u64), signal);
        }
        assert_eq!(buffer.len(), 6);
        assert_eq!(times(&mut buffer, 30), vec![5, 10, 20, 30, 30]);
        assert_eq!(buffer.first_time(), Some(40));
        assert_eq!(times(&mut buffer, 39), Vec::<Millis>::new());
        assert_eq!(times(&mut buffer, 40), vec![40]);
        assert!(buffer.is_empty());
    }

    /// Late signals both near the back and far from it land in order.
    #[test]
    fn late_signals_near_and_far_from_the_back() {
        let mut buffer = ReorderBuffer::default();
        let mut sequence = 0;
        let mut add = |buffer: &mut ReorderBuffer, time: Millis| {
            sequence += 1;
            buffer.insert(
                (time, sequence),
                AuthSignal::new(time, SignalKind::ChallengeSent),
            );
        };
        for time in (0..100).map(|n| n * 10) {
            add(&mut buffer, time);
        }
        for time in [985, 905, 15, 995, 0] {
            add(&mut buffer, time);
        }
        let mut expected: Vec<Millis> = (0..100).map(|n| n * 10).collect();
        expected.extend([985, 905, 15, 995, 0]);
        expected.sort();
        assert_eq!(times(&mut buffer, 1_000), expected);
    }

    #[test]
    fn equal_times_keep_arrival_order() {
        let mut buffer = ReorderBuffer::default();
        let kinds = [SignalKind::ChallengeSent, SignalKind::PushApproved];
        buffer.insert((7, 2), AuthSignal::new(7, kinds[1]));
        buffer.insert((7, 1), AuthSignal::new(7, kinds[0]));
        let order: Vec<SignalKind> = std::iter::from_fn(|| buffer.pop_through(7))
            .map(|signal| signal.kind)
            .collect();
        assert_eq!(order, kinds);
    }

    #[test]
    fn reads_pairs_in_any_order() {
        let text = r#"[[[20,2],{"time":20,"kind":"push_approved"}],[[10,1],{"time":10,"kind":"challenge_sent"}]]"#;
        let mut buffer: ReorderBuffer = serde_json::from_str(text).expect("valid pairs");
        assert_eq!(times(&mut buffer, 100), vec![10, 20]);
    }
}
