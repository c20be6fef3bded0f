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
const EVENTTIM: u64 = head(b"eventtime");
const FTNTFGTL: u64 = head(b"FTNTFGTlogid");
const FTNTFGTE: u64 = head(b"FTNTFGTeventtime");
const DEVICEEX: u64 = head(b"deviceExternalId");

/// Recognises the key `line[start..end]`.
#[inline(always)]
pub(crate) fn classify(line: &[u8], start: usize, end: usize) -> KnownKey {
    let len = end - start;
    if !(2..=16).contains(&len) {
        return KnownKey::Other;
    }
    // A key is followed by `=` and its value, so eight bytes from its start are nearly always
    // in the line; the bytes past the key are masked off.
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
        9 if word == EVENTTIM && tail == b"e" => KnownKey::Eventtime,
        12 if word == FTNTFGTL && tail == b"ogid" => KnownKey::CefLogid,
        16 if word == FTNTFGTE && tail == b"venttime" => KnownKey::CefEventtime,
        16 if word == DEVICEEX && tail == b"ternalId" => KnownKey::CefDevid,
        _ => KnownKey::Other,
    }
}

/// A `name=` the tokenizer expects next, packed for two word compares.
#[derive(Debug, Clone, Copy)]
struct Expected {
    /// The first eight bytes of `name=` (fewer, zero-padded, if shorter).
    head: u64,
    head_mask: u64,
    /// Bytes 8 to 15 of `name=`, zero-padded.
    tail: u64,
    tail_mask: u64,
    /// Length of the name, without the `=`.
    name_len: usize,
    key: KnownKey,
}

/// Returns a mask of the low `count` bytes of a word (all of them from 8 on).
const fn low_bytes(count: usize) -> u64 {
    if count >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * count)) - 1
    }
}

const fn expected(name_and_equals: &[u8], key: KnownKey) -> Expected {
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
    }
}

const DATE_EQ: [Expected; 1] = [expected(b"date=", KnownKey::Date)];
const TIME_EQ: [Expected; 1] = [expected(b"time=", KnownKey::Time)];
const DEVNAME_EQ: [Expected; 1] = [expected(b"devname=", KnownKey::Devname)];
const DEVID_EQ: [Expected; 1] = [expected(b"devid=", KnownKey::Devid)];
const EVENTTIME_OR_LOGID_EQ: [Expected; 2] = [
    expected(b"eventtime=", KnownKey::Eventtime),
    expected(b"logid=", KnownKey::Logid),
];
const TZ_EQ: [Expected; 1] = [expected(b"tz=", KnownKey::Tz)];
const LOGID_EQ: [Expected; 1] = [expected(b"logid=", KnownKey::Logid)];
const TYPE_EQ: [Expected; 1] = [expected(b"type=", KnownKey::Type)];
const SUBTYPE_EQ: [Expected; 1] = [expected(b"subtype=", KnownKey::Subtype)];

/// Recognises the key at `at` when it is one that usually follows `previous` in a FortiOS
/// line, and returns the offset of its end (the `=`) with its name. `previous` is `None` at
/// the start of the body.
///
/// FortiOS writes a log line's first fields in a fixed order: `date time devname devid`,
/// then `eventtime tz logid type subtype` (FortiOS 6.4 and later) or `logid type subtype`
/// (earlier), as in the examples of the FortiOS Log Message Reference. Comparing the bytes
/// at `at` with the expected `name=` costs two word compares, and a match proves where the
/// key ends, so the tokenizer skips both the key scan and [`classify`]. Any other line
/// falls back to them.
#[inline(always)]
pub(crate) fn predicted(
    line: &[u8],
    at: usize,
    previous: Option<KnownKey>,
) -> Option<(usize, KnownKey)> {
    let candidates: &[Expected] = match previous {
        None => &DATE_EQ,
        Some(KnownKey::Date) => &TIME_EQ,
        Some(KnownKey::Time) => &DEVNAME_EQ,
        Some(KnownKey::Devname) => &DEVID_EQ,
        Some(KnownKey::Devid) => &EVENTTIME_OR_LOGID_EQ,
        Some(KnownKey::Eventtime) => &TZ_EQ,
        Some(KnownKey::Tz) => &LOGID_EQ,
        Some(KnownKey::Logid) => &TYPE_EQ,
        Some(KnownKey::Type) => &SUBTYPE_EQ,
        _ => return None,
    };
    let window = line.get(at..at + 16)?;
    let (first, second) = window.split_at(8);
    let first = u64::from_le_bytes(first.try_into().ok()?);
    let second = u64::from_le_bytes(second.try_into().ok()?);
    candidates
        .iter()
        .find(|name| first & name.head_mask == name.head && second & name.tail_mask == name.tail)
        .map(|name| (at + name.name_len, name.key))
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

    #[test]
    fn predicted_names_classify_alike() {
        let tables: [&[Expected]; 9] = [
            &DATE_EQ,
            &TIME_EQ,
            &DEVNAME_EQ,
            &DEVID_EQ,
            &EVENTTIME_OR_LOGID_EQ,
            &TZ_EQ,
            &LOGID_EQ,
            &TYPE_EQ,
            &SUBTYPE_EQ,
        ];
        for name in tables.into_iter().flatten() {
            let text = format!("{:?}", name.key).to_lowercase();
            let line = format!("{text}=\"a long enough value\"");
            let line = line.as_bytes();
            assert_eq!(classify(line, 0, name.name_len), name.key, "{text}");
            assert_eq!(line[name.name_len], b'=', "{text}");
        }
    }

    #[test]
    fn predicted_follows_fortios_order() {
        let line = b"date=2024-05-13 devid=x eventtime=1 logid=2 typex=3 type=4 tz";
        assert_eq!(predicted(line, 0, None), Some((4, KnownKey::Date)));
        assert_eq!(predicted(line, 0, Some(KnownKey::Time)), None);
        assert_eq!(
            predicted(line, 16, Some(KnownKey::Devname)),
            Some((21, KnownKey::Devid))
        );
        assert_eq!(
            predicted(line, 24, Some(KnownKey::Devid)),
            Some((33, KnownKey::Eventtime))
        );
        assert_eq!(
            predicted(line, 36, Some(KnownKey::Devid)),
            Some((41, KnownKey::Logid))
        );
        // `typex=` is not `type=`, and `type=4 tz` is too close to the end for the window.
        assert_eq!(predicted(line, 44, Some(KnownKey::Logid)), None);
        assert_eq!(predicted(line, 52, Some(KnownKey::Logid)), None);
        assert_eq!(predicted(line, 0, Some(KnownKey::Other)), None);
    }

    #[test]
    fn classify_key_inside_line() {
        let line = b"a=1 devid=FG1 x";
        assert_eq!(classify(line, 4, 9), KnownKey::Devid);
        assert_eq!(classify(line, 11, 13), KnownKey::Other);
        assert_eq!(classify(b"x tz", 2, 4), KnownKey::Tz);
    }
}
