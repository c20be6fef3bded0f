//! The configuration file of the binary: its sections, their defaults, loading with environment
//! overrides, and validation with messages that name the key, the value and what is allowed.
//!
//! Every section has built-in defaults, so `pushwatch replay` runs without a file. The reference
//! of every key is `docs/configuration.md`.

mod env;
mod sections;
mod startup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pushwatch_window::config as window;
use serde::{Deserialize, Serialize};

pub use env::ENV_PREFIX;
pub use sections::{
    KafkaConfig, KafkaSourceConfig, ListenAddr, MetricsConfig, SinksConfig, SourcesConfig,
    StateConfig, TcpSourceConfig, UdpSourceConfig,
};

/// The whole configuration file. Each field is one top-level TOML table. The sections from
/// `windows` to `findings` belong to the window crate and are documented there and in
/// `docs/configuration.md`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Inputs of `pushwatch run`.
    pub sources: SourcesConfig,
    /// Kafka brokers, topics and librdkafka options, shared by the Kafka source and sink.
    pub kafka: KafkaConfig,
    /// Outputs for findings other than Kafka.
    pub sinks: SinksConfig,
    /// The Prometheus endpoint of `pushwatch run`.
    pub metrics: MetricsConfig,
    /// The file that keeps baselines and open windows across restarts.
    pub state: StateConfig,
    /// Event-time windows and allowed lateness.
    pub windows: window::WindowsConfig,
    /// Login stitching and outcome classification.
    pub stitching: window::StitchingConfig,
    /// NAS address, FortiGate serial or device name → site name.
    pub sites: BTreeMap<String, String>,
    /// Token inventory file (user or token serial → phone platform).
    pub inventory: window::InventoryConfig,
    /// Baseline learning.
    pub baseline: window::BaselineConfig,
    /// Detector thresholds, one table per detector.
    pub detectors: window::DetectorsConfig,
    /// Scheduled test logins on IT-owned phones.
    pub canaries: Vec<window::CanaryConfig>,
    /// Push-path certificates and their expiry.
    pub certificates: Vec<window::CertificateConfig>,
    /// Classification rules added to or replacing the built-in rule table.
    pub rules: Vec<pushwatch_window::rules::RuleConfig>,
    /// OCSF finding output.
    pub findings: window::FindingsConfig,
}

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("configuration file {} is not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// A key is unknown or its value is invalid.
    #[error(
        "invalid configuration key `{key}`{}: {message}",
        origin_suffix(origin)
    )]
    Invalid {
        /// The dotted key, e.g. `sources.udp.listen`.
        key: String,
        /// The file or environment variable that set the key, when known.
        origin: Option<String>,
        /// The problem, with the value and what is allowed.
        message: String,
    },
}

fn origin_suffix(origin: &Option<String>) -> String {
    match origin {
        Some(origin) => format!(" (set by {origin})"),
        None => String::new(),
    }
}

impl ConfigError {
    /// Returns the dotted key of a [`ConfigError::Invalid`] error.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

impl Config {
    /// Loads the configuration: built-in defaults, then the file if one is given, then the
    /// `PUSHWATCH_<SECTION>__<KEY>` variables of `environment`. Relative paths in the file are
    /// resolved against the file's directory; relative paths from the environment or with no
    /// file against the current directory.
    pub fn load<I>(file: Option<&Path>, environment: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let (mut table, origin) = match file {
            Some(path) => (read_table(path)?, path.display().to_string()),
            None => (toml::Table::new(), "the built-in defaults".to_string()),
        };
        let overrides = env::apply_overrides(&mut table, environment)?;
        let mut config = deserialize(table, &origin, &overrides)?;
        config.reject_empty_paths(&origin, &overrides)?;
        let base = file
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        config.resolve_paths(&base);
        config.validate(&origin, &overrides)?;
        Ok(config)
    }

    /// Loads the configuration with the process environment.
    pub fn load_with_process_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, std::env::vars())
    }

    /// Returns the sections of the window crate as its own configuration type.
    pub fn window_config(&self) -> window::Config {
        window::Config {
            windows: self.windows.clone(),
            stitching: self.stitching.clone(),
            sites: self.sites.clone(),
            inventory: self.inventory.clone(),
            baseline: self.baseline.clone(),
            detectors: self.detectors.clone(),
            canaries: self.canaries.clone(),
            certificates: self.certificates.clone(),
            rules: self.rules.clone(),
            findings: self.findings.clone(),
        }
    }

    /// Renders the effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        // NOTE: every field type serializes to TOML, so an error here is a programming error;
        // it is reported in the output rather than panicking.
        match toml::to_string_pretty(self) {
            Ok(text) if text.ends_with('\n') => text,
            Ok(text) => text + "\n",
            Err(error) => format!("# cannot render the configuration: {error}\n"),
        }
    }

    /// Rejects a path set to the empty string (e.g. by `PUSHWATCH_STATE__PATH=`), which would
    /// otherwise resolve to the configuration file's directory.
    fn reject_empty_paths(
        &self,
        origin: &str,
        overrides: &env::Overrides,
    ) -> Result<(), ConfigError> {
        let paths = [
            ("state.path", &self.state.path),
            ("sinks.file", &self.sinks.file),
            ("kafka.spool_path", &self.kafka.spool_path),
            ("inventory.path", &self.inventory.path),
        ];
        for (key, path) in paths {
            if path
                .as_ref()
                .is_some_and(|path| path.as_os_str().is_empty())
            {
                return Err(ConfigError::Invalid {
                    key: key.to_string(),
                    origin: Some(
                        overrides
                            .origin_of(key)
                            .unwrap_or_else(|| origin.to_string()),
                    ),
                    message: "invalid value \"\": expected a file path; remove the key to turn \
                              the file off"
                        .to_string(),
                });
            }
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve(&mut self.state.path, base);
        resolve(&mut self.sinks.file, base);
        resolve(&mut self.kafka.spool_path, base);
        resolve(&mut self.inventory.path, base);
    }

    fn validate(&self, origin: &str, overrides: &env::Overrides) -> Result<(), ConfigError> {
        let checked = sections::validate(self).and_then(|()| {
            self.window_config()
                .validate()
                .map_err(|error| match error {
                    window::ConfigError::Invalid {
                        key,
                        value,
                        allowed,
                    } => (key, format!("invalid value {value}: expected {allowed}")),
                    other => (String::new(), other.to_string()),
                })
        });
        checked.map_err(|(key, message)| ConfigError::Invalid {
            origin: Some(
                overrides
                    .origin_of(&key)
                    .unwrap_or_else(|| origin.to_string()),
            ),
            key,
            message,
        })
    }
}

fn resolve(path: &mut Option<PathBuf>, base: &Path) {
    if let Some(p) = path {
        if p.is_relative() && !base.as_os_str().is_empty() {
            *p = base.join(&*p);
        }
    }
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<toml::Table>()
        .map_err(|error| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })
}

fn deserialize(
    table: toml::Table,
    origin: &str,
    overrides: &env::Overrides,
) -> Result<Config, ConfigError> {
    let lookup = table.clone();
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
        let key = error.path().to_string();
        let message = error.inner().message().to_string();
        describe(&lookup, key, message, origin, overrides)
    })
}

/// Turns a serde error into a message with the key, the value as written and what is allowed.
fn describe(
    table: &toml::Table,
    key: String,
    message: String,
    origin: &str,
    overrides: &env::Overrides,
) -> ConfigError {
    // The path of an unknown field ends with the field; a key at the top level is only in the
    // message ("unknown field `name`").
    let key = match unknown_field_name(&message) {
        Some(name) if key == "." => name.to_string(),
        _ => key,
    };
    let value = lookup(table, &key).map(render_value);
    let message = match (unknown_field_name(&message), value) {
        (Some(_), Some(value)) => format!(
            "unknown key (value {value}); {}",
            message
                .split_once(", expected ")
                .map(|(_, allowed)| allowed.trim_start_matches("one of "))
                .map(|allowed| format!("allowed keys are {allowed}"))
                .unwrap_or_else(|| "no keys are allowed here".to_string())
        ),
        (None, Some(value)) if message.contains(&value) => message,
        (None, Some(value)) => format!("invalid value {value}: {message}"),
        (_, None) => message,
    };
    ConfigError::Invalid {
        origin: Some(
            overrides
                .origin_of(&key)
                .unwrap_or_else(|| origin.to_string()),
        ),
        key,
        message,
    }
}

fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Finds the value at a path as serde_path_to_error prints it: `sources.tcp.listen[0]`.
fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut current: Option<&toml::Value> = None;
    for part in key.split('.') {
        let (name, indices) = part.split_once('[').unwrap_or((part, ""));
        let mut value = match current {
            None => table.get(name)?,
            Some(toml::Value::Table(inner)) => inner.get(name)?,
            Some(_) => return None,
        };
        for index in indices.split('[').filter(|index| !index.is_empty()) {
            let index = index.trim_end_matches(']').parse::<usize>().ok()?;
            value = value.as_array()?.get(index)?;
        }
        current = Some(value);
    }
    current
}

fn render_value(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(_) => "a table".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
