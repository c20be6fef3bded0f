//! Stitching: joins the signals of one login (challenge, push or code outcome, FortiGate
//! result) into a classified [`LoginAttempt`], keyed by normalised user and NAS.
//!
//! No log line carries a session id shared by FortiGate and FortiAuthenticator, so an attempt
//! is the span from a challenge (FortiAuthenticator 20299 Pending) to the next outcome for the
//! same user and NAS, bounded by the attempt timeout. Signals must arrive in event-time order;
//! the engine's reorder buffer guarantees that.

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

/// Attempt key: normalised user and NAS (empty when absent).
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stitcher {
    #[serde(with = "crate::serde_pairs")]
    open: BTreeMap<Key, OpenAttempt>,
    /// (deadline, key) of every open attempt, for timeouts and eviction in time order.
    deadlines: BTreeSet<(Millis, Key)>,
    history: HashMap<String, UserHistory, crate::hash::WordBuild>,
    /// Counters.
    pub counters: StitchCounters,
}

impl Stitcher {
    /// Number of open attempts.
    pub fn open_attempts(&self) -> usize {
        self.open.len()
    }

    /// Deadline of the attempt that times out first.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }

    /// Number of users with push history.
    pub fn known_users(&self) -> usize {
        self.history.len()
    }

    /// Closes every attempt whose timeout passed at or before `now` (event time).
    pub fn expire(&mut self, ctx: &Context<'_>, now: Millis, out: &mut Vec<LoginAttempt>) {
        while let Some((deadline, key)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.deadlines.remove(&(deadline, key.clone()));
            if let Some(open) = self.open.remove(&key) {
                let class = if open.wrong_codes > 0 {
                    OutcomeClass::TotpFailed
                } else {
                    OutcomeClass::PushTimeout
                };
                out.push(self.finish(ctx, &key, open, class, deadline, None));
            }
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
        let nas = signal.nas.clone().unwrap_or_default();
        let key: Key = (user.name.clone(), nas);
        // Look up before inserting so that a known user costs no key allocation.
        match self.history.get_mut(user.name.as_str()) {
            Some(history) => history.last_seen = history.last_seen.max(signal.time),
            None => {
                let history = UserHistory {
                    last_seen: signal.time.max(Millis::default()),
                    ..UserHistory::default()
                };
                self.history.insert(user.name.clone(), history);
            }
        }
        let time = signal.time;
        match signal.kind {
            SignalKind::ChallengeSent => {
                if let Some(previous) = self.take(&key) {
                    // A new challenge before the timeout: the user gave up on the previous one.
                    let class = if previous.wrong_codes > 0 {
                        OutcomeClass::TotpFailed
                    } else {
                        OutcomeClass::PushCancelled
                    };
                    out.push(self.finish(ctx, &key, previous, class, time, None));
                }
                let mut open = new_open(ctx, signal, user.realm.clone(), time);
                open.challenged = true;
                self.insert(ctx, key, open);
            }
            SignalKind::PushApproved => {
                let open = self.take_or_new(ctx, &key, signal, user.realm.clone());
                if let Some(history) = self.history.get_mut(&user.name) {
                    history.last_push_approval = Some(time);
                }
                out.push(self.finish(ctx, &key, open, OutcomeClass::PushApproved, time, None));
            }
            SignalKind::CodeAccepted => {
                let open = self.take_or_new(ctx, &key, signal, user.realm.clone());
                let recent = self
                    .history
                    .get(&user.name)
                    .and_then(|h| h.last_push_approval)
                    .is_some_and(|last| time.saturating_sub(last) <= ctx.config.history_ms());
                let class = if open.push_attempted || recent {
                    OutcomeClass::TotpFallback
                } else {
                    OutcomeClass::TotpDirect
                };
                out.push(self.finish(ctx, &key, open, class, time, None));
            }
            SignalKind::WrongCode => {
                let mut open = self.take_or_new(ctx, &key, signal, user.realm.clone());
                open.wrong_codes += 1;
                self.insert(ctx, key, open);
            }
            SignalKind::TokenFailure => self.token_failure(ctx, key, signal, user.realm, out),
            SignalKind::PushDenied | SignalKind::PushCancelled => {
                let open = self.take_or_new(ctx, &key, signal, user.realm.clone());
                let class = if signal.kind == SignalKind::PushDenied {
                    OutcomeClass::PushDenied
                } else {
                    OutcomeClass::PushCancelled
                };
                out.push(self.finish(ctx, &key, open, class, time, signal.reason.clone()));
            }
            SignalKind::OtherFactorSuccess => {
                let open = self.take_or_new(ctx, &key, signal, user.realm.clone());
                out.push(self.finish(ctx, &key, open, OutcomeClass::OtherFactor, time, None));
            }
            SignalKind::FirstFactorFailed => {
                let open = new_open(ctx, signal, user.realm.clone(), time);
                out.push(self.finish(
                    ctx,
                    &key,
                    open,
                    OutcomeClass::FirstFactorFailed,
                    time,
                    signal.reason.clone(),
                ));
            }
            SignalKind::FortiGateAuthFailure
            | SignalKind::VpnLoginFailure
            | SignalKind::FortiGateAuthLockout => {
                self.fortigate_failure(ctx, &user.name, signal, out);
            }
            _ => {}
        }
        self.bound_history(ctx);
    }

    fn token_failure(
        &mut self,
        ctx: &Context<'_>,
        key: Key,
        signal: &AuthSignal,
        realm: Option<String>,
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
        let mut open = self.take_or_new(ctx, &key, signal, realm);
        match class {
            Some(class) => out.push(self.finish(ctx, &key, open, class, signal.time, Some(reason))),
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
                self.insert(ctx, key, open);
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
        let start = (user.to_owned(), String::new());
        let candidate = self
            .open
            .range(start..)
            .take_while(|((name, _), _)| name == user)
            .filter(|(_, open)| open.challenged && (site.is_none() || open.site == site))
            .map(|(key, open)| (open.start, key.clone()))
            .min();
        if let Some((_, key)) = candidate {
            if let Some(open) = self.take(&key) {
                let class = if open.wrong_codes > 0 {
                    OutcomeClass::TotpFailed
                } else {
                    OutcomeClass::PushTimeout
                };
                let reason = signal
                    .reason
                    .clone()
                    .or_else(|| Some(signal.kind.as_str().to_owned()));
                out.push(self.finish(ctx, &key, open, class, signal.time, reason));
            }
        }
    }

    fn take(&mut self, key: &Key) -> Option<OpenAttempt> {
        let open = self.open.remove(key)?;
        self.deadlines.remove(&(open.deadline, key.clone()));
        Some(open)
    }

    fn take_or_new(
        &mut self,
        ctx: &Context<'_>,
        key: &Key,
        signal: &AuthSignal,
        realm: Option<String>,
    ) -> OpenAttempt {
        self.take(key)
            .unwrap_or_else(|| new_open(ctx, signal, realm, signal.time))
    }

    fn insert(&mut self, ctx: &Context<'_>, key: Key, mut open: OpenAttempt) {
        open.deadline = open.start.saturating_add(ctx.config.timeout_ms());
        self.deadlines.insert((open.deadline, key.clone()));
        self.open.insert(key, open);
        while self.open.len() > ctx.config.max_open_attempts {
            let Some((_, oldest)) = self.deadlines.pop_first() else {
                break;
            };
            if self.open.remove(&oldest).is_some() {
                self.counters.evicted_attempts += 1;
            }
        }
    }

    fn finish(
        &self,
        ctx: &Context<'_>,
        key: &Key,
        open: OpenAttempt,
        class: OutcomeClass,
        end: Millis,
        reason: Option<String>,
    ) -> LoginAttempt {
        let platform = ctx.inventory.map_or(Platform::Unknown, |inventory| {
            inventory.platform_of_user(&key.0)
        });
        let latency_ms = (class == OutcomeClass::PushApproved && open.challenged)
            .then(|| u64::try_from(end.saturating_sub(open.start)).unwrap_or(0));
        LoginAttempt {
            time: open.start,
            end,
            class,
            user: key.0.clone(),
            realm: open.realm,
            nas: (!key.1.is_empty()).then(|| key.1.clone()),
            site: open.site,
            node: open.node,
            client_ip: open.client_ip,
            platform,
            latency_ms,
            reason: reason.or(open.reason),
            canary: ctx.canaries.contains(&key.0),
        }
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

fn new_open(
    ctx: &Context<'_>,
    signal: &AuthSignal,
    realm: Option<String>,
    start: Millis,
) -> OpenAttempt {
    OpenAttempt {
        start,
        deadline: start,
        realm,
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
}
