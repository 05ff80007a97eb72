//! The `codex` program itself: where it is and which version it is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

/// The first Codex that reads profile files (`<name>.config.toml`), the format codex-local writes.
pub const MIN_VERSION: (u64, u64, u64) = (0, 134, 0);
/// How to install or update it.
pub const INSTALL_COMMAND: &str = "npm install -g @openai/codex@latest";

/// The Codex found on `PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodexBinary {
    pub path: PathBuf,
    pub version: Option<String>,
    /// Whether it is new enough for the configuration codex-local writes; `None` when the version is unknown.
    pub supported: Option<bool>,
}

/// Finds `codex` on `path_var` (the `PATH` value) and reads its version.
pub async fn find(path_var: Option<&OsString>, timeout: Duration) -> Option<CodexBinary> {
    let path = which("codex", path_var?)?;
    let version = match npm_version(&path) {
        Some(version) => Some(version),
        None => run_version(&path, timeout).await,
    };
    let supported = version
        .as_deref()
        .and_then(parse_version)
        .map(|v| v >= MIN_VERSION);
    Some(CodexBinary {
        path,
        version,
        supported,
    })
}

/// The first executable `name` in the `PATH` value.
#[must_use]
pub fn which(name: &str, path_var: &OsString) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// npm installs `codex` as a link to `@openai/codex/bin/codex.js`; its `package.json` has the version, which
/// saves starting Node.
fn npm_version(path: &Path) -> Option<String> {
    let script = fs_err::canonicalize(path).ok()?;
    let package = script.parent()?.parent()?.join("package.json");
    let text = fs_err::read_to_string(package).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    (json["name"] == "@openai/codex").then(|| json["version"].as_str().map(str::to_owned))?
}

async fn run_version(path: &Path, timeout: Duration) -> Option<String> {
    let output = tokio::time::timeout(
        timeout,
        tokio::process::Command::new(path)
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    version_in(&String::from_utf8_lossy(&output.stdout))
}

/// The version in `codex --version` output (`codex-cli 0.169.0`): the first word that reads as one.
#[must_use]
pub fn version_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| parse_version(word).is_some())
        .map(|word| word.trim_start_matches('v').to_owned())
}

/// `0.169.0` as numbers.
#[must_use]
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions() {
        assert_eq!(parse_version("0.169.0"), Some((0, 169, 0)));
        assert_eq!(parse_version("0.134.0-alpha.1"), Some((0, 134, 0)));
        assert!(parse_version("0.133.9").expect("a version") < MIN_VERSION);
        assert_eq!(parse_version("codex"), None);
        assert_eq!(
            version_in("codex-cli 0.169.0\n").as_deref(),
            Some("0.169.0")
        );
        assert_eq!(
            version_in("codex called with: --version"),
            None,
            "no version, no guess"
        );
    }
}
