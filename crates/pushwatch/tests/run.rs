//! End-to-end tests of `pushwatch run`: the real binary on loopback, syslog over UDP and TCP,
//! findings on a real Kafka-protocol broker (Tansu, through the sink crate's test support),
//! counters on `/metrics`, bad input and shutdown by SIGTERM.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use common::{metric, Server};
use pushwatch_sink::testing::{consume, create_topic, unique_topic, TestKafka};

/// A FortiAuthenticator push-service failure: the message text is from Fortinet KB 333425;
/// the log envelope around it (event id, status) is an assumption, since it is not documented.
const PUSHD_ERROR: &str = "date=2026-03-04 time=10:22:44+0000 oid=9 logid=20105 cat=\"Event\" \
    subcat=\"Authentication\" level=\"warning\" nas=\"10.10.10.10\" action=\"Authentication\" \
    status=\"Failed\" msg=\"Failed to send notification to user due to pushd error -3: FTM \
    server returned error\" user=\"user075\"";

/// FortiAuthenticator event 20002 with the push suffix (KB 20002): a push approval.
const PUSH_APPROVED: &str = "date=2026-03-04 time=10:23:10+0000 oid=8888 logid=20002 \
    cat=\"Event\" subcat=\"Authentication\" level=\"information\" nas=\"10.10.10.10\" \
    action=\"Authentication\" status=\"Success\" msg=\"Remote LDAP user authentication from \
    (null) with FortiToken successful (chosen FTM push notification)\" user=\"user076\"";

/// An SMS-token success 17 minutes later: its event time moves the watermark past the window
/// of the lines above, so that window closes and its findings are emitted.
const LATER: &str = "date=2026-03-04 time=10:40:00+0000 oid=8888 logid=20000 cat=\"Event\" \
    subcat=\"Authentication\" level=\"information\" nas=\"10.10.10.100\" \
    action=\"Authentication\" status=\"Success\" msg=\"Remote LDAP user authentication with SMS \
    token successful\" user=\"user074\"";

/// Returns a configuration with UDP, TCP and metrics on free loopback ports and 1 KiB
/// frames. `udp` and `tcp` add keys to `[sources.udp]` and `[sources.tcp]`, and `extra` adds
/// sections at the end.
fn config(udp: &str, tcp: &str, extra: &str) -> String {
    format!(
        "[sources.udp]\nlisten = [\"127.0.0.1:0\"]\nmax_frame_bytes = 1024\n{udp}\n\
         [sources.tcp]\nlisten = [\"127.0.0.1:0\"]\nmax_frame_bytes = 1024\n{tcp}\n\
         [metrics]\nlisten = \"127.0.0.1:0\"\n{extra}"
    )
}

/// Sends `frames` over one TCP connection, octet-counted (RFC 6587), in chunks of odd sizes
/// with pauses so that frames and length prefixes are split across reads.
fn send_octet_counted(address: std::net::SocketAddr, frames: &[&str]) {
    let mut bytes = Vec::new();
    for frame in frames {
        bytes.extend_from_slice(format!("{} {frame}", frame.len()).as_bytes());
    }
    let mut stream = TcpStream::connect(address).expect("connect TCP");
    stream.set_nodelay(true).expect("nodelay");
    let sizes = [1, 2, 3, 5, 7, 11, 13, 17, 97, 211];
    let mut offset = 0;
    for size in sizes.iter().cycle() {
        if offset >= bytes.len() {
            break;
        }
        let end = (offset + size).min(bytes.len());
        stream.write_all(&bytes[offset..end]).expect("write chunk");
        offset = end;
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Returns a raw-export FortiAuthenticator line with its date and time replaced by `time`.
fn at_time(line: &str, time: chrono::DateTime<chrono::Utc>) -> String {
    let date = line
        .split_once(" time=")
        .map(|(date, _)| date.len())
        .expect("line has date= and time=");
    let rest = line[date..]
        .split_once("+0000")
        .map(|(_, rest)| rest)
        .expect("time ends in +0000");
    format!("{}{rest}", time.format("date=%Y-%m-%d time=%H:%M:%S+0000"))
}

fn send_udp(address: std::net::SocketAddr, datagram: &[u8]) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP client");
    socket.send_to(datagram, address).expect("send datagram");
}

#[test]
fn syslog_findings_reach_kafka() {
    let kafka = TestKafka::get().expect("Kafka test broker");
    let bootstrap = kafka.bootstrap();
    let topic = unique_topic("findings");
    create_topic(&bootstrap, &topic, 1).expect("create topic");
    let mut server = Server::start(&config(
        "",
        "",
        &format!("[kafka]\nbrokers = \"{bootstrap}\"\ntopic = \"{topic}\"\n"),
    ));
    send_udp(server.bound.udp[0], PUSHD_ERROR.as_bytes());
    server.wait_metric("pushwatch_lines_total{source=\"udp\"}", 1.0);
    send_octet_counted(server.bound.tcp[0], &[PUSH_APPROVED, LATER]);
    server.wait_metric("pushwatch_lines_total{source=\"tcp\"}", 2.0);
    server.wait_metric("pushwatch_attempts_total{class=\"push_approved\"}", 1.0);

    let records = consume(
        &bootstrap,
        &topic,
        1,
        Duration::from_secs(30),
        Duration::from_secs(1),
    )
    .expect("findings on the topic");
    let opened: Vec<_> = records
        .iter()
        .filter(|record| record.header("ce_type") == Some("io.pushwatch.finding.opened"))
        .collect();
    let service = opened
        .iter()
        .find(|record| {
            record
                .key
                .as_deref()
                .is_some_and(|key| key.starts_with(b"push_service_errors|"))
        })
        .unwrap_or_else(|| panic!("no push_service_errors finding in {records:?}"));
    let payload: serde_json::Value =
        serde_json::from_slice(service.payload.as_deref().expect("payload")).expect("JSON");
    assert_eq!(payload["class_uid"], 2004, "OCSF Detection Finding");
    assert_eq!(payload["activity_id"], 1, "Create");

    let page = server.scrape();
    assert!(
        page.contains("# HELP pushwatch_late_lines_total Lines older than the watermark"),
        "the help text matches the docs: {page}"
    );
    assert!(
        !page
            .lines()
            .any(|line| line.starts_with("pushwatch_sink_dropped_total ")),
        "sink_dropped_total always carries its sink label: {page}"
    );
    let opened_metric =
        "pushwatch_findings_total{detector=\"push_service_errors\",transition=\"opened\"}";
    assert_eq!(metric(&page, opened_metric), Some(1.0), "{page}");
    assert_eq!(
        metric(&page, "pushwatch_kafka_delivery_errors_total"),
        Some(0.0),
        "{page}"
    );
    assert_eq!(
        metric(&page, "pushwatch_udp_dropped_total"),
        Some(0.0),
        "{page}"
    );
    for name in [
        "pushwatch_sink_dropped_total{sink=\"all\"}",
        "pushwatch_oversize_frames_total{source=\"tcp\"}",
        "pushwatch_fatigue_excluded_attempts_total",
        "pushwatch_fatigue_findings_held_total{reason=\"suppressed\"}",
        "pushwatch_fatigue_findings_held_total{reason=\"explained\"}",
    ] {
        assert_eq!(metric(&page, name), Some(0.0), "{name} in {page}");
    }

    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
    assert!(
        server.stderr().contains("pushwatch run stopped"),
        "{}",
        server.stderr()
    );
}

#[test]
fn sigterm_flushes_state_and_output() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let state = dir.path().join("state.json");
    let findings = dir.path().join("findings.jsonl");
    let mut server = Server::start(&config(
        "",
        "",
        &format!(
            "[state]\npath = \"{}\"\n[sinks]\nfile = \"{}\"\n",
            state.display(),
            findings.display()
        ),
    ));
    // LATER closes the window of the first two lines but waits itself in the engine's
    // reorder buffer, so the saved state must carry a buffered line.
    send_octet_counted(server.bound.tcp[0], &[PUSHD_ERROR, PUSH_APPROVED, LATER]);
    server.wait_metric("pushwatch_lines_total{source=\"tcp\"}", 3.0);
    assert!(
        !state.exists(),
        "the state is saved at the interval or at shutdown, not earlier"
    );

    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
    let text = std::fs::read_to_string(&state)
        .unwrap_or_else(|error| panic!("state file not written ({error}):\n{}", server.stderr()));
    let saved: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
    assert!(saved.get("version").is_some(), "{saved}");
    assert!(
        text.contains("user074"),
        "the buffered line is in the state: {text}"
    );
    assert!(
        !server.stderr().contains("Some("),
        "addresses are logged without Option wrappers:\n{}",
        server.stderr()
    );
    let written = std::fs::read_to_string(&findings).expect("findings file");
    assert!(written.contains("push_service_errors"), "{written}");
    assert_eq!(
        server.stdout(),
        written,
        "stdout and the file get the same findings"
    );
}

#[test]
fn bad_input_keeps_serving() {
    let mut server = Server::start(&config(
        "",
        "max_connections = 2\nidle_timeout_secs = 1",
        "",
    ));
    let tcp = server.bound.tcp[0];

    // Two half-open connections take both slots: a partial frame and never a close.
    let mut first = TcpStream::connect(tcp).expect("connect");
    first
        .write_all(b"120 <13>half a fra")
        .expect("write partial frame");
    let mut second = TcpStream::connect(tcp).expect("connect");
    second
        .write_all(b"<13>no newline yet")
        .expect("write partial line");
    std::thread::sleep(Duration::from_millis(200));
    let third = TcpStream::connect(tcp).expect("connect");
    server.wait_metric("pushwatch_tcp_connections_rejected_total", 1.0);
    drop(third);
    // The idle timeout closes both half-open connections.
    server.wait_metric("pushwatch_tcp_idle_timeouts_total", 2.0);

    // Garbage: binary bytes, a bad octet count, then an oversized LF-delimited frame.
    let mut stream = TcpStream::connect(tcp).expect("connect");
    stream
        .write_all(b"\x00\xff\xfe garbage \x01\x02\n")
        .expect("write garbage");
    drop(stream);
    server.wait_connections_closed();
    let mut stream = TcpStream::connect(tcp).expect("connect");
    stream.write_all(b"9 <13>short").expect("write octet frame");
    stream
        .write_all(b"x12 not a length\n")
        .expect("write bad length");
    drop(stream);
    server.wait_connections_closed();
    let mut stream = TcpStream::connect(tcp).expect("connect");
    let mut oversized = vec![b'a'; 5000];
    oversized.push(b'\n');
    stream.write_all(&oversized).expect("write oversized frame");
    drop(stream);
    server.wait_connections_closed();
    send_udp(server.bound.udp[0], &vec![b'b'; 2000]);
    server.wait_metric("pushwatch_oversize_frames_total{source=\"tcp\"}", 1.0);
    server.wait_metric("pushwatch_oversize_frames_total{source=\"udp\"}", 1.0);
    server.wait_metric("pushwatch_tcp_resyncs_total", 1.0);
    assert!(
        server.stderr().contains("invalid octet-count prefix"),
        "a resync is logged:\n{}",
        server.stderr()
    );

    // Valid lines are still classified after all of that. The garbage lines have no time
    // of their own, so they took the receive time (now) and moved the watermark there. The
    // valid lines are therefore dated now. The second one moves the watermark on, which
    // releases the push approval to the stitcher.
    let now = chrono::Utc::now();
    let approved = at_time(PUSH_APPROVED, now);
    let later = at_time(LATER, now + chrono::Duration::minutes(15));
    send_octet_counted(tcp, &[&approved, &later]);
    server.wait_metric("pushwatch_attempts_total{class=\"push_approved\"}", 1.0);
    let health = common::http_get(server.bound.metrics.expect("metrics on"), "/health");
    assert_eq!(health, "ok\n");

    drop(first);
    drop(second);
    // SIGINT (Ctrl-C) stops the server as cleanly as SIGTERM.
    let status = server.signal("INT");
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
}

#[test]
fn idle_timeout_processes_unterminated_tail() {
    let mut server = Server::start(&config("", "idle_timeout_secs = 1", ""));
    let tcp = server.bound.tcp[0];

    // An LF-delimited line without its LF, then an octet-counted frame shorter than its
    // length; both connections stay open until the idle timeout closes them.
    let mut line = TcpStream::connect(tcp).expect("connect");
    line.write_all(PUSH_APPROVED.as_bytes())
        .expect("write line without LF");
    let mut counted = TcpStream::connect(tcp).expect("connect");
    counted
        .write_all(b"500 <13>only the start of a frame")
        .expect("write partial octet-counted frame");
    server.wait_metric("pushwatch_tcp_idle_timeouts_total", 2.0);
    server.wait_connections_closed();

    let page = server.scrape();
    assert_eq!(
        metric(&page, "pushwatch_lines_total{source=\"tcp\"}"),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        metric(&page, "pushwatch_tcp_unterminated_frames_total"),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        metric(&page, "pushwatch_oversize_frames_total{source=\"tcp\"}"),
        Some(0.0),
        "a short frame is not an oversize one: {page}"
    );
    assert!(
        server.stderr().contains("ended inside a frame"),
        "{}",
        server.stderr()
    );
    drop(line);
    drop(counted);
    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
}

#[test]
fn sigterm_processes_unterminated_tail() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let state = dir.path().join("state.json");
    let mut server = Server::start(&config(
        "",
        "",
        &format!("[state]\npath = \"{}\"\n", state.display()),
    ));
    // Two complete lines and a third without its LF, on a connection left open.
    let mut stream = TcpStream::connect(server.bound.tcp[0]).expect("connect");
    let text = format!("{PUSHD_ERROR}\n{PUSH_APPROVED}\n{LATER}");
    stream.write_all(text.as_bytes()).expect("write lines");
    server.wait_metric("pushwatch_lines_total{source=\"tcp\"}", 2.0);

    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
    // The third line waits in the reorder buffer, so the saved state carries it.
    let saved = std::fs::read_to_string(&state)
        .unwrap_or_else(|error| panic!("state file not written ({error}):\n{}", server.stderr()));
    assert!(
        saved.contains("user074"),
        "the unterminated line is in the state: {saved}"
    );
    assert!(
        server.stderr().contains("ended inside a frame"),
        "{}",
        server.stderr()
    );
    drop(stream);
}

/// Runs `pushwatch run --config FILE` on `config` with `PUSHWATCH_LOG` set to `log_filter`
/// and more `args`, and returns its output; the tests below make it fail before serving.
fn run_failing(config: &str, log_filter: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("pushwatch.toml");
    std::fs::write(&path, config).expect("write config");
    std::process::Command::new(common::BINARY)
        .arg("run")
        .arg("--config")
        .arg(&path)
        .args(args)
        .env("PUSHWATCH_LOG", log_filter)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("start pushwatch run")
}

#[test]
fn invalid_log_filter_warns() {
    // No source is configured, so the run stops right after the logging setup.
    let output = run_failing("", "pushwatch=loud", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("invalid PUSHWATCH_LOG value \"pushwatch=loud\""),
        "{stderr}"
    );
    assert!(stderr.contains("no source is configured"), "{stderr}");
}

#[test]
fn ready_file_error_names_requested_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let requested = dir.path().join("missing").join("ready.json");
    let requested = requested.to_str().expect("UTF-8 path");
    let output = run_failing(
        "[sources.udp]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"\"\n",
        "info",
        &["--ready-file", requested],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write the ready file {requested} ")),
        "{stderr}"
    );
}

/// Returns the offset committed by `group` for partition 0 of `topic`, if any.
fn committed_offset(bootstrap: &str, group: &str, topic: &str) -> Option<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("offset reader");
    let mut partitions = rdkafka::TopicPartitionList::new();
    partitions.add_partition(topic, 0);
    let committed = consumer
        .committed_offsets(partitions, Duration::from_secs(5))
        .ok()?;
    match committed.find_partition(topic, 0)?.offset() {
        rdkafka::Offset::Offset(offset) => Some(offset),
        _ => None,
    }
}

#[test]
fn kafka_input_commits_after_delivery() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    let kafka = TestKafka::get().expect("Kafka test broker");
    let bootstrap = kafka.bootstrap();
    let input = unique_topic("raw");
    let output = unique_topic("findings");
    let group = unique_topic("group");
    create_topic(&bootstrap, &input, 1).expect("create input topic");
    create_topic(&bootstrap, &output, 1).expect("create output topic");
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("producer");
    for line in [PUSHD_ERROR, PUSH_APPROVED, LATER] {
        producer
            .send(BaseRecord::<(), str>::to(&input).payload(line))
            .map_err(|(error, _)| error)
            .expect("queue a raw line");
    }
    producer
        .flush(Duration::from_secs(10))
        .expect("raw lines delivered");

    let mut server = Server::start(&config(
        "",
        "",
        &format!(
            "[kafka]\nbrokers = \"{bootstrap}\"\ntopic = \"{output}\"\n\
             [sources.kafka]\ntopic = \"{input}\"\ngroup_id = \"{group}\"\n"
        ),
    ));
    server.wait_metric("pushwatch_lines_total{source=\"kafka\"}", 3.0);
    let records = consume(
        &bootstrap,
        &output,
        1,
        Duration::from_secs(30),
        Duration::ZERO,
    )
    .expect("findings on the output topic");
    assert!(
        records.iter().any(|record| record
            .key
            .as_deref()
            .is_some_and(|key| key.starts_with(b"push_service_errors|"))),
        "{records:?}"
    );

    // The three records are processed and the finding they produced is acknowledged, so the
    // group's offset reaches 3 (one past the last record) within a few commit intervals.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let committed = committed_offset(&bootstrap, &group, &input);
        if committed == Some(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "committed offset {committed:?}, expected Some(3):\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
}

#[test]
fn full_udp_queue_drops_and_counts() {
    // A queue of one datagram overflows as soon as datagrams arrive faster than the engine
    // takes them, which a burst from one socket does.
    let mut server = Server::start(&config("queue_frames = 1", "", ""));
    let udp = server.bound.udp[0];
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP client");
    let mut sent = 0u64;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        for _ in 0..2_000 {
            socket
                .send_to(PUSH_APPROVED.as_bytes(), udp)
                .expect("send datagram");
            sent += 1;
        }
        let page = server.scrape();
        let dropped = metric(&page, "pushwatch_udp_dropped_total").unwrap_or(0.0);
        if dropped > 0.0 {
            let received = metric(&page, "pushwatch_lines_total{source=\"udp\"}").unwrap_or(0.0);
            assert!(received + dropped <= sent as f64, "{page}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no drop after {sent} datagrams:\n{page}"
        );
    }
    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.stderr()
    );
}

#[test]
fn missing_state_directory_fails_before_binding() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("pushwatch.toml");
    let state = dir.path().join("missing").join("state.json");
    let text = config(
        "",
        "",
        &format!("[state]\npath = \"{}\"\n", state.display()),
    );
    std::fs::write(&path, text).expect("write config");
    let output = std::process::Command::new(common::BINARY)
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .expect("pushwatch runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("state.path"), "{stderr}");
    assert!(!stderr.contains("listening"), "no port bound: {stderr}");
}
