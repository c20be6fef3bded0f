//! Population detectors, evaluated per scope when a window closes: push silence, push success
//! drop, TOTP fallback surge, platform divergence and approval latency.

use crate::attempt::OutcomeClass;
use crate::baseline::Expected;
use crate::config::ScopeKind;
use crate::finding::{Evidence, Finding, FindingBook, FindingRecord, Severity};
use crate::window::{scope_kind, WindowStats};

use super::{corroboration, names, probable_causes, Closing, DetectorState, Transition, Verdict};

/// Thresholds shared by the population detectors.
struct Gate<'a> {
    detector: &'static str,
    scopes: &'a [ScopeKind],
    fire_windows: u32,
    clear_windows: u32,
    severity: Severity,
}

pub(super) fn run(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let detectors = &closing.config.detectors;
    if detectors.platform_divergence.enabled && closing.has_inventory {
        divergence(state, closing, book, out);
    }
    if detectors.push_silence.enabled {
        let config = &detectors.push_silence;
        let gate = Gate {
            detector: names::PUSH_SILENCE,
            scopes: &config.scopes,
            fire_windows: config.fire_windows,
            clear_windows: config.clear_windows,
            severity: Severity::High,
        };
        each_scope(state, closing, book, out, &gate, |stats, expected| {
            let baseline = expected?.push_success_share?;
            if baseline < config.min_baseline_share {
                return None;
            }
            let share = stats.push_success_share?;
            if stats.second_factor < config.min_samples || stats.distinct_users < config.min_users {
                return None;
            }
            let evidence = metric("push_success_share", share, baseline, stats);
            if stats.push_approved <= config.fire_max_approvals {
                Some(Verdict::Fire(evidence))
            } else if share >= baseline * config.clear_ratio {
                Some(Verdict::Clear(evidence))
            } else {
                Some(Verdict::Hold)
            }
        });
    }
    if detectors.push_success_drop.enabled {
        let config = &detectors.push_success_drop;
        let gate = Gate {
            detector: names::PUSH_SUCCESS_DROP,
            scopes: &config.scopes,
            fire_windows: config.fire_windows,
            clear_windows: config.clear_windows,
            severity: Severity::Medium,
        };
        let divergence_open = [names::PLATFORM_DIVERGENCE].iter().any(|detector| {
            book.open_findings()
                .any(|finding| finding.detector == *detector)
        });
        each_scope(state, closing, book, out, &gate, |stats, expected| {
            let baseline = expected?.push_success_share?;
            let share = stats.push_success_share?;
            if baseline < config.min_baseline_share
                || stats.second_factor < config.min_samples
                || stats.distinct_users < config.min_users
            {
                return None;
            }
            let evidence = metric("push_success_share", share, baseline, stats);
            if share < baseline * (1.0 - config.fire_drop) {
                // Silence in the same scope, or one platform diverging, already explains it.
                let silenced = stats.push_approved == 0;
                let platform_scope = stats.scope.starts_with("platform:");
                if silenced || (divergence_open && !platform_scope) {
                    return Some(Verdict::Hold);
                }
                Some(Verdict::Fire(evidence))
            } else if share >= baseline * (1.0 - config.clear_drop) {
                Some(Verdict::Clear(evidence))
            } else {
                Some(Verdict::Hold)
            }
        });
    }
    if detectors.fallback_surge.enabled {
        let config = &detectors.fallback_surge;
        let gate = Gate {
            detector: names::FALLBACK_SURGE,
            scopes: &config.scopes,
            fire_windows: config.fire_windows,
            clear_windows: config.clear_windows,
            severity: Severity::Medium,
        };
        each_scope(state, closing, book, out, &gate, |stats, expected| {
            let baseline = expected?.fallback_share?;
            let share = stats.fallback_share?;
            if stats.second_factor < config.min_samples || stats.distinct_users < config.min_users {
                return None;
            }
            let evidence = metric("totp_fallback_share", share, baseline, stats);
            let excess = share - baseline;
            if excess >= config.fire_increase && stats.totp_fallback >= config.min_fallbacks {
                Some(Verdict::Fire(evidence))
            } else if excess <= config.clear_increase {
                Some(Verdict::Clear(evidence))
            } else {
                Some(Verdict::Hold)
            }
        });
    }
    if detectors.approval_latency.enabled {
        let config = &detectors.approval_latency;
        let gate = Gate {
            detector: names::APPROVAL_LATENCY,
            scopes: &config.scopes,
            fire_windows: config.fire_windows,
            clear_windows: config.clear_windows,
            severity: Severity::Low,
        };
        each_scope(state, closing, book, out, &gate, |stats, expected| {
            let baseline = expected?.latency_p50_ms?;
            let p50 = stats.latency_p50_ms? as f64;
            if stats.push_approved < config.min_samples || stats.distinct_users < config.min_users {
                return None;
            }
            let evidence = metric("approval_latency_p50_ms", p50, baseline, stats);
            if p50 >= baseline * config.fire_ratio
                && p50 - baseline >= config.min_increase_ms as f64
            {
                Some(Verdict::Fire(evidence))
            } else if p50 <= baseline * config.clear_ratio {
                Some(Verdict::Clear(evidence))
            } else {
                Some(Verdict::Hold)
            }
        });
    }
}

fn metric(name: &str, observed: f64, baseline: f64, stats: &WindowStats) -> Evidence {
    Evidence {
        window_start: stats.window_start,
        window_end: stats.window_end,
        metric: name.to_owned(),
        observed: Some(observed),
        baseline: Some(baseline),
        samples: stats.second_factor,
        distinct_users: stats.distinct_users,
        ..Evidence::default()
    }
}

/// Evaluates `verdict` on every configured scope that has statistics in this window or an open
/// finding, and applies the streak transitions.
fn each_scope<F>(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
    gate: &Gate<'_>,
    verdict: F,
) where
    F: Fn(&WindowStats, Option<Expected>) -> Option<Verdict>,
{
    let mut scopes: Vec<String> = closing
        .stats
        .keys()
        .filter(|scope| scope_kind(scope).is_some_and(|kind| gate.scopes.contains(&kind)))
        .filter(|scope| closing.has_inventory || !scope.starts_with("platform:"))
        .cloned()
        .collect();
    for finding in book.open_findings() {
        if finding.detector == gate.detector && !scopes.contains(&finding.scope) {
            scopes.push(finding.scope.clone());
        }
    }
    for scope in scopes {
        let outcome = match closing.stats.get(&scope) {
            Some(stats) => {
                let expected =
                    closing
                        .baselines
                        .expected(&closing.config.baseline, &scope, closing.start);
                verdict(stats, expected).unwrap_or(Verdict::Hold)
            }
            None => Verdict::Hold,
        };
        apply(
            state,
            closing,
            book,
            out,
            gate.detector,
            &scope,
            gate.severity,
            gate.fire_windows,
            gate.clear_windows,
            outcome,
        );
    }
}

/// Applies one verdict to the streak of `detector|scope` and the finding book.
#[allow(clippy::too_many_arguments)]
fn apply(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
    detector: &'static str,
    scope: &str,
    severity: Severity,
    fire_windows: u32,
    clear_windows: u32,
    verdict: Verdict,
) {
    let open = book.is_open(detector, scope);
    let transition =
        state
            .streak(detector, scope)
            .step(&verdict, open, fire_windows, clear_windows);
    match (transition, verdict) {
        (Transition::Open, Verdict::Fire(mut evidence)) => {
            evidence.probable_causes = probable_causes(state, closing, scope);
            evidence.corroborated_by = corroboration(book, scope);
            evidence.example_users = closing.examples(scope, example_classes(detector));
            let finding = Finding {
                detector: detector.to_owned(),
                scope: scope.to_owned(),
                title: title(detector, scope, &evidence),
                severity,
                opened: closing.end,
                evidence,
            };
            out.extend(book.open(finding, closing.end));
        }
        (Transition::Refresh, Verdict::Fire(mut evidence)) => {
            evidence.probable_causes = probable_causes(state, closing, scope);
            evidence.corroborated_by = corroboration(book, scope);
            evidence.example_users = closing.examples(scope, example_classes(detector));
            out.extend(book.update(
                detector,
                scope,
                severity,
                evidence,
                closing.end,
                closing.start,
            ));
        }
        (Transition::Resolve, Verdict::Clear(evidence)) => {
            out.extend(book.resolve(detector, scope, closing.end, Some(evidence)));
        }
        _ => {}
    }
}

fn example_classes(detector: &str) -> &'static [OutcomeClass] {
    match detector {
        names::APPROVAL_LATENCY => &[OutcomeClass::PushApproved],
        _ => &[
            OutcomeClass::TotpFallback,
            OutcomeClass::PushTimeout,
            OutcomeClass::PushCancelled,
            OutcomeClass::PushDenied,
        ],
    }
}

fn title(detector: &str, scope: &str, evidence: &Evidence) -> String {
    match detector {
        names::PUSH_SILENCE => format!("No push approvals in {scope} while logins continue"),
        names::PUSH_SUCCESS_DROP => format!("Push success share dropped in {scope}"),
        names::FALLBACK_SURGE => format!("Typed-code fallbacks surged in {scope}"),
        names::APPROVAL_LATENCY => format!("Push approval latency rose in {scope}"),
        names::PLATFORM_DIVERGENCE => format!(
            "Push approvals fell in {scope} while {} holds",
            evidence
                .comparison_scope
                .as_deref()
                .unwrap_or("the other platform")
        ),
        other => format!("{other} in {scope}"),
    }
}

/// Platform divergence: one platform's push success share falls against its baseline while
/// the other's holds. The finding's scope is the falling platform.
fn divergence(
    state: &mut DetectorState,
    closing: &Closing<'_>,
    book: &mut FindingBook,
    out: &mut Vec<FindingRecord>,
) {
    let config = &closing.config.detectors.platform_divergence;
    let pairs = [
        ("platform:ios", "platform:android"),
        ("platform:android", "platform:ios"),
    ];
    for (falling, holding) in pairs {
        let verdict = divergence_verdict(closing, falling, holding);
        apply(
            state,
            closing,
            book,
            out,
            names::PLATFORM_DIVERGENCE,
            falling,
            Severity::High,
            config.fire_windows,
            config.clear_windows,
            verdict,
        );
    }
}

fn divergence_verdict(closing: &Closing<'_>, falling: &str, holding: &str) -> Verdict {
    let config = &closing.config.detectors.platform_divergence;
    let baseline_config = &closing.config.baseline;
    let sample = |scope: &str| -> Option<(&WindowStats, f64, f64)> {
        let stats = closing.stats.get(scope)?;
        if stats.second_factor < config.min_samples || stats.distinct_users < config.min_users {
            return None;
        }
        let expected = closing
            .baselines
            .expected(baseline_config, scope, closing.start)?;
        Some((
            stats,
            stats.push_success_share?,
            expected.push_success_share?,
        ))
    };
    let (Some((stats, share, baseline)), Some((_, other_share, other_baseline))) =
        (sample(falling), sample(holding))
    else {
        return Verdict::Hold;
    };
    let mut evidence = metric("push_success_share", share, baseline, stats);
    evidence.comparison_scope = Some(holding.to_owned());
    evidence.comparison_observed = Some(other_share);
    let other_steady = other_share >= other_baseline * (1.0 - config.hold_tolerance);
    if share < baseline * (1.0 - config.fire_drop) && other_steady {
        Verdict::Fire(evidence)
    } else if share >= baseline * (1.0 - config.clear_drop) {
        Verdict::Clear(evidence)
    } else {
        Verdict::Hold
    }
}
