//! The parse results: [`Record`] (full parse) and [`Peek`] (fast path), the [`Parser`] that
//! owns reusable field storage, the [`Context`] of a frame and the event-time resolution.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::cef::{self, CefHeader};
use crate::error::{ErrorKind, Errors, ParseError};
use crate::header::{self, BodyShape, Header, HeaderTime, Pri};
use crate::key::{self, KnownKey};
use crate::kv::{self, Dialect, Flow, Pair};
use crate::sd::SdElements;
use crate::time;
use crate::value::{Value, ValueStyle};

mod prefix;

use prefix::Prefix;

/// Per-frame parse settings: receive time and default zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// When the frame was received, in nanoseconds since the Unix epoch. It is the event
    /// time of last resort and picks the year of year-less header times.
    pub receive_time: i64,
    /// Offset east of UTC, in seconds, for local times written without a zone (a `date`/
    /// `time` pair without `tz`, or a header time without offset). Set it per source.
    pub default_offset: i32,
}

impl Context {
    /// Creates a context for a frame received at `receive_time` (ns since the epoch), with UTC
    /// as default zone.
    pub fn new(receive_time: i64) -> Self {
        Context {
            receive_time,
            default_offset: 0,
        }
    }

    /// Creates a context for a frame received now.
    pub fn now() -> Self {
        Context::new(Utc::now().timestamp_nanos_opt().unwrap_or(0))
    }

    /// Returns the context with another default zone (seconds east of UTC).
    pub fn with_default_offset(self, default_offset: i32) -> Self {
        Context {
            default_offset,
            ..self
        }
    }
}

/// Origin of the event time within the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeSource {
    /// FortiOS `eventtime` (CEF `FTNTFGTeventtime`): UTC epoch, unit by digit count.
    Eventtime,
    /// `date` and `time` with a zone: `tz`, or the offset FortiAuthenticator exports append
    /// to `time`.
    DateTimeTz,
    /// `date` and `time` without a valid zone, read in the context's default zone.
    DateTimeDefaultZone,
    /// The syslog header time, with its own offset, or as UTC on FortiAuthenticator lines
    /// (FortiAuthenticator logs in UTC).
    Header,
    /// The syslog header time without offset, read in the context's default zone.
    HeaderDefaultZone,
    /// Nothing usable in the frame: the receive time.
    ReceiveTime,
}

impl TimeSource {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Eventtime => "eventtime",
            TimeSource::DateTimeTz => "date_time_tz",
            TimeSource::DateTimeDefaultZone => "date_time_default_zone",
            TimeSource::Header => "header",
            TimeSource::HeaderDefaultZone => "header_default_zone",
            TimeSource::ReceiveTime => "receive_time",
        }
    }
}

/// The resolved event time of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    /// Nanoseconds since the Unix epoch, UTC.
    pub unix_nanos: i64,
    /// Origin of the time.
    pub source: TimeSource,
}

impl EventTime {
    /// Returns the time as a chrono UTC date-time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.unix_nanos)
    }

    /// Returns the time as RFC 3339 in UTC (`Z`), with as many fraction digits as needed
    /// (0, 3, 6 or 9).
    pub fn to_rfc3339(self) -> String {
        format_rfc3339(self.unix_nanos)
    }
}

/// Formats nanoseconds since the Unix epoch as RFC 3339 in UTC (`Z`), with 0, 3, 6 or 9
/// fraction digits as needed.
pub fn format_rfc3339(unix_nanos: i64) -> String {
    DateTime::from_timestamp_nanos(unix_nanos).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp with offset (`2024-05-13T08:42:17.5+02:00`, `…Z`) into
/// nanoseconds since the Unix epoch. Returns `None` for other text, a missing offset or a
/// time outside 1678–2261.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let (civil, offset, used) = time::parse_rfc3339(text.trim().as_bytes())?;
    if used != text.trim().len() {
        return None;
    }
    civil.to_unix_nanos(offset?)
}

/// The kind of body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    /// FortiOS (FortiGate) key=value, including FortiAnalyzer-forwarded lines.
    FortiOs,
    /// FortiAuthenticator syslog: `category=… status=… <free text>`.
    FortiAuthenticator,
    /// FortiAuthenticator raw log export: `date= time=…+0000 oid= logid= cat= … msg="…"`.
    FortiAuthenticatorExport,
    /// CEF (`CEF:0|…` or `CEF: 0|…`).
    Cef,
    /// Anything else; the text after the header is the message.
    Other,
}

impl BodyFormat {
    /// Returns the stable name: `fortios`, `fortiauthenticator`, `fortiauthenticator-export`,
    /// `cef` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::FortiOs => "fortios",
            BodyFormat::FortiAuthenticator => "fortiauthenticator",
            BodyFormat::FortiAuthenticatorExport => "fortiauthenticator-export",
            BodyFormat::Cef => "cef",
            BodyFormat::Other => "other",
        }
    }
}

/// One key=value pair of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The key; keys are ASCII (`[A-Za-z0-9_.-]`, plus `[` `]` in CEF).
    pub key: &'a str,
    /// The value, unescaped when read.
    pub value: Value<'a>,
    /// Byte offset of the key in the frame.
    pub offset: usize,
}

fn field_at<'a>(line: &'a [u8], pair: &Pair) -> Field<'a> {
    let key = &line[pair.key_start()..pair.key_end()];
    Field {
        key: std::str::from_utf8(key).unwrap_or_default(),
        value: Value::new(&line[pair.value_start()..pair.value_end()], pair.style()),
        offset: pair.key_start(),
    }
}

/// Iterator over the fields of a [`Record`], in frame order, duplicates included.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    line: &'a [u8],
    pairs: std::slice::Iter<'a, Pair>,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        self.pairs.next().map(|pair| field_at(self.line, pair))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.pairs.size_hint()
    }
}

/// A fully parsed frame, borrowing from the frame and from the [`Parser`]'s field storage.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    line: &'a [u8],
    pri: Option<Pri>,
    header: Header<'a>,
    format: BodyFormat,
    body: usize,
    message: Option<Value<'a>>,
    cef: Option<CefHeader<'a>>,
    time: EventTime,
    pairs: &'a [Pair],
    errors: Errors,
}

impl<'a> Record<'a> {
    /// Returns the whole frame.
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// Returns the body: the frame after the syslog header.
    pub fn body(&self) -> &'a [u8] {
        &self.line[self.body..]
    }

    /// Returns the syslog priority, if the frame has a valid one.
    pub fn pri(&self) -> Option<Pri> {
        self.pri
    }

    /// Returns the syslog header fields.
    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// Returns the kind of body.
    pub fn format(&self) -> BodyFormat {
        self.format
    }

    /// Returns the free-text message: the text after `status=` on FortiAuthenticator syslog
    /// lines, or the whole body of [`BodyFormat::Other`]. Formats whose message is a field
    /// (`msg`) return `None` here; see [`Record::msg`].
    pub fn message(&self) -> Option<Value<'a>> {
        self.message
    }

    /// Returns the message text wherever the format keeps it: [`Record::message`] if present,
    /// else the `msg` field.
    pub fn msg(&self) -> Option<Value<'a>> {
        self.message.or_else(|| self.field("msg"))
    }

    /// Returns the CEF header of a CEF body.
    pub fn cef(&self) -> Option<&CefHeader<'a>> {
        self.cef.as_ref()
    }

    /// Returns the resolved event time and its source.
    pub fn time(&self) -> EventTime {
        self.time
    }

    /// Returns the fields in frame order, duplicates included.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            line: self.line,
            pairs: self.pairs.iter(),
        }
    }

    /// Returns the number of fields, duplicates included.
    pub fn field_count(&self) -> usize {
        self.pairs.len()
    }

    /// Returns the value of the first field named `key`.
    pub fn field(&self, key: &str) -> Option<Value<'a>> {
        let key = key.as_bytes();
        self.pairs
            .iter()
            .find(|pair| &self.line[pair.key_start()..pair.key_end()] == key)
            .map(|pair| field_at(self.line, pair).value)
    }

    /// Calls `visit` with the raw key bytes and the value of every field, in frame order,
    /// without the UTF-8 check that [`Record::fields`] makes on each key.
    pub fn for_each_field(&self, mut visit: impl FnMut(&'a [u8], Value<'a>)) {
        for pair in self.pairs {
            let key = &self.line[pair.key_start()..pair.key_end()];
            let value = &self.line[pair.value_start()..pair.value_end()];
            visit(key, Value::new(value, pair.style()));
        }
    }

    /// Returns the RFC 5424 structured-data elements (none for other headers).
    pub fn structured_data(&self) -> SdElements<'a> {
        SdElements::new(self.header.structured_data.unwrap_or_default())
    }

    /// Returns the problems found, in frame order.
    pub fn errors(&self) -> &[ParseError] {
        self.errors.as_slice()
    }

    /// Returns the number of problems beyond those kept by [`Record::errors`].
    pub fn dropped_errors(&self) -> u32 {
        self.errors.dropped()
    }
}

/// Fast-path result: format, class and identity fields and event time, read without
/// tokenising the whole frame. Fields are the
/// first occurrence; absent ones are `None`. Where CEF renames a FortiOS field, the CEF name
/// is read: `logid` from `FTNTFGTlogid`, `devid` from `deviceExternalId`, `category` from `cat`,
/// the time from `FTNTFGTeventtime`.
#[derive(Debug, Clone, Copy)]
pub struct Peek<'a> {
    /// The kind of body.
    pub format: BodyFormat,
    /// The syslog priority.
    pub pri: Option<Pri>,
    /// Header host name.
    pub hostname: Option<Value<'a>>,
    /// FortiOS `devname`.
    pub devname: Option<Value<'a>>,
    /// FortiOS `devid` (CEF `deviceExternalId`).
    pub devid: Option<Value<'a>>,
    /// FortiOS 10-digit `logid`, FortiAuthenticator export `logid`, CEF `FTNTFGTlogid`.
    pub logid: Option<Value<'a>>,
    /// FortiOS `type`.
    pub log_type: Option<Value<'a>>,
    /// FortiOS `subtype`.
    pub subtype: Option<Value<'a>>,
    /// FortiAuthenticator syslog `typeid` (the event id).
    pub typeid: Option<Value<'a>>,
    /// FortiAuthenticator `status`. On FortiOS lines it is set only when it comes before the
    /// fields the fast path stops at, so read it from the full parse there.
    pub status: Option<Value<'a>>,
    /// FortiAuthenticator `category` (export: `cat`; CEF: `cat`).
    pub category: Option<Value<'a>>,
    /// CEF signature id.
    pub signature_id: Option<Value<'a>>,
    /// Resolved event time.
    pub time: EventTime,
    /// Problems found in the part that was read.
    pub errors: Errors,
}

impl<'a> Peek<'a> {
    /// Returns the event id: FortiAuthenticator `typeid` or `logid`, FortiOS `logid`, CEF
    /// `FTNTFGTlogid`.
    pub fn event_id(&self) -> Option<Value<'a>> {
        self.typeid.or(self.logid)
    }
}

/// The time-related fields of a body, first occurrences. `eventtime` is parsed when it is
/// found, because the fast path stops as soon as a valid one is known.
#[derive(Debug, Clone, Copy, Default)]
struct TimeFields<'a> {
    /// Nanoseconds of `eventtime` (`None` when invalid) and the offset of its value.
    eventtime: Option<(Option<i64>, usize)>,
    date: Option<(Value<'a>, usize)>,
    time: Option<(Value<'a>, usize)>,
    tz: Option<(Value<'a>, usize)>,
    /// How many of the four are set.
    found: u8,
}

impl<'a> TimeFields<'a> {
    /// Records the value of `key` if it is one of the time fields. Returns true if it is one.
    #[inline(always)]
    fn offer(&mut self, key: KnownKey, value: Value<'a>, offset: usize) -> bool {
        let slot = match key {
            KnownKey::Tz => &mut self.tz,
            KnownKey::Date => &mut self.date,
            KnownKey::Time => &mut self.time,
            KnownKey::Eventtime | KnownKey::CefEventtime => {
                if self.eventtime.is_none() {
                    self.eventtime = Some((time::parse_eventtime(value.raw()), offset));
                    self.found += 1;
                }
                return true;
            }
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some((value, offset));
            self.found += 1;
        }
        true
    }

    /// True when every time field has been seen, so later fields need no check.
    fn all_found(&self) -> bool {
        self.found == 4
    }

    /// True when the event time cannot change any more. Only a valid `eventtime` settles it:
    /// it wins over `date`/`time`/`tz` wherever it comes in the line (FortiAnalyzer puts `tz`
    /// and `date` first), and an invalid one falls back to them.
    fn complete(&self) -> bool {
        matches!(self.eventtime, Some((Some(_), _)))
    }
}

/// Parses frames, keeping field storage between calls so that parsing does not allocate once
/// the storage has grown to the longest frame's field count.
#[derive(Debug, Default, Clone)]
pub struct Parser {
    pairs: Vec<Pair>,
}

impl Parser {
    /// Creates a parser.
    pub fn new() -> Self {
        Parser {
            pairs: Vec::with_capacity(64),
        }
    }

    /// Parses a whole frame: header, every field, CEF header, message and event time.
    pub fn parse<'a>(&'a mut self, line: &'a [u8], context: &Context) -> Record<'a> {
        let line = within_limit(line);
        let mut errors = Errors::default();
        self.pairs.clear();
        let scan = header::scan(line, &mut errors);
        let mut times = TimeFields::default();
        let body = read_body(line, &scan, &mut self.pairs, &mut times, &mut errors);

        let mut header = scan.header;
        let time = resolve_time(
            &times,
            body.format,
            &scan,
            Some(&mut header),
            context,
            &mut errors,
        );
        Record {
            line,
            pri: scan.pri,
            header,
            format: body.format,
            body: scan.body,
            message: body.message,
            cef: body.cef,
            time,
            pairs: &self.pairs,
            errors,
        }
    }

    /// Runs the fast path on a frame; the same as [`peek`].
    pub fn peek<'a>(&self, line: &'a [u8], context: &Context) -> Peek<'a> {
        peek(line, context)
    }
}

/// The body of a frame as the full parse reads it.
struct Body<'a> {
    format: BodyFormat,
    message: Option<Value<'a>>,
    cef: Option<CefHeader<'a>>,
}

/// Tokenises the body into `pairs` and collects the time fields on the way.
#[inline(always)]
fn read_body<'a>(
    line: &'a [u8],
    scan: &header::Scan<'a>,
    pairs: &mut Vec<Pair>,
    times: &mut TimeFields<'a>,
    errors: &mut Errors,
) -> Body<'a> {
    let mut body = Body {
        format: BodyFormat::Other,
        message: None,
        cef: None,
    };
    match scan.shape {
        BodyShape::KeyValue | BodyShape::FacSyslog => {
            let dialect = if scan.shape == BodyShape::FacSyslog {
                Dialect::FacSyslog
            } else {
                Dialect::Undecided
            };
            let outcome =
                kv::tokenize::<false, _>(line, scan.body, dialect, errors, |pair, known| {
                    if !times.all_found() {
                        let key = known.unwrap_or_else(|| {
                            key::classify_time_field(line, pair.key_start(), pair.key_end())
                        });
                        if key != KnownKey::Other {
                            let value = &line[pair.value_start()..pair.value_end()];
                            let value = Value::new(value, pair.style());
                            times.offer(key, value, pair.value_start());
                        }
                    }
                    pairs.push(pair);
                    Flow::Continue
                });
            if let Some(start) = outcome.message {
                body.message = Some(Value::new(&line[start..], ValueStyle::Bare));
            }
            body.format = dialect_format(outcome.dialect);
        }
        BodyShape::Cef => {
            let (header, extension) = cef::scan_header(line, scan.body, errors);
            body.cef = Some(header);
            if let Some(extension) = extension {
                cef::tokenize_extension(line, extension, errors, |pair| {
                    let key = key::classify(line, pair.key_start(), pair.key_end());
                    let value = &line[pair.value_start()..pair.value_end()];
                    times.offer(key, Value::new(value, pair.style()), pair.value_start());
                    pairs.push(pair);
                    true
                });
            }
            body.format = BodyFormat::Cef;
        }
        BodyShape::Other => {
            let text = &line[scan.body..];
            if !text.is_empty() {
                body.message = Some(Value::new(text, ValueStyle::Bare));
            }
        }
    }
    body
}

/// Maximum frame length the parser reads, in bytes (1 GiB - 1). Field offsets are stored in 30 bits,
/// so bytes past this limit are ignored. Framing limits frames to far less (64 KiB by default).
pub const MAX_PARSE_LEN: usize = (1 << 30) - 1;

fn within_limit(line: &[u8]) -> &[u8] {
    &line[..line.len().min(MAX_PARSE_LEN)]
}

fn dialect_format(dialect: Dialect) -> BodyFormat {
    match dialect {
        Dialect::FacSyslog => BodyFormat::FortiAuthenticator,
        Dialect::FacExport => BodyFormat::FortiAuthenticatorExport,
        Dialect::FortiOs | Dialect::Undecided => BodyFormat::FortiOs,
    }
}

/// The identity and class fields the fast path looks for, with one bit per field in `seen`
/// so that the stop test is one mask compare.
#[derive(Debug, Clone, Copy, Default)]
struct PeekFields<'a> {
    devname: Option<Value<'a>>,
    devid: Option<Value<'a>>,
    logid: Option<Value<'a>>,
    log_type: Option<Value<'a>>,
    subtype: Option<Value<'a>>,
    typeid: Option<Value<'a>>,
    status: Option<Value<'a>>,
    category: Option<Value<'a>>,
    /// The `SEEN_*` bits of the fields set so far.
    seen: u8,
}

const SEEN_DEVNAME: u8 = 1;
const SEEN_DEVID: u8 = 1 << 1;
const SEEN_LOGID: u8 = 1 << 2;
const SEEN_TYPE: u8 = 1 << 3;
const SEEN_SUBTYPE: u8 = 1 << 4;
const SEEN_TYPEID: u8 = 1 << 5;
const SEEN_STATUS: u8 = 1 << 6;
const SEEN_CATEGORY: u8 = 1 << 7;

/// Fields after which the fast path stops on a FortiOS line (given a valid `eventtime`).
const FORTIOS_FIELDS: u8 = SEEN_LOGID | SEEN_TYPE | SEEN_SUBTYPE | SEEN_DEVNAME | SEEN_DEVID;
/// Fields after which the fast path stops on a FortiAuthenticator export line.
const EXPORT_FIELDS: u8 = SEEN_LOGID | SEEN_STATUS | SEEN_CATEGORY;
/// Fields after which the fast path stops on a CEF extension.
const CEF_FIELDS: u8 = SEEN_LOGID | SEEN_DEVID | SEEN_CATEGORY;

impl<'a> PeekFields<'a> {
    /// Records the value of `key` if it is a field the fast path returns and the first of its
    /// name.
    #[inline(always)]
    fn offer(&mut self, key: KnownKey, value: Value<'a>) {
        let (slot, bit) = match key {
            KnownKey::Cat | KnownKey::Category => (&mut self.category, SEEN_CATEGORY),
            KnownKey::Type => (&mut self.log_type, SEEN_TYPE),
            KnownKey::Devid | KnownKey::CefDevid => (&mut self.devid, SEEN_DEVID),
            KnownKey::Logid | KnownKey::CefLogid => (&mut self.logid, SEEN_LOGID),
            KnownKey::Typeid => (&mut self.typeid, SEEN_TYPEID),
            KnownKey::Status => (&mut self.status, SEEN_STATUS),
            KnownKey::Devname => (&mut self.devname, SEEN_DEVNAME),
            KnownKey::Subtype => (&mut self.subtype, SEEN_SUBTYPE),
            _ => return,
        };
        if self.seen & bit == 0 {
            *slot = Some(value);
            self.seen |= bit;
        }
    }

    /// True when every field in `required` is set and the event time is settled.
    fn has_all(&self, required: u8, times: &TimeFields<'_>) -> bool {
        self.seen & required == required && times.complete()
    }

    /// True when nothing the fast path wants for `dialect` is still missing.
    fn complete(&self, dialect: Dialect, times: &TimeFields<'_>) -> bool {
        match dialect {
            Dialect::FortiOs | Dialect::Undecided => self.has_all(FORTIOS_FIELDS, times),
            Dialect::FacExport => self.has_all(EXPORT_FIELDS, times),
            // The tokenizer stops at `status`, the last pair of this form.
            Dialect::FacSyslog => false,
        }
    }
}

/// Runs the fast path: header, body format, class and identity fields and the event time,
/// stopping the tokenizer as soon as the fields it looks for are found.
pub fn peek<'a>(line: &'a [u8], context: &Context) -> Peek<'a> {
    let line = within_limit(line);
    let mut errors = Errors::default();
    let scan = header::scan(line, &mut errors);
    let mut times = TimeFields::default();
    let mut found = PeekFields::default();
    let mut signature_id = None;
    let format = match scan.shape {
        BodyShape::KeyValue | BodyShape::FacSyslog => {
            let mut dialect = if scan.shape == BodyShape::FacSyslog {
                Dialect::FacSyslog
            } else {
                Dialect::Undecided
            };
            // The first pairs settle most FortiOS lines. The tokenizer reads on from where
            // the prefix reader stops.
            let mut prefix = Prefix {
                at: scan.body,
                dialect,
                logid_dialect: dialect,
                complete: false,
            };
            if scan.shape == BodyShape::KeyValue {
                prefix = prefix::read_fortios_prefix(line, scan.body, &mut times, &mut found);
                dialect = prefix.logid_dialect;
            }
            if prefix.complete {
                return peek_result(
                    dialect_format(prefix.dialect),
                    &scan,
                    found,
                    None,
                    &times,
                    context,
                    errors,
                );
            }
            let outcome = kv::tokenize::<true, _>(
                line,
                prefix.at,
                prefix.dialect,
                &mut errors,
                |pair, known| {
                    let key = known
                        .unwrap_or_else(|| key::classify(line, pair.key_start(), pair.key_end()));
                    if key == KnownKey::Other {
                        // Only a recorded field can complete the fast path.
                        return Flow::Continue;
                    }
                    let value =
                        Value::new(&line[pair.value_start()..pair.value_end()], pair.style());
                    if !times.offer(key, value, pair.value_start()) {
                        found.offer(key, value);
                    }
                    if dialect == Dialect::Undecided && key == KnownKey::Logid {
                        dialect = if value.raw().len() == 10 {
                            Dialect::FortiOs
                        } else {
                            Dialect::FacExport
                        };
                    }
                    if found.complete(dialect, &times) {
                        Flow::Stop
                    } else {
                        Flow::Continue
                    }
                },
            );
            dialect_format(outcome.dialect)
        }
        BodyShape::Cef => {
            let (header, extension) = cef::scan_header(line, scan.body, &mut errors);
            signature_id = header.signature_id;
            if let Some(extension) = extension {
                cef::tokenize_extension(line, extension, &mut errors, |pair| {
                    let key = key::classify(line, pair.key_start(), pair.key_end());
                    if key == KnownKey::Other {
                        return true;
                    }
                    let value =
                        Value::new(&line[pair.value_start()..pair.value_end()], pair.style());
                    if !times.offer(key, value, pair.value_start()) {
                        found.offer(key, value);
                    }
                    !found.has_all(CEF_FIELDS, &times)
                });
            }
            BodyFormat::Cef
        }
        BodyShape::Other => BodyFormat::Other,
    };
    peek_result(format, &scan, found, signature_id, &times, context, errors)
}

/// Resolves the event time and assembles the fast-path result.
#[inline(always)]
fn peek_result<'a>(
    format: BodyFormat,
    scan: &header::Scan<'a>,
    found: PeekFields<'a>,
    signature_id: Option<Value<'a>>,
    times: &TimeFields<'a>,
    context: &Context,
    mut errors: Errors,
) -> Peek<'a> {
    let time = resolve_time(times, format, scan, None, context, &mut errors);
    Peek {
        format,
        pri: scan.pri,
        hostname: scan.header.hostname,
        devname: found.devname,
        devid: found.devid,
        logid: found.logid,
        log_type: found.log_type,
        subtype: found.subtype,
        typeid: found.typeid,
        status: found.status,
        category: found.category,
        signature_id,
        time,
        errors,
    }
}

/// Picks the event time: `eventtime`, then `date`+`time` (with `tz`, an offset glued to
/// `time`, or the default zone), then the header time, then the receive time. When `header`
/// is given, also stores the resolved header time in it.
#[inline(always)]
fn resolve_time(
    times: &TimeFields<'_>,
    format: BodyFormat,
    scan: &header::Scan<'_>,
    header: Option<&mut Header<'_>>,
    context: &Context,
    errors: &mut Errors,
) -> EventTime {
    // Most fast-path lines end here: a valid `eventtime` and no header to fill.
    if let (None, Some((Some(unix_nanos), _))) = (&header, times.eventtime) {
        return EventTime {
            unix_nanos,
            source: TimeSource::Eventtime,
        };
    }
    resolve_time_in_full(times, format, scan, header, context, errors)
}

/// Runs every step of [`resolve_time`].
fn resolve_time_in_full(
    times: &TimeFields<'_>,
    format: BodyFormat,
    scan: &header::Scan<'_>,
    header: Option<&mut Header<'_>>,
    context: &Context,
    errors: &mut Errors,
) -> EventTime {
    // The full parse reports the header time even when the body has a better one. The fast
    // path resolves it only when it becomes the event time.
    let fill_header = header.is_some();
    let mut header_time = None;
    if let Some(header) = header {
        header_time = resolve_header_time(format, scan, context, errors);
        if let Some((unix_nanos, has_offset)) = header_time {
            header.timestamp = Some(unix_nanos);
            header.timestamp_has_offset = has_offset;
        }
    }
    if let Some((unix_nanos, offset)) = times.eventtime {
        match unix_nanos {
            Some(unix_nanos) => {
                return EventTime {
                    unix_nanos,
                    source: TimeSource::Eventtime,
                }
            }
            None => errors.push(ErrorKind::InvalidEventtime, offset),
        }
    }
    if let Some(event_time) = date_time(times, context, errors) {
        return event_time;
    }
    if !fill_header {
        header_time = resolve_header_time(format, scan, context, errors);
    }
    if let Some((unix_nanos, has_offset)) = header_time {
        let zone_known = has_offset || is_fortiauthenticator(format);
        return EventTime {
            unix_nanos,
            source: if zone_known {
                TimeSource::Header
            } else {
                TimeSource::HeaderDefaultZone
            },
        };
    }
    EventTime {
        unix_nanos: context.receive_time,
        source: TimeSource::ReceiveTime,
    }
}

fn is_fortiauthenticator(format: BodyFormat) -> bool {
    matches!(
        format,
        BodyFormat::FortiAuthenticator | BodyFormat::FortiAuthenticatorExport
    )
}

/// Resolves the header time; returns nanoseconds and whether the header wrote an offset.
fn resolve_header_time(
    format: BodyFormat,
    scan: &header::Scan<'_>,
    context: &Context,
    errors: &mut Errors,
) -> Option<(i64, bool)> {
    // FortiAuthenticator logs in UTC, so its header times without offset are UTC.
    let default_offset = if is_fortiauthenticator(format) {
        0
    } else {
        context.default_offset
    };
    // The scan found no header time, so there is nothing to report.
    scan.time?;
    let resolved = match scan.header_time() {
        None => None,
        Some(HeaderTime::Full { civil, offset }) => civil
            .to_unix_nanos(offset.unwrap_or(default_offset))
            .map(|nanos| (nanos, offset.is_some())),
        Some(HeaderTime::YearLess(bsd)) => {
            time::infer_year(bsd, default_offset, context.receive_time).map(|nanos| (nanos, false))
        }
    };
    if resolved.is_none() {
        errors.push(ErrorKind::InvalidTimestamp, scan.time_at);
    }
    resolved
}

/// Reads `date` and `time` (FortiOS, FortiAuthenticator export) with their zone.
fn date_time(times: &TimeFields<'_>, context: &Context, errors: &mut Errors) -> Option<EventTime> {
    let (date, date_at) = times.date?;
    let Some((year, month, day)) = time::parse_date(date.raw()) else {
        if !date.is_empty() {
            errors.push(ErrorKind::InvalidDate, date_at);
        }
        return None;
    };
    let Some((time_value, time_at)) = times.time else {
        errors.push(ErrorKind::InvalidTime, date_at);
        return None;
    };
    let Some((hour, minute, second, nanos, rest)) = time::parse_time(time_value.raw()) else {
        errors.push(ErrorKind::InvalidTime, time_at);
        return None;
    };
    let mut source = TimeSource::DateTimeTz;
    let offset = if !rest.is_empty() {
        match time::parse_offset(rest) {
            Some(offset) => offset,
            None => {
                errors.push(ErrorKind::InvalidTimezone, time_at + 8);
                source = TimeSource::DateTimeDefaultZone;
                context.default_offset
            }
        }
    } else {
        match times.tz {
            Some((tz, tz_at)) => match time::parse_offset(tz.raw()) {
                Some(offset) => offset,
                None => {
                    errors.push(ErrorKind::InvalidTimezone, tz_at);
                    source = TimeSource::DateTimeDefaultZone;
                    context.default_offset
                }
            },
            None => {
                source = TimeSource::DateTimeDefaultZone;
                context.default_offset
            }
        }
    };
    let civil = time::Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    match civil.to_unix_nanos(offset) {
        Some(unix_nanos) => Some(EventTime { unix_nanos, source }),
        None => {
            errors.push(ErrorKind::InvalidDate, date_at);
            None
        }
    }
}
