//! Helpers of the end-to-end tests: start the real `pushwatch` binary, wait for its ready file,
//! scrape its metrics and stop it with a signal.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_pushwatch");

/// Returns the workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate directory is two levels below the workspace root")
        .to_path_buf()
}

/// Returns the path of a file under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    workspace_root().join("fixtures").join(relative)
}

/// Runs the binary to completion with `args` and no stdin.
pub fn run_to_end(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env_remove("PUSHWATCH_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("start pushwatch")
}

/// Returns the count that the replay summary line `label` gives for `name`, e.g.
/// `summary_count(stderr, "login attempts", "push_approved")`.
pub fn summary_count(summary: &str, label: &str, name: &str) -> u64 {
    let Some(line) = summary.lines().find(|line| line.starts_with(label)) else {
        return 0;
    };
    let needle = format!("{name} ");
    line.split(['(', ',', ')'])
        .map(str::trim)
        .find_map(|part| part.strip_prefix(&needle))
        .and_then(|count| count.parse().ok())
        .unwrap_or(0)
}

/// The addresses the server wrote to its ready file.
#[derive(Debug, Clone)]
pub struct Bound {
    /// Process id.
    pub pid: u32,
    /// UDP listen addresses.
    pub udp: Vec<SocketAddr>,
    /// TCP listen addresses.
    pub tcp: Vec<SocketAddr>,
    /// Metrics endpoint.
    pub metrics: Option<SocketAddr>,
}

/// A `pushwatch run` process started by a test. Dropping it kills the process if it still runs.
pub struct Server {
    child: Option<Child>,
    /// Bound addresses.
    pub bound: Bound,
    /// Directory with the configuration, ready file and logs.
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Writes `config` to a temporary directory and starts `pushwatch run` on it, then waits
    /// until the ready file lists the bound addresses.
    pub fn start(config: &str) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config_path = dir.path().join("pushwatch.toml");
        std::fs::write(&config_path, config).expect("write config");
        let ready = dir.path().join("ready.json");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr log");
        let stdout = std::fs::File::create(dir.path().join("stdout.jsonl")).expect("stdout log");
        let child = Command::new(BINARY)
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .arg("--ready-file")
            .arg(&ready)
            .env("PUSHWATCH_LOG", "info")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start pushwatch run");
        let mut server = Server {
            child: Some(child),
            bound: Bound {
                pid: 0,
                udp: Vec::new(),
                tcp: Vec::new(),
                metrics: None,
            },
            dir,
        };
        server.bound = server.wait_ready(&ready);
        server
    }

    fn wait_ready(&mut self, ready: &Path) -> Bound {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(ready) {
                let value: serde_json::Value = serde_json::from_str(&text).expect("ready JSON");
                let addresses = |key: &str| -> Vec<SocketAddr> {
                    value[key]
                        .as_array()
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(|item| item.as_str()?.parse().ok())
                                .collect()
                        })
                        .unwrap_or_default()
                };
                return Bound {
                    pid: value["pid"].as_u64().unwrap_or_default() as u32,
                    udp: addresses("udp"),
                    tcp: addresses("tcp"),
                    metrics: value["metrics"].as_str().and_then(|text| text.parse().ok()),
                };
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok())
                .flatten()
            {
                panic!(
                    "pushwatch run exited with {status} before it was ready:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no ready file after 30 s:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Returns what the server logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Returns what the server printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.jsonl")).unwrap_or_default()
    }

    /// Fetches `/metrics`.
    pub fn scrape(&self) -> String {
        let address = self.bound.metrics.expect("metrics endpoint is on");
        http_get(address, "/metrics")
    }

    /// Polls `/metrics` until `name` (with its labels, as printed) reaches `at_least`.
    pub fn wait_metric(&self, name: &str, at_least: f64) -> f64 {
        self.wait_metric_until(name, &format!("at least {at_least}"), |value| {
            value >= at_least
        })
    }

    /// Polls `/metrics` until the value of `name` (0 when absent) satisfies `done`, at most
    /// 20 s; `expected` describes the condition in the failure message.
    pub fn wait_metric_until(&self, name: &str, expected: &str, done: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = metric(&self.scrape(), name).unwrap_or(0.0);
            if done(value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "{name} stayed at {value}, expected {expected}:\n{}",
                self.scrape()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the server has closed every TCP connection.
    pub fn wait_connections_closed(&self) {
        self.wait_metric_until("pushwatch_tcp_connections_open", "0", |value| value == 0.0);
    }

    /// Sends SIGTERM and waits for the exit status, at most 30 s.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("TERM")
    }

    /// Sends the signal `name` (`TERM`, `INT`) and waits for the exit status, at most 30 s.
    pub fn signal(&mut self, name: &str) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("server is running");
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for pushwatch") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit 30 s after SIG{name}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends one HTTP/1.1 GET and returns the body.
pub fn http_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Returns the value of the sample `name` (including labels exactly as printed, e.g.
/// `pushwatch_lines_total{source="udp"}`) in a Prometheus text page.
pub fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (sample, value) = line.rsplit_once(' ')?;
            (sample == name).then(|| value.parse().ok()).flatten()
        })
}
