//! Deterministic generators of synthetic FortiGate and FortiAuthenticator logs.

pub mod mix;
pub mod scenario;
pub mod scenario_lines;

use std::path::PathBuf;

/// Kind of output that `pushwatch gen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Throughput mix: traffic and UTM logs, FortiGate user and VPN events, FortiAuthenticator
    /// lines, under three header styles.
    Mix,
    /// Fourteen normal days on three sites, then iOS push approvals stop, then recovery.
    PushOutage,
    /// One user flooded with push requests that are denied or time out.
    Fatigue,
    /// A quiet Saturday with an iOS canary account that misses one scheduled push login and
    /// types a code at another.
    Canary,
}

/// Options shared by every generator.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Number of lines (the mix only).
    pub lines: u64,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// Directory for side files such as the token inventory.
    pub side_files: Option<PathBuf>,
}
