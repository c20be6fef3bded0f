//! End-to-end tests of `pushwatch replay` and `pushwatch check-config` on the real binary.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{fixture, run_to_end, summary_count, BINARY};

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Expected classes of the FortiAuthenticator sample, read by hand. Line 17 is event 20002
/// ending in "(chosen FTM push notification)", a push approval (Fortinet KB for event 20002).
/// Line 15 is 20002 without that suffix, a typed code. Line 16 keeps the source typo
/// `logid=200022`, so it is not event 20002. Lines 4 (20001 Failed "with invalid token", as
/// FortiAuthenticator 6.3.1 logs it) and 25 (20103 "with FortiToken failed: invalid token.")
/// are wrong codes.
#[test]
fn samples_classify_push_and_codes() {
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let output = run_to_end(&["replay", sample.to_str().expect("UTF-8 path")]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("lines read: 33 "), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "login attempts", "push_approved"),
        1,
        "{stderr}"
    );
    let typed = summary_count(&stderr, "login attempts", "totp_direct")
        + summary_count(&stderr, "login attempts", "totp_fallback");
    assert_eq!(typed, 1, "{stderr}");
    assert_eq!(
        summary_count(&stderr, "login attempts", "totp_failed"),
        2,
        "{stderr}"
    );
}

#[test]
fn gzip_stdin_matches_plain_file() {
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let plain = run_to_end(&["replay", sample.to_str().expect("UTF-8 path")]);
    let text = std::fs::read(&sample).expect("read sample");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&text).expect("compress");
    let compressed = encoder.finish().expect("finish gzip");
    let mut child = Command::new(BINARY)
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start replay");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&compressed)
        .expect("write stdin");
    let piped = child.wait_with_output().expect("replay output");
    assert!(piped.status.success(), "{}", stderr_of(&piped));
    let summary = |output: &std::process::Output| {
        stderr_of(output)
            .lines()
            .filter(|line| !line.contains(" INFO ") && !line.contains(" WARN "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&plain), summary(&piped));
}

#[test]
fn from_to_skips_old_lines() {
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let output = run_to_end(&[
        "replay",
        sample.to_str().expect("UTF-8 path"),
        "--from",
        "2026-01-01T00:00:00Z",
        "--to",
        "2026-12-31T00:00:00Z",
    ]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("outside --from/--to"), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "login attempts", "push_approved"),
        1,
        "{stderr}"
    );
    // The 2021 wrong code (line 4) is outside the range; the 2026 one (line 25) is inside.
    assert_eq!(
        summary_count(&stderr, "login attempts", "totp_failed"),
        1,
        "{stderr}"
    );
}

#[test]
fn report_is_self_contained_html() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let report = dir.path().join("report.html");
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let output = run_to_end(&[
        "replay",
        sample.to_str().expect("UTF-8 path"),
        "--report",
        report.to_str().expect("UTF-8 path"),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "at least the global chart");
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
}

#[test]
fn missing_file_fails_with_path() {
    let output = run_to_end(&["replay", "/nonexistent/archive.log.gz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("/nonexistent/archive.log.gz"));
}

#[test]
fn unknown_config_key_rejected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[windows]\nsize = 300\n").expect("write config");
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let output = run_to_end(&[
        "replay",
        sample.to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
    ]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`windows.size`"), "{stderr}");
    assert!(
        stderr.contains("size_secs"),
        "allowed keys listed: {stderr}"
    );
}

#[test]
fn check_config_reports_window_range() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[windows]\nsize_secs = 0\n").expect("write config");
    let output = run_to_end(&["check-config", config.to_str().expect("UTF-8 path")]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("windows.size_secs"), "{stderr}");
    assert!(stderr.contains("invalid value 0"), "{stderr}");
}

#[test]
fn check_config_accepts_valid_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("good.toml");
    std::fs::write(
        &config,
        "[sources.udp]\nlisten = \"127.0.0.1:5514\"\n[windows]\nsize_secs = 600\n",
    )
    .expect("write config");
    let output = run_to_end(&[
        "check-config",
        config.to_str().expect("UTF-8 path"),
        "--print",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("size_secs = 600"), "{printed}");
}

#[test]
fn state_saved_and_loaded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let state = dir.path().join("state.json");
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let args = [
        "replay",
        sample.to_str().expect("UTF-8 path"),
        "--state",
        state.to_str().expect("UTF-8 path"),
    ];
    let first = run_to_end(&args);
    assert!(first.status.success(), "{}", stderr_of(&first));
    let saved = std::fs::read_to_string(&state).expect("state written at the end");
    assert!(saved.contains("\"version\""), "{saved}");

    // The second replay starts from the saved state, whose watermark is the newest line
    // (2026-10-07 13:22:05, line 27) minus the allowed lateness of 2 minutes. Every other
    // line is older, so 32 lines are late and no attempt is classified again.
    let second = run_to_end(&args);
    let stderr = stderr_of(&second);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("late lines: 32"), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "login attempts", "push_approved"),
        0,
        "{stderr}"
    );

    std::fs::write(&state, "{not json").expect("corrupt the state");
    let third = run_to_end(&args);
    let stderr = stderr_of(&third);
    assert_eq!(third.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("state.json"), "{stderr}");
}

/// Writes an archive whose first line opens a `push_service_errors` finding: a
/// FortiAuthenticator line with the push-daemon failure text of Fortinet KB 333425 (its event
/// id is not documented), then a later line that closes its window.
fn write_push_failure_archive(dir: &std::path::Path) -> std::path::PathBuf {
    let archive = dir.join("fac.log");
    std::fs::write(
        &archive,
        "date=2026-03-04 time=10:22:44+0000 oid=9 logid=20105 cat=\"Event\" \
         subcat=\"Authentication\" level=\"warning\" nas=\"10.10.10.10\" \
         action=\"Authentication\" status=\"Failed\" msg=\"Failed to send notification to user \
         due to pushd error -3: FTM server returned error\" user=\"user075\"\n\
         date=2026-03-04 time=10:40:00+0000 oid=8888 logid=20000 cat=\"Event\" \
         subcat=\"Authentication\" level=\"information\" nas=\"10.10.10.100\" \
         action=\"Authentication\" status=\"Success\" msg=\"Remote LDAP user authentication \
         with SMS token successful\" user=\"user074\"\n",
    )
    .expect("write archive");
    archive
}

#[test]
fn kafka_missing_topic_fails_replay() {
    use pushwatch_sink::testing::{unique_topic, TestKafka};

    let kafka = TestKafka::get().expect("Kafka test broker");
    let bootstrap = kafka.bootstrap();
    // The topic is never created, so the broker rejects every produce request for it.
    let topic = unique_topic("replay-missing");
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = write_push_failure_archive(dir.path());
    let config = dir.path().join("pushwatch.toml");
    std::fs::write(&config, "[kafka]\nmessage_timeout_secs = 2\n").expect("write config");
    let output = run_to_end(&[
        "replay",
        archive.to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
        "--kafka-brokers",
        &bootstrap,
        "--kafka-topic",
        &topic,
    ]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The finding is opened and resolved within the archive: two records, both lost.
    assert!(
        stderr.contains("findings: 1 opened, 0 updated, 1 resolved"),
        "{stderr}"
    );
    assert!(stderr.contains("not delivered: 2 "), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "not delivered", "dropped"),
        2,
        "{stderr}"
    );
    let give_up = stderr
        .lines()
        .find(|line| line.contains("undelivered records are lost"))
        .unwrap_or_default();
    assert!(
        give_up.contains("Message timed out"),
        "cause logged: {stderr}"
    );
}

#[test]
fn findings_go_to_kafka_when_set() {
    use pushwatch_sink::testing::{consume, create_topic, unique_topic, TestKafka};

    let kafka = TestKafka::get().expect("Kafka test broker");
    let bootstrap = kafka.bootstrap();
    let topic = unique_topic("replay-findings");
    create_topic(&bootstrap, &topic, 1).expect("create topic");
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = write_push_failure_archive(dir.path());
    let output = run_to_end(&[
        "replay",
        archive.to_str().expect("UTF-8 path"),
        "--kafka-brokers",
        &bootstrap,
        "--kafka-topic",
        &topic,
    ]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout is off when Kafka is on");
    assert!(stderr.contains("findings: 1 opened"), "{stderr}");
    assert!(stderr.contains("not delivered: 0\n"), "{stderr}");
    let records = consume(
        &bootstrap,
        &topic,
        1,
        std::time::Duration::from_secs(30),
        std::time::Duration::ZERO,
    )
    .expect("the finding on the topic");
    let key = records[0].key.as_deref().expect("record key");
    assert!(key.starts_with(b"push_service_errors|"), "{records:?}");
    assert_eq!(
        records[0].header("ce_type"),
        Some("io.pushwatch.finding.opened")
    );
}

/// Writes FortiAuthenticator lines whose RFC 3164 headers carry no year, one per `month_day`
/// (e.g. `"Jun 30"`), in that order.
fn write_yearless_archive(dir: &std::path::Path, month_days: &[&str]) -> std::path::PathBuf {
    let archive = dir.join("yearless.log");
    let lines: String = month_days
        .iter()
        .map(|month_day| {
            format!(
                "{month_day} 10:00:00 fac01 db[7]: category=\"Event\" subcategory=\"System\" \
                 typeid=30101 level=\"information\" user=\"admin\" RADIUS server running\n"
            )
        })
        .collect();
    std::fs::write(&archive, lines).expect("write archive");
    archive
}

/// Replays `archive` with `extra` arguments and the range `from`..`to`, and returns the
/// number of lines outside that range.
fn lines_outside(archive: &std::path::Path, extra: &[&str], from: &str, to: &str) -> u64 {
    let mut args = vec![
        "replay",
        archive.to_str().expect("UTF-8 path"),
        "--from",
        from,
        "--to",
        to,
    ];
    args.extend_from_slice(extra);
    let output = run_to_end(&args);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    stderr
        .lines()
        .find(|line| line.starts_with("lines read:"))
        .and_then(|line| {
            line.split(", ")
                .find(|part| part.ends_with("outside --from/--to)"))
        })
        .and_then(|part| part.split(' ').next())
        .map_or(0, |count| count.parse().expect("count of lines outside"))
}

#[test]
fn yearless_times_not_after_mtime() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = write_yearless_archive(dir.path(), &["Jan  1", "Jun 30", "Dec 30"]);
    let mtime = chrono::DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z").expect("time");
    std::fs::File::options()
        .write(true)
        .open(&archive)
        .expect("open archive")
        .set_modified(mtime.into())
        .expect("set modification time");
    let in_2025 = lines_outside(
        &archive,
        &[],
        "2025-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(in_2025, 0, "every line in 2025");
}

#[test]
fn receive_time_sets_year_reference() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = write_yearless_archive(dir.path(), &["Jan  1", "Feb 12", "Jun 30", "Dec 30"]);
    let cases = [
        // Dec 30 is 14 hours before the reference, Jun 30 half a year before, and Jan 1 10:00
        // is more than the day of tolerance after it.
        (
            "2025-12-31T00:00:00Z",
            "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            0,
        ),
        // A copy made on Dec 4 keeps Feb 12 in the same year; Dec 30 goes to the year before.
        (
            "2026-12-04T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            1,
        ),
        // One day of tolerance for clock skew: Dec 30 10:00 is ten hours after the reference
        // and stays in its year.
        (
            "2026-12-30T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            0,
        ),
    ];
    for (reference, from, to, outside) in cases {
        let extra = ["--receive-time", reference];
        assert_eq!(
            lines_outside(&archive, &extra, from, to),
            outside,
            "reference {reference}"
        );
    }
}

#[test]
fn unwritable_state_fails_before_input() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // The state file's directory does not exist, so the state could never be saved.
    let state = dir.path().join("missing").join("state.json");
    let archive = write_push_failure_archive(dir.path());
    let output = run_to_end(&[
        "replay",
        archive.to_str().expect("UTF-8 path"),
        "--state",
        state.to_str().expect("UTF-8 path"),
    ]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("state.path"), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(!stderr.contains("lines read"), "no input read: {stderr}");
    assert!(output.stdout.is_empty(), "no findings");
}

/// A FortiGate admin login (event 0100032001, not an MFA event) with a body date in 2026 and a
/// year-less header date of Feb 29, which 2025 to 2027 do not have.
#[test]
fn feb_29_header_counted_with_body_time() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("fgt.log");
    std::fs::write(
        &archive,
        "<189>Feb 29 10:22:44 fgt01 date=2026-03-04 time=10:22:44 devname=\"fgt01\" \
         logid=\"0100032001\" type=\"event\" subtype=\"system\" level=\"information\" \
         vd=\"root\" logdesc=\"Admin login successful\" user=\"admin\" action=\"login\" \
         status=\"success\"\n<189>Feb 28 10:22:45 fgt01 date=2026-03-04 time=10:22:45 \
         devname=\"fgt01\" logid=\"0100032001\" type=\"event\" subtype=\"system\" \
         level=\"information\" vd=\"root\" logdesc=\"Admin login successful\" user=\"admin\" \
         action=\"login\" status=\"success\"\n",
    )
    .expect("write archive");
    let output = run_to_end(&["replay", archive.to_str().expect("UTF-8 path")]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "parse errors", "invalid_timestamp"),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("parse errors: 1 "), "{stderr}");
}

#[test]
fn startup_errors_name_cause_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sample = fixture("samples/fortiauthenticator-mfa.log");
    let cases = [
        (
            "inventory",
            "[inventory]\npath = \"nope.csv\"\n",
            "(os error",
        ),
        (
            "sink file",
            "[sinks]\nfile = \"/nonexistent/f.jsonl\"\n",
            "directory /nonexistent of",
        ),
        (
            "state file",
            "[state]\npath = \"state.json\"\n",
            "is a directory",
        ),
    ];
    // A directory where the state file should be.
    std::fs::create_dir(dir.path().join("state.json")).expect("create directory");
    for (name, text, cause) in cases {
        let config = dir.path().join("pushwatch.toml");
        std::fs::write(&config, text).expect("write config");
        let output = run_to_end(&[
            "replay",
            sample.to_str().expect("UTF-8 path"),
            "--config",
            config.to_str().expect("UTF-8 path"),
        ]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(stderr.matches(cause).count(), 1, "{name}: {stderr}");
    }
}

#[test]
fn yearless_follows_full_dated_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("mixed.log");
    // A FortiAuthenticator export line dated 2024, then a year-less header line 30 minutes
    // later. The reference of 2026 applies only before the first line with a full date.
    std::fs::write(
        &archive,
        "date=2024-05-13 time=05:30:00+0000 oid=1 logid=30101 cat=\"Event\" \
         subcat=\"System\" level=\"information\" msg=\"RADIUS server running\"\n\
         May 13 06:00:00 fac01 db[7]: category=\"Event\" subcategory=\"System\" \
         typeid=30101 level=\"information\" user=\"admin\" RADIUS server running\n",
    )
    .expect("write archive");
    let extra = ["--receive-time", "2026-12-04T00:00:00Z"];
    let outside = lines_outside(
        &archive,
        &extra,
        "2024-05-13T05:00:00Z",
        "2024-05-13T07:00:00Z",
    );
    assert_eq!(outside, 0, "both lines on 2024-05-13");
}

/// The fatigue scenario has more than one user and overlapping attempts, so caps of one user
/// and one open attempt must evict. The default caps evict nothing there.
#[test]
fn summary_reports_cap_evictions() {
    let stream = fixture("scenarios/fatigue/stream.log.gz");
    let config = fixture("scenarios/fatigue/pushwatch.toml");
    let args = [
        "replay",
        stream.to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
    ];
    let default_caps = run_to_end(&args);
    let stderr = stderr_of(&default_caps);
    assert!(default_caps.status.success(), "{stderr}");
    assert!(!stderr.contains("evicted"), "{stderr}");

    let output = Command::new(BINARY)
        .args(args)
        .env_remove("PUSHWATCH_LOG")
        .env("PUSHWATCH_STITCHING__MAX_USERS", "1")
        .env("PUSHWATCH_STITCHING__MAX_OPEN_ATTEMPTS", "1")
        .stdin(Stdio::null())
        .output()
        .expect("start pushwatch");
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("evicted at the caps: "))
        .unwrap_or_else(|| panic!("no eviction line in {stderr}"));
    let counts: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    assert_eq!(counts.len(), 2, "{line}");
    assert!(counts[0] > 0, "open attempts evicted: {line}");
    assert!(counts[1] > 0, "users evicted: {line}");
}

/// A line dated years after the archive was written comes from a device with a bad clock: it is
/// counted and skipped, and the lines after it are still stitched on time.
#[test]
fn line_dated_after_the_archive_is_skipped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("fac.log");
    let line = |time: &str, typeid: u32, status: &str, message: &str| {
        format!(
            "<134>Mar  4 {time} fac01 db[1]: category=\"Event\" subcategory=\"Authentication\" \
             typeid={typeid} level=\"information\" user=\"user071\" nas=\"10.0.0.1\" \
             userip=\"10.9.0.7\" action=\"Authentication\" status=\"{status}\" {message}\n"
        )
    };
    let mut text = line(
        "10:00:00",
        20299,
        "Pending",
        "Waiting for FortiToken authentication",
    );
    // A raw export line with a full date five years after the reference.
    text.push_str(
        "date=2031-03-04 time=10:00:02+0000 oid=9 logid=20299 cat=\"Event\" \
         subcat=\"Authentication\" level=\"information\" nas=\"10.0.0.1\" \
         action=\"Authentication\" status=\"Pending\" msg=\"Waiting\" user=\"user072\"\n",
    );
    text.push_str(&line(
        "10:00:05",
        20002,
        "Success",
        "Remote LDAP user authentication with FortiToken successful (chosen FTM push notification)",
    ));
    std::fs::write(&archive, text).expect("write archive");
    let path = archive.to_str().expect("UTF-8 path");
    let output = run_to_end(&["replay", path, "--receive-time", "2026-03-04T12:00:00Z"]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("lines read: 3 "), "{stderr}");
    assert!(stderr.contains("future lines: 1 "), "{stderr}");
    assert!(stderr.contains("late lines: 0"), "{stderr}");
    assert_eq!(
        summary_count(&stderr, "login attempts", "push_approved"),
        1,
        "{stderr}"
    );
}

/// An archive whose modification time is older than its lines (a copy that kept an old time)
/// is replayed in full: the replay's own time bounds the line times, not the file's.
#[test]
fn archive_older_than_its_lines_is_replayed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = write_push_failure_archive(dir.path());
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(315_532_800);
    std::fs::File::options()
        .write(true)
        .open(&archive)
        .and_then(|file| file.set_modified(old))
        .expect("set the file time to 1980");
    let output = run_to_end(&["replay", archive.to_str().expect("UTF-8 path")]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("future lines"), "{stderr}");
    assert!(stderr.contains("findings: 1 opened"), "{stderr}");
}

#[test]
fn quoted_user_name_counted_as_ambiguous() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("fac.log");
    let line = "2021-07-08T11:01:06-03:00 10.0.30.5 db[32167]:  category=\"Event\" \
                subcategory=\"Authentication\" typeid=20299 level=\"information\" \
                user=\"USER\" nas=\"10.0.30.1\" action=\"Authentication\" status=\"Pending\" \
                Remote RADIUS user authentication partially done, remote server expecting \
                challenge response\n";
    let text = format!(
        "{}{}",
        line.replace("USER", "user071"),
        line.replace("USER", "x\" typeid=20002 status=\"Success")
    );
    std::fs::write(&archive, text).expect("write archive");
    let output = run_to_end(&["replay", archive.to_str().expect("UTF-8 path")]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("ambiguous lines: 1 "), "{stderr}");
    assert!(stderr.contains("from 1 MFA lines"), "{stderr}");
}
