//! The throughput mix: a deterministic stream of FortiGate traffic and UTM logs (about 35
//! fields, about 640 bytes a line), FortiGate user and VPN events, and FortiAuthenticator
//! lines. FortiGate lines come under three header styles: `<PRI>` only, a relay's RFC 3339
//! time and host, and RFC 3164 with PRI. Most lines carry quoted values with spaces; some carry `=` inside quotes
//! and `\"` or `\\` escapes. The same seed always gives the same bytes.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Datelike, Timelike};

use super::GenOptions;

/// 2024-05-13T00:00:00Z, the time of the first line.
const START_SECONDS: i64 = 1_715_558_400;

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound)) >> 64) as u64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Returns true with probability `percent` / 100.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A FortiGate of the mix.
struct Device {
    name: &'static str,
    serial: &'static str,
    /// Local UTC offset in seconds and as FortiOS writes it in `tz`.
    offset: i64,
    tz: &'static str,
    relay_host: &'static str,
}

const DEVICES: [Device; 6] = [
    Device {
        name: "fgt-hq01",
        serial: "FG100FTK23000001",
        offset: 7200,
        tz: "+0200",
        relay_host: "10.2.2.1",
    },
    Device {
        name: "fgt-hq02",
        serial: "FG100FTK23000002",
        offset: 7200,
        tz: "+0200",
        relay_host: "10.2.2.1",
    },
    Device {
        name: "fgt-branch-berlin",
        serial: "FG60FTK230000003",
        offset: 7200,
        tz: "+0200",
        relay_host: "10.2.2.2",
    },
    Device {
        name: "fgt-branch-nyc",
        serial: "FG60FTK230000004",
        offset: -14400,
        tz: "-0400",
        relay_host: "10.2.2.2",
    },
    Device {
        name: "fgt-dc01",
        serial: "FG400FTK2300005",
        offset: 0,
        tz: "+0000",
        relay_host: "10.2.2.3",
    },
    Device {
        name: "fgt-lab",
        serial: "FGVM01TM23000006",
        offset: 19800,
        tz: "+0530",
        relay_host: "10.2.2.3",
    },
];

const COUNTRIES: [&str; 7] = [
    "United States",
    "Germany",
    "Reserved",
    "France",
    "United Kingdom",
    "Netherlands",
    "Japan",
];
const APPS: [(&str, &str, u32); 6] = [
    ("HTTPS.BROWSER", "Web.Client", 40568),
    ("Microsoft.Office.365", "Collaboration", 43541),
    ("DNS", "Network.Service", 16195),
    ("Google.Services", "General.Interest", 43540),
    ("Slack", "Collaboration", 38005),
    ("SSL", "Network.Service", 15895),
];
const SERVICES: [&str; 5] = ["HTTPS", "HTTP", "DNS", "SSH", "RDP"];
const HOSTS: [&str; 6] = [
    "www.example.com",
    "login.example.net",
    "cdn.example.org",
    "api.example.com",
    "updates.example.net",
    "mail.example.org",
];
const CATEGORIES: [(&str, u32); 4] = [
    ("Malicious Websites", 26),
    ("Information Technology", 52),
    ("Search Engines and Portals", 41),
    ("Social Networking", 37),
];
const FAC_MESSAGES: [(u32, &str, &str); 6] = [
    (20299, "Pending", "Remote RADIUS user authentication partially done, remote server expecting challenge response"),
    (20002, "Success", "Remote LDAP user authentication from (null) with FortiToken successful (chosen FTM push notification)"),
    (20002, "Success", "Remote LDAP user authentication from (null) with FortiToken successful"),
    (20103, "Failed", "Remote LDAP user authentication from (null)  with FortiToken failed: invalid token."),
    (20000, "Success", "Remote LDAP user authentication with no token successful"),
    (30303, "", "Retrieved 25 user(s) from the remote LDAP server \"dc01 (10.0.17.37)\". (sync rule: App-Users)"),
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down civil time.
#[derive(Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Converts seconds since the epoch to a civil time in UTC.
fn civil(seconds: i64) -> Civil {
    let at = DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .naive_utc();
    Civil {
        year: i64::from(at.year()),
        month: at.month(),
        day: at.day(),
        hour: at.hour(),
        minute: at.minute(),
        second: at.second(),
    }
}

/// Appends the decimal digits of `value`.
fn push_number(line: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[at..]);
}

fn push_two(line: &mut Vec<u8>, value: u32) {
    line.push(b'0' + (value / 10 % 10) as u8);
    line.push(b'0' + (value % 10) as u8);
}

fn push_ip(line: &mut Vec<u8>, rng: &mut SplitMix64, first: u8) {
    push_number(line, u64::from(first));
    for _ in 0..3 {
        line.push(b'.');
        push_number(line, rng.below(254) + 1);
    }
}

/// Appends ` key=` then the value quoted.
fn quoted(line: &mut Vec<u8>, key: &str, value: &str) {
    line.push(b' ');
    line.extend_from_slice(key.as_bytes());
    line.extend_from_slice(b"=\"");
    line.extend_from_slice(value.as_bytes());
    line.push(b'"');
}

/// Appends ` key=value` with a number.
fn number(line: &mut Vec<u8>, key: &str, value: u64) {
    line.push(b' ');
    line.extend_from_slice(key.as_bytes());
    line.push(b'=');
    push_number(line, value);
}

/// The mix generator state: random numbers and the clock.
struct Mix {
    rng: SplitMix64,
    nanos: i64,
    line: Vec<u8>,
}

impl Mix {
    fn write_line(&mut self) {
        self.nanos += self.rng.below(2_000_000) as i64;
        self.line.clear();
        let kind = self.rng.below(100);
        if kind < 7 {
            self.fortiauthenticator();
            return;
        }
        let device = self.rng.pick(&DEVICES);
        self.header(device);
        self.fortios_start(device);
        match kind {
            7..=66 => self.traffic(),
            67..=78 => self.webfilter(),
            79..=86 => self.app_ctrl(),
            87..=91 => self.virus(),
            92..=95 => self.user_event(),
            _ => self.vpn_event(),
        }
    }

    /// Writes one of three header styles: `<PRI>` only, relay RFC 3339 + host, or RFC 3164
    /// with PRI.
    fn header(&mut self, device: &Device) {
        let style = self.rng.below(100);
        let pri: &[u8] = if self.rng.percent(80) {
            b"<189>"
        } else {
            b"<190>"
        };
        if style < 60 {
            self.line.extend_from_slice(pri);
        } else if style < 85 {
            let seconds = self.nanos.div_euclid(1_000_000_000);
            let at = civil(seconds);
            self.push_date(at);
            self.line.push(b'T');
            self.push_time(at);
            self.line.push(b'.');
            let micros = self.nanos.rem_euclid(1_000_000_000) / 1000;
            let text = format!("{micros:06}");
            self.line.extend_from_slice(text.as_bytes());
            self.line.extend_from_slice(b"+00:00 ");
            self.line.extend_from_slice(device.relay_host.as_bytes());
            self.line.push(b' ');
        } else {
            self.line.extend_from_slice(pri);
            let at = civil(self.nanos.div_euclid(1_000_000_000) + device.offset);
            self.push_bsd(at);
            self.line.extend_from_slice(device.name.as_bytes());
            self.line.push(b' ');
        }
    }

    fn push_date(&mut self, at: Civil) {
        push_number(&mut self.line, at.year as u64);
        self.line.push(b'-');
        push_two(&mut self.line, at.month);
        self.line.push(b'-');
        push_two(&mut self.line, at.day);
    }

    fn push_time(&mut self, at: Civil) {
        push_two(&mut self.line, at.hour);
        self.line.push(b':');
        push_two(&mut self.line, at.minute);
        self.line.push(b':');
        push_two(&mut self.line, at.second);
    }

    /// Appends `Mmm dd hh:mm:ss ` with the day padded by a space.
    fn push_bsd(&mut self, at: Civil) {
        let month = MONTHS[(at.month as usize).saturating_sub(1) % 12];
        self.line.extend_from_slice(month.as_bytes());
        self.line.push(b' ');
        if at.day < 10 {
            self.line.push(b' ');
            push_number(&mut self.line, u64::from(at.day));
        } else {
            push_two(&mut self.line, at.day);
        }
        self.line.push(b' ');
        self.push_time(at);
        self.line.push(b' ');
    }

    /// `date time devname devid eventtime tz`, the FortiOS 7.x field order.
    fn fortios_start(&mut self, device: &Device) {
        let at = civil(self.nanos.div_euclid(1_000_000_000) + device.offset);
        self.line.extend_from_slice(b"date=");
        self.push_date(at);
        self.line.extend_from_slice(b" time=");
        self.push_time(at);
        quoted(&mut self.line, "devname", device.name);
        quoted(&mut self.line, "devid", device.serial);
        number(&mut self.line, "eventtime", self.nanos as u64);
        quoted(&mut self.line, "tz", device.tz);
    }

    fn class(&mut self, logid: &str, log_type: &str, subtype: &str, level: &str) {
        quoted(&mut self.line, "logid", logid);
        quoted(&mut self.line, "type", log_type);
        quoted(&mut self.line, "subtype", subtype);
        quoted(&mut self.line, "level", level);
        quoted(&mut self.line, "vd", "root");
    }

    fn endpoints(&mut self) {
        self.line.extend_from_slice(b" srcip=");
        push_ip(&mut self.line, &mut self.rng, 10);
        number(&mut self.line, "srcport", 1024 + self.rng.below(64_000));
        quoted(&mut self.line, "srcintf", "port12");
        self.line.extend_from_slice(b" dstip=");
        push_ip(&mut self.line, &mut self.rng, 198);
        number(
            &mut self.line,
            "dstport",
            *self.rng.pick(&[443, 80, 53, 22, 3389]),
        );
        quoted(&mut self.line, "dstintf", "port11");
        quoted(&mut self.line, "srccountry", "Reserved");
        let country = *self.rng.pick(&COUNTRIES);
        quoted(&mut self.line, "dstcountry", country);
        number(
            &mut self.line,
            "sessionid",
            100_000 + self.rng.below(90_000_000),
        );
        number(&mut self.line, "proto", 6);
    }

    fn traffic(&mut self) {
        self.class("0000000013", "traffic", "forward", "notice");
        self.endpoints();
        let action = *self.rng.pick(&["close", "accept", "timeout", "deny"]);
        quoted(&mut self.line, "action", action);
        number(&mut self.line, "policyid", 1 + self.rng.below(40));
        quoted(&mut self.line, "policyname", "LAN to WAN outbound");
        let service = *self.rng.pick(&SERVICES);
        quoted(&mut self.line, "service", service);
        self.line.extend_from_slice(b" transip=");
        push_ip(&mut self.line, &mut self.rng, 203);
        number(&mut self.line, "transport", 1024 + self.rng.below(64_000));
        let (app, category, id) = *self.rng.pick(&APPS);
        number(&mut self.line, "appid", u64::from(id));
        quoted(&mut self.line, "app", app);
        quoted(&mut self.line, "appcat", category);
        quoted(&mut self.line, "apprisk", "elevated");
        number(&mut self.line, "duration", self.rng.below(3600));
        number(&mut self.line, "sentbyte", self.rng.below(10_000_000));
        number(&mut self.line, "rcvdbyte", self.rng.below(10_000_000));
        number(&mut self.line, "sentpkt", self.rng.below(10_000));
        number(&mut self.line, "rcvdpkt", self.rng.below(10_000));
        quoted(&mut self.line, "srcmac", "00:0c:29:4b:7a:11");
    }

    fn webfilter(&mut self) {
        self.class("0316013056", "utm", "webfilter", "warning");
        quoted(&mut self.line, "eventtype", "ftgd_blk");
        number(&mut self.line, "policyid", 1 + self.rng.below(40));
        self.endpoints();
        let host = *self.rng.pick(&HOSTS);
        quoted(&mut self.line, "hostname", host);
        quoted(&mut self.line, "profile", "default web filter");
        quoted(&mut self.line, "action", "blocked");
        quoted(&mut self.line, "reqtype", "direct");
        // `=` inside quotes must never start a field.
        let query = self.rng.below(1000);
        let url = format!("/search?q=vpn+token&srcip=10.9.9.9&page={query}&date=1999-01-01");
        quoted(&mut self.line, "url", &url);
        number(&mut self.line, "sentbyte", self.rng.below(100_000));
        number(&mut self.line, "rcvdbyte", self.rng.below(100_000));
        quoted(&mut self.line, "direction", "outgoing");
        let (category, id) = *self.rng.pick(&CATEGORIES);
        number(&mut self.line, "cat", u64::from(id));
        quoted(&mut self.line, "catdesc", category);
        quoted(
            &mut self.line,
            "msg",
            "URL belongs to a denied category in policy",
        );
        quoted(&mut self.line, "method", "domain");
        number(&mut self.line, "crscore", 30);
        quoted(&mut self.line, "crlevel", "high");
    }

    fn app_ctrl(&mut self) {
        self.class("1059028704", "utm", "app-ctrl", "information");
        quoted(&mut self.line, "eventtype", "signature");
        let (app, category, id) = *self.rng.pick(&APPS);
        number(&mut self.line, "appid", u64::from(id));
        self.endpoints();
        quoted(&mut self.line, "service", "HTTPS");
        quoted(&mut self.line, "direction", "outgoing");
        number(&mut self.line, "policyid", 1 + self.rng.below(40));
        quoted(&mut self.line, "applist", "g-default");
        quoted(&mut self.line, "appcat", category);
        quoted(&mut self.line, "app", app);
        quoted(&mut self.line, "action", "pass");
        let host = *self.rng.pick(&HOSTS);
        quoted(&mut self.line, "hostname", host);
        quoted(&mut self.line, "url", "/");
        quoted(
            &mut self.line,
            "msg",
            "Web.Client: HTTPS.BROWSER, detected by signature",
        );
        quoted(&mut self.line, "apprisk", "elevated");
        quoted(&mut self.line, "scertcname", host);
    }

    fn virus(&mut self) {
        self.class("0211008192", "utm", "virus", "warning");
        quoted(&mut self.line, "eventtype", "infected");
        number(&mut self.line, "policyid", 1 + self.rng.below(40));
        self.endpoints();
        quoted(&mut self.line, "service", "HTTP");
        quoted(&mut self.line, "profile", "default av");
        quoted(&mut self.line, "direction", "incoming");
        quoted(&mut self.line, "action", "blocked");
        // Escaped quotes and backslashes inside quoted values.
        quoted(
            &mut self.line,
            "filename",
            "reports\\\\Q2 \\\"final\\\".xls",
        );
        quoted(&mut self.line, "virus", "EICAR_TEST_FILE");
        quoted(&mut self.line, "dtype", "Virus");
        quoted(
            &mut self.line,
            "ref",
            "http://www.fortinet.com/ve?vn=EICAR_TEST_FILE",
        );
        number(&mut self.line, "virusid", 2_172);
        quoted(
            &mut self.line,
            "url",
            "http://downloads.example.com/eicar.com",
        );
        quoted(
            &mut self.line,
            "msg",
            "File is infected: \\\"eicar.com\\\" (signature EICAR_TEST_FILE)",
        );
        quoted(&mut self.line, "crlevel", "critical");
    }

    fn user(&mut self) -> String {
        format!("user{:04}", self.rng.below(500))
    }

    fn user_event(&mut self) {
        let success = self.rng.percent(80);
        let (logid, level) = if success {
            ("0102043008", "notice")
        } else {
            ("0102043009", "notice")
        };
        self.class(logid, "event", "user", level);
        let description = if success {
            "Authentication success"
        } else {
            "Authentication failed"
        };
        quoted(&mut self.line, "logdesc", description);
        self.line.extend_from_slice(b" srcip=");
        push_ip(&mut self.line, &mut self.rng, 10);
        self.line.extend_from_slice(b" dstip=");
        push_ip(&mut self.line, &mut self.rng, 10);
        number(&mut self.line, "policyid", 1 + self.rng.below(40));
        quoted(&mut self.line, "interface", "port10");
        let user = self.user();
        quoted(&mut self.line, "user", &user);
        quoted(&mut self.line, "group", "vpn-users");
        quoted(&mut self.line, "authproto", "HTTPS(10.1.100.11)");
        quoted(&mut self.line, "action", "authentication");
        quoted(
            &mut self.line,
            "status",
            if success { "success" } else { "failure" },
        );
        quoted(&mut self.line, "reason", "N/A");
        let verb = if success { "succeeded" } else { "failed" };
        let message = format!("User {user} {verb} in authentication");
        quoted(&mut self.line, "msg", &message);
    }

    fn vpn_event(&mut self) {
        let up = self.rng.percent(70);
        let (logid, level) = if up {
            ("0101039947", "information")
        } else {
            ("0101039426", "alert")
        };
        self.class(logid, "event", "vpn", level);
        let description = if up {
            "SSL VPN tunnel up"
        } else {
            "SSL VPN login fail"
        };
        quoted(&mut self.line, "logdesc", description);
        quoted(
            &mut self.line,
            "action",
            if up { "tunnel-up" } else { "ssl-login-fail" },
        );
        quoted(
            &mut self.line,
            "tunneltype",
            if up { "ssl-tunnel" } else { "ssl-web" },
        );
        number(&mut self.line, "tunnelid", self.rng.below(4_294_967_295));
        self.line.extend_from_slice(b" remip=");
        push_ip(&mut self.line, &mut self.rng, 198);
        if up {
            self.line.extend_from_slice(b" tunnelip=");
            push_ip(&mut self.line, &mut self.rng, 10);
        }
        let user = self.user();
        quoted(&mut self.line, "user", &user);
        quoted(&mut self.line, "group", "SSL_VPN");
        quoted(&mut self.line, "dst_host", "N/A");
        let reason = if up {
            "tunnel established"
        } else {
            "sslvpn_login_permission_denied"
        };
        quoted(&mut self.line, "reason", reason);
        let message = if up {
            "SSL tunnel established"
        } else {
            "SSL user failed to logged in"
        };
        quoted(&mut self.line, "msg", message);
    }

    /// Writes a FortiAuthenticator syslog line with an RFC 3164 header in UTC.
    fn fortiauthenticator(&mut self) {
        self.line.extend_from_slice(b"<134>");
        let at = civil(self.nanos.div_euclid(1_000_000_000));
        self.push_bsd(at);
        self.line.extend_from_slice(b"fac01 db[");
        push_number(&mut self.line, 1000 + self.rng.below(30_000));
        self.line.extend_from_slice(b"]: category=\"Event\"");
        let (typeid, status, message) = *self.rng.pick(&FAC_MESSAGES);
        let subcategory = if typeid == 30303 {
            "System"
        } else {
            "Authentication"
        };
        quoted(&mut self.line, "subcategory", subcategory);
        number(&mut self.line, "typeid", u64::from(typeid));
        quoted(&mut self.line, "level", "information");
        let user = self.user();
        quoted(&mut self.line, "user", &user);
        quoted(&mut self.line, "nas", "10.0.30.1");
        self.line.extend_from_slice(b" userip=\"");
        push_ip(&mut self.line, &mut self.rng, 10);
        self.line.push(b'"');
        quoted(&mut self.line, "action", "Authentication");
        quoted(&mut self.line, "status", status);
        self.line.push(b' ');
        self.line.extend_from_slice(message.as_bytes());
    }
}

/// Writes `options.lines` lines of the mix.
pub fn write(options: &GenOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut mix = Mix {
        rng: SplitMix64(options.seed),
        nanos: START_SECONDS * 1_000_000_000,
        line: Vec::with_capacity(1024),
    };
    for _ in 0..options.lines {
        mix.write_line();
        mix.line.push(b'\n');
        out.write_all(&mix.line)
            .context("failed to write generated lines")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(lines: u64, seed: u64) -> Vec<u8> {
        let options = GenOptions {
            lines,
            seed,
            side_files: None,
        };
        let mut out = Vec::new();
        write(&options, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    #[test]
    fn same_seed_same_bytes() {
        assert_eq!(generate(500, 7), generate(500, 7));
        assert_ne!(generate(500, 7), generate(500, 8));
    }

    #[test]
    fn line_count_and_size() {
        let out = generate(2000, 1);
        let lines: Vec<&[u8]> = out
            .split(|&byte| byte == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 2000);
        let average = out.len() / lines.len();
        assert!(
            (450..=750).contains(&average),
            "average line length {average}"
        );
    }

    #[test]
    fn civil_matches_known_dates() {
        let at = civil(START_SECONDS);
        assert_eq!((at.year, at.month, at.day, at.hour), (2024, 5, 13, 0));
        let at = civil(951_782_400);
        assert_eq!((at.year, at.month, at.day), (2000, 2, 29));
    }
}
