//! The `codex` program: where it is on `PATH` (with `PATHEXT` on Windows, so npm's `codex.cmd` is found) and which
//! version it is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::facts::codex::{CodexBinary, MIN_VERSION, NEWEST_TESTED, parse_version, version_in};
use crate::facts::runtime::RuntimeKind;

/// How long `codex --version` may take when the version cannot be read from npm's files.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(1);

/// The first `codex` on `path_var` (the `PATH` value), without asking it anything.
#[must_use]
pub fn locate(path_var: Option<&OsString>, cwd: Option<&Path>) -> Option<PathBuf> {
    let cwd = cwd.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    which::which_in("codex", path_var, cwd).ok()
}

/// A runtime's own program (`ollama`, `lms`): on `PATH`, else where the runtime installs it under the home folder.
#[must_use]
pub fn runtime_program(
    kind: RuntimeKind,
    path_var: Option<&OsString>,
    cwd: Option<&Path>,
    home_dir: Option<&Path>,
) -> Option<PathBuf> {
    let info = kind.info();
    let cwd = cwd.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    which::which_in(info.program, path_var, cwd)
        .ok()
        .or_else(|| {
            let elsewhere = home_dir?.join(info.program_elsewhere?);
            elsewhere.is_file().then_some(elsewhere)
        })
}

/// Finds `codex` and reads its version.
pub async fn find(
    path_var: Option<&OsString>,
    cwd: Option<&Path>,
    timeout: Duration,
) -> Option<CodexBinary> {
    let path = locate(path_var, cwd)?;
    let version = match npm_version(&path) {
        Some(version) => Some(version),
        None => run_version(&path, timeout).await,
    };
    let parsed = version.as_deref().and_then(parse_version);
    Some(CodexBinary {
        path,
        supported: parsed.map(|v| v >= MIN_VERSION),
        newer_than_tested: parsed.is_some_and(|v| v > NEWEST_TESTED),
        version,
    })
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
