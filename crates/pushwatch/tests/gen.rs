//! End-to-end tests of `pushwatch gen` side files: written only to the `--side-files` directory,
//! never over an existing file without `--force`.

mod common;

use std::process::{Command, Output, Stdio};

use common::BINARY;

/// Runs the binary with `args` in the working directory `cwd`.
fn gen_in(cwd: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(cwd)
        .env_remove("PUSHWATCH_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("start pushwatch")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn output_file_writes_no_side_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let own_config = dir.path().join("pushwatch.toml");
    std::fs::write(&own_config, "# the user's own configuration\n").expect("write config");
    let output = gen_in(
        dir.path(),
        &["gen", "--scenario", "fatigue", "-o", "s.log.gz"],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(dir.path().join("s.log.gz").exists());
    let config = std::fs::read_to_string(&own_config).expect("read config");
    assert_eq!(config, "# the user's own configuration\n");
    assert!(!dir.path().join("inventory.csv").exists());
}

#[test]
fn stdout_writes_no_side_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = gen_in(dir.path(), &["gen", "--scenario", "canary", "-o", "-"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(!output.stdout.is_empty());
    assert!(!dir.path().join("pushwatch.toml").exists());
    assert!(!dir.path().join("inventory.csv").exists());
}

#[test]
fn side_files_not_overwritten() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let own_config = dir.path().join("pushwatch.toml");
    std::fs::write(&own_config, "# the user's own configuration\n").expect("write config");
    let side = dir.path().to_str().expect("UTF-8 path");
    let args = [
        "gen",
        "--scenario",
        "fatigue",
        "-o",
        "s.log",
        "--side-files",
        side,
    ];
    let rejected = gen_in(dir.path(), &args);
    let stderr = stderr_of(&rejected);
    assert_eq!(rejected.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pushwatch.toml already exists"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    let config = std::fs::read_to_string(&own_config).expect("read config");
    assert_eq!(config, "# the user's own configuration\n");
    assert!(!dir.path().join("s.log").exists(), "nothing written");

    let forced = gen_in(dir.path(), &[&args[..], &["--force"]].concat());
    assert!(forced.status.success(), "{}", stderr_of(&forced));
    let config = std::fs::read_to_string(&own_config).expect("read config");
    assert!(config.contains("[inventory]"), "{config}");
    assert!(dir.path().join("inventory.csv").exists());
}

#[test]
fn side_files_go_to_named_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = gen_in(
        dir.path(),
        &[
            "gen",
            "--scenario",
            "push-outage",
            "-o",
            "-",
            "--side-files",
            "side",
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(dir.path().join("side/pushwatch.toml").exists());
    assert!(dir.path().join("side/inventory.csv").exists());
    assert!(!dir.path().join("pushwatch.toml").exists());
}

#[test]
fn mix_rejects_side_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = gen_in(
        dir.path(),
        &["gen", "--lines", "10", "-o", "-", "--side-files", "side"],
    );
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("scenarios only"), "{stderr}");
}
