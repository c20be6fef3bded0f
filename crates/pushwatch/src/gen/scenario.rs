//! Event-time scenarios with a known outcome.

use std::io::Write;

use super::{GenOptions, Scenario};

/// Writes the lines of `scenario` and its side files.
pub fn write(
    _scenario: Scenario,
    _options: &GenOptions,
    _out: &mut dyn Write,
) -> anyhow::Result<()> {
    anyhow::bail!("the scenario generator is not built yet")
}
