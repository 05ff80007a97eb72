//! Configuring Codex: config.toml (unless `--profile-only`) and the profile file, old `[profiles.*]` tables moved
//! into their own files, every change journaled for `restore`. A second run writes nothing.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{InitReport, Preflight};
use crate::codex::edit::{self, CodexConfigMut, Op};
use crate::codex::journal::{CreatedModel, Journal};
use crate::codex::setup::{self, Target};
use crate::facts::codex::{CONFIG_FILE, PROFILE_SUFFIX};
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

    /// `<codex home>/codex-local/backups`.
    fn backups(&self) -> PathBuf {
        self.home.join("codex-local").join("backups")
    }
}

/// Writes the files; `offline` adds the privacy keys to config.toml as well.
pub fn configure(
    preflight: Preflight,
    target: &Target,
    offline: bool,
    paths: &Paths,
    report: &mut InitReport,
) -> anyhow::Result<Vec<PathBuf>> {
    fs_err::create_dir_all(&paths.home)
        .with_context(|| format!("Cannot create Codex's folder `{}`", paths.home.display()))?;
    let Preflight {
        config,
        profile,
        fixes,
        migrations,
    } = preflight;
    let mut journal = Journal::load(&paths.home)?;
    let mut changed = Vec::new();
    for (path, text) in &migrations {
        edit::write_atomic(path, text)?;
        changed.push(path.clone());
    }
    if let Some(config) = config {
        let mut ops = fixes;
        ops.extend(setup::ops(target, offline));
        let saved = write(&mut journal, CONFIG_FILE, config, &ops, paths)?;
        report.codex.default_changed = saved.changed;
        report.codex.backup = saved.backup;
        changed.extend(saved.changed.then_some(saved.path));
    }
    let profile_name = paths
        .profile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let saved = write(
        &mut journal,
        &profile_name,
        profile,
        &setup::ops(target, true),
        paths,
    )?;
    report.codex.profile_backup = saved.backup;
    changed.extend(saved.changed.then_some(saved.path));
    if let Some(variant) = &report.created_variant
        && !journal.models.iter().any(|m| &m.name == variant)
    {
        journal.models.push(CreatedModel {
            runtime: report.runtime.id().to_owned(),
            url: report.url.clone(),
            name: variant.clone(),
        });
    }
    if !changed.is_empty() || report.created_variant.is_some() {
        journal.save(&paths.home)?;
    }
    report.changed = report.changed || !changed.is_empty();
    Ok(changed)
}

/// Journals, applies and saves one file's edits.
fn write(
    journal: &mut Journal,
    name: &str,
    mut config: CodexConfigMut,
    ops: &[Op],
    paths: &Paths,
) -> anyhow::Result<edit::Saved> {
    journal.record(name, &config, ops);
    config.apply(ops)?;
    Ok(config.save(ops, &paths.backups())?)
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
