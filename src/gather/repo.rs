//! Reading a repository's local mode: the marker a team can commit, else codex-local's list.

use std::path::{Path, PathBuf};

use crate::codex::repo::RepoList;
use crate::facts::repo::{DEFAULT_PROFILE, MARKER, RepoStatus};

/// The top of the git work tree that holds `dir`, if any: the nearest folder with a `.git` entry.
#[must_use]
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The marker's `local_mode` and `profile`, when the repository has one.
#[must_use]
pub fn marker(root: &Path) -> Option<(bool, String)> {
    let text = crate::codex::file::read_text(&root.join(MARKER)).ok()??;
    let document: toml_edit::DocumentMut = text.plain.parse().ok()?;
    let on = document
        .get("local_mode")
        .and_then(toml_edit::Item::as_bool)
        .unwrap_or(true);
    let profile = document
        .get("profile")
        .and_then(toml_edit::Item::as_str)
        .unwrap_or(DEFAULT_PROFILE)
        .to_owned();
    Some((on, profile))
}

/// The repository around `dir` and its local mode, or `None` outside one. A marker decides first; otherwise the
/// list does.
#[must_use]
pub fn status(dir: &Path, home: &Path) -> Option<RepoStatus> {
    let root = find_root(dir)?;
    if let Some((on, profile)) = marker(&root) {
        return Some(RepoStatus {
            path: root,
            local_mode: on,
            source: Some("marker"),
            profile: on.then_some(profile),
        });
    }
    let listed = RepoList::load(home)
        .ok()
        .and_then(|list| list.find(&root).cloned());
    Some(RepoStatus {
        path: root,
        local_mode: listed.is_some(),
        source: listed.is_some().then_some("list"),
        profile: listed.map(|entry| entry.profile),
    })
}
