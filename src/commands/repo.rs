//! `codex-local repo on|off|status [PATH]`: local mode for one repository.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::{RepoAction, RepoArgs};
use crate::codex::edit::{self, CodexConfigMut, NEW_FILE_MODE, Op, Scalar};
use crate::codex::file;
use crate::codex::journal::Journal;
use crate::codex::repo::{RepoError, RepoList};
use crate::facts::codex::PROFILE_SUFFIX;
use crate::facts::repo::{DEFAULT_PROFILE, MARKER, RepoStatus};
use crate::gather;
use crate::report::Style;
use crate::steps;

/// The `repo` document.
#[derive(Debug, Serialize)]
struct RepoReport {
    #[serde(flatten)]
    status: RepoStatus,
    /// What this command changed, in words.
    changes: Vec<String>,
}

/// Runs `repo`.
pub async fn run(args: &RepoArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let home = &ctx.settings.codex_home;
    let cwd = ctx
        .settings
        .cwd
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let (path, action) = match &args.action {
        RepoAction::On { path, .. } => (path, "on"),
        RepoAction::Off { path } => (path, "off"),
        RepoAction::Status { path } => (path, "status"),
    };
    let dir = path.as_deref().map_or_else(|| cwd.clone(), |p| cwd.join(p));
    if !dir.exists() {
        return Err(RepoError::Missing(dir).into());
    }
    let root = gather::find_root(&dir).ok_or_else(|| RepoError::NotARepo(dir.clone()))?;
    let mut changes = Vec::new();
    if !matches!(args.action, RepoAction::Status { .. }) {
        let _lock = steps::lock_home(home, ctx.settings.lock_timeout, ctx.printer).await?;
        match &args.action {
            RepoAction::On {
                profile, marker, ..
            } => turn_on(&root, home, profile, *marker, &mut changes)?,
            RepoAction::Off { .. } => turn_off(&root, home, &mut changes)?,
            RepoAction::Status { .. } => {}
        }
    }
    let status =
        gather::repo_status(&root, home).ok_or_else(|| RepoError::NotARepo(root.clone()))?;
    let report = RepoReport { status, changes };
    ctx.printer
        .result(&report, |style| render(&report, action, style))?;
    Ok(ExitCode::SUCCESS)
}

fn turn_on(
    root: &Path,
    home: &Path,
    profile: &str,
    marker: bool,
    changes: &mut Vec<String>,
) -> Result<(), RepoError> {
    let profile_path = home.join(format!("{profile}{PROFILE_SUFFIX}"));
    if !profile_path.exists() {
        return Err(RepoError::NoProfile {
            profile: profile.to_owned(),
            path: profile_path,
        });
    }
    let mut list = RepoList::load(home)?;
    if list.add(root, profile) {
        list.save(home)?;
        changes.push(format!(
            "listed {} as a local-mode repository",
            root.display()
        ));
    }
    if marker {
        let text = format!(
            "# Codex in this repository uses only a local model: codex-local starts it with the `{profile}` \
             profile.\nlocal_mode = true\nprofile = \"{profile}\"\n"
        );
        let path = root.join(MARKER);
        if file::read_text(&path)?.map(|t| t.raw).as_deref() != Some(text.as_str()) {
            file::write_atomic(&path, &text, NEW_FILE_MODE)?;
            changes.push(format!("wrote {MARKER}, which the team can commit"));
        }
    }
    // Codex reads this file in trusted projects; it cannot choose the provider there, but it can keep web search
    // (a cloud service) off.
    let config_path = root.join(".codex").join("config.toml");
    let ops = [Op::set("web_search", Scalar::Str("disabled".to_owned()))];
    let mut config = CodexConfigMut::open(&config_path)?;
    // Journaled like init's edits, before the write, so that `restore` undoes it too.
    let name = config_path.display().to_string();
    let mut journal = Journal::load(home)?;
    journal.record(&name, &config, &ops);
    config.apply(&ops)?;
    if let Some(pending) = config.prepare(&ops)? {
        journal.record_write(&name, &pending);
        journal.save(home)?;
        crate::faults::point("after-journal");
        pending.commit(&home.join("codex-local").join("backups"))?;
        changes.push("set web_search = \"disabled\" in .codex/config.toml".to_owned());
    }
    Ok(())
}

fn turn_off(root: &Path, home: &Path, changes: &mut Vec<String>) -> Result<(), RepoError> {
    let mut list = RepoList::load(home)?;
    if list.remove(root) {
        list.save(home)?;
        changes.push(format!(
            "removed {} from the local-mode list",
            root.display()
        ));
    }
    let marker = root.join(MARKER);
    if marker.exists() {
        fs_err::remove_file(&marker).map_err(|source| edit::ConfigError::Write {
            path: marker,
            source,
        })?;
        changes.push(format!(
            "removed {MARKER} (commit that, if the team had it)"
        ));
    }
    Ok(())
}

fn render(report: &RepoReport, action: &str, style: Style) -> String {
    let mut out = String::new();
    let status = &report.status;
    let state = if status.local_mode {
        style.good("on")
    } else {
        "off".to_owned()
    };
    let source = status
        .source
        .map(|s| format!(" (from the {s})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Local mode is {state} for {}{source}.",
        status.path.display()
    );
    for change in &report.changes {
        let _ = writeln!(out, "  {}", style.dim(change));
    }
    if action == "on" || (action == "status" && status.local_mode) {
        let profile = status.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
        let _ = writeln!(
            out,
            "Start Codex there with `codex-local run` (it uses the `{profile}` profile and refuses to start while the \
             local runtime is down).\nTo make a plain `codex` do the same, add to your shell's startup file:\n  \
             bash: eval \"$(codex-local shell-init bash)\"\n  zsh:  eval \"$(codex-local shell-init zsh)\"\n  \
             fish: codex-local shell-init fish | source"
        );
    }
    if action == "off" && status.local_mode {
        let _ = writeln!(
            out,
            "{}",
            style.warn("It is still on: see what keeps it on above.")
        );
    }
    out
}
