//! Start-up checks that need the file system or librdkafka: the token inventory, the state
//! file, the directories of the files that `run` and `replay` write, and the Kafka producer
//! options. `check-config` runs them without creating a file or connecting.

use std::path::Path;

use pushwatch_window::state::SavedState;
use pushwatch_window::Engine;

use super::{Config, ConfigError};

impl Config {
    /// Runs the checks that `run` and `replay` do when they start: loads the token inventory
    /// and an existing state file, checks that the directories of the state, sink and spool
    /// files exist, and validates the Kafka producer options. Writes nothing and does not
    /// connect to Kafka.
    pub fn check_startup(&self) -> Result<(), ConfigError> {
        if self.kafka.enabled() {
            self.kafka
                .sink_config()
                .validate()
                .map_err(|error| invalid("kafka.options", error.to_string()))?;
        }
        Engine::load_inventory(&self.window_config())
            .map_err(|error| invalid("inventory.path", error_chain(error)))?;
        self.check_paths()?;
        if let Some(path) = &self.state.path {
            if path.exists() {
                SavedState::load(path)
                    .map_err(|error| invalid("state.path", error_chain(error)))?;
            }
        }
        Ok(())
    }

    /// Checks that the directories of the state, sink and spool files exist and that none of
    /// these paths is a directory. `run` and `replay` check this before reading any input, so
    /// that a state file that cannot be written is found at once, not after hours of input.
    pub fn check_paths(&self) -> Result<(), ConfigError> {
        if let Some(path) = &self.sinks.file {
            check_directory("sinks.file", path)?;
        }
        if let Some(path) = &self.kafka.spool_path {
            check_directory("kafka.spool_path", path)?;
        }
        if let Some(path) = &self.state.path {
            check_directory("state.path", path)?;
        }
        Ok(())
    }
}

/// Formats an error with its sources, e.g. `cannot read token inventory x.csv: No such file or
/// directory (os error 2)`.
fn error_chain(error: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{:#}", anyhow::Error::new(error))
}

fn invalid(key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        origin: None,
        message,
    }
}

/// Checks that the directory that will contain `path` exists, and that `path` is not itself a
/// directory.
fn check_directory(key: &str, path: &Path) -> Result<(), ConfigError> {
    if path.is_dir() {
        return Err(invalid(
            key,
            format!("{} is a directory; expected a file path", path.display()),
        ));
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(invalid(
            key,
            format!(
                "directory {} of {} not found; create it or choose another path",
                parent.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}
