//! Facts about a repository: where it is and whether Codex is kept on a local model there.

use std::path::PathBuf;

use serde::Serialize;

/// The marker a team can commit: `<repo>/.codex/codex-local.toml` with `local_mode = true`.
pub const MARKER: &str = ".codex/codex-local.toml";
/// The profile local mode uses unless told otherwise.
pub const DEFAULT_PROFILE: &str = "local";

/// A repository and its local-mode state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoStatus {
    pub path: PathBuf,
    /// Whether Codex is kept on a local model in this repository.
    pub local_mode: bool,
    /// What put the repository in local mode: `marker` or `list`.
    pub source: Option<&'static str>,
    /// The profile Codex is started with there.
    pub profile: Option<String>,
}
