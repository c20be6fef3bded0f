//! Names and descriptions of the Prometheus metrics of `pushwatch run`, and the recorder that
//! renders them.
//!
//! Counters end in `_total`; every name starts with `pushwatch_`. The `metrics` macros are
//! no-ops until [`install`] sets the global recorder, so replay pays nothing for them.

use metrics::{describe_counter, describe_gauge, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Frames read, by source (`udp`, `tcp`, `kafka`).
pub const LINES: &str = "pushwatch_lines_total";
/// Frame bytes read, by source.
pub const BYTES: &str = "pushwatch_bytes_total";
/// Parse errors, by kind.
pub const PARSE_ERRORS: &str = "pushwatch_parse_errors_total";
/// Classified login attempts, by outcome class.
pub const ATTEMPTS: &str = "pushwatch_attempts_total";
/// Lines older than the watermark (the highest event time seen minus
/// `windows.allowed_lateness_secs`) when they arrived, whether or not a rule classifies them.
pub const LATE_LINES: &str = "pushwatch_late_lines_total";
/// Lines dated more than `windows.max_clock_skew_secs` after their receive time, skipped.
pub const FUTURE_LINES: &str = "pushwatch_future_lines_total";
/// FortiAuthenticator lines left unclassified because a field the rules read is written twice
/// or the message contains `status="`, most likely through a quote in a user name.
pub const AMBIGUOUS_LINES: &str = "pushwatch_ambiguous_lines_total";
/// MFA fatigue findings held back or closed because of an outage finding, by `reason`:
/// `suppressed` (not opened: an open outage finding covered the user) or `explained`
/// (resolved: an outage finding in the user's scope opened around the same time).
pub const FATIGUE_FINDINGS_HELD: &str = "pushwatch_fatigue_findings_held_total";
/// Login attempts kept out of the population windows because their user had an open MFA
/// fatigue finding.
pub const FATIGUE_EXCLUDED_ATTEMPTS: &str = "pushwatch_fatigue_excluded_attempts_total";
/// Open attempts and users evicted at the stitching caps, by `kind`.
pub const EVICTIONS: &str = "pushwatch_evictions_total";
/// Finding transitions, by detector and transition (`opened`, `updated`, `resolved`).
pub const FINDINGS: &str = "pushwatch_findings_total";
/// Push success share of the last closed window, by site and platform.
pub const PUSH_SUCCESS_SHARE: &str = "pushwatch_window_push_success_share";
/// TOTP share of the last closed window, by site and platform.
pub const TOTP_SHARE: &str = "pushwatch_window_totp_share";
/// Login attempts in the last closed window, by site and platform.
pub const WINDOW_ATTEMPTS: &str = "pushwatch_window_attempts";
/// Batches waiting for the engine, over the UDP, TCP and Kafka queues. A UDP datagram is one
/// batch, while a TCP read or a Kafka poll may hold several frames.
pub const QUEUE_DEPTH: &str = "pushwatch_queue_depth";
/// Records waiting in a sink's memory queue, by sink.
pub const SINK_QUEUE_DEPTH: &str = "pushwatch_sink_queue_depth";
/// Bytes in the Kafka spool file.
pub const SPOOL_BYTES: &str = "pushwatch_spool_bytes";
/// Failed delivery reports of the Kafka sink, whether the record was then retried or given up.
pub const KAFKA_DELIVERY_ERRORS: &str = "pushwatch_kafka_delivery_errors_total";
/// Records dropped by the sinks (queue and spool full, or rejected as invalid).
pub const SINK_DROPPED: &str = "pushwatch_sink_dropped_total";
/// UDP datagrams dropped because the engine queue was full.
pub const UDP_DROPPED: &str = "pushwatch_udp_dropped_total";
/// TCP connections closed at once because `sources.tcp.max_connections` were open.
pub const TCP_REJECTED: &str = "pushwatch_tcp_connections_rejected_total";
/// TCP connections open now.
pub const TCP_OPEN: &str = "pushwatch_tcp_connections_open";
/// TCP connections closed after `sources.tcp.idle_timeout_secs` without data.
pub const TCP_IDLE_TIMEOUTS: &str = "pushwatch_tcp_idle_timeouts_total";
/// Frames cut at the frame size limit, by source.
pub const OVERSIZE_FRAMES: &str = "pushwatch_oversize_frames_total";
/// Bad octet-count prefixes after which a TCP connection skipped to the next LF.
pub const TCP_RESYNCS: &str = "pushwatch_tcp_resyncs_total";
/// Frames a TCP connection ended inside (no final LF, or an octet-counted frame shorter than
/// its length), processed as they were when the connection closed, timed out or shut down.
pub const TCP_UNTERMINATED: &str = "pushwatch_tcp_unterminated_frames_total";
/// State file saves, by result (`ok`, `error`).
pub const STATE_SAVES: &str = "pushwatch_state_saves_total";

/// Installs the Prometheus recorder as the global `metrics` recorder and describes every
/// metric. Returns the handle that renders the text format.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|error| anyhow::anyhow!("cannot install the metrics recorder: {error}"))?;
    describe();
    Ok(handle)
}

fn describe() {
    describe_counter!(LINES, "Frames read, by source.");
    describe_counter!(BYTES, Unit::Bytes, "Frame bytes read, by source.");
    describe_counter!(PARSE_ERRORS, "Parse errors, by kind.");
    describe_counter!(ATTEMPTS, "Classified login attempts, by outcome class.");
    describe_counter!(
        LATE_LINES,
        "Lines older than the watermark (highest event time seen minus the allowed lateness) \
         when they arrived."
    );
    describe_counter!(
        FUTURE_LINES,
        "Lines dated more than the allowed clock skew after their receive time, skipped."
    );
    describe_counter!(FINDINGS, "Finding transitions, by detector and transition.");
    describe_counter!(
        AMBIGUOUS_LINES,
        "FortiAuthenticator lines left unclassified because a quote in a value made their \
         fields ambiguous."
    );
    describe_counter!(
        FATIGUE_FINDINGS_HELD,
        "MFA fatigue findings held back (suppressed) or resolved early (explained) because of \
         an outage finding."
    );
    describe_counter!(
        FATIGUE_EXCLUDED_ATTEMPTS,
        "Login attempts left out of the population windows while their user had an open MFA \
         fatigue finding."
    );
    describe_counter!(
        EVICTIONS,
        "Open login attempts and users evicted at the stitching caps, by kind."
    );

    describe_gauge!(
        PUSH_SUCCESS_SHARE,
        "Push success share of the last closed window, by site and platform."
    );
    describe_gauge!(
        TOTP_SHARE,
        "TOTP share of the last closed window, by site and platform."
    );
    describe_gauge!(WINDOW_ATTEMPTS, "Login attempts in the last closed window.");

    describe_gauge!(
        QUEUE_DEPTH,
        "Batches of frames waiting for the engine, over all source queues."
    );
    describe_gauge!(
        SINK_QUEUE_DEPTH,
        "Records waiting in a sink's memory queue, by sink."
    );
    describe_gauge!(SPOOL_BYTES, Unit::Bytes, "Bytes in the Kafka spool file.");
    describe_counter!(
        KAFKA_DELIVERY_ERRORS,
        "Failed delivery reports of the Kafka sink, retried or given up."
    );
    describe_counter!(SINK_DROPPED, "Records dropped by the sinks.");

    describe_counter!(
        UDP_DROPPED,
        "UDP datagrams dropped because the engine queue was full."
    );
    describe_counter!(
        TCP_REJECTED,
        "TCP connections closed at the connection limit."
    );
    describe_gauge!(TCP_OPEN, "TCP connections open now.");
    describe_counter!(
        TCP_IDLE_TIMEOUTS,
        "TCP connections closed after the idle timeout."
    );
    describe_counter!(
        OVERSIZE_FRAMES,
        "Frames cut at the frame size limit, by source."
    );
    describe_counter!(
        TCP_RESYNCS,
        "Bad octet-count prefixes skipped to the next LF."
    );
    describe_counter!(
        TCP_UNTERMINATED,
        "Frames a TCP connection ended inside, processed as they were."
    );
    describe_counter!(STATE_SAVES, "State file saves, by result.");

    // Counters without labels are exported from the start, so a scrape distinguishes zero
    // from unknown.
    for name in [
        LATE_LINES,
        FUTURE_LINES,
        AMBIGUOUS_LINES,
        FATIGUE_EXCLUDED_ATTEMPTS,
        KAFKA_DELIVERY_ERRORS,
        UDP_DROPPED,
        TCP_REJECTED,
        TCP_IDLE_TIMEOUTS,
        TCP_RESYNCS,
        TCP_UNTERMINATED,
    ] {
        metrics::counter!(name).increment(0);
    }
    // Records a sink rejected as invalid are counted for all sinks at once.
    metrics::counter!(SINK_DROPPED, "sink" => "all").increment(0);
    for source in ["udp", "tcp", "kafka"] {
        metrics::counter!(OVERSIZE_FRAMES, "source" => source).increment(0);
    }
    for result in ["ok", "error"] {
        metrics::counter!(STATE_SAVES, "result" => result).increment(0);
    }
    for reason in ["suppressed", "explained"] {
        metrics::counter!(FATIGUE_FINDINGS_HELD, "reason" => reason).increment(0);
    }
}
