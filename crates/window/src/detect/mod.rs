//! Detectors: decisions taken when a window closes (population detectors against baselines,
//! push-service errors, HA context, log-source silence) and on single attempts (MFA fatigue).
//! Every decision uses event time only.

pub mod config;
mod events;
mod population;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

pub use events::SourceActivity;

use crate::baseline::Baselines;
use crate::certificate::expires_within_a_day;
use crate::config::Config;
use crate::finding::{pseudonymise, Evidence, FindingBook, FindingRecord};
use crate::inventory::Platform;
use crate::time::{format_rfc3339, Millis};
use crate::window::{Accumulator, ServiceEvent, WindowStats};

/// Detector names, as used in `finding_info.types` and `[detectors.<name>]`.
pub mod names {
    /// No push approvals while logins go on.
    pub const PUSH_SILENCE: &str = "push_silence";
    /// Push success share below the baseline.
    pub const PUSH_SUCCESS_DROP: &str = "push_success_drop";
    /// TOTP fallback share above the baseline.
    pub const FALLBACK_SURGE: &str = "fallback_surge";
    /// One platform falls while the other holds.
    pub const PLATFORM_DIVERGENCE: &str = "platform_divergence";
    /// Approval latency above the baseline.
    pub const APPROVAL_LATENCY: &str = "approval_latency";
    /// Push-service error events.
    pub const PUSH_SERVICE_ERRORS: &str = "push_service_errors";
    /// HA role change.
    pub const HA_FAILOVER: &str = "ha_failover";
    /// Many push failures for one user.
    pub const MFA_FATIGUE: &str = "mfa_fatigue";
    /// A log source stopped sending.
    pub const SOURCE_SILENCE: &str = "source_silence";
    /// A canary login did not approve a push.
    pub const CANARY_MISSED: &str = "canary_missed";
    /// A push-path certificate nears or passes expiry.
    pub const CERTIFICATE_EXPIRING: &str = "certificate_expiring";

    /// Detectors whose open findings mean a push outage: they suppress MFA fatigue findings
    /// for their scope, and canaries corroborate them.
    pub const OUTAGE: [&str; 4] = [
        PUSH_SILENCE,
        PUSH_SUCCESS_DROP,
        FALLBACK_SURGE,
        PLATFORM_DIVERGENCE,
    ];
}

/// Consecutive firing and clear windows of one detector and scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streak {
    fire: u32,
    clear: u32,
}

/// A detector's verdict on one window and scope.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The condition holds.
    Fire(Evidence),
    /// The clear condition holds.
    Clear(Evidence),
    /// Not enough data, or between the fire and clear thresholds: streaks are kept.
    Hold,
}

/// Outcome that a streak step requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Open the finding.
    Open,
    /// Refresh the open finding.
    Refresh,
    /// Resolve it.
    Resolve,
    /// Nothing.
    None,
}

impl Streak {
    /// Advances the streak by one window.
    pub fn step(
        &mut self,
        verdict: &Verdict,
        open: bool,
        fire_windows: u32,
        clear_windows: u32,
    ) -> Transition {
        match verdict {
            Verdict::Fire(_) => {
                self.fire = self.fire.saturating_add(1);
                self.clear = 0;
                if open {
                    Transition::Refresh
                } else if self.fire >= fire_windows {
                    Transition::Open
                } else {
                    Transition::None
                }
            }
            Verdict::Clear(_) => {
                self.clear = self.clear.saturating_add(1);
                self.fire = 0;
                if open && self.clear >= clear_windows {
                    Transition::Resolve
                } else {
                    Transition::None
                }
            }
            Verdict::Hold => Transition::None,
        }
    }
}

/// Detector state that outlives one window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DetectorState {
    streaks: BTreeMap<String, Streak>,
    /// Windows in a row without push-service errors.
    quiet_error_windows: u32,
    /// Recent HA role changes: (time, node, message).
    ha_events: VecDeque<ServiceEvent>,
    /// Push failures per user for MFA fatigue.
    fatigue: BTreeMap<String, events::FatigueUser>,
    /// Lines per source and window.
    pub sources: SourceActivity,
    /// Fatigue findings not opened because an outage finding covered the user.
    pub suppressed_fatigue: u64,
    /// MFA fatigue findings resolved because an outage finding explains them.
    #[serde(default)]
    pub explained_fatigue: u64,
}

/// Everything a window close needs to read.
pub struct Closing<'a> {
    /// Configuration.
    pub config: &'a Config,
    /// Window start.
    pub start: Millis,
    /// Window end.
    pub end: Millis,
    /// Statistics by scope.
    pub stats: &'a BTreeMap<String, WindowStats>,
    /// Accumulators by scope (for example users).
    pub accumulators: &'a BTreeMap<String, Accumulator>,
    /// Learned baselines.
    pub baselines: &'a Baselines,
    /// Push-service errors in this window.
    pub errors: &'a [ServiceEvent],
    /// Whether a token inventory is loaded (platform detectors need one).
    pub has_inventory: bool,
}

impl Closing<'_> {
    /// Window length.
    pub fn size(&self) -> Millis {
        self.end - self.start
    }

    /// Example users of a scope for `classes`, pseudonymised when configured.
    pub fn examples(&self, scope: &str, classes: &[crate::attempt::OutcomeClass]) -> Vec<String> {
        let limit = self.config.findings.max_example_users;
        let users = self
            .accumulators
            .get(scope)
            .map(|acc| acc.examples(classes, limit))
            .unwrap_or_default();
        users
            .into_iter()
            .map(|user| display_user(self.config, &user))
            .collect()
    }
}

/// Returns a user name as shown in findings: pseudonymised when a key is configured.
pub fn display_user(config: &Config, user: &str) -> String {
    match &config.findings.pseudonym_key {
        Some(key) => pseudonymise(key, user),
        None => user.to_owned(),
    }
}

impl DetectorState {
    /// Runs every window detector on a closed window and appends the records.
    pub fn close_window(
        &mut self,
        closing: &Closing<'_>,
        book: &mut FindingBook,
        out: &mut Vec<FindingRecord>,
    ) {
        population::run(self, closing, book, out);
        events::fatigue_explained(self, closing, book, out);
        events::service_errors(self, closing, book, out);
        events::ha_resolve(self, closing, book, out);
        events::fatigue_resolve(self, closing, book, out);
        events::source_silence(self, closing, book, out);
        refresh_causes(self, closing, book, out);
    }

    /// Returns whether an outage detector is firing in `scope` (a finding open or about to
    /// open), so that the window is kept out of the baseline.
    pub fn is_firing(&self, scope: &str) -> bool {
        names::OUTAGE.iter().any(|detector| {
            self.streaks
                .get(&format!("{detector}|{scope}"))
                .is_some_and(|streak| streak.fire > 0)
        })
    }

    fn streak(&mut self, detector: &str, scope: &str) -> &mut Streak {
        self.streaks
            .entry(format!("{detector}|{scope}"))
            .or_default()
    }

    /// Records an HA role change and opens the `ha_failover` finding for its node.
    pub fn ha_event(
        &mut self,
        config: &Config,
        event: ServiceEvent,
        book: &mut FindingBook,
        out: &mut Vec<FindingRecord>,
    ) {
        events::ha_event(self, config, event, book, out);
    }

    /// Records a closed attempt for MFA fatigue.
    pub fn fatigue_attempt(
        &mut self,
        config: &Config,
        attempt: &crate::attempt::LoginAttempt,
        book: &mut FindingBook,
        out: &mut Vec<FindingRecord>,
    ) {
        events::fatigue_attempt(self, config, attempt, book, out);
    }

    /// Returns whether `user` (a normalised user name) has an open MFA fatigue finding. The
    /// engine keeps such a user's attempts out of the population windows, so that one attacked
    /// account cannot move the statistics that the outage detectors read.
    pub fn is_under_fatigue(&self, book: &FindingBook, user: &str) -> bool {
        // Most attempts arrive while no fatigue finding is open. That check reads the few open
        // findings, but the user lookup would search every user with a failed push.
        if book.open_count(names::MFA_FATIGUE, 1) == 0 {
            return false;
        }
        self.fatigue
            .get(user)
            .is_some_and(|entry| book.is_open(names::MFA_FATIGUE, &entry.scope))
    }

    /// Returns whether more than `limit` users have an open MFA fatigue finding.
    pub fn fatigue_is_widespread(&self, book: &FindingBook, limit: u64) -> bool {
        let cap = usize::try_from(limit).unwrap_or(usize::MAX - 1) + 1;
        book.open_count(names::MFA_FATIGUE, cap) >= cap
    }
}

/// Returns the probable causes of an outage finding in `scope`, most likely first: certificates of the
/// scope that expired or expire within a day, push-service errors of the window, recent HA
/// role changes, then the usual suspects of the platform.
pub fn probable_causes(state: &DetectorState, closing: &Closing<'_>, scope: &str) -> Vec<String> {
    let mut causes = Vec::new();
    for certificate in &closing.config.certificates {
        if certificate_serves(certificate, scope) && expires_within_a_day(certificate, closing.end)
        {
            let expired = crate::time::parse_rfc3339(&certificate.expires)
                .is_some_and(|time| time <= closing.end);
            causes.push(format!(
                "certificate {} ({}) {} {}",
                certificate.name,
                certificate.protects.as_str(),
                if expired { "expired at" } else { "expires at" },
                certificate.expires
            ));
        }
    }
    if !closing.errors.is_empty() {
        let mut kinds: Vec<&str> = closing
            .errors
            .iter()
            .map(|event| event.kind.as_str())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        causes.push(format!(
            "push-service error events in the window ({})",
            kinds.join(", ")
        ));
    }
    let context = closing.size() * i64::from(closing.config.detectors.ha_failover.context_windows);
    for event in &state.ha_events {
        if event.time <= closing.end && closing.end - event.time <= context {
            causes.push(format!(
                "HA role change on {} at {}",
                event.source.as_deref().unwrap_or("unknown device"),
                format_rfc3339(event.time)
            ));
        }
    }
    let platform = scope_platform(scope);
    if matches!(platform, Some(Platform::Ios) | None) {
        causes.push(
            "APNs delivery to iOS phones (Apple push certificate or Apple service)".to_owned(),
        );
    }
    if matches!(platform, Some(Platform::Android) | None) {
        causes.push(
            "FCM delivery to Android phones (Firebase credentials or Google service)".to_owned(),
        );
    }
    causes.push("FortiAuthenticator or FortiGate cannot reach push.fortinet.com on TCP 443 (firewall, DNS, SSL inspection)".to_owned());
    causes.push(
        "phones reject the callback server certificate (invalid server certificate)".to_owned(),
    );
    causes
}

/// Open canary findings that corroborate an outage finding in `scope`.
pub fn corroboration(book: &FindingBook, scope: &str) -> Vec<String> {
    let platform = scope_platform(scope);
    book.open_findings()
        .filter(|finding| finding.detector == names::CANARY_MISSED)
        .filter(|finding| {
            let canary_scope = finding.scope.as_str();
            match (scope, platform) {
                ("global", _) => true,
                (_, Some(platform)) => {
                    canary_scope.ends_with(&format!("platform:{}", platform.as_str()))
                }
                (site, None) => canary_scope.starts_with(&format!("{site},")),
            }
        })
        .map(|finding| {
            let user = finding
                .evidence
                .details
                .get("canary")
                .cloned()
                .unwrap_or_default();
            format!("{}|{} ({user})", finding.detector, finding.scope)
        })
        .collect()
}

fn scope_platform(scope: &str) -> Option<Platform> {
    scope
        .split(',')
        .find_map(|part| part.strip_prefix("platform:"))
        .and_then(Platform::parse)
}

fn certificate_serves(certificate: &crate::config::CertificateConfig, scope: &str) -> bool {
    if scope == "global" {
        return true;
    }
    if let Some(platform) = scope_platform(scope) {
        return certificate.served_platforms().contains(&platform);
    }
    if let Some(site) = scope.strip_prefix("site:") {
        return certificate.sites.is_empty() || certificate.sites.iter().any(|s| s == site);
    }
    true
}

/// Refreshes probable causes and corroboration of every open outage finding, emitting an
/// Update when they changed.
fn refresh_causes(
    state: &DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let open: Vec<(String, String)> = book
        .open_findings()
        .filter(|finding| names::OUTAGE.contains(&finding.detector.as_str()))
        .map(|finding| (finding.detector.clone(), finding.scope.clone()))
        .collect();
    for (detector, scope) in open {
        let Some(finding) = book.get(&detector, &scope) else {
            continue;
        };
        let severity = finding.severity;
        let mut evidence = finding.evidence.clone();
        evidence.probable_causes = probable_causes(state, closing, &scope);
        evidence.corroborated_by = corroboration(book, &scope);
        if let Some(record) = book.update(
            &detector,
            &scope,
            severity,
            evidence,
            closing.end,
            closing.start,
        ) {
            out.push(record);
        }
    }
}

#[cfg(test)]
mod tests;
