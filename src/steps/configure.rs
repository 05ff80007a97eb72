//! Configuring Codex: config.toml (unless `--profile-only`) and the profile file, old `[profiles.*]` tables merged
//! into their own files. Every write is computed first, then journaled (and synced), and only then made, so that an
//! interruption at any point leaves files that `restore` can put back. A second run writes nothing.

use std::path::{Path, PathBuf};

use super::{InitReport, Preflight};
use crate::codex::edit::{CodexConfigMut, Op, Pending, Saved};
use crate::codex::file::{self, ConfigError};
use crate::codex::journal::{CreatedModel, Journal};
use crate::codex::setup::{self, Target};
use crate::facts::codex::{CONFIG_FILE, PROFILE_SUFFIX};
use crate::faults;
use crate::plan::steps::{StepName, StepStatus};
use crate::report::Printer;
use crate::text::display_path;

/// Where init writes.
#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
    /// `config.toml`; `None` with `--profile-only`.
    pub config: Option<PathBuf>,
    pub profile: PathBuf,
}

impl Paths {
    /// The files in `home` for `profile`.
    #[must_use]
    pub fn new(home: &Path, profile: &str, profile_only: bool) -> Self {
        Self {
            home: home.to_path_buf(),
            config: (!profile_only).then(|| home.join(CONFIG_FILE)),
            profile: home.join(format!("{profile}{PROFILE_SUFFIX}")),
        }
    }

    /// The mode of a new file in Codex's folder: that of config.toml (which may hold a token), else the usual.
    #[must_use]
    pub fn new_mode(&self) -> u32 {
        file::check(&self.home.join(CONFIG_FILE))
            .ok()
            .flatten()
            .map_or(crate::codex::edit::NEW_FILE_MODE, |metadata| {
                file::mode_of(&metadata)
            })
    }

    /// `<codex home>/codex-local/backups`.
    #[must_use]
    pub fn backups(&self) -> PathBuf {
        self.home.join("codex-local").join("backups")
    }
}

/// One file's write, and which of init's files it is.
struct Write {
    pending: Pending,
    is_config: bool,
    is_profile: bool,
}

/// A write failed after others were made.
#[derive(Debug, thiserror::Error)]
#[error("Stopped after writing {}", written.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(" and "))]
pub struct PartlyWritten {
    pub written: Vec<PathBuf>,
}

impl PartlyWritten {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        let files = if self.written.len() == 1 {
            "that file"
        } else {
            "those files"
        };
        format!(
            "`codex-local restore` puts {files} back as they were; then fix what failed and run init again"
        )
    }
}

/// Writes the files; `offline` adds the privacy keys to config.toml as well. The caller holds the Codex home's
/// lock. Returns the files that changed.
pub fn configure(
    preflight: Preflight,
    target: &Target,
    offline: bool,
    paths: &Paths,
    journal: &mut Journal,
    report: &mut InitReport,
) -> anyhow::Result<Vec<PathBuf>> {
    let Preflight {
        config,
        profile,
        fixes,
        migrations,
    } = preflight;
    let mut writes = Vec::new();
    // A table that moves into the profile file init writes joins that file's edits, before init's own keys.
    let mut profile_ops = Vec::new();
    for migration in migrations {
        if migration.file.path() == paths.profile {
            profile_ops.extend(migration.ops);
            continue;
        }
        let name = file_name(migration.file.path());
        writes.extend(prepare(journal, &name, migration.file, &migration.ops)?);
    }
    profile_ops.extend(setup::ops(target, true));
    if let Some(config) = config {
        let mut ops = fixes;
        ops.extend(setup::ops(target, offline));
        let mut write = prepare(journal, CONFIG_FILE, config, &ops)?;
        if let Some(write) = &mut write {
            write.is_config = true;
        }
        writes.extend(write);
    }
    let profile_name = file_name(&paths.profile);
    let mut write = prepare(journal, &profile_name, profile, &profile_ops)?;
    if let Some(write) = &mut write {
        write.is_profile = true;
    }
    writes.extend(write);
    let before = journal.clone();
    remember_variant(journal, report);
    if !writes.is_empty() || *journal != before {
        // The journal holds every change before the first is made.
        journal.save(&paths.home)?;
    }
    faults::point("after-journal");
    let mut changed = Vec::new();
    for write in writes {
        let saved = match write.pending.commit(&paths.backups()) {
            Ok(saved) => saved,
            Err(err) if changed.is_empty() => return Err(err.into()),
            Err(err) => {
                return Err(anyhow::Error::new(err).context(PartlyWritten { written: changed }));
            }
        };
        note(report, &write, &saved);
        changed.push(saved.path);
    }
    report.changed = report.changed || !changed.is_empty();
    Ok(changed)
}

/// Applies `ops` and, when the file would change, journals the write it means (not yet saved).
fn prepare(
    journal: &mut Journal,
    name: &str,
    mut config: CodexConfigMut,
    ops: &[Op],
) -> anyhow::Result<Option<Write>> {
    journal.record(name, &config, ops);
    config.apply(ops)?;
    let Some(pending) = config.prepare(ops)? else {
        return Ok(None);
    };
    journal.record_write(name, &pending);
    Ok(Some(Write {
        pending,
        is_config: false,
        is_profile: false,
    }))
}

fn note(report: &mut InitReport, write: &Write, saved: &Saved) {
    if write.is_config {
        report.codex.default_changed = saved.changed;
        report.codex.backup.clone_from(&saved.backup);
    } else if write.is_profile {
        report.codex.profile_backup.clone_from(&saved.backup);
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Notes the variant this run created, so that `restore` can name it.
pub fn remember_variant(journal: &mut Journal, report: &InitReport) {
    // A variant of codex-local's taken as it is: listed again for `restore`, with its digest now where an older
    // codex-local left none.
    if let Some((variant, digest)) = &report.reused_variant
        && let Some(made) = journal.made(report.runtime.id(), &report.url, variant)
        && made.still_ours(report.runtime, digest.as_deref())
    {
        journal.renote(report.runtime.id(), &report.url, variant);
        if let Some(digest) = digest {
            journal.set_digest(report.runtime.id(), &report.url, variant, digest);
        }
    }
    if let Some(variant) = &report.created_variant {
        journal.note_model(CreatedModel {
            runtime: report.runtime.id().to_owned(),
            url: report.url.clone(),
            name: variant.clone(),
            file: report.created_file.clone(),
            source: report.created_source.clone(),
            digest: report.created_digest.clone(),
            pending: report.import_pending,
        });
    }
}

/// The journal, or an empty one when it is damaged: the damaged file is kept aside, and the user told.
pub fn open_journal(
    paths: &Paths,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<Journal> {
    match Journal::load(&paths.home) {
        Ok(journal) => Ok(journal),
        Err(err @ (ConfigError::Damaged { .. } | ConfigError::NotUtf8 { .. })) => {
            let kept = Journal::set_aside(&paths.home)?;
            report.warn(
                printer,
                format!(
                    "{err}; it is kept as `{}`, and `codex-local restore` can undo only what codex-local changes \
                     from now on",
                    kept.display()
                ),
            );
            Ok(Journal::default())
        }
        Err(err) => Err(err.into()),
    }
}

/// Removes temporary files a killed codex-local left where init writes. The caller holds the lock.
pub fn tidy(paths: &Paths) {
    let mut dirs = vec![
        paths.home.clone(),
        paths.backups(),
        paths.home.join("codex-local"),
    ];
    // A file that is a symbolic link is written beside its target.
    for path in paths.config.iter().chain([&paths.profile]) {
        if let Some(dir) = fs_err::canonicalize(path)
            .ok()
            .and_then(|target| target.parent().map(Path::to_path_buf))
            && !dirs.contains(&dir)
        {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        file::remove_stale_temps(&dir);
    }
}

/// Reports the configure step: what was written, or that nothing changed.
pub fn report_configured(
    changed: &[PathBuf],
    target: &Target,
    home_dir: Option<&Path>,
    printer: &Printer,
    report: &mut InitReport,
) {
    if changed.is_empty() {
        let detail = "Codex is already configured for this model: nothing changed".to_owned();
        report.step(printer, StepName::Configure, StepStatus::Skipped, detail);
        return;
    }
    let names: Vec<String> = changed.iter().map(|p| display_path(p, home_dir)).collect();
    let detail = format!(
        "wrote {} (provider `{}`, model `{}`, {} tokens)",
        names.join(" and "),
        target.provider,
        target.model,
        target.context
    );
    report.step(printer, StepName::Configure, StepStatus::Done, detail);
}
