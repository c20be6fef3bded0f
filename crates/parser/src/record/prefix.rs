//! The fast path's reader for the usual start of a FortiOS body, `date= time= devname= devid=`
//! then `eventtime= tz= logid= type= subtype=` or `logid= type= subtype=`.
//!
//! Most FortiOS lines contain every field the fast path returns in these first pairs, and this
//! reader takes them with fewer checks than the general tokenizer. It reads a pair only when
//! the pair is written the plain way: the expected name, a bare value or a closed FortiOS
//! quoted value, then a space or the end of the line. It also leaves to the tokenizer any pair
//! that would make the body a FortiAuthenticator export. At the first pair it does not read,
//! it stops, and the general tokenizer goes on from there with the state this reader built.
//! Both read a plain pair the same way, so the result does not depend on where they hand over.

use crate::key::{
    Expected, KnownKey, DEVID_EQ, DEVNAME_EQ, EVENTTIME_EQ, FORTIOS_FIRST, LOGID_EQ, SUBTYPE_EQ,
    TIME_EQ, TYPE_EQ, TZ_EQ,
};
use crate::kv::{self, Dialect};
use crate::value::{Value, ValueStyle};

use super::{PeekFields, TimeFields};

/// The stop point of the prefix reader and the state that the tokenizer takes over.
#[derive(Debug, Clone, Copy)]
pub(super) struct Prefix {
    /// Offset of the first pair not read.
    pub at: usize,
    /// The tokenizer's dialect after the pairs read.
    pub dialect: Dialect,
    /// The fast path's dialect, which only a `logid` decides.
    pub logid_dialect: Dialect,
    /// True when the fast path has every field it needs, so nothing more is read.
    pub complete: bool,
}

/// Reads the plain FortiOS pairs at `start` into `times` and `found`, in the order of the
/// chain of names from [`FORTIOS_FIRST`]. Each step names its key, so that storing a value
/// needs no dispatch on the key.
#[inline(always)]
pub(super) fn read_fortios_prefix<'a>(
    line: &'a [u8],
    start: usize,
    times: &mut TimeFields<'a>,
    found: &mut PeekFields<'a>,
) -> Prefix {
    let mut prefix = Prefix {
        at: start,
        dialect: Dialect::Undecided,
        logid_dialect: Dialect::Undecided,
        complete: false,
    };
    let Some(date) = plain_pair(line, prefix.at, &FORTIOS_FIRST) else {
        return prefix;
    };
    times.offer(KnownKey::Date, date.value, date.value_start);
    prefix.at = date.next;

    let Some(time) = plain_pair(line, prefix.at, &TIME_EQ) else {
        return prefix;
    };
    // `time=10:22:44+0000` makes the body a FortiAuthenticator export, which is left to the
    // tokenizer (see `kv::decide`).
    if kv::decide(KnownKey::Time, time.value.raw()) != Dialect::Undecided {
        return prefix;
    }
    times.offer(KnownKey::Time, time.value, time.value_start);
    prefix.at = time.next;

    let Some(devname) = plain_pair(line, prefix.at, &DEVNAME_EQ) else {
        return prefix;
    };
    found.offer(KnownKey::Devname, devname.value);
    // `devname` settles the tokenizer's dialect.
    prefix.dialect = Dialect::FortiOs;
    prefix.at = devname.next;

    let Some(devid) = plain_pair(line, prefix.at, &DEVID_EQ) else {
        return prefix;
    };
    found.offer(KnownKey::Devid, devid.value);
    prefix.at = devid.next;

    // The generated mix writes `eventtime tz` here. The FortiGate samples under
    // `fixtures/samples` go on with `logid` and write `eventtime` after `vd`.
    if let Some(eventtime) = plain_pair(line, prefix.at, &EVENTTIME_EQ) {
        times.offer(KnownKey::Eventtime, eventtime.value, eventtime.value_start);
        prefix.at = eventtime.next;
        let Some(tz) = plain_pair(line, prefix.at, &TZ_EQ) else {
            return prefix;
        };
        times.offer(KnownKey::Tz, tz.value, tz.value_start);
        prefix.at = tz.next;
    }

    let Some(logid) = plain_pair(line, prefix.at, &LOGID_EQ) else {
        return prefix;
    };
    // A `logid` that is not a 10-digit FortiOS log id makes the fast path look for the
    // export's fields instead, which the tokenizer handles.
    if logid.value.raw().len() != 10 {
        return prefix;
    }
    found.offer(KnownKey::Logid, logid.value);
    prefix.logid_dialect = Dialect::FortiOs;
    prefix.at = logid.next;

    let Some(log_type) = plain_pair(line, prefix.at, &TYPE_EQ) else {
        return prefix;
    };
    found.offer(KnownKey::Type, log_type.value);
    prefix.at = log_type.next;

    let Some(subtype) = plain_pair(line, prefix.at, &SUBTYPE_EQ) else {
        return prefix;
    };
    found.offer(KnownKey::Subtype, subtype.value);
    prefix.at = subtype.next;
    // Every identity and class field is known now, so only an invalid or missing `eventtime`
    // keeps the tokenizer going.
    prefix.complete = found.complete(prefix.logid_dialect, times);
    prefix
}

/// A pair read by [`plain_pair`].
struct PlainPair<'a> {
    value: Value<'a>,
    /// Offset of the value's first byte.
    value_start: usize,
    /// Offset of the next key.
    next: usize,
}

/// Reads the pair at `at` if its key is `name` and the pair is written the plain way.
#[inline(always)]
fn plain_pair<'a>(line: &'a [u8], at: usize, name: &Expected) -> Option<PlainPair<'a>> {
    if !name.is_at(line, at) {
        return None;
    }
    plain_value(line, at + name.name_len() + 1)
}

/// Reads the value that starts at `at` as the tokenizer reads it in the FortiOS dialect: a
/// closed double-quoted value or a bare one. Returns `None` when the value is not closed or is
/// followed by anything but spaces or the end of the line, cases that the tokenizer reports
/// as errors.
#[inline(always)]
fn plain_value(line: &[u8], at: usize) -> Option<PlainPair<'_>> {
    let (value, value_start, mut next) = if line.get(at) == Some(&b'"') {
        let value_start = at + 1;
        let close = kv::closing_quote(line, value_start)?;
        let value = Value::new(line.get(value_start..close)?, ValueStyle::Quoted);
        (value, value_start, close + 1)
    } else {
        let end = kv::space_from(line, at);
        (Value::new(line.get(at..end)?, ValueStyle::Bare), at, end)
    };
    match line.get(next) {
        None => {}
        Some(b' ') => {
            while line.get(next) == Some(&b' ') {
                next += 1;
            }
        }
        Some(_) => return None,
    }
    Some(PlainPair {
        value,
        value_start,
        next,
    })
}
