//! Replays of the generated scenarios under `fixtures/scenarios/`, compared with the findings
//! each scenario expects (`expected-findings.jsonl`, one object per finding transition with
//! `time`, `activity`, `detector`, `scope` and `severity`).

mod common;

use common::{fixture, run_to_end};

/// One finding transition, as the expected-findings files write it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Transition {
    time: String,
    activity: String,
    detector: String,
    scope: String,
    severity: String,
}

fn field(value: &serde_json::Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| panic!("missing {pointer} in {value}"))
        .to_string()
}

/// Reads the OCSF Detection Findings that replay printed.
fn replayed(stdout: &[u8]) -> Vec<Transition> {
    let mut transitions: Vec<Transition> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("OCSF JSON line");
            Transition {
                time: field(&value, "/time_dt"),
                activity: field(&value, "/activity_name"),
                detector: field(&value, "/finding_info/types/0"),
                scope: field(&value, "/resources/0/name"),
                severity: field(&value, "/severity"),
            }
        })
        .collect();
    transitions.sort();
    transitions
}

fn expected(scenario: &str) -> Vec<Transition> {
    let path = fixture(&format!("scenarios/{scenario}/expected-findings.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let mut transitions: Vec<Transition> = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("expected JSON");
            Transition {
                time: field(&value, "/time"),
                activity: field(&value, "/activity"),
                detector: field(&value, "/detector"),
                scope: field(&value, "/scope"),
                severity: field(&value, "/severity"),
            }
        })
        .collect();
    transitions.sort();
    transitions
}

fn replay_scenario(scenario: &str) -> Vec<Transition> {
    let stream = fixture(&format!("scenarios/{scenario}/stream.log.gz"));
    let config = fixture(&format!("scenarios/{scenario}/pushwatch.toml"));
    let output = run_to_end(&[
        "replay",
        stream.to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    replayed(&output.stdout)
}

#[test]
fn push_outage_matches_expected() {
    let replayed = replay_scenario("push-outage");
    let expected = expected("push-outage");
    assert!(!expected.is_empty(), "the scenario expects findings");
    assert_eq!(replayed, expected);
}

#[test]
fn fatigue_matches_expected() {
    assert_eq!(replay_scenario("fatigue"), expected("fatigue"));
}

#[test]
fn canary_matches_expected() {
    assert_eq!(replay_scenario("canary"), expected("canary"));
}

/// Splits the outage stream into two files, alternating lines, as two relays would archive
/// one stream. Each file stays in time order, so the event-time merge must rebuild the same
/// order and replay must find the same findings.
#[test]
fn merged_halves_match_expected() {
    use std::io::{BufRead, BufReader, Write};

    let stream = fixture("scenarios/push-outage/stream.log.gz");
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(&stream).expect("open stream"),
    ));
    let dir = tempfile::tempdir().expect("temporary directory");
    let paths = [
        dir.path().join("relay-a.log"),
        dir.path().join("relay-b.log.gz"),
    ];
    let mut plain = std::io::BufWriter::new(std::fs::File::create(&paths[0]).expect("create a"));
    let mut gzip = flate2::write::GzEncoder::new(
        std::fs::File::create(&paths[1]).expect("create b"),
        flate2::Compression::fast(),
    );
    for (index, line) in reader.lines().enumerate() {
        let line = line.expect("read line");
        if index % 2 == 0 {
            writeln!(plain, "{line}").expect("write a");
        } else {
            writeln!(gzip, "{line}").expect("write b");
        }
    }
    plain.flush().expect("flush a");
    gzip.finish().expect("finish b");

    let config = fixture("scenarios/push-outage/pushwatch.toml");
    let output = run_to_end(&[
        "replay",
        paths[0].to_str().expect("UTF-8 path"),
        paths[1].to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("late lines: 0"), "{stderr}");
    assert_eq!(replayed(&output.stdout), expected("push-outage"));
}
