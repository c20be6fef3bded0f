//! Pipeline throughput on the realistic mix of `pushwatch gen --scenario mix`: the parser's
//! fast path alone, the fast path plus a full parse of the lines the rule table keeps (the
//! parser's share of the pipeline), the same plus the rule table, and the whole engine
//! (`Engine::process_line`). The difference between the second and the last is the window
//! crate's share.
//!
//! Run with `cargo bench -p pushwatch-benches --bench pipeline`; `PIPELINE_LINES` sets the
//! number of lines (default 200000).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pushwatch::gen::{mix, GenOptions};
use pushwatch_parser::{peek, Context, Parser};
use pushwatch_window::rules::RuleSet;
use pushwatch_window::{Config, Engine};

/// Receive time of every line: 2024-05-13T00:00:00Z, the start of the mix.
const RECEIVED_NS: i64 = 1_715_558_400_000_000_000;

fn mix_lines() -> Vec<Vec<u8>> {
    let lines = std::env::var("PIPELINE_LINES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200_000);
    let options = GenOptions {
        lines,
        seed: 1,
        side_files: None,
    };
    let mut bytes = Vec::new();
    mix::write(&options, &mut bytes).expect("the mix generator writes to memory");
    bytes
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
    eprintln!(
        "{} lines, {relevant} pass the fast-path filter",
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
                if rules.is_relevant(&peeked, line) {
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
                if rules.is_relevant(&peeked, line) {
                    let record = parser.parse(line, &context);
                    signals += usize::from(rules.classify(&record).is_some());
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

criterion_group!(benches, pipeline);
criterion_main!(benches);
