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
