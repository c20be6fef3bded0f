//! Token inventory: which phone platform each user's FortiToken Mobile runs on. Logs do not
//! name the platform, so it comes from an export of FortiAuthenticator or an MDM.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Phone platform of a FortiToken Mobile installation.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Apple iOS (push through APNs).
    Ios,
    /// Google Android (push through FCM).
    Android,
    /// Not in the inventory, or no inventory loaded.
    #[default]
    Unknown,
}

impl Platform {
    /// Returns the lower-case name used in scopes and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Unknown => "unknown",
        }
    }

    /// Parses `ios`, `iphone`, `ipad`, `apple`, `android` or `google` in any case.
    pub fn parse(text: &str) -> Option<Platform> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ios" | "iphone" | "ipad" | "apple" => Some(Platform::Ios),
            "android" | "google" => Some(Platform::Android),
            "unknown" | "" => Some(Platform::Unknown),
            _ => None,
        }
    }
}

/// Errors while loading an inventory file.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("cannot read token inventory {path}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A CSV row or JSON entry is malformed.
    #[error("invalid token inventory {path}, entry {entry}: {detail}")]
    Invalid {
        /// File path.
        path: PathBuf,
        /// One-based row (CSV, after the header) or array index (JSON).
        entry: usize,
        /// Description of the problem and of the allowed values.
        detail: String,
    },
}

/// One inventory entry as read from CSV (header `user,serial,platform`, either of the first two
/// may be empty) or from a JSON array of objects with the same keys.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    serial: Option<String>,
    platform: String,
}

/// Platform lookup by normalised user name or token serial.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    by_user: HashMap<String, Platform>,
    by_serial: HashMap<String, Platform>,
}

impl Inventory {
    /// Loads a CSV or JSON inventory; the format follows the file extension (`.json` is JSON,
    /// anything else CSV). User names are normalised like log user names (`strip_at_domain` as
    /// in the stitching configuration).
    pub fn load(path: &Path, strip_at_domain: bool) -> Result<Inventory, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let entries = if is_json {
            serde_json::from_str::<Vec<Entry>>(&text).map_err(|error| InventoryError::Invalid {
                path: path.to_path_buf(),
                entry: error.line(),
                detail: error.to_string(),
            })?
        } else {
            read_csv(path, &text)?
        };
        let mut inventory = Inventory::default();
        for (index, entry) in entries.into_iter().enumerate() {
            let platform =
                Platform::parse(&entry.platform).ok_or_else(|| InventoryError::Invalid {
                    path: path.to_path_buf(),
                    entry: index + 1,
                    detail: format!(
                        "platform {:?} is not one of ios, android, unknown",
                        entry.platform
                    ),
                })?;
            inventory.insert(
                entry.user.as_deref(),
                entry.serial.as_deref(),
                platform,
                strip_at_domain,
            );
        }
        Ok(inventory)
    }

    /// Adds one entry; a user or serial that is empty is ignored.
    pub fn insert(
        &mut self,
        user: Option<&str>,
        serial: Option<&str>,
        platform: Platform,
        strip_at_domain: bool,
    ) {
        if let Some(user) = user.and_then(|user| crate::user::normalise(user, strip_at_domain)) {
            self.by_user.insert(user.name.into_owned(), platform);
        }
        if let Some(serial) = serial.map(str::trim).filter(|serial| !serial.is_empty()) {
            self.by_serial.insert(serial.to_ascii_uppercase(), platform);
        }
    }

    /// Returns the platform of a normalised user name.
    pub fn platform_of_user(&self, user: &str) -> Platform {
        self.by_user.get(user).copied().unwrap_or_default()
    }

    /// Returns the platform of a token serial.
    pub fn platform_of_serial(&self, serial: &str) -> Platform {
        self.by_serial
            .get(&serial.trim().to_ascii_uppercase())
            .copied()
            .unwrap_or_default()
    }

    /// Number of users and serials known.
    pub fn len(&self) -> usize {
        self.by_user.len() + self.by_serial.len()
    }

    /// Returns whether the inventory is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read_csv(path: &Path, text: &str) -> Result<Vec<Entry>, InventoryError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    for (index, row) in reader.deserialize::<Entry>().enumerate() {
        let entry = row.map_err(|error| InventoryError::Invalid {
            path: path.to_path_buf(),
            entry: index + 1,
            detail: format!("{error}; expected the header user,serial,platform"),
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_inventory_by_user_and_serial() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("tokens.csv");
        std::fs::write(
            &path,
            "user,serial,platform\nCORP\\Alice,FTKMOB0001,iOS\nbob,,android\n,FTKMOB0003,Android\n",
        )
        .expect("write inventory");
        let inventory = Inventory::load(&path, false).expect("valid inventory");
        assert_eq!(inventory.platform_of_user("alice"), Platform::Ios);
        assert_eq!(inventory.platform_of_user("bob"), Platform::Android);
        assert_eq!(
            inventory.platform_of_serial("ftkmob0003"),
            Platform::Android
        );
        assert_eq!(inventory.platform_of_user("carol"), Platform::Unknown);
    }

    #[test]
    fn json_inventory_rejects_unknown_platform() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("tokens.json");
        std::fs::write(
            &path,
            r#"[{"user":"alice","platform":"ios"},{"user":"bob","platform":"windows"}]"#,
        )
        .expect("write inventory");
        let error = Inventory::load(&path, false).expect_err("windows is not a platform");
        let message = error.to_string();
        assert!(message.contains("entry 2"), "{message}");
        assert!(message.contains("windows"), "{message}");
    }
}
