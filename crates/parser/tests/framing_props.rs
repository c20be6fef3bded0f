//! Property tests: the frame decoder returns the same frames however the input is split.

use proptest::prelude::*;
use pushwatch_parser::{clean, FrameDecoder, FramingMode};

/// Decodes `input` pushed in pieces that end at the given cut points.
fn decode(mode: FramingMode, max_len: usize, input: &[u8], cuts: &[usize]) -> Vec<(Vec<u8>, bool)> {
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut decoder = FrameDecoder::new(mode, max_len);
    let mut frames = Vec::new();
    let mut start = 0;
    for end in cuts.into_iter().chain([input.len()]) {
        decoder.push(&input[start..end]);
        start = end;
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

fn octet_counted(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(format!("{} ", message.len()).as_bytes());
        out.extend_from_slice(message);
    }
    out
}

/// The frames a correct decoder returns for `messages` with limit `max_len`. With `lines`, a
/// CR that ends a line is the first half of its CRLF and does not count toward the limit.
fn expected(messages: &[Vec<u8>], max_len: usize, lines: bool) -> Vec<(Vec<u8>, bool)> {
    messages
        .iter()
        .filter_map(|message| {
            let counted = match message.strip_suffix(b"\r") {
                Some(text) if lines => text.len(),
                _ => message.len(),
            };
            let truncated = counted > max_len;
            let kept = &message[..message.len().min(max_len)];
            let cleaned = clean(kept);
            (!cleaned.is_empty()).then(|| (cleaned.to_vec(), truncated))
        })
        .collect()
}

proptest! {
    #[test]
    fn octet_counting_ignores_chunking(
        messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..120), 1..12),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        max_len in 16usize..200,
    ) {
        let input = octet_counted(&messages);
        let whole = decode(FramingMode::OctetCounting, max_len, &input, &[]);
        let split = decode(FramingMode::OctetCounting, max_len, &input, &cuts);
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(&whole, &expected(&messages, max_len, false));
        let auto = decode(FramingMode::Auto, max_len, &input, &cuts);
        prop_assert_eq!(&auto, &whole);
    }

    #[test]
    fn lf_framing_ignores_chunking(
        lines in prop::collection::vec(prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..120), 1..12),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        max_len in 16usize..200,
    ) {
        let mut input = Vec::new();
        for line in &lines {
            input.extend_from_slice(line);
            input.push(b'\n');
        }
        let whole = decode(FramingMode::Lf, max_len, &input, &[]);
        let split = decode(FramingMode::Lf, max_len, &input, &cuts);
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(&whole, &expected(&lines, max_len, true));
    }

    #[test]
    fn garbage_never_loops_or_grows(
        input in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let max_len = 64;
        let frames = decode(FramingMode::Auto, max_len, &input, &cuts);
        for (bytes, _) in &frames {
            prop_assert!(bytes.len() <= max_len);
        }
        let again = decode(FramingMode::Auto, max_len, &input, &[]);
        prop_assert_eq!(frames, again);
    }
}
