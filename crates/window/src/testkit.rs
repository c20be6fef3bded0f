//! Line builders and an engine driver for unit tests: FortiAuthenticator syslog lines behind
//! an RFC 3339 relay header, at explicit event times.

use crate::config::Config;
use crate::engine::{Engine, Output};
use crate::finding::{Activity, FindingRecord};
use crate::inventory::{Inventory, Platform};
use crate::time::{format_rfc3339, Millis};

/// 2026-03-02T00:00:00Z, a Monday.
pub const MONDAY: Millis = 1_772_409_600_000;

/// Formats a FortiAuthenticator syslog line.
pub fn fac(time: Millis, typeid: u32, status: &str, user: &str, nas: &str, text: &str) -> String {
    format!(
        "{} fac01 db[2301]:  category=\"Event\" subcategory=\"Authentication\" typeid={typeid} level=\"information\" \
         user=\"{user}\" nas=\"{nas}\" action=\"Authentication\" status=\"{status}\" {text}",
        format_rfc3339(time).replace(".000Z", "+00:00")
    )
}

/// Challenge sent (20299 Pending).
pub fn pending(time: Millis, user: &str, nas: &str) -> String {
    fac(time, 20299, "Pending", user, nas, "Remote RADIUS user authentication partially done, remote server expecting challenge response")
}

/// Push approved (20002 with the push suffix).
pub fn approved(time: Millis, user: &str, nas: &str) -> String {
    fac(
        time,
        20002,
        "Success",
        user,
        nas,
        "Remote LDAP user authentication from (null) with FortiToken successful (chosen FTM push notification)",
    )
}

/// Typed code accepted (20002 without the suffix).
pub fn code(time: Millis, user: &str, nas: &str) -> String {
    fac(
        time,
        20002,
        "Success",
        user,
        nas,
        "Remote LDAP user authentication from (null) with FortiToken successful",
    )
}

/// Feeds lines (with receive time = event time) and collects every output.
pub struct Driver {
    /// The engine under test.
    pub engine: Engine,
    /// Everything emitted so far.
    pub outputs: Vec<Output>,
}

impl Driver {
    /// Builds a driver; `ios` and `android` users go into the inventory.
    pub fn new(config: Config, ios: &[&str], android: &[&str]) -> Driver {
        let mut inventory = Inventory::default();
        for user in ios {
            inventory.insert(Some(user), None, Platform::Ios, false);
        }
        for user in android {
            inventory.insert(Some(user), None, Platform::Android, false);
        }
        let inventory = (!inventory.is_empty()).then_some(inventory);
        let engine = Engine::new(config, inventory, None).expect("valid test configuration");
        Driver {
            engine,
            outputs: Vec::new(),
        }
    }

    /// Processes one line.
    pub fn line(&mut self, line: &str) {
        let mut out = Vec::new();
        let received = pushwatch_parser::peek(line.as_bytes(), &pushwatch_parser::Context::new(0))
            .time
            .unix_nanos;
        self.engine
            .process_line(line.as_bytes(), received, &mut out);
        self.outputs.extend(out);
    }

    /// Ends the input.
    pub fn finish(&mut self) {
        let mut out = Vec::new();
        self.engine.finish(&mut out);
        self.outputs.extend(out);
    }

    /// Returns the finding records emitted.
    pub fn findings(&self) -> Vec<&FindingRecord> {
        self.outputs
            .iter()
            .filter_map(|output| match output {
                Output::Finding(record) => Some(record),
                _ => None,
            })
            .collect()
    }

    /// (activity, detector, scope, time) of every finding record.
    pub fn summary(&self) -> Vec<(Activity, String, String, Millis)> {
        self.findings()
            .iter()
            .map(|record| {
                (
                    record.activity,
                    record.finding.detector.clone(),
                    record.finding.scope.clone(),
                    record.time,
                )
            })
            .collect()
    }
}

/// Returns a configuration for small tests: baselines usable after 4 windows, low sample minimums.
pub fn small_config() -> Config {
    let mut config = Config::default();
    config.baseline.warmup_windows = 4;
    config.baseline.min_slot_windows = 10_000;
    config.baseline.min_window_samples = 3;
    let detectors = &mut config.detectors;
    detectors.push_silence.min_samples = 4;
    detectors.push_silence.min_users = 3;
    detectors.push_success_drop.min_samples = 4;
    detectors.push_success_drop.min_users = 3;
    detectors.fallback_surge.min_samples = 4;
    detectors.fallback_surge.min_users = 3;
    detectors.fallback_surge.min_fallbacks = 3;
    detectors.platform_divergence.min_samples = 4;
    detectors.platform_divergence.min_users = 3;
    detectors.approval_latency.min_samples = 4;
    detectors.approval_latency.min_users = 3;
    config
}
