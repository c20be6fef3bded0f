//! Borrowed values and their lazy unescaping.

use std::borrow::Cow;

/// How a value was written, which decides how [`Value::as_bytes`] unescapes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    /// Read as is: unquoted tokens, free text, and FortiAuthenticator quoted values, which
    /// FortiAuthenticator writes without escapes.
    Bare,
    /// FortiOS double-quoted value (quotes not included): `\x` stands for `x`.
    Quoted,
    /// CEF extension value: `\=`, `\\`, `\n` and `\r` are escapes; other backslashes stay.
    CefExtension,
    /// CEF header field: `\|` and `\\` are escapes; other backslashes stay.
    CefHeader,
    /// RFC 5424 structured-data parameter value: `\"`, `\\` and `\]` are escapes
    /// (RFC 5424 §6.3.3); other backslashes stay.
    SdParam,
}

/// A value borrowed from the frame, unescaped only when it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
    style: ValueStyle,
}

impl<'a> Value<'a> {
    /// Wraps raw bytes written in `style`.
    pub fn new(raw: &'a [u8], style: ValueStyle) -> Self {
        Value { raw, style }
    }

    /// Returns the bytes as they appear in the frame, without the surrounding quotes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Returns how the value was written.
    pub fn style(&self) -> ValueStyle {
        self.style
    }

    /// Returns true for an empty value (`key=` or `key=""`).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Returns true when the raw bytes equal `text` (no unescaping).
    pub fn eq_raw(&self, text: &str) -> bool {
        self.raw == text.as_bytes()
    }

    /// Returns the unescaped bytes, borrowed when the value contains no backslash.
    pub fn as_bytes(&self) -> Cow<'a, [u8]> {
        let Some(first) = memchr::memchr(b'\\', self.raw) else {
            return Cow::Borrowed(self.raw);
        };
        if self.style == ValueStyle::Bare {
            return Cow::Borrowed(self.raw);
        }
        let mut out = Vec::with_capacity(self.raw.len());
        out.extend_from_slice(&self.raw[..first]);
        let mut rest = &self.raw[first..];
        while let Some(&byte) = rest.first() {
            if byte != b'\\' {
                let next = memchr::memchr(b'\\', rest).unwrap_or(rest.len());
                out.extend_from_slice(&rest[..next]);
                rest = &rest[next..];
                continue;
            }
            match rest.get(1) {
                Some(&escaped) => {
                    match unescape_pair(self.style, escaped) {
                        Some(replacement) => out.push(replacement),
                        None => out.extend_from_slice(&[b'\\', escaped]),
                    }
                    rest = &rest[2..];
                }
                None => {
                    out.push(b'\\');
                    rest = &[];
                }
            }
        }
        Cow::Owned(out)
    }

    /// Returns the unescaped value as text; invalid UTF-8 is replaced with U+FFFD.
    pub fn as_str(&self) -> Cow<'a, str> {
        match self.as_bytes() {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            Cow::Owned(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Cow::Owned(text),
                Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
            },
        }
    }
}

/// Returns the byte that `\escaped` stands for in `style`, or `None` to keep both bytes.
fn unescape_pair(style: ValueStyle, escaped: u8) -> Option<u8> {
    match (style, escaped) {
        (ValueStyle::Bare, _) => None,
        (ValueStyle::Quoted, byte) => Some(byte),
        (ValueStyle::CefExtension, b'=' | b'\\') => Some(escaped),
        (ValueStyle::CefExtension, b'n') => Some(b'\n'),
        (ValueStyle::CefExtension, b'r') => Some(b'\r'),
        (ValueStyle::CefHeader, b'|' | b'\\') => Some(escaped),
        (ValueStyle::SdParam, b'"' | b'\\' | b']') => Some(escaped),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(raw: &str, style: ValueStyle) -> String {
        Value::new(raw.as_bytes(), style).as_str().into_owned()
    }

    #[test]
    fn quoted_escapes() {
        assert_eq!(unescape(r#"a\"b"#, ValueStyle::Quoted), r#"a"b"#);
        assert_eq!(
            unescape(r"sample\\test.xls", ValueStyle::Quoted),
            r"sample\test.xls"
        );
        assert_eq!(
            unescape(r"charset\=UTF-8", ValueStyle::Quoted),
            "charset=UTF-8"
        );
        assert_eq!(unescape(r"end\", ValueStyle::Quoted), r"end\");
    }

    #[test]
    fn plain_value_is_borrowed() {
        let value = Value::new(b"plain text", ValueStyle::Quoted);
        assert!(matches!(value.as_bytes(), Cow::Borrowed(_)));
    }

    #[test]
    fn cef_escapes() {
        assert_eq!(
            unescape(r"a\=b\\c\nd", ValueStyle::CefExtension),
            "a=b\\c\nd"
        );
        assert_eq!(unescape(r"x\|y\qz", ValueStyle::CefHeader), r"x|y\qz");
        assert_eq!(unescape(r"\/path", ValueStyle::CefExtension), r"\/path");
    }

    #[test]
    fn bare_keeps_backslashes() {
        assert_eq!(unescape(r"OP-TECH\User", ValueStyle::Bare), r"OP-TECH\User");
    }

    #[test]
    fn sd_param_escapes() {
        assert_eq!(unescape(r#"a\]b\"c\d"#, ValueStyle::SdParam), r#"a]b"c\d"#);
    }

    #[test]
    fn invalid_utf8_is_lossy() {
        let value = Value::new(b"ab\xffcd", ValueStyle::Bare);
        assert_eq!(value.as_str(), "ab\u{fffd}cd");
        let escaped = Value::new(b"a\\\"\xff", ValueStyle::Quoted);
        assert_eq!(escaped.as_str(), "a\"\u{fffd}");
    }
}
