//! The repository around a directory, and whether it is in local mode.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// A repository and its local-mode state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoStatus {
    pub path: PathBuf,
    /// Whether Codex is kept on a local model in this repository. Local mode is not built yet, so always false.
    pub local_mode: bool,
    /// What put the repository in local mode (`marker` or `list`), if anything.
    pub source: Option<&'static str>,
}

/// The top of the git work tree that holds `dir`, if any: the nearest folder with a `.git` entry.
#[must_use]
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The repository around `dir`, or `None` outside one.
#[must_use]
pub fn status(dir: &Path) -> Option<RepoStatus> {
    find_root(dir).map(|path| RepoStatus {
        path,
        local_mode: false,
        source: None,
    })
}
