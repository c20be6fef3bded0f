//! Baselines: the normal push success share, fallback share and approval latency per scope and
//! time slot (hour of week, hour of day or shift), learned with exponential decay.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{BaselineConfig, SlotKind};
use crate::time::{local_clock, Millis};
use crate::window::WindowStats;

/// Decayed sums of one scope and slot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    /// Windows learned (not decayed).
    pub windows: u32,
    second_factor: f64,
    push_approved: f64,
    fallback: f64,
    latency_p50_sum: f64,
    latency_weight: f64,
}

impl Sums {
    fn learn(&mut self, stats: &WindowStats, decay: f64) {
        self.windows = self.windows.saturating_add(1);
        self.second_factor = self.second_factor * decay + stats.second_factor as f64;
        self.push_approved = self.push_approved * decay + stats.push_approved as f64;
        self.fallback = self.fallback * decay + stats.totp_fallback as f64;
        self.latency_p50_sum *= decay;
        self.latency_weight *= decay;
        if let Some(p50) = stats.latency_p50_ms {
            self.latency_p50_sum += p50 as f64;
            self.latency_weight += 1.0;
        }
    }

    fn expected(&self) -> Expected {
        let share = |part: f64| (self.second_factor > 0.0).then(|| part / self.second_factor);
        Expected {
            push_success_share: share(self.push_approved),
            fallback_share: share(self.fallback),
            latency_p50_ms: (self.latency_weight > 0.0)
                .then(|| self.latency_p50_sum / self.latency_weight),
            windows: self.windows,
        }
    }
}

/// The expected values of a scope at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expected {
    /// Expected push approvals / second-factor attempts.
    pub push_success_share: Option<f64>,
    /// Expected TOTP fallbacks / second-factor attempts.
    pub fallback_share: Option<f64>,
    /// Expected median approval latency.
    pub latency_p50_ms: Option<f64>,
    /// Windows behind the expectation.
    pub windows: u32,
}

/// Baselines of one scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ScopeBaseline {
    overall: Sums,
    slots: BTreeMap<u32, Sums>,
}

/// Baselines of every scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    scopes: BTreeMap<String, ScopeBaseline>,
}

impl Baselines {
    /// Learns one closed window; windows under `min_window_samples` are skipped.
    pub fn learn(&mut self, config: &BaselineConfig, stats: &WindowStats) {
        if stats.second_factor < config.min_window_samples {
            return;
        }
        let slot = slot_of(config, stats.window_start);
        let baseline = self.scopes.entry(stats.scope.clone()).or_default();
        baseline.overall.learn(stats, config.scope_decay);
        baseline
            .slots
            .entry(slot)
            .or_default()
            .learn(stats, config.slot_decay);
    }

    /// Returns the expectation for `scope` at `time`: the slot's when it has learned
    /// `min_slot_windows`, else the scope-wide one when it has learned `warmup_windows`, else
    /// none.
    pub fn expected(&self, config: &BaselineConfig, scope: &str, time: Millis) -> Option<Expected> {
        let baseline = self.scopes.get(scope)?;
        let slot = slot_of(config, time);
        if let Some(sums) = baseline.slots.get(&slot) {
            if sums.windows >= config.min_slot_windows {
                return Some(sums.expected());
            }
        }
        (baseline.overall.windows >= config.warmup_windows).then(|| baseline.overall.expected())
    }
}

/// Returns the slot number of `time`.
pub fn slot_of(config: &BaselineConfig, time: Millis) -> u32 {
    let clock = local_clock(time, config.utc_offset_minutes);
    match config.slot {
        SlotKind::HourOfWeek => clock.weekday * 24 + clock.hour,
        SlotKind::HourOfDay => clock.hour,
        SlotKind::Shift => config
            .shifts
            .iter()
            .position(|shift| in_shift(shift.start_hour, shift.end_hour, clock.hour))
            .map_or(config.shifts.len() as u32, |index| index as u32),
    }
}

fn in_shift(start: u32, end: u32, hour: u32) -> bool {
    if start < end {
        (start..end).contains(&hour)
    } else {
        hour >= start || hour < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ShiftConfig;
    use crate::time::{parse_rfc3339, HOUR};

    fn stats(scope: &str, start: Millis, second: u64, approved: u64, fallback: u64) -> WindowStats {
        WindowStats {
            window_start: start,
            window_end: start + 300_000,
            scope: scope.into(),
            counts: BTreeMap::new(),
            attempts: second,
            second_factor: second,
            push_approved: approved,
            totp_fallback: fallback,
            push_success_share: None,
            totp_share: None,
            fallback_share: None,
            push_to_totp_ratio: None,
            distinct_users: second,
            latency_p50_ms: Some(5_000),
            latency_p95_ms: None,
            latency_p99_ms: None,
            late_lines: 0,
            fatigue_excluded_attempts: 0,
        }
    }

    #[test]
    fn slot_baseline_needs_min_windows() {
        let config = BaselineConfig {
            min_slot_windows: 3,
            warmup_windows: 100,
            ..BaselineConfig::default()
        };
        let monday_nine = parse_rfc3339("2026-03-02T09:00:00Z").expect("valid time");
        let mut baselines = Baselines::default();
        for index in 0..2 {
            baselines.learn(
                &config,
                &stats("global", monday_nine + index * 300_000, 20, 16, 1),
            );
        }
        assert_eq!(baselines.expected(&config, "global", monday_nine), None);
        baselines.learn(&config, &stats("global", monday_nine + 600_000, 20, 16, 1));
        let expected = baselines
            .expected(&config, "global", monday_nine)
            .expect("three windows");
        let share = expected.push_success_share.expect("share");
        assert!((share - 0.8).abs() < 1e-9, "{share}");
        assert_eq!(expected.latency_p50_ms, Some(5_000.0));
        // Another hour of the week has no slot baseline and the scope is not warmed up.
        assert_eq!(
            baselines.expected(&config, "global", monday_nine + 2 * HOUR),
            None
        );
    }

    #[test]
    fn small_windows_are_not_learned() {
        let config = BaselineConfig {
            min_slot_windows: 1,
            ..BaselineConfig::default()
        };
        let mut baselines = Baselines::default();
        baselines.learn(&config, &stats("global", 0, 4, 4, 0));
        assert_eq!(baselines.expected(&config, "global", 0), None);
    }

    #[test]
    fn night_shift_wraps_midnight() {
        let config = BaselineConfig {
            slot: SlotKind::Shift,
            shifts: vec![
                ShiftConfig {
                    name: "day".into(),
                    start_hour: 7,
                    end_hour: 19,
                },
                ShiftConfig {
                    name: "night".into(),
                    start_hour: 19,
                    end_hour: 7,
                },
            ],
            ..BaselineConfig::default()
        };
        assert_eq!(slot_of(&config, 8 * HOUR), 0);
        assert_eq!(slot_of(&config, 23 * HOUR), 1);
        assert_eq!(slot_of(&config, 2 * HOUR), 1);
    }
}
