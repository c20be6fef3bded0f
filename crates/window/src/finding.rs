//! Findings and their lifecycle (opened → updated → resolved), serialised as OCSF Detection
//! Finding records (class_uid 2004, OCSF 1.3).

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::time::{format_rfc3339, Millis};

/// OCSF severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// severity_id 1.
    Informational,
    /// severity_id 2.
    Low,
    /// severity_id 3.
    Medium,
    /// severity_id 4.
    High,
    /// severity_id 5.
    Critical,
}

impl Severity {
    /// OCSF `severity_id`.
    pub fn id(self) -> u8 {
        match self {
            Severity::Informational => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }

    /// OCSF `severity` caption.
    pub fn caption(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }
}

/// Lifecycle step of one emitted finding record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// The finding opened (OCSF activity 1, Create; status New).
    Create,
    /// Its severity, causes or corroboration changed (activity 2, Update; status In Progress).
    Update,
    /// It resolved (activity 3, Close; status Resolved).
    Close,
}

impl Activity {
    /// OCSF `activity_id`.
    pub fn id(self) -> u8 {
        match self {
            Activity::Create => 1,
            Activity::Update => 2,
            Activity::Close => 3,
        }
    }

    /// OCSF `activity_name`.
    pub fn name(self) -> &'static str {
        match self {
            Activity::Create => "Create",
            Activity::Update => "Update",
            Activity::Close => "Close",
        }
    }

    fn status(self) -> (u8, &'static str) {
        match self {
            Activity::Create => (1, "New"),
            Activity::Update => (2, "In Progress"),
            Activity::Close => (4, "Resolved"),
        }
    }
}

/// Evidence of a finding (the detector's observation), carried in `evidences[0].data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Start of the window the decision was made on.
    pub window_start: Millis,
    /// End of that window.
    pub window_end: Millis,
    /// Name of the metric compared.
    pub metric: String,
    /// Observed value.
    pub observed: Option<f64>,
    /// Baseline (expected) value.
    pub baseline: Option<f64>,
    /// Number of samples behind `observed`.
    pub samples: u64,
    /// Distinct users behind `observed`.
    pub distinct_users: u64,
    /// Scope compared with, e.g. `platform:android` when iOS fell.
    pub comparison_scope: Option<String>,
    /// Value of the metric in the comparison scope.
    pub comparison_observed: Option<f64>,
    /// Probable causes, most likely first.
    pub probable_causes: Vec<String>,
    /// Other findings that confirm this one (canary accounts).
    pub corroborated_by: Vec<String>,
    /// Up to five example users (pseudonymised when configured).
    pub example_users: Vec<String>,
    /// Free-form details (log messages, certificate names, canary outcome).
    pub details: BTreeMap<String, String>,
}

/// A finding: one detector's verdict on one scope, with its latest evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Detector name (snake_case), e.g. `push_silence`.
    pub detector: String,
    /// Scope, e.g. `global`, `site:hq`, `platform:ios`, `user:3f2a…`.
    pub scope: String,
    /// Title for people.
    pub title: String,
    /// Current severity.
    pub severity: Severity,
    /// Event time the finding opened.
    pub opened: Millis,
    /// Latest evidence.
    pub evidence: Evidence,
}

impl Finding {
    /// Returns the Kafka key and uid input: `detector|scope`.
    pub fn key(&self) -> String {
        format!("{}|{}", self.detector, self.scope)
    }

    /// Stable `finding_info.uid`: the first 32 hex digits of SHA-256 of `detector|scope`.
    pub fn uid(&self) -> String {
        hex_prefix(&Sha256::digest(self.key().as_bytes()), 16)
    }
}

/// One emitted lifecycle record of a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// Lifecycle step.
    pub activity: Activity,
    /// Event time of the step.
    pub time: Millis,
    /// The finding after the step.
    pub finding: Finding,
    /// Sequence number of this record within the finding's history (0 for the first Create).
    pub sequence: u64,
}

impl FindingRecord {
    /// Returns the Kafka key `detector|scope`.
    pub fn key(&self) -> String {
        self.finding.key()
    }

    /// Returns a unique, run-independent id of this record: 32 hex digits of SHA-256 over the uid,
    /// the sequence number, the activity and the time.
    pub fn record_id(&self) -> String {
        let input = format!(
            "{}|{}|{}|{}",
            self.finding.uid(),
            self.sequence,
            self.activity.id(),
            self.time
        );
        hex_prefix(&Sha256::digest(input.as_bytes()), 16)
    }

    /// Serialises the record as an OCSF Detection Finding.
    pub fn to_ocsf(&self, product_name: &str) -> Value {
        let finding = &self.finding;
        let (status_id, status) = self.activity.status();
        let evidence = &finding.evidence;
        json!({
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": self.activity.id(),
            "activity_name": self.activity.name(),
            "type_uid": 200400 + u32::from(self.activity.id()),
            "type_name": format!("Detection Finding: {}", self.activity.name()),
            "severity_id": finding.severity.id(),
            "severity": finding.severity.caption(),
            "status_id": status_id,
            "status": status,
            "time": self.time,
            "time_dt": format_rfc3339(self.time),
            "message": finding.title,
            "metadata": {
                "version": "1.3.0",
                "uid": self.record_id(),
                "correlation_uid": self.key(),
                "sequence": self.sequence,
                "product": { "name": product_name, "vendor_name": product_name },
            },
            "finding_info": {
                "uid": finding.uid(),
                "title": finding.title,
                "types": [finding.detector],
                "created_time": finding.opened,
                "first_seen_time": finding.opened,
                "last_seen_time": self.time,
                "src_url": Value::Null,
            },
            "resources": [{ "type": "scope", "name": finding.scope }],
            "evidences": [{ "data": evidence_json(evidence) }],
        })
    }
}

fn evidence_json(evidence: &Evidence) -> Value {
    json!({
        "window_start": evidence.window_start,
        "window_end": evidence.window_end,
        "window_start_dt": format_rfc3339(evidence.window_start),
        "window_end_dt": format_rfc3339(evidence.window_end),
        "metric": evidence.metric,
        "observed": evidence.observed.map(round4),
        "baseline": evidence.baseline.map(round4),
        "samples": evidence.samples,
        "distinct_users": evidence.distinct_users,
        "comparison_scope": evidence.comparison_scope,
        "comparison_observed": evidence.comparison_observed.map(round4),
        "probable_causes": evidence.probable_causes,
        "corroborated_by": evidence.corroborated_by,
        "example_users": evidence.example_users,
        "details": evidence.details,
    })
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn hex_prefix(bytes: &[u8], count: usize) -> String {
    bytes
        .iter()
        .take(count)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Pseudonymises a user name with HMAC-SHA-256 under `key`; returns the first 16 hex digits.
pub fn pseudonymise(key: &str, user: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(user.as_bytes());
            hex_prefix(&mac.finalize().into_bytes(), 8)
        }
        // HMAC accepts keys of any length, so this arm is not reached; hashing without a key
        // would leak names, so fall back to a fixed marker.
        Err(_) => "pseudonymised".to_owned(),
    }
}

/// The open findings and their lifecycle. Emits at most one Update per finding per window.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FindingBook {
    open: BTreeMap<String, OpenEntry>,
    /// Count of records ever emitted per finding key, for sequence numbers.
    sequences: BTreeMap<String, u64>,
    /// Findings opened.
    pub opened: u64,
    /// Finding updates emitted.
    pub updated: u64,
    /// Findings resolved.
    pub resolved: u64,
}

/// Calls `f` with the book key `detector|scope`, built on the stack when it is short because
/// the per-attempt checks would otherwise allocate it on every call.
fn with_key<R>(detector: &str, scope: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 160];
    let length = detector.len() + 1 + scope.len();
    if length > buffer.len() {
        return f(&format!("{detector}|{scope}"));
    }
    buffer[..detector.len()].copy_from_slice(detector.as_bytes());
    buffer[detector.len()] = b'|';
    buffer[detector.len() + 1..length].copy_from_slice(scope.as_bytes());
    match std::str::from_utf8(&buffer[..length]) {
        Ok(key) => f(key),
        // Unreachable: the buffer joins two `str` values with an ASCII byte.
        Err(_) => f(&format!("{detector}|{scope}")),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenEntry {
    finding: Finding,
    last_update_window: Option<Millis>,
}

impl FindingBook {
    /// Returns whether `detector|scope` is open. Runs for many attempts, so short keys are
    /// built on the stack.
    pub fn is_open(&self, detector: &str, scope: &str) -> bool {
        with_key(detector, scope, |key| self.open.contains_key(key))
    }

    /// Number of open findings of `detector`, counting no further than `cap`.
    ///
    /// Runs for many attempts, so no key is built. The keys that start with `detector` sort
    /// together, and those with `|` right after the name belong to it. A longer detector name,
    /// such as `a_b` next to `a`, has another byte there.
    pub fn open_count(&self, detector: &str, cap: usize) -> usize {
        self.open
            .range::<str, _>((
                std::ops::Bound::Included(detector),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(key, _)| key.starts_with(detector))
            .filter(|(key, _)| key.as_bytes().get(detector.len()) == Some(&b'|'))
            .take(cap)
            .count()
    }

    /// Returns the open finding of `detector|scope`.
    pub fn get(&self, detector: &str, scope: &str) -> Option<&Finding> {
        self.open
            .get(&format!("{detector}|{scope}"))
            .map(|entry| &entry.finding)
    }

    /// Iterates over the open findings in key order.
    pub fn open_findings(&self) -> impl Iterator<Item = &Finding> {
        self.open.values().map(|entry| &entry.finding)
    }

    /// Opens `finding` at `time` unless it is open already; returns the Create record.
    pub fn open(&mut self, finding: Finding, time: Millis) -> Option<FindingRecord> {
        let key = finding.key();
        if self.open.contains_key(&key) {
            return None;
        }
        self.opened += 1;
        let sequence = self.next_sequence(&key);
        self.open.insert(
            key,
            OpenEntry {
                finding: finding.clone(),
                last_update_window: None,
            },
        );
        Some(FindingRecord {
            activity: Activity::Create,
            time,
            finding,
            sequence,
        })
    }

    /// Replaces the evidence and severity of an open finding. Emits an Update when the
    /// severity, probable causes, corroboration or stage changed and no Update was emitted for
    /// this finding in `window` yet. Evidence without such a change is stored silently.
    pub fn update(
        &mut self,
        detector: &str,
        scope: &str,
        severity: Severity,
        evidence: Evidence,
        time: Millis,
        window: Millis,
    ) -> Option<FindingRecord> {
        let key = format!("{detector}|{scope}");
        let entry = self.open.get_mut(&key)?;
        let changed = entry.finding.severity != severity
            || entry.finding.evidence.probable_causes != evidence.probable_causes
            || entry.finding.evidence.corroborated_by != evidence.corroborated_by
            || entry.finding.evidence.details.get("stage") != evidence.details.get("stage");
        if !changed {
            entry.finding.evidence = evidence;
            return None;
        }
        if entry.last_update_window == Some(window) {
            // Keep the old state so that the change is still seen, and emitted, next window.
            return None;
        }
        entry.finding.severity = severity;
        entry.finding.evidence = evidence;
        entry.last_update_window = Some(window);
        let finding = entry.finding.clone();
        self.updated += 1;
        let sequence = self.next_sequence(&key);
        Some(FindingRecord {
            activity: Activity::Update,
            time,
            finding,
            sequence,
        })
    }

    /// Resolves an open finding; returns the Close record.
    pub fn resolve(
        &mut self,
        detector: &str,
        scope: &str,
        time: Millis,
        evidence: Option<Evidence>,
    ) -> Option<FindingRecord> {
        let key = format!("{detector}|{scope}");
        let mut entry = self.open.remove(&key)?;
        if let Some(evidence) = evidence {
            entry.finding.evidence = evidence;
        }
        self.resolved += 1;
        let sequence = self.next_sequence(&key);
        Some(FindingRecord {
            activity: Activity::Close,
            time,
            finding: entry.finding,
            sequence,
        })
    }

    fn next_sequence(&mut self, key: &str) -> u64 {
        let counter = self.sequences.entry(key.to_owned()).or_insert(0);
        let sequence = *counter;
        *counter += 1;
        sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(detector: &str, scope: &str) -> Finding {
        Finding {
            detector: detector.into(),
            scope: scope.into(),
            title: "test".into(),
            severity: Severity::High,
            opened: 1_000,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn open_findings_are_found_and_counted_by_detector() {
        let mut book = FindingBook::default();
        let long_scope = format!("user:{}", "x".repeat(300));
        for (detector, scope) in [
            ("mfa_fatigue", "user:alice"),
            ("mfa_fatigue", long_scope.as_str()),
            ("mfa_fatigue_other", "user:bob"),
            ("push_silence", "global"),
        ] {
            book.open(finding(detector, scope), 1_000);
        }
        assert!(book.is_open("mfa_fatigue", "user:alice"));
        assert!(book.is_open("mfa_fatigue", &long_scope));
        assert!(!book.is_open("mfa_fatigue", "user:bob"));
        assert_eq!(book.open_count("mfa_fatigue", 10), 2);
        assert_eq!(book.open_count("mfa_fatigue", 1), 1);
        assert_eq!(book.open_count("push_silence", 10), 1);
        assert_eq!(book.open_count("source_silence", 10), 0);
    }

    #[test]
    fn uid_is_stable_and_scope_specific() {
        let a = finding("push_silence", "platform:ios");
        let b = finding("push_silence", "platform:android");
        assert_eq!(a.uid(), finding("push_silence", "platform:ios").uid());
        assert_ne!(a.uid(), b.uid());
        assert_eq!(a.uid().len(), 32);
        assert_eq!(a.key(), "push_silence|platform:ios");
    }

    #[test]
    fn lifecycle_emits_create_update_close() {
        let mut book = FindingBook::default();
        let created = book
            .open(finding("push_silence", "global"), 1_000)
            .expect("new finding");
        assert_eq!(created.activity, Activity::Create);
        assert!(book
            .open(finding("push_silence", "global"), 2_000)
            .is_none());

        let mut evidence = Evidence::default();
        evidence
            .probable_causes
            .push("apns certificate expired".into());
        let same = book.update(
            "push_silence",
            "global",
            Severity::High,
            Evidence::default(),
            300_000,
            300_000,
        );
        assert!(same.is_none(), "nothing changed");
        let updated = book
            .update(
                "push_silence",
                "global",
                Severity::Critical,
                evidence.clone(),
                600_000,
                600_000,
            )
            .expect("severity changed");
        assert_eq!(updated.activity, Activity::Update);
        assert_eq!(updated.sequence, 1);
        let again = book.update(
            "push_silence",
            "global",
            Severity::High,
            evidence,
            650_000,
            600_000,
        );
        assert!(again.is_none(), "second update in the same window");

        let closed = book
            .resolve("push_silence", "global", 900_000, None)
            .expect("open finding");
        assert_eq!(closed.activity, Activity::Close);
        assert_eq!(closed.sequence, 2);
        assert!(!book.is_open("push_silence", "global"));
        assert_eq!((book.opened, book.updated, book.resolved), (1, 1, 1));
    }

    #[test]
    fn ocsf_record_has_required_fields() {
        let mut book = FindingBook::default();
        let record = book
            .open(finding("push_silence", "global"), 1_000)
            .expect("new finding");
        let json = record.to_ocsf("pushwatch");
        assert_eq!(json["class_uid"], 2004);
        assert_eq!(json["activity_id"], 1);
        assert_eq!(json["activity_name"], "Create");
        assert_eq!(json["severity_id"], 4);
        assert_eq!(json["time"], 1_000);
        assert_eq!(json["finding_info"]["types"][0], "push_silence");
        assert_eq!(json["metadata"]["uid"], record.record_id());
    }

    #[test]
    fn pseudonym_depends_on_key() {
        let a = pseudonymise("k1", "alice");
        assert_eq!(a, pseudonymise("k1", "alice"));
        assert_ne!(a, pseudonymise("k2", "alice"));
        assert_eq!(a.len(), 16);
    }
}
