//! Splitting byte streams into syslog frames: UDP datagrams, LF-delimited streams and
//! RFC 6587 octet counting, with an incremental decoder for TCP connections.
//!
//! Every frame is cleaned the same way: trailing CR, LF and NUL bytes are removed and a
//! leading UTF-8 byte order mark is skipped. NUL bytes inside a frame are kept. Empty frames
//! (nothing left after cleaning) are skipped and not counted.
//!
//! What happens at each limit:
//! - A frame longer than `max_len` bytes is cut to its first `max_len` bytes, returned with
//!   `truncated` set and counted in [`FrameStats::truncated`]. The rest of that frame is read
//!   and discarded (up to the next LF, or the declared octet count), so the next frame starts
//!   clean and the decoder never keeps much more than `max_len` bytes plus the last push.
//!   The length does not count the LF or CRLF that ends a line or a datagram, so a CRLF
//!   stream has the same limit as an LF one.
//! - In octet-counting mode, a length prefix that is not 1 to 10 digits followed by one space,
//!   or is zero, is counted in [`FrameStats::resynced`]. The bytes up to and including the
//!   next LF are discarded and decoding restarts after it.
//! - At [`FrameDecoder::finish`], an incomplete octet-counted frame is returned with
//!   `truncated` set, and an LF-delimited stream's last line without LF is returned whole.

use memchr::memchr;

/// Default maximum frame length: 64 KiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Maximum number of digits in an octet-count prefix (a length below 10^10).
const MAX_LENGTH_DIGITS: usize = 10;

/// Framing of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FramingMode {
    /// Decide on the first frame of the connection: a frame that starts with a length
    /// (`[1-9][0-9]* SP`) selects octet counting, anything else LF-delimited, as RFC 6587
    /// §3.4.1 suggests. The choice then applies to the whole connection. A Wazuh relay line
    /// (`2018 Apr 09 …`) starts like a length, so four digits followed by a month name select
    /// LF. NOTE: other LF lines that start with digits and a space are still taken for octet
    /// counting; configure [`FramingMode::Lf`] for such sources.
    Auto,
    /// One frame per line, ended by LF (non-transparent framing, RFC 6587 §3.4.2).
    Lf,
    /// `MSG-LEN SP SYSLOG-MSG` (RFC 6587 §3.4.1).
    OctetCounting,
}

impl FramingMode {
    /// Returns the name used on the command line and in configuration: `auto`, `lf`, `octet`.
    pub fn as_str(self) -> &'static str {
        match self {
            FramingMode::Auto => "auto",
            FramingMode::Lf => "lf",
            FramingMode::OctetCounting => "octet",
        }
    }
}

/// Error returned when a framing mode name is not `auto`, `lf` or `octet`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid framing mode {name:?}: expected auto, lf or octet")]
pub struct InvalidFramingMode {
    /// The rejected name.
    pub name: String,
}

impl std::str::FromStr for FramingMode {
    type Err = InvalidFramingMode;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "auto" => Ok(FramingMode::Auto),
            "lf" => Ok(FramingMode::Lf),
            "octet" | "octet-counting" => Ok(FramingMode::OctetCounting),
            _ => Err(InvalidFramingMode {
                name: name.to_owned(),
            }),
        }
    }
}

/// One syslog message, borrowed from the decoder or the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The message bytes, cleaned as described in the module documentation.
    pub bytes: &'a [u8],
    /// True when the message was longer than the limit and was cut.
    pub truncated: bool,
}

/// Counters of one decoder, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Frames returned, including truncated ones.
    pub frames: u64,
    /// Frames cut at the length limit or incomplete at end of input.
    pub truncated: u64,
    /// Bad octet-count prefixes after which the decoder skipped to the next LF.
    pub resynced: u64,
    /// Bytes thrown away: tails of oversized frames and bytes skipped while resynchronising.
    pub discarded_bytes: u64,
}

/// Removes trailing CR, LF and NUL bytes and a leading UTF-8 byte order mark.
pub fn clean(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\r' | b'\n' | 0) {
        end -= 1;
    }
    let bytes = &bytes[..end];
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// Returns the length of a message without the LF or CRLF that ends it, the length that the
/// limit applies to.
fn message_len(bytes: &[u8]) -> usize {
    let without_lf = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    without_lf.strip_suffix(b"\r").unwrap_or(without_lf).len()
}

/// Returns the frame of one UDP datagram, cut to `max_len` bytes when longer (not counting
/// a final LF or CRLF).
pub fn datagram(bytes: &[u8], max_len: usize) -> Frame<'_> {
    let truncated = message_len(bytes) > max_len;
    let bytes = if truncated { &bytes[..max_len] } else { bytes };
    Frame {
        bytes: clean(bytes),
        truncated,
    }
}

/// Iterator over the LF-delimited frames of a buffer held in memory, without copying.
/// Lines over `max_len` bytes are cut and flagged; empty lines are skipped.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
    max_len: usize,
}

/// Returns an iterator over the LF-delimited frames of `buffer`.
pub fn lines(buffer: &[u8], max_len: usize) -> Lines<'_> {
    Lines {
        rest: buffer,
        max_len,
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        while !self.rest.is_empty() {
            let (line, rest) = match memchr(b'\n', self.rest) {
                Some(end) => (&self.rest[..end], &self.rest[end + 1..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let frame = datagram(line, self.max_len);
            if !frame.bytes.is_empty() {
                return Some(frame);
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a frame.
    Start,
    /// Discarding the rest of an oversized octet-counted frame.
    Skip { remaining: usize },
    /// Discarding up to and including the next LF.
    DiscardLine,
}

/// Tells whether the text after a 4-digit number and a space is a month name and a space,
/// as in the Wazuh relay prefix `2018 Apr 09 16:03:37 …`, which would otherwise pass for an
/// octet count. Returns `None` when more bytes are needed to decide.
fn wazuh_year_prefix(after: &[u8]) -> Option<bool> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let word = after.get(..4)?;
    Some(word[3] == b' ' && MONTHS.contains(&&word[..3]))
}

/// Incremental decoder for one stream (one TCP connection, one file).
///
/// Feed it with [`push`](Self::push) as bytes arrive and call
/// [`next_frame`](Self::next_frame) until it returns `None`. The frames are the same however
/// the bytes were split across pushes. Call [`finish`](Self::finish) at end of stream and
/// drain the last frames.
///
/// ```
/// use pushwatch_parser::{FrameDecoder, FramingMode};
///
/// let mut decoder = FrameDecoder::new(FramingMode::Auto, 64 * 1024);
/// decoder.push(b"12 <13>hello w");
/// assert!(decoder.next_frame().is_none());
/// decoder.push(b"o9 <13>bye\r\n");
/// assert_eq!(decoder.next_frame().map(|f| f.bytes.to_vec()), Some(b"<13>hello wo".to_vec()));
/// assert_eq!(decoder.next_frame().map(|f| f.bytes.to_vec()), Some(b"<13>bye".to_vec()));
/// decoder.finish();
/// assert!(decoder.next_frame().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    mode: FramingMode,
    max_len: usize,
    buffer: Vec<u8>,
    start: usize,
    /// Offset from `start` up to which an LF-delimited frame is known to contain no LF.
    scanned: usize,
    state: State,
    finished: bool,
    stats: FrameStats,
}

impl FrameDecoder {
    /// Creates a decoder; `max_len` is the longest frame kept whole (at least 1 byte).
    pub fn new(mode: FramingMode, max_len: usize) -> Self {
        FrameDecoder {
            mode,
            max_len: max_len.max(1),
            buffer: Vec::new(),
            start: 0,
            scanned: 0,
            state: State::Start,
            finished: false,
            stats: FrameStats::default(),
        }
    }

    /// Returns the framing in use: the configured one, or for [`FramingMode::Auto`] the one
    /// detected on the first frame (still `Auto` before it).
    pub fn mode(&self) -> FramingMode {
        self.mode
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// Returns the number of bytes received but not yet returned or discarded.
    pub fn buffered(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Marks the end of the stream, so that [`next_frame`](Self::next_frame) returns what is
    /// left. Bytes pushed afterwards are decoded as a continuation of the same stream.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Returns the next complete frame, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let (start, end, truncated) = self.next_range()?;
        self.stats.frames += 1;
        if truncated {
            self.stats.truncated += 1;
        }
        Some(Frame {
            bytes: clean(&self.buffer[start..end]),
            truncated,
        })
    }

    /// Finds the next non-empty frame and returns its range in `buffer`.
    fn next_range(&mut self) -> Option<(usize, usize, bool)> {
        loop {
            let (start, end, truncated) = match self.state {
                State::Skip { remaining } => {
                    let skipped = remaining.min(self.buffered());
                    self.discard(skipped);
                    if skipped < remaining {
                        self.state = State::Skip {
                            remaining: remaining - skipped,
                        };
                        return None;
                    }
                    self.state = State::Start;
                    continue;
                }
                State::DiscardLine => {
                    match memchr(b'\n', &self.buffer[self.start..]) {
                        Some(at) => {
                            self.discard(at + 1);
                            self.state = State::Start;
                        }
                        None => {
                            self.discard(self.buffered());
                            if self.finished {
                                self.state = State::Start;
                            }
                            return None;
                        }
                    }
                    continue;
                }
                State::Start => match self.mode {
                    FramingMode::Auto => {
                        self.detect_mode()?;
                        continue;
                    }
                    FramingMode::Lf => self.next_line()?,
                    FramingMode::OctetCounting => match self.next_counted()? {
                        Some(range) => range,
                        None => continue,
                    },
                },
            };
            if !clean(&self.buffer[start..end]).is_empty() {
                return Some((start, end, truncated));
            }
        }
    }

    fn discard(&mut self, count: usize) {
        self.start += count;
        self.scanned = 0;
        self.stats.discarded_bytes += count as u64;
    }

    /// Skips CR, LF, NUL and spaces between frames.
    fn skip_separators(&mut self) {
        let rest = &self.buffer[self.start..];
        let count = rest
            .iter()
            .position(|byte| !matches!(byte, b'\r' | b'\n' | 0 | b' '))
            .unwrap_or(rest.len());
        self.start += count;
    }

    /// Decides between LF and octet counting from the first frame; `None` means more bytes
    /// are needed.
    fn detect_mode(&mut self) -> Option<()> {
        self.skip_separators();
        let rest = &self.buffer[self.start..];
        let digits = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
        let decided = match rest.get(digits) {
            _ if rest
                .first()
                .is_none_or(|&byte| !(b'1'..=b'9').contains(&byte)) =>
            {
                if rest.is_empty() && !self.finished {
                    return None;
                }
                FramingMode::Lf
            }
            Some(b' ') if digits == 4 => match wazuh_year_prefix(&rest[5..]) {
                Some(true) => FramingMode::Lf,
                Some(false) => FramingMode::OctetCounting,
                None if self.finished => FramingMode::OctetCounting,
                None => return None,
            },
            Some(b' ') if digits <= MAX_LENGTH_DIGITS => FramingMode::OctetCounting,
            None if digits <= MAX_LENGTH_DIGITS && !self.finished => return None,
            _ => FramingMode::Lf,
        };
        self.mode = decided;
        Some(())
    }

    /// Returns the range of the next LF-delimited frame.
    fn next_line(&mut self) -> Option<(usize, usize, bool)> {
        let available = self.buffered();
        let searched = self.scanned.min(available);
        if let Some(at) = memchr(b'\n', &self.buffer[self.start + searched..]) {
            let start = self.start;
            let length = searched + at;
            self.start += length + 1;
            self.scanned = 0;
            if message_len(&self.buffer[start..start + length]) > self.max_len {
                self.stats.discarded_bytes += (length - self.max_len) as u64;
                return Some((start, start + self.max_len, true));
            }
            return Some((start, start + length, false));
        }
        self.scanned = available;
        // A CR just past the limit may be the start of the line's CRLF, so it waits for the
        // next byte.
        if message_len(&self.buffer[self.start..self.start + available]) > self.max_len {
            let start = self.start;
            self.start += self.max_len;
            self.scanned = 0;
            self.state = State::DiscardLine;
            return Some((start, start + self.max_len, true));
        }
        if self.finished && available > 0 {
            let start = self.start;
            self.start += available;
            self.scanned = 0;
            return Some((start, start + available, false));
        }
        None
    }

    /// Returns the range of the next octet-counted frame: `None` when more bytes are needed,
    /// `Some(None)` after a resynchronisation.
    #[allow(clippy::option_option)]
    fn next_counted(&mut self) -> Option<Option<(usize, usize, bool)>> {
        self.skip_separators();
        let rest = &self.buffer[self.start..];
        if rest.is_empty() {
            return None;
        }
        let digits = rest
            .iter()
            .take(MAX_LENGTH_DIGITS + 1)
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        let prefix_ok = match rest.get(digits) {
            None if digits <= MAX_LENGTH_DIGITS && !self.finished => return None,
            Some(b' ') => digits > 0 && digits <= MAX_LENGTH_DIGITS && rest[0] != b'0',
            _ => false,
        };
        if !prefix_ok {
            self.stats.resynced += 1;
            self.state = State::DiscardLine;
            return Some(None);
        }
        let length = rest[..digits]
            .iter()
            .fold(0usize, |acc, &byte| acc * 10 + usize::from(byte - b'0'));
        let body = self.start + digits + 1;
        let available = self.buffer.len() - body;
        let kept = length.min(self.max_len);
        if available < kept {
            if !self.finished {
                return None;
            }
            // End of stream inside the frame: return what arrived, flagged as cut.
            self.start = self.buffer.len();
            return Some(Some((body, body + available, true)));
        }
        self.start = body + kept;
        self.scanned = 0;
        if length > kept {
            self.state = State::Skip {
                remaining: length - kept,
            };
            return Some(Some((body, body + kept, true)));
        }
        Some(Some((body, body + kept, false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `input` in the given chunk sizes and returns every frame with its flag.
    fn decode(
        mode: FramingMode,
        max_len: usize,
        input: &[u8],
        chunk: usize,
    ) -> Vec<(String, bool)> {
        let mut decoder = FrameDecoder::new(mode, max_len);
        let mut frames = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            decoder.push(piece);
            while let Some(frame) = decoder.next_frame() {
                frames.push((
                    String::from_utf8_lossy(frame.bytes).into_owned(),
                    frame.truncated,
                ));
            }
        }
        decoder.finish();
        while let Some(frame) = decoder.next_frame() {
            frames.push((
                String::from_utf8_lossy(frame.bytes).into_owned(),
                frame.truncated,
            ));
        }
        frames
    }

    fn whole(frames: &[&str]) -> Vec<(String, bool)> {
        frames
            .iter()
            .map(|text| (text.to_string(), false))
            .collect()
    }

    #[test]
    fn lf_strips_cr_nul_and_bom() {
        let input = b"\xEF\xBB\xBFone\r\ntwo\0\n\n\nthree";
        for chunk in [1, 2, 3, 100] {
            assert_eq!(
                decode(FramingMode::Lf, 100, input, chunk),
                whole(&["one", "two", "three"])
            );
        }
    }

    #[test]
    fn octet_counting_any_split() {
        let input = b"5 hello3 abc13 <189>date=1 x";
        let expected = whole(&["hello", "abc", "<189>date=1 x"]);
        for chunk in 1..input.len() {
            assert_eq!(
                decode(FramingMode::OctetCounting, 100, input, chunk),
                expected,
                "chunk {chunk}"
            );
            assert_eq!(
                decode(FramingMode::Auto, 100, input, chunk),
                expected,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn octet_counting_tolerates_lf_between_frames() {
        let input = b"5 hello\n3 abc\r\n";
        assert_eq!(
            decode(FramingMode::OctetCounting, 100, input, 4),
            whole(&["hello", "abc"])
        );
    }

    #[test]
    fn octet_frame_strips_trailing_lf() {
        let input = b"6 hello\n3 abc";
        assert_eq!(
            decode(FramingMode::OctetCounting, 100, input, 1),
            whole(&["hello", "abc"])
        );
    }

    #[test]
    fn auto_picks_lf_for_relay_time() {
        let input = b"2026-04-03T00:31:09Z host date=1\n2026-04-03T00:31:10Z host date=2\n";
        let frames = decode(FramingMode::Auto, 100, input, 7);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].0, "2026-04-03T00:31:10Z host date=2");
    }

    #[test]
    fn auto_picks_lf_for_wazuh_prefix() {
        let input = b"2018 Apr 09 16:03:37 wazuhmgr->10.24.0.253 date=2018-04-09\nnext\n";
        for chunk in [1, 3, 100] {
            let frames = decode(FramingMode::Auto, 100, input, chunk);
            assert_eq!(frames.len(), 2, "chunk {chunk}");
            assert_eq!(frames[1].0, "next");
        }
        let counted = decode(FramingMode::Auto, 100, b"2018 x", 1);
        assert_eq!(counted, vec![("x".to_string(), true)]);
    }

    #[test]
    fn auto_picks_lf_for_pri() {
        let mut decoder = FrameDecoder::new(FramingMode::Auto, 100);
        decoder.push(b"<13>a\n");
        assert!(decoder.next_frame().is_some());
        assert_eq!(decoder.mode(), FramingMode::Lf);
    }

    #[test]
    fn auto_waits_inside_length_digits() {
        let mut decoder = FrameDecoder::new(FramingMode::Auto, 100);
        decoder.push(b"1");
        assert!(decoder.next_frame().is_none());
        assert_eq!(decoder.mode(), FramingMode::Auto);
        decoder.push(b"0 0123456789");
        assert_eq!(
            decoder.next_frame().map(|frame| frame.bytes),
            Some(&b"0123456789"[..])
        );
        assert_eq!(decoder.mode(), FramingMode::OctetCounting);
    }

    #[test]
    fn octet_oversized_frame_cut() {
        let input = b"10 abcdefghij3 xyz";
        for chunk in [1, 3, 100] {
            let frames = decode(FramingMode::OctetCounting, 4, input, chunk);
            assert_eq!(
                frames,
                vec![("abcd".to_string(), true), ("xyz".to_string(), false)]
            );
        }
        let mut decoder = FrameDecoder::new(FramingMode::OctetCounting, 4);
        decoder.push(input);
        while decoder.next_frame().is_some() {}
        assert_eq!(decoder.stats().truncated, 1);
        assert_eq!(decoder.stats().discarded_bytes, 6);
    }

    #[test]
    fn lf_oversized_line_cut() {
        let input = b"abcdefghij\nxyz\n";
        for chunk in [1, 3, 100] {
            let frames = decode(FramingMode::Lf, 4, input, chunk);
            assert_eq!(
                frames,
                vec![("abcd".to_string(), true), ("xyz".to_string(), false)]
            );
        }
    }

    #[test]
    fn crlf_line_of_max_len_is_whole() {
        let input = b"abcd\r\nabcde\r\nabc\rd\nxy\r";
        let expected = vec![
            ("abcd".to_string(), false),
            ("abcd".to_string(), true),
            ("abc".to_string(), true),
            ("xy".to_string(), false),
        ];
        for chunk in [1, 2, 5, 100] {
            assert_eq!(decode(FramingMode::Lf, 4, input, chunk), expected);
        }
        let lines: Vec<(Vec<u8>, bool)> = lines(input, 4)
            .map(|frame| (frame.bytes.to_vec(), frame.truncated))
            .collect();
        let expected_lines: Vec<(Vec<u8>, bool)> = expected
            .iter()
            .map(|(text, truncated)| (text.as_bytes().to_vec(), *truncated))
            .collect();
        assert_eq!(lines, expected_lines);
    }

    #[test]
    fn datagram_line_end_is_not_counted() {
        assert!(!datagram(b"abcd\r\n", 4).truncated);
        assert!(!datagram(b"abcd\n", 4).truncated);
        assert!(datagram(b"abcd\n\n", 4).truncated);
        assert!(datagram(b"abcde", 4).truncated);
    }

    #[test]
    fn lf_line_of_exactly_max_len_is_whole() {
        assert_eq!(
            decode(FramingMode::Lf, 4, b"abcd\nxy\n", 1),
            whole(&["abcd", "xy"])
        );
    }

    #[test]
    fn bad_prefix_resyncs_to_next_lf() {
        let input = b"5x hello\n3 abc";
        for chunk in [1, 2, 100] {
            assert_eq!(
                decode(FramingMode::OctetCounting, 100, input, chunk),
                whole(&["abc"])
            );
        }
        let mut decoder = FrameDecoder::new(FramingMode::OctetCounting, 100);
        decoder.push(b"0 x\n12345678901 y\nabc\n2 ok");
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame() {
            frames.push(frame.bytes.to_vec());
        }
        assert_eq!(frames, vec![b"ok".to_vec()]);
        assert_eq!(decoder.stats().resynced, 3);
    }

    #[test]
    fn bad_prefix_without_lf_does_not_loop() {
        let mut decoder = FrameDecoder::new(FramingMode::OctetCounting, 100);
        decoder.push(b"garbage without newline");
        assert!(decoder.next_frame().is_none());
        assert_eq!(decoder.buffered(), 0);
        decoder.finish();
        assert!(decoder.next_frame().is_none());
    }

    #[test]
    fn incomplete_octet_frame_at_eof_is_flagged() {
        let frames = decode(FramingMode::OctetCounting, 100, b"10 abc", 2);
        assert_eq!(frames, vec![("abc".to_string(), true)]);
    }

    #[test]
    fn last_line_without_lf_is_whole() {
        assert_eq!(decode(FramingMode::Lf, 100, b"a\nb", 1), whole(&["a", "b"]));
    }

    #[test]
    fn lines_iterator_matches_decoder() {
        let input = b"one\r\n\ntwo\0\nthree-is-long";
        let from_lines: Vec<(String, bool)> = lines(input, 5)
            .map(|frame| {
                (
                    String::from_utf8_lossy(frame.bytes).into_owned(),
                    frame.truncated,
                )
            })
            .collect();
        assert_eq!(from_lines, decode(FramingMode::Lf, 5, input, 3));
    }

    #[test]
    fn datagram_is_cut_and_cleaned() {
        let frame = datagram(b"\xEF\xBB\xBF<13>abc\n", 100);
        assert_eq!(frame.bytes, b"<13>abc");
        assert!(!frame.truncated);
        let frame = datagram(b"abcdef", 3);
        assert_eq!(frame.bytes, b"abc");
        assert!(frame.truncated);
    }

    #[test]
    fn framing_mode_names() {
        assert_eq!(
            "octet".parse::<FramingMode>(),
            Ok(FramingMode::OctetCounting)
        );
        assert_eq!("lf".parse::<FramingMode>(), Ok(FramingMode::Lf));
        assert!("tcp".parse::<FramingMode>().is_err());
    }
}
