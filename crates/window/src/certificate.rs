//! Certificate countdowns: a configured push-path certificate opens `certificate_expiring` 30
//! days before expiry, is updated at 10 days and 1 day, and turns critical once expired, all in
//! event time so that a backtest shows when each step would have fired.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{CertificateConfig, CertificateExpiringConfig};
use crate::finding::Severity;
use crate::time::{parse_rfc3339, Millis, DAY};

/// One countdown step that is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Certificate name.
    pub name: String,
    /// Stage index: 0 = opened, 1.. = updates, last = expired.
    pub stage: usize,
    /// Stage label, e.g. `30 days`, `1 day`, `expired`.
    pub label: String,
    /// Event time at which the step is due (expiry minus the days).
    pub time: Millis,
    /// Severity for the step.
    pub severity: Severity,
    /// Expiry time.
    pub expires: Millis,
}

/// The reached stage of every certificate.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateTracker {
    reached: BTreeMap<String, usize>,
}

/// Returns the countdown thresholds of a certificate: (days before expiry, label, severity).
fn thresholds(config: &CertificateExpiringConfig) -> Vec<(u64, String, Severity)> {
    let mut steps = vec![(
        config.open_days,
        format!("{} days", config.open_days),
        Severity::Low,
    )];
    for (index, days) in config.update_days.iter().enumerate() {
        let severity = if index + 1 == config.update_days.len() {
            Severity::High
        } else {
            Severity::Medium
        };
        let label = if *days == 1 {
            "1 day".to_owned()
        } else {
            format!("{days} days")
        };
        steps.push((*days, label, severity));
    }
    steps.push((0, "expired".to_owned(), Severity::Critical));
    steps
}

impl CertificateTracker {
    /// Returns the most advanced step of each certificate that became due at or before `now`
    /// and was not reached before. Steps skipped in one call (a replay that starts late)
    /// collapse into the latest one.
    pub fn due(
        &mut self,
        config: &CertificateExpiringConfig,
        certificates: &[CertificateConfig],
        now: Millis,
    ) -> Vec<Step> {
        let steps = thresholds(config);
        let mut due = Vec::new();
        for certificate in certificates {
            let Some(expires) = parse_rfc3339(&certificate.expires) else {
                continue;
            };
            let reached = self.reached.get(&certificate.name).copied();
            let latest = steps.iter().enumerate().rev().find(|(_, (days, _, _))| {
                expires.saturating_sub(i64::try_from(*days).unwrap_or(0).saturating_mul(DAY)) <= now
            });
            let Some((stage, (days, label, severity))) = latest else {
                continue;
            };
            if reached.is_some_and(|reached| reached >= stage) {
                continue;
            }
            self.reached.insert(certificate.name.clone(), stage);
            due.push(Step {
                name: certificate.name.clone(),
                stage,
                label: label.clone(),
                time: expires.saturating_sub(i64::try_from(*days).unwrap_or(0).saturating_mul(DAY)),
                severity: *severity,
                expires,
            });
        }
        due
    }
}

/// Returns whether `certificate` has expired or expires within one day of `now`.
pub fn expires_within_a_day(certificate: &CertificateConfig, now: Millis) -> bool {
    parse_rfc3339(&certificate.expires).is_some_and(|expires| expires <= now.saturating_add(DAY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CertificateRole;

    fn apns(expires: &str) -> CertificateConfig {
        CertificateConfig {
            name: "apns-prod".into(),
            protects: CertificateRole::Apns,
            expires: expires.into(),
            sites: Vec::new(),
            platforms: Vec::new(),
        }
    }

    #[test]
    fn steps_fire_at_thresholds() {
        let config = CertificateExpiringConfig::default();
        let certificates = vec![apns("2026-04-01T00:00:00Z")];
        let expiry = parse_rfc3339("2026-04-01T00:00:00Z").expect("valid time");
        let mut tracker = CertificateTracker::default();
        assert!(tracker
            .due(&config, &certificates, expiry - 31 * DAY)
            .is_empty());
        let open = tracker.due(&config, &certificates, expiry - 29 * DAY);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].stage, 0);
        assert_eq!(open[0].time, expiry - 30 * DAY);
        assert!(tracker
            .due(&config, &certificates, expiry - 20 * DAY)
            .is_empty());
        let ten = tracker.due(&config, &certificates, expiry - 10 * DAY);
        assert_eq!(ten[0].label, "10 days");
        let one_day = tracker.due(&config, &certificates, expiry - DAY + 1);
        assert_eq!(one_day[0].label, "1 day");
        assert_eq!(one_day[0].severity, Severity::High);
        let expired = tracker.due(&config, &certificates, expiry);
        assert_eq!(expired[0].label, "expired");
        assert_eq!(expired[0].severity, Severity::Critical);
        assert!(tracker.due(&config, &certificates, expiry + DAY).is_empty());
    }

    #[test]
    fn late_start_collapses_steps() {
        let config = CertificateExpiringConfig::default();
        let certificates = vec![apns("2026-04-01T00:00:00Z")];
        let expiry = parse_rfc3339("2026-04-01T00:00:00Z").expect("valid time");
        let mut tracker = CertificateTracker::default();
        let steps = tracker.due(&config, &certificates, expiry - 5 * DAY);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].label, "10 days");
    }
}
