//! codex-local's own small JSON files in `<codex home>/codex-local/` (the journal, the local-mode list): read as
//! empty when missing, written atomically into a private folder, readable only by their owner.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::file::{self, ConfigError};

/// State files hold values from Codex's configuration: only their owner reads them.
const STATE_MODE: u32 = 0o600;

/// Reads a state file; a missing one gives the default.
pub fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T, ConfigError> {
    match file::read_text(path)? {
        Some(text) => serde_json::from_str(&text.plain).map_err(|err| ConfigError::Damaged {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }),
        None => Ok(T::default()),
    }
}

/// Writes a state file atomically, and durably.
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ConfigError> {
    let text = serde_json::to_string_pretty(value).map_err(|err| ConfigError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(err),
    })?;
    if let Some(dir) = path.parent() {
        file::private_dir(dir)?;
    }
    file::write_atomic(path, &format!("{text}\n"), STATE_MODE)
}
