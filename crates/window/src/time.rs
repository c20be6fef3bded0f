//! Event-time helpers: every time in this crate is UTC milliseconds since the Unix epoch.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// UTC milliseconds since the Unix epoch.
pub type Millis = i64;

/// Milliseconds in one second.
pub const SECOND: Millis = 1_000;
/// Milliseconds in one minute.
pub const MINUTE: Millis = 60 * SECOND;
/// Milliseconds in one hour.
pub const HOUR: Millis = 60 * MINUTE;
/// Milliseconds in one day.
pub const DAY: Millis = 24 * HOUR;

/// Formats `ms` as an RFC 3339 UTC timestamp with millisecond precision.
pub fn format_rfc3339(ms: Millis) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}

/// Parses an RFC 3339 timestamp into milliseconds, or `None` when it is invalid.
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp_millis())
}

/// Returns the start of the tumbling window of `size` that contains `ms`.
pub fn window_start(ms: Millis, size: Millis) -> Millis {
    ms.div_euclid(size) * size
}

/// Calendar fields of an instant after shifting it by `offset_minutes` from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    /// Day of the week, Monday = 0 … Sunday = 6.
    pub weekday: u32,
    /// Hour of the day, 0–23.
    pub hour: u32,
    /// Minute of the hour, 0–59.
    pub minute: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Month, 1–12.
    pub month: u32,
}

/// Returns the local calendar fields of `ms` at a fixed offset of `offset_minutes` from UTC.
pub fn local_clock(ms: Millis, offset_minutes: i32) -> LocalClock {
    let shifted = ms.saturating_add(Millis::from(offset_minutes) * MINUTE);
    let time = DateTime::<Utc>::from_timestamp_millis(shifted).unwrap_or_default();
    LocalClock {
        weekday: time.weekday().num_days_from_monday(),
        hour: time.hour(),
        minute: time.minute(),
        day: time.day(),
        month: time.month(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_start_handles_negative_times() {
        assert_eq!(window_start(299_999, 300_000), 0);
        assert_eq!(window_start(300_000, 300_000), 300_000);
        assert_eq!(window_start(-1, 300_000), -300_000);
    }

    #[test]
    fn rfc3339_round_trip() {
        let ms = parse_rfc3339("2026-03-02T10:25:33.250Z").expect("valid timestamp");
        assert_eq!(format_rfc3339(ms), "2026-03-02T10:25:33.250Z");
        assert_eq!(parse_rfc3339("2026-03-02 10:25"), None);
    }

    #[test]
    fn local_clock_applies_offset() {
        // 2026-03-02 is a Monday; 23:30 UTC is Tuesday 01:30 at +02:00.
        let ms = parse_rfc3339("2026-03-02T23:30:00Z").expect("valid timestamp");
        let clock = local_clock(ms, 120);
        assert_eq!(clock.weekday, 1);
        assert_eq!(clock.hour, 1);
        assert_eq!(clock.minute, 30);
    }
}
