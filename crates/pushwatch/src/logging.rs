//! Logging setup: `tracing` to stderr, filtered by the `PUSHWATCH_LOG` variable (the
//! `tracing-subscriber` `EnvFilter` syntax, e.g. `info` or `pushwatch=debug`), default `info`.

use std::env::VarError;
use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Name of the variable that sets the log filter.
pub const LOG_ENV: &str = "PUSHWATCH_LOG";

/// Filter used when `PUSHWATCH_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the stderr subscriber. A second call does nothing. An invalid `PUSHWATCH_LOG` is
/// reported as a warning, and the default filter applies instead.
pub fn init() {
    let (filter, problem) = filter_from(std::env::var(LOG_ENV));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok();
    if let (true, Some(problem)) = (installed, problem) {
        tracing::warn!("{problem}. Using the default log filter `{DEFAULT_FILTER}` instead.");
    }
}

/// Builds the filter from the value of `PUSHWATCH_LOG`. Returns the default filter, with a
/// description of the problem, when the value is not valid Unicode or not a valid filter.
fn filter_from(value: Result<String, VarError>) -> (EnvFilter, Option<String>) {
    let problem = match value {
        Err(VarError::NotPresent) => None,
        Err(VarError::NotUnicode(_)) => Some(format!("{LOG_ENV} is not valid UTF-8")),
        Ok(text) => match EnvFilter::try_new(&text) {
            Ok(filter) => return (filter, None),
            Err(error) => Some(format!("invalid {LOG_ENV} value {text:?}: {error}")),
        },
    };
    (EnvFilter::new(DEFAULT_FILTER), problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_filter_has_no_problem() {
        let (filter, problem) = filter_from(Ok("pushwatch=debug,rdkafka=warn".to_string()));
        assert_eq!(problem, None);
        assert_eq!(filter.to_string(), "pushwatch=debug,rdkafka=warn");
    }

    #[test]
    fn unset_filter_uses_default() {
        let (filter, problem) = filter_from(Err(VarError::NotPresent));
        assert_eq!(problem, None);
        assert_eq!(filter.to_string(), DEFAULT_FILTER);
    }

    #[test]
    fn invalid_filter_falls_back() {
        let (filter, problem) = filter_from(Ok("pushwatch=loud".to_string()));
        assert_eq!(filter.to_string(), DEFAULT_FILTER);
        let problem = problem.expect("an invalid level is reported");
        assert!(problem.contains("pushwatch=loud"), "{problem}");
    }
}
