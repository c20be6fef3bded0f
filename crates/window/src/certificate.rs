//! Certificate countdowns: a configured push-path certificate opens `certificate_expiring` 30
//! days before expiry, is updated at 10 days and 1 day, and turns critical once expired, all in
//! event time so that a backtest shows when each step would have fired. The logs carry no
//! renewal, so a countdown ends when the configuration does: its entry gets a later `expires`,
//! or it is removed (see [`CertificateTracker::renewed`]).

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

/// A countdown that ended because the configuration changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Renewal {
    /// Certificate name.
    pub name: String,
    /// Expiry the countdown ran to.
    pub old_expires: Millis,
    /// The later expiry now configured, or `None` when the entry was removed.
    pub new_expires: Option<Millis>,
}

/// The reached stage of every certificate, and the expiry it was reached for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateTracker {
    reached: BTreeMap<String, usize>,
    /// Expiry of each entry of `reached`. States saved before it existed lack it; the
    /// configured expiry is then taken as the one the countdown ran to.
    #[serde(default)]
    expiries: BTreeMap<String, Millis>,
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
    /// Ends the countdown of every certificate whose entry now has a later `expires` (it was
    /// renewed) or is gone from `certificates`, and returns them so that their findings can
    /// be resolved. A renewed certificate starts a new countdown at its new expiry. An entry
    /// whose `expires` moved earlier keeps its countdown, which [`CertificateTracker::due`]
    /// moves on to the stage of the new date.
    pub fn renewed(&mut self, certificates: &[CertificateConfig]) -> Vec<Renewal> {
        let mut renewals = Vec::new();
        let names: Vec<String> = self.reached.keys().cloned().collect();
        for name in names {
            let configured = certificates
                .iter()
                .find(|certificate| certificate.name == name)
                .and_then(|certificate| parse_rfc3339(&certificate.expires));
            let Some(&old_expires) = self.expiries.get(&name) else {
                match configured {
                    Some(expires) => {
                        self.expiries.insert(name, expires);
                    }
                    None => {
                        self.reached.remove(&name);
                    }
                }
                continue;
            };
            if configured.is_some_and(|expires| expires <= old_expires) {
                continue;
            }
            self.reached.remove(&name);
            self.expiries.remove(&name);
            renewals.push(Renewal {
                name,
                old_expires,
                new_expires: configured,
            });
        }
        renewals
    }

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
            self.expiries.insert(certificate.name.clone(), expires);
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
    fn renewal_ends_the_countdown() {
        let config = CertificateExpiringConfig::default();
        let expiry = parse_rfc3339("2026-04-01T00:00:00Z").expect("valid time");
        let mut tracker = CertificateTracker::default();
        let old = vec![apns("2026-04-01T00:00:00Z")];
        assert_eq!(tracker.due(&config, &old, expiry - 5 * DAY).len(), 1);
        assert!(tracker.renewed(&old).is_empty(), "same entry, no renewal");

        let renewed = vec![apns("2027-04-01T00:00:00Z")];
        let renewals = tracker.renewed(&renewed);
        assert_eq!(renewals.len(), 1);
        assert_eq!(renewals[0].name, "apns-prod");
        assert_eq!(renewals[0].old_expires, expiry);
        assert_eq!(
            renewals[0].new_expires,
            parse_rfc3339("2027-04-01T00:00:00Z")
        );
        assert!(tracker.renewed(&renewed).is_empty(), "reported once");
        assert!(
            tracker.due(&config, &renewed, expiry).is_empty(),
            "the new countdown starts 30 days before the new expiry"
        );
    }

    #[test]
    fn removed_entry_ends_the_countdown() {
        let config = CertificateExpiringConfig::default();
        let expiry = parse_rfc3339("2026-04-01T00:00:00Z").expect("valid time");
        let mut tracker = CertificateTracker::default();
        tracker.due(&config, &[apns("2026-04-01T00:00:00Z")], expiry);
        let renewals = tracker.renewed(&[]);
        assert_eq!(renewals.len(), 1);
        assert_eq!(renewals[0].new_expires, None);
    }

    #[test]
    fn earlier_expiry_moves_the_countdown_on() {
        let config = CertificateExpiringConfig::default();
        let expiry = parse_rfc3339("2026-04-01T00:00:00Z").expect("valid time");
        let mut tracker = CertificateTracker::default();
        tracker.due(&config, &[apns("2026-04-01T00:00:00Z")], expiry - 20 * DAY);
        let earlier = vec![apns("2026-03-15T00:00:00Z")];
        assert!(tracker.renewed(&earlier).is_empty());
        let steps = tracker.due(&config, &earlier, expiry - 20 * DAY);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].label, "10 days");
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
