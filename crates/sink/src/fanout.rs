//! A sink that sends every record to several sinks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::progress::{DeliveryProgress, Seq};
use crate::stats::SinkStats;
use crate::{OutRecord, Sink, SinkError};

/// Sends every record to each of its sinks. Its sequence numbers are those of the inner sinks,
/// which agree because each of them numbers the same records from 1; a record is settled when
/// every inner sink has settled it.
///
/// An error other than [`SinkError::Invalid`] from one inner sink leaves the others one record
/// ahead, so the caller should treat it as fatal for the whole fan-out.
pub struct FanOut {
    sinks: Vec<Box<dyn Sink>>,
    sent: Seq,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FanOut")
            .field("sinks", &self.sinks.len())
            .field("sent", &self.sent)
            .finish()
    }
}

impl FanOut {
    /// Combines `sinks`; none may have sent a record yet.
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> FanOut {
        FanOut { sinks, sent: 0 }
    }
}

impl Sink for FanOut {
    fn send(&mut self, record: OutRecord) -> Result<Seq, SinkError> {
        record.validate()?;
        let Some((last, rest)) = self.sinks.split_last_mut() else {
            self.sent += 1;
            return Ok(self.sent);
        };
        for sink in rest {
            sink.send(record.clone())?;
        }
        last.send(record)?;
        self.sent += 1;
        Ok(self.sent)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.sinks.iter_mut().try_for_each(|sink| sink.flush())
    }

    fn progress(&self) -> DeliveryProgress {
        let parts = self
            .sinks
            .iter()
            .flat_map(|sink| sink.progress().parts().to_vec())
            .collect();
        DeliveryProgress::new(parts)
    }

    fn stats(&self) -> Vec<(String, Arc<SinkStats>)> {
        self.sinks.iter().flat_map(|sink| sink.stats()).collect()
    }

    /// Closes every sink, sharing `timeout` among them, and returns the first error.
    fn close(&mut self, timeout: Duration) -> Result<(), SinkError> {
        let deadline = Instant::now() + timeout;
        let mut first_error = None;
        for sink in &mut self.sinks {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Err(error) = sink.close(remaining) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JsonLinesSink, Stream};
    use chrono::{TimeZone, Utc};

    #[test]
    fn fanout_settles_when_all_flushed() {
        let first = JsonLinesSink::new("first", Vec::new());
        let second = JsonLinesSink::new("second", Vec::new());
        let mut fanout = FanOut::new(vec![Box::new(first), Box::new(second)]);
        let progress = fanout.progress();
        let record = OutRecord {
            stream: Stream::Findings,
            key: "k".to_string(),
            id: "a".to_string(),
            time: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            ce_type: "t".to_string(),
            payload: b"{}".to_vec(),
        };
        assert_eq!(fanout.send(record).unwrap(), 1);
        assert_eq!(progress.settled_through(), 0);
        fanout.flush().unwrap();
        assert_eq!(progress.settled_through(), 1);
        let names: Vec<String> = fanout.stats().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["first", "second"]);
    }
}
