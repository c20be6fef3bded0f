//! Event-time scenarios with a known outcome, and their side files (token inventory and
//! `pushwatch.toml`).
//!
//! - `push-outage`: three sites, 1800 users, 14 normal days from Monday 2026-03-02 (weekday
//!   shifts, quiet nights and weekends, some users who always type codes, a few push timeouts
//!   and denials), then on Monday 2026-03-16 iOS push approvals stop from 08:00 to 10:00 UTC
//!   while iOS users type codes instead, then recover.
//! - `fatigue`: the same population for three days; on Wednesday 2026-03-04 from 11:00 UTC one
//!   user is flooded with twelve push requests that time out or are denied.
//! - `canary`: a quiet Saturday (2026-03-07) with an iOS canary account that approves a push
//!   every hour; the 13:00 login never happens and the 16:00 login types a code.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::scenario_lines::{
    challenge, code_accepted, password_failed, push_approved, push_denied, sms_accepted, FortiGate,
    Millis, Rng,
};
use super::{GenOptions, Scenario};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// Monday 2026-03-02T00:00:00Z.
const START: Millis = 1_772_409_600_000;
/// Start of the iOS outage: Monday 2026-03-16T08:00:00Z (day 14).
pub const OUTAGE_START: Millis = START + 14 * DAY + 8 * HOUR;
/// End of the iOS outage: 2026-03-16T10:00:00Z.
pub const OUTAGE_END: Millis = START + 14 * DAY + 10 * HOUR;
/// First push request of the fatigue attack: Wednesday 2026-03-04T11:00:00Z.
pub const ATTACK_START: Millis = START + 2 * DAY + 11 * HOUR;
/// The attacked user of the fatigue scenario.
pub const ATTACKED_USER: &str = "u0042";
/// The canary account of the canary scenario.
pub const CANARY_USER: &str = "svc-canary-ios";
/// The Saturday of the canary scenario, 2026-03-07T00:00:00Z.
pub const CANARY_DAY: Millis = START + 5 * DAY;

const FAC_HOST: &str = "fac01";

/// Writes the lines of `scenario` and its side files.
pub fn write(scenario: Scenario, options: &GenOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut world = World::new(options.seed);
    if scenario == Scenario::PushOutage {
        world.ios_outage = Some((OUTAGE_START, OUTAGE_END));
    }
    let (lines, config) = match scenario {
        Scenario::PushOutage => (world.push_outage(options.seed), world.config(None)),
        Scenario::Fatigue => (world.fatigue(options.seed), world.config(None)),
        Scenario::Canary => (world.canary(options.seed), world.config(Some(CANARY_USER))),
        Scenario::Mix => anyhow::bail!("the mix is written by the mix generator"),
    };
    for line in &lines {
        out.write_all(line.as_bytes())
            .context("cannot write scenario lines")?;
        out.write_all(b"\n")
            .context("cannot write scenario lines")?;
    }
    if let Some(directory) = &options.side_files {
        write_side_files(directory, &world, &config)?;
    }
    Ok(())
}

/// Names of the side files that a scenario writes to its side-file directory: the token
/// inventory and the configuration that refers to it.
pub const SIDE_FILE_NAMES: [&str; 2] = ["inventory.csv", "pushwatch.toml"];

fn write_side_files(directory: &Path, world: &World, config: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create side-file directory {}", directory.display()))?;
    let [inventory_name, config_name] = SIDE_FILE_NAMES;
    let inventory = directory.join(inventory_name);
    std::fs::write(&inventory, world.inventory_csv())
        .with_context(|| format!("cannot write token inventory {}", inventory.display()))?;
    let config_path = directory.join(config_name);
    std::fs::write(&config_path, config)
        .with_context(|| format!("cannot write configuration {}", config_path.display()))?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Approves pushes.
    Push,
    /// Always types the code.
    Code,
    /// Uses an SMS token.
    Sms,
}

#[derive(Debug, Clone)]
struct User {
    name: String,
    site: usize,
    ios: bool,
    style: Style,
    serial: String,
}

#[derive(Debug, Clone)]
struct Site {
    name: &'static str,
    nas: &'static str,
    gate: FortiGate,
}

/// The sites, the users and their habits.
struct World {
    sites: Vec<Site>,
    users: Vec<User>,
    /// While this period lasts, pushes to iOS phones never arrive.
    ios_outage: Option<(Millis, Millis)>,
}

/// Push conditions during a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Pushes to iOS never arrive.
    IosOutage,
}

/// Lines of one day with their arrival times.
struct Day {
    lines: Vec<(Millis, u64, String)>,
    sequence: u64,
}

impl Day {
    fn new() -> Day {
        Day {
            lines: Vec::new(),
            sequence: 0,
        }
    }

    fn push(&mut self, arrival: Millis, line: String) {
        self.sequence += 1;
        self.lines.push((arrival, self.sequence, line));
    }

    fn into_lines(mut self) -> Vec<String> {
        self.lines
            .sort_by_key(|(arrival, sequence, _)| (*arrival, *sequence));
        self.lines.into_iter().map(|(_, _, line)| line).collect()
    }
}

impl World {
    fn new(seed: u64) -> World {
        let gate = |name: &str, serial: &str| FortiGate {
            devname: name.to_owned(),
            devid: serial.to_owned(),
        };
        let sites = vec![
            Site {
                name: "hq",
                nas: "10.1.0.1",
                gate: gate("fgt-hq", "FGT60F0000000001"),
            },
            Site {
                name: "branch-a",
                nas: "10.2.0.1",
                gate: gate("fgt-branch-a", "FGT60F0000000002"),
            },
            Site {
                name: "branch-b",
                nas: "10.3.0.1",
                gate: gate("fgt-branch-b", "FGT60F0000000003"),
            },
        ];
        let sizes = [900, 600, 300];
        let mut rng = Rng::new(seed ^ 0xA11CE);
        let mut users = Vec::new();
        for (site, size) in sizes.iter().enumerate() {
            for _ in 0..*size {
                let index = users.len() + 1;
                let roll = rng.unit();
                let style = if roll < 0.12 {
                    Style::Code
                } else if roll < 0.14 {
                    Style::Sms
                } else {
                    Style::Push
                };
                users.push(User {
                    name: format!("u{index:04}"),
                    site,
                    ios: rng.chance(0.5),
                    style,
                    serial: format!("FTKMOB{:010}", 4_000_000 + index),
                });
            }
        }
        World {
            sites,
            users,
            ios_outage: None,
        }
    }

    fn inventory_csv(&self) -> String {
        let mut text = String::from("user,serial,platform\n");
        for user in &self.users {
            let platform = if user.ios { "ios" } else { "android" };
            text.push_str(&format!("{},{},{platform}\n", user.name, user.serial));
        }
        text.push_str(&format!("{CANARY_USER},FTKMOB0009999999,ios\n"));
        text
    }

    fn config(&self, canary: Option<&str>) -> String {
        let mut text = String::from(
            "# pushwatch configuration written by `pushwatch gen` for its scenarios.\n\
             # Paths are relative to this file.\n\n[inventory]\npath = \"inventory.csv\"\n\n\
             [stitching]\n\
             # FortiAuthenticator's wording for a denied push is not publicly documented; the\n\
             # scenarios write \"push notification denied by user\".\n\
             denied_reasons = [\"denied by user\"]\n\n[sites]\n",
        );
        for site in &self.sites {
            text.push_str(&format!("\"{}\" = \"{}\"\n", site.nas, site.name));
            text.push_str(&format!("\"{}\" = \"{}\"\n", site.gate.devname, site.name));
            text.push_str(&format!("\"{}\" = \"{}\"\n", site.gate.devid, site.name));
        }
        if let Some(user) = canary {
            text.push_str(&format!(
                "\n[[canaries]]\nuser = \"{user}\"\nplatform = \"ios\"\nschedule = \"0 * * * *\"\ngrace_secs = 300\n"
            ));
        }
        text
    }

    /// Writes one login of `user` starting at `time`.
    fn login(&self, day: &mut Day, rng: &mut Rng, user: &User, time: Millis, mode: Mode) {
        let site = &self.sites[user.site];
        let nas = site.nas;
        let name = user.name.as_str();
        if rng.chance(0.01) {
            // Wrong password first, then the login proper.
            day.push(time, password_failed(time, FAC_HOST, name, nas));
            let retry = time + rng.range(15_000, 40_000);
            return self.login(day, rng, user, retry, mode);
        }
        day.push(time, challenge(time, FAC_HOST, name, nas));
        let outcome = match (user.style, mode) {
            (Style::Code, _) => {
                let at = time + rng.range(8_000, 25_000);
                day.push(at, code_accepted(at, FAC_HOST, name, nas));
                at
            }
            (Style::Sms, _) => {
                let at = time + rng.range(15_000, 40_000);
                day.push(at, sms_accepted(at, FAC_HOST, name, nas));
                at
            }
            (Style::Push, Mode::IosOutage) if user.ios => {
                if rng.chance(0.15) {
                    // Waits for the push until the attempt times out, then logs in again and
                    // types the code.
                    let again = time + rng.range(75_000, 110_000);
                    day.push(again, challenge(again, FAC_HOST, name, nas));
                    let at = again + rng.range(20_000, 40_000);
                    day.push(at, code_accepted(at, FAC_HOST, name, nas));
                    at
                } else {
                    let at = time + rng.range(25_000, 55_000);
                    day.push(at, code_accepted(at, FAC_HOST, name, nas));
                    at
                }
            }
            (Style::Push, _) => self.push_outcome(day, rng, user, time),
        };
        let tunnel_at = outcome + rng.range(500, 2_500);
        let tunnel = rng.next_u64() % 1_000_000_000;
        let remip = format!("198.51.100.{}", rng.range(1, 255));
        // FortiGate lines reach the collector up to 4 s after FortiAuthenticator's.
        day.push(
            tunnel_at + rng.range(0, 4_000),
            site.gate.tunnel_up(tunnel_at, name, &remip, tunnel),
        );
        let close_at = tunnel_at + rng.range(5 * MINUTE, 90 * MINUTE);
        let source = format!("10.212.{}.{}", (tunnel / 250) % 250, tunnel % 250 + 1);
        day.push(
            close_at + rng.range(0, 4_000),
            site.gate
                .traffic(close_at, &source, tunnel, rng.next_u64() % 5_000_000),
        );
    }

    /// Writes the outcome of a push login on a normal day: mostly approved, sometimes a typed code, a timeout or a
    /// denial followed by a successful retry. Returns the time of the successful outcome.
    fn push_outcome(&self, day: &mut Day, rng: &mut Rng, user: &User, time: Millis) -> Millis {
        let nas = self.sites[user.site].nas;
        let name = user.name.as_str();
        let roll = rng.unit();
        if roll < 0.93 {
            let at = time + 2_500 + (rng.unit() * rng.unit() * 12_000.0) as Millis;
            return self.approve(day, rng, user, at);
        }
        if roll < 0.96 {
            let at = time + rng.range(20_000, 45_000);
            day.push(at, code_accepted(at, FAC_HOST, name, nas));
            return at;
        }
        if roll < 0.985 {
            // No answer: the attempt times out, the user retries and approves.
            let again = time + rng.range(70_000, 150_000);
            day.push(again, challenge(again, FAC_HOST, name, nas));
            let at = again + rng.range(3_000, 9_000);
            return self.approve(day, rng, user, at);
        }
        let denied = time + rng.range(4_000, 15_000);
        day.push(denied, push_denied(denied, FAC_HOST, name, nas));
        let again = denied + rng.range(20_000, 60_000);
        day.push(again, challenge(again, FAC_HOST, name, nas));
        let at = again + rng.range(3_000, 9_000);
        self.approve(day, rng, user, at)
    }

    /// Writes the approval of a push due at `at`, or, when the push cannot reach the user's
    /// phone then, the code the user types instead 20-45 s later. Returns the outcome time.
    fn approve(&self, day: &mut Day, rng: &mut Rng, user: &User, at: Millis) -> Millis {
        let nas = self.sites[user.site].nas;
        let blocked = user.ios
            && self
                .ios_outage
                .is_some_and(|(start, end)| (start..end).contains(&at));
        if blocked {
            let typed = at + rng.range(20_000, 45_000);
            day.push(typed, code_accepted(typed, FAC_HOST, &user.name, nas));
            return typed;
        }
        day.push(at, push_approved(at, FAC_HOST, &user.name, nas));
        at
    }

    /// Writes every user's logins of one day. `mode_at` gives the mode of a login at a time.
    fn day(&self, rng: &mut Rng, start: Millis, mode_at: &dyn Fn(Millis) -> Mode) -> Day {
        let mut day = Day::new();
        let weekday = ((start - START).div_euclid(DAY)) % 7;
        let weekend = weekday >= 5;
        for user in &self.users {
            let mut times = Vec::new();
            if weekend {
                if rng.chance(0.04) {
                    times.push(start + rng.range(9 * HOUR, 17 * HOUR));
                }
            } else {
                if rng.chance(0.95) {
                    times.push(start + rng.range(7 * HOUR, 11 * HOUR));
                }
                if rng.chance(0.60) {
                    times.push(start + rng.range(12 * HOUR + 30 * MINUTE, 15 * HOUR + 30 * MINUTE));
                }
                if rng.chance(0.15) {
                    times.push(start + rng.range(15 * HOUR + 30 * MINUTE, 18 * HOUR));
                }
            }
            for time in times {
                self.login(&mut day, rng, user, time, mode_at(time));
            }
        }
        day
    }

    fn push_outage(&self, seed: u64) -> Vec<String> {
        let mut rng = Rng::new(seed);
        let mut lines = Vec::new();
        let outage = |time: Millis| {
            if (OUTAGE_START..OUTAGE_END).contains(&time) {
                Mode::IosOutage
            } else {
                Mode::Normal
            }
        };
        for index in 0..15 {
            lines.extend(
                self.day(&mut rng, START + index * DAY, &outage)
                    .into_lines(),
            );
        }
        lines
    }

    fn fatigue(&self, seed: u64) -> Vec<String> {
        let mut rng = Rng::new(seed);
        let normal = |_: Millis| Mode::Normal;
        let mut lines = Vec::new();
        for index in 0..3 {
            let start = START + index * DAY;
            let mut day = self.day(&mut rng, start, &normal);
            if (start..start + DAY).contains(&ATTACK_START) {
                self.attack(&mut day, &mut rng);
            }
            lines.extend(day.into_lines());
        }
        lines
    }

    /// Writes twelve push requests 80 s apart for the attacked user. The attacker has the
    /// password, and the victim ignores most pushes and denies three.
    fn attack(&self, day: &mut Day, rng: &mut Rng) {
        let Some(user) = self.users.iter().find(|user| user.name == ATTACKED_USER) else {
            return;
        };
        let nas = self.sites[user.site].nas;
        for index in 0..12 {
            let time = ATTACK_START + index * 80_000;
            day.push(time, challenge(time, FAC_HOST, &user.name, nas));
            if index % 4 == 3 {
                let at = time + rng.range(5_000, 15_000);
                day.push(at, push_denied(at, FAC_HOST, &user.name, nas));
            }
        }
    }

    fn canary(&self, seed: u64) -> Vec<String> {
        let mut rng = Rng::new(seed);
        let normal = |_: Millis| Mode::Normal;
        let mut day = self.day(&mut rng, CANARY_DAY, &normal);
        let nas = self.sites[0].nas;
        for hour in 0..24 {
            let time = CANARY_DAY + hour * HOUR + 10_000;
            match hour {
                // The 13:00 login never happens (the canary phone is offline).
                13 => {}
                // At 16:00 the push does not arrive and the canary script types the code.
                16 => {
                    day.push(time, challenge(time, FAC_HOST, CANARY_USER, nas));
                    let at = time + 30_000;
                    day.push(at, code_accepted(at, FAC_HOST, CANARY_USER, nas));
                }
                _ => {
                    day.push(time, challenge(time, FAC_HOST, CANARY_USER, nas));
                    let at = time + 4_000;
                    day.push(at, push_approved(at, FAC_HOST, CANARY_USER, nas));
                }
            }
        }
        day.into_lines()
    }
}
