//! The throughput mix.

use std::io::Write;

use super::GenOptions;

/// Writes `options.lines` lines of the mix.
pub fn write(_options: &GenOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    anyhow::bail!("the mix generator is not built yet")
}
