//! Detector tests at explicit event times, driven through the engine with real parsed lines.

use crate::engine::Output;
use crate::finding::Activity;
use crate::testkit::{approved, code, fac, pending, small_config, Driver, MONDAY};
use crate::time::{Millis, DAY, HOUR, MINUTE, SECOND};
use crate::OutcomeClass;

const NAS: &str = "10.1.0.1";
const WINDOW: Millis = 5 * MINUTE;

fn users(prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|index| format!("{prefix}{index:02}"))
        .collect()
}

/// Writes one login per user in the window starting at `start`: a push approved after 5 s, or, when
/// `typed` is set, a code typed 30 s after the challenge.
fn logins(driver: &mut Driver, start: Millis, users: &[String], typed: bool) {
    for (_, line) in login_lines(start, users, typed) {
        driver.line(&line);
    }
}

/// Returns the lines of [`logins`] with their event times.
fn login_lines(start: Millis, users: &[String], typed: bool) -> Vec<(Millis, String)> {
    let mut lines = Vec::new();
    for (index, user) in users.iter().enumerate() {
        let at = start + (index as i64) * 10 * SECOND;
        lines.push((at, pending(at, user, NAS)));
        if typed {
            lines.push((at + 30 * SECOND, code(at + 30 * SECOND, user, NAS)));
        } else {
            lines.push((at + 5 * SECOND, approved(at + 5 * SECOND, user, NAS)));
        }
    }
    lines
}

struct Population {
    ios: Vec<String>,
    android: Vec<String>,
}

impl Population {
    fn new(count: usize) -> Population {
        Population {
            ios: users("ios", count),
            android: users("and", count),
        }
    }

    fn driver(&self) -> Driver {
        let ios: Vec<&str> = self.ios.iter().map(String::as_str).collect();
        let android: Vec<&str> = self.android.iter().map(String::as_str).collect();
        Driver::new(small_config(), &ios, &android)
    }

    /// `windows` windows from `start`, iOS typing codes when `ios_outage` is set.
    fn run(&self, driver: &mut Driver, start: Millis, windows: i64, ios_outage: bool) {
        for index in 0..windows {
            let window = start + index * WINDOW;
            logins(driver, window, &self.ios, ios_outage);
            logins(driver, window + 2 * MINUTE, &self.android, false);
        }
    }
}

fn opened(driver: &Driver, detector: &str, scope: &str) -> Option<Millis> {
    driver
        .summary()
        .into_iter()
        .find(|(activity, d, s, _)| *activity == Activity::Create && d == detector && s == scope)
        .map(|(_, _, _, time)| time)
}

fn closed(driver: &Driver, detector: &str, scope: &str) -> Option<Millis> {
    driver
        .summary()
        .into_iter()
        .find(|(activity, d, s, _)| *activity == Activity::Close && d == detector && s == scope)
        .map(|(_, _, _, time)| time)
}

/// Checks the findings of an iOS outage from `outage` to `recovery` while Android holds. Each
/// opens at the end of the second firing window and resolves at the end of the second clear
/// window.
fn assert_ios_outage_findings(driver: &Driver, outage: Millis, recovery: Millis) {
    for (detector, scope) in [
        ("push_silence", "platform:ios"),
        ("platform_divergence", "platform:ios"),
        ("fallback_surge", "platform:ios"),
        ("fallback_surge", "global"),
    ] {
        assert_eq!(
            opened(driver, detector, scope),
            Some(outage + 2 * WINDOW),
            "{detector}|{scope}: {:#?}",
            driver.summary()
        );
        assert_eq!(
            closed(driver, detector, scope),
            Some(recovery + 2 * WINDOW),
            "{detector}|{scope}: {:#?}",
            driver.summary()
        );
    }
}

#[test]
fn ios_outage_opens_and_resolves() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    let outage = start + 8 * WINDOW;
    population.run(&mut driver, outage, 3, true);
    let recovery = outage + 3 * WINDOW;
    population.run(&mut driver, recovery, 4, false);
    driver.finish();

    assert_ios_outage_findings(&driver, outage, recovery);
    // Android and the global push share (0.5 against 1.0, not below half) stay quiet.
    assert_eq!(opened(&driver, "push_silence", "platform:android"), None);
    assert_eq!(opened(&driver, "push_success_drop", "global"), None);
    assert_eq!(opened(&driver, "push_silence", "global"), None);
    let creates = driver
        .summary()
        .iter()
        .filter(|(activity, ..)| *activity == Activity::Create)
        .count();
    assert_eq!(creates, 4, "{:#?}", driver.summary());
}

#[test]
fn divergence_names_comparison_scope() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    population.run(&mut driver, start + 8 * WINDOW, 2, true);
    driver.finish();
    let record = driver
        .findings()
        .into_iter()
        .find(|record| record.finding.detector == "platform_divergence")
        .expect("divergence opened");
    let evidence = &record.finding.evidence;
    assert_eq!(
        evidence.comparison_scope.as_deref(),
        Some("platform:android")
    );
    assert_eq!(evidence.comparison_observed, Some(1.0));
    assert_eq!(evidence.observed, Some(0.0));
    assert_eq!(evidence.baseline, Some(1.0));
    assert!(
        evidence.probable_causes[0].contains("APNs"),
        "{:?}",
        evidence.probable_causes
    );
    assert_eq!(evidence.example_users.len(), 5);
}

#[test]
fn low_volume_does_not_fire() {
    // Two users per platform stay under min_users = 3.
    let population = Population::new(2);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    population.run(&mut driver, start + 8 * WINDOW, 4, true);
    driver.finish();
    assert!(driver.findings().is_empty(), "{:#?}", driver.summary());
}

#[test]
fn single_user_outage_does_not_fire() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    // Only ios00 types codes; everyone else approves pushes.
    for index in 0..4 {
        let window = start + (8 + index) * WINDOW;
        logins(&mut driver, window, &population.ios[..1], true);
        logins(&mut driver, window + MINUTE, &population.ios[1..], false);
        logins(&mut driver, window + 2 * MINUTE, &population.android, false);
    }
    driver.finish();
    assert!(driver.findings().is_empty(), "{:#?}", driver.summary());
}

#[test]
fn quiet_night_closes_windows_without_findings() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let evening = MONDAY + 17 * HOUR;
    population.run(&mut driver, evening, 8, false);
    let morning = MONDAY + DAY + 7 * HOUR;
    population.run(&mut driver, morning, 8, false);
    driver.finish();
    assert!(driver.findings().is_empty(), "{:#?}", driver.summary());
    let counters = driver.engine.counters();
    // 17:00 to 07:40 the next day is 176 windows.
    assert_eq!(counters.windows_closed, 176);
    assert_eq!(counters.attempts_by_class.get("push_approved"), Some(&256));
}

#[test]
fn out_of_order_within_lateness_is_stitched() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR;
    // The approval arrives before its challenge, 90 s late, within the 2 min lateness.
    driver.line(&approved(at + 6 * SECOND, "alice", NAS));
    driver.line(&fac(
        at + 90 * SECOND,
        30101,
        "",
        "admin",
        "",
        "RADIUS server running in full edition",
    ));
    driver.line(&pending(at, "alice", NAS));
    driver.finish();
    let attempts: Vec<_> = driver
        .outputs
        .iter()
        .filter_map(|output| match output {
            Output::Attempt(attempt) => Some(attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].class, OutcomeClass::PushApproved);
    assert_eq!(attempts[0].latency_ms, Some(6_000));
    assert_eq!(driver.engine.counters().late_signals, 0);
}

#[test]
fn lines_beyond_lateness_are_counted_not_stitched() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR;
    driver.line(&pending(at + 10 * MINUTE, "bob", NAS));
    driver.line(&approved(at + 10 * MINUTE + 4 * SECOND, "bob", NAS));
    // Eight minutes older than the newest line: beyond the 2 min lateness.
    driver.line(&pending(at + 2 * MINUTE, "alice", NAS));
    driver.finish();
    let counters = driver.engine.counters();
    assert_eq!(counters.late_signals, 1);
    assert_eq!(counters.late_lines, 1);
    assert_eq!(counters.attempts_by_class.get("push_approved"), Some(&1));
    assert_eq!(counters.attempts_by_class.get("push_timeout"), None);
    let late: u64 = driver
        .outputs
        .iter()
        .filter_map(|output| match output {
            Output::Window(stats) if stats.scope == "global" => Some(stats.late_lines),
            _ => None,
        })
        .sum();
    assert_eq!(late, 0, "the late line's window had closed already");
}

#[test]
fn fatigue_opens_for_repeated_timeouts() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR;
    // Five challenges 70 s apart, none answered: five timeouts within ten minutes.
    for index in 0..5 {
        driver.line(&pending(at + index * 70 * SECOND, "victim", NAS));
    }
    // Background lines move the watermark on.
    driver.line(&approved(at + 20 * MINUTE, "other", NAS));
    driver.line(&approved(at + 60 * MINUTE, "other", NAS));
    driver.finish();
    let summary = driver.summary();
    assert_eq!(
        opened(&driver, "mfa_fatigue", "user:victim"),
        Some(at + 4 * 70 * SECOND + MINUTE),
        "{summary:#?}"
    );
    // Resolved 30 min after the last failure.
    assert_eq!(
        closed(&driver, "mfa_fatigue", "user:victim"),
        Some(at + 4 * 70 * SECOND + MINUTE + 30 * MINUTE)
    );
    assert_eq!(summary.len(), 2, "{summary:#?}");
}

#[test]
fn fatigue_below_count_does_not_fire() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR;
    for index in 0..4 {
        driver.line(&pending(at + index * 70 * SECOND, "victim", NAS));
    }
    driver.line(&approved(at + 60 * MINUTE, "other", NAS));
    driver.finish();
    assert!(driver.findings().is_empty(), "{:#?}", driver.summary());
}

#[test]
fn pushd_error_opens_then_resolves() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR + 30 * SECOND;
    driver.line(&fac(
        at,
        20105,
        "Failed",
        "alice",
        NAS,
        "Failed to send notification to user due to pushd error -3: FTM server returned error",
    ));
    driver.line(&approved(at + 40 * MINUTE, "other", NAS));
    driver.finish();
    let window_end = MONDAY + 9 * HOUR + WINDOW;
    assert_eq!(
        opened(&driver, "push_service_errors", "global"),
        Some(window_end)
    );
    assert_eq!(
        closed(&driver, "push_service_errors", "global"),
        Some(window_end + 3 * WINDOW)
    );
}

#[test]
fn ha_role_change_is_context() {
    let mut driver = Driver::new(small_config(), &[], &[]);
    let at = MONDAY + 9 * HOUR + 30 * SECOND;
    let line = "date=2026-03-02 time=09:00:30+0000 oid=1 logid=40000 cat=\"Event\" subcat=\"High Availability\" level=\"information\" \
         nas=\"\" action=\"\" status=\"\" msg=\"The device is now the HA Primary (cluster size = 2)\" user=\"\"";
    driver.line(line);
    driver.line(&approved(at + 40 * MINUTE, "other", NAS));
    driver.finish();
    let summary = driver.summary();
    assert_eq!(summary.len(), 2, "{summary:#?}");
    assert_eq!(summary[0].0, Activity::Create);
    assert_eq!(summary[0].1, "ha_failover");
    assert_eq!(summary[0].3, at);
    assert_eq!(summary[1].0, Activity::Close);
}

#[test]
fn source_silence_needs_usual_volume_and_other_activity() {
    let mut config = small_config();
    config.baseline.slot = crate::config::SlotKind::HourOfDay;
    config.baseline.min_slot_windows = 6;
    let mut driver = Driver::new(config, &[], &[]);
    let fgt = |device: &str, time: Millis| {
        format!(
            "<189>date=2026-03-02 time=09:00:00 devname=\"{device}\" devid=\"FG100F\" eventtime={} tz=\"+0000\" \
             logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip=10.1.1.1",
            time * 1_000_000
        )
    };
    // Day 1, 09:00-10:00: both devices send 30 lines per window, teaching the 09:00 slot.
    // Day 2, 09:00-10:00: fgt-a stops after 09:20 and is back at 09:50; fgt-b goes on.
    for day in 0..2 {
        let start = MONDAY + day * DAY + 9 * HOUR;
        for window in 0..12 {
            for index in 0..30 {
                let time = start + window * WINDOW + index * 10 * SECOND;
                let silent = day == 1 && (4..10).contains(&window);
                if !silent {
                    driver.line(&fgt("fgt-a", time));
                }
                driver.line(&fgt("fgt-b", time));
            }
        }
    }
    driver.finish();
    let day2 = MONDAY + DAY + 9 * HOUR;
    // Windows 4, 5 and 6 are silent: the finding opens when window 6 closes and resolves when
    // window 10, which has lines again, closes.
    assert_eq!(
        opened(&driver, "source_silence", "source:fgt-a"),
        Some(day2 + 7 * WINDOW)
    );
    assert_eq!(
        closed(&driver, "source_silence", "source:fgt-a"),
        Some(day2 + 11 * WINDOW)
    );
    assert_eq!(opened(&driver, "source_silence", "source:fgt-b"), None);
    // The night between the two days is quiet for both devices and opens nothing.
    assert_eq!(driver.summary().len(), 2, "{:#?}", driver.summary());
}

fn population_driver(population: &Population, config: crate::Config) -> Driver {
    let ios: Vec<&str> = population.ios.iter().map(String::as_str).collect();
    let android: Vec<&str> = population.android.iter().map(String::as_str).collect();
    Driver::new(config, &ios, &android)
}

#[test]
fn canary_corroborates_push_silence() {
    let population = Population::new(8);
    let mut config = small_config();
    let text = "[[canaries]]\nuser = \"canary-ios\"\nplatform = \"ios\"\nschedule = \"every 5m\"\ngrace_secs = 120\n";
    config.canaries = crate::Config::from_toml_str(text, "<test>")
        .expect("valid canary")
        .canaries;
    let mut driver = population_driver(&population, config);
    let start = MONDAY + 9 * HOUR;
    let outage = start + 8 * WINDOW;
    for index in 0..11 {
        let window = start + index * WINDOW;
        // The canary approves at +30 s of every slot until the outage starts.
        if window < outage {
            driver.line(&pending(window + 26 * SECOND, "canary-ios", NAS));
            driver.line(&approved(window + 30 * SECOND, "canary-ios", NAS));
        }
        logins(&mut driver, window, &population.ios, window >= outage);
        logins(&mut driver, window + 2 * MINUTE, &population.android, false);
    }
    driver.finish();
    assert_eq!(
        opened(&driver, "canary_missed", "platform:ios"),
        Some(outage + 2 * MINUTE)
    );
    let silence = driver
        .findings()
        .into_iter()
        .find(|record| record.finding.detector == "push_silence")
        .expect("push silence opened");
    assert_eq!(silence.time, outage + 2 * WINDOW);
    assert_eq!(
        silence.finding.evidence.corroborated_by,
        vec!["canary_missed|platform:ios (canary-ios)".to_owned()]
    );
    // Canary logins stay out of the population windows: 8 iOS users per window.
    let ios_attempts: Vec<u64> = driver
        .outputs
        .iter()
        .filter_map(|output| match output {
            Output::Window(stats) if stats.scope == "platform:ios" => Some(stats.attempts),
            _ => None,
        })
        .collect();
    assert!(
        ios_attempts.iter().all(|count| *count == 8),
        "{ios_attempts:?}"
    );
}

#[test]
fn outage_suppresses_fatigue() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    let outage = start + 8 * WINDOW;
    population.run(&mut driver, outage, 3, true);
    // After the outage findings opened, one iOS user gets five unanswered pushes.
    for index in 0..5 {
        driver.line(&pending(
            outage + 3 * WINDOW + index * 70 * SECOND,
            "ios00",
            NAS,
        ));
    }
    population.run(&mut driver, outage + 5 * WINDOW, 1, true);
    driver.finish();
    assert_eq!(
        opened(&driver, "mfa_fatigue", "user:ios00"),
        None,
        "{:#?}",
        driver.summary()
    );
    let counters = driver.engine.counters();
    assert_eq!(counters.suppressed_fatigue, 1);
    // Without a fatigue finding the user's timeouts stay in the population windows.
    assert_eq!(counters.fatigue_excluded_attempts, 0);
    assert!(opened(&driver, "push_silence", "platform:ios").is_some());
}

/// The attacked account of the fatigue tests, an iOS user outside the population.
const VICTIM: &str = "victim";

/// Returns `count` unanswered pushes to [`VICTIM`], 70 s apart from `from`. With the 60 s
/// attempt timeout each one ends as a push timeout.
fn attack_lines(from: Millis, count: i64) -> Vec<(Millis, String)> {
    (0..count)
        .map(|index| {
            let at = from + index * 70 * SECOND;
            (at, pending(at, VICTIM, NAS))
        })
        .collect()
}

/// Feeds `lines` in event-time order.
fn feed_sorted(driver: &mut Driver, mut lines: Vec<(Millis, String)>) {
    lines.sort_by_key(|(time, _)| *time);
    for (_, line) in lines {
        driver.line(&line);
    }
}

/// Builds a driver for `population` with [`VICTIM`] on iOS.
fn attacked_driver(population: &Population, config: crate::Config) -> Driver {
    let mut ios: Vec<&str> = population.ios.iter().map(String::as_str).collect();
    ios.push(VICTIM);
    let android: Vec<&str> = population.android.iter().map(String::as_str).collect();
    Driver::new(config, &ios, &android)
}

/// Returns the global `fatigue_excluded_attempts` of every closed window, by window start.
fn excluded_by_window(driver: &Driver) -> Vec<(Millis, u64)> {
    driver
        .outputs
        .iter()
        .filter_map(|output| match output {
            Output::Window(stats) if stats.scope == "global" => {
                Some((stats.window_start, stats.fatigue_excluded_attempts))
            }
            _ => None,
        })
        .collect()
}

const OUTAGE_DETECTORS: [&str; 5] = [
    "push_silence",
    "push_success_drop",
    "fallback_surge",
    "platform_divergence",
    "approval_latency",
];

#[test]
fn outage_opens_during_fatigue_attack() {
    let population = Population::new(8);
    let mut driver = attacked_driver(&population, small_config());
    let start = MONDAY + 9 * HOUR;
    let attack = start + 8 * WINDOW;
    let outage = start + 10 * WINDOW;
    let recovery = outage + 3 * WINDOW;
    let mut lines = Vec::new();
    for index in 0..17 {
        let window = start + index * WINDOW;
        let typed = (outage..recovery).contains(&window);
        lines.extend(login_lines(window, &population.ios, typed));
        lines.extend(login_lines(window + 2 * MINUTE, &population.android, false));
    }
    // The attack runs from two windows before the outage to its end: 25 pushes.
    lines.extend(attack_lines(attack, 25));
    feed_sorted(&mut driver, lines);
    driver.finish();
    let summary = driver.summary();

    // The fifth timeout ends 60 s after the fifth push.
    assert_eq!(
        opened(&driver, "mfa_fatigue", "user:victim"),
        Some(attack + 4 * 70 * SECOND + MINUTE),
        "{summary:#?}"
    );
    // The same findings, at the same times, as without the attack.
    assert_ios_outage_findings(&driver, outage, recovery);
    let creates = summary
        .iter()
        .filter(|(activity, ..)| *activity == Activity::Create)
        .count();
    assert_eq!(creates, 5, "{summary:#?}");
    for record in driver.findings() {
        let examples = &record.finding.evidence.example_users;
        if record.finding.detector != "mfa_fatigue" {
            assert!(!examples.contains(&VICTIM.to_owned()), "{examples:?}");
        }
    }
    // Every push from the fifth on is left out of the windows.
    let counters = driver.engine.counters();
    assert_eq!(counters.fatigue_excluded_attempts, 21);
    let per_window: u64 = excluded_by_window(&driver).iter().map(|(_, n)| n).sum();
    assert_eq!(per_window, 21);
}

#[test]
fn attacked_user_alone_opens_no_outage() {
    // Three users per platform: the victim's four or five timeouts per window would pull the
    // iOS push success share under half of its baseline.
    let population = Population::new(3);
    let start = MONDAY + 9 * HOUR;
    let attack = start + 8 * WINDOW;
    let mut lines = Vec::new();
    for index in 0..20 {
        let window = start + index * WINDOW;
        lines.extend(login_lines(window, &population.ios, false));
        lines.extend(login_lines(window + 2 * MINUTE, &population.android, false));
    }
    lines.extend(attack_lines(attack, 26));

    // Control: with the fatigue detector off, nothing is left out and the attack alone looks
    // like an iOS outage. Platform divergence stays quiet only because three Android logins
    // per window are under its `min_samples`.
    let mut config = small_config();
    config.detectors.mfa_fatigue.enabled = false;
    let mut unguarded = attacked_driver(&population, config);
    feed_sorted(&mut unguarded, lines.clone());
    unguarded.finish();
    assert!(
        opened(&unguarded, "push_success_drop", "platform:ios").is_some(),
        "{:#?}",
        unguarded.summary()
    );

    let mut driver = attacked_driver(&population, small_config());
    feed_sorted(&mut driver, lines);
    driver.finish();
    let summary = driver.summary();
    for detector in OUTAGE_DETECTORS {
        for (activity, name, scope, _) in &summary {
            assert!(
                name != detector,
                "{activity:?} {name}|{scope}: {summary:#?}"
            );
        }
    }
    assert_eq!(
        opened(&driver, "mfa_fatigue", "user:victim"),
        Some(attack + 4 * 70 * SECOND + MINUTE)
    );
    // The four timeouts before the finding opened stay in the first attack window, which may
    // fire alone. The next window is clean, so no detector fires two windows in a row.
    let ios_timeouts: Vec<(Millis, u64)> = driver
        .outputs
        .iter()
        .filter_map(|output| match output {
            Output::Window(stats) if stats.scope == "platform:ios" => Some((
                stats.window_start,
                stats.counts.get("push_timeout").copied().unwrap_or(0),
            )),
            _ => None,
        })
        .filter(|(_, timeouts)| *timeouts > 0)
        .collect();
    assert_eq!(ios_timeouts, vec![(attack, 4)]);
    let counters = driver.engine.counters();
    assert_eq!(counters.fatigue_excluded_attempts, 22);
    let excluded = excluded_by_window(&driver);
    assert!(excluded.contains(&(attack, 1)), "{excluded:?}");
    let per_window: u64 = excluded.iter().map(|(_, n)| n).sum();
    assert_eq!(per_window, 22);
}

#[test]
fn counters_load_without_fatigue_exclusions() {
    // A state file written before attempts were excluded, with the retired outage counter.
    let json = r#"{"lines_seen": 3, "relevant_lines": 0, "signals": 0, "late_lines": 0,
        "late_signals": 0, "late_attempts": 0, "attempts_by_class": {}, "rule_hits": {},
        "evicted_attempts": 0, "evicted_users": 0, "unknown_failure_reasons": {},
        "windows_closed": 0, "findings_opened": 0, "findings_updated": 0,
        "findings_resolved": 0, "suppressed_fatigue": 2, "suppressed_outage": 1}"#;
    let counters: crate::engine::Counters = serde_json::from_str(json).expect("old counters");
    assert_eq!(counters.lines_seen, 3);
    assert_eq!(counters.suppressed_fatigue, 2);
    assert_eq!(counters.fatigue_excluded_attempts, 0);
}

#[test]
fn example_users_are_pseudonymised() {
    let population = Population::new(8);
    let mut config = small_config();
    config.findings.pseudonym_key = Some("site-secret".to_owned());
    let mut driver = population_driver(&population, config);
    let start = MONDAY + 9 * HOUR;
    population.run(&mut driver, start, 8, false);
    population.run(&mut driver, start + 8 * WINDOW, 2, true);
    driver.finish();
    let record = driver.findings()[0];
    let examples = &record.finding.evidence.example_users;
    assert_eq!(examples.len(), 5);
    for example in examples {
        assert_eq!(example.len(), 16, "{example}");
        assert!(
            example.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "{example}"
        );
        assert!(!example.contains("ios"), "{example}");
    }
}

#[test]
fn error_line_naming_certificate_is_linked() {
    let mut config = small_config();
    let text = "[[certificates]]\nname = \"fac-push-ca\"\nprotects = \"fac-server\"\nexpires = \"2027-01-01T00:00:00Z\"\n";
    config.certificates = crate::Config::from_toml_str(text, "<test>")
        .expect("valid certificate")
        .certificates;
    let mut driver = Driver::new(config, &[], &[]);
    let at = MONDAY + 9 * HOUR + 30 * SECOND;
    let text = "Failed to send notification to user due to pushd error -3: FTM server returned error (fac-push-ca)";
    driver.line(&fac(at, 20105, "Failed", "alice", NAS, text));
    driver.line(&approved(at + 20 * MINUTE, "other", NAS));
    driver.finish();
    let record = driver
        .findings()
        .into_iter()
        .find(|record| record.finding.detector == "push_service_errors")
        .expect("push-service error finding");
    let evidence = &record.finding.evidence;
    assert_eq!(
        evidence.details.get("certificates").map(String::as_str),
        Some("fac-push-ca")
    );
    assert_eq!(
        evidence.probable_causes,
        vec!["certificate fac-push-ca named in the error messages".to_owned()]
    );
}

/// Feeds `line` as received at `received` (event time of the receiver's clock).
fn received_at(driver: &mut Driver, line: &str, received: Millis) {
    let mut out = Vec::new();
    driver
        .engine
        .process_line(line.as_bytes(), received * 1_000_000, &mut out);
    driver.outputs.extend(out);
}

#[test]
fn fast_clock_line_is_skipped() {
    let at = MONDAY + 9 * HOUR;
    let mut config = small_config();
    config.windows.max_clock_skew_secs = 3_600;
    let mut driver = Driver::new(config, &[], &[]);
    received_at(&mut driver, &pending(at, "alice", NAS), at);
    // A device whose clock runs two hours ahead; the allowed skew is one hour.
    received_at(
        &mut driver,
        &pending(at + 2 * HOUR, "bob", NAS),
        at + SECOND,
    );
    received_at(
        &mut driver,
        &approved(at + 4 * SECOND, "alice", NAS),
        at + 4 * SECOND,
    );
    driver.finish();
    let counters = driver.engine.counters();
    assert_eq!(counters.future_lines, 1);
    assert_eq!(counters.late_lines, 0);
    assert_eq!(counters.lines_seen, 3);
    assert_eq!(counters.attempts_by_class.get("push_approved"), Some(&1));
    assert_eq!(counters.attempts_by_class.get("push_timeout"), None);

    // With the check off, the same line moves the watermark and the approval comes too late.
    let mut config = small_config();
    config.windows.max_clock_skew_secs = 0;
    let mut unchecked = Driver::new(config, &[], &[]);
    received_at(&mut unchecked, &pending(at, "alice", NAS), at);
    received_at(
        &mut unchecked,
        &pending(at + 2 * HOUR, "bob", NAS),
        at + SECOND,
    );
    received_at(
        &mut unchecked,
        &approved(at + 4 * SECOND, "alice", NAS),
        at + 4 * SECOND,
    );
    unchecked.finish();
    let counters = unchecked.engine.counters();
    assert_eq!(counters.future_lines, 0);
    assert_eq!(counters.late_lines, 1);
    assert_eq!(counters.attempts_by_class.get("push_approved"), None);
}

#[test]
fn replay_reference_bounds_line_times() {
    let at = MONDAY + 9 * HOUR;
    let mut config = small_config();
    config.windows.max_clock_skew_secs = 3_600;
    let mut driver = Driver::new(config, &[], &[]);
    // An archive last written at `at + 10 min`: a line dated a day later cannot be real.
    driver
        .engine
        .set_reference_time((at + 10 * MINUTE) * 1_000_000);
    driver.line(&pending(at, "alice", NAS));
    driver.line(&pending(at + 70 * MINUTE, "bob", NAS));
    driver.line(&pending(at + DAY, "carol", NAS));
    driver.finish();
    let counters = driver.engine.counters();
    // Seventy minutes is within the hour of skew after the reference; a day is not.
    assert_eq!(counters.future_lines, 1);
    assert_eq!(counters.lines_seen, 3);
}

/// During a real iOS outage every iOS user retries the push five times before typing a code.
/// The retries open fatigue findings before the outage finding does. Once the outage finding
/// opens, it explains them and they are resolved, so the outage leaves no fatigue alert per user.
#[test]
fn outage_explains_retry_fatigue() {
    let population = Population::new(8);
    let mut driver = population.driver();
    let start = MONDAY + 9 * HOUR;
    let outage = start + 8 * WINDOW;
    let mut lines = Vec::new();
    for index in 0..8 {
        let window = start + index * WINDOW;
        lines.extend(login_lines(window, &population.ios, false));
        lines.extend(login_lines(window + 2 * MINUTE, &population.android, false));
    }
    for index in 0..4 {
        let window = outage + index * WINDOW;
        lines.extend(login_lines(window + 2 * MINUTE, &population.android, false));
    }
    // Each iOS user: five pushes 70 s apart, all unanswered, then a typed code.
    for (number, user) in population.ios.iter().enumerate() {
        let first = outage + number as Millis * 5 * SECOND;
        for retry in 0..5 {
            let at = first + retry * 70 * SECOND;
            lines.push((at, pending(at, user, NAS)));
        }
        let typed = first + 5 * 70 * SECOND;
        lines.push((typed, code(typed, user, NAS)));
    }
    feed_sorted(&mut driver, lines);
    driver.finish();
    let summary = driver.summary();
    let silence = opened(&driver, "push_silence", "platform:ios");
    assert!(silence.is_some(), "{summary:#?}");
    let counters = driver.engine.counters();
    let fatigue_opened = summary
        .iter()
        .filter(|(activity, detector, ..)| {
            *activity == Activity::Create && detector == "mfa_fatigue"
        })
        .count() as u64;
    assert!(
        fatigue_opened > 0,
        "the retries look like fatigue: {summary:#?}"
    );
    assert_eq!(counters.explained_fatigue, fatigue_opened, "{summary:#?}");
    for user in &population.ios {
        let scope = format!("user:{user}");
        if let Some(opened_at) = opened(&driver, "mfa_fatigue", &scope) {
            let closed_at = closed(&driver, "mfa_fatigue", &scope).expect("explained and closed");
            assert!(closed_at >= opened_at);
            assert!(closed_at <= silence.unwrap_or(Millis::MAX), "{summary:#?}");
        }
    }
}
