//! Classified login attempts: the output of stitching and the unit that windows count.

use serde::{Deserialize, Serialize};

use crate::inventory::Platform;
use crate::time::Millis;

/// Outcome class of one login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    /// The user approved the push.
    PushApproved,
    /// The user denied the push (a configured failure reason).
    PushDenied,
    /// No outcome within the attempt timeout, or a FortiGate login failure after the challenge.
    PushTimeout,
    /// The user gave up: a new challenge for the same user and NAS before the timeout, or a
    /// configured failure reason.
    PushCancelled,
    /// A typed code from a user who does not use push.
    TotpDirect,
    /// A typed code from a user who approved a push recently, or after a push attempt in the
    /// same login.
    TotpFallback,
    /// Wrong typed codes and no success before the timeout.
    TotpFailed,
    /// Success with SMS, email or no token.
    OtherFactor,
    /// The first factor (password or user name) failed.
    FirstFactorFailed,
}

impl OutcomeClass {
    /// Every class, in declaration order (the order of counters in window statistics).
    pub const ALL: [OutcomeClass; 9] = [
        OutcomeClass::PushApproved,
        OutcomeClass::PushDenied,
        OutcomeClass::PushTimeout,
        OutcomeClass::PushCancelled,
        OutcomeClass::TotpDirect,
        OutcomeClass::TotpFallback,
        OutcomeClass::TotpFailed,
        OutcomeClass::OtherFactor,
        OutcomeClass::FirstFactorFailed,
    ];

    /// Returns the position of this class in [`OutcomeClass::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Returns the snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeClass::PushApproved => "push_approved",
            OutcomeClass::PushDenied => "push_denied",
            OutcomeClass::PushTimeout => "push_timeout",
            OutcomeClass::PushCancelled => "push_cancelled",
            OutcomeClass::TotpDirect => "totp_direct",
            OutcomeClass::TotpFallback => "totp_fallback",
            OutcomeClass::TotpFailed => "totp_failed",
            OutcomeClass::OtherFactor => "other_factor",
            OutcomeClass::FirstFactorFailed => "first_factor_failed",
        }
    }

    /// Returns whether the class is a push or typed-code outcome, the denominator of the push and
    /// TOTP shares.
    pub fn is_second_factor(self) -> bool {
        !matches!(
            self,
            OutcomeClass::OtherFactor | OutcomeClass::FirstFactorFailed
        )
    }

    /// Returns whether the class is a typed-code outcome.
    pub fn is_totp(self) -> bool {
        matches!(
            self,
            OutcomeClass::TotpDirect | OutcomeClass::TotpFallback | OutcomeClass::TotpFailed
        )
    }

    /// Returns whether the class is a push that did not end in an approval.
    pub fn is_failed_push(self) -> bool {
        matches!(
            self,
            OutcomeClass::PushDenied | OutcomeClass::PushTimeout | OutcomeClass::PushCancelled
        )
    }
}

/// One stitched and classified login attempt. Serialised with ECS-like field names for the
/// optional attempts topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginAttempt {
    /// Event time of the attempt: the challenge time when one was logged, else the outcome time.
    #[serde(rename = "@timestamp")]
    pub time: Millis,
    /// Event time of the outcome (for a timeout, the challenge time plus the timeout).
    #[serde(rename = "event.end")]
    pub end: Millis,
    /// Outcome class.
    #[serde(rename = "event.outcome_class")]
    pub class: OutcomeClass,
    /// Normalised user name.
    #[serde(rename = "user.name")]
    pub user: String,
    /// Realm or domain prefix of the logged user name.
    #[serde(rename = "user.domain", skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// NAS address (FortiGate RADIUS source address) or FortiGate name.
    #[serde(
        rename = "observer.ingress.nas",
        skip_serializing_if = "Option::is_none"
    )]
    pub nas: Option<String>,
    /// Site name from the `[sites]` map.
    #[serde(rename = "observer.site", skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Sending FortiAuthenticator node.
    #[serde(rename = "observer.name", skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Client IP address.
    #[serde(rename = "source.ip", skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Phone platform from the token inventory.
    #[serde(rename = "device.os.type")]
    pub platform: Platform,
    /// Push approval latency from the challenge, in milliseconds.
    #[serde(rename = "event.duration_ms", skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Failure reason text, when one was logged.
    #[serde(rename = "event.reason", skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the user is a configured canary account (kept out of population statistics).
    #[serde(rename = "user.canary")]
    pub canary: bool,
}
