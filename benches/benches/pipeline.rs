//! Pipeline throughput on the realistic mix of `pushwatch gen --scenario mix`: the parser's
//! fast path alone, the fast path plus a full parse of the lines the engine parses (the
//! parser's share of the pipeline), the same plus the rule table, and the whole engine
//! (`Engine::process_line`). The difference between the second and the last is the window
//! crate's share.
//!
//! Run with `cargo bench -p pushwatch-benches --bench pipeline`; `PIPELINE_LINES` sets the
//! number of lines (default 200000). With `PIPELINE_STREAM_LINES=N` the binary instead streams
//! N generated lines through one engine without keeping them, then prints the counters and the
//! peak resident set size, which shows whether memory stays flat over a long replay.

use std::io::Write;
use std::time::Instant;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use pushwatch::gen::{mix, GenOptions};
use pushwatch_parser::{peek, Context, Parser};
use pushwatch_window::rules::RuleSet;
use pushwatch_window::{Config, Engine, Output, Triage};

/// Receive time of every line: 2024-05-13T00:00:00Z, the start of the mix.
const RECEIVED_NS: i64 = 1_715_558_400_000_000_000;

fn mix_lines() -> Vec<Vec<u8>> {
    let lines = std::env::var("PIPELINE_LINES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);
    pushwatch_benches::mix_buffer(lines)
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn pipeline(c: &mut Criterion) {
    let lines = mix_lines();
    let context = Context::new(RECEIVED_NS);
    let rules = RuleSet::new(&[]);
    let relevant = lines
        .iter()
        .filter(|line| rules.is_relevant(&peek(line, &context), line))
        .count();
    let parsed = lines
        .iter()
        .filter(|line| rules.triage(&peek(line, &context), line) == Triage::Parse)
        .count();
    eprintln!(
        "{} lines, {relevant} pass the fast-path filter, {parsed} of them need the full parse",
        lines.len()
    );

    let mut group = c.benchmark_group("mix");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(10);
    group.bench_function("peek", |b| {
        b.iter(|| {
            let mut with_logid = 0usize;
            for line in &lines {
                let peeked = peek(line, &context);
                with_logid += usize::from(peeked.logid.is_some());
            }
            with_logid
        })
    });
    group.bench_function("peek_and_parse_relevant", |b| {
        let mut parser = Parser::new();
        b.iter(|| {
            let mut fields = 0usize;
            for line in &lines {
                let peeked = peek(line, &context);
                if rules.triage(&peeked, line) == Triage::Parse {
                    fields += parser.parse(line, &context).field_count();
                }
            }
            fields
        })
    });
    group.bench_function("peek_parse_classify_relevant", |b| {
        let mut parser = Parser::new();
        b.iter(|| {
            let mut signals = 0usize;
            for line in &lines {
                let peeked = peek(line, &context);
                match rules.triage(&peeked, line) {
                    Triage::Parse => {
                        let record = parser.parse(line, &context);
                        signals += usize::from(rules.classify(&record).is_some());
                    }
                    Triage::Counted(_) => signals += 1,
                    Triage::Irrelevant => {}
                }
            }
            signals
        })
    });
    group.bench_function("engine", |b| {
        b.iter_batched_ref(
            || {
                (
                    Engine::new(Config::default(), None, None).expect("default configuration"),
                    Vec::new(),
                )
            },
            |(engine, out)| {
                for line in &lines {
                    engine.process_line(line, RECEIVED_NS, out);
                    out.clear();
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Feeds every complete line written to it into an engine.
struct EngineWriter {
    engine: Engine,
    out: Vec<Output>,
    partial: Vec<u8>,
    lines: u64,
    findings: std::collections::BTreeMap<String, u64>,
}

impl EngineWriter {
    fn feed(&mut self, line: &[u8]) {
        self.engine.process_line(line, RECEIVED_NS, &mut self.out);
        self.lines += 1;
        for output in &self.out {
            if let Output::Finding(record) = output {
                *self
                    .findings
                    .entry(record.finding.detector.clone())
                    .or_insert(0) += 1;
            }
        }
        self.out.clear();
    }
}

impl Write for EngineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
            if self.partial.is_empty() {
                self.feed(&rest[..end]);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..end]);
                self.feed(&line);
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Returns the peak resident set size in KiB from `/proc/self/status` (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn stream(lines: u64) {
    let engine = Engine::new(Config::default(), None, None).expect("default configuration");
    let mut writer = EngineWriter {
        engine,
        out: Vec::new(),
        partial: Vec::new(),
        lines: 0,
        findings: Default::default(),
    };
    let started = Instant::now();
    let options = GenOptions {
        lines,
        seed: 1,
        side_files: None,
    };
    mix::write(&options, &mut writer).expect("the engine writer accepts every line");
    let mut out = Vec::new();
    writer.engine.finish(&mut out);
    let elapsed = started.elapsed();
    let counters = writer.engine.counters();
    println!(
        "streamed {} lines in {:.1} s (generation included): {} relevant, {} late, {} attempts, \
         finding records {:?}, open attempts and users {:?}, peak RSS {} KiB",
        writer.lines,
        elapsed.as_secs_f64(),
        counters.relevant_lines,
        counters.late_lines,
        counters.attempts_by_class.values().sum::<u64>(),
        writer.findings,
        writer.engine.sizes(),
        peak_rss_kib().unwrap_or(0),
    );
}

criterion_group!(benches, pipeline);

fn main() {
    if let Some(lines) = std::env::var("PIPELINE_STREAM_LINES")
        .ok()
        .and_then(|text| text.parse().ok())
    {
        stream(lines);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
