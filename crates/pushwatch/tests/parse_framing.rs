//! `pushwatch parse` with a framing that does not fit the input reports what it threw away.

use std::process::Command;

#[test]
fn octet_framing_on_lf_file_warns() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/samples/fortigate-vpn-auth.log"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_pushwatch"))
        .args(["parse", "--framing", "octet", sample])
        .output()
        .expect("pushwatch runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit status: {}", output.status);
    assert!(
        stderr.contains("invalid octet-count prefixes"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("bytes discarded"), "stderr: {stderr}");
}

#[test]
fn lf_framing_on_lf_file_is_quiet() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/samples/fortigate-vpn-auth.log"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_pushwatch"))
        .args(["parse", "--framing", "lf", sample])
        .output()
        .expect("pushwatch runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit status: {}", output.status);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    let lines = String::from_utf8_lossy(&output.stdout).lines().count();
    assert_eq!(lines, 32, "one JSON object per sample line");
}

#[test]
fn long_line_reported_as_cut() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("long.log");
    let long = format!("<134>msg=\"{}\"\n<134>short=1\n", "x".repeat(100));
    // The first line has 111 bytes: 50 are kept and 61 discarded.
    std::fs::write(&path, long).expect("write file");
    let output = Command::new(env!("CARGO_BIN_EXE_pushwatch"))
        .args(["parse", "--max-frame-len", "50"])
        .arg(&path)
        .output()
        .expect("pushwatch runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit status: {}", output.status);
    assert!(
        stderr.contains(
            "longer than --max-frame-len (50 bytes) or unfinished at the end of the input: 1,"
        ),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("61 bytes discarded"), "stderr: {stderr}");
    assert!(!stderr.contains("--framing"), "stderr: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(stdout.matches("\"truncated\":true").count(), 1, "{stdout}");
}
