//! `codex-local restore`: undo what codex-local changed in Codex's configuration, and only that.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::RestoreArgs;
use crate::codex::edit::{self, CodexConfigMut, NEW_FILE_MODE};
use crate::codex::file;
use crate::codex::journal::{self, CreatedModel, FileRecord, Journal, Restore, Undo, UndoAction};
use crate::codex::repo::RepoList;
use crate::facts::runtime::RuntimeKind;
use crate::report::Style;
use crate::steps;

/// What restore did to one file.
#[derive(Debug, Serialize)]
struct FileResult {
    file: PathBuf,
    /// `restored` (keys put back), `deleted` (codex-local had created it), `unchanged` or `missing`.
    action: FileAction,
    keys: Vec<Undo>,
    backup: Option<PathBuf>,
}

/// What restore did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum FileAction {
    /// Put back as it was.
    Restored,
    /// Removed: codex-local had created it.
    Deleted,
    /// Already as it was.
    Unchanged,
    /// Gone, and nothing to put it back from.
    Missing,
}

impl FileAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Restored => "restored",
            Self::Deleted => "deleted",
            Self::Unchanged => "unchanged",
            Self::Missing => "missing",
        }
    }
}

/// The `restore` document.
#[derive(Debug, Serialize)]
struct RestoreReport {
    restored: bool,
    files: Vec<FileResult>,
    /// Files that could not be restored; the journal keeps them for another try.
    failed: Vec<Failure>,
    /// Model variants codex-local created; they stay in the runtime.
    models: Vec<CreatedModel>,
    /// Repositories still in local mode: `run` refuses there once their profile is gone.
    local_mode_repos: Vec<PathBuf>,
}

/// A file restore could not put back.
#[derive(Debug, Serialize)]
struct Failure {
    file: String,
    error: String,
    hint: String,
}

/// Runs `restore`, holding the Codex home's lock; the journal forgets each file once it is restored. A file that
/// cannot be restored is named and kept in the journal, and the others are restored all the same.
pub async fn run(_args: &RestoreArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let home = &ctx.settings.codex_home;
    let _lock = steps::lock_home(home, ctx.settings.lock_timeout, ctx.printer).await?;
    let backups = home.join("codex-local").join("backups");
    for dir in [home.clone(), home.join("codex-local"), backups.clone()] {
        file::remove_stale_temps(&dir);
    }
    let mut journal = Journal::load(home)?;
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for (name, record) in journal.files.clone() {
        let undone = journaled_path(home, &name)
            .map_err(anyhow::Error::from)
            .and_then(|path| undo_file(&path, &record, &backups));
        match undone {
            Ok(result) => {
                files.push(result);
                journal.files.remove(&name);
                journal.save(home)?;
            }
            Err(err) => failed.push(Failure {
                file: name,
                error: format!("{err:#}"),
                hint: super::diagnose(&err)
                    .0
                    .unwrap_or_else(|| "fix it and run `codex-local restore` again".to_owned()),
            }),
        }
    }
    let models = std::mem::take(&mut journal.models);
    journal.save(home)?;
    let local_mode_repos = RepoList::load(home)?
        .repos
        .into_iter()
        .map(|entry| entry.path)
        .collect();
    let report = RestoreReport {
        restored: files.iter().any(|f| f.action != FileAction::Missing),
        files,
        failed,
        models,
        local_mode_repos,
    };
    ctx.printer
        .result(&report, |style| render(&report, style))?;
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

/// A name in the journal as a path restore may write: a file in Codex's folder (by name), or a repository's
/// `.codex/config.toml` (by its full path) that belongs to the journal's owner. Anything else was never written
/// by codex-local, and is left alone.
fn journaled_path(home: &Path, name: &str) -> Result<PathBuf, UnknownEntry> {
    let path = Path::new(name);
    let plain = path.components().count() == 1
        && matches!(
            path.components().next(),
            Some(std::path::Component::Normal(_))
        );
    if plain {
        return Ok(home.join(name));
    }
    let repository = path.is_absolute()
        && path.ends_with(".codex/config.toml")
        && path.components().all(|c| {
            !matches!(
                c,
                std::path::Component::ParentDir | std::path::Component::CurDir
            )
        });
    if repository && same_owner(&journal::path(home), path) {
        return Ok(path.to_path_buf());
    }
    Err(UnknownEntry(name.to_owned()))
}

/// Whether `path` (when it exists) belongs to the owner of `journal`.
#[cfg(unix)]
fn same_owner(journal: &Path, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let owner = |p: &Path| std::fs::metadata(p).ok().map(|m| m.uid());
    match (owner(journal), owner(path)) {
        (Some(journal), Some(file)) => journal == file,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(not(unix))]
fn same_owner(_journal: &Path, _path: &Path) -> bool {
    true
}

/// A journal entry codex-local would never have written.
#[derive(Debug, thiserror::Error)]
#[error(
    "The journal names `{0}`, which is not a file codex-local writes (or belongs to someone else); it was left alone"
)]
struct UnknownEntry(String);

/// Undoes one file's record: the original back byte for byte while the file holds what codex-local wrote, else
/// key by key; a file codex-local created goes.
fn undo_file(path: &Path, record: &FileRecord, backups: &Path) -> anyhow::Result<FileResult> {
    let now = file::read_text(path)?;
    let result = |action, keys, backup| FileResult {
        file: path.to_path_buf(),
        action,
        keys,
        backup,
    };
    match record.restore(now.as_ref().map(|t| t.raw.as_str())) {
        Restore::AsItWas => Ok(result(FileAction::Unchanged, Vec::new(), None)),
        Restore::Missing => Ok(result(FileAction::Missing, Vec::new(), None)),
        Restore::Exact(original) => {
            let config = CodexConfigMut::open(path)?;
            let (_, keys) = journal::undo_ops(record, config.document());
            let current = now.map(|t| t.raw).unwrap_or_default();
            let backup = edit::backup(path, &current, backups)?;
            if let Some(original) = original {
                file::write_atomic(path, &original, NEW_FILE_MODE)?;
                Ok(result(FileAction::Restored, keys, Some(backup)))
            } else {
                remove(path)?;
                Ok(result(FileAction::Deleted, keys, Some(backup)))
            }
        }
        Restore::Keys => undo_keys(path, record, backups),
    }
}

/// Undoes a file someone changed since codex-local wrote it: only the keys that still hold what codex-local wrote.
fn undo_keys(path: &Path, record: &FileRecord, backups: &Path) -> anyhow::Result<FileResult> {
    let mut config = CodexConfigMut::open(path)?;
    let (ops, keys) = journal::undo_ops(record, config.document());
    config.apply(&ops)?;
    if record.created && config.render().trim().is_empty() {
        let backup = edit::backup(path, config.raw().unwrap_or_default(), backups)?;
        remove(path)?;
        return Ok(FileResult {
            file: path.to_path_buf(),
            action: FileAction::Deleted,
            keys,
            backup: Some(backup),
        });
    }
    let saved = config.save(&ops, backups)?;
    Ok(FileResult {
        file: path.to_path_buf(),
        action: if saved.changed {
            FileAction::Restored
        } else {
            FileAction::Unchanged
        },
        keys,
        backup: saved.backup,
    })
}

fn remove(path: &Path) -> Result<(), edit::ConfigError> {
    fs_err::remove_file(path).map_err(|source| edit::ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn render(report: &RestoreReport, style: Style) -> String {
    let mut out = String::new();
    if report.files.is_empty() && report.models.is_empty() {
        out.push_str(
            "Nothing to restore: codex-local has not changed Codex's configuration here.\n",
        );
    }
    for file in &report.files {
        let _ = writeln!(
            out,
            "{} {}",
            style.bold(&file.file.display().to_string()),
            file.action.as_str()
        );
        for key in &file.keys {
            let line = match (key.action, &key.value) {
                (UndoAction::Restored, Some(value)) => format!("  {} = {value}", key.key),
                (UndoAction::Removed, _) => format!("  {} removed", key.key),
                (_, value) => format!(
                    "  {} = {} kept: it changed after codex-local wrote it",
                    key.key,
                    value.as_deref().unwrap_or("(absent)")
                ),
            };
            let _ = writeln!(out, "{line}");
        }
        if let Some(backup) = &file.backup {
            let _ = writeln!(
                out,
                "  {}",
                style.dim(&format!("backup: {}", backup.display()))
            );
        }
    }
    for failure in &report.failed {
        let _ = writeln!(
            out,
            "{} {}: {}\n  {}",
            style.bad("not restored:"),
            failure.file,
            failure.error,
            style.dim(&format!("hint: {}", failure.hint))
        );
    }
    render_models(&mut out, &report.models);
    for repo in &report.local_mode_repos {
        let _ = writeln!(
            out,
            "{} is still in local mode: `codex-local run` refuses to start Codex there without its profile; \
             `codex-local repo off {}` ends it.",
            repo.display(),
            repo.display()
        );
    }
    out
}

/// The variants codex-local made stay in the runtime: say how to remove each.
fn render_models(out: &mut String, models: &[CreatedModel]) {
    for model in models {
        let kind = RuntimeKind::from_id(&model.runtime);
        let name = kind.map_or_else(
            || model.runtime.clone(),
            |kind| kind.display_name().to_owned(),
        );
        if let Some(file) = &model.file {
            let _ = writeln!(
                out,
                "`{}` stays in {name}: codex-local put its file at {} (a link to, or a copy of, the file you gave); \
                 delete that file to remove it.",
                crate::text::sanitize(&model.name),
                crate::text::sanitize(&file.display().to_string())
            );
            let partial = crate::runtime::lmstudio_files::partial_path(file);
            if std::fs::symlink_metadata(&partial).is_ok_and(|m| m.is_file()) {
                let _ = writeln!(
                    out,
                    "A copy an interrupted init left half made is at {}: delete it.",
                    crate::text::sanitize(&partial.display().to_string())
                );
            }
            continue;
        }
        let shown = crate::text::sanitize(&model.name);
        if model.pending {
            let _ = write!(
                out,
                "`{shown}` may be in {name} (an import stopped before codex-local saw it finish)"
            );
        } else {
            let _ = write!(out, "`{shown}` stays in {name}");
        }
        match kind.and_then(|kind| kind.info().remove_command) {
            Some(command) => {
                let _ = writeln!(
                    out,
                    "; `{}` removes it.",
                    command.replace("{model}", &shown)
                );
            }
            None => out.push_str(".\n"),
        }
    }
}
