//! `[detectors.<name>]` tables: thresholds of every detector with their defaults.

use serde::{Deserialize, Serialize};

use crate::config::{fraction, positive, ConfigError, ScopeKind};

/// All detector tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorsConfig {
    /// `[detectors.push_silence]`.
    pub push_silence: PushSilenceConfig,
    /// `[detectors.push_success_drop]`.
    pub push_success_drop: PushSuccessDropConfig,
    /// `[detectors.fallback_surge]`.
    pub fallback_surge: FallbackSurgeConfig,
    /// `[detectors.platform_divergence]`.
    pub platform_divergence: PlatformDivergenceConfig,
    /// `[detectors.approval_latency]`.
    pub approval_latency: ApprovalLatencyConfig,
    /// `[detectors.push_service_errors]`.
    pub push_service_errors: PushServiceErrorsConfig,
    /// `[detectors.ha_failover]`.
    pub ha_failover: HaFailoverConfig,
    /// `[detectors.mfa_fatigue]`.
    pub mfa_fatigue: MfaFatigueConfig,
    /// `[detectors.source_silence]`.
    pub source_silence: SourceSilenceConfig,
    /// `[detectors.canary_missed]`.
    pub canary_missed: CanaryMissedConfig,
    /// `[detectors.certificate_expiring]`.
    pub certificate_expiring: CertificateExpiringConfig,
}

/// `[detectors.push_silence]`: no push approvals in a scope where the baseline has many, while
/// logins go on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSilenceConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Scope kinds evaluated. Default global, site, node, platform.
    pub scopes: Vec<ScopeKind>,
    /// Minimum second-factor attempts in a window to evaluate it. Default 10.
    pub min_samples: u64,
    /// Minimum distinct users in a window to evaluate it. Default 5.
    pub min_users: u64,
    /// Consecutive firing windows before the finding opens. Default 2.
    pub fire_windows: u32,
    /// Consecutive clear windows before it resolves. Default 2.
    pub clear_windows: u32,
    /// Fires when push approvals are at most this count. Default 0.
    pub fire_max_approvals: u64,
    /// Evaluated only where the baseline push success share is at least this. Default 0.3.
    pub min_baseline_share: f64,
    /// Clears when the push success share is at least this fraction of the baseline.
    /// Default 0.5.
    pub clear_ratio: f64,
}

impl Default for PushSilenceConfig {
    fn default() -> Self {
        PushSilenceConfig {
            enabled: true,
            scopes: vec![
                ScopeKind::Global,
                ScopeKind::Site,
                ScopeKind::Node,
                ScopeKind::Platform,
            ],
            min_samples: 10,
            min_users: 5,
            fire_windows: 2,
            clear_windows: 2,
            fire_max_approvals: 0,
            min_baseline_share: 0.3,
            clear_ratio: 0.5,
        }
    }
}

/// `[detectors.push_success_drop]`: push success share well under the baseline (but not zero,
/// which is push silence and suppresses this detector for the same scope).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushSuccessDropConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Scope kinds evaluated. Default global, site, platform.
    pub scopes: Vec<ScopeKind>,
    /// Minimum second-factor attempts in a window. Default 20.
    pub min_samples: u64,
    /// Minimum distinct users in a window. Default 5.
    pub min_users: u64,
    /// Consecutive firing windows before opening. Default 2.
    pub fire_windows: u32,
    /// Consecutive clear windows before resolving. Default 2.
    pub clear_windows: u32,
    /// Evaluated only where the baseline push success share is at least this. Default 0.3.
    pub min_baseline_share: f64,
    /// Fires when the share is below `baseline × (1 − fire_drop)`. Default 0.5.
    pub fire_drop: f64,
    /// Clears when the share is at least `baseline × (1 − clear_drop)`. Default 0.25.
    pub clear_drop: f64,
}

impl Default for PushSuccessDropConfig {
    fn default() -> Self {
        PushSuccessDropConfig {
            enabled: true,
            scopes: vec![ScopeKind::Global, ScopeKind::Site, ScopeKind::Platform],
            min_samples: 20,
            min_users: 5,
            fire_windows: 2,
            clear_windows: 2,
            min_baseline_share: 0.3,
            fire_drop: 0.5,
            clear_drop: 0.25,
        }
    }
}

/// `[detectors.fallback_surge]`: share of TOTP fallbacks above the baseline of its time slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FallbackSurgeConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Scope kinds evaluated. Default global, site, platform.
    pub scopes: Vec<ScopeKind>,
    /// Minimum second-factor attempts in a window. Default 10.
    pub min_samples: u64,
    /// Minimum distinct users in a window. Default 5.
    pub min_users: u64,
    /// Minimum TOTP fallbacks in a window to fire. Default 5.
    pub min_fallbacks: u64,
    /// Consecutive firing windows before opening. Default 2.
    pub fire_windows: u32,
    /// Consecutive clear windows before resolving. Default 2.
    pub clear_windows: u32,
    /// Fires when the fallback share exceeds the baseline by at least this many share points
    /// (0–1). Default 0.2.
    pub fire_increase: f64,
    /// Clears when the excess is at most this. Default 0.1.
    pub clear_increase: f64,
}

impl Default for FallbackSurgeConfig {
    fn default() -> Self {
        FallbackSurgeConfig {
            enabled: true,
            scopes: vec![ScopeKind::Global, ScopeKind::Site, ScopeKind::Platform],
            min_samples: 10,
            min_users: 5,
            min_fallbacks: 5,
            fire_windows: 2,
            clear_windows: 2,
            fire_increase: 0.2,
            clear_increase: 0.1,
        }
    }
}

/// `[detectors.platform_divergence]`: one platform's push success share falls against its
/// baseline while the other platform's holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformDivergenceConfig {
    /// Run the detector (it also needs an inventory). Default true.
    pub enabled: bool,
    /// Minimum second-factor attempts per platform in a window. Default 10.
    pub min_samples: u64,
    /// Minimum distinct users per platform in a window. Default 5.
    pub min_users: u64,
    /// Consecutive firing windows before opening. Default 2.
    pub fire_windows: u32,
    /// Consecutive clear windows before resolving. Default 2.
    pub clear_windows: u32,
    /// The falling platform's share is below `baseline × (1 − fire_drop)`. Default 0.5.
    pub fire_drop: f64,
    /// The other platform's share is at least `baseline × (1 − hold_tolerance)`. Default 0.25.
    pub hold_tolerance: f64,
    /// Clears when the falling platform is back to `baseline × (1 − clear_drop)`. Default 0.25.
    pub clear_drop: f64,
}

impl Default for PlatformDivergenceConfig {
    fn default() -> Self {
        PlatformDivergenceConfig {
            enabled: true,
            min_samples: 10,
            min_users: 5,
            fire_windows: 2,
            clear_windows: 2,
            fire_drop: 0.5,
            hold_tolerance: 0.25,
            clear_drop: 0.25,
        }
    }
}

/// `[detectors.approval_latency]`: median approval latency well above the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalLatencyConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Scope kinds evaluated. Default global, site, platform.
    pub scopes: Vec<ScopeKind>,
    /// Minimum push approvals in a window. Default 10.
    pub min_samples: u64,
    /// Minimum distinct users in a window. Default 5.
    pub min_users: u64,
    /// Consecutive firing windows before opening. Default 2.
    pub fire_windows: u32,
    /// Consecutive clear windows before resolving. Default 2.
    pub clear_windows: u32,
    /// Fires when p50 is at least this multiple of the baseline p50. Default 2.0.
    pub fire_ratio: f64,
    /// … and at least this many milliseconds above it. Default 5000.
    pub min_increase_ms: u64,
    /// Clears when p50 is at most this multiple of the baseline. Default 1.5.
    pub clear_ratio: f64,
}

impl Default for ApprovalLatencyConfig {
    fn default() -> Self {
        ApprovalLatencyConfig {
            enabled: true,
            scopes: vec![ScopeKind::Global, ScopeKind::Site, ScopeKind::Platform],
            min_samples: 10,
            min_users: 5,
            fire_windows: 2,
            clear_windows: 2,
            fire_ratio: 2.0,
            min_increase_ms: 5_000,
            clear_ratio: 1.5,
        }
    }
}

/// `[detectors.push_service_errors]`: FortiGate push failures, `pushd error`, FortiToken Mobile
/// deprovisioning and certificate errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushServiceErrorsConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Error events in one window that open the finding. Default 1.
    pub fire_count: u64,
    /// Consecutive windows without error events before it resolves. Default 3.
    pub clear_windows: u32,
}

impl Default for PushServiceErrorsConfig {
    fn default() -> Self {
        PushServiceErrorsConfig {
            enabled: true,
            fire_count: 1,
            clear_windows: 3,
        }
    }
}

/// `[detectors.ha_failover]`: HA role changes, reported as context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HaFailoverConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Windows without HA events before the finding resolves; findings opened within this many
    /// windows of a role change list it among their probable causes. Default 3.
    pub context_windows: u32,
}

impl Default for HaFailoverConfig {
    fn default() -> Self {
        HaFailoverConfig {
            enabled: true,
            context_windows: 3,
        }
    }
}

/// `[detectors.mfa_fatigue]`: many push denials or timeouts for one user in a short time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaFatigueConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Sliding period in seconds. Default 600.
    pub period_secs: u64,
    /// Denials, timeouts and cancellations for one user within the period that open the
    /// finding. Default 5.
    pub fire_count: u64,
    /// Seconds without such outcomes for the user before the finding resolves. Default 1800.
    pub clear_secs: u64,
    /// While at most this many users have an open fatigue finding, their attempts are left
    /// out of the population windows. With more, the failures are taken for an outage (a push
    /// outage makes every retrying user look attacked) and stay in. Default 3.
    pub max_excluded_users: u64,
}

impl Default for MfaFatigueConfig {
    fn default() -> Self {
        MfaFatigueConfig {
            enabled: true,
            period_secs: 600,
            fire_count: 5,
            clear_secs: 1_800,
            max_excluded_users: 3,
        }
    }
}

/// `[detectors.source_silence]`: a device that usually sends at this time of week stops sending
/// while others go on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceSilenceConfig {
    /// Run the detector. Default true.
    pub enabled: bool,
    /// Consecutive empty windows of the source that open the finding. Default 3.
    pub silent_windows: u32,
    /// Lines per window the source's baseline for the time slot must reach (the slot needs
    /// `baseline.min_slot_windows` learned windows). Default 20.
    pub min_lines_per_window: u64,
    /// Share of the slot's learned windows that must have had lines (0–1). Default 0.9.
    pub min_active_share: f64,
}

impl Default for SourceSilenceConfig {
    fn default() -> Self {
        SourceSilenceConfig {
            enabled: true,
            silent_windows: 3,
            min_lines_per_window: 20,
            min_active_share: 0.9,
        }
    }
}

/// `[detectors.canary_missed]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CanaryMissedConfig {
    /// Run the detector (needs `[[canaries]]`). Default true.
    pub enabled: bool,
}

impl Default for CanaryMissedConfig {
    fn default() -> Self {
        CanaryMissedConfig { enabled: true }
    }
}

/// `[detectors.certificate_expiring]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificateExpiringConfig {
    /// Run the detector (needs `[[certificates]]`). Default true.
    pub enabled: bool,
    /// Days before expiry at which the finding opens. Default 30.
    pub open_days: u64,
    /// Days before expiry at which it is updated, in decreasing order. Default [10, 1].
    pub update_days: Vec<u64>,
}

impl Default for CertificateExpiringConfig {
    fn default() -> Self {
        CertificateExpiringConfig {
            enabled: true,
            open_days: 30,
            update_days: vec![10, 1],
        }
    }
}

impl DetectorsConfig {
    /// Checks every threshold.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let d = &self.push_silence;
        windows("detectors.push_silence", d.fire_windows, d.clear_windows)?;
        fraction(
            "detectors.push_silence.min_baseline_share",
            d.min_baseline_share,
        )?;
        fraction("detectors.push_silence.clear_ratio", d.clear_ratio)?;
        let d = &self.push_success_drop;
        windows(
            "detectors.push_success_drop",
            d.fire_windows,
            d.clear_windows,
        )?;
        fraction(
            "detectors.push_success_drop.min_baseline_share",
            d.min_baseline_share,
        )?;
        fraction("detectors.push_success_drop.fire_drop", d.fire_drop)?;
        fraction("detectors.push_success_drop.clear_drop", d.clear_drop)?;
        ordered(
            "detectors.push_success_drop.clear_drop",
            d.clear_drop,
            d.fire_drop,
            "fire_drop",
        )?;
        let d = &self.fallback_surge;
        windows("detectors.fallback_surge", d.fire_windows, d.clear_windows)?;
        fraction("detectors.fallback_surge.fire_increase", d.fire_increase)?;
        fraction("detectors.fallback_surge.clear_increase", d.clear_increase)?;
        ordered(
            "detectors.fallback_surge.clear_increase",
            d.clear_increase,
            d.fire_increase,
            "fire_increase",
        )?;
        let d = &self.platform_divergence;
        windows(
            "detectors.platform_divergence",
            d.fire_windows,
            d.clear_windows,
        )?;
        fraction("detectors.platform_divergence.fire_drop", d.fire_drop)?;
        fraction(
            "detectors.platform_divergence.hold_tolerance",
            d.hold_tolerance,
        )?;
        fraction("detectors.platform_divergence.clear_drop", d.clear_drop)?;
        ordered(
            "detectors.platform_divergence.clear_drop",
            d.clear_drop,
            d.fire_drop,
            "fire_drop",
        )?;
        let d = &self.approval_latency;
        windows(
            "detectors.approval_latency",
            d.fire_windows,
            d.clear_windows,
        )?;
        if d.fire_ratio.is_nan() || d.fire_ratio < 1.0 {
            return Err(ConfigError::invalid(
                "detectors.approval_latency.fire_ratio",
                d.fire_ratio,
                "a number of at least 1",
            ));
        }
        if !(d.clear_ratio >= 1.0 && d.clear_ratio <= d.fire_ratio) {
            return Err(ConfigError::invalid(
                "detectors.approval_latency.clear_ratio",
                d.clear_ratio,
                "a number from 1 to fire_ratio",
            ));
        }
        positive(
            "detectors.push_service_errors.fire_count",
            self.push_service_errors.fire_count,
        )?;
        positive(
            "detectors.push_service_errors.clear_windows",
            u64::from(self.push_service_errors.clear_windows),
        )?;
        positive(
            "detectors.ha_failover.context_windows",
            u64::from(self.ha_failover.context_windows),
        )?;
        positive(
            "detectors.mfa_fatigue.period_secs",
            self.mfa_fatigue.period_secs,
        )?;
        positive(
            "detectors.mfa_fatigue.fire_count",
            self.mfa_fatigue.fire_count,
        )?;
        positive(
            "detectors.mfa_fatigue.clear_secs",
            self.mfa_fatigue.clear_secs,
        )?;
        positive(
            "detectors.source_silence.silent_windows",
            u64::from(self.source_silence.silent_windows),
        )?;
        fraction(
            "detectors.source_silence.min_active_share",
            self.source_silence.min_active_share,
        )?;
        let c = &self.certificate_expiring;
        positive("detectors.certificate_expiring.open_days", c.open_days)?;
        let mut previous = c.open_days;
        for (index, days) in c.update_days.iter().enumerate() {
            if *days == 0 || *days >= previous {
                return Err(ConfigError::invalid(
                    format!("detectors.certificate_expiring.update_days[{index}]"),
                    days,
                    format!("a positive number of days below {previous} (the list decreases)"),
                ));
            }
            previous = *days;
        }
        Ok(())
    }
}

fn windows(prefix: &str, fire: u32, clear: u32) -> Result<(), ConfigError> {
    positive(&format!("{prefix}.fire_windows"), u64::from(fire))?;
    positive(&format!("{prefix}.clear_windows"), u64::from(clear))
}

fn ordered(key: &str, value: f64, limit: f64, limit_name: &str) -> Result<(), ConfigError> {
    if value > limit {
        return Err(ConfigError::invalid(
            key,
            value,
            format!("at most {limit_name} ({limit})"),
        ));
    }
    Ok(())
}
