//! End-to-end tests of `pushwatch check-config`: it rejects what `run` and `replay` reject at
//! start-up, not only what the TOML types and ranges allow.

mod common;

use common::run_to_end;

/// Writes `config` to `pushwatch.toml` in `dir` and runs `check-config` on it.
fn check(dir: &std::path::Path, config: &str) -> (Option<i32>, String) {
    let path = dir.join("pushwatch.toml");
    std::fs::write(&path, config).expect("write config");
    let output = run_to_end(&["check-config", path.to_str().expect("UTF-8 path")]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[test]
fn kafka_fixed_options_rejected() {
    let cases = [
        ("enable.idempotence", "false"),
        ("acks", "1"),
        ("transactional.id", "pushwatch-1"),
    ];
    for (option, value) in cases {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = format!(
            "[kafka]\nbrokers = \"127.0.0.1:9092\"\n[kafka.options]\n\"{option}\" = \"{value}\"\n"
        );
        let (code, stderr) = check(dir.path(), &config);
        assert_eq!(code, Some(2), "{option}={value}: {stderr}");
        assert!(stderr.contains("kafka.options"), "{option}: {stderr}");
        assert!(stderr.contains(option), "{option}: {stderr}");
    }
}

#[test]
fn kafka_unknown_option_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "[kafka]\nbrokers = \"127.0.0.1:9092\"\n[kafka.options]\n\"linger.mss\" = \"5\"\n";
    let (code, stderr) = check(dir.path(), config);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("linger.mss"), "{stderr}");
}

#[test]
fn kafka_valid_option_accepted() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "[kafka]\nbrokers = \"127.0.0.1:9092\"\n[kafka.options]\n\"linger.ms\" = \"20\"\n";
    let (code, stderr) = check(dir.path(), config);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn missing_inventory_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (code, stderr) = check(dir.path(), "[inventory]\npath = \"nope.csv\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("inventory.path"), "{stderr}");
    assert!(stderr.contains("nope.csv"), "{stderr}");
}

#[test]
fn sink_file_missing_directory_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (code, stderr) = check(dir.path(), "[sinks]\nfile = \"/nonexistent/f.jsonl\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("sinks.file"), "{stderr}");
    assert!(stderr.contains("/nonexistent"), "{stderr}");
}

#[test]
fn state_missing_directory_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (code, stderr) = check(dir.path(), "[state]\npath = \"missing/state.json\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("state.path"), "{stderr}");
}

#[test]
fn corrupt_state_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("state.json"), "{not json").expect("write state");
    let (code, stderr) = check(dir.path(), "[state]\npath = \"state.json\"\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("state.json"), "{stderr}");
}

#[test]
fn spool_missing_directory_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "[kafka]\nbrokers = \"127.0.0.1:9092\"\nspool_path = \"gone/spool.bin\"\n";
    let (code, stderr) = check(dir.path(), config);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("kafka.spool_path"), "{stderr}");
}

#[test]
fn existing_paths_accepted() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("tokens.csv"),
        "user,serial,platform\nalice,,ios\n",
    )
    .expect("write inventory");
    let config = "[inventory]\npath = \"tokens.csv\"\n[sinks]\nfile = \"findings.jsonl\"\n\
                  [state]\npath = \"state.json\"\n";
    let (code, stderr) = check(dir.path(), config);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !dir.path().join("findings.jsonl").exists(),
        "check-config creates no file"
    );
}
