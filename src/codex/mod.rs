//! Changing Codex's configuration: the one editor of its files (`edit`), the edits init makes (`setup`), the
//! journal that `restore` undoes, and codex-local's own state files (the local-mode list).

pub mod edit;
pub mod file;
pub mod journal;
pub mod lock;
pub mod measured;
pub mod repo;
pub mod setup;
pub mod state;
