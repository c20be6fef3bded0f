//! User-name normalisation for stitching: FortiAuthenticator logs the name as typed, so
//! `CORP\Alice`, `ldaps/alice` and `Alice@corp.example` must all become one key.

/// A normalised user name and the realm or domain prefix that was stripped from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedUser {
    /// Lower-case name without realm or domain prefix (and without `@domain` when requested).
    pub name: String,
    /// Lower-case realm (`realm/user`) or Windows domain (`DOMAIN\user`), when present.
    pub realm: Option<String>,
}

/// Normalises a user name: lower-cases it, strips a `realm/` or `DOMAIN\` prefix and, when
/// `strip_at_domain` is set, an `@domain` suffix. Returns `None` for an empty or null name.
pub fn normalise(raw: &str, strip_at_domain: bool) -> Option<NormalisedUser> {
    let trimmed = raw.trim();
    if is_null(trimmed) {
        return None;
    }
    let (realm, rest) = match trimmed.rfind(['/', '\\']) {
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
        name: rest.to_lowercase(),
        realm: realm.filter(|r| !r.is_empty()).map(str::to_lowercase),
    })
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
        normalise(raw, strip).map(|user| user.name)
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
}
