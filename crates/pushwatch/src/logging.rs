//! Logging setup: `tracing` to stderr, filtered by the `PUSHWATCH_LOG` variable (the
//! `tracing-subscriber` `EnvFilter` syntax, e.g. `info` or `pushwatch=debug`), default `info`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Name of the variable that sets the log filter.
pub const LOG_ENV: &str = "PUSHWATCH_LOG";

/// Installs the stderr subscriber. A second call does nothing.
pub fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
