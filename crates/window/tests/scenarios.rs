//! Drives the engine with the parser over the shipped scenario fixtures and checks the
//! findings against the known event times of each scenario and against the golden files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use pushwatch_window::finding::Activity;
use pushwatch_window::state::SavedState;
use pushwatch_window::{Config, Engine, FindingRecord, Output, WindowStats};

const MINUTE: i64 = 60_000;
const WINDOW: i64 = 5 * MINUTE;
/// iOS pushes stop at 2026-03-16T08:00:00Z and work again from 10:00:00Z.
const OUTAGE_START: i64 = 1_773_648_000_000;
const OUTAGE_END: i64 = OUTAGE_START + 120 * MINUTE;

fn fixture(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scenarios")
        .join(scenario)
}

fn lines(scenario: &str) -> Vec<Vec<u8>> {
    let path = fixture(scenario).join("stream.log.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .split(b'\n')
        .map(|line| line.expect("readable gzip stream"))
        .collect()
}

fn config(scenario: &str) -> Config {
    Config::load(&fixture(scenario).join("pushwatch.toml")).expect("valid scenario configuration")
}

struct Run {
    findings: Vec<FindingRecord>,
    windows: Vec<WindowStats>,
}

/// An engine replaying archived lines: no line can be dated after the time of the test run.
fn engine(config: Config, saved: Option<SavedState>) -> Engine {
    let inventory = Engine::load_inventory(&config).expect("readable inventory");
    let mut engine = Engine::new(config, inventory, saved).expect("valid engine");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    engine.set_reference_time(i64::try_from(now.as_nanos()).expect("clock before 2262"));
    engine
}

fn collect(outputs: Vec<Output>, run: &mut Run) {
    for output in outputs {
        match output {
            Output::Finding(record) => run.findings.push(record),
            Output::Window(stats) => run.windows.push(stats),
            Output::Attempt(_) => {}
        }
    }
}

fn feed(engine: &mut Engine, lines: &[Vec<u8>], run: &mut Run) {
    let mut out = Vec::new();
    for line in lines {
        engine.process_line(line, 0, &mut out);
    }
    collect(out, run);
}

fn replay(config: Config, lines: &[Vec<u8>]) -> Run {
    let mut run = Run {
        findings: Vec::new(),
        windows: Vec::new(),
    };
    let mut engine = engine(config, None);
    feed(&mut engine, lines, &mut run);
    let mut out = Vec::new();
    engine.finish(&mut out);
    collect(out, &mut run);
    run
}

fn find(run: &Run, activity: Activity, detector: &str, scope: &str) -> Option<i64> {
    run.findings
        .iter()
        .find(|record| {
            record.activity == activity
                && record.finding.detector == detector
                && record.finding.scope == scope
        })
        .map(|record| record.time)
}

/// Returns the hand-checkable projection of a finding record, as in `expected-findings.jsonl`.
fn projection(record: &FindingRecord) -> serde_json::Value {
    let json = record.to_ocsf("pushwatch");
    serde_json::json!({
        "time": json["time_dt"],
        "activity": json["activity_name"],
        "detector": json["finding_info"]["types"][0],
        "scope": json["resources"][0]["name"],
        "severity": json["severity"],
    })
}

fn golden(scenario: &str) -> Vec<serde_json::Value> {
    let path = fixture(scenario).join("expected-findings.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("valid golden line"))
        .collect()
}

#[test]
fn push_outage_findings_follow_the_outage() {
    let run = replay(config("push-outage"), &lines("push-outage"));
    // Nothing during the 14 normal days.
    let early: Vec<_> = run
        .findings
        .iter()
        .filter(|record| record.time < OUTAGE_START)
        .map(projection)
        .collect();
    assert!(early.is_empty(), "findings before the outage: {early:#?}");
    // The three outage detectors open within two windows of the outage start.
    for (detector, scope) in [
        ("push_silence", "platform:ios"),
        ("fallback_surge", "global"),
        ("fallback_surge", "platform:ios"),
        ("platform_divergence", "platform:ios"),
    ] {
        let opened = find(&run, Activity::Create, detector, scope)
            .unwrap_or_else(|| panic!("{detector}|{scope} never opened"));
        assert!(
            opened > OUTAGE_START && opened <= OUTAGE_START + 2 * WINDOW,
            "{detector}|{scope} opened at {opened}"
        );
        let closed = find(&run, Activity::Close, detector, scope)
            .unwrap_or_else(|| panic!("{detector}|{scope} never closed"));
        assert!(
            closed > OUTAGE_END && closed <= OUTAGE_END + 2 * WINDOW,
            "{detector}|{scope} closed at {closed}"
        );
    }
    // Every finding closes after the recovery, and nothing is left open.
    for record in &run.findings {
        if record.activity == Activity::Close {
            assert!(record.time > OUTAGE_END, "{:?}", projection(record));
        }
    }
    let opened = run
        .findings
        .iter()
        .filter(|record| record.activity == Activity::Create)
        .count();
    let closed = run
        .findings
        .iter()
        .filter(|record| record.activity == Activity::Close)
        .count();
    assert_eq!(opened, closed);
    // Android keeps approving pushes during the outage.
    let android_outage: u64 = run
        .windows
        .iter()
        .filter(|stats| {
            stats.scope == "platform:android"
                && (OUTAGE_START..OUTAGE_END).contains(&stats.window_start)
        })
        .map(|stats| stats.push_approved)
        .sum();
    assert!(android_outage > 300, "{android_outage}");
    let ios_outage: u64 = run
        .windows
        .iter()
        .filter(|stats| {
            stats.scope == "platform:ios"
                && (OUTAGE_START..OUTAGE_END).contains(&stats.window_start)
        })
        .map(|stats| stats.push_approved)
        .sum();
    assert_eq!(ios_outage, 0);
}

#[test]
fn push_outage_matches_golden_file() {
    let run = replay(config("push-outage"), &lines("push-outage"));
    let actual: Vec<_> = run.findings.iter().map(projection).collect();
    assert_eq!(actual, golden("push-outage"));
}

#[test]
fn push_outage_findings_carry_evidence() {
    let run = replay(config("push-outage"), &lines("push-outage"));
    let record = run
        .findings
        .iter()
        .find(|record| record.finding.detector == "platform_divergence")
        .expect("divergence opened");
    let json = record.to_ocsf("pushwatch");
    assert_eq!(json["class_uid"], 2004);
    let evidence = &json["evidences"][0]["data"];
    assert_eq!(evidence["comparison_scope"], "platform:android");
    assert_eq!(evidence["observed"], 0.0);
    assert!(
        evidence["baseline"]
            .as_f64()
            .is_some_and(|share| share > 0.8),
        "{evidence}"
    );
    assert_eq!(evidence["example_users"].as_array().map(Vec::len), Some(5));
    assert!(
        evidence["probable_causes"][0]
            .as_str()
            .is_some_and(|cause| cause.contains("APNs")),
        "{evidence}"
    );
}

#[test]
fn expired_apns_certificate_is_first_cause() {
    let mut config = config("push-outage");
    let text = "[[certificates]]\nname = \"apns-fac01\"\nprotects = \"apns\"\nexpires = \"2026-03-16T07:30:00Z\"\n";
    config.certificates = Config::from_toml_str(text, "<test>")
        .expect("valid certificate")
        .certificates;
    let run = replay(config, &lines("push-outage"));
    let silence = run
        .findings
        .iter()
        .find(|record| {
            record.finding.detector == "push_silence" && record.activity == Activity::Create
        })
        .expect("push silence opened");
    let first = &silence.finding.evidence.probable_causes[0];
    assert!(
        first.contains("apns-fac01") && first.contains("expired"),
        "{first}"
    );
    // The countdown itself turned critical once expired, at the expiry time.
    let expired = run
        .findings
        .iter()
        .rfind(|record| record.finding.detector == "certificate_expiring")
        .expect("countdown findings");
    assert_eq!(expired.time, OUTAGE_START - 30 * MINUTE);
    assert_eq!(
        expired.finding.severity,
        pushwatch_window::finding::Severity::Critical
    );
}

#[test]
fn certificate_countdown_steps_at_event_times() {
    // The scenario runs 2026-03-02T07:00 to 2026-03-16; an FCM certificate expiring on
    // 2026-03-14 reached 30 days before the first line, so its countdown opens with the
    // 30-day stage at the start of the first window, 07:00 on 03-02. It is updated at
    // 10 days (03-04) and 1 day (03-13) and expires on 03-14.
    let mut config = config("push-outage");
    let text = "[[certificates]]\nname = \"fcm-sender\"\nprotects = \"fcm\"\nexpires = \"2026-03-14T12:00:00Z\"\n";
    config.certificates = Config::from_toml_str(text, "<test>")
        .expect("valid certificate")
        .certificates;
    let run = replay(config, &lines("push-outage"));
    let steps: Vec<(Activity, String, String)> = run
        .findings
        .iter()
        .filter(|record| record.finding.detector == "certificate_expiring")
        .map(|record| {
            let json = record.to_ocsf("pushwatch");
            (
                record.activity,
                json["time_dt"].as_str().unwrap_or_default().to_owned(),
                record
                    .finding
                    .evidence
                    .details
                    .get("stage")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                Activity::Create,
                "2026-03-02T07:00:00.000Z".to_owned(),
                "30 days".to_owned()
            ),
            (
                Activity::Update,
                "2026-03-04T12:00:00.000Z".to_owned(),
                "10 days".to_owned()
            ),
            (
                Activity::Update,
                "2026-03-13T12:00:00.000Z".to_owned(),
                "1 day".to_owned()
            ),
            (
                Activity::Update,
                "2026-03-14T12:00:00.000Z".to_owned(),
                "expired".to_owned()
            ),
        ]
    );
}

#[test]
fn fatigue_yields_only_the_fatigue_finding() {
    let run = replay(config("fatigue"), &lines("fatigue"));
    let actual: Vec<_> = run.findings.iter().map(projection).collect();
    assert_eq!(actual, golden("fatigue"));
    assert!(run
        .findings
        .iter()
        .all(|record| record.finding.detector == "mfa_fatigue"));
    // The fifth of the twelve pushes opens the finding, so it and the seven after it stay out of
    // the population windows.
    let excluded: u64 = run
        .windows
        .iter()
        .filter(|stats| stats.scope == "global")
        .map(|stats| stats.fatigue_excluded_attempts)
        .sum();
    assert_eq!(excluded, 8);
}

#[test]
fn canary_misses_open_and_resolve() {
    let run = replay(config("canary"), &lines("canary"));
    let actual: Vec<_> = run.findings.iter().map(projection).collect();
    assert_eq!(actual, golden("canary"));
    let typed = run
        .findings
        .iter()
        .find(|record| {
            record
                .finding
                .evidence
                .details
                .get("outcome")
                .map(String::as_str)
                == Some("totp_fallback")
        })
        .expect("the typed code opened a finding");
    assert_eq!(typed.activity, Activity::Create);
    // Canary logins stay out of the population windows.
    let canary_in_windows = run
        .windows
        .iter()
        .any(|stats| stats.scope == "global" && stats.distinct_users == 0);
    assert!(!canary_in_windows);
}

fn record_json(records: &[FindingRecord]) -> Vec<String> {
    records
        .iter()
        .map(|record| record.to_ocsf("pushwatch").to_string())
        .collect()
}

#[test]
fn restart_from_state_file_gives_same_findings() {
    let lines = lines("push-outage");
    let batch = replay(config("push-outage"), &lines);
    // Stop in the middle of the outage, save, restore into a new engine and go on.
    let middle = lines.len() - lines.len() / 30;
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("state.json");
    let mut run = Run {
        findings: Vec::new(),
        windows: Vec::new(),
    };
    let mut first = engine(config("push-outage"), None);
    feed(&mut first, &lines[..middle], &mut run);
    first.save_state(&path).expect("state saved");
    drop(first);
    let saved = SavedState::load(&path).expect("state loaded");
    let mut second = engine(config("push-outage"), Some(saved));
    feed(&mut second, &lines[middle..], &mut run);
    let mut out = Vec::new();
    second.finish(&mut out);
    collect(out, &mut run);
    assert_eq!(record_json(&run.findings), record_json(&batch.findings));
    assert_eq!(run.windows, batch.windows);
}

#[test]
fn renewed_certificate_resolves_after_restart() {
    // The countdown of an FCM certificate expiring on 2026-03-14 is open when the state is
    // saved on 2026-03-09. The restarted engine has the renewed entry (2027-03-14), so the
    // first window it closes resolves the countdown and no later step fires.
    let certificate = |expires: &str| {
        let mut config = config("push-outage");
        let text = format!(
            "[[certificates]]\nname = \"fcm-sender\"\nprotects = \"fcm\"\nexpires = \"{expires}\"\n"
        );
        config.certificates = Config::from_toml_str(&text, "<test>")
            .expect("valid certificate")
            .certificates;
        config
    };
    let lines = lines("push-outage");
    let mut run = Run {
        findings: Vec::new(),
        windows: Vec::new(),
    };
    let mut first = engine(certificate("2026-03-14T12:00:00Z"), None);
    let mut reached_restart = false;
    let mut out = Vec::new();
    let mut rest = &lines[..];
    while let Some((line, tail)) = rest.split_first() {
        first.process_line(line, 0, &mut out);
        rest = tail;
        if out
            .iter()
            .any(|output| matches!(output, Output::Window(stats) if stats.window_start >= RESTART))
        {
            reached_restart = true;
            break;
        }
    }
    collect(out, &mut run);
    assert!(reached_restart, "the stream reaches the restart time");
    let steps_before = run
        .findings
        .iter()
        .filter(|record| record.finding.detector == "certificate_expiring")
        .count();
    assert_eq!(steps_before, 2, "opened at 30 days, updated at 10 days");
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("state.json");
    first.save_state(&path).expect("state saved");
    drop(first);

    let saved = SavedState::load(&path).expect("state loaded");
    let mut second = engine(certificate("2027-03-14T12:00:00Z"), Some(saved));
    let mut after = Run {
        findings: Vec::new(),
        windows: Vec::new(),
    };
    feed(&mut second, rest, &mut after);
    let countdown: Vec<&FindingRecord> = after
        .findings
        .iter()
        .filter(|record| record.finding.detector == "certificate_expiring")
        .collect();
    assert_eq!(countdown.len(), 1, "{countdown:#?}");
    let close = countdown[0];
    assert_eq!(close.activity, Activity::Close);
    assert_eq!(close.finding.scope, "certificate:fcm-sender");
    let details = &close.finding.evidence.details;
    assert_eq!(details.get("stage").map(String::as_str), Some("renewed"));
    assert_eq!(
        details.get("previous_expires").map(String::as_str),
        Some("2026-03-14T12:00:00.000Z")
    );
    assert_eq!(
        details.get("expires").map(String::as_str),
        Some("2027-03-14T12:00:00.000Z")
    );
    let first_window = after
        .windows
        .first()
        .map(|stats| stats.window_start)
        .expect("windows closed after the restart");
    assert_eq!(close.time, first_window);
}

/// Where [`renewed_certificate_resolves_after_restart`] stops the first engine:
/// 2026-03-09T00:00:00Z.
const RESTART: i64 = 1_773_014_400_000;

#[test]
fn chunked_feeding_gives_same_findings() {
    let lines = lines("fatigue");
    let batch = replay(config("fatigue"), &lines);
    let mut run = Run {
        findings: Vec::new(),
        windows: Vec::new(),
    };
    let mut engine = engine(config("fatigue"), None);
    for chunk in lines.chunks(977) {
        feed(&mut engine, chunk, &mut run);
    }
    let mut out = Vec::new();
    engine.finish(&mut out);
    collect(out, &mut run);
    assert_eq!(record_json(&run.findings), record_json(&batch.findings));
    assert_eq!(run.windows, batch.windows);
}
