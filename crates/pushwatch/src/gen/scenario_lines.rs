//! Line builders and a seeded pseudo-random generator for the event-time scenarios.
//!
//! FortiAuthenticator lines use the syslog wire form behind a relay's RFC 3339 time and host
//! (`… fac01 db[2301]:  category="Event" … status="…" <free text>`), with the texts that the
//! FortiAuthenticator knowledge-base articles for events 20299, 20002, 20000 and 20102 quote.
//! FortiGate lines use the default `<PRI>date=… time=… devname=… eventtime=…` form.

use chrono::{DateTime, Utc};

/// UTC milliseconds since the Unix epoch.
pub type Millis = i64;

/// SplitMix64: small, fast and identical on every platform, so a seed gives the same bytes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Creates a generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x005E_ED0F_9A55_0A7C)
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns true with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Returns an integer in [low, high).
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        low + (self.next_u64() % (high - low) as u64) as i64
    }
}

fn datetime(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// A FortiAuthenticator syslog line received through a relay that prepends its RFC 3339 time
/// and the FortiAuthenticator's host name.
pub fn fac(
    time: Millis,
    host: &str,
    typeid: u32,
    status: &str,
    user: &str,
    nas: &str,
    text: &str,
) -> String {
    let stamp = datetime(time).format("%Y-%m-%dT%H:%M:%S%.3f+00:00");
    format!(
        "{stamp} {host} db[2301]:  category=\"Event\" subcategory=\"Authentication\" typeid={typeid} \
         level=\"information\" user=\"{user}\" nas=\"{nas}\" action=\"Authentication\" status=\"{status}\" {text}"
    )
}

/// FortiAuthenticator 20299 Pending: first factor accepted, challenge sent.
pub fn challenge(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20299,
        "Pending",
        user,
        nas,
        "Remote RADIUS user authentication partially done, remote server expecting challenge response",
    )
}

/// FortiAuthenticator 20002 with the push suffix: push approved.
pub fn push_approved(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20002,
        "Success",
        user,
        nas,
        "Remote LDAP user authentication from (null) with FortiToken successful (chosen FTM push notification)",
    )
}

/// FortiAuthenticator 20002 without the suffix: typed code accepted.
pub fn code_accepted(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20002,
        "Success",
        user,
        nas,
        "Remote LDAP user authentication from (null) with FortiToken successful",
    )
}

/// FortiAuthenticator 20000 with an SMS token.
pub fn sms_accepted(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20000,
        "Success",
        user,
        nas,
        "Remote LDAP user authentication with SMS token successful",
    )
}

/// FortiAuthenticator 20102: wrong password.
pub fn password_failed(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20102,
        "Failed",
        user,
        nas,
        &format!(
            "Remote LDAP user authentication from {nas}  with no token failed: invalid password."
        ),
    )
}

/// A FortiToken failure whose reason the scenario configuration lists as a denial. The wording
/// of a push denial is not publicly documented; this text is the scenarios' own.
pub fn push_denied(time: Millis, host: &str, user: &str, nas: &str) -> String {
    fac(
        time,
        host,
        20104,
        "Failed",
        user,
        nas,
        "Remote LDAP user authentication from (null) with FortiToken failed: push notification denied by user.",
    )
}

/// A FortiGate in the default syslog form.
#[derive(Debug, Clone)]
pub struct FortiGate {
    /// `devname`.
    pub devname: String,
    /// `devid` (serial).
    pub devid: String,
}

impl FortiGate {
    fn head(
        &self,
        time: Millis,
        pri: u8,
        logid: &str,
        kind: &str,
        subtype: &str,
        level: &str,
    ) -> String {
        let at = datetime(time);
        format!(
            "<{pri}>date={} time={} devname=\"{}\" devid=\"{}\" eventtime={} tz=\"+0000\" logid=\"{logid}\" \
             type=\"{kind}\" subtype=\"{subtype}\" level=\"{level}\" vd=\"root\"",
            at.format("%Y-%m-%d"),
            at.format("%H:%M:%S"),
            self.devname,
            self.devid,
            i128::from(time) * 1_000_000,
        )
    }

    /// SSL VPN tunnel up (0101039947).
    pub fn tunnel_up(&self, time: Millis, user: &str, remip: &str, tunnel: u64) -> String {
        format!(
            "{} logdesc=\"SSL VPN tunnel up\" action=\"tunnel-up\" tunneltype=\"ssl-tunnel\" tunnelid={tunnel} \
             remip={remip} tunnelip=10.212.{}.{} user=\"{user}\" group=\"vpn-users\" dst_host=\"N/A\" \
             reason=\"tunnel established\" msg=\"SSL tunnel established\"",
            self.head(time, 190, "0101039947", "event", "vpn", "information"),
            (tunnel / 250) % 250,
            tunnel % 250 + 1,
        )
    }

    /// A forward traffic log of a VPN session (0000000013), irrelevant to MFA.
    pub fn traffic(&self, time: Millis, source: &str, session: u64, bytes: u64) -> String {
        format!(
            "{} srcip={source} srcport={} srcintf=\"ssl.root\" dstip=10.10.0.5 dstport=443 dstintf=\"internal\" \
             sessionid={session} proto=6 action=\"close\" policyid=12 service=\"HTTPS\" duration={} \
             sentbyte={bytes} rcvdbyte={} sentpkt=40 rcvdpkt=52 appcat=\"unscanned\"",
            self.head(time, 189, "0000000013", "traffic", "forward", "notice"),
            40_000 + session % 20_000,
            session % 600,
            bytes * 7,
        )
    }
}
