//! The rule table: what a parsed line means for MFA. Each rule matches on body format, event
//! id, status and message text, and names the fields that carry user, NAS, client IP and
//! reason. Built-in rules cover the documented Fortinet log events (see `docs/detectors.md`);
//! `[[rules]]` in the configuration add or replace rules without a rebuild.

use std::borrow::Cow;
use std::cell::OnceCell;

use memchr::memmem::Finder;
use pushwatch_parser::{BodyFormat, Peek, Record, Value, ValueStyle};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::signal::{AuthSignal, OtherFactor, SignalKind};
use crate::user::is_null;

mod index;

use index::{FieldRef, FieldTable, IdIndex, KnownId, Resolved};

/// Pseudo-field: the syslog header host name.
pub const HOSTNAME_FIELD: &str = "@hostname";
/// Pseudo-field: the line's message (FortiAuthenticator free text or `msg`).
pub const MESSAGE_FIELD: &str = "@message";

/// One classification rule, as written in `[[rules]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique name; a configured rule with a built-in rule's name replaces it.
    pub name: String,
    /// Body formats the rule applies to (`fortios`, `fortiauthenticator`,
    /// `fortiauthenticator-export`, `cef`, `other`); empty means all.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Event ids: FortiAuthenticator `typeid`/`logid` (e.g. `20002`) or FortiOS 10-digit
    /// `logid` (e.g. `0102043008`, which also matches CEF signature id `43008`). Empty means the
    /// rule matches on text alone, which costs a text search on every line of its formats.
    #[serde(default)]
    pub event_ids: Vec<String>,
    /// Required `status` (case-insensitive); absent means any.
    #[serde(default)]
    pub status: Option<String>,
    /// Texts that must all occur in the message (ASCII letters match in any case).
    #[serde(default)]
    pub message_contains: Vec<String>,
    /// Texts none of which may occur in the message (ASCII letters match in any case).
    #[serde(default)]
    pub message_not_contains: Vec<String>,
    /// The signal the rule emits.
    pub signal: SignalKind,
    /// Fields tried in order for the user; default by format (`user`, CEF `duser`).
    #[serde(default)]
    pub user_fields: Vec<String>,
    /// Fields tried in order for the NAS; default `nas` on FortiAuthenticator, `devname`,
    /// `devid` on FortiOS, `@hostname` on CEF.
    #[serde(default)]
    pub nas_fields: Vec<String>,
    /// Fields tried in order for the client IP; default `userip` on FortiAuthenticator,
    /// `remip`, `srcip` on FortiOS, `src` on CEF.
    #[serde(default)]
    pub client_ip_fields: Vec<String>,
    /// Field holding the reason.
    #[serde(default)]
    pub reason_field: Option<String>,
    /// The reason is the message text after this marker (e.g. `failed: `), without a trailing
    /// period.
    #[serde(default)]
    pub reason_after: Option<String>,
    /// Factor of an `other_factor_success`.
    #[serde(default)]
    pub factor: Option<OtherFactor>,
}

const FORMAT_NAMES: [&str; 5] = [
    "fortios",
    "fortiauthenticator",
    "fortiauthenticator-export",
    "cef",
    "other",
];

impl RuleConfig {
    /// Checks the rule; `key` is its position, e.g. `rules[3]`.
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() {
            return Err(ConfigError::invalid(
                format!("{key}.name"),
                "\"\"",
                "a non-empty rule name",
            ));
        }
        for format in &self.formats {
            if !FORMAT_NAMES.contains(&format.as_str()) {
                return Err(ConfigError::invalid(
                    format!("{key}.formats"),
                    format,
                    FORMAT_NAMES.join(", "),
                ));
            }
        }
        for id in &self.event_ids {
            if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(ConfigError::invalid(
                    format!("{key}.event_ids"),
                    id,
                    "decimal event ids such as 20002 or 0102043008",
                ));
            }
        }
        if self.event_ids.is_empty() && self.message_contains.is_empty() {
            return Err(ConfigError::invalid(
                format!("{key}.event_ids"),
                "[]",
                "at least one event id, or at least one message_contains text",
            ));
        }
        Ok(())
    }
}

/// A rule ready for matching.
#[derive(Debug, Clone)]
struct Compiled {
    config: RuleConfig,
    /// The formats the rule applies to, one bit per [`format_slot`].
    formats: u8,
    status: Option<String>,
    /// Lower-case texts that must all occur in the lower-cased message.
    contains: Vec<Finder<'static>>,
    /// Lower-case texts none of which may occur.
    not_contains: Vec<Finder<'static>>,
    /// User, NAS and client IP fields, by format (see [`format_slot`]).
    user: [Vec<FieldRef>; 5],
    nas: [Vec<FieldRef>; 5],
    client_ip: [Vec<FieldRef>; 5],
    reason: Option<FieldRef>,
    /// Finder of the lower-cased `reason_after` marker.
    reason_marker: Option<Finder<'static>>,
    /// The signal shows the message as evidence.
    keeps_message: bool,
}

/// Verdict of the fast path on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage<'r> {
    /// No rule can match.
    Irrelevant,
    /// The line's event id and format settle the rule, and its signal is only counted
    /// ([`SignalKind::is_context_only`]), so the line needs no full parse.
    Counted(MatchedRule<'r>),
    /// A rule may match; the full parse decides.
    Parse,
}

/// The rule that matched a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedRule<'r> {
    /// Name of the rule.
    pub name: &'r str,
    /// Position of the rule in the table (see [`RuleSet::rule_name`]), for counting by
    /// position without looking the name up.
    pub position: usize,
}

/// Fields read by every line's classification, whatever the rule.
#[derive(Debug, Clone, Copy)]
struct Common {
    typeid: FieldRef,
    logid: FieldRef,
    cef_logid: FieldRef,
    status: FieldRef,
    devname: FieldRef,
    devid: FieldRef,
    /// The `msg` field, the message of formats without free text.
    msg: FieldRef,
}

/// The compiled rule table and its fast-path filter.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Compiled>,
    /// The rules to try for each event id.
    ids: IdIndex,
    /// Every field the rules read, resolved in one pass over a record.
    fields: FieldTable,
    common: Common,
    /// Whether each format (by [`format_slot`]) has text-only rules, so that its lines need
    /// a text search.
    text_formats: [bool; 5],
    /// Lower-case first texts of the text-only rules, searched in the lower-cased line.
    text_needles: Vec<Finder<'static>>,
}

fn format_of(name: &str) -> Option<BodyFormat> {
    match name {
        "fortios" => Some(BodyFormat::FortiOs),
        "fortiauthenticator" => Some(BodyFormat::FortiAuthenticator),
        "fortiauthenticator-export" => Some(BodyFormat::FortiAuthenticatorExport),
        "cef" => Some(BodyFormat::Cef),
        "other" => Some(BodyFormat::Other),
        _ => None,
    }
}

const ALL_FORMATS: [BodyFormat; 5] = [
    BodyFormat::FortiOs,
    BodyFormat::FortiAuthenticator,
    BodyFormat::FortiAuthenticatorExport,
    BodyFormat::Cef,
    BodyFormat::Other,
];

impl RuleSet {
    /// Builds the table: configured rules first (a configured rule named like a built-in one
    /// takes its place), then the remaining built-in rules in their documented order.
    pub fn new(configured: &[RuleConfig]) -> RuleSet {
        let mut ordered: Vec<RuleConfig> = configured.to_vec();
        for rule in builtin_rules() {
            if !configured.iter().any(|own| own.name == rule.name) {
                ordered.push(rule);
            }
        }
        let mut fields = FieldTable::default();
        let common = Common {
            typeid: fields.reference("typeid"),
            logid: fields.reference("logid"),
            cef_logid: fields.reference("FTNTFGTlogid"),
            status: fields.reference("status"),
            devname: fields.reference("devname"),
            devid: fields.reference("devid"),
            msg: fields.reference("msg"),
        };
        let mut text_formats = [false; 5];
        let mut text_needles = Vec::new();
        let mut rules = Vec::with_capacity(ordered.len());
        for config in ordered {
            let formats: Vec<BodyFormat> = if config.formats.is_empty() {
                ALL_FORMATS.to_vec()
            } else {
                config
                    .formats
                    .iter()
                    .filter_map(|name| format_of(name))
                    .collect()
            };
            if config.event_ids.is_empty() {
                for format in &formats {
                    text_formats[format_slot(*format)] = true;
                }
                if let Some(first) = config.message_contains.first() {
                    text_needles.extend(finders(std::slice::from_ref(first)));
                }
            }
            let mut references =
                |configured: &[String], defaults: fn(BodyFormat) -> &'static [&'static str]| {
                    ALL_FORMATS.map(|format| {
                        if configured.is_empty() {
                            defaults(format)
                                .iter()
                                .map(|name| fields.reference(name))
                                .collect()
                        } else {
                            configured
                                .iter()
                                .map(|name| fields.reference(name))
                                .collect()
                        }
                    })
                };
            let user = references(&config.user_fields, default_user_fields);
            let nas = references(&config.nas_fields, default_nas_fields);
            let client_ip = references(&config.client_ip_fields, default_ip_fields);
            let reason = config
                .reason_field
                .as_deref()
                .map(|name| fields.reference(name));
            let keeps_message = config.signal.is_push_service_error()
                || matches!(
                    config.signal,
                    SignalKind::HaRoleChange | SignalKind::FnbamdFailures
                );
            rules.push(Compiled {
                status: config
                    .status
                    .as_ref()
                    .map(|status| status.to_ascii_lowercase()),
                contains: finders(&config.message_contains),
                not_contains: finders(&config.message_not_contains),
                formats: formats
                    .iter()
                    .fold(0, |mask, format| mask | format_bit(*format)),
                user,
                nas,
                client_ip,
                reason,
                reason_marker: config
                    .reason_after
                    .as_deref()
                    .map(|marker| Finder::new(marker.to_lowercase().as_bytes()).into_owned()),
                keeps_message,
                config,
            });
        }
        let mut ids = IdIndex::new(rules.iter().map(|rule| rule.config.event_ids.as_slice()));
        settle_rules(&rules, &mut ids);
        RuleSet {
            rules,
            ids,
            fields,
            common,
            text_formats,
            text_needles,
        }
    }

    /// Fast path: returns whether a line can match any rule, from the peeked class fields and,
    /// for formats with text-only rules, a case-insensitive search of the raw line.
    pub fn is_relevant(&self, peek: &Peek<'_>, line: &[u8]) -> bool {
        let known = relevance_id(peek).and_then(|id| self.ids.lookup(id.raw()));
        known.is_some() || self.text_formats[format_slot(peek.format)] && self.text_matches(line)
    }

    /// Returns whether the lower-cased line contains the first text of a text-only rule.
    #[inline(never)]
    fn text_matches(&self, line: &[u8]) -> bool {
        let mut lower = LowerText::default();
        let text = lower.of(line);
        self.text_needles
            .iter()
            .any(|needle| needle.find(text).is_some())
    }

    /// Fast path with the rule when the event id settles it; see [`Triage`]. Does the work of
    /// [`RuleSet::is_relevant`] first, and most lines end there, so it is inlined into the
    /// caller's line loop.
    #[inline(always)]
    pub fn triage(&self, peek: &Peek<'_>, line: &[u8]) -> Triage<'_> {
        let relevance = relevance_id(peek);
        let known = relevance.and_then(|id| self.ids.lookup(id.raw()));
        if known.is_none()
            && !(self.text_formats[format_slot(peek.format)] && self.text_matches(line))
        {
            return Triage::Irrelevant;
        }
        self.settle(peek, relevance, known)
    }

    /// Returns the triage of a relevant line: [`Triage::Counted`] when the id that the
    /// classification reads (see [`classification_id`]) settles the rule, else
    /// [`Triage::Parse`]. `known` is the lookup of the `relevance` id.
    #[inline(never)]
    fn settle(
        &self,
        peek: &Peek<'_>,
        relevance: Option<Value<'_>>,
        known: Option<&KnownId>,
    ) -> Triage<'_> {
        let id = classification_id(peek);
        // Most lines carry one id, so the relevance lookup was a lookup of this very field.
        let same_field = match (id, relevance) {
            (Some(id), Some(relevance)) => std::ptr::eq(id.raw(), relevance.raw()),
            (None, None) => true,
            _ => false,
        };
        let known = if same_field {
            known
        } else {
            id.and_then(|id| self.ids.lookup(id.raw()))
        };
        match known.and_then(|known| known.settled[format_slot(peek.format)]) {
            Some(position) => Triage::Counted(self.matched(position)),
            None => Triage::Parse,
        }
    }

    /// Returns whether `record` is a FortiAuthenticator line whose fields cannot be trusted:
    /// it writes a field the rules read more than once, or its free-text message contains
    /// `status="`. FortiAuthenticator does not escape quotes inside values, so such a line
    /// most likely carries a quote in a user name, and the text after that quote reads as
    /// pairs (`user="x" status="Success"`). An injected `status` also ends the pairs of the
    /// syslog form early, which moves the real status into the message. [`RuleSet::classify`]
    /// leaves these lines unclassified rather than trust either copy of a field.
    pub fn is_ambiguous(&self, record: &Record<'_>) -> bool {
        if !is_fortiauthenticator(record.format()) {
            return false;
        }
        let mut resolved = Resolved::new();
        self.fields.resolve(record, &mut resolved);
        resolved.repeated || message_has_status(record)
    }

    /// Classifies a parsed line; returns the first matching rule's signal with the name of the
    /// rule. A FortiAuthenticator line whose fields are ambiguous is not classified (see
    /// [`RuleSet::is_ambiguous`]).
    pub fn classify(&self, record: &Record<'_>) -> Option<(MatchedRule<'_>, AuthSignal)> {
        let format = record.format();
        let mut resolved = Resolved::new();
        self.fields.resolve(record, &mut resolved);
        if is_fortiauthenticator(format) && (resolved.repeated || message_has_status(record)) {
            return None;
        }
        let field = |reference| self.fields.value(reference, record, &resolved);
        let common = &self.common;
        let id = match format {
            BodyFormat::FortiAuthenticator => field(common.typeid).or_else(|| field(common.logid)),
            BodyFormat::Cef => field(common.cef_logid)
                .or_else(|| record.cef().and_then(|header| header.signature_id)),
            _ => field(common.logid).or_else(|| field(common.typeid)),
        };
        let status = field(common.status);
        // Unescaped and lower-cased only when a rule reads the message.
        let message = OnceCell::new();
        // On the stack only once a rule reads the text: most FortiOS lines need none.
        let mut lower: Option<LowerText> = None;
        let candidates = self
            .ids
            .candidates(id.map(|id| id.raw()), format == BodyFormat::Cef);
        for &position in candidates {
            let rule = &self.rules[position];
            if rule.formats & format_bit(format) == 0 {
                continue;
            }
            if let Some(required) = &rule.status {
                let matches = status
                    .is_some_and(|value| value.raw().eq_ignore_ascii_case(required.as_bytes()));
                if !matches {
                    continue;
                }
            }
            if !rule.contains.is_empty() || !rule.not_contains.is_empty() {
                let text = lower
                    .get_or_insert_with(LowerText::default)
                    .of(message.get_or_init(|| self.message_bytes(record, &resolved)));
                if !rule
                    .contains
                    .iter()
                    .all(|finder| finder.find(text).is_some())
                    || rule
                        .not_contains
                        .iter()
                        .any(|finder| finder.find(text).is_some())
                {
                    continue;
                }
            }
            let signal = self.build_signal(rule, record, &resolved, &message);
            return Some((self.matched(position), signal));
        }
        None
    }

    /// Returns the bytes of the line's message ([`Record::msg`]), unescaped, or nothing.
    fn message_bytes<'a>(&self, record: &Record<'a>, resolved: &Resolved<'a>) -> Cow<'a, [u8]> {
        record
            .message()
            .or_else(|| self.fields.value(self.common.msg, record, resolved))
            .map(|value| value.as_bytes())
            .unwrap_or_default()
    }

    fn build_signal<'a>(
        &self,
        rule: &Compiled,
        record: &Record<'a>,
        resolved: &Resolved<'a>,
        message: &OnceCell<Cow<'a, [u8]>>,
    ) -> AuthSignal {
        let time = record.time().unix_nanos.div_euclid(1_000_000);
        let format = record.format();
        let config = &rule.config;
        let bytes = || -> &[u8] { message.get_or_init(|| self.message_bytes(record, resolved)) };
        let text_cell = OnceCell::new();
        let text = || -> &str { text_cell.get_or_init(|| lossy_text(bytes())) };
        let read = |reference: FieldRef| -> Option<String> {
            let value = match reference {
                FieldRef::Message => return kept(text()),
                reference => self.fields.value(reference, record, resolved)?,
            };
            kept(&text_of(value))
        };
        let first = |references: &[Vec<FieldRef>; 5]| {
            references[format_slot(format)]
                .iter()
                .find_map(|reference| read(*reference))
        };
        let mut signal = AuthSignal::new(time, config.signal);
        signal.user = first(&rule.user);
        signal.nas = first(&rule.nas);
        signal.client_ip = first(&rule.client_ip);
        let common = &self.common;
        signal.source = [common.devname, common.devid, FieldRef::Hostname]
            .into_iter()
            .find_map(read);
        signal.factor = config.factor;
        signal.reason = match (rule.reason, &config.reason_after, &rule.reason_marker) {
            (Some(reference), _, _) => read(reference),
            (None, Some(marker), Some(finder)) => reason_after(text(), marker, finder),
            _ => None,
        };
        // Only service events show the message as evidence; other signals skip the copy.
        if rule.keeps_message && !bytes().is_empty() {
            signal.message = Some(text().to_owned());
        }
        signal
    }

    /// Returns the name of the rule at `position`, or `None` past the end of the table.
    pub fn rule_name(&self, position: usize) -> Option<&str> {
        self.rules
            .get(position)
            .map(|rule| rule.config.name.as_str())
    }

    fn matched(&self, position: usize) -> MatchedRule<'_> {
        MatchedRule {
            name: self.rules[position].config.name.as_str(),
            position,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Returns whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Returns the sending device: FortiOS `devname`, else `devid`, else the syslog header host name.
pub fn source_name(record: &Record<'_>) -> Option<String> {
    ["devname", "devid"]
        .iter()
        .find_map(|key| {
            record
                .field(key)
                .map(|value| value.as_str().into_owned())
                .filter(|v| !is_null(v))
        })
        .or_else(|| {
            record
                .header()
                .hostname
                .map(|value| value.as_str().into_owned())
                .filter(|v| !is_null(v))
        })
}

/// Returns a value's text: borrowed from the line when nothing needs unescaping and the bytes
/// are UTF-8 (the common case), otherwise as [`Value::as_str`] gives it.
fn text_of<'a>(value: Value<'a>) -> Cow<'a, str> {
    let raw = value.raw();
    if value.style() == ValueStyle::Bare || memchr::memchr(b'\\', raw).is_none() {
        if let Ok(text) = std::str::from_utf8(raw) {
            return Cow::Borrowed(text);
        }
    }
    value.as_str()
}

/// Returns bytes as text, replacing invalid UTF-8 as [`String::from_utf8_lossy`] does. Valid
/// text, the common case, is checked faster than by `from_utf8_lossy`.
fn lossy_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Trims a value and keeps it unless it is one of the absent-value sentinels.
fn kept(value: &str) -> Option<String> {
    let trimmed = trim(value);
    (!is_null(trimmed)).then(|| trimmed.to_owned())
}

/// Returns `text` without leading and trailing white space, as [`str::trim`] does. Most values
/// start and end with a visible ASCII character, which is not white space, so they skip the
/// Unicode check of `str::trim`.
fn trim(text: &str) -> &str {
    let visible = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_graphic);
    let bytes = text.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Finds the (event id, format) pairs whose first candidate rule has no status or text
/// condition and emits a count-only signal, and records them in `ids`. A line with such a pair
/// matches that rule whatever its other fields hold.
fn settle_rules(rules: &[Compiled], ids: &mut IdIndex) {
    let keys: Vec<(u64, String)> = ids.keys().collect();
    for (key, id) in keys {
        for format in ALL_FORMATS {
            let candidates = ids.candidates(Some(id.as_bytes()), format == BodyFormat::Cef);
            let first = candidates
                .iter()
                .copied()
                .find(|&position| rules[position].formats & format_bit(format) != 0);
            let Some(position) = first else { continue };
            let rule = &rules[position];
            let unconditional =
                rule.status.is_none() && rule.contains.is_empty() && rule.not_contains.is_empty();
            if unconditional && rule.config.signal.is_context_only() {
                ids.settle(key, format_slot(format), position);
            }
        }
    }
}

/// Returns the event id the fast path checks for relevance: `logid`, else the signature id, on
/// CEF lines; `typeid`, else `logid`, on the others.
///
/// NOTE: on lines of formats other than FortiAuthenticator syslog and CEF, the classification
/// reads `logid` first (see [`classification_id`]). A line carrying both ids is therefore
/// relevant only when its `typeid` is known, even when its `logid` is listed. The tests pin
/// that behaviour.
#[inline]
fn relevance_id<'a>(peek: &Peek<'a>) -> Option<Value<'a>> {
    match peek.format {
        BodyFormat::Cef => peek.logid.or(peek.signature_id),
        _ => peek.event_id(),
    }
}

/// Returns the event id the classification reads. FortiAuthenticator syslog lines give
/// `typeid`, else `logid`. CEF lines give `logid`, else the signature id. Other lines give
/// `logid`, else `typeid`.
fn classification_id<'a>(peek: &Peek<'a>) -> Option<Value<'a>> {
    match peek.format {
        BodyFormat::FortiAuthenticator => peek.typeid.or(peek.logid),
        BodyFormat::Cef => peek.logid.or(peek.signature_id),
        _ => peek.logid.or(peek.typeid),
    }
}

/// Bit of a format in [`Compiled::formats`].
fn format_bit(format: BodyFormat) -> u8 {
    1 << format_slot(format)
}

/// Position of a format in [`ALL_FORMATS`].
fn format_slot(format: BodyFormat) -> usize {
    match format {
        BodyFormat::FortiOs => 0,
        BodyFormat::FortiAuthenticator => 1,
        BodyFormat::FortiAuthenticatorExport => 2,
        BodyFormat::Cef => 3,
        BodyFormat::Other => 4,
    }
}

fn default_user_fields(format: BodyFormat) -> &'static [&'static str] {
    match format {
        BodyFormat::Cef => &["duser", "suser"],
        _ => &["user"],
    }
}

fn default_nas_fields(format: BodyFormat) -> &'static [&'static str] {
    match format {
        BodyFormat::FortiAuthenticator | BodyFormat::FortiAuthenticatorExport => &["nas"],
        BodyFormat::FortiOs => &["devname", "devid"],
        BodyFormat::Cef => &["deviceExternalId", HOSTNAME_FIELD],
        BodyFormat::Other => &[HOSTNAME_FIELD],
    }
}

fn default_ip_fields(format: BodyFormat) -> &'static [&'static str] {
    match format {
        BodyFormat::FortiAuthenticator | BodyFormat::FortiAuthenticatorExport => &["userip"],
        BodyFormat::FortiOs => &["remip", "srcip"],
        BodyFormat::Cef => &["src"],
        BodyFormat::Other => &[],
    }
}

/// Returns the text after `marker` (case-insensitive), trimmed and without a trailing period.
/// `finder` searches the lower-cased marker. The offset found in the lower-cased message is
/// used in the message itself, which is exact for ASCII text.
fn reason_after(message: &str, marker: &str, finder: &Finder<'_>) -> Option<String> {
    // ASCII text lower-cases the same either way, and the ASCII way is cheaper.
    let lower = if message.is_ascii() {
        message.to_ascii_lowercase()
    } else {
        message.to_lowercase()
    };
    let at = finder.find(lower.as_bytes())?;
    let rest = message
        .get(at + marker.len()..)?
        .trim()
        .trim_end_matches('.')
        .trim();
    (!rest.is_empty()).then(|| rest.to_owned())
}

/// Compiles lower-cased texts for searching.
fn finders(texts: &[String]) -> Vec<Finder<'static>> {
    texts
        .iter()
        .map(|text| Finder::new(text.to_lowercase().as_bytes()).into_owned())
        .collect()
}

/// Messages up to this length are lower-cased on the stack.
const LOWER_INLINE: usize = 512;

/// A message lower-cased (ASCII letters only) on first use, on the stack when it is short.
struct LowerText {
    inline: [u8; LOWER_INLINE],
    heap: Vec<u8>,
    length: Option<usize>,
}

impl Default for LowerText {
    fn default() -> Self {
        LowerText {
            inline: [0; LOWER_INLINE],
            heap: Vec::new(),
            length: None,
        }
    }
}

impl LowerText {
    fn of(&mut self, text: &[u8]) -> &[u8] {
        let length = *self.length.get_or_insert_with(|| {
            if text.len() <= LOWER_INLINE {
                self.inline[..text.len()].copy_from_slice(text);
                self.inline[..text.len()].make_ascii_lowercase();
            } else {
                self.heap = text.to_ascii_lowercase();
            }
            text.len()
        });
        if length <= LOWER_INLINE {
            &self.inline[..length]
        } else {
            &self.heap
        }
    }
}

/// Shorthand for building the built-in table.
struct Spec {
    name: &'static str,
    formats: &'static [&'static str],
    ids: &'static [&'static str],
    status: Option<&'static str>,
    contains: &'static [&'static str],
    not_contains: &'static [&'static str],
    signal: SignalKind,
    reason_field: Option<&'static str>,
    reason_after: Option<&'static str>,
    factor: Option<OtherFactor>,
}

const FAC: &[&str] = &["fortiauthenticator", "fortiauthenticator-export"];
const FAC_AND_OTHER: &[&str] = &["fortiauthenticator", "fortiauthenticator-export", "other"];
const FORTIGATE: &[&str] = &["fortios", "cef"];

const fn spec(
    name: &'static str,
    formats: &'static [&'static str],
    ids: &'static [&'static str],
    signal: SignalKind,
) -> Spec {
    Spec {
        name,
        formats,
        ids,
        status: None,
        contains: &[],
        not_contains: &[],
        signal,
        reason_field: None,
        reason_after: None,
        factor: None,
    }
}

/// Returns the built-in rules in matching order. Sources and confidence are listed in
/// `docs/detectors.md`; texts not publicly documented are left to `[[rules]]`.
pub fn builtin_rules() -> Vec<RuleConfig> {
    let specs = [
        // KB 333425: "Failed to send notification to user due to pushd error -3"; the event id
        // of that line is not documented, so it is matched by text on every FortiAuthenticator
        // line (and on pushd's own lines).
        // NOTE: messages that quote a typed user name (an OAuth portal failure writes
        // `[name] has failed …`) let that name match this text and the certificate text
        // below, so anyone who can reach a login prompt can raise `push_service_errors`.
        Spec {
            contains: &["pushd error"],
            reason_after: Some("due to "),
            ..spec(
                "fac-pushd-error",
                FAC_AND_OTHER,
                &[],
                SignalKind::PushdError,
            )
        },
        // KB 201261 / 277343: "invalid server certificate: FortiToken Mobile cannot validate the
        // server certificate".
        Spec {
            contains: &["invalid server certificate"],
            ..spec(
                "fac-invalid-server-certificate",
                FAC_AND_OTHER,
                &[],
                SignalKind::CertificateError,
            )
        },
        // FortiAuthenticator 20299 Pending: first factor accepted, challenge sent.
        Spec {
            status: Some("Pending"),
            ..spec(
                "fac-challenge-sent",
                FAC,
                &["20299"],
                SignalKind::ChallengeSent,
            )
        },
        // KB 20002: the push suffix marks a push approval; without it the code was typed.
        Spec {
            status: Some("Success"),
            contains: &["(chosen FTM push notification)"],
            ..spec(
                "fac-push-approved",
                FAC,
                &["20002"],
                SignalKind::PushApproved,
            )
        },
        Spec {
            status: Some("Success"),
            ..spec(
                "fac-code-accepted",
                FAC,
                &["20002"],
                SignalKind::CodeAccepted,
            )
        },
        // KB 20000: SMS, email or no token.
        Spec {
            status: Some("Success"),
            contains: &["sms token"],
            factor: Some(OtherFactor::Sms),
            ..spec(
                "fac-sms-success",
                FAC,
                &["20000"],
                SignalKind::OtherFactorSuccess,
            )
        },
        Spec {
            status: Some("Success"),
            contains: &["email token"],
            factor: Some(OtherFactor::Email),
            ..spec(
                "fac-email-success",
                FAC,
                &["20000"],
                SignalKind::OtherFactorSuccess,
            )
        },
        Spec {
            status: Some("Success"),
            contains: &["with no token successful"],
            factor: Some(OtherFactor::None),
            ..spec(
                "fac-no-token-success",
                FAC,
                &["20000", "20001"],
                SignalKind::OtherFactorSuccess,
            )
        },
        // 20103 "with FortiToken failed: invalid token." (status empty in the export sample).
        Spec {
            reason_after: Some("failed: "),
            ..spec("fac-wrong-code", FAC, &["20103"], SignalKind::WrongCode)
        },
        // FortiAuthenticator 6.3.1: 20001 Failed "Remote RADIUS user authentication with invalid token".
        Spec {
            status: Some("Failed"),
            contains: &["invalid token"],
            ..spec(
                "fac-wrong-code-20001",
                FAC,
                &["20001"],
                SignalKind::WrongCode,
            )
        },
        // 20101 / 20102 "with no token failed: invalid user|invalid password".
        Spec {
            contains: &["with no token failed"],
            reason_after: Some("failed: "),
            ..spec(
                "fac-first-factor-failed",
                FAC,
                &["20101", "20102"],
                SignalKind::FirstFactorFailed,
            )
        },
        // Other Failed lines mentioning FortiToken: the reason (text after "failed: ") is kept
        // and counted; denial, cancel and timeout texts are configured in [stitching].
        Spec {
            status: Some("Failed"),
            contains: &["fortitoken"],
            not_contains: &["pushd error"],
            reason_after: Some("failed: "),
            ..spec("fac-token-failure", FAC, &[], SignalKind::TokenFailure)
        },
        // KB 361713: 30909 "FTM deprovision: disabled remote LDAP user '<u>' …".
        Spec {
            reason_field: Some(MESSAGE_FIELD),
            ..spec(
                "fac-ftm-deprovisioned",
                FAC,
                &["30909"],
                SignalKind::FtmDeprovisioned,
            )
        },
        // KB 386729: 40000 "The device is now the HA Primary|Secondary".
        Spec {
            reason_field: Some(MESSAGE_FIELD),
            ..spec(
                "fac-ha-role-change",
                FAC,
                &["40000"],
                SignalKind::HaRoleChange,
            )
        },
        // FortiOS Log Message Reference: user events 43008/43009/43010.
        spec(
            "fgt-auth-success",
            FORTIGATE,
            &["0102043008"],
            SignalKind::FortiGateAuthSuccess,
        ),
        Spec {
            reason_field: Some("reason"),
            ..spec(
                "fgt-auth-failure",
                FORTIGATE,
                &["0102043009"],
                SignalKind::FortiGateAuthFailure,
            )
        },
        Spec {
            reason_field: Some("reason"),
            ..spec(
                "fgt-auth-lockout",
                FORTIGATE,
                &["0102043010"],
                SignalKind::FortiGateAuthLockout,
            )
        },
        // SSL VPN tunnel up (39424 web mode, 39947 tunnel mode) and login failure (39426).
        spec(
            "fgt-sslvpn-tunnel-up",
            FORTIGATE,
            &["0101039424", "0101039947"],
            SignalKind::VpnTunnelUp,
        ),
        Spec {
            reason_field: Some("reason"),
            ..spec(
                "fgt-sslvpn-login-fail",
                FORTIGATE,
                &["0101039426"],
                SignalKind::VpnLoginFailure,
            )
        },
        // FortiGate-local FortiToken Mobile push sent / failed (32160 / 32161).
        spec(
            "fgt-ftm-push-sent",
            FORTIGATE,
            &["0100032160"],
            SignalKind::PushSent,
        ),
        Spec {
            reason_field: Some(MESSAGE_FIELD),
            ..spec(
                "fgt-ftm-push-failed",
                FORTIGATE,
                &["0100032161"],
                SignalKind::PushFailed,
            )
        },
        // KB 418674: 22113 "Authentication failed N times in the last 5 minutes (…)".
        Spec {
            reason_field: Some(MESSAGE_FIELD),
            ..spec(
                "fgt-fnbamd-failures",
                FORTIGATE,
                &["0100022113"],
                SignalKind::FnbamdFailures,
            )
        },
        // 37892 "Virtual cluster member state moved" (ha_role).
        Spec {
            reason_field: Some("ha_role"),
            ..spec(
                "fgt-ha-state",
                FORTIGATE,
                &["0108037892"],
                SignalKind::HaRoleChange,
            )
        },
    ];
    specs.into_iter().map(to_config).collect()
}

fn to_config(spec: Spec) -> RuleConfig {
    let strings = |list: &[&str]| {
        list.iter()
            .map(|text| (*text).to_owned())
            .collect::<Vec<_>>()
    };
    RuleConfig {
        name: spec.name.to_owned(),
        formats: strings(spec.formats),
        event_ids: strings(spec.ids),
        status: spec.status.map(str::to_owned),
        message_contains: strings(spec.contains),
        message_not_contains: strings(spec.not_contains),
        signal: spec.signal,
        user_fields: Vec::new(),
        nas_fields: Vec::new(),
        client_ip_fields: Vec::new(),
        reason_field: spec.reason_field.map(str::to_owned),
        reason_after: spec.reason_after.map(str::to_owned),
        factor: spec.factor,
    }
}

/// Returns whether the free-text message of a FortiAuthenticator syslog line contains
/// `status="`. The syslog form ends its pairs with `status`, so the real status can only be
/// in the message when an earlier value injected one.
fn message_has_status(record: &Record<'_>) -> bool {
    record.format() == BodyFormat::FortiAuthenticator
        && record
            .message()
            .is_some_and(|message| memchr::memmem::find(message.raw(), b"status=\"").is_some())
}

/// Returns whether `format` is one of FortiAuthenticator's, whose quoted values are written
/// without escapes.
fn is_fortiauthenticator(format: BodyFormat) -> bool {
    matches!(
        format,
        BodyFormat::FortiAuthenticator | BodyFormat::FortiAuthenticatorExport
    )
}

#[cfg(test)]
mod tests;
