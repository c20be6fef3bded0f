//! Event-driven detectors: push-service errors, HA failover, MFA fatigue and log-source
//! silence.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::attempt::LoginAttempt;
use crate::config::{secs_to_ms, Config};
use crate::finding::{Evidence, Finding, FindingBook, FindingRecord, Severity};
use crate::inventory::Platform;
use crate::time::{format_rfc3339, window_start, Millis};
use crate::window::ServiceEvent;

use super::{display_user, names, Closing, DetectorState};

/// Most messages kept as evidence of push-service errors.
const MAX_ERROR_DETAILS: usize = 5;

/// Push failures of one user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct FatigueUser {
    failures: VecDeque<Millis>,
    last_failure: Millis,
    pub(super) site: Option<String>,
    pub(super) platform: Platform,
    /// Finding scope: `user:<name or pseudonym>`.
    pub(super) scope: String,
}

pub(super) fn service_errors(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let config = &closing.config.detectors.push_service_errors;
    if !config.enabled {
        return;
    }
    let detector = names::PUSH_SERVICE_ERRORS;
    let count = closing.errors.len() as u64;
    if count >= config.fire_count {
        state.quiet_error_windows = 0;
        let evidence = error_evidence(closing);
        let severity = if closing
            .errors
            .iter()
            .any(|event| event.kind == "ftm_deprovisioned")
        {
            Severity::High
        } else {
            Severity::Medium
        };
        if book.is_open(detector, "global") {
            out.extend(book.update(
                detector,
                "global",
                severity,
                evidence,
                closing.end,
                closing.start,
            ));
        } else {
            let finding = Finding {
                detector: detector.to_owned(),
                scope: "global".to_owned(),
                title: "Push service errors logged".to_owned(),
                severity,
                opened: closing.end,
                evidence,
            };
            out.extend(book.open(finding, closing.end));
        }
    } else if count == 0 && book.is_open(detector, "global") {
        state.quiet_error_windows = state.quiet_error_windows.saturating_add(1);
        if state.quiet_error_windows >= config.clear_windows {
            out.extend(book.resolve(detector, "global", closing.end, None));
        }
    }
}

fn error_evidence(closing: &Closing<'_>) -> Evidence {
    let mut evidence = Evidence {
        window_start: closing.start,
        window_end: closing.end,
        metric: "push_service_error_events".to_owned(),
        observed: Some(closing.errors.len() as f64),
        samples: closing.errors.len() as u64,
        ..Evidence::default()
    };
    let mut certificates: Vec<String> = Vec::new();
    for (index, event) in closing.errors.iter().enumerate() {
        if index < MAX_ERROR_DETAILS {
            let text = format!(
                "{} {} {}: {}",
                format_rfc3339(event.time),
                event.source.as_deref().unwrap_or("-"),
                event.kind,
                event.message.as_deref().unwrap_or("")
            );
            evidence.details.insert(format!("event_{index}"), text);
        }
        for name in &event.certificates {
            if !certificates.contains(name) {
                certificates.push(name.clone());
            }
        }
    }
    if !certificates.is_empty() {
        evidence
            .details
            .insert("certificates".to_owned(), certificates.join(", "));
        for name in &certificates {
            evidence
                .probable_causes
                .push(format!("certificate {name} named in the error messages"));
        }
    }
    evidence
}

pub(super) fn ha_event(
    state: &mut DetectorState,
    config: &Config,
    event: ServiceEvent,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let size = config.windows.size_ms();
    let context = size * i64::from(config.detectors.ha_failover.context_windows);
    while state
        .ha_events
        .front()
        .is_some_and(|old| event.time - old.time > 2 * context)
    {
        state.ha_events.pop_front();
    }
    state.ha_events.push_back(event.clone());
    if !config.detectors.ha_failover.enabled {
        return;
    }
    let scope = format!("node:{}", event.source.as_deref().unwrap_or("unknown"));
    let mut evidence = Evidence {
        window_start: window_start(event.time, size),
        window_end: window_start(event.time, size) + size,
        metric: "ha_role_changes".to_owned(),
        observed: Some(1.0),
        samples: 1,
        ..Evidence::default()
    };
    if let Some(message) = &event.message {
        evidence
            .details
            .insert("message".to_owned(), message.clone());
    }
    if !book.is_open(names::HA_FAILOVER, &scope) {
        let finding = Finding {
            detector: names::HA_FAILOVER.to_owned(),
            scope: scope.clone(),
            title: format!(
                "HA role change on {}",
                event.source.as_deref().unwrap_or("unknown device")
            ),
            severity: Severity::Informational,
            opened: event.time,
            evidence,
        };
        out.extend(book.open(finding, event.time));
    }
}

pub(super) fn ha_resolve(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let context = closing.size() * i64::from(closing.config.detectors.ha_failover.context_windows);
    let open: Vec<String> = book
        .open_findings()
        .filter(|finding| finding.detector == names::HA_FAILOVER)
        .map(|finding| finding.scope.clone())
        .collect();
    for scope in open {
        let last = state
            .ha_events
            .iter()
            .filter(|event| {
                format!("node:{}", event.source.as_deref().unwrap_or("unknown")) == scope
            })
            .map(|event| event.time)
            .max();
        if last.is_none_or(|last| closing.end - last >= context) {
            out.extend(book.resolve(names::HA_FAILOVER, &scope, closing.end, None));
        }
    }
}

pub(super) fn fatigue_attempt(
    state: &mut DetectorState,
    config: &Config,
    attempt: &LoginAttempt,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let settings = &config.detectors.mfa_fatigue;
    if !settings.enabled || attempt.canary || !attempt.class.is_failed_push() {
        return;
    }
    let period = secs_to_ms(settings.period_secs);
    if !state.fatigue.contains_key(&attempt.user) {
        state
            .fatigue
            .insert(attempt.user.clone(), FatigueUser::default());
    }
    let Some(user) = state.fatigue.get_mut(&attempt.user) else {
        return;
    };
    user.failures.push_back(attempt.end);
    user.last_failure = user.last_failure.max(attempt.end);
    user.site = attempt.site.clone();
    user.platform = attempt.platform;
    if user.scope.is_empty() {
        user.scope = format!("user:{}", display_user(config, &attempt.user));
    }
    while user
        .failures
        .front()
        .is_some_and(|time| attempt.end - time > period)
    {
        user.failures.pop_front();
    }
    let count = user.failures.len() as u64;
    if count < settings.fire_count {
        return;
    }
    let scope = user.scope.clone();
    let site = user.site.clone();
    let platform = user.platform;
    let evidence = Evidence {
        window_start: attempt.end - period,
        window_end: attempt.end,
        metric: "failed_pushes_per_user".to_owned(),
        observed: Some(count as f64),
        baseline: Some(settings.fire_count as f64),
        samples: count,
        distinct_users: 1,
        example_users: vec![display_user(config, &attempt.user)],
        details: BTreeMap::from([
            ("site".to_owned(), site.clone().unwrap_or_default()),
            ("platform".to_owned(), platform.as_str().to_owned()),
            ("last_outcome".to_owned(), attempt.class.as_str().to_owned()),
        ]),
        ..Evidence::default()
    };
    if book.is_open(names::MFA_FATIGUE, &scope) {
        // The count grows with every failure; the finding is refreshed without an Update record
        // because neither severity nor causes change.
        let size = config.windows.size_ms();
        out.extend(book.update(
            names::MFA_FATIGUE,
            &scope,
            Severity::High,
            evidence,
            attempt.end,
            window_start(attempt.end, size),
        ));
        return;
    }
    let mut covering = vec![
        "global".to_owned(),
        format!("platform:{}", platform.as_str()),
    ];
    if let Some(site) = &site {
        covering.push(format!("site:{site}"));
    }
    let outage_open = names::OUTAGE
        .iter()
        .any(|detector| covering.iter().any(|scope| book.is_open(detector, scope)));
    if outage_open {
        state.suppressed_fatigue += 1;
        return;
    }
    let finding = Finding {
        detector: names::MFA_FATIGUE.to_owned(),
        scope,
        title: "Repeated push denials or timeouts for one user (possible MFA fatigue attack)"
            .to_owned(),
        severity: Severity::High,
        opened: attempt.end,
        evidence,
    };
    out.extend(book.open(finding, attempt.end));
}

/// Resolves the MFA fatigue findings that an outage finding explains: during a push outage
/// every user who retries collects timeouts, which looks like fatigue. A fatigue finding is
/// explained when an outage finding is open in a scope that covers the user (global, the
/// user's site or platform) and the fatigue finding opened no earlier than one fatigue period
/// before that outage finding. An attack that was under way before the outage keeps its
/// finding.
pub(super) fn fatigue_explained(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let period = secs_to_ms(closing.config.detectors.mfa_fatigue.period_secs);
    let outages: Vec<(String, Millis)> = book
        .open_findings()
        .filter(|finding| names::OUTAGE.contains(&finding.detector.as_str()))
        .map(|finding| (finding.scope.clone(), finding.opened))
        .collect();
    if outages.is_empty() {
        return;
    }
    let mut explained = Vec::new();
    for user in state.fatigue.values() {
        let Some(opened) = book
            .get(names::MFA_FATIGUE, &user.scope)
            .map(|finding| finding.opened)
        else {
            continue;
        };
        let covers = |scope: &str| {
            scope == "global"
                || scope.strip_prefix("site:") == user.site.as_deref()
                || scope.strip_prefix("platform:") == Some(user.platform.as_str())
        };
        if outages
            .iter()
            .any(|(scope, outage)| covers(scope) && opened >= outage.saturating_sub(period))
        {
            explained.push(user.scope.clone());
        }
    }
    for scope in explained {
        out.extend(book.resolve(names::MFA_FATIGUE, &scope, closing.end, None));
        state.explained_fatigue += 1;
    }
}

pub(super) fn fatigue_resolve(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let clear = secs_to_ms(closing.config.detectors.mfa_fatigue.clear_secs);
    let period = secs_to_ms(closing.config.detectors.mfa_fatigue.period_secs);
    let mut forget = Vec::new();
    for (name, user) in &state.fatigue {
        let quiet_since = user.last_failure.saturating_add(clear);
        if quiet_since <= closing.end {
            if book.is_open(names::MFA_FATIGUE, &user.scope) {
                out.extend(book.resolve(names::MFA_FATIGUE, &user.scope, quiet_since, None));
            }
            if user.last_failure.saturating_add(period.max(clear)) <= closing.end {
                forget.push(name.clone());
            }
        }
    }
    for name in forget {
        state.fatigue.remove(&name);
    }
}

/// Up to this many sources are found by comparing names; more use the hash index.
const LINEAR_SOURCES: usize = 16;

/// A source name's length and its first and last eight bytes. Names of four to seven bytes
/// pack their first and last four bytes into one word, and shorter names their bytes. The
/// first and last parts overlap or meet for names of up to sixteen bytes, which device names
/// mostly are, so two such names differ in it whenever they differ at all.
type Fingerprint = [u64; 3];

#[inline]
fn fingerprint(name: &[u8]) -> Fingerprint {
    let length = name.len();
    let word = |bytes: &[u8]| <[u8; 8]>::try_from(bytes).map_or(0, u64::from_le_bytes);
    let half = |bytes: &[u8]| <[u8; 4]>::try_from(bytes).map_or(0, u32::from_le_bytes);
    if length >= 8 {
        [length as u64, word(&name[..8]), word(&name[length - 8..])]
    } else if length >= 4 {
        let packed = u64::from(half(&name[..4])) | u64::from(half(&name[length - 4..])) << 32;
        [length as u64, packed, packed]
    } else {
        let short = name.iter().enumerate().fold(0u64, |value, (at, byte)| {
            value | u64::from(*byte) << (8 * at)
        });
        [length as u64, short, short]
    }
}

/// Returns whether the source `known` (with its fingerprint) is `name` (with `print`).
#[inline]
fn same_source(known: &(Fingerprint, Vec<u8>), print: &Fingerprint, name: &[u8]) -> bool {
    known.0 == *print && (name.len() <= 16 || known.1 == name)
}

/// Lines per source and window, and the learned lines per window of each source by time
/// slot, for log-source silence.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceActivity {
    counts: BTreeMap<String, BTreeMap<Millis, u64>>,
    expected: BTreeMap<String, BTreeMap<u32, SlotMean>>,
    /// Per source, the window being counted and its count so far; folded into `counts` before
    /// every read. This keeps the per-line cost to one hash lookup.
    current: Vec<(String, Millis, u64)>,
    #[serde(skip)]
    index: HashMap<Vec<u8>, usize, crate::hash::WordBuild>,
    /// Fingerprint and raw bytes of each source in `current` (names there are lossy UTF-8).
    #[serde(skip)]
    raw: Vec<(Fingerprint, Vec<u8>)>,
    /// Slot + 1 of a recent source by a hash of its fingerprint (0: none). Streams mix a
    /// handful of devices line by line, and one probe here usually finds the slot.
    #[serde(skip)]
    recent: [u32; RECENT_SLOTS],
}

/// Entries of [`SourceActivity::recent`] (a power of two).
const RECENT_SLOTS: usize = 32;

/// Position of a fingerprint in [`SourceActivity::recent`].
#[inline]
fn recent_slot(print: &Fingerprint) -> usize {
    let mixed =
        (print[0] ^ print[1] ^ print[2].rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 59) as usize & (RECENT_SLOTS - 1)
}

/// Decayed mean of lines per window in one slot, and the decayed share of its windows that
/// had any line.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct SlotMean {
    windows: u32,
    sum: f64,
    active: f64,
    weight: f64,
}

impl SlotMean {
    fn learn(&mut self, lines: u64, decay: f64) {
        self.windows = self.windows.saturating_add(1);
        self.sum = self.sum * decay + lines as f64;
        self.active = self.active * decay + if lines > 0 { 1.0 } else { 0.0 };
        self.weight = self.weight * decay + 1.0;
    }

    fn active_share(&self) -> f64 {
        if self.weight > 0.0 {
            self.active / self.weight
        } else {
            0.0
        }
    }

    fn mean(&self) -> f64 {
        if self.weight > 0.0 {
            self.sum / self.weight
        } else {
            0.0
        }
    }
}

impl SourceActivity {
    /// Counts one line of `source` in the window starting at `start`. Every line pays for
    /// this, so it is inlined into the engine's line loop.
    #[inline(always)]
    pub fn count(&mut self, source: &[u8], start: Millis) {
        let print = fingerprint(source);
        let probe = recent_slot(&print);
        // A slot in `recent` was set by `find_slot`, after `raw` was brought in line with
        // `current`, so `raw` has that slot.
        let slot = match (self.recent[probe] as usize).checked_sub(1) {
            Some(slot)
                if self
                    .raw
                    .get(slot)
                    .is_some_and(|known| same_source(known, &print, source)) =>
            {
                slot
            }
            _ => self.find_slot(source, &print, probe, start),
        };
        match self.current.get_mut(slot) {
            Some(entry) if entry.1 == start => entry.2 += 1,
            _ => self.count_in_new_window(slot, start),
        }
    }

    /// Finds or adds the slot of `source` when [`SourceActivity::recent`] does not have it, and
    /// records it there at `probe`.
    #[cold]
    #[inline(never)]
    fn find_slot(
        &mut self,
        source: &[u8],
        print: &Fingerprint,
        probe: usize,
        start: Millis,
    ) -> usize {
        if self.raw.len() != self.current.len() {
            // Read from a state file: the raw names are the stored ones.
            self.raw = self
                .current
                .iter()
                .map(|(name, _, _)| (fingerprint(name.as_bytes()), name.as_bytes().to_vec()))
                .collect();
            self.recent = [0; RECENT_SLOTS];
        }
        let slot = self.lookup(source, print, start);
        self.recent[probe] = u32::try_from(slot + 1).unwrap_or(0);
        slot
    }

    /// Counts one line in slot `slot` whose window being counted is not the one at `start`:
    /// folds the finished count into `counts` and starts counting at `start`.
    #[cold]
    #[inline(never)]
    fn count_in_new_window(&mut self, slot: usize, start: Millis) {
        let Some(entry) = self.current.get_mut(slot) else {
            return;
        };
        if entry.2 > 0 {
            *self
                .counts
                .entry(entry.0.clone())
                .or_default()
                .entry(entry.1)
                .or_insert(0) += entry.2;
        }
        entry.1 = start;
        entry.2 = 1;
    }

    /// Finds or adds the slot of `source`.
    fn lookup(&mut self, source: &[u8], print: &Fingerprint, start: Millis) -> usize {
        // A handful of devices is the common case, and comparing fingerprints then beats
        // hashing.
        let found = if self.raw.len() <= LINEAR_SOURCES {
            self.raw
                .iter()
                .position(|known| same_source(known, print, source))
        } else {
            if self.index.len() != self.raw.len() {
                self.rebuild_index();
            }
            self.index.get(source).copied()
        };
        let slot = match found {
            Some(slot) => slot,
            None => {
                let name = String::from_utf8_lossy(source).into_owned();
                self.current.push((name, start, 0));
                self.raw.push((*print, source.to_vec()));
                if self.raw.len() > LINEAR_SOURCES {
                    if self.index.len() + 1 != self.raw.len() {
                        self.rebuild_index();
                    } else {
                        self.index.insert(source.to_vec(), self.raw.len() - 1);
                    }
                }
                self.raw.len() - 1
            }
        };
        slot
    }

    /// Folds the windows being counted into the per-window counts.
    fn fold(&mut self) {
        for (name, start, count) in &mut self.current {
            let windows = self.counts.entry(name.clone()).or_default();
            if *count > 0 {
                *windows.entry(*start).or_insert(0) += *count;
                *count = 0;
            }
        }
    }

    fn rebuild_index(&mut self) {
        self.index = self
            .raw
            .iter()
            .enumerate()
            .map(|(slot, (_, name))| (name.clone(), slot))
            .collect();
    }

    /// Number of sources seen.
    pub fn len(&self) -> usize {
        self.current.len()
    }

    /// Returns whether no source was seen.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }
}

/// Opens `source_silence` for a source that sent nothing for `silent_windows` windows although
/// in this time slot it usually sends (lines in at least `min_active_share` of the windows, at
/// least `min_lines_per_window` on average), while another source is still sending; resolves it on the source's next line. Window counts are learned into the
/// slot baselines `silent_windows` windows late, once it is known whether they belong to a
/// silence that opened a finding, which is then kept out of the baseline.
pub(super) fn source_silence(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let config = &closing.config.detectors.source_silence;
    let baseline = &closing.config.baseline;
    let size = closing.size();
    let silent = i64::from(config.silent_windows);
    let keep_from = closing.start - 2 * silent * size;
    let learn_start = closing.start - silent * size;
    state.sources.fold();
    let slot_now = crate::baseline::slot_of(baseline, closing.start);
    let active_sources = state
        .sources
        .counts
        .values()
        .filter(|windows| windows.get(&closing.start).is_some_and(|n| *n > 0))
        .count();
    let activity = &mut state.sources;
    for (source, windows) in activity.counts.iter_mut() {
        let scope = format!("source:{source}");
        let expected = activity.expected.entry(source.clone()).or_default();
        if !book.is_open(names::SOURCE_SILENCE, &scope) {
            let lines = windows.get(&learn_start).copied().unwrap_or(0);
            let slot = crate::baseline::slot_of(baseline, learn_start);
            expected
                .entry(slot)
                .or_default()
                .learn(lines, baseline.slot_decay);
        }
        windows.retain(|start, _| *start >= keep_from);
        if !config.enabled {
            continue;
        }
        let now = windows.get(&closing.start).copied().unwrap_or(0);
        if now > 0 {
            if book.is_open(names::SOURCE_SILENCE, &scope) {
                out.extend(book.resolve(names::SOURCE_SILENCE, &scope, closing.end, None));
            }
            continue;
        }
        let recent_start = closing.start - (silent - 1) * size;
        let recent: u64 = windows
            .range(recent_start..=closing.start)
            .map(|(_, n)| n)
            .sum();
        // A slot where the source is often quiet (the edge of a shift, a lunch break) is no
        // evidence that a quiet window now is an outage.
        let Some(usual) = expected
            .get(&slot_now)
            .filter(|mean| mean.windows >= baseline.min_slot_windows)
            .filter(|mean| mean.active_share() >= config.min_active_share)
            .map(SlotMean::mean)
        else {
            continue;
        };
        // Another source must still be sending: when every source is quiet (a night without
        // logins, a gap in an archive) there is nothing to compare with.
        let others_active = active_sources > 0;
        if recent == 0
            && others_active
            && usual >= config.min_lines_per_window as f64
            && !book.is_open(names::SOURCE_SILENCE, &scope)
        {
            let evidence = Evidence {
                window_start: recent_start,
                window_end: closing.end,
                metric: "lines_per_window".to_owned(),
                observed: Some(0.0),
                baseline: Some(usual),
                probable_causes: vec![
                    "the device stopped logging or its syslog path (network, relay, collector) broke".to_owned(),
                ],
                ..Evidence::default()
            };
            let finding = Finding {
                detector: names::SOURCE_SILENCE.to_owned(),
                scope,
                title: format!("Log source {source} stopped sending"),
                severity: Severity::Medium,
                opened: closing.end,
                evidence,
            };
            out.extend(book.open(finding, closing.end));
        }
    }
}

#[cfg(test)]
mod source_tests {
    use super::*;

    /// Counts lines from many sources, so that both the name comparison and the hash index
    /// are used, and checks every count after folding.
    #[test]
    fn counts_survive_the_switch_to_the_index() {
        let mut activity = SourceActivity::default();
        let names: Vec<String> = (0..LINEAR_SOURCES * 2 + 3)
            .map(|n| format!("fgt-{n:02}"))
            .collect();
        for window in [0, 300_000] {
            for (n, name) in names.iter().enumerate() {
                for _ in 0..=n {
                    activity.count(name.as_bytes(), window);
                }
            }
        }
        activity.fold();
        assert_eq!(activity.len(), names.len());
        for (n, name) in names.iter().enumerate() {
            let windows = &activity.counts[name];
            let expected = (n + 1) as u64;
            assert_eq!(
                windows.get(&0),
                Some(&expected),
                "{name} in the first window"
            );
            assert_eq!(
                windows.get(&300_000),
                Some(&expected),
                "{name} in the second"
            );
        }
    }

    /// Names that share a length and their first and last eight bytes, and a name that is not
    /// UTF-8, each keep one slot.
    #[test]
    fn similar_and_invalid_names_keep_their_own_slot() {
        let mut activity = SourceActivity::default();
        let names: [&[u8]; 4] = [
            b"fgt-branch-01-rack-a-0001",
            b"fgt-branch-01-rack-b-0001",
            b"fgt-\xff\xfe",
            b"fgt-branch-01-rack-a-0001",
        ];
        for name in names {
            activity.count(name, 0);
            activity.count(b"fac01", 0);
        }
        activity.fold();
        assert_eq!(activity.len(), 4, "three devices and fac01");
        assert_eq!(activity.counts["fgt-branch-01-rack-a-0001"][&0], 2);
        assert_eq!(activity.counts["fgt-branch-01-rack-b-0001"][&0], 1);
        assert_eq!(activity.counts["fac01"][&0], 4);
        assert_eq!(activity.counts["fgt-\u{fffd}\u{fffd}"][&0], 1);
    }

    /// Names of one to seven bytes that differ in one byte each keep their own slot.
    #[test]
    fn short_names_keep_own_slots() {
        let mut activity = SourceActivity::default();
        let names: [&[u8]; 8] = [
            b"f", b"g", b"fg", b"fgt", b"fgt-lab", b"fgt-lbb", b"fg-lab", b"fgt-la",
        ];
        for (n, name) in names.iter().enumerate() {
            for _ in 0..=n {
                activity.count(name, 0);
            }
        }
        activity.fold();
        assert_eq!(activity.len(), names.len());
        for (n, name) in names.iter().enumerate() {
            let name = std::str::from_utf8(name).expect("ASCII name");
            assert_eq!(activity.counts[name][&0], n as u64 + 1, "{name}");
        }
    }

    /// Counting goes on where it stopped after the activity is saved and read back, for known
    /// and new sources.
    #[test]
    fn counts_survive_state_round_trip() {
        let mut activity = SourceActivity::default();
        activity.count(b"fgt-hq01", 0);
        activity.count(b"fac01", 0);
        let json = serde_json::to_string(&activity).expect("serialisable");
        let mut restored: SourceActivity = serde_json::from_str(&json).expect("deserialisable");
        restored.count(b"fgt-hq01", 0);
        restored.count(b"fgt-hq02", 0);
        restored.count(b"fac01", 300_000);
        restored.fold();
        assert_eq!(restored.len(), 3);
        assert_eq!(restored.counts["fgt-hq01"][&0], 2);
        assert_eq!(restored.counts["fgt-hq02"][&0], 1);
        assert_eq!(restored.counts["fac01"][&0], 1);
        assert_eq!(restored.counts["fac01"][&300_000], 1);
    }
}
