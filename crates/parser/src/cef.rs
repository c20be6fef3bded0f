//! CEF bodies: `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|
//! Severity|Extension` (ArcSight CEF specification), in both the `CEF:0|` and the FortiOS
//! 6.0.3+ `CEF: 0|` spelling. Header fields escape `|` and `\`. Extension values are not
//! quoted, may contain spaces and escape `=` and `\`, so a value runs up to the space before
//! the next `key=` whose `=` is not escaped.

use memchr::memchr;

use crate::error::{ErrorKind, Errors};
use crate::kv::Pair;
use crate::value::{Value, ValueStyle};

/// The seven header fields of a CEF body. Fields missing from a cut header are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CefHeader<'a> {
    /// CEF format version (`0`).
    pub version: Option<Value<'a>>,
    /// Device vendor (`Fortinet`).
    pub device_vendor: Option<Value<'a>>,
    /// Device product (`Fortigate`).
    pub device_product: Option<Value<'a>>,
    /// Device version (`v6.0.3`).
    pub device_version: Option<Value<'a>>,
    /// Signature id; FortiOS writes the last five digits of the log id.
    pub signature_id: Option<Value<'a>>,
    /// Event name; FortiOS writes `type:subtype` plus event type, action and status.
    pub name: Option<Value<'a>>,
    /// Severity; FortiOS writes its level reversed (alert 7, notice 3, information 2).
    pub severity: Option<Value<'a>>,
}

/// Reads the CEF header starting at `start` (at `CEF:`). Returns the header and the offset
/// of the extension, or `None` as offset when the header has fewer than seven fields.
pub(crate) fn scan_header<'a>(
    line: &'a [u8],
    start: usize,
    errors: &mut Errors,
) -> (CefHeader<'a>, Option<usize>) {
    let mut header = CefHeader::default();
    let mut at = start + 4;
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    for index in 0..7 {
        let Some(end) = header_field_end(line, at) else {
            // The last field present runs to the end of the line.
            if at < line.len() {
                set_header_field(&mut header, index, &line[at..]);
            }
            errors.push(ErrorKind::InvalidCefHeader, start);
            return (header, None);
        };
        set_header_field(&mut header, index, &line[at..end]);
        at = end + 1;
    }
    (header, Some(at))
}

fn set_header_field<'a>(header: &mut CefHeader<'a>, index: usize, raw: &'a [u8]) {
    let value = Some(Value::new(raw, ValueStyle::CefHeader));
    match index {
        0 => header.version = value,
        1 => header.device_vendor = value,
        2 => header.device_product = value,
        3 => header.device_version = value,
        4 => header.signature_id = value,
        5 => header.name = value,
        _ => header.severity = value,
    }
}

/// Returns the offset of the next `|` not escaped by a backslash.
fn header_field_end(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let found = at + memchr::memchr2(b'|', b'\\', line.get(at..)?)?;
        if line[found] == b'|' {
            return Some(found);
        }
        at = found + 2;
    }
}

/// Returns the offset of the next `=` that is not escaped, starting at `from`.
fn unescaped_equals(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let found = at + memchr(b'=', line.get(at..)?)?;
        let backslashes = line[..found]
            .iter()
            .rev()
            .take_while(|&&byte| byte == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(found);
        }
        at = found + 1;
    }
}

fn is_cef_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'[' | b']')
}

/// Returns the start of the key that ends at `equals`, if the bytes before it form a key
/// preceded by a space (or by `from`, for the first pair).
fn key_start(line: &[u8], from: usize, equals: usize) -> Option<usize> {
    let mut at = equals;
    while at > from && is_cef_key_byte(line[at - 1]) {
        at -= 1;
    }
    (at < equals && (at == from || line[at - 1] == b' ')).then_some(at)
}

/// Tokenises the extension starting at `start`, calling `emit` for each pair.
pub(crate) fn tokenize_extension<F>(line: &[u8], start: usize, errors: &mut Errors, mut emit: F)
where
    F: FnMut(Pair) -> bool,
{
    let mut from = start;
    while line.get(from) == Some(&b' ') {
        from += 1;
    }
    // Find the first key.
    let mut current: Option<(usize, usize)> = None;
    let mut search = from;
    while let Some(equals) = unescaped_equals(line, search) {
        if let Some(key) = key_start(line, from, equals) {
            if key > from {
                errors.push(ErrorKind::StrayText, from);
            }
            current = Some((key, equals));
            break;
        }
        search = equals + 1;
    }
    let Some((mut key, mut equals)) = current else {
        if from < line.len() {
            errors.push(ErrorKind::StrayText, from);
        }
        return;
    };
    loop {
        let value_start = equals + 1;
        let mut search = value_start;
        let next = loop {
            match unescaped_equals(line, search) {
                Some(next_equals) => match key_start(line, value_start, next_equals) {
                    Some(next_key) if next_key > value_start => {
                        break Some((next_key, next_equals))
                    }
                    _ => search = next_equals + 1,
                },
                None => break None,
            }
        };
        let value_end = match next {
            Some((next_key, _)) => next_key - 1,
            None => line.len(),
        };
        let mut trimmed_end = value_end;
        while trimmed_end > value_start && line[trimmed_end - 1] == b' ' {
            trimmed_end -= 1;
        }
        let pair = Pair::new(
            key,
            equals,
            value_start,
            trimmed_end,
            ValueStyle::CefExtension,
        );
        if !emit(pair) {
            return;
        }
        match next {
            Some((next_key, next_equals)) => {
                key = next_key;
                equals = next_equals;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(text: &str) -> Vec<(String, String)> {
        let mut errors = Errors::default();
        let mut out = Vec::new();
        let line = text.as_bytes();
        tokenize_extension(line, 0, &mut errors, |pair| {
            let key = &line[pair.key_start()..pair.key_end()];
            let value = Value::new(&line[pair.value_start()..pair.value_end()], pair.style());
            out.push((
                String::from_utf8_lossy(key).into_owned(),
                value.as_str().into_owned(),
            ));
            true
        });
        out
    }

    #[test]
    fn values_with_spaces() {
        let got = extension(
            "msg=Admin login failed from https(1.2.3.4) act=login FTNTFGTdstcountry=United States",
        );
        assert_eq!(
            got[0],
            (
                "msg".into(),
                "Admin login failed from https(1.2.3.4)".into()
            )
        );
        assert_eq!(got[1], ("act".into(), "login".into()));
        assert_eq!(got[2], ("FTNTFGTdstcountry".into(), "United States".into()));
    }

    #[test]
    fn escaped_equals_stays_in_value() {
        let got = extension(r"request=/a?b\=c e=1 path=C:\\dir x=2");
        assert_eq!(got[0], ("request".into(), "/a?b=c".into()));
        assert_eq!(got[1], ("e".into(), "1".into()));
        assert_eq!(got[2], ("path".into(), "C:\\dir".into()));
        assert_eq!(got[3], ("x".into(), "2".into()));
    }

    #[test]
    fn header_both_spellings() {
        for line in [
            &b"CEF:0|Fortinet|Fortigate|v5.6.0|37127|event:vpn|3|a=1"[..],
            b"CEF: 0|Fortinet|Fortigate|v6.0.3|32002|event:system login failed|7|a=1",
        ] {
            let mut errors = Errors::default();
            let (header, extension) = scan_header(line, 0, &mut errors);
            assert!(errors.is_empty());
            assert_eq!(header.version.map(|value| value.raw()), Some(&b"0"[..]));
            assert_eq!(
                header.device_product.map(|value| value.raw()),
                Some(&b"Fortigate"[..])
            );
            assert_eq!(extension.map(|at| &line[at..]), Some(&b"a=1"[..]));
        }
    }

    #[test]
    fn short_header_is_error() {
        let mut errors = Errors::default();
        let (header, extension) = scan_header(b"CEF:0|Fortinet|Fortigate", 0, &mut errors);
        assert_eq!(extension, None);
        assert_eq!(
            header.device_product.map(|value| value.raw()),
            Some(&b"Fortigate"[..])
        );
        assert_eq!(errors.as_slice()[0].kind, ErrorKind::InvalidCefHeader);
    }
}
