//! Turns parsed records into MFA login attempts, window statistics and findings.
//!
//! The flow is `Record` → [`AuthSignal`] (the [`rules`] table) → [`LoginAttempt`] (the
//! [`stitch`] module) → [`WindowStats`] per scope (the [`window`] module) → [`Finding`]s (the
//! [`detect`] module, against the [`baseline`]s). [`Engine`] wires these steps together in event
//! time, so that replaying a file and running live on the same lines give the same findings.

pub mod attempt;
pub mod baseline;
pub mod canary;
pub mod certificate;
pub mod config;
pub mod detect;
pub mod engine;
pub mod finding;
mod hash;
pub mod inventory;
mod reorder;
pub mod rules;
mod serde_pairs;
pub mod signal;
pub mod state;
pub mod stitch;
#[cfg(test)]
pub(crate) mod testkit;
pub mod time;
pub mod user;
pub mod window;

pub use attempt::{LoginAttempt, OutcomeClass};
pub use config::{Config, ConfigError};
pub use engine::{Counters, Engine, Output};
pub use finding::{Finding, FindingRecord};
pub use inventory::{Inventory, Platform};
pub use rules::Triage;
pub use signal::{AuthSignal, SignalKind};
pub use window::WindowStats;
