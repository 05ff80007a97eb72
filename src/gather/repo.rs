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

/// The repository around `dir` and its local mode, or `None` outside one. A repository inside a local-mode one (a
/// submodule, a nested checkout) is in local mode too: every repository around `dir` is asked, nearest first. For
/// each, a marker decides first; otherwise the list does.
#[must_use]
pub fn status(dir: &Path, home: &Path) -> Option<RepoStatus> {
    let list = RepoList::load(home).unwrap_or_default();
    let mut nearest = None;
    for root in dir
        .ancestors()
        .filter(|candidate| candidate.join(".git").exists())
    {
        let found = status_of(root, &list);
        if found.local_mode {
            return Some(found);
        }
        nearest.get_or_insert(found);
    }
    nearest
}

/// One repository's own local mode.
fn status_of(root: &Path, list: &RepoList) -> RepoStatus {
    if let Some((on, profile)) = marker(root) {
        return RepoStatus {
            path: root.to_path_buf(),
            local_mode: on,
            source: Some("marker"),
            profile: on.then_some(profile),
        };
    }
    let listed = list.find(root).cloned();
    RepoStatus {
        path: root.to_path_buf(),
        local_mode: listed.is_some(),
        source: listed.is_some().then_some("list"),
        profile: listed.map(|entry| entry.profile),
    }
}
