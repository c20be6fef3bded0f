//! Recognition of the field names the parser acts on: the event-time fields, the fast path's
//! class and identity fields and the names that decide the dialect of a key=value body.
//!
//! Every field of a line passes through here on the fast path, so a name is recognised with
//! one dispatch on its length and one integer compare of its first eight bytes, rather than
//! a chain of slice compares.

/// A field name the parser acts on, or [`KnownKey::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KnownKey {
    /// Any name not listed below.
    Other,
    /// FortiOS `date`.
    Date,
    /// FortiOS `time`.
    Time,
    /// FortiOS `tz`.
    Tz,
    /// FortiOS `eventtime`.
    Eventtime,
    /// CEF `FTNTFGTeventtime`.
    CefEventtime,
    /// FortiOS `devname`.
    Devname,
    /// FortiOS `devid`.
    Devid,
    /// CEF `deviceExternalId`, the FortiOS `devid`.
    CefDevid,
    /// `logid`.
    Logid,
    /// CEF `FTNTFGTlogid`.
    CefLogid,
    /// FortiOS `type`.
    Type,
    /// FortiOS `subtype`.
    Subtype,
    /// FortiAuthenticator syslog `typeid`.
    Typeid,
    /// `status`.
    Status,
    /// FortiAuthenticator syslog `category`.
    Category,
    /// FortiAuthenticator export and CEF `cat`.
    Cat,
    /// FortiAuthenticator export `oid`.
    Oid,
    /// FortiAuthenticator export `subcat`.
    Subcat,
    /// FortiOS `vd`.
    Vd,
    /// FortiOS `logver`.
    Logver,
    /// FortiOS `logdesc`.
    Logdesc,
}

/// Packs the first eight bytes of `name` (fewer if shorter, zero-padded) into a little-endian
/// word, the form [`classify`] compares.
const fn head(name: &[u8]) -> u64 {
    let mut word = 0u64;
    let mut index = 0;
    while index < name.len() && index < 8 {
        word |= (name[index] as u64) << (8 * index);
        index += 1;
    }
    word
}

const TZ: u64 = head(b"tz");
const VD: u64 = head(b"vd");
const CAT: u64 = head(b"cat");
const OID: u64 = head(b"oid");
const DATE: u64 = head(b"date");
const TIME: u64 = head(b"time");
const TYPE: u64 = head(b"type");
const DEVID: u64 = head(b"devid");
const LOGID: u64 = head(b"logid");
const TYPEID: u64 = head(b"typeid");
const STATUS: u64 = head(b"status");
const SUBCAT: u64 = head(b"subcat");
const LOGVER: u64 = head(b"logver");
const DEVNAME: u64 = head(b"devname");
const SUBTYPE: u64 = head(b"subtype");
const LOGDESC: u64 = head(b"logdesc");
const CATEGORY: u64 = head(b"category");
const EVENTTIME_HEAD: u64 = head(b"eventtime");
const CEF_LOGID_HEAD: u64 = head(b"FTNTFGTlogid");
const CEF_EVENTTIME_HEAD: u64 = head(b"FTNTFGTeventtime");
const CEF_DEVID_HEAD: u64 = head(b"deviceExternalId");

/// Recognises the key `line[start..end]`.
#[inline(always)]
pub(crate) fn classify(line: &[u8], start: usize, end: usize) -> KnownKey {
    let len = end - start;
    if !(2..=16).contains(&len) {
        return KnownKey::Other;
    }
    // A key is followed by `=` and its value, so eight bytes from its start are nearly always
    // in the line. The bytes past the key are masked off.
    let word = match line.get(start..start + 8) {
        Some(bytes) => {
            let mut array = [0u8; 8];
            array.copy_from_slice(bytes);
            let word = u64::from_le_bytes(array);
            if len < 8 {
                word & (u64::MAX >> (64 - 8 * len))
            } else {
                word
            }
        }
        None => head(&line[start..end]),
    };
    let tail = line.get(start + 8..end).unwrap_or_default();
    match len {
        2 => match word {
            TZ => KnownKey::Tz,
            VD => KnownKey::Vd,
            _ => KnownKey::Other,
        },
        3 => match word {
            CAT => KnownKey::Cat,
            OID => KnownKey::Oid,
            _ => KnownKey::Other,
        },
        4 => match word {
            DATE => KnownKey::Date,
            TIME => KnownKey::Time,
            TYPE => KnownKey::Type,
            _ => KnownKey::Other,
        },
        5 => match word {
            DEVID => KnownKey::Devid,
            LOGID => KnownKey::Logid,
            _ => KnownKey::Other,
        },
        6 => match word {
            TYPEID => KnownKey::Typeid,
            STATUS => KnownKey::Status,
            SUBCAT => KnownKey::Subcat,
            LOGVER => KnownKey::Logver,
            _ => KnownKey::Other,
        },
        7 => match word {
            DEVNAME => KnownKey::Devname,
            SUBTYPE => KnownKey::Subtype,
            LOGDESC => KnownKey::Logdesc,
            _ => KnownKey::Other,
        },
        8 if word == CATEGORY => KnownKey::Category,
        9 if word == EVENTTIME_HEAD && tail == b"e" => KnownKey::Eventtime,
        12 if word == CEF_LOGID_HEAD && tail == b"ogid" => KnownKey::CefLogid,
        16 if word == CEF_EVENTTIME_HEAD && tail == b"venttime" => KnownKey::CefEventtime,
        16 if word == CEF_DEVID_HEAD && tail == b"ternalId" => KnownKey::CefDevid,
        _ => KnownKey::Other,
    }
}

/// Recognises the key `line[start..end]` like [`classify`] when its length is that of a time
/// field (`tz`, `date`, `time`, `eventtime`, `FTNTFGTeventtime`), and returns
/// [`KnownKey::Other`] for every other length without reading the key.
#[inline(always)]
pub(crate) fn classify_time_field(line: &[u8], start: usize, end: usize) -> KnownKey {
    match end - start {
        2 | 4 | 9 | 16 => classify(line, start, end),
        _ => KnownKey::Other,
    }
}

/// A `name=` the tokenizer expects at the next key, packed for two word compares, with the
/// name expected after it.
#[derive(Debug)]
pub(crate) struct Expected {
    /// The first eight bytes of `name=` (fewer, zero-padded, if shorter).
    head: u64,
    head_mask: u64,
    /// Bytes 8 to 15 of `name=`, zero-padded.
    tail: u64,
    tail_mask: u64,
    /// Length of the name, without the `=`.
    name_len: usize,
    key: KnownKey,
    /// Another name to try at the same place when this one does not match.
    alternative: Option<&'static Expected>,
    /// The name expected after this one.
    next: Option<&'static Expected>,
}

/// Returns the sixteen bytes at `at` as two little-endian words, or `None` when fewer remain.
#[inline(always)]
fn words_at(line: &[u8], at: usize) -> Option<(u64, u64)> {
    let window: &[u8; 16] = line.get(at..)?.first_chunk()?;
    let first = u64::from_le_bytes(*window.first_chunk()?);
    let second = u64::from_le_bytes(*window.last_chunk()?);
    Some((first, second))
}

/// Returns a mask of the low `count` bytes of a word (all of them from 8 on).
const fn low_bytes(count: usize) -> u64 {
    if count >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * count)) - 1
    }
}

const fn expected(
    name_and_equals: &[u8],
    key: KnownKey,
    alternative: Option<&'static Expected>,
    next: Option<&'static Expected>,
) -> Expected {
    let len = name_and_equals.len();
    let mut tail = 0u64;
    let mut index = 8;
    while index < len {
        tail |= (name_and_equals[index] as u64) << (8 * (index - 8));
        index += 1;
    }
    Expected {
        head: head(name_and_equals),
        head_mask: low_bytes(len),
        tail,
        tail_mask: if len > 8 { low_bytes(len - 8) } else { 0 },
        name_len: len - 1,
        key,
        alternative,
        next,
    }
}

/// The names a FortiOS line usually starts with, in order: `date time devname devid`, then
/// either `eventtime tz logid type subtype` (the generated mix) or `logid type subtype`
/// (the FortiGate samples under `fixtures/samples`, which write `eventtime tz` after `vd`).
/// Other orders occur, so a line that leaves this chain only goes back to the key scan; no
/// result depends on the order.
pub(crate) static FORTIOS_FIRST: Expected =
    expected(b"date=", KnownKey::Date, None, Some(&TIME_EQ));
pub(crate) static TIME_EQ: Expected = expected(b"time=", KnownKey::Time, None, Some(&DEVNAME_EQ));
pub(crate) static DEVNAME_EQ: Expected =
    expected(b"devname=", KnownKey::Devname, None, Some(&DEVID_EQ));
pub(crate) static DEVID_EQ: Expected =
    expected(b"devid=", KnownKey::Devid, None, Some(&EVENTTIME_EQ));
pub(crate) static EVENTTIME_EQ: Expected = expected(
    b"eventtime=",
    KnownKey::Eventtime,
    Some(&LOGID_EQ),
    Some(&TZ_EQ),
);
pub(crate) static TZ_EQ: Expected = expected(b"tz=", KnownKey::Tz, None, Some(&LOGID_EQ));
pub(crate) static LOGID_EQ: Expected = expected(b"logid=", KnownKey::Logid, None, Some(&TYPE_EQ));
pub(crate) static TYPE_EQ: Expected = expected(b"type=", KnownKey::Type, None, Some(&SUBTYPE_EQ));
pub(crate) static SUBTYPE_EQ: Expected = expected(b"subtype=", KnownKey::Subtype, None, None);

impl Expected {
    /// Returns the name, this one or its alternative, that `line` has at `at` followed by
    /// `=`. A match proves where the key ends, so the tokenizer can skip both the key scan
    /// and [`classify`], and `None` sends it back to them. It reads sixteen bytes from `at`,
    /// so it returns `None` closer than that to the end of the line.
    #[inline(always)]
    pub(crate) fn find_at(&'static self, line: &[u8], at: usize) -> Option<&'static Expected> {
        let (first, second) = words_at(line, at)?;
        if self.matches(first, second) {
            return Some(self);
        }
        self.alternative
            .filter(|alternative| alternative.matches(first, second))
    }

    /// True when `line` has this name, not its alternative, at `at` followed by `=`. Like
    /// [`Expected::find_at`], it returns false closer than sixteen bytes to the end of the line.
    #[inline(always)]
    pub(crate) fn is_at(&self, line: &[u8], at: usize) -> bool {
        words_at(line, at).is_some_and(|(first, second)| self.matches(first, second))
    }

    #[inline(always)]
    fn matches(&self, first: u64, second: u64) -> bool {
        first & self.head_mask == self.head && second & self.tail_mask == self.tail
    }

    /// Returns the length of the name, without the `=`.
    pub(crate) fn name_len(&self) -> usize {
        self.name_len
    }

    /// Returns the name.
    pub(crate) fn key(&self) -> KnownKey {
        self.key
    }

    /// Returns the name expected after this one.
    pub(crate) fn next(&self) -> Option<&'static Expected> {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [(&str, KnownKey); 21] = [
        ("tz", KnownKey::Tz),
        ("vd", KnownKey::Vd),
        ("cat", KnownKey::Cat),
        ("oid", KnownKey::Oid),
        ("date", KnownKey::Date),
        ("time", KnownKey::Time),
        ("type", KnownKey::Type),
        ("devid", KnownKey::Devid),
        ("logid", KnownKey::Logid),
        ("typeid", KnownKey::Typeid),
        ("status", KnownKey::Status),
        ("subcat", KnownKey::Subcat),
        ("logver", KnownKey::Logver),
        ("devname", KnownKey::Devname),
        ("subtype", KnownKey::Subtype),
        ("logdesc", KnownKey::Logdesc),
        ("category", KnownKey::Category),
        ("eventtime", KnownKey::Eventtime),
        ("FTNTFGTlogid", KnownKey::CefLogid),
        ("FTNTFGTeventtime", KnownKey::CefEventtime),
        ("deviceExternalId", KnownKey::CefDevid),
    ];

    /// Classifies `key` both with a long value after it (the word load) and at the very end
    /// of the line (the short path).
    fn both_paths(key: &str) -> (KnownKey, KnownKey) {
        let long = format!("{key}=a-long-enough-value");
        let long = classify(long.as_bytes(), 0, key.len());
        let short = classify(key.as_bytes(), 0, key.len());
        (long, short)
    }

    #[test]
    fn classify_known_names() {
        for (name, expected) in NAMES {
            assert_eq!(both_paths(name), (expected, expected), "{name}");
        }
    }

    #[test]
    fn classify_near_misses() {
        for name in [
            "",
            "t",
            "tZ",
            "TZ",
            "da",
            "dat",
            "datex",
            "Date",
            "devnam",
            "devnamee",
            "eventtim",
            "eventtimes",
            "eventtimE",
            "FTNTFGTlogiD",
            "deviceExternalID",
            "logid.",
            "categor",
        ] {
            assert_eq!(
                both_paths(name),
                (KnownKey::Other, KnownKey::Other),
                "{name}"
            );
        }
    }

    /// Walks the chain of expected names from `first`, alternatives included.
    fn chain(first: &'static Expected) -> Vec<&'static Expected> {
        let mut names: Vec<&'static Expected> = Vec::new();
        let mut pending = vec![first];
        while let Some(name) = pending.pop() {
            if names.iter().any(|seen| std::ptr::eq(*seen, name)) {
                continue;
            }
            names.push(name);
            pending.extend(name.alternative);
            pending.extend(name.next);
        }
        names
    }

    #[test]
    fn expected_names_classify_alike() {
        let names = chain(&FORTIOS_FIRST);
        assert_eq!(names.len(), 9);
        for name in names {
            let text = format!("{:?}", name.key).to_lowercase();
            let line = format!("{text}=\"a long enough value\"");
            let line = line.as_bytes();
            assert_eq!(classify(line, 0, name.name_len), name.key, "{text}");
            assert_eq!(line[name.name_len], b'=', "{text}");
            assert_eq!(
                name.find_at(line, 0).map(Expected::key),
                Some(name.key),
                "{text}"
            );
        }
    }

    #[test]
    fn expected_follows_fortios_order() {
        let line = b"date=2024-05-13 devid=x eventtime=1 logid=2 typex=3 type=4 tz";
        let found = FORTIOS_FIRST.find_at(line, 0);
        assert_eq!(
            found.map(|name| (name.name_len(), name.key())),
            Some((4, KnownKey::Date))
        );
        assert!(TIME_EQ.find_at(line, 0).is_none());
        let eventtime = EVENTTIME_EQ.find_at(line, 24).map(Expected::key);
        assert_eq!(eventtime, Some(KnownKey::Eventtime));
        // `logid` is the alternative to `eventtime`, for lines that write `eventtime` later.
        let logid = EVENTTIME_EQ.find_at(line, 36).map(Expected::key);
        assert_eq!(logid, Some(KnownKey::Logid));
        assert!(TZ_EQ.find_at(line, 36).is_none());
        // `typex=` is not `type=`, and `type=4 tz` is too close to the end for the window.
        assert!(TYPE_EQ.find_at(line, 44).is_none());
        assert!(TYPE_EQ.find_at(line, 52).is_none());
    }

    #[test]
    fn classify_time_field_finds_time_names() {
        for (name, expected) in NAMES {
            let line = format!("{name}=a-long-enough-value");
            let found = classify_time_field(line.as_bytes(), 0, name.len());
            let is_time = matches!(
                expected,
                KnownKey::Tz
                    | KnownKey::Date
                    | KnownKey::Time
                    | KnownKey::Eventtime
                    | KnownKey::CefEventtime
            );
            if is_time {
                assert_eq!(found, expected, "{name}");
            } else {
                assert!(
                    matches!(found, KnownKey::Other) || found == expected,
                    "{name}: {found:?}"
                );
            }
        }
    }

    #[test]
    fn classify_key_inside_line() {
        let line = b"a=1 devid=FG1 x";
        assert_eq!(classify(line, 4, 9), KnownKey::Devid);
        assert_eq!(classify(line, 11, 13), KnownKey::Other);
        assert_eq!(classify(b"x tz", 2, 4), KnownKey::Tz);
    }
}
