//! The state file: everything the engine learned and has open (baselines, open attempts and
//! windows, detector streaks, open findings), as versioned JSON written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::EngineState;

/// Version of the state file format; a file of another version is rejected.
pub const STATE_VERSION: u32 = 1;

/// Errors while reading or writing the state file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file cannot be read or written.
    #[error("cannot {action} state file {path}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid state file.
    #[error("invalid state file {path} (delete it to start with empty baselines)")]
    Invalid {
        /// File path.
        path: PathBuf,
        /// JSON error.
        source: serde_json::Error,
    },
    /// The file was written by another format version.
    #[error("state file {path} has version {found}, expected {STATE_VERSION}; delete it to start with empty baselines")]
    Version {
        /// File path.
        path: PathBuf,
        /// Version found.
        found: u32,
    },
}

/// A saved engine state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedState {
    version: u32,
    state: EngineState,
}

impl SavedState {
    pub(crate) fn from_engine_state(state: &EngineState) -> SavedState {
        SavedState {
            version: STATE_VERSION,
            state: state.clone(),
        }
    }

    pub(crate) fn into_engine_state(self) -> Result<EngineState, StateError> {
        Ok(self.state)
    }

    /// Reads a state file.
    pub fn load(path: &Path) -> Result<SavedState, StateError> {
        let bytes = std::fs::read(path).map_err(|source| StateError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let version: VersionOnly =
            serde_json::from_slice(&bytes).map_err(|source| StateError::Invalid {
                path: path.to_path_buf(),
                source,
            })?;
        if version.version != STATE_VERSION {
            return Err(StateError::Version {
                path: path.to_path_buf(),
                found: version.version,
            });
        }
        serde_json::from_slice(&bytes).map_err(|source| StateError::Invalid {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the state next to `path` and renames it into place, so that a crash leaves
    /// either the old or the new file.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let io = |source| StateError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let directory = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temporary = tempfile::NamedTempFile::new_in(directory).map_err(io)?;
        let json = serde_json::to_vec(self).map_err(|source| StateError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        temporary.write_all(&json).map_err(io)?;
        temporary.as_file().sync_all().map_err(io)?;
        temporary.persist(path).map_err(|error| io(error.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("state.json");
        SavedState::from_engine_state(&EngineState::default())
            .save(&path)
            .expect("state written");
        let loaded = SavedState::load(&path).expect("state read");
        assert_eq!(loaded.version, STATE_VERSION);

        std::fs::write(&path, br#"{"version": 99, "state": {}}"#).expect("file written");
        let error = SavedState::load(&path).expect_err("other version");
        assert!(error.to_string().contains("version 99"), "{error}");

        std::fs::write(&path, b"not json").expect("file written");
        let error = SavedState::load(&path).expect_err("invalid file");
        assert!(error.to_string().contains("invalid state file"), "{error}");
    }

    #[test]
    fn missing_file_names_path() {
        let error = SavedState::load(Path::new("/nonexistent/pushwatch-state.json"))
            .expect_err("missing file");
        assert!(
            error
                .to_string()
                .contains("/nonexistent/pushwatch-state.json"),
            "{error}"
        );
    }
}
