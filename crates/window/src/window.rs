//! Event-time tumbling windows per scope: outcome counts, shares, distinct users and approval
//! latency percentiles.

use std::collections::{BTreeMap, HashSet};

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::attempt::{LoginAttempt, OutcomeClass};
use crate::config::ScopeKind;
use crate::hash::WordBuild;
use crate::inventory::Platform;
use crate::time::Millis;

/// Highest approval latency the histogram records, in milliseconds (one hour); longer values
/// are clamped to it.
const MAX_LATENCY_MS: u64 = 3_600_000;

/// Approval latencies of one window and scope (HDR histogram, 3 significant digits).
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_MS, 3)
            .expect("constant histogram bounds are valid");
        LatencyHistogram(histogram)
    }
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn record(&mut self, latency_ms: u64) {
        self.0
            .saturating_record(latency_ms.clamp(1, MAX_LATENCY_MS));
    }

    /// Number of recorded latencies.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Returns whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Latency at `quantile` (0–1), or `None` when empty.
    pub fn quantile(&self, quantile: f64) -> Option<u64> {
        (!self.0.is_empty()).then(|| self.0.value_at_quantile(quantile))
    }
}

impl Serialize for LatencyHistogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<(u64, u64)> = self
            .0
            .iter_recorded()
            .map(|value| (value.value_iterated_to(), value.count_at_value()))
            .collect();
        pairs.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u64, u64)>::deserialize(deserializer)?;
        let mut histogram = LatencyHistogram::default();
        for (value, count) in pairs {
            histogram
                .0
                .saturating_record_n(value.clamp(1, MAX_LATENCY_MS), count);
        }
        Ok(histogram)
    }
}

/// Running totals of one window and scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accumulator {
    counts: [u64; 9],
    users: HashSet<String, WordBuild>,
    latency: LatencyHistogram,
    /// Up to [`EXAMPLES_PER_CLASS`] users per outcome class, in arrival order.
    examples: ExampleUsers,
}

/// Example users by outcome class, indexed by [`OutcomeClass::index`] so that adding an attempt
/// costs no map search. It is stored as a map from class to users, with only the classes that
/// have users, as earlier versions stored a `BTreeMap<OutcomeClass, Vec<String>>`.
#[derive(Debug, Clone, Default, PartialEq)]
struct ExampleUsers([Vec<String>; OutcomeClass::ALL.len()]);

impl ExampleUsers {
    /// Returns the example users of `class`.
    fn get(&self, class: OutcomeClass) -> &[String] {
        &self.0[class.index()]
    }

    /// Returns the example users of `class`, for adding to.
    fn get_mut(&mut self, class: OutcomeClass) -> &mut Vec<String> {
        &mut self.0[class.index()]
    }
}

impl Serialize for ExampleUsers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `ALL` is in declaration order, which is the derived `Ord` order a `BTreeMap` writes.
        serializer.collect_map(
            OutcomeClass::ALL
                .iter()
                .map(|class| (class, self.get(*class)))
                .filter(|(_, users)| !users.is_empty()),
        )
    }
}

impl<'de> Deserialize<'de> for ExampleUsers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = BTreeMap::<OutcomeClass, Vec<String>>::deserialize(deserializer)?;
        let mut examples = ExampleUsers::default();
        for (class, users) in stored {
            *examples.get_mut(class) = users;
        }
        Ok(examples)
    }
}

/// Example users kept per outcome class and window.
pub const EXAMPLES_PER_CLASS: usize = 5;

impl Accumulator {
    /// Adds one attempt.
    pub fn add(&mut self, attempt: &LoginAttempt) {
        self.counts[attempt.class.index()] += 1;
        if !self.users.contains(&attempt.user) {
            self.users.insert(attempt.user.clone());
        }
        if let (OutcomeClass::PushApproved, Some(latency)) = (attempt.class, attempt.latency_ms) {
            self.latency.record(latency);
        }
        let examples = self.examples.get_mut(attempt.class);
        if examples.len() < EXAMPLES_PER_CLASS && !examples.contains(&attempt.user) {
            examples.push(attempt.user.clone());
        }
    }

    /// Example users of `classes`, at most `limit`, without repeats.
    pub fn examples(&self, classes: &[OutcomeClass], limit: usize) -> Vec<String> {
        let mut users: Vec<String> = Vec::new();
        for class in classes {
            for user in self.examples.get(*class) {
                if users.len() < limit && !users.contains(user) {
                    users.push(user.clone());
                }
            }
        }
        users
    }

    /// Returns the users seen, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(String::as_str)
    }

    /// Freezes the totals into statistics.
    pub fn stats(&self, scope: &str, start: Millis, end: Millis) -> WindowStats {
        let count = |class: OutcomeClass| self.counts[class.index()];
        let second_factor: u64 = OutcomeClass::ALL
            .iter()
            .filter(|class| class.is_second_factor())
            .map(|class| count(*class))
            .sum();
        let totp: u64 = OutcomeClass::ALL
            .iter()
            .filter(|class| class.is_totp())
            .map(|class| count(*class))
            .sum();
        let share = |part: u64| (second_factor > 0).then(|| part as f64 / second_factor as f64);
        let approved = count(OutcomeClass::PushApproved);
        let fallback = count(OutcomeClass::TotpFallback);
        WindowStats {
            window_start: start,
            window_end: end,
            scope: scope.to_owned(),
            counts: OutcomeClass::ALL
                .iter()
                .map(|class| (class.as_str().to_owned(), count(*class)))
                .collect(),
            attempts: self.counts.iter().sum(),
            second_factor,
            push_approved: approved,
            totp_fallback: fallback,
            push_success_share: share(approved),
            totp_share: share(totp),
            fallback_share: share(fallback),
            push_to_totp_ratio: (approved > 0).then(|| fallback as f64 / approved as f64),
            distinct_users: self.users.len() as u64,
            latency_p50_ms: self.latency.quantile(0.50),
            latency_p95_ms: self.latency.quantile(0.95),
            latency_p99_ms: self.latency.quantile(0.99),
            late_lines: 0,
            fatigue_excluded_attempts: 0,
        }
    }
}

/// Statistics of one closed window and scope, for detectors, the HTML report and the optional
/// window-statistics topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Window start (inclusive).
    pub window_start: Millis,
    /// Window end (exclusive).
    pub window_end: Millis,
    /// Scope, e.g. `global`, `site:hq`, `platform:ios`.
    pub scope: String,
    /// Attempts per outcome class.
    pub counts: BTreeMap<String, u64>,
    /// All attempts.
    pub attempts: u64,
    /// Push and typed-code attempts (the denominator of the shares).
    pub second_factor: u64,
    /// Push approvals.
    pub push_approved: u64,
    /// TOTP fallbacks.
    pub totp_fallback: u64,
    /// Push approvals / second-factor attempts.
    pub push_success_share: Option<f64>,
    /// Typed codes (direct, fallback and failed) / second-factor attempts.
    pub totp_share: Option<f64>,
    /// TOTP fallbacks / second-factor attempts.
    pub fallback_share: Option<f64>,
    /// TOTP fallbacks / push approvals.
    pub push_to_totp_ratio: Option<f64>,
    /// Distinct users.
    pub distinct_users: u64,
    /// Median approval latency.
    pub latency_p50_ms: Option<u64>,
    /// 95th percentile approval latency.
    pub latency_p95_ms: Option<u64>,
    /// 99th percentile approval latency.
    pub latency_p99_ms: Option<u64>,
    /// Lines of this window that arrived after the watermark (global scope only).
    pub late_lines: u64,
    /// Attempts of this window left out of every scope because their user had an open MFA
    /// fatigue finding (global scope only).
    #[serde(default)]
    pub fatigue_excluded_attempts: u64,
}

/// Writes the scope name of `kind` for `attempt` into `name`, which is cleared first. Returns
/// false when the attempt has no such scope (no site, node or realm).
pub fn scope_name(attempt: &LoginAttempt, kind: ScopeKind, name: &mut String) -> bool {
    name.clear();
    let (prefix, value) = match kind {
        ScopeKind::Global => {
            name.push_str("global");
            return true;
        }
        ScopeKind::Site => ("site:", attempt.site.as_deref()),
        ScopeKind::Node => ("node:", attempt.node.as_deref()),
        ScopeKind::Platform => ("platform:", Some(attempt.platform.as_str())),
        ScopeKind::Realm => ("realm:", attempt.realm.as_deref()),
    };
    let Some(value) = value else {
        return false;
    };
    name.push_str(prefix);
    name.push_str(value);
    true
}

/// Returns the scope name of `kind` for `attempt`, or `None` when the attempt has no such
/// scope. Global and platform names are constants, and the others are built into `scratch`.
fn scope_key<'a>(
    attempt: &LoginAttempt,
    kind: ScopeKind,
    scratch: &'a mut String,
) -> Option<&'a str> {
    match kind {
        ScopeKind::Global => Some("global"),
        ScopeKind::Platform => Some(platform_scope(attempt.platform)),
        _ => scope_name(attempt, kind, scratch).then_some(scratch.as_str()),
    }
}

/// Returns the scope name of `platform`, the same text [`scope_name`] builds.
fn platform_scope(platform: Platform) -> &'static str {
    match platform {
        Platform::Ios => "platform:ios",
        Platform::Android => "platform:android",
        Platform::Unknown => "platform:unknown",
    }
}

/// Returns the kind of a scope string.
pub fn scope_kind(scope: &str) -> Option<ScopeKind> {
    let prefix = scope.split(':').next()?;
    match prefix {
        "global" => Some(ScopeKind::Global),
        "site" => Some(ScopeKind::Site),
        "node" => Some(ScopeKind::Node),
        "platform" => Some(ScopeKind::Platform),
        "realm" => Some(ScopeKind::Realm),
        _ => None,
    }
}

/// Open windows by start time, each with its per-scope accumulators.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WindowSet {
    open: BTreeMap<Millis, OpenWindow>,
    /// Reused for building scope names.
    #[serde(skip)]
    scratch: String,
}

/// One open window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenWindow {
    /// Accumulators by scope.
    pub scopes: BTreeMap<String, Accumulator>,
    /// Lines with event time in this window that arrived late.
    pub late_lines: u64,
    /// Attempts left out because their user had an open MFA fatigue finding.
    #[serde(default)]
    pub fatigue_excluded_attempts: u64,
    /// Push-service error events in this window.
    pub errors: Vec<ServiceEvent>,
}

/// A push-service error or HA event kept for findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// Event time.
    pub time: Millis,
    /// Signal kind name.
    pub kind: String,
    /// Sending device.
    pub source: Option<String>,
    /// Site of the sending device, when mapped.
    pub site: Option<String>,
    /// The line's message.
    pub message: Option<String>,
    /// Names of configured certificates the message names.
    pub certificates: Vec<String>,
}

impl WindowSet {
    /// Returns the window starting at `start`, creating it.
    pub fn window_mut(&mut self, start: Millis) -> &mut OpenWindow {
        self.open.entry(start).or_default()
    }

    /// Adds an attempt to the window at `start` under each scope of `kinds` it has.
    pub fn add(&mut self, start: Millis, kinds: &[ScopeKind], attempt: &LoginAttempt) {
        let window = self.open.entry(start).or_default();
        for kind in kinds {
            let Some(name) = scope_key(attempt, *kind, &mut self.scratch) else {
                continue;
            };
            match window.scopes.get_mut(name) {
                Some(accumulator) => accumulator.add(attempt),
                None => {
                    let mut accumulator = Accumulator::default();
                    accumulator.add(attempt);
                    window.scopes.insert(name.to_owned(), accumulator);
                }
            }
        }
    }

    /// Start of the oldest open window.
    pub fn oldest(&self) -> Option<Millis> {
        self.open.keys().next().copied()
    }

    /// Removes and returns the oldest window if it starts at or before `start`.
    pub fn pop_until(&mut self, start: Millis) -> Option<(Millis, OpenWindow)> {
        let oldest = self.oldest()?;
        if oldest > start {
            return None;
        }
        self.open.remove(&oldest).map(|window| (oldest, window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(user: &str, class: OutcomeClass, latency: Option<u64>) -> LoginAttempt {
        LoginAttempt {
            time: 0,
            end: 0,
            class,
            user: user.into(),
            realm: None,
            nas: None,
            site: Some("hq".into()),
            node: None,
            client_ip: None,
            platform: Platform::Ios,
            latency_ms: latency,
            reason: None,
            canary: false,
        }
    }

    #[test]
    fn stats_compute_shares_and_percentiles() {
        let mut accumulator = Accumulator::default();
        for (index, latency) in [4_000, 5_000, 6_000, 30_000].iter().enumerate() {
            accumulator.add(&attempt(
                &format!("u{index}"),
                OutcomeClass::PushApproved,
                Some(*latency),
            ));
        }
        accumulator.add(&attempt("u0", OutcomeClass::TotpFallback, None));
        accumulator.add(&attempt("u5", OutcomeClass::TotpDirect, None));
        accumulator.add(&attempt("u6", OutcomeClass::FirstFactorFailed, None));
        let stats = accumulator.stats("global", 0, 300_000);
        assert_eq!(stats.attempts, 7);
        assert_eq!(stats.second_factor, 6);
        assert_eq!(stats.push_success_share, Some(4.0 / 6.0));
        assert_eq!(stats.totp_share, Some(2.0 / 6.0));
        assert_eq!(stats.fallback_share, Some(1.0 / 6.0));
        assert_eq!(stats.push_to_totp_ratio, Some(0.25));
        assert_eq!(stats.distinct_users, 6);
        let p50 = stats.latency_p50_ms.expect("latencies recorded");
        assert!((4_990..=5_010).contains(&p50), "p50 {p50}");
        let p99 = stats.latency_p99_ms.expect("latencies recorded");
        assert!((29_900..=30_100).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn empty_window_has_no_shares() {
        let stats = Accumulator::default().stats("global", 0, 1);
        assert_eq!(stats.push_success_share, None);
        assert_eq!(stats.latency_p50_ms, None);
    }

    #[test]
    fn histogram_survives_serde() {
        let mut histogram = LatencyHistogram::default();
        histogram.record(1_234);
        histogram.record(9_999_999);
        let json = serde_json::to_string(&histogram).expect("serialisable");
        let back: LatencyHistogram = serde_json::from_str(&json).expect("deserialisable");
        assert_eq!(back.len(), 2);
        assert_eq!(back.quantile(1.0), histogram.quantile(1.0));
    }

    #[test]
    fn example_users_keep_stored_map_shape() {
        let mut accumulator = Accumulator::default();
        accumulator.add(&attempt("u1", OutcomeClass::TotpFallback, None));
        accumulator.add(&attempt("u2", OutcomeClass::PushApproved, None));
        accumulator.add(&attempt("u3", OutcomeClass::PushApproved, None));
        let json = serde_json::to_value(&accumulator.examples).expect("serialisable");
        assert_eq!(
            json.to_string(),
            r#"{"push_approved":["u2","u3"],"totp_fallback":["u1"]}"#
        );

        let old_shape: BTreeMap<OutcomeClass, Vec<String>> = BTreeMap::from([
            (OutcomeClass::PushDenied, vec!["d1".to_owned()]),
            (
                OutcomeClass::FirstFactorFailed,
                vec!["f1".to_owned(), "f2".to_owned()],
            ),
        ]);
        let text = serde_json::to_string(&old_shape).expect("serialisable");
        let back: ExampleUsers = serde_json::from_str(&text).expect("deserialisable");
        assert_eq!(back.get(OutcomeClass::PushDenied), ["d1"]);
        assert_eq!(back.get(OutcomeClass::FirstFactorFailed), ["f1", "f2"]);
        assert!(back.get(OutcomeClass::PushApproved).is_empty());
        let again = serde_json::to_string(&back).expect("serialisable");
        assert_eq!(again, text);
    }

    #[test]
    fn examples_cap_per_class_without_repeats() {
        let mut accumulator = Accumulator::default();
        for index in 0..8 {
            accumulator.add(&attempt(
                &format!("u{index}"),
                OutcomeClass::PushTimeout,
                None,
            ));
        }
        accumulator.add(&attempt("u0", OutcomeClass::PushDenied, None));
        accumulator.add(&attempt("u0", OutcomeClass::PushDenied, None));
        let timeouts = accumulator.examples(&[OutcomeClass::PushTimeout], 10);
        assert_eq!(timeouts, ["u0", "u1", "u2", "u3", "u4"]);
        let denied = accumulator.examples(&[OutcomeClass::PushDenied], 10);
        assert_eq!(denied, ["u0"]);
        let both = accumulator.examples(&[OutcomeClass::PushDenied, OutcomeClass::PushTimeout], 3);
        assert_eq!(both, ["u0", "u1", "u2"]);
    }

    #[test]
    fn scope_key_matches_scope_name() {
        let kinds = [
            ScopeKind::Global,
            ScopeKind::Site,
            ScopeKind::Node,
            ScopeKind::Platform,
            ScopeKind::Realm,
        ];
        for platform in [Platform::Ios, Platform::Android, Platform::Unknown] {
            let mut sample = attempt("a", OutcomeClass::PushApproved, None);
            sample.platform = platform;
            sample.node = Some("fac1".into());
            for kind in kinds {
                let mut built = String::new();
                let has_scope = scope_name(&sample, kind, &mut built);
                let mut scratch = String::new();
                let key = scope_key(&sample, kind, &mut scratch);
                assert_eq!(
                    key,
                    has_scope.then_some(built.as_str()),
                    "{kind:?} {platform:?}"
                );
            }
        }
    }

    #[test]
    fn scopes_follow_configured_kinds() {
        let mut set = WindowSet::default();
        let kinds = [
            ScopeKind::Global,
            ScopeKind::Site,
            ScopeKind::Node,
            ScopeKind::Platform,
        ];
        set.add(0, &kinds, &attempt("a", OutcomeClass::PushApproved, None));
        set.add(
            0,
            &kinds[1..],
            &attempt("b", OutcomeClass::TotpDirect, None),
        );
        let (_, window) = set.pop_until(0).expect("window at 0");
        let scopes: Vec<(&str, usize)> = window
            .scopes
            .iter()
            .map(|(scope, accumulator)| (scope.as_str(), accumulator.users().count()))
            .collect();
        assert_eq!(
            scopes,
            vec![("global", 1), ("platform:ios", 2), ("site:hq", 2)]
        );
    }
}
