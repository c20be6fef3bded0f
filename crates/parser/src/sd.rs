//! RFC 5424 structured data, read lazily from the raw `[id name="value" …]…` text.

use crate::value::{Value, ValueStyle};

/// Iterator over the elements of RFC 5424 structured data.
#[derive(Debug, Clone)]
pub struct SdElements<'a> {
    rest: &'a [u8],
}

impl<'a> SdElements<'a> {
    /// Reads `raw`, the structured data as written (brackets included).
    pub fn new(raw: &'a [u8]) -> Self {
        SdElements { rest: raw }
    }
}

/// One `[id name="value" …]` element.
#[derive(Debug, Clone)]
pub struct SdElement<'a> {
    /// SD-ID, such as `timeQuality` or `meta@32473`.
    pub id: Value<'a>,
    params: &'a [u8],
}

impl<'a> SdElement<'a> {
    /// Returns an iterator over the `name="value"` parameters of the element.
    pub fn params(&self) -> SdParams<'a> {
        SdParams { rest: self.params }
    }
}

impl<'a> Iterator for SdElements<'a> {
    type Item = SdElement<'a>;

    fn next(&mut self) -> Option<SdElement<'a>> {
        let rest = self.rest.strip_prefix(b"[")?;
        let end = element_end(rest);
        let body = &rest[..end];
        self.rest = rest.get(end + 1..).unwrap_or(&[]);
        let id_end = body
            .iter()
            .position(|&byte| byte == b' ')
            .unwrap_or(body.len());
        Some(SdElement {
            id: Value::new(&body[..id_end], ValueStyle::Bare),
            params: &body[id_end..],
        })
    }
}

/// Returns the offset of the `]` that closes the element, or the length when it is missing.
fn element_end(rest: &[u8]) -> usize {
    let mut in_quotes = false;
    let mut at = 0;
    while at < rest.len() {
        match rest[at] {
            b'\\' if in_quotes => at += 1,
            b'"' => in_quotes = !in_quotes,
            b']' if !in_quotes => return at,
            _ => {}
        }
        at += 1;
    }
    rest.len()
}

/// Iterator over the parameters of one structured-data element.
#[derive(Debug, Clone)]
pub struct SdParams<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SdParams<'a> {
    type Item = (Value<'a>, Value<'a>);

    fn next(&mut self) -> Option<(Value<'a>, Value<'a>)> {
        let start = self.rest.iter().position(|&byte| byte != b' ')?;
        let rest = &self.rest[start..];
        let equals = memchr::memchr(b'=', rest)?;
        let name = Value::new(&rest[..equals], ValueStyle::Bare);
        let after = &rest[equals + 1..];
        let Some(quoted) = after.strip_prefix(b"\"") else {
            self.rest = &[];
            return None;
        };
        let mut at = 0;
        while at < quoted.len() && quoted[at] != b'"' {
            at += if quoted[at] == b'\\' { 2 } else { 1 };
        }
        let end = at.min(quoted.len());
        self.rest = quoted.get(end + 1..).unwrap_or(&[]);
        Some((name, Value::new(&quoted[..end], ValueStyle::SdParam)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_params() {
        let raw = br#"[meta x="a\]b" y="c"][two][t z="q\"r"]"#;
        let elements: Vec<(String, Vec<(String, String)>)> = SdElements::new(raw)
            .map(|element| {
                let params = element
                    .params()
                    .map(|(name, value)| (name.as_str().into_owned(), value.as_str().into_owned()))
                    .collect();
                (element.id.as_str().into_owned(), params)
            })
            .collect();
        assert_eq!(elements.len(), 3);
        assert_eq!(elements[0].0, "meta");
        assert_eq!(
            elements[0].1,
            vec![("x".into(), "a]b".into()), ("y".into(), "c".into())]
        );
        assert_eq!(elements[1], ("two".into(), vec![]));
        assert_eq!(elements[2].1, vec![("z".into(), "q\"r".into())]);
    }

    #[test]
    fn broken_input_ends() {
        assert_eq!(SdElements::new(b"[x a=\"1").count(), 1);
        assert_eq!(
            SdElements::new(b"[x a=1]")
                .flat_map(|e| e.params().collect::<Vec<_>>())
                .count(),
            0
        );
        assert_eq!(SdElements::new(b"x").count(), 0);
    }
}
