//! User-name normalisation for stitching: FortiAuthenticator logs the name as typed, so
//! `CORP\Alice`, `ldaps/alice` and `Alice@corp.example` must all become one key.

use std::borrow::Cow;

/// A normalised user name and the realm or domain prefix that was stripped from it. Both
/// borrow from the raw name when they are lower-case already, which most logged names are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedUser<'a> {
    /// Lower-case name without realm or domain prefix (and without `@domain` when requested).
    pub name: Cow<'a, str>,
    /// Lower-case realm (`realm/user`) or Windows domain (`DOMAIN\user`), when present.
    pub realm: Option<Cow<'a, str>>,
}

/// Normalises a user name: lower-cases it, strips a `realm/` or `DOMAIN\` prefix and, when
/// `strip_at_domain` is set, an `@domain` suffix. Returns `None` for an empty or null name.
pub fn normalise(raw: &str, strip_at_domain: bool) -> Option<NormalisedUser<'_>> {
    let trimmed = trim(raw);
    if is_null(trimmed) {
        return None;
    }
    // Both separators are ASCII, and an ASCII byte never occurs inside a multi-byte UTF-8
    // character, so a byte search finds the same position as a character search.
    let separator = trimmed
        .bytes()
        .rposition(|byte| byte == b'/' || byte == b'\\');
    let (realm, rest) = match separator {
        Some(at) => (Some(&trimmed[..at]), &trimmed[at + 1..]),
        None => (None, trimmed),
    };
    let rest = if strip_at_domain {
        rest.split_once('@').map_or(rest, |(name, _)| name)
    } else {
        rest
    };
    if rest.is_empty() {
        return None;
    }
    Some(NormalisedUser {
        name: lower(rest),
        realm: realm.filter(|r| !r.is_empty()).map(lower),
    })
}

/// Removes surrounding white space as `str::trim` does. A name that begins and ends with a
/// visible ASCII character, as logged names usually do, is returned without the Unicode scan.
fn trim(raw: &str) -> &str {
    match (raw.as_bytes().first(), raw.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => raw,
        _ => raw.trim(),
    }
}

/// Lower-cases `text`, borrowing it when it is ASCII without an upper-case letter.
fn lower(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .all(|byte| byte.is_ascii() && !byte.is_ascii_uppercase())
    {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Returns whether a field value is one of the absent-value sentinels of Fortinet logs: empty,
/// `N/A` or `(null)`.
pub fn is_null(value: &str) -> bool {
    value.is_empty() || value == "N/A" || value == "(null)"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str, strip: bool) -> Option<String> {
        normalise(raw, strip).map(|user| user.name.into_owned())
    }

    #[test]
    fn strips_realm_and_domain_prefixes() {
        assert_eq!(name("ldaps/User078", false).as_deref(), Some("user078"));
        assert_eq!(name("CORP\\User078", false).as_deref(), Some("user078"));
        let user = normalise("Example/User073", false).expect("non-empty name");
        assert_eq!(user.realm.as_deref(), Some("example"));
    }

    #[test]
    fn at_domain_is_kept_unless_requested() {
        assert_eq!(
            name("Alice@Corp.Example", false).as_deref(),
            Some("alice@corp.example")
        );
        assert_eq!(name("Alice@Corp.Example", true).as_deref(), Some("alice"));
    }

    #[test]
    fn null_sentinels_are_absent() {
        assert_eq!(name("", false), None);
        assert_eq!(name("N/A", false), None);
        assert_eq!(name("(null)", false), None);
        assert_eq!(name("corp\\", false), None);
    }

    #[test]
    fn lower_case_names_are_borrowed_others_lowered() {
        let plain = normalise("corp\\user078", false).expect("non-empty name");
        assert!(matches!(plain.name, Cow::Borrowed("user078")), "{plain:?}");
        let mixed = normalise("User078", false).expect("non-empty name");
        assert_eq!(mixed.name, "user078");
        let accented = normalise("ÉRIC", false).expect("non-empty name");
        assert_eq!(accented.name, "éric");
        let lower_accented = normalise("éric", false).expect("non-empty name");
        assert_eq!(lower_accented.name, "éric");
    }

    #[test]
    fn surrounding_white_space_is_trimmed() {
        assert_eq!(name("  alice\t", false).as_deref(), Some("alice"));
        // No-break space and ideographic space are white space to `str::trim` as well.
        assert_eq!(name("\u{a0}alice\u{3000}", false).as_deref(), Some("alice"));
        assert_eq!(name(" \u{a0} ", false), None);
        assert_eq!(name(" N/A ", false), None);
    }

    #[test]
    fn lower_case_realm_is_borrowed() {
        let plain = normalise("corp\\user078", false).expect("non-empty name");
        assert!(
            matches!(plain.realm, Some(Cow::Borrowed("corp"))),
            "{plain:?}"
        );
        let mixed = normalise("CORP\\user078", false).expect("non-empty name");
        assert_eq!(mixed.realm.as_deref(), Some("corp"));
        let nested = normalise("ldaps/Corp\\user078", false).expect("non-empty name");
        assert_eq!(nested.realm.as_deref(), Some("ldaps/corp"));
        assert_eq!(nested.name, "user078");
    }
}
