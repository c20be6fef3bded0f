//! Signals, the MFA meaning of one log line: the output of the rule table and the input of stitching.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// The MFA meaning of one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// First factor accepted, challenge sent (FortiAuthenticator 20299, status Pending).
    ChallengeSent,
    /// FortiToken Mobile push approved (FortiAuthenticator 20002 with the push suffix).
    PushApproved,
    /// A typed FortiToken code was accepted (FortiAuthenticator 20002 without the push suffix).
    CodeAccepted,
    /// A typed code was wrong (FortiAuthenticator 20103, or 20001 Failed).
    WrongCode,
    /// A FortiToken failure with a reason other than a wrong code; the reason is kept.
    TokenFailure,
    /// Push denied by the user (only from a configured failure reason).
    PushDenied,
    /// Push cancelled (only from a configured failure reason).
    PushCancelled,
    /// Success with SMS, email or no token (FortiAuthenticator 20000).
    OtherFactorSuccess,
    /// The first factor failed (FortiAuthenticator 20101/20102 "with no token failed").
    FirstFactorFailed,
    /// FortiGate-local FortiToken Mobile push sent (0100032160).
    PushSent,
    /// FortiGate-local FortiToken Mobile push failed (0100032161).
    PushFailed,
    /// FortiGate user authentication success (0102043008).
    #[serde(rename = "fortigate_auth_success")]
    FortiGateAuthSuccess,
    /// FortiGate user authentication failure (0102043009).
    #[serde(rename = "fortigate_auth_failure")]
    FortiGateAuthFailure,
    /// FortiGate user authentication lockout (0102043010).
    #[serde(rename = "fortigate_auth_lockout")]
    FortiGateAuthLockout,
    /// SSL VPN tunnel up (0101039424, 0101039947).
    VpnTunnelUp,
    /// SSL VPN login failure (0101039426).
    VpnLoginFailure,
    /// FortiToken Mobile deprovisioned a user (FortiAuthenticator 30909).
    FtmDeprovisioned,
    /// HA role change (FortiAuthenticator 40000, FortiGate 0108037892).
    HaRoleChange,
    /// The push daemon reported an error (`pushd error` anywhere in a FortiAuthenticator line).
    PushdError,
    /// The phone rejected the server certificate (`invalid server certificate`).
    CertificateError,
    /// FortiGate authentication daemon failure counts (0100022113).
    FnbamdFailures,
}

impl SignalKind {
    /// Every kind, in declaration order.
    pub const ALL: [SignalKind; 21] = [
        SignalKind::ChallengeSent,
        SignalKind::PushApproved,
        SignalKind::CodeAccepted,
        SignalKind::WrongCode,
        SignalKind::TokenFailure,
        SignalKind::PushDenied,
        SignalKind::PushCancelled,
        SignalKind::OtherFactorSuccess,
        SignalKind::FirstFactorFailed,
        SignalKind::PushSent,
        SignalKind::PushFailed,
        SignalKind::FortiGateAuthSuccess,
        SignalKind::FortiGateAuthFailure,
        SignalKind::FortiGateAuthLockout,
        SignalKind::VpnTunnelUp,
        SignalKind::VpnLoginFailure,
        SignalKind::FtmDeprovisioned,
        SignalKind::HaRoleChange,
        SignalKind::PushdError,
        SignalKind::CertificateError,
        SignalKind::FnbamdFailures,
    ];

    /// Returns the snake_case name used in configuration and output.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::ChallengeSent => "challenge_sent",
            SignalKind::PushApproved => "push_approved",
            SignalKind::CodeAccepted => "code_accepted",
            SignalKind::WrongCode => "wrong_code",
            SignalKind::TokenFailure => "token_failure",
            SignalKind::PushDenied => "push_denied",
            SignalKind::PushCancelled => "push_cancelled",
            SignalKind::OtherFactorSuccess => "other_factor_success",
            SignalKind::FirstFactorFailed => "first_factor_failed",
            SignalKind::PushSent => "push_sent",
            SignalKind::PushFailed => "push_failed",
            SignalKind::FortiGateAuthSuccess => "fortigate_auth_success",
            SignalKind::FortiGateAuthFailure => "fortigate_auth_failure",
            SignalKind::FortiGateAuthLockout => "fortigate_auth_lockout",
            SignalKind::VpnTunnelUp => "vpn_tunnel_up",
            SignalKind::VpnLoginFailure => "vpn_login_failure",
            SignalKind::FtmDeprovisioned => "ftm_deprovisioned",
            SignalKind::HaRoleChange => "ha_role_change",
            SignalKind::PushdError => "pushd_error",
            SignalKind::CertificateError => "certificate_error",
            SignalKind::FnbamdFailures => "fnbamd_failures",
        }
    }

    /// Returns whether lines of this kind are only counted: no stitching, window or detector
    /// step reads them. FortiGate success and tunnel lines do not name the factor used,
    /// and FortiGate-local push lines name no user (FortiOS Log Message Reference, 32160), so
    /// none of them can be joined to a login attempt.
    pub fn is_context_only(self) -> bool {
        matches!(
            self,
            SignalKind::FortiGateAuthSuccess
                | SignalKind::VpnTunnelUp
                | SignalKind::PushSent
                | SignalKind::FnbamdFailures
        )
    }

    /// Returns whether this kind reports a broken push service rather than one login.
    pub fn is_push_service_error(self) -> bool {
        matches!(
            self,
            SignalKind::PushFailed
                | SignalKind::PushdError
                | SignalKind::FtmDeprovisioned
                | SignalKind::CertificateError
        )
    }
}

/// The factor of an [`SignalKind::OtherFactorSuccess`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherFactor {
    /// SMS token.
    Sms,
    /// Email token.
    Email,
    /// No second factor.
    None,
}

/// One line's MFA meaning with the fields stitching needs. Absent values (`N/A`, `(null)`,
/// empty) are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthSignal {
    /// Event time of the line.
    pub time: Millis,
    /// Meaning of the line.
    pub kind: SignalKind,
    /// User name as logged, not yet normalised.
    pub user: Option<String>,
    /// RADIUS client (NAS) address as logged by FortiAuthenticator, or the FortiGate's own
    /// serial or device name for FortiGate lines.
    pub nas: Option<String>,
    /// Client IP address.
    pub client_ip: Option<String>,
    /// Failure reason or other detail (for FortiToken failures, the text after `failed: `).
    pub reason: Option<String>,
    /// Factor of an other-factor success.
    pub factor: Option<OtherFactor>,
    /// Name of the sending device (FortiGate devname or serial, FortiAuthenticator host).
    pub source: Option<String>,
    /// The line's free-text message, kept for certificate matching and evidence.
    pub message: Option<String>,
}

impl AuthSignal {
    /// Creates a signal of `kind` at `time` with every optional field absent.
    pub fn new(time: Millis, kind: SignalKind) -> Self {
        AuthSignal {
            time,
            kind,
            user: None,
            nas: None,
            client_ip: None,
            reason: None,
            factor: None,
            source: None,
            message: None,
        }
    }

    /// Sets the user name.
    pub fn with_user(mut self, user: &str) -> Self {
        self.user = Some(user.to_owned());
        self
    }

    /// Sets the NAS address.
    pub fn with_nas(mut self, nas: &str) -> Self {
        self.nas = Some(nas.to_owned());
        self
    }

    /// Sets the reason.
    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_owned());
        self
    }

    /// Sets the sending device.
    pub fn with_source(mut self, source: &str) -> Self {
        self.source = Some(source.to_owned());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_unique() {
        let mut names: Vec<&str> = SignalKind::ALL.iter().map(|kind| kind.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SignalKind::ALL.len());
    }

    #[test]
    fn kind_names_match_serde() {
        for kind in SignalKind::ALL {
            let json = serde_json::to_string(&kind).expect("serialisable kind");
            assert_eq!(json.trim_matches('"'), kind.as_str());
        }
    }
}
