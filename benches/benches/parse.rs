//! Parser throughput on the realistic mix, per mode: the LF frame scan alone (the floor for
//! touching every line), the fast path (`peek`) and the full parse (every field tokenised,
//! event time resolved). Each mode is measured in bytes/s and in lines/s.
//!
//! Run with `cargo bench -p pushwatch-benches --bench parse`; `PARSE_LINES` sets the number
//! of lines (default 100000).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pushwatch_parser::{lines, peek, Context, Parser, DEFAULT_MAX_FRAME_LEN};

/// Receive time of every line: 2024-05-13T00:00:00Z, the start of the mix.
const RECEIVED_NS: i64 = 1_715_558_400_000_000_000;

fn frame_scan(input: &[u8]) -> usize {
    lines(input, DEFAULT_MAX_FRAME_LEN)
        .map(|frame| frame.bytes.len())
        .sum()
}

fn fast_path(input: &[u8], context: &Context) -> i64 {
    lines(input, DEFAULT_MAX_FRAME_LEN)
        .map(|frame| peek(frame.bytes, context).time.unix_nanos)
        .fold(0, i64::wrapping_add)
}

fn full_parse(parser: &mut Parser, input: &[u8], context: &Context) -> usize {
    lines(input, DEFAULT_MAX_FRAME_LEN)
        .map(|frame| parser.parse(frame.bytes, context).field_count())
        .sum()
}

fn parse(c: &mut Criterion) {
    let line_count = std::env::var("PARSE_LINES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000);
    let input = pushwatch_benches::mix_buffer(line_count);
    let context = Context::new(RECEIVED_NS);
    let throughputs = [
        ("bytes", Throughput::Bytes(input.len() as u64)),
        ("lines", Throughput::Elements(line_count)),
    ];
    for (unit, throughput) in throughputs {
        let mut group = c.benchmark_group(format!("parse_mix_{unit}"));
        group.throughput(throughput);
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("frame_scan", unit), &input, |b, input| {
            b.iter(|| frame_scan(input))
        });
        group.bench_with_input(BenchmarkId::new("peek", unit), &input, |b, input| {
            b.iter(|| fast_path(input, &context))
        });
        let mut parser = Parser::new();
        group.bench_with_input(BenchmarkId::new("full_parse", unit), &input, |b, input| {
            b.iter(|| full_parse(&mut parser, input, &context))
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
