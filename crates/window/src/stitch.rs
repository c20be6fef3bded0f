//! Stitching: joins the signals of one login (challenge, push or code outcome, FortiGate
//! result) into a classified [`LoginAttempt`], keyed by normalised user and NAS.
//!
//! No log line carries a session id shared by FortiGate and FortiAuthenticator, so an attempt
//! is the span from a challenge (FortiAuthenticator 20299 Pending) to the next outcome for the
//! same user and NAS, bounded by the attempt timeout. Signals must arrive in event-time order;
//! the engine's reorder buffer guarantees that.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::attempt::{LoginAttempt, OutcomeClass};
use crate::config::StitchingConfig;
use crate::inventory::{Inventory, Platform};
use crate::signal::{AuthSignal, SignalKind};
use crate::time::Millis;
use crate::user::normalise;

/// Most distinct unknown FortiToken failure reasons counted one by one; further reasons are
/// counted under `other`.
const MAX_REASONS: usize = 1_000;

/// Attempt key as written in the state file: normalised user and NAS (empty when absent).
type Key = (String, String);

/// An attempt that has started but not ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenAttempt {
    start: Millis,
    /// Event time at which the attempt times out.
    deadline: Millis,
    realm: Option<String>,
    site: Option<String>,
    node: Option<String>,
    client_ip: Option<String>,
    /// A challenge was logged (so latency is known).
    challenged: bool,
    /// Wrong codes typed in this attempt.
    wrong_codes: u32,
    /// A push was attempted in this login (a push-related failure was logged).
    push_attempted: bool,
    reason: Option<String>,
}

/// One open attempt of a user: its NAS and the number that ties it to its deadline entry.
#[derive(Debug, Clone)]
struct Slot {
    nas: String,
    sequence: u64,
    attempt: OpenAttempt,
}

/// Push history of one user.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct UserHistory {
    last_push_approval: Option<Millis>,
    last_seen: Millis,
}

/// Site lookup and per-user facts the stitcher needs from the engine.
pub struct Context<'a> {
    /// Stitching configuration.
    pub config: &'a StitchingConfig,
    /// NAS address, FortiGate serial or device name → site.
    pub sites: &'a BTreeMap<String, String>,
    /// Token inventory.
    pub inventory: Option<&'a Inventory>,
    /// Normalised names of canary accounts.
    pub canaries: &'a BTreeSet<String>,
}

impl Context<'_> {
    fn site_of(&self, key: Option<&str>) -> Option<String> {
        key.and_then(|key| self.sites.get(key)).cloned()
    }
}

/// Counters of the stitcher.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StitchCounters {
    /// Open attempts evicted because `max_open_attempts` was reached.
    pub evicted_attempts: u64,
    /// Users evicted from the push history because `max_users` was reached.
    pub evicted_users: u64,
    /// FortiToken failures with a reason not in the configured lists, by reason.
    pub unknown_reasons: BTreeMap<String, u64>,
}

/// Open attempts and per-user push history.
///
/// Open attempts are grouped by user (a user rarely has more than one, one per NAS), so that
/// finding one costs a hash lookup and no key is built. Deadlines are ordered by time and an
/// insertion number. Attempts that time out together are closed in (user, NAS) order, so the
/// output does not depend on insertion order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "StoredStitcher", into = "StoredStitcher")]
pub struct Stitcher {
    open: HashMap<String, Vec<Slot>, crate::hash::WordBuild>,
    /// Number of open attempts (`open` keeps users whose list emptied until it is trimmed).
    open_count: usize,
    /// (deadline, sequence) of every open attempt → its user.
    deadlines: BTreeMap<(Millis, u64), String>,
    next_sequence: u64,
    history: HashMap<String, UserHistory, crate::hash::WordBuild>,
    /// Counters.
    pub counters: StitchCounters,
}

/// The stitcher in the form the state file stores.
#[derive(Serialize, Deserialize)]
struct StoredStitcher {
    #[serde(with = "crate::serde_pairs")]
    open: BTreeMap<Key, OpenAttempt>,
    /// Kept for the file's shape; rebuilt from the attempts' own deadlines when read.
    deadlines: BTreeSet<(Millis, Key)>,
    history: HashMap<String, UserHistory, crate::hash::WordBuild>,
    counters: StitchCounters,
}

impl From<Stitcher> for StoredStitcher {
    fn from(stitcher: Stitcher) -> Self {
        let mut open = BTreeMap::new();
        for (user, slots) in stitcher.open {
            for slot in slots {
                open.insert((user.clone(), slot.nas), slot.attempt);
            }
        }
        let deadlines = open
            .iter()
            .map(|(key, attempt)| (attempt.deadline, key.clone()))
            .collect();
        StoredStitcher {
            open,
            deadlines,
            history: stitcher.history,
            counters: stitcher.counters,
        }
    }
}

impl From<StoredStitcher> for Stitcher {
    fn from(stored: StoredStitcher) -> Self {
        let mut stitcher = Stitcher {
            history: stored.history,
            counters: stored.counters,
            ..Stitcher::default()
        };
        for ((user, nas), attempt) in stored.open {
            stitcher.place(&user, nas, attempt);
        }
        stitcher
    }
}

impl Stitcher {
    /// Number of open attempts.
    pub fn open_attempts(&self) -> usize {
        self.open_count
    }

    /// Deadline of the attempt that times out first.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.keys().next().map(|(deadline, _)| *deadline)
    }

    /// Number of users with push history.
    pub fn known_users(&self) -> usize {
        self.history.len()
    }

    /// Closes every attempt whose timeout passed at or before `now` (event time).
    pub fn expire(&mut self, ctx: &Context<'_>, now: Millis, out: &mut Vec<LoginAttempt>) {
        if self.next_deadline().is_none_or(|deadline| deadline > now) {
            return;
        }
        let mut due: Vec<(Millis, String, Slot)> = Vec::new();
        while let Some(entry) = self.deadlines.first_entry() {
            let (deadline, sequence) = *entry.key();
            if deadline > now {
                break;
            }
            let user = entry.remove();
            if let Some(slot) = self.remove_slot(&user, |slot| slot.sequence == sequence) {
                due.push((deadline, user, slot));
            }
        }
        due.sort_by(|a, b| (a.0, &a.1, &a.2.nas).cmp(&(b.0, &b.1, &b.2.nas)));
        for (deadline, user, slot) in due {
            let class = if slot.attempt.wrong_codes > 0 {
                OutcomeClass::TotpFailed
            } else {
                OutcomeClass::PushTimeout
            };
            out.push(finish(
                ctx,
                &user,
                &slot.nas,
                slot.attempt,
                class,
                deadline,
                None,
            ));
        }
    }

    /// Applies one signal (in event-time order) and appends the attempts it closes.
    pub fn handle(&mut self, ctx: &Context<'_>, signal: &AuthSignal, out: &mut Vec<LoginAttempt>) {
        self.expire(ctx, signal.time, out);
        if signal.kind.is_context_only() {
            return;
        }
        let Some(user) = signal
            .user
            .as_deref()
            .and_then(|raw| normalise(raw, ctx.config.strip_at_domain))
        else {
            return;
        };
        let name: &str = &user.name;
        let nas = signal.nas.as_deref().unwrap_or_default();
        // One lookup per signal: the last approval before this signal is read, and a push
        // approval recorded, while the entry is at hand. A known user costs no key allocation.
        let time = signal.time;
        let last_push_approval = match self.history.get_mut(name) {
            Some(history) => {
                history.last_seen = history.last_seen.max(time);
                let before = history.last_push_approval;
                if signal.kind == SignalKind::PushApproved {
                    history.last_push_approval = Some(time);
                }
                before
            }
            None => {
                let history = UserHistory {
                    last_seen: time.max(Millis::default()),
                    last_push_approval: (signal.kind == SignalKind::PushApproved).then_some(time),
                };
                self.history.insert(name.to_owned(), history);
                None
            }
        };
        let realm = user.realm;
        match signal.kind {
            SignalKind::ChallengeSent => {
                if let Some(previous) = self.take(name, nas) {
                    // A new challenge before the timeout: the user gave up on the previous one.
                    let class = if previous.wrong_codes > 0 {
                        OutcomeClass::TotpFailed
                    } else {
                        OutcomeClass::PushCancelled
                    };
                    out.push(finish(ctx, name, nas, previous, class, time, None));
                }
                let mut open = new_open(ctx, signal, realm, time);
                open.challenged = true;
                self.insert(ctx, name, nas, open);
            }
            SignalKind::PushApproved => {
                let open = self.take_or_new(ctx, name, nas, signal, realm);
                out.push(finish(
                    ctx,
                    name,
                    nas,
                    open,
                    OutcomeClass::PushApproved,
                    time,
                    None,
                ));
            }
            SignalKind::CodeAccepted => {
                let open = self.take_or_new(ctx, name, nas, signal, realm);
                let recent = last_push_approval
                    .is_some_and(|last| time.saturating_sub(last) <= ctx.config.history_ms());
                let class = if open.push_attempted || recent {
                    OutcomeClass::TotpFallback
                } else {
                    OutcomeClass::TotpDirect
                };
                out.push(finish(ctx, name, nas, open, class, time, None));
            }
            SignalKind::WrongCode => {
                let mut open = self.take_or_new(ctx, name, nas, signal, realm);
                open.wrong_codes += 1;
                self.insert(ctx, name, nas, open);
            }
            SignalKind::TokenFailure => self.token_failure(ctx, name, nas, signal, realm, out),
            SignalKind::PushDenied | SignalKind::PushCancelled => {
                let open = self.take_or_new(ctx, name, nas, signal, realm);
                let class = if signal.kind == SignalKind::PushDenied {
                    OutcomeClass::PushDenied
                } else {
                    OutcomeClass::PushCancelled
                };
                out.push(finish(
                    ctx,
                    name,
                    nas,
                    open,
                    class,
                    time,
                    signal.reason.clone(),
                ));
            }
            SignalKind::OtherFactorSuccess => {
                let open = self.take_or_new(ctx, name, nas, signal, realm);
                out.push(finish(
                    ctx,
                    name,
                    nas,
                    open,
                    OutcomeClass::OtherFactor,
                    time,
                    None,
                ));
            }
            SignalKind::FirstFactorFailed => {
                let open = new_open(ctx, signal, realm, time);
                out.push(finish(
                    ctx,
                    name,
                    nas,
                    open,
                    OutcomeClass::FirstFactorFailed,
                    time,
                    signal.reason.clone(),
                ));
            }
            SignalKind::FortiGateAuthFailure
            | SignalKind::VpnLoginFailure
            | SignalKind::FortiGateAuthLockout => {
                self.fortigate_failure(ctx, name, signal, out);
            }
            _ => {}
        }
        self.bound_history(ctx);
    }

    fn token_failure(
        &mut self,
        ctx: &Context<'_>,
        user: &str,
        nas: &str,
        signal: &AuthSignal,
        realm: Option<Cow<'_, str>>,
        out: &mut Vec<LoginAttempt>,
    ) {
        let reason = signal.reason.clone().unwrap_or_default();
        let lower = reason.to_lowercase();
        let matches =
            |list: &[String]| list.iter().any(|text| lower.contains(&text.to_lowercase()));
        let class = if matches(&ctx.config.denied_reasons) {
            Some(OutcomeClass::PushDenied)
        } else if matches(&ctx.config.cancelled_reasons) {
            Some(OutcomeClass::PushCancelled)
        } else if matches(&ctx.config.timeout_reasons) {
            Some(OutcomeClass::PushTimeout)
        } else {
            None
        };
        let mut open = self.take_or_new(ctx, user, nas, signal, realm);
        match class {
            Some(class) => out.push(finish(
                ctx,
                user,
                nas,
                open,
                class,
                signal.time,
                Some(reason),
            )),
            None => {
                let counters = &mut self.counters.unknown_reasons;
                let slot = if counters.len() < MAX_REASONS || counters.contains_key(&reason) {
                    reason.clone()
                } else {
                    "other".to_owned()
                };
                *counters.entry(slot).or_insert(0) += 1;
                // The reason is not a typed-code error, so treat it as a push problem and keep
                // the attempt open: the user may still approve or type a code.
                open.push_attempted = true;
                open.reason = Some(reason);
                self.insert(ctx, user, nas, open);
            }
        }
    }

    /// Ends the attempt of a challenge followed by a FortiGate login failure: the FortiGate gave up
    /// waiting. FortiGate lines name the FortiGate, not the NAS address FortiAuthenticator logs,
    /// so the attempt is found by user and, when both map to one, by site.
    fn fortigate_failure(
        &mut self,
        ctx: &Context<'_>,
        user: &str,
        signal: &AuthSignal,
        out: &mut Vec<LoginAttempt>,
    ) {
        let site = ctx
            .site_of(signal.nas.as_deref())
            .or_else(|| ctx.site_of(signal.source.as_deref()));
        let candidate = self
            .open
            .get(user)
            .into_iter()
            .flatten()
            .filter(|slot| slot.attempt.challenged && (site.is_none() || slot.attempt.site == site))
            .map(|slot| (slot.attempt.start, slot.nas.as_str(), slot.sequence))
            .min()
            .map(|(_, nas, sequence)| (nas.to_owned(), sequence));
        let Some((nas, sequence)) = candidate else {
            return;
        };
        if let Some(slot) = self.remove_open(user, |slot| slot.sequence == sequence) {
            let class = if slot.attempt.wrong_codes > 0 {
                OutcomeClass::TotpFailed
            } else {
                OutcomeClass::PushTimeout
            };
            let reason = signal
                .reason
                .clone()
                .or_else(|| Some(signal.kind.as_str().to_owned()));
            out.push(finish(
                ctx,
                user,
                &nas,
                slot.attempt,
                class,
                signal.time,
                reason,
            ));
        }
    }

    /// Removes the first slot of `user` that `matches`, without touching its deadline entry.
    fn remove_slot(&mut self, user: &str, matches: impl Fn(&Slot) -> bool) -> Option<Slot> {
        let slots = self.open.get_mut(user)?;
        let position = slots.iter().position(matches)?;
        let slot = slots.swap_remove(position);
        self.open_count -= 1;
        // Users whose list emptied stay until they outnumber the open attempts, so that a user
        // who logs in often does not pay for a new entry every time.
        if self.open.len() > 2 * self.open_count + 64 {
            self.open.retain(|_, slots| !slots.is_empty());
        }
        Some(slot)
    }

    /// Removes an open attempt and its deadline entry.
    fn remove_open(&mut self, user: &str, matches: impl Fn(&Slot) -> bool) -> Option<Slot> {
        let slot = self.remove_slot(user, matches)?;
        self.deadlines
            .remove(&(slot.attempt.deadline, slot.sequence));
        Some(slot)
    }

    fn take(&mut self, user: &str, nas: &str) -> Option<OpenAttempt> {
        self.remove_open(user, |slot| slot.nas == nas)
            .map(|slot| slot.attempt)
    }

    fn take_or_new(
        &mut self,
        ctx: &Context<'_>,
        user: &str,
        nas: &str,
        signal: &AuthSignal,
        realm: Option<Cow<'_, str>>,
    ) -> OpenAttempt {
        self.take(user, nas)
            .unwrap_or_else(|| new_open(ctx, signal, realm, signal.time))
    }

    /// Adds an attempt with its deadline already set, replacing one of the same user and NAS.
    fn place(&mut self, user: &str, nas: String, attempt: OpenAttempt) {
        self.remove_open(user, |slot| slot.nas == nas);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.deadlines
            .insert((attempt.deadline, sequence), user.to_owned());
        let slot = Slot {
            nas,
            sequence,
            attempt,
        };
        match self.open.get_mut(user) {
            Some(slots) => slots.push(slot),
            None => {
                self.open.insert(user.to_owned(), vec![slot]);
            }
        }
        self.open_count += 1;
    }

    fn insert(&mut self, ctx: &Context<'_>, user: &str, nas: &str, mut open: OpenAttempt) {
        open.deadline = open.start.saturating_add(ctx.config.timeout_ms());
        self.place(user, nas.to_owned(), open);
        while self.open_count > ctx.config.max_open_attempts {
            if !self.evict_oldest() {
                break;
            }
        }
    }

    /// Drops the attempt with the earliest deadline, the first in (user, NAS) order among equal
    /// deadlines.
    fn evict_oldest(&mut self) -> bool {
        let Some((&(deadline, _), _)) = self.deadlines.first_key_value() else {
            return false;
        };
        let oldest = self
            .deadlines
            .range((deadline, 0)..=(deadline, u64::MAX))
            .filter_map(|(&(_, sequence), user)| {
                let slot = self
                    .open
                    .get(user)?
                    .iter()
                    .find(|s| s.sequence == sequence)?;
                Some((user.as_str(), slot.nas.as_str(), sequence))
            })
            .min()
            .map(|(user, _, sequence)| (user.to_owned(), sequence));
        let Some((user, sequence)) = oldest else {
            // Entries without an attempt cannot exist; drop the first to make progress.
            self.deadlines.pop_first();
            return true;
        };
        if self
            .remove_open(&user, |slot| slot.sequence == sequence)
            .is_some()
        {
            self.counters.evicted_attempts += 1;
        }
        true
    }

    /// Evicts the least recently seen tenth of users once the history exceeds `max_users`.
    fn bound_history(&mut self, ctx: &Context<'_>) {
        if self.history.len() <= ctx.config.max_users {
            return;
        }
        let mut by_age: Vec<(Millis, String)> = self
            .history
            .iter()
            .map(|(name, h)| (h.last_seen, name.clone()))
            .collect();
        by_age.sort_unstable();
        let excess = self.history.len() - ctx.config.max_users;
        let batch = excess.max(ctx.config.max_users / 10).min(by_age.len());
        for (_, name) in by_age.into_iter().take(batch) {
            self.history.remove(&name);
            self.counters.evicted_users += 1;
        }
    }
}

/// Closes an attempt with `class` at `end`.
fn finish(
    ctx: &Context<'_>,
    user: &str,
    nas: &str,
    open: OpenAttempt,
    class: OutcomeClass,
    end: Millis,
    reason: Option<String>,
) -> LoginAttempt {
    let platform = ctx.inventory.map_or(Platform::Unknown, |inventory| {
        inventory.platform_of_user(user)
    });
    let latency_ms = (class == OutcomeClass::PushApproved && open.challenged)
        .then(|| u64::try_from(end.saturating_sub(open.start)).unwrap_or(0));
    LoginAttempt {
        time: open.start,
        end,
        class,
        user: user.to_owned(),
        realm: open.realm,
        nas: (!nas.is_empty()).then(|| nas.to_owned()),
        site: open.site,
        node: open.node,
        client_ip: open.client_ip,
        platform,
        latency_ms,
        reason: reason.or(open.reason),
        canary: ctx.canaries.contains(user),
    }
}

fn new_open(
    ctx: &Context<'_>,
    signal: &AuthSignal,
    realm: Option<Cow<'_, str>>,
    start: Millis,
) -> OpenAttempt {
    OpenAttempt {
        start,
        deadline: start,
        realm: realm.map(Cow::into_owned),
        site: ctx
            .site_of(signal.nas.as_deref())
            .or_else(|| ctx.site_of(signal.source.as_deref())),
        node: signal.source.clone(),
        client_ip: signal.client_ip.clone(),
        challenged: false,
        wrong_codes: 0,
        push_attempted: false,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DAY, SECOND};

    struct Fixture {
        config: StitchingConfig,
        sites: BTreeMap<String, String>,
        canaries: BTreeSet<String>,
    }

    impl Fixture {
        fn new() -> Fixture {
            let config = StitchingConfig {
                denied_reasons: vec!["denied".into()],
                ..StitchingConfig::default()
            };
            let sites = BTreeMap::from([
                ("10.1.0.1".to_owned(), "hq".to_owned()),
                ("fgt-hq".to_owned(), "hq".to_owned()),
            ]);
            Fixture {
                config,
                sites,
                canaries: BTreeSet::new(),
            }
        }

        fn context(&self) -> Context<'_> {
            Context {
                config: &self.config,
                sites: &self.sites,
                inventory: None,
                canaries: &self.canaries,
            }
        }
    }

    fn signal(time: Millis, kind: SignalKind, user: &str) -> AuthSignal {
        AuthSignal::new(time, kind)
            .with_user(user)
            .with_nas("10.1.0.1")
    }

    fn run(
        fixture: &Fixture,
        stitcher: &mut Stitcher,
        signals: &[AuthSignal],
    ) -> Vec<LoginAttempt> {
        let mut out = Vec::new();
        for signal in signals {
            stitcher.handle(&fixture.context(), signal, &mut out);
        }
        out
    }

    #[test]
    fn code_after_recent_approval_is_fallback() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let out = run(
            &fixture,
            &mut stitcher,
            &[
                signal(0, SignalKind::ChallengeSent, "CORP\\Alice"),
                signal(5 * SECOND, SignalKind::PushApproved, "alice"),
                signal(13 * DAY, SignalKind::ChallengeSent, "alice"),
                signal(13 * DAY + 30 * SECOND, SignalKind::CodeAccepted, "alice"),
                signal(0, SignalKind::ChallengeSent, "bob"),
                signal(20 * SECOND, SignalKind::CodeAccepted, "bob"),
            ],
        );
        let classes: Vec<OutcomeClass> = out.iter().map(|attempt| attempt.class).collect();
        assert_eq!(
            classes,
            vec![
                OutcomeClass::PushApproved,
                OutcomeClass::TotpFallback,
                OutcomeClass::TotpDirect
            ]
        );
        assert_eq!(out[0].latency_ms, Some(5_000));
        assert_eq!(out[0].realm.as_deref(), Some("corp"));
        assert_eq!(out[0].site.as_deref(), Some("hq"));
    }

    #[test]
    fn code_after_history_window_is_direct() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let out = run(
            &fixture,
            &mut stitcher,
            &[
                signal(0, SignalKind::PushApproved, "alice"),
                signal(15 * DAY, SignalKind::CodeAccepted, "alice"),
            ],
        );
        assert_eq!(out[1].class, OutcomeClass::TotpDirect);
    }

    #[test]
    fn new_challenge_cancels_and_timeout_expires() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let mut out = run(
            &fixture,
            &mut stitcher,
            &[
                signal(0, SignalKind::ChallengeSent, "alice"),
                signal(20 * SECOND, SignalKind::ChallengeSent, "alice"),
            ],
        );
        stitcher.expire(&fixture.context(), 80 * SECOND, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].class, OutcomeClass::PushCancelled);
        assert_eq!(out[1].class, OutcomeClass::PushTimeout);
        assert_eq!(out[1].time, 20 * SECOND);
        assert_eq!(out[1].end, 80 * SECOND);
    }

    #[test]
    fn fortigate_failure_ends_challenge_as_timeout() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let failure = AuthSignal::new(30 * SECOND, SignalKind::VpnLoginFailure)
            .with_user("alice")
            .with_nas("fgt-hq")
            .with_reason("sslvpn_login_permission_denied");
        let out = run(
            &fixture,
            &mut stitcher,
            &[signal(0, SignalKind::ChallengeSent, "alice"), failure],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].class, OutcomeClass::PushTimeout);
        assert_eq!(
            out[0].reason.as_deref(),
            Some("sslvpn_login_permission_denied")
        );
    }

    #[test]
    fn failure_reasons_are_classified_or_counted() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let denied = signal(5 * SECOND, SignalKind::TokenFailure, "alice")
            .with_reason("push notification denied by user");
        let unknown = signal(5 * SECOND, SignalKind::TokenFailure, "bob")
            .with_reason("push service unavailable");
        let out = run(
            &fixture,
            &mut stitcher,
            &[
                signal(0, SignalKind::ChallengeSent, "alice"),
                denied,
                signal(0, SignalKind::ChallengeSent, "bob"),
                unknown,
                signal(25 * SECOND, SignalKind::CodeAccepted, "bob"),
            ],
        );
        assert_eq!(out[0].class, OutcomeClass::PushDenied);
        // The unknown reason keeps bob's attempt open and marks a push attempt, so the code is
        // a fallback even though bob never approved a push.
        assert_eq!(out[1].class, OutcomeClass::TotpFallback);
        assert_eq!(out[1].reason.as_deref(), Some("push service unavailable"));
        assert_eq!(
            stitcher
                .counters
                .unknown_reasons
                .get("push service unavailable"),
            Some(&1)
        );
    }

    #[test]
    fn caps_evict_and_count() {
        let mut fixture = Fixture::new();
        fixture.config.max_open_attempts = 2;
        fixture.config.max_users = 10;
        let mut stitcher = Stitcher::default();
        let challenges: Vec<AuthSignal> = (0..15)
            .map(|index| {
                signal(
                    index * SECOND,
                    SignalKind::ChallengeSent,
                    &format!("user{index}"),
                )
            })
            .collect();
        run(&fixture, &mut stitcher, &challenges);
        assert_eq!(stitcher.open_attempts(), 2);
        assert_eq!(stitcher.counters.evicted_attempts, 13);
        assert!(stitcher.known_users() <= 10, "{}", stitcher.known_users());
        assert!(stitcher.counters.evicted_users >= 5);
    }

    /// Attempts that time out together close in user order, whatever order they opened in,
    /// and eviction at the cap drops the first user among equal deadlines.
    #[test]
    fn equal_deadlines_close_and_evict_in_user_order() {
        let mut fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        let names = ["carol", "alice", "bob"];
        let opened: Vec<AuthSignal> = names
            .iter()
            .map(|name| signal(0, SignalKind::ChallengeSent, name))
            .collect();
        run(&fixture, &mut stitcher, &opened);
        let mut out = Vec::new();
        stitcher.expire(&fixture.context(), 61 * SECOND, &mut out);
        let users: Vec<&str> = out.iter().map(|attempt| attempt.user.as_str()).collect();
        assert_eq!(users, vec!["alice", "bob", "carol"]);

        fixture.config.max_open_attempts = 2;
        let mut capped = Stitcher::default();
        run(&fixture, &mut capped, &opened);
        assert_eq!(capped.counters.evicted_attempts, 1);
        let mut out = Vec::new();
        capped.expire(&fixture.context(), 61 * SECOND, &mut out);
        let users: Vec<&str> = out.iter().map(|attempt| attempt.user.as_str()).collect();
        // carol and alice opened first; alice, first by name, went at the cap.
        assert_eq!(users, vec!["bob", "carol"]);
    }

    /// Open attempts survive a trip through the state file and close as they would have.
    #[test]
    fn open_attempts_survive_the_state_file() {
        let fixture = Fixture::new();
        let mut stitcher = Stitcher::default();
        run(
            &fixture,
            &mut stitcher,
            &[
                signal(0, SignalKind::ChallengeSent, "alice"),
                signal(SECOND, SignalKind::ChallengeSent, "bob"),
                signal(2 * SECOND, SignalKind::WrongCode, "bob"),
            ],
        );
        let text = serde_json::to_string(&stitcher).expect("stitcher serialises");
        assert!(text.contains(r#"[["alice","10.1.0.1"],"#), "{text}");
        let mut restored: Stitcher = serde_json::from_str(&text).expect("stitcher reads back");
        assert_eq!(restored.open_attempts(), 2);
        assert_eq!(restored.next_deadline(), Some(60 * SECOND));
        let out = run(
            &fixture,
            &mut restored,
            &[signal(5 * SECOND, SignalKind::PushApproved, "alice")],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].latency_ms, Some(5_000));
        let mut out = Vec::new();
        restored.expire(&fixture.context(), 61 * SECOND, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].class, OutcomeClass::TotpFailed);
        assert_eq!(restored.open_attempts(), 0);
    }
}
