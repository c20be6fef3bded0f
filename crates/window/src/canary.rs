//! Canary accounts: IT-owned phones that log in with push on a schedule. A scheduled login
//! whose approval is not logged within the grace period, or that ends in a typed code, a
//! timeout or a denial, opens `canary_missed` for the canary's platform (and site).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::attempt::{LoginAttempt, OutcomeClass};
use crate::config::CanaryConfig;
use crate::time::{local_clock, Millis, MINUTE, SECOND};

/// Approvals kept per canary to match against scheduled times.
const KEPT_APPROVALS: usize = 64;

/// When a canary logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every `period` milliseconds, at multiples of the period since the Unix epoch.
    Every(Millis),
    /// A five-field cron expression, evaluated in UTC.
    Cron(Box<Cron>),
}

/// Parsed cron fields; each is the set of allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
}

const ALLOWED: &str =
    "`every <n>s|m|h` or five cron fields (minute hour day month weekday) with *, \
                       numbers, lists, ranges and */n";

impl Schedule {
    /// Parses `every 30m`, `every 1h`, `every 90s` or a five-field cron expression. The error
    /// names the allowed forms.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("every ") {
            let rest = rest.trim();
            let (number, unit) = rest.split_at(rest.len().saturating_sub(1));
            let number: i64 = number.trim().parse().map_err(|_| ALLOWED.to_owned())?;
            let unit = match unit {
                "s" => SECOND,
                "m" => MINUTE,
                "h" => 60 * MINUTE,
                _ => return Err(ALLOWED.to_owned()),
            };
            if number <= 0 {
                return Err(ALLOWED.to_owned());
            }
            return Ok(Schedule::Every(number * unit));
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(ALLOWED.to_owned());
        };
        Ok(Schedule::Cron(Box::new(Cron {
            minutes: cron_field(minute, 0, 59)?,
            hours: cron_field(hour, 0, 23)?,
            days: cron_field(day, 1, 31)?,
            months: cron_field(month, 1, 12)?,
            // Cron weekdays: 0 and 7 are Sunday.
            weekdays: {
                let mut days = cron_field(weekday, 0, 7)?;
                if days[7] {
                    days[0] = true;
                }
                days
            },
        })))
    }

    /// Returns the first scheduled time strictly after `after`, searching at most one year.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        match self {
            Schedule::Every(period) => Some((after.div_euclid(*period) + 1) * period),
            Schedule::Cron(cron) => {
                let mut time = (after.div_euclid(MINUTE) + 1) * MINUTE;
                let limit = time + 366 * 24 * 60 * MINUTE;
                while time <= limit {
                    let clock = local_clock(time, 0);
                    // Sunday is 0 in cron but 6 in `LocalClock`.
                    let weekday = (clock.weekday + 1) % 7;
                    if !cron.months[clock.month as usize]
                        || !cron.days[clock.day as usize]
                        || !cron.weekdays[weekday as usize]
                    {
                        time = (time.div_euclid(24 * 60 * MINUTE) + 1) * 24 * 60 * MINUTE;
                        continue;
                    }
                    if !cron.hours[clock.hour as usize] {
                        time = (time.div_euclid(60 * MINUTE) + 1) * 60 * MINUTE;
                        continue;
                    }
                    if cron.minutes[clock.minute as usize] {
                        return Some(time);
                    }
                    time += MINUTE;
                }
                None
            }
        }
    }
}

fn cron_field(text: &str, min: usize, max: usize) -> Result<Vec<bool>, String> {
    let mut allowed = vec![false; max + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (
                range,
                step.parse::<usize>().map_err(|_| ALLOWED.to_owned())?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err(ALLOWED.to_owned());
        }
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((low, high)) = range.split_once('-') {
            (parse_in(low, min, max)?, parse_in(high, min, max)?)
        } else {
            let value = parse_in(range, min, max)?;
            (value, if step > 1 { max } else { value })
        };
        if low > high {
            return Err(ALLOWED.to_owned());
        }
        for value in (low..=high).step_by(step) {
            allowed[value] = true;
        }
    }
    Ok(allowed)
}

fn parse_in(text: &str, min: usize, max: usize) -> Result<usize, String> {
    let value: usize = text.parse().map_err(|_| ALLOWED.to_owned())?;
    if value < min || value > max {
        return Err(format!("{ALLOWED}; {value} is outside {min}-{max}"));
    }
    Ok(value)
}

/// Something a canary did that decides its finding.
#[derive(Debug, Clone, PartialEq)]
pub enum CanaryEvent {
    /// The scheduled approval at `scheduled` did not show up by `deadline`.
    Missed {
        /// Canary user.
        user: String,
        /// Finding scope.
        scope: String,
        /// Scheduled login time.
        scheduled: Millis,
        /// End of the grace period (the event time of the finding).
        deadline: Millis,
    },
    /// The canary logged in without approving a push.
    Failed {
        /// Canary user.
        user: String,
        /// Finding scope.
        scope: String,
        /// The attempt's outcome.
        class: OutcomeClass,
        /// Event time of the outcome.
        time: Millis,
    },
    /// The canary approved a push.
    Approved {
        /// Canary user.
        user: String,
        /// Finding scope.
        scope: String,
        /// Event time of the approval.
        time: Millis,
    },
}

/// Per-canary progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CanaryState {
    /// Next scheduled time not yet checked.
    next_check: Option<Millis>,
    approvals: VecDeque<Millis>,
}

/// Tracks every configured canary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CanaryTracker {
    states: BTreeMap<String, CanaryState>,
}

/// Returns the finding scope of a canary: `platform:<p>` or `site:<s>,platform:<p>`.
pub fn canary_scope(canary: &CanaryConfig) -> String {
    match &canary.site {
        Some(site) => format!("site:{site},platform:{}", canary.platform.as_str()),
        None => format!("platform:{}", canary.platform.as_str()),
    }
}

impl CanaryTracker {
    /// Records a canary's attempt and returns what it means.
    pub fn attempt(
        &mut self,
        canary: &CanaryConfig,
        user: &str,
        attempt: &LoginAttempt,
    ) -> Option<CanaryEvent> {
        let scope = canary_scope(canary);
        match attempt.class {
            OutcomeClass::PushApproved => {
                let state = self.states.entry(user.to_owned()).or_default();
                state.approvals.push_back(attempt.end);
                while state.approvals.len() > KEPT_APPROVALS {
                    state.approvals.pop_front();
                }
                Some(CanaryEvent::Approved {
                    user: user.to_owned(),
                    scope,
                    time: attempt.end,
                })
            }
            OutcomeClass::OtherFactor | OutcomeClass::FirstFactorFailed => None,
            class => Some(CanaryEvent::Failed {
                user: user.to_owned(),
                scope,
                class,
                time: attempt.end,
            }),
        }
    }

    /// Checks every scheduled time whose grace period ended at or before `now` and returns the
    /// misses. `first_time` is the event time of the first line, before which nothing is due.
    pub fn due(
        &mut self,
        canary: &CanaryConfig,
        user: &str,
        schedule: &Schedule,
        first_time: Millis,
        now: Millis,
    ) -> Vec<CanaryEvent> {
        let grace = i64::try_from(canary.grace_secs).unwrap_or(i64::MAX / SECOND) * SECOND;
        let state = self.states.entry(user.to_owned()).or_default();
        let mut events = Vec::new();
        let mut next = match state.next_check {
            Some(next) => Some(next),
            None => schedule.next_after(first_time.saturating_sub(1)),
        };
        while let Some(scheduled) = next {
            let deadline = scheduled.saturating_add(grace);
            if deadline > now {
                break;
            }
            let approved = state
                .approvals
                .iter()
                .any(|time| (scheduled..=deadline).contains(time));
            if !approved {
                events.push(CanaryEvent::Missed {
                    user: user.to_owned(),
                    scope: canary_scope(canary),
                    scheduled,
                    deadline,
                });
            }
            next = schedule.next_after(scheduled);
        }
        state.next_check = next;
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Platform;
    use crate::time::{parse_rfc3339, HOUR};

    #[test]
    fn interval_schedule() {
        let schedule = Schedule::parse("every 30m").expect("valid");
        assert_eq!(schedule.next_after(0), Some(30 * MINUTE));
        assert_eq!(schedule.next_after(30 * MINUTE), Some(60 * MINUTE));
        assert!(Schedule::parse("every 0m").is_err());
        assert!(Schedule::parse("every 5d").is_err());
    }

    #[test]
    fn cron_schedule_weekdays_at_nine() {
        let schedule = Schedule::parse("0 9 * * 1-5").expect("valid");
        // 2026-03-06 is a Friday; the next slot after Friday 10:00 is Monday 09:00.
        let friday = parse_rfc3339("2026-03-06T10:00:00Z").expect("valid time");
        let monday = parse_rfc3339("2026-03-09T09:00:00Z").expect("valid time");
        assert_eq!(schedule.next_after(friday), Some(monday));
        let steps = Schedule::parse("*/15 * * * *").expect("valid");
        assert_eq!(steps.next_after(monday), Some(monday + 15 * MINUTE));
        assert!(Schedule::parse("0 25 * * *").is_err());
        assert!(Schedule::parse("0 9 * *").is_err());
    }

    fn canary() -> CanaryConfig {
        CanaryConfig {
            user: "canary-ios".into(),
            platform: Platform::Ios,
            schedule: "every 1h".into(),
            grace_secs: 300,
            site: None,
        }
    }

    fn approval(time: Millis) -> LoginAttempt {
        LoginAttempt {
            time: time - 5_000,
            end: time,
            class: OutcomeClass::PushApproved,
            user: "canary-ios".into(),
            realm: None,
            nas: None,
            site: None,
            node: None,
            client_ip: None,
            platform: Platform::Ios,
            latency_ms: Some(5_000),
            reason: None,
            canary: true,
        }
    }

    #[test]
    fn missed_and_kept_schedules() {
        let config = canary();
        let schedule = Schedule::parse(&config.schedule).expect("valid");
        let mut tracker = CanaryTracker::default();
        let start = 10 * HOUR + 1;
        // The 11:00 login is approved at 11:02; the 12:00 login never is.
        tracker.attempt(&config, "canary-ios", &approval(11 * HOUR + 2 * MINUTE));
        let events = tracker.due(
            &config,
            "canary-ios",
            &schedule,
            start,
            12 * HOUR + 4 * MINUTE,
        );
        assert!(events.is_empty(), "{events:?}");
        let events = tracker.due(
            &config,
            "canary-ios",
            &schedule,
            start,
            12 * HOUR + 5 * MINUTE,
        );
        assert_eq!(
            events,
            vec![CanaryEvent::Missed {
                user: "canary-ios".into(),
                scope: "platform:ios".into(),
                scheduled: 12 * HOUR,
                deadline: 12 * HOUR + 5 * MINUTE,
            }]
        );
    }

    #[test]
    fn typed_code_fails_at_once() {
        let config = canary();
        let mut tracker = CanaryTracker::default();
        let mut attempt = approval(HOUR);
        attempt.class = OutcomeClass::TotpFallback;
        let event = tracker.attempt(&config, "canary-ios", &attempt);
        assert!(matches!(
            event,
            Some(CanaryEvent::Failed {
                class: OutcomeClass::TotpFallback,
                ..
            })
        ));
    }
}
