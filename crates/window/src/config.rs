//! Configuration of the window crate. Each section is its own public struct so that the
//! binary's TOML file can embed them as top-level tables (`[windows]`, `[stitching]`, `[sites]`,
//! `[inventory]`, `[baseline]`, `[detectors.<name>]`, `[[canaries]]`, `[[certificates]]`,
//! `[[rules]]`, `[findings]`). Every field has a documented default, unknown keys are rejected,
//! and [`Config::validate`] names the key, the value and what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::detect::config::*;
use crate::inventory::Platform;
use crate::rules::RuleConfig;
use crate::time::{Millis, DAY, SECOND};

/// A configuration value that is not allowed, or a file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key contains a value outside its allowed range.
    #[error("invalid value {value} for {key}: expected {allowed}")]
    Invalid {
        /// Dotted key, e.g. `windows.size_secs` or `canaries[2].schedule`.
        key: String,
        /// The rejected value as written.
        value: String,
        /// Values the key accepts.
        allowed: String,
    },
    /// The TOML text does not parse or has unknown keys.
    #[error("invalid configuration {path}: {source}")]
    Toml {
        /// File the text came from, or `<string>`.
        path: String,
        /// Parser error with line and column.
        source: toml::de::Error,
    },
    /// The file cannot be read.
    #[error("cannot read configuration {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

impl ConfigError {
    /// Builds an [`ConfigError::Invalid`] from displayable parts.
    pub fn invalid(
        key: impl Into<String>,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}

/// The whole configuration of the window crate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Event-time windows and lateness.
    pub windows: WindowsConfig,
    /// Login stitching and outcome classification.
    pub stitching: StitchingConfig,
    /// NAS address, FortiGate serial or device name → site name.
    pub sites: BTreeMap<String, String>,
    /// Token inventory file.
    pub inventory: InventoryConfig,
    /// Baseline learning.
    pub baseline: BaselineConfig,
    /// Detector thresholds, one table per detector.
    pub detectors: DetectorsConfig,
    /// Canary accounts.
    pub canaries: Vec<CanaryConfig>,
    /// Push-path certificates.
    pub certificates: Vec<CertificateConfig>,
    /// Extra or overriding classification rules; a rule whose `name` equals a built-in rule
    /// replaces it, the others are tried before the built-in rules.
    pub rules: Vec<RuleConfig>,
    /// Finding output.
    pub findings: FindingsConfig,
}

/// Scope kinds that windows aggregate by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// Everything.
    Global,
    /// One site from the `[sites]` map.
    Site,
    /// One FortiAuthenticator node (the sending host).
    Node,
    /// One phone platform.
    Platform,
    /// One realm or domain prefix of the user name.
    Realm,
}

/// `[windows]`: event-time tumbling windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowsConfig {
    /// Window length in seconds. Default 300.
    pub size_secs: u64,
    /// How far behind the highest event time seen a line may arrive and still count, in seconds.
    /// Default 120.
    pub allowed_lateness_secs: u64,
    /// Scope kinds to aggregate. Default all: global, site, node, platform, realm.
    pub scopes: Vec<ScopeKind>,
    /// How far a line's event time may lie after its receive time (or after the replay's
    /// reference time) before the line is counted as from the future and skipped, in seconds;
    /// 0 turns the check off. Default 86400.
    pub max_clock_skew_secs: u64,
}

impl Default for WindowsConfig {
    fn default() -> Self {
        WindowsConfig {
            size_secs: 300,
            allowed_lateness_secs: 120,
            scopes: vec![
                ScopeKind::Global,
                ScopeKind::Site,
                ScopeKind::Node,
                ScopeKind::Platform,
                ScopeKind::Realm,
            ],
            max_clock_skew_secs: 86_400,
        }
    }
}

impl WindowsConfig {
    /// Window length in milliseconds.
    pub fn size_ms(&self) -> Millis {
        secs_to_ms(self.size_secs)
    }

    /// Allowed lateness in milliseconds.
    pub fn lateness_ms(&self) -> Millis {
        secs_to_ms(self.allowed_lateness_secs)
    }

    /// Allowed clock skew in milliseconds, `None` when the check is off.
    pub fn skew_ms(&self) -> Option<Millis> {
        (self.max_clock_skew_secs > 0).then(|| secs_to_ms(self.max_clock_skew_secs))
    }
}

/// `[stitching]`: how signals become classified login attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StitchingConfig {
    /// Seconds after a challenge without outcome before the attempt is a push timeout.
    /// Default 60 (Fortinet recommends a FortiGate `remoteauthtimeout` of 60 s for push).
    pub attempt_timeout_secs: u64,
    /// A typed code from a user whose last push approval is at most this many days old is a
    /// fallback. Default 14.
    pub push_history_days: u64,
    /// Strip an `@domain` suffix from user names. Default false.
    pub strip_at_domain: bool,
    /// Maximum number of open attempts; the oldest is evicted (and counted) beyond it.
    /// Default 100000.
    pub max_open_attempts: usize,
    /// Maximum number of users with push history; the least recently seen is evicted (and
    /// counted) beyond it. Default 1000000.
    pub max_users: usize,
    /// FortiToken failure reasons (text after `failed: `, case-insensitive substring) that mean
    /// the user denied the push. Default empty: FortiAuthenticator's wording is not publicly
    /// documented.
    pub denied_reasons: Vec<String>,
    /// Failure reasons that mean the push was cancelled. Default empty (not documented).
    pub cancelled_reasons: Vec<String>,
    /// Failure reasons that mean the push timed out. Default empty (not documented).
    pub timeout_reasons: Vec<String>,
}

impl Default for StitchingConfig {
    fn default() -> Self {
        StitchingConfig {
            attempt_timeout_secs: 60,
            push_history_days: 14,
            strip_at_domain: false,
            max_open_attempts: 100_000,
            max_users: 1_000_000,
            denied_reasons: Vec::new(),
            cancelled_reasons: Vec::new(),
            timeout_reasons: Vec::new(),
        }
    }
}

impl StitchingConfig {
    /// Attempt timeout in milliseconds.
    pub fn timeout_ms(&self) -> Millis {
        secs_to_ms(self.attempt_timeout_secs)
    }

    /// Push history window in milliseconds.
    pub fn history_ms(&self) -> Millis {
        i64::try_from(self.push_history_days)
            .unwrap_or(i64::MAX / DAY)
            .saturating_mul(DAY)
    }
}

/// `[inventory]`: the optional token inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventoryConfig {
    /// CSV (`user,serial,platform`) or JSON file; a relative path is relative to the
    /// configuration file. Default none: platforms are `unknown` and the platform detectors
    /// stay off.
    pub path: Option<PathBuf>,
}

/// Slot kind: how baselines split the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// One baseline per hour of the week (168 slots).
    HourOfWeek,
    /// One baseline per hour of the day (24 slots).
    HourOfDay,
    /// One baseline per configured shift; time outside every shift is one more slot.
    Shift,
}

/// One working shift for [`SlotKind::Shift`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftConfig {
    /// Shift name.
    pub name: String,
    /// First hour (local, 0–23).
    pub start_hour: u32,
    /// Hour after the last (local, 1–24; smaller than `start_hour` for a night shift).
    pub end_hour: u32,
}

/// `[baseline]`: how the normal level is learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BaselineConfig {
    /// Slot kind. Default `hour_of_week`.
    pub slot: SlotKind,
    /// Offset of local time from UTC in minutes, for slots. Default 0.
    pub utc_offset_minutes: i32,
    /// Shifts for `slot = "shift"`. Default none.
    pub shifts: Vec<ShiftConfig>,
    /// Windows a scope must have learned before its scope-wide baseline is used when a slot has
    /// too few. Default 288 (one day of 5-minute windows).
    pub warmup_windows: u32,
    /// Windows a slot must have learned before its own baseline is used. Default 6.
    pub min_slot_windows: u32,
    /// Windows with fewer second-factor attempts are not learned. Default 5.
    pub min_window_samples: u64,
    /// Weight kept by a slot's past on each learned window (0–1). Default 0.98.
    pub slot_decay: f64,
    /// Weight kept by a scope-wide baseline's past on each learned window (0–1). Default 0.999.
    pub scope_decay: f64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            slot: SlotKind::HourOfWeek,
            utc_offset_minutes: 0,
            shifts: Vec::new(),
            warmup_windows: 288,
            min_slot_windows: 6,
            min_window_samples: 5,
            slot_decay: 0.98,
            scope_decay: 0.999,
        }
    }
}

/// `[[canaries]]`: one IT-owned account that logs in with push on a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// User name (normalised like log user names).
    pub user: String,
    /// Platform of the canary phone.
    pub platform: Platform,
    /// `every 30m` / `every 1h` / `every 90s` or a five-field cron expression (minute hour
    /// day-of-month month day-of-week, UTC; `*`, lists, ranges and `*/n`).
    pub schedule: String,
    /// Seconds after each scheduled time within which the approval must be logged. Default 300.
    #[serde(default = "default_canary_grace")]
    pub grace_secs: u64,
    /// Site of the canary, if it logs in through one site.
    #[serde(default)]
    pub site: Option<String>,
}

fn default_canary_grace() -> u64 {
    300
}

/// Role of a push-path certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateRole {
    /// Apple Push Notification service (iOS pushes).
    Apns,
    /// Firebase Cloud Messaging (Android pushes).
    Fcm,
    /// FortiAuthenticator server certificate that the phone validates on approval.
    FacServer,
    /// FortiGate server certificate that the phone validates (FortiGate-local push).
    FortigateServer,
}

impl CertificateRole {
    /// Returns the kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateRole::Apns => "apns",
            CertificateRole::Fcm => "fcm",
            CertificateRole::FacServer => "fac-server",
            CertificateRole::FortigateServer => "fortigate-server",
        }
    }
}

/// `[[certificates]]`: a certificate on the push path and its expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateConfig {
    /// Name, unique among certificates; log lines naming it are linked to it.
    pub name: String,
    /// Role: the part of the push path it protects.
    pub protects: CertificateRole,
    /// Expiry time, RFC 3339.
    pub expires: String,
    /// Sites it serves; empty means all.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Platforms it serves; empty means what `protects` implies (iOS for APNs, Android for FCM,
    /// all for server certificates).
    #[serde(default)]
    pub platforms: Vec<Platform>,
}

impl CertificateConfig {
    /// Platforms served, after applying the default of `protects`.
    pub fn served_platforms(&self) -> Vec<Platform> {
        if !self.platforms.is_empty() {
            return self.platforms.clone();
        }
        match self.protects {
            CertificateRole::Apns => vec![Platform::Ios],
            CertificateRole::Fcm => vec![Platform::Android],
            _ => vec![Platform::Ios, Platform::Android, Platform::Unknown],
        }
    }
}

/// `[findings]`: finding output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsConfig {
    /// Key for pseudonymising example user names (HMAC-SHA-256, first 16 hex digits). Default
    /// none: names appear as logged after normalisation.
    pub pseudonym_key: Option<String>,
    /// Maximum number of example users per finding (0–5). Default 5.
    pub max_example_users: usize,
    /// Product name in the OCSF metadata. Default `pushwatch`.
    pub product_name: String,
}

impl Default for FindingsConfig {
    fn default() -> Self {
        FindingsConfig {
            pseudonym_key: None,
            max_example_users: 5,
            product_name: "pushwatch".into(),
        }
    }
}

impl Config {
    /// Parses TOML text and validates it. `origin` names the text in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Toml {
            path: origin.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file and resolves the inventory path against the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::from_toml_str(&text, &path.display().to_string())?;
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(config)
    }

    /// Makes a relative inventory path relative to `base` (the configuration file's directory).
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(path) = &self.inventory.path {
            if path.is_relative() {
                self.inventory.path = Some(base.join(path));
            }
        }
    }

    /// Checks every value; the first invalid one is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("windows.size_secs", self.windows.size_secs)?;
        if self.windows.size_secs > 86_400 {
            return Err(ConfigError::invalid(
                "windows.size_secs",
                self.windows.size_secs,
                "1 to 86400",
            ));
        }
        if self.windows.allowed_lateness_secs > 86_400 {
            return Err(ConfigError::invalid(
                "windows.allowed_lateness_secs",
                self.windows.allowed_lateness_secs,
                "0 to 86400",
            ));
        }
        if self.windows.max_clock_skew_secs > 31_536_000 {
            return Err(ConfigError::invalid(
                "windows.max_clock_skew_secs",
                self.windows.max_clock_skew_secs,
                "0 (off) to 31536000 (a year)",
            ));
        }
        if self.windows.scopes.is_empty() {
            return Err(ConfigError::invalid(
                "windows.scopes",
                "[]",
                "at least one scope kind",
            ));
        }
        positive(
            "stitching.attempt_timeout_secs",
            self.stitching.attempt_timeout_secs,
        )?;
        positive(
            "stitching.push_history_days",
            self.stitching.push_history_days,
        )?;
        positive(
            "stitching.max_open_attempts",
            self.stitching.max_open_attempts as u64,
        )?;
        positive("stitching.max_users", self.stitching.max_users as u64)?;
        for (key, site) in &self.sites {
            if site.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("sites.{key:?}"),
                    "\"\"",
                    "a non-empty site name",
                ));
            }
        }
        self.validate_baseline()?;
        self.detectors.validate()?;
        for (index, canary) in self.canaries.iter().enumerate() {
            let key = format!("canaries[{index}]");
            if crate::user::normalise(&canary.user, self.stitching.strip_at_domain).is_none() {
                return Err(ConfigError::invalid(
                    format!("{key}.user"),
                    &canary.user,
                    "a user name",
                ));
            }
            crate::canary::Schedule::parse(&canary.schedule).map_err(|allowed| {
                ConfigError::invalid(format!("{key}.schedule"), &canary.schedule, allowed)
            })?;
            positive(&format!("{key}.grace_secs"), canary.grace_secs)?;
        }
        for (index, certificate) in self.certificates.iter().enumerate() {
            let key = format!("certificates[{index}]");
            if certificate.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("{key}.name"),
                    "\"\"",
                    "a non-empty name",
                ));
            }
            if crate::time::parse_rfc3339(&certificate.expires).is_none() {
                return Err(ConfigError::invalid(
                    format!("{key}.expires"),
                    &certificate.expires,
                    "an RFC 3339 time such as 2026-05-01T00:00:00Z",
                ));
            }
            if self.certificates[..index]
                .iter()
                .any(|other| other.name == certificate.name)
            {
                return Err(ConfigError::invalid(
                    format!("{key}.name"),
                    &certificate.name,
                    "a name not used by another certificate",
                ));
            }
        }
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate(&format!("rules[{index}]"))?;
        }
        if self.findings.max_example_users > 5 {
            return Err(ConfigError::invalid(
                "findings.max_example_users",
                self.findings.max_example_users,
                "0 to 5",
            ));
        }
        if self
            .findings
            .pseudonym_key
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Err(ConfigError::invalid(
                "findings.pseudonym_key",
                "\"\"",
                "a non-empty key, or no key",
            ));
        }
        Ok(())
    }

    fn validate_baseline(&self) -> Result<(), ConfigError> {
        let baseline = &self.baseline;
        if !(-1440..=1440).contains(&baseline.utc_offset_minutes) {
            return Err(ConfigError::invalid(
                "baseline.utc_offset_minutes",
                baseline.utc_offset_minutes,
                "-1440 to 1440",
            ));
        }
        if baseline.slot == SlotKind::Shift && baseline.shifts.is_empty() {
            return Err(ConfigError::invalid(
                "baseline.shifts",
                "[]",
                "at least one shift when slot = \"shift\"",
            ));
        }
        for (index, shift) in baseline.shifts.iter().enumerate() {
            if shift.start_hour > 23 {
                return Err(ConfigError::invalid(
                    format!("baseline.shifts[{index}].start_hour"),
                    shift.start_hour,
                    "0 to 23",
                ));
            }
            if shift.end_hour == 0 || shift.end_hour > 24 || shift.end_hour == shift.start_hour {
                return Err(ConfigError::invalid(
                    format!("baseline.shifts[{index}].end_hour"),
                    shift.end_hour,
                    "1 to 24 and different from start_hour",
                ));
            }
        }
        fraction("baseline.slot_decay", baseline.slot_decay)?;
        fraction("baseline.scope_decay", baseline.scope_decay)?;
        Ok(())
    }
}

/// Converts seconds to milliseconds, saturating.
pub fn secs_to_ms(secs: u64) -> Millis {
    i64::try_from(secs)
        .unwrap_or(i64::MAX / SECOND)
        .saturating_mul(SECOND)
}

pub(crate) fn positive(key: &str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::invalid(key, value, "a positive integer"));
    }
    Ok(())
}

pub(crate) fn fraction(key: &str, value: f64) -> Result<(), ConfigError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(ConfigError::invalid(key, value, "a number from 0 to 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_gives_defaults() {
        let config = Config::from_toml_str("", "<test>").expect("defaults are valid");
        assert_eq!(config, Config::default());
        assert_eq!(config.windows.size_ms(), 300_000);
        assert_eq!(config.stitching.timeout_ms(), 60_000);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let error =
            Config::from_toml_str("[windows]\nsize = 60\n", "<test>").expect_err("unknown key");
        assert!(error.to_string().contains("size"), "{error}");
    }

    #[test]
    fn invalid_value_names_key_and_range() {
        let error =
            Config::from_toml_str("[windows]\nsize_secs = 0\n", "<test>").expect_err("zero size");
        let message = error.to_string();
        assert!(message.contains("windows.size_secs"), "{message}");
        assert!(message.contains("positive"), "{message}");
    }

    #[test]
    fn canary_schedule_is_checked() {
        let text =
            "[[canaries]]\nuser = \"canary-ios\"\nplatform = \"ios\"\nschedule = \"sometimes\"\n";
        let error = Config::from_toml_str(text, "<test>").expect_err("bad schedule");
        assert!(
            error.to_string().contains("canaries[0].schedule"),
            "{error}"
        );
    }

    #[test]
    fn sites_and_inventory_path_resolve() {
        let text = "[sites]\n\"10.1.0.1\" = \"hq\"\n[inventory]\npath = \"tokens.csv\"\n";
        let mut config = Config::from_toml_str(text, "<test>").expect("valid");
        config.resolve_paths(Path::new("/etc/pushwatch"));
        assert_eq!(config.sites.get("10.1.0.1").map(String::as_str), Some("hq"));
        assert_eq!(
            config.inventory.path.as_deref(),
            Some(Path::new("/etc/pushwatch/tokens.csv"))
        );
    }
}
