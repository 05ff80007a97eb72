//! Local mode's own file: the list of local-mode repositories codex-local keeps, and the errors of changing it.
//!
//! A repository's own `.codex/config.toml` cannot switch Codex to a local provider (Codex strips `model_provider`
//! there), so local mode is kept here and honoured by `codex-local run` and the shell hook, which start Codex with
//! the local profile.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::edit::ConfigError;
use super::state;

/// The list of local-mode repositories, in `<codex home>/codex-local/`.
pub const LIST_FILE: &str = "repos.json";

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
    #[error("`{}` does not exist", .0.display())]
    Missing(PathBuf),
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
            Self::Missing(_) => {
                "check the path, or run it inside the repository without one".to_owned()
            }
            Self::NoProfile { profile, .. } => format!(
                "run `codex-local init --profile {profile}` first (add `--profile-only` to leave Codex's default \
                 alone)"
            ),
            Self::Config(err) => err.hint(),
        }
    }
}

/// The canonical form of a repository path, so that symlinks and `..` do not hide a match.
#[must_use]
pub fn canonical(path: &Path) -> PathBuf {
    fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
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
