//! Runs `pushwatch parse` on every golden input and compares each output line with the
//! expected JSON object in `fixtures/parser/NAME.json`. The input is `fixtures/parser/NAME.log`
//! or, for the anonymised samples, `fixtures/samples/NAME.log`; extra arguments, one per line,
//! come from `fixtures/parser/NAME.args`. The receive time is fixed so that year inference and
//! the receive-time fallback are reproducible.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RECEIVE_TIME: &str = "2026-06-01T00:00:00Z";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn input_for(stem: &str) -> PathBuf {
    let root = workspace_root();
    let own = root.join("fixtures/parser").join(format!("{stem}.log"));
    if own.exists() {
        own
    } else {
        root.join("fixtures/samples").join(format!("{stem}.log"))
    }
}

fn run_parse(input: &Path, extra: &[String]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_pushwatch"))
        .arg("parse")
        .arg("--receive-time")
        .arg(RECEIVE_TIME)
        .args(extra)
        .arg(input)
        .output()
        .expect("failed to run pushwatch parse");
    assert!(
        output.status.success(),
        "pushwatch parse {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pushwatch parse printed invalid UTF-8")
}

/// Returns one line per key whose value differs, so a failure names the field.
fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let (Value::Object(expected), Value::Object(actual)) = (expected, actual) else {
        return vec![format!("expected {expected}, got {actual}")];
    };
    let mut keys: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| expected.get(*key) != actual.get(*key))
        .map(|key| {
            format!(
                "{key}: expected {}, got {}",
                expected.get(key).unwrap_or(&Value::Null),
                actual
                    .get(key)
                    .map_or("<absent>".to_string(), Value::to_string)
            )
        })
        .collect()
}

#[test]
fn parse_matches_golden_files() {
    let dir = workspace_root().join("fixtures/parser");
    let mut goldens: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/parser is missing")
        .map(|entry| entry.expect("unreadable fixtures entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    goldens.sort();
    assert!(
        goldens.len() >= 6,
        "expected at least 6 golden files, found {}",
        goldens.len()
    );

    let mut failures = Vec::new();
    for golden in &goldens {
        let stem = golden
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let args_path = dir.join(format!("{stem}.args"));
        let extra: Vec<String> = std::fs::read_to_string(&args_path)
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let input = input_for(stem);
        let actual = run_parse(&input, &extra);
        let expected = std::fs::read_to_string(golden).expect("unreadable golden file");
        let actual_lines: Vec<&str> = actual.lines().collect();
        let expected_lines: Vec<&str> = expected.lines().collect();
        if actual_lines.len() != expected_lines.len() {
            failures.push(format!(
                "{stem}: expected {} records, got {}",
                expected_lines.len(),
                actual_lines.len()
            ));
        }
        for (index, (want, got)) in expected_lines.iter().zip(&actual_lines).enumerate() {
            let want: Value = serde_json::from_str(want).expect("golden line is not JSON");
            let got: Value = serde_json::from_str(got).expect("parse output is not JSON");
            for difference in differences(&want, &got) {
                failures.push(format!("{stem} record {}: {difference}", index + 1));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}
