//! codex-local's own small JSON files in `<codex home>/codex-local/` (the journal, the local-mode list): read as
//! empty when missing, written atomically.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::edit::{self, ConfigError};

/// Reads a state file; a missing one gives the default.
pub fn load<T: DeserializeOwned + Default>(path: &Path) -> Result<T, ConfigError> {
    match fs_err::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|err| ConfigError::Unparsable {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes a state file atomically.
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<(), ConfigError> {
    let text = serde_json::to_string_pretty(value).map_err(|err| ConfigError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(err),
    })?;
    edit::write_atomic(path, &format!("{text}\n"))
}
