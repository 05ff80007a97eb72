//! Local mode for one repository: the list of local-mode repositories codex-local keeps, the marker file a team
//! can commit, and what they say about a directory.
//!
//! A repository's own `.codex/config.toml` cannot switch Codex to a local provider (Codex strips `model_provider`
//! there), so local mode is kept here and honoured by `codex-local run` and the shell hook, which start Codex with
//! the local profile.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::edit::ConfigError;
use super::state;

/// The marker a team can commit: `<repo>/.codex/codex-local.toml` with `local_mode = true`.
pub const MARKER: &str = ".codex/codex-local.toml";
/// The list of local-mode repositories, in `<codex home>/codex-local/`.
pub const LIST_FILE: &str = "repos.json";
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

/// One repository in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: PathBuf,
    pub profile: String,
}

/// The list of local-mode repositories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoList {
    pub repos: Vec<Entry>,
}

/// Local mode that cannot be changed.
#[derive(Debug, Error)]
pub enum RepoError {
    #[error("`{}` is not inside a git repository", .0.display())]
    NotARepo(PathBuf),
    #[error("The `{profile}` profile does not exist yet (`{}`)", path.display())]
    NoProfile { profile: String, path: PathBuf },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl RepoError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NotARepo(_) => {
                "run it inside the repository, or name it: `codex-local repo on PATH`".to_owned()
            }
            Self::NoProfile { profile, .. } => format!(
                "run `codex-local init --profile {profile}` first (add `--profile-only` to leave Codex's default \
                 alone)"
            ),
            Self::Config(err) => err.hint(),
        }
    }
}

/// The top of the git work tree that holds `dir`, if any: the nearest folder with a `.git` entry.
#[must_use]
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The canonical form of a repository path, so that symlinks and `..` do not hide a match.
#[must_use]
pub fn canonical(path: &Path) -> PathBuf {
    fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The marker's `local_mode` and `profile`, when the repository has one.
#[must_use]
pub fn marker(root: &Path) -> Option<(bool, String)> {
    let text = fs_err::read_to_string(root.join(MARKER)).ok()?;
    let document: toml_edit::DocumentMut = text.parse().ok()?;
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

impl RepoList {
    fn path(home: &Path) -> PathBuf {
        home.join("codex-local").join(LIST_FILE)
    }

    /// Reads the list; a missing one is empty.
    pub fn load(home: &Path) -> Result<Self, ConfigError> {
        state::load(&Self::path(home))
    }

    /// Writes the list atomically.
    pub fn save(&self, home: &Path) -> Result<(), ConfigError> {
        state::save(&Self::path(home), self)
    }

    /// The entry for a repository root.
    #[must_use]
    pub fn find(&self, root: &Path) -> Option<&Entry> {
        let root = canonical(root);
        self.repos
            .iter()
            .find(|entry| canonical(&entry.path) == root)
    }

    /// Adds or updates a repository; `true` when something changed.
    pub fn add(&mut self, root: &Path, profile: &str) -> bool {
        let root = canonical(root);
        if let Some(entry) = self
            .repos
            .iter_mut()
            .find(|entry| canonical(&entry.path) == root)
        {
            if entry.profile == profile {
                return false;
            }
            profile.clone_into(&mut entry.profile);
            return true;
        }
        self.repos.push(Entry {
            path: root,
            profile: profile.to_owned(),
        });
        true
    }

    /// Removes a repository; `true` when it was listed.
    pub fn remove(&mut self, root: &Path) -> bool {
        let root = canonical(root);
        let before = self.repos.len();
        self.repos.retain(|entry| canonical(&entry.path) != root);
        self.repos.len() != before
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_adds_updates_and_removes_by_canonical_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        fs_err::create_dir_all(repo.join("sub")).expect("mkdir");
        let mut list = RepoList::default();
        assert!(list.add(&repo, "local"));
        assert!(
            !list.add(&repo.join("sub/.."), "local"),
            "the same repository"
        );
        assert!(list.add(&repo, "offline"));
        assert_eq!(
            list.find(&repo).map(|e| e.profile.as_str()),
            Some("offline")
        );
        assert!(list.remove(&repo));
        assert!(!list.remove(&repo));
    }
}
