//! The key=value tokenizer for FortiOS and FortiAuthenticator bodies.
//!
//! Rules (FortiOS Log Message Reference and observed lines): pairs are separated by one or
//! more spaces, and keys are `[A-Za-z0-9_.-]+`. A value is bare (up to the next space), empty,
//! or double-quoted with `\x` standing for `x`. Text inside quotes never starts a pair. An
//! unclosed quote runs to the end of the line. Text that is not a pair is skipped and
//! reported as [`ErrorKind::StrayText`](crate::ErrorKind::StrayText).
//!
//! FortiAuthenticator specifics: quoted values have no escapes, so a backslash is kept as text
//! (`user="corp\user078"`). In the syslog form the pairs end after `status=` and the
//! rest of the line is free text (the message, whose quotes are not escaped). In the raw
//! export form `msg="…"` is not escaped either, so its closing quote is the first `"` that is
//! followed by the end of the line or by a space and a known export field name.

use memchr::memchr;

use crate::error::{ErrorKind, Errors};
use crate::header::is_key_byte;
use crate::key::{classify, KnownKey, FORTIOS_FIRST};
use crate::value::ValueStyle;

/// The dialect of a key=value body, refined while tokenising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Not decided yet: FortiOS rules apply.
    Undecided,
    FortiOs,
    FacExport,
    FacSyslog,
}

/// One pair: byte ranges of key and value in the line, packed in 16 bytes. The top two bits
/// of the value end store the [`ValueStyle`], so offsets must stay below 2^30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pair {
    key_start: u32,
    key_end: u32,
    value_start: u32,
    value_end_and_style: u32,
}

const STYLE_SHIFT: u32 = 30;
const OFFSET_MASK: u32 = (1 << STYLE_SHIFT) - 1;

impl Pair {
    /// Packs byte ranges below 2^30 and a style used for pairs (bare, quoted, CEF extension).
    #[inline(always)]
    pub fn new(
        key_start: usize,
        key_end: usize,
        value_start: usize,
        value_end: usize,
        style: ValueStyle,
    ) -> Pair {
        let style_bits = match style {
            ValueStyle::Quoted => 1,
            ValueStyle::CefExtension => 2,
            _ => 0,
        };
        Pair {
            key_start: key_start as u32,
            key_end: key_end as u32,
            value_start: value_start as u32,
            value_end_and_style: (value_end as u32 & OFFSET_MASK) | (style_bits << STYLE_SHIFT),
        }
    }

    pub fn key_start(&self) -> usize {
        self.key_start as usize
    }

    pub fn key_end(&self) -> usize {
        self.key_end as usize
    }

    pub fn value_start(&self) -> usize {
        self.value_start as usize
    }

    pub fn value_end(&self) -> usize {
        (self.value_end_and_style & OFFSET_MASK) as usize
    }

    pub fn style(&self) -> ValueStyle {
        match self.value_end_and_style >> STYLE_SHIFT {
            1 => ValueStyle::Quoted,
            2 => ValueStyle::CefExtension,
            _ => ValueStyle::Bare,
        }
    }
}

/// Whether the tokenizer should go on after a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// Result of tokenising: the dialect found and the start of any free-text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub dialect: Dialect,
    /// Start of the free-text message (FortiAuthenticator syslog only).
    pub message: Option<usize>,
}

/// Field names of the FortiAuthenticator raw export, used to find where `msg` ends.
const FAC_EXPORT_KEYS: [&[u8]; 14] = [
    b"date",
    b"time",
    b"oid",
    b"logid",
    b"cat",
    b"subcat",
    b"level",
    b"nas",
    b"action",
    b"status",
    b"msg",
    b"user",
    b"requestid",
    b"userip",
];

/// Tokenises `line[start..]`, calling `emit` for each pair until it returns [`Flow::Stop`].
/// `emit` receives the [`KnownKey`] of a pair whose key the tokenizer has already named, so
/// that it need not classify it again, and `None` otherwise. Keys are named while the
/// dialect is undecided and, with `PREDICT`, where a line follows the FortiOS field order
/// ([`FORTIOS_FIRST`]). Prediction pays on the fast path, which stops after those fields,
/// but cost the full parse more than it saved (callgrind, generated mix), so the full parse
/// runs without it. The caller keeps `line` within [`MAX_PARSE_LEN`](crate::MAX_PARSE_LEN)
/// bytes, so every offset fits a [`Pair`].
pub(crate) fn tokenize<const PREDICT: bool, F>(
    line: &[u8],
    start: usize,
    mut dialect: Dialect,
    errors: &mut Errors,
    mut emit: F,
) -> Outcome
where
    F: FnMut(Pair, Option<KnownKey>) -> Flow,
{
    let len = line.len();
    let mut at = start;
    // The key name expected next, while the line follows the FortiOS field order.
    let mut expected = if PREDICT { Some(&FORTIOS_FIRST) } else { None };
    loop {
        while line.get(at) == Some(&b' ') {
            at += 1;
        }
        if at >= len {
            break;
        }
        let key_start = at;
        let mut known = None;
        if let Some(name) = expected.and_then(|name| name.find_at(line, key_start)) {
            at = key_start + name.name_len();
            known = Some(name.key());
            expected = name.next();
        } else {
            expected = None;
            at = key_end(line, key_start);
            if at == key_start || line.get(at) != Some(&b'=') {
                if dialect == Dialect::FacSyslog {
                    return Outcome {
                        dialect,
                        message: Some(key_start),
                    };
                }
                errors.push(ErrorKind::StrayText, key_start);
                at = skip_stray(line, key_start);
                continue;
            }
        }
        let key_end = at;
        at += 1;
        let pair = if line.get(at) == Some(&b'"') {
            let value_start = at + 1;
            // FortiAuthenticator writes quoted values verbatim: a backslash is text
            // (`user="corp\user078"`), and `msg` of the export may hold bare quotes.
            // So may a user name typed at a login prompt: the first quote ends such a value
            // here, and text after it can read as pairs (`user="x" status="Success"`). The
            // rule table leaves a line that writes one of its fields twice unclassified.
            let fortiauthenticator = matches!(dialect, Dialect::FacExport | Dialect::FacSyslog);
            let close = if dialect == Dialect::FacExport && &line[key_start..key_end] == b"msg" {
                fac_export_msg_end(line, value_start)
            } else if fortiauthenticator {
                byte_from(line, value_start, b'"')
            } else {
                closing_quote(line, value_start)
            };
            let style = if fortiauthenticator {
                ValueStyle::Bare
            } else {
                ValueStyle::Quoted
            };
            let value_end = match close {
                Some(close) => {
                    at = close + 1;
                    close
                }
                None => {
                    errors.push(ErrorKind::UnclosedQuote, value_start - 1);
                    at = len;
                    len
                }
            };
            Pair::new(key_start, key_end, value_start, value_end, style)
        } else {
            let value_start = at;
            at = space_from(line, at);
            Pair::new(key_start, key_end, value_start, at, ValueStyle::Bare)
        };
        if dialect == Dialect::Undecided {
            let key = known.unwrap_or_else(|| classify(line, key_start, key_end));
            dialect = decide(key, &line[pair.value_start()..pair.value_end()]);
            known = Some(key);
        }
        if emit(pair, known) == Flow::Stop {
            break;
        }
        if dialect == Dialect::FacSyslog && &line[key_start..key_end] == b"status" {
            while at < len && line[at] == b' ' {
                at += 1;
            }
            return Outcome {
                dialect,
                message: (at < len).then_some(at),
            };
        }
        if line.get(at).is_some_and(|&byte| byte != b' ') {
            // Junk glued to a closing quote, as in `msg="…"|`.
            errors.push(ErrorKind::StrayText, at);
            at = skip_stray(line, at);
        }
    }
    Outcome {
        dialect,
        message: None,
    }
}

/// Skips text that is not a pair: up to the next space, or over a whole quoted run so that
/// quoted text never starts a pair.
fn skip_stray(line: &[u8], at: usize) -> usize {
    let mut at = at;
    let len = line.len();
    while at < len && line[at] != b' ' {
        if line[at] == b'"' {
            match closing_quote(line, at + 1) {
                Some(close) => at = close + 1,
                None => return len,
            }
        } else {
            at += 1;
        }
    }
    at
}

/// Finds the closing quote of a FortiOS quoted value that starts at `from`, honouring `\x`.
/// Values are short (most under 16 bytes), so the search reads eight bytes at a time in
/// registers rather than paying for a vector search's set-up on every value.
#[inline(always)]
pub(crate) fn closing_quote(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 8 <= line.len() {
        let word = word(&line[at..at + 8]);
        let found = match_byte(word, b'"') | match_byte(word, b'\\');
        if found == 0 {
            at += 8;
            continue;
        }
        let position = at + (found.trailing_zeros() / 8) as usize;
        if line[position] == b'"' {
            return Some(position);
        }
        at = position + 2;
    }
    while at < line.len() {
        match line[at] {
            b'"' => return Some(at),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    None
}

/// Returns the end of the key that starts at `start`: the offset of the first byte that is
/// not a key byte. Eight bytes are classified at a time. Most FortiOS keys are lower-case
/// letters, so one range test usually finds the end and the full class test runs only when a
/// digit, capital, `_`, `-` or `.` comes first.
#[inline(always)]
fn key_end(line: &[u8], start: usize) -> usize {
    let mut at = start;
    while at + 8 <= line.len() {
        let word = word(&line[at..at + 8]);
        let lower = in_range(word & !HIGH_BITS, b'a', b'z') & !word;
        let other = !lower & HIGH_BITS;
        if other == 0 {
            at += 8;
            continue;
        }
        // The first byte that is not a lower-case letter, read from the word to spare a
        // bounds check. It is usually the `=` after the key.
        let index = other.trailing_zeros() / 8;
        let byte = (word >> (8 * index)) as u8;
        if byte == b'=' || !is_key_byte(byte) {
            return at + index as usize;
        }
        let invalid = non_key_bytes(word);
        if invalid != 0 {
            return at + (invalid.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < line.len() && is_key_byte(line[at]) {
        at += 1;
    }
    at
}

/// Returns the high bit of every byte of `word` that is in `low..=high`, for bytes below 0x80.
/// Adding `0x80 - low` sets the high bit exactly when a byte is at least `low`, and adding
/// `0x7F - high` sets it exactly when the byte is above `high`. No sum carries into the next
/// byte because every byte is below 0x80.
#[inline(always)]
fn in_range(ascii: u64, low: u8, high: u8) -> u64 {
    let at_least_low = ascii + LOW_BITS * u64::from(0x80 - low);
    let above_high = ascii + LOW_BITS * u64::from(0x7F - high);
    at_least_low & !above_high & HIGH_BITS
}

/// Returns the high bit of every byte of `word` that is not a key byte `[A-Za-z0-9_.-]`.
#[inline(always)]
fn non_key_bytes(word: u64) -> u64 {
    let ascii = word & !HIGH_BITS;
    let valid = in_range(ascii, b'a', b'z')
        | in_range(ascii, b'A', b'Z')
        | in_range(ascii, b'0', b'9')
        | in_range(ascii, b'-', b'.')
        | in_range(ascii, b'_', b'_');
    // Bytes of 0x80 and above are never key bytes.
    !(valid & !word) & HIGH_BITS
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Returns a word whose lowest set high bit marks the first byte of `word` equal to `byte`,
/// using the "has zero byte" bit trick. Bits above the first match may be false positives.
#[inline(always)]
fn match_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ (LOW_BITS * u64::from(byte));
    x.wrapping_sub(LOW_BITS) & !x & HIGH_BITS
}

/// Reads eight bytes as a little-endian word.
#[inline(always)]
fn word(chunk: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    u64::from_le_bytes(bytes)
}

/// Returns the offset of the first space at or after `from`, or the line length.
#[inline(always)]
pub(crate) fn space_from(line: &[u8], from: usize) -> usize {
    byte_from(line, from, b' ').unwrap_or(line.len().max(from))
}

/// Returns the offset of the first `byte` at or after `from`. Values and header tokens are
/// short, so eight bytes are searched at a time in registers rather than through a vector
/// search, whose set-up costs more than such a value.
#[inline(always)]
fn byte_from(line: &[u8], from: usize, byte: u8) -> Option<usize> {
    let mut at = from;
    while at + 8 <= line.len() {
        let found = match_byte(word(&line[at..at + 8]), byte);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    while at < line.len() {
        if line[at] == byte {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Finds the end of an unescaped FortiAuthenticator export `msg` value: the first quote that
/// ends the line or is followed by spaces and a known export field (`… user="x"`). When none
/// qualifies, the last quote of the line ends the value.
fn fac_export_msg_end(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    let mut last = None;
    while let Some(found) = line.get(at..).and_then(|rest| memchr(b'"', rest)) {
        let quote = at + found;
        last = Some(quote);
        let mut next = quote + 1;
        if next == line.len() {
            return Some(quote);
        }
        if line[next] == b' ' {
            while next < line.len() && line[next] == b' ' {
                next += 1;
            }
            if next == line.len() || starts_with_export_key(&line[next..]) {
                return Some(quote);
            }
        }
        at = quote + 1;
    }
    last
}

fn starts_with_export_key(rest: &[u8]) -> bool {
    FAC_EXPORT_KEYS
        .iter()
        .any(|key| rest.len() > key.len() && rest.starts_with(key) && rest[key.len()] == b'=')
}

/// Decides between FortiOS and the FortiAuthenticator export from one pair, when the pair
/// is conclusive.
pub(crate) fn decide(key: KnownKey, value: &[u8]) -> Dialect {
    match key {
        // FortiOS log ids have 10 digits; FortiAuthenticator event ids have 5.
        KnownKey::Logid => {
            if value.len() == 10 {
                Dialect::FortiOs
            } else {
                Dialect::FacExport
            }
        }
        // FortiAuthenticator exports write `time=10:22:44+0000`.
        KnownKey::Time if value.len() > 8 && matches!(value[8], b'+' | b'-') => Dialect::FacExport,
        KnownKey::Oid | KnownKey::Cat | KnownKey::Subcat => Dialect::FacExport,
        KnownKey::Devname
        | KnownKey::Devid
        | KnownKey::Type
        | KnownKey::Subtype
        | KnownKey::Eventtime
        | KnownKey::Vd
        | KnownKey::Tz
        | KnownKey::Logver
        | KnownKey::Logdesc => Dialect::FortiOs,
        _ => Dialect::Undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(line: &str, dialect: Dialect) -> (Vec<(String, String)>, Outcome, Vec<ErrorKind>) {
        let mut errors = Errors::default();
        let mut out = Vec::new();
        let line = line.as_bytes();
        let outcome = tokenize::<false, _>(line, 0, dialect, &mut errors, |pair, _| {
            let key = &line[pair.key_start()..pair.key_end()];
            let value = &line[pair.value_start()..pair.value_end()];
            out.push((
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            ));
            Flow::Continue
        });
        let kinds = errors.as_slice().iter().map(|error| error.kind).collect();
        (out, outcome, kinds)
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bare_quoted_and_empty() {
        let (got, _, errors) = pairs(r#"a=1 b="x y"  c= d="" e=N/A"#, Dialect::Undecided);
        assert_eq!(
            got,
            owned(&[("a", "1"), ("b", "x y"), ("c", ""), ("d", ""), ("e", "N/A")])
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn quoted_text_never_starts_a_field() {
        let line = r#"url="/x?srcip=1.2.3.4&date=1999-01-01" srcip=10.0.0.1"#;
        let (got, _, _) = pairs(line, Dialect::Undecided);
        assert_eq!(
            got,
            owned(&[
                ("url", "/x?srcip=1.2.3.4&date=1999-01-01"),
                ("srcip", "10.0.0.1")
            ])
        );
    }

    #[test]
    fn escaped_quote_stays_inside() {
        let (got, _, _) = pairs(r#"f="a\"b c\\" g=1"#, Dialect::Undecided);
        assert_eq!(got, owned(&[("f", r#"a\"b c\\"#), ("g", "1")]));
    }

    #[test]
    fn unclosed_quote_runs_to_end() {
        let (got, _, errors) = pairs(r#"a=1 msg="no end here x=1"#, Dialect::Undecided);
        assert_eq!(got, owned(&[("a", "1"), ("msg", "no end here x=1")]));
        assert_eq!(errors, vec![ErrorKind::UnclosedQuote]);
    }

    #[test]
    fn trailing_junk_is_stray() {
        let (got, _, errors) = pairs(r#"a="x"| b=2 junk "q r=1" "#, Dialect::Undecided);
        assert_eq!(got, owned(&[("a", "x"), ("b", "2")]));
        assert_eq!(
            errors,
            vec![
                ErrorKind::StrayText,
                ErrorKind::StrayText,
                ErrorKind::StrayText
            ]
        );
    }

    #[test]
    fn fac_syslog_message_after_status() {
        let line = r#"category="Event" typeid=20299 status="Pending" Remote "x" a=b"#;
        let (got, outcome, _) = pairs(line, Dialect::FacSyslog);
        assert_eq!(got.len(), 3);
        assert_eq!(
            outcome.message.map(|at| &line[at..]),
            Some(r#"Remote "x" a=b"#)
        );
    }

    #[test]
    fn fac_export_msg_with_inner_quotes() {
        let line =
            r#"logid=10103 cat="Event" msg="Unlocked FortiToken "FTKMOB0000000063"" user="admin""#;
        let (got, outcome, errors) = pairs(line, Dialect::Undecided);
        assert_eq!(outcome.dialect, Dialect::FacExport);
        assert_eq!(
            got[2],
            (
                "msg".to_string(),
                r#"Unlocked FortiToken "FTKMOB0000000063""#.to_string()
            )
        );
        assert_eq!(got[3], ("user".to_string(), "admin".to_string()));
        assert!(errors.is_empty());
    }

    #[test]
    fn fac_backslash_is_text() {
        let line = r#"logid=20702 user="corp\" msg="a\b" x=1"#;
        let (got, _, _) = pairs(line, Dialect::Undecided);
        assert_eq!(got[1], ("user".to_string(), r"corp\".to_string()));
        assert_eq!(got[2], ("msg".to_string(), r"a\b".to_string()));
    }

    #[test]
    fn word_search_matches_naive() {
        let samples: [&[u8]; 7] = [
            b"",
            b"abc",
            b"abcdefgh\"",
            b"0123456789abcdef\\\"x\"yz",
            b"\"",
            b"\x80\xff\x22 \"",
            b"no closing quote in this rather long value \\",
        ];
        for sample in samples {
            let mut naive = None;
            let mut at = 0;
            while at < sample.len() {
                match sample[at] {
                    b'"' => {
                        naive = Some(at);
                        break;
                    }
                    b'\\' => at += 2,
                    _ => at += 1,
                }
            }
            assert_eq!(closing_quote(sample, 0), naive, "{sample:?}");
            let space = sample
                .iter()
                .position(|&b| b == b' ')
                .unwrap_or(sample.len());
            assert_eq!(space_from(sample, 0), space, "{sample:?}");
        }
        for (key, end) in [
            ("abc=1", 3),
            ("a|b=1", 1),
            ("=1", 0),
            ("abc", 3),
            ("k.e-y_9=", 7),
        ] {
            assert_eq!(key_end(key.as_bytes(), 0), end, "{key}");
        }
    }

    #[test]
    fn dialect_from_logid_length() {
        let (_, outcome, _) = pairs(r#"date=x logid="0100032002""#, Dialect::Undecided);
        assert_eq!(outcome.dialect, Dialect::FortiOs);
        let (_, outcome, _) = pairs("logid=30303 nas=", Dialect::Undecided);
        assert_eq!(outcome.dialect, Dialect::FacExport);
        let (_, outcome, _) = pairs("date=2026-03-02 time=10:25:33+0000 x=1", Dialect::Undecided);
        assert_eq!(outcome.dialect, Dialect::FacExport);
    }
}
