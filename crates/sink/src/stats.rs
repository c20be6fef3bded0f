//! Counters and gauges of a sink, for the binary's `/metrics` endpoint.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Live counters and gauges of one sink, updated by the sink and read by anyone.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub(crate) sent: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) queue_depth: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) spool_bytes: AtomicU64,
    pub(crate) spool_records: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) spool_damaged_regions: AtomicU64,
    pub(crate) spool_damaged_bytes: AtomicU64,
    pub(crate) spool_io_errors: AtomicU64,
    pub(crate) delivery_errors: Mutex<BTreeMap<String, u64>>,
}

/// A copy of [`SinkStats`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Records accepted by `send`.
    pub sent: u64,
    /// Records delivered: acknowledged by the broker, or written and flushed by a line sink.
    pub delivered: u64,
    /// Records the broker rejected as permanently invalid (e.g. too large); they are settled
    /// but not delivered.
    pub rejected: u64,
    /// Records dropped because the memory queue was full and the spool was full or not
    /// configured; they are settled but not delivered.
    pub dropped: u64,
    /// Records of a stream that has no topic in the Kafka sink; they are settled at once.
    pub skipped: u64,
    /// Records held in memory: waiting to be produced or waiting for the broker's
    /// acknowledgement.
    pub queue_depth: u64,
    /// Of those, records handed to the Kafka client and not yet acknowledged.
    pub in_flight: u64,
    /// Size of the spool file in bytes, including acknowledged records not yet compacted away.
    pub spool_bytes: u64,
    /// Records in the spool file that are not yet acknowledged.
    pub spool_records: u64,
    /// Records written to the spool file since start.
    pub spooled: u64,
    /// Damaged spool regions (a torn tail after a crash, or a corrupt record) skipped at open.
    pub spool_damaged_regions: u64,
    /// Bytes in those regions.
    pub spool_damaged_bytes: u64,
    /// Failed reads or writes of the spool file.
    pub spool_io_errors: u64,
    /// Failed delivery attempts by librdkafka error code name (e.g. `MessageTimedOut`). A
    /// record that fails and is retried counts once per failure.
    pub delivery_errors: BTreeMap<String, u64>,
}

impl SinkStats {
    /// Copies the current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let delivery_errors = self
            .delivery_errors
            .lock()
            .map(|errors| errors.clone())
            .unwrap_or_else(|poison| poison.into_inner().clone());
        StatsSnapshot {
            sent: load(&self.sent),
            delivered: load(&self.delivered),
            rejected: load(&self.rejected),
            dropped: load(&self.dropped),
            skipped: load(&self.skipped),
            queue_depth: load(&self.queue_depth),
            in_flight: load(&self.in_flight),
            spool_bytes: load(&self.spool_bytes),
            spool_records: load(&self.spool_records),
            spooled: load(&self.spooled),
            spool_damaged_regions: load(&self.spool_damaged_regions),
            spool_damaged_bytes: load(&self.spool_damaged_bytes),
            spool_io_errors: load(&self.spool_io_errors),
            delivery_errors,
        }
    }

    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }

    pub(crate) fn set(gauge: &AtomicU64, value: u64) {
        gauge.store(value, Ordering::Relaxed);
    }

    pub(crate) fn count_delivery_error(&self, code: &str) {
        let mut errors = self
            .delivery_errors
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *errors.entry(code.to_string()).or_insert(0) += 1;
    }
}

impl StatsSnapshot {
    /// Appends the values in the Prometheus text exposition format, each metric name starting
    /// with `prefix` (e.g. `pushwatch_sink`) and labelled with `sink="<sink>"`.
    pub fn write_prometheus(&self, out: &mut String, prefix: &str, sink: &str) {
        let counters = [
            ("sent_total", self.sent, "Records accepted by the sink."),
            ("delivered_total", self.delivered, "Records delivered."),
            (
                "rejected_total",
                self.rejected,
                "Records rejected by the broker.",
            ),
            (
                "dropped_total",
                self.dropped,
                "Records dropped with queue and spool full.",
            ),
            (
                "spooled_total",
                self.spooled,
                "Records written to the spool file.",
            ),
            (
                "spool_damaged_regions_total",
                self.spool_damaged_regions,
                "Damaged spool regions skipped at open.",
            ),
            (
                "spool_damaged_bytes_total",
                self.spool_damaged_bytes,
                "Bytes in damaged spool regions.",
            ),
            (
                "spool_io_errors_total",
                self.spool_io_errors,
                "Spool read or write failures.",
            ),
        ];
        let gauges = [
            ("queue_depth", self.queue_depth, "Records held in memory."),
            (
                "in_flight",
                self.in_flight,
                "Records awaiting the broker's acknowledgement.",
            ),
            (
                "spool_bytes",
                self.spool_bytes,
                "Size of the spool file in bytes.",
            ),
            (
                "spool_records",
                self.spool_records,
                "Unacknowledged records in the spool file.",
            ),
        ];
        for (kind, metrics) in [("counter", &counters[..]), ("gauge", &gauges[..])] {
            for (name, value, help) in metrics {
                let _ = writeln!(out, "# HELP {prefix}_{name} {help}");
                let _ = writeln!(out, "# TYPE {prefix}_{name} {kind}");
                let _ = writeln!(out, "{prefix}_{name}{{sink=\"{sink}\"}} {value}");
            }
        }
        let name = format!("{prefix}_delivery_errors_total");
        let _ = writeln!(out, "# HELP {name} Failed delivery attempts by error code.");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (code, value) in &self.delivery_errors {
            let _ = writeln!(out, "{name}{{sink=\"{sink}\",code=\"{code}\"}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_lists_counters_and_error_codes() {
        let stats = SinkStats::default();
        SinkStats::add(&stats.delivered, 3);
        stats.count_delivery_error("MessageTimedOut");
        stats.count_delivery_error("MessageTimedOut");
        let mut text = String::new();
        stats
            .snapshot()
            .write_prometheus(&mut text, "pushwatch_sink", "kafka");
        assert!(text.contains("pushwatch_sink_delivered_total{sink=\"kafka\"} 3\n"));
        assert!(text.contains("# TYPE pushwatch_sink_queue_depth gauge\n"));
        assert!(text.contains(
            "pushwatch_sink_delivery_errors_total{sink=\"kafka\",code=\"MessageTimedOut\"} 2\n"
        ));
    }
}
