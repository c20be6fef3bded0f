//! Syslog headers in front of a Fortinet body: `<PRI>` alone, RFC 3164 with or without PRI,
//! RFC 5424 with structured data, relay prefixes (RFC 3339 time and host), the Wazuh relay
//! prefix (`YYYY Mmm dd hh:mm:ss agent->address`) and no header at all. The body is found by
//! its shape (`key=` or `CEF:`) rather than by trusting one header form.

use memchr::memmem;

use crate::error::{ErrorKind, Errors};
use crate::kv;
use crate::time::{self, BsdTime, Civil};
use crate::value::{Value, ValueStyle};

/// Syslog priority: facility and severity (RFC 5424 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pri(u8);

const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

impl Pri {
    /// Returns the PRI for a value in 0–191, or `None` outside that range.
    pub fn new(value: u8) -> Option<Pri> {
        (value <= 191).then_some(Pri(value))
    }

    /// Returns the numeric PRI.
    pub fn value(self) -> u8 {
        self.0
    }

    /// Returns the facility number, 0–23.
    pub fn facility(self) -> u8 {
        self.0 >> 3
    }

    /// Returns the severity number, 0 (emergency) to 7 (debug).
    pub fn severity(self) -> u8 {
        self.0 & 7
    }

    /// Returns the facility keyword (`local7` for FortiGate's default facility).
    pub fn facility_name(self) -> &'static str {
        FACILITY_NAMES[usize::from(self.facility())]
    }

    /// Returns the severity keyword as syslog spells it (`notice`, `info`, …).
    pub fn severity_name(self) -> &'static str {
        SEVERITY_NAMES[usize::from(self.severity())]
    }
}

/// The syslog header fields found in front of the body. Absent parts are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// RFC 5424 version (`1`), only for RFC 5424 headers.
    pub version: Option<u8>,
    /// Header time in nanoseconds since the Unix epoch. A time written without an offset is
    /// read in the default zone of the [`Context`](crate::Context), or as UTC for
    /// FortiAuthenticator lines. A year-less time takes the year nearest the receive time.
    pub timestamp: Option<i64>,
    /// True when the header time carried its own UTC offset.
    pub timestamp_has_offset: bool,
    /// Host name or address. For a Wazuh relay prefix (`agent->address`) this is the address.
    pub hostname: Option<Value<'a>>,
    /// Program name (RFC 3164 tag before `[pid]`, RFC 5424 APP-NAME).
    pub appname: Option<Value<'a>>,
    /// Process id (RFC 3164 `[pid]`, RFC 5424 PROCID).
    pub procid: Option<Value<'a>>,
    /// RFC 5424 MSGID.
    pub msgid: Option<Value<'a>>,
    /// RFC 5424 structured data as written, `[…]` brackets included.
    pub structured_data: Option<&'a [u8]>,
}

/// Kind of body that starts at the body offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyShape {
    /// `key=` pairs (FortiOS or FortiAuthenticator export).
    KeyValue,
    /// FortiAuthenticator syslog: `category=` first.
    FacSyslog,
    /// `CEF:`.
    Cef,
    /// Anything else: kept as the message.
    Other,
}

/// The header of a frame and where its body starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scan<'a> {
    pub pri: Option<Pri>,
    pub header: Header<'a>,
    /// Form of the header time. Its text is checked during the scan but only parsed by
    /// [`Scan::header_time`], because the fast path needs it only when the body has no time.
    pub time: Option<TimeShape>,
    /// Offset of the header time, for error reports.
    pub time_at: usize,
    /// The header time as written (empty when there is none).
    pub time_text: &'a [u8],
    pub body: usize,
    pub shape: BodyShape,
}

/// Form of a header time that the scan found valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeShape {
    /// RFC 3339, as in RFC 5424 headers and relay prefixes.
    Rfc3339,
    /// RFC 3164 `Mmm dd hh:mm:ss`, without a year.
    Bsd,
    /// The Wazuh relay time `YYYY Mmm dd hh:mm:ss`.
    Wazuh,
}

impl Scan<'_> {
    /// Parses the header time that the scan found. Returns `None` when there is none.
    pub fn header_time(&self) -> Option<HeaderTime> {
        let text = self.time_text;
        match self.time? {
            TimeShape::Rfc3339 => {
                let (civil, offset, _) = time::parse_rfc3339(text)?;
                Some(HeaderTime::Full { civil, offset })
            }
            TimeShape::Bsd => time::parse_bsd(text).map(|(bsd, _)| HeaderTime::YearLess(bsd)),
            TimeShape::Wazuh => wazuh_time(text).map(|(civil, _)| HeaderTime::Full {
                civil,
                offset: None,
            }),
        }
    }
}

/// A header time before its zone is settled.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HeaderTime {
    Full { civil: Civil, offset: Option<i32> },
    YearLess(BsdTime),
}

pub(crate) fn is_key_byte(byte: u8) -> bool {
    KEY_BYTES[usize::from(byte)]
}

/// Bytes allowed in a key: `[A-Za-z0-9_.-]`.
static KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
        byte += 1;
    }
    table
};

/// Returns the body shape if `rest` starts with a body: `CEF:` or a key followed by `=`.
pub(crate) fn body_shape(rest: &[u8]) -> Option<BodyShape> {
    // FortiOS bodies start with `date=`, so that shape is tested first.
    if rest.starts_with(b"date=") {
        return Some(BodyShape::KeyValue);
    }
    let key_len = rest.iter().take_while(|&&byte| is_key_byte(byte)).count();
    match rest.get(key_len) {
        Some(b'=') if key_len > 0 => {
            if &rest[..key_len] == b"category" {
                Some(BodyShape::FacSyslog)
            } else {
                Some(BodyShape::KeyValue)
            }
        }
        Some(b':') if &rest[..key_len] == b"CEF" => Some(BodyShape::Cef),
        _ => None,
    }
}

fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Returns the offset of the first space at or after `at`, or the line length. Header
/// tokens are short, so this uses the tokenizer's word-at-a-time search rather than a vector
/// search whose set-up costs more than the token.
fn token_end(line: &[u8], at: usize) -> usize {
    kv::space_from(line, at.min(line.len()))
}

/// Reads `<PRI>` at the start; returns the PRI (if valid) and the offset after `>`.
fn scan_pri(line: &[u8], errors: &mut Errors) -> (Option<Pri>, usize) {
    let Some((&b'<', rest)) = line.split_first() else {
        return (None, 0);
    };
    // Up to four digits are read so that a fourth one is reported as an invalid PRI.
    let mut digits = 0;
    let mut value = 0u32;
    while let Some(&byte) = rest.get(digits).filter(|byte| byte.is_ascii_digit()) {
        if digits == 4 {
            break;
        }
        value = value * 10 + u32::from(byte - b'0');
        digits += 1;
    }
    if digits == 0 || digits > 3 || rest.get(digits) != Some(&b'>') {
        errors.push(ErrorKind::InvalidPri, 0);
        return (None, 0);
    }
    let pri = u8::try_from(value).ok().and_then(Pri::new);
    if pri.is_none() {
        errors.push(ErrorKind::PriOutOfRange, 1);
    }
    (pri, digits + 2)
}

/// Scans the header of `line` (a cleaned frame).
pub(crate) fn scan<'a>(line: &'a [u8], errors: &mut Errors) -> Scan<'a> {
    let (pri, at) = scan_pri(line, errors);
    let mut scan = Scan {
        pri,
        header: Header::default(),
        time: None,
        time_at: at,
        time_text: &[],
        body: at,
        shape: BodyShape::Other,
    };
    let rest = &line[at..];
    // FortiOS default: `<PRI>` directly followed by the body, or no header at all.
    if let Some(shape) = body_shape(rest) {
        scan.shape = shape;
        return scan;
    }
    if pri.is_some() {
        if let Some(version_end) = rfc5424_version(rest) {
            scan_rfc5424(line, at, version_end, &mut scan, errors);
            return scan;
        }
    }
    scan_legacy(line, at, &mut scan, errors);
    scan
}

/// Returns the length of `VERSION SP` when `rest` starts with an RFC 5424 version.
fn rfc5424_version(rest: &[u8]) -> Option<usize> {
    let digits = rest
        .iter()
        .take(3)
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let first = *rest.first()?;
    (digits > 0 && first != b'0' && rest.get(digits) == Some(&b' ')).then_some(digits + 1)
}

fn nil_or_value(token: &[u8]) -> Option<Value<'_>> {
    (token != b"-" && !token.is_empty()).then(|| Value::new(token, ValueStyle::Bare))
}

/// RFC 5424: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`.
fn scan_rfc5424<'a>(
    line: &'a [u8],
    at: usize,
    version_len: usize,
    scan: &mut Scan<'a>,
    errors: &mut Errors,
) {
    let version = line[at..at + version_len - 1]
        .iter()
        .fold(0u32, |acc, &byte| acc * 10 + u32::from(byte - b'0'));
    scan.header.version = u8::try_from(version).ok();
    let mut at = at + version_len;
    let mut tokens: [&[u8]; 5] = [&[]; 5];
    for (index, slot) in tokens.iter_mut().enumerate() {
        let end = token_end(line, at);
        *slot = &line[at.min(end)..end];
        if index == 0 && *slot != b"-" {
            scan.time_at = at;
            if time::rfc3339_len(slot) == Some(slot.len()) {
                scan.time = Some(TimeShape::Rfc3339);
                scan.time_text = slot;
            } else {
                errors.push(ErrorKind::InvalidTimestamp, at);
            }
        }
        at = (end + 1).min(line.len());
    }
    scan.header.hostname = nil_or_value(tokens[1]);
    scan.header.appname = nil_or_value(tokens[2]);
    scan.header.procid = nil_or_value(tokens[3]);
    scan.header.msgid = nil_or_value(tokens[4]);
    let sd_start = at;
    let sd_end = match line.get(at) {
        Some(b'-') => at + 1,
        Some(b'[') => match structured_data_end(line, at) {
            Some(end) => end,
            None => {
                errors.push(ErrorKind::InvalidStructuredData, at);
                line.len()
            }
        },
        _ => at,
    };
    if line.get(sd_start) == Some(&b'[') {
        scan.header.structured_data = Some(&line[sd_start..sd_end]);
    }
    let mut body = skip_spaces(line, sd_end);
    if line[body.min(line.len())..].starts_with(b"\xEF\xBB\xBF") {
        body += 3;
    }
    let body = body.min(line.len());
    scan.body = body;
    scan.shape = body_shape(&line[body..]).unwrap_or(BodyShape::Other);
}

/// Returns the offset after the last `]` of the structured data starting at `at`, or `None`
/// when an element is not closed.
fn structured_data_end(line: &[u8], mut at: usize) -> Option<usize> {
    while line.get(at) == Some(&b'[') {
        at += 1;
        let mut in_quotes = false;
        loop {
            match *line.get(at)? {
                b'\\' if in_quotes => at += 2,
                b'"' => {
                    in_quotes = !in_quotes;
                    at += 1;
                }
                b']' if !in_quotes => {
                    at += 1;
                    break;
                }
                _ => at += 1,
            }
        }
    }
    Some(at)
}

/// Headers other than RFC 5424: optional time, optional host, optional tag, then the body.
fn scan_legacy<'a>(line: &'a [u8], start: usize, scan: &mut Scan<'a>, errors: &mut Errors) {
    let mut at = start;
    let rest = &line[at..];
    let mut has_time = true;
    let found = time::bsd_len(rest)
        .map(|used| (TimeShape::Bsd, used))
        .or_else(|| time::rfc3339_len(rest).map(|used| (TimeShape::Rfc3339, used)))
        .or_else(|| wazuh_time(rest).map(|(_, used)| (TimeShape::Wazuh, used)));
    if let Some((shape, used)) = found {
        scan.time = Some(shape);
        scan.time_text = &rest[..used];
        at += used;
    } else {
        has_time = false;
        if looks_like_time(rest) {
            errors.push(ErrorKind::InvalidTimestamp, at);
        }
    }
    at = skip_spaces(line, at);

    // Up to two tokens before the body: a host name and a tag ending in `:`. Without a
    // time, a first token is taken as host only when a tag follows it.
    let mut host: Option<&'a [u8]> = None;
    // The body shape at `at` when the loop stops on it, so that it is not scanned twice.
    let mut shape_at_body = None;
    for _ in 0..2 {
        let rest = &line[at..];
        let shape = body_shape(rest);
        if rest.is_empty() || shape.is_some() {
            shape_at_body = Some(shape);
            break;
        }
        let end = token_end(line, at);
        let token = &line[at..end];
        if token.len() > 1 && token.ends_with(b":") {
            if let Some(hostname) = host {
                scan.header.hostname = Some(host_value(hostname));
            }
            host = None;
            set_tag(&mut scan.header, &token[..token.len() - 1]);
            at = skip_spaces(line, end);
            break;
        }
        if host.is_some() || (!has_time && !tag_follows(line, end)) {
            break;
        }
        host = Some(token);
        at = skip_spaces(line, end);
    }
    if let Some(hostname) = host {
        scan.header.hostname = Some(host_value(hostname));
    }
    let rest = &line[at..];
    if let Some(shape) = shape_at_body.unwrap_or_else(|| body_shape(rest)) {
        scan.body = at;
        scan.shape = shape;
        return;
    }
    match find_body_marker(rest) {
        Some((offset, shape)) => {
            scan.body = at + offset;
            scan.shape = shape;
        }
        None => {
            scan.body = at;
            scan.shape = BodyShape::Other;
        }
    }
}

/// True when the token after `end` is a tag (`name:` or `name[pid]:`).
fn tag_follows(line: &[u8], end: usize) -> bool {
    let next = skip_spaces(line, end);
    if next == end {
        return false;
    }
    let token = &line[next..token_end(line, next)];
    token.len() > 1 && token.ends_with(b":")
}

/// Splits a tag `name[pid]` into program name and process id.
fn set_tag<'a>(header: &mut Header<'a>, tag: &'a [u8]) {
    // Tags are a few bytes long, so a plain search beats memchr's set-up.
    let open = tag.iter().position(|&byte| byte == b'[');
    if let (Some(open), Some(b']')) = (open, tag.last()) {
        header.appname = nil_or_value(&tag[..open]);
        header.procid = nil_or_value(&tag[open + 1..tag.len() - 1]);
    } else {
        header.appname = nil_or_value(tag);
    }
}

/// Returns the host of a header token. For a Wazuh relay token `agent->address` it returns
/// the address, which is the device that sent the line.
fn host_value(token: &[u8]) -> Value<'_> {
    let arrow = token.windows(2).position(|pair| pair == b"->");
    let host = arrow.map_or(token, |at| &token[at + 2..]);
    Value::new(host, ValueStyle::Bare)
}

/// Parses the Wazuh relay time `YYYY Mmm dd hh:mm:ss`.
fn wazuh_time(rest: &[u8]) -> Option<(Civil, usize)> {
    let year = rest.get(..4)?;
    if !year.iter().all(u8::is_ascii_digit) || rest.get(4) != Some(&b' ') {
        return None;
    }
    let year = year
        .iter()
        .fold(0i64, |acc, &byte| acc * 10 + i64::from(byte - b'0'));
    let (time, used) = time::parse_bsd(&rest[5..])?;
    Some((time.in_year(year), used + 5))
}

/// True when `rest` starts like a timestamp that failed to parse (so it deserves an error).
fn looks_like_time(rest: &[u8]) -> bool {
    let digits = rest
        .iter()
        .take(4)
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    (digits == 4 && rest.get(4) == Some(&b'-'))
        || (rest.len() > 3 && time::month_number(&rest[..3]).is_some() && rest[3] == b' ')
}

/// Searches for the start of a Fortinet body inside text that has an unknown prefix.
fn find_body_marker(rest: &[u8]) -> Option<(usize, BodyShape)> {
    const MARKERS: [(&[u8], BodyShape); 6] = [
        (b" date=", BodyShape::KeyValue),
        (b" logid=", BodyShape::KeyValue),
        (b" devname=", BodyShape::KeyValue),
        (b" eventtime=", BodyShape::KeyValue),
        (b" category=", BodyShape::FacSyslog),
        (b" CEF:", BodyShape::Cef),
    ];
    MARKERS
        .iter()
        .filter_map(|(marker, shape)| memmem::find(rest, marker).map(|at| (at + 1, *shape)))
        .min_by_key(|(at, _)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_line(line: &[u8]) -> (Scan<'_>, Errors) {
        let mut errors = Errors::default();
        let scan = scan(line, &mut errors);
        (scan, errors)
    }

    fn text(value: Option<Value<'_>>) -> Option<String> {
        value.map(|value| value.as_str().into_owned())
    }

    #[test]
    fn pri_then_body() {
        let (scan, errors) = scan_line(b"<189>date=2020-04-23 time=12:32:48");
        assert_eq!(scan.pri.map(Pri::value), Some(189));
        assert_eq!(scan.body, 5);
        assert_eq!(scan.shape, BodyShape::KeyValue);
        assert!(errors.is_empty());
    }

    #[test]
    fn pri_names() {
        let pri = Pri::new(189);
        assert_eq!(pri.map(Pri::facility_name), Some("local7"));
        assert_eq!(pri.map(Pri::severity_name), Some("notice"));
        assert_eq!(Pri::new(192), None);
    }

    #[test]
    fn pri_out_of_range_is_error() {
        let (scan, errors) = scan_line(b"<192>date=x");
        assert_eq!(scan.pri, None);
        assert_eq!(scan.body, 5);
        assert_eq!(errors.as_slice()[0].kind, ErrorKind::PriOutOfRange);
        let (_, errors) = scan_line(b"<1234>date=x");
        assert_eq!(errors.as_slice()[0].kind, ErrorKind::InvalidPri);
    }

    #[test]
    fn bsd_host_and_body() {
        let (scan, _) = scan_line(b"Mar 22 19:21:00 10.10.10.10 date=2016-03-22 x=1");
        assert_eq!(text(scan.header.hostname).as_deref(), Some("10.10.10.10"));
        assert_eq!(scan.body, 28);
        let (scan, _) = scan_line(b"Dec 23 11:13:03 date=2011-07-24");
        assert_eq!(scan.header.hostname, None);
        assert_eq!(scan.body, 16);
    }

    #[test]
    fn relay_host_tag_and_fac_body() {
        let line = b"2021-07-08T11:01:06-03:00 10.0.30.5 db[32167]:  category=\"Event\"";
        let (scan, _) = scan_line(line);
        assert_eq!(text(scan.header.hostname).as_deref(), Some("10.0.30.5"));
        assert_eq!(text(scan.header.appname).as_deref(), Some("db"));
        assert_eq!(text(scan.header.procid).as_deref(), Some("32167"));
        assert_eq!(scan.shape, BodyShape::FacSyslog);
        assert_eq!(&line[scan.body..scan.body + 9], b"category=");
    }

    #[test]
    fn host_and_tag_without_time() {
        let (scan, _) = scan_line(b"fac01 rest_api_dbg_log: 2026-10-07 15:05:14,582 debug");
        assert_eq!(text(scan.header.hostname).as_deref(), Some("fac01"));
        assert_eq!(
            text(scan.header.appname).as_deref(),
            Some("rest_api_dbg_log")
        );
        assert_eq!(scan.shape, BodyShape::Other);
    }

    #[test]
    fn plain_text_is_not_a_host() {
        let (scan, _) = scan_line(b"hello world");
        assert_eq!(scan.header.hostname, None);
        assert_eq!(scan.body, 0);
        assert_eq!(scan.shape, BodyShape::Other);
    }

    #[test]
    fn wazuh_prefix() {
        let (scan, _) = scan_line(b"2018 Apr 09 16:03:37 wazuhmgr->10.24.0.253 date=2018-04-09");
        assert_eq!(text(scan.header.hostname).as_deref(), Some("10.24.0.253"));
        assert!(scan.time.is_some());
        assert_eq!(scan.shape, BodyShape::KeyValue);
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let line = br#"<190>1 2024-05-13T08:42:17.5+02:00 fgt01 - - - [meta x="a\]b" y="c"][two] date=2024-05-13"#;
        let (scan, errors) = scan_line(line);
        assert!(errors.is_empty());
        assert_eq!(scan.header.version, Some(1));
        assert_eq!(text(scan.header.hostname).as_deref(), Some("fgt01"));
        assert_eq!(scan.header.appname, None);
        assert_eq!(
            scan.header.structured_data,
            Some(&br#"[meta x="a\]b" y="c"][two]"#[..])
        );
        assert_eq!(scan.shape, BodyShape::KeyValue);
    }

    #[test]
    fn rfc5424_unclosed_sd() {
        let (scan, errors) = scan_line(b"<190>1 - host app 12 ID [x a=\"1");
        assert_eq!(errors.as_slice()[0].kind, ErrorKind::InvalidStructuredData);
        assert_eq!(scan.body, 31);
    }

    #[test]
    fn cef_after_bsd_header() {
        let (scan, _) = scan_line(b"Dec 27 11:15:40 FGT-LAB-LOG CEF: 0|Fortinet|Fortigate");
        assert_eq!(scan.shape, BodyShape::Cef);
        assert_eq!(text(scan.header.hostname).as_deref(), Some("FGT-LAB-LOG"));
    }

    #[test]
    fn body_found_by_marker() {
        let (scan, _) = scan_line(b"<13>Jan  1 00:00:00 a b c logid=\"0100032002\"");
        assert_eq!(scan.shape, BodyShape::KeyValue);
        assert_eq!(scan.body, 26);
    }
}
