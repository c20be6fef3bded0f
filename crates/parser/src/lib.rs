//! Parser for the syslog stream of FortiGate and FortiAuthenticator: framing, syslog headers,
//! FortiOS / FortiAuthenticator / CEF bodies and event time, zero-copy.
//!
//! Bytes go in, records that borrow from the frame come out. Nothing in this crate panics on
//! input, and invalid UTF-8 is kept as bytes (shown lossily by [`Value::as_str`]).
//!
//! # Layers
//!
//! - **Framing** ([`FrameDecoder`], [`lines`], [`datagram`]): turns a TCP connection, a file or
//!   a UDP datagram into [`Frame`]s. The decoder takes bytes with
//!   [`push`](FrameDecoder::push) and returns frames with
//!   [`next_frame`](FrameDecoder::next_frame), whatever the read boundaries; it detects
//!   RFC 6587 octet counting per connection in [`FramingMode::Auto`].
//! - **Fast path** ([`peek`]): header, [`BodyFormat`], the class fields (`logid`, `type`,
//!   `subtype`, `typeid`, `status`, `category`, CEF signature id), the device identity
//!   (`devname`, `devid`, header host name) and the event time, tokenising only until those
//!   are found. It never allocates.
//! - **Full parse** ([`Parser::parse`]): a [`Record`] with every field as `(key, raw value)`
//!   ([`Value`] unescapes only when read), the header, CEF header, message, event time and
//!   errors. The [`Parser`] reuses its field storage, so a warmed-up parser does not allocate.
//!
//! Event time ([`EventTime`], [`TimeSource`]) comes from the first of: `eventtime` (unit by
//! digit count), `date`+`time` with `tz` or an appended offset, the syslog header (UTC for
//! FortiAuthenticator), and the receive time from the [`Context`]. The context's default
//! zone covers local times written without one.
//!
//! Problems are values ([`ParseError`]: an [`ErrorKind`] with a stable
//! [`as_str`](ErrorKind::as_str) name and a byte offset); the caller counts them per kind.
//!
//! # Example
//!
//! ```
//! use pushwatch_parser::{peek, BodyFormat, Context, FrameDecoder, FramingMode, Parser, TimeSource};
//!
//! let mut decoder = FrameDecoder::new(FramingMode::Auto, 64 * 1024);
//! decoder.push(b"<189>date=2024-05-13 time=08:42:17 devname=\"fgt-hq01\" devid=\"FG100F\" \
//!     eventtime=1715582537123456789 tz=\"+0200\" logid=\"0102043008\" type=\"event\" \
//!     subtype=\"user\" user=\"alice\" msg=\"User alice succeeded in authentication\"\n");
//! let context = Context::new(1_715_582_540_000_000_000);
//! let mut parser = Parser::new();
//! while let Some(frame) = decoder.next_frame() {
//!     // Fast path: decide whether the line matters.
//!     let quick = peek(frame.bytes, &context);
//!     assert_eq!(quick.format, BodyFormat::FortiOs);
//!     assert!(quick.logid.is_some_and(|id| id.eq_raw("0102043008")));
//!     assert_eq!(quick.time.source, TimeSource::Eventtime);
//!     // Full parse for the relevant few.
//!     let record = parser.parse(frame.bytes, &context);
//!     assert_eq!(record.pri().map(|pri| pri.severity_name()), Some("notice"));
//!     assert_eq!(record.field("user").map(|user| user.as_str()), Some("alice".into()));
//!     assert_eq!(record.time().to_datetime().to_rfc3339(), "2024-05-13T06:42:17.123456789+00:00");
//!     assert!(record.errors().is_empty());
//! }
//! ```

mod cef;
mod error;
mod framing;
mod header;
mod key;
mod kv;
mod record;
mod sd;
mod time;
mod value;

pub use cef::CefHeader;
pub use error::{ErrorKind, Errors, ParseError, MAX_ERRORS};
pub use framing::{
    clean, datagram, lines, Frame, FrameDecoder, FrameStats, FramingMode, InvalidFramingMode,
    Lines, DEFAULT_MAX_FRAME_LEN,
};
pub use header::{Header, Pri};
pub use record::{
    format_rfc3339, parse_rfc3339, peek, BodyFormat, Context, EventTime, Field, Fields, Parser,
    Peek, Record, TimeSource, MAX_PARSE_LEN,
};
pub use sd::{SdElement, SdElements, SdParams};
pub use time::parse_offset;
pub use value::{Value, ValueStyle};
