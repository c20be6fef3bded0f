//! Fuzzes framing and parsing together. The first input byte picks the framing mode, the
//! frame limit and the read size; the rest is the stream. Checks that chunked and whole
//! decoding agree, that no frame exceeds the limit, that the fast path agrees with the full
//! parse on format and event time, and that reading every part of a record does not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwatch_parser::{peek, Context, FrameDecoder, FramingMode, Parser};

/// 2026-06-01T00:00:00Z, so that year inference has a fixed reference.
const RECEIVE_TIME: i64 = 1_780_272_000_000_000_000;

fn decode(mode: FramingMode, max_len: usize, input: &[u8], chunk: usize) -> Vec<(Vec<u8>, bool)> {
    let mut decoder = FrameDecoder::new(mode, max_len);
    let mut frames = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        decoder.push(piece);
        while let Some(frame) = decoder.next_frame() {
            frames.push((frame.bytes.to_vec(), frame.truncated));
        }
    }
    decoder.finish();
    while let Some(frame) = decoder.next_frame() {
        frames.push((frame.bytes.to_vec(), frame.truncated));
    }
    frames
}

fn check(parser: &mut Parser, frame: &[u8], context: &Context) {
    let quick = peek(frame, context);
    let record = parser.parse(frame, context);
    assert_eq!(quick.format, record.format());
    assert_eq!(quick.time, record.time());
    assert_eq!(quick.pri, record.pri());
    for field in record.fields() {
        assert!(field.offset < frame.len());
        let _ = field.value.as_str();
    }
    for element in record.structured_data() {
        let _ = element.id.as_str();
        for (name, value) in element.params() {
            let _ = (name.as_str(), value.as_str());
        }
    }
    if let Some(message) = record.msg() {
        let _ = message.as_str();
    }
    if let Some(cef) = record.cef() {
        for value in [cef.version, cef.name, cef.severity].into_iter().flatten() {
            let _ = value.as_str();
        }
    }
    let _ = record.time().to_rfc3339();
    for error in record.errors() {
        assert!(error.offset <= frame.len());
        let _ = error.kind.as_str();
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let mode = match control % 3 {
        0 => FramingMode::Auto,
        1 => FramingMode::Lf,
        _ => FramingMode::OctetCounting,
    };
    let max_len = 16 + usize::from(control >> 2) * 8;
    let chunk = 1 + usize::from(control % 7);
    let whole = decode(mode, max_len, input, input.len());
    let split = decode(mode, max_len, input, chunk);
    assert_eq!(whole, split);

    let context = Context::new(RECEIVE_TIME).with_default_offset(7200);
    let mut parser = Parser::new();
    for (frame, _) in &whole {
        assert!(frame.len() <= max_len);
        check(&mut parser, frame, &context);
    }
    check(&mut parser, input, &context);
});
