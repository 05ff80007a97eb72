//! The checks before any change: both files open and parse, consent to remove what Codex refuses, consent to a
//! download. Nothing is changed here.

use std::path::PathBuf;

use super::InitError;
use super::configure::Paths;
use crate::codex::edit::{CodexConfigMut, Op};
use crate::codex::setup;
use crate::facts::codex::PROFILE_SUFFIX;
use crate::plan::Plan;
use crate::report::Printer;
use crate::size::human_bytes;

/// What the checks found: the files opened, the fixes consented to, and old `[profiles.*]` tables to move into
/// their own files.
pub struct Preflight {
    pub config: Option<CodexConfigMut>,
    pub profile: CodexConfigMut,
    pub fixes: Vec<Op>,
    pub migrations: Vec<(PathBuf, String)>,
}

/// Opens both files (refusing one that does not parse), asks before removing what Codex refuses, and asks before
/// a download.
pub fn preflight(
    plan: &Plan,
    paths: &Paths,
    yes: bool,
    printer: &Printer,
) -> anyhow::Result<Preflight> {
    let config = match &paths.config {
        Some(path) => Some(CodexConfigMut::open(path)?),
        None => None,
    };
    let profile = CodexConfigMut::open(&paths.profile)?;
    let (fixes, migrations) = match &config {
        Some(config) => consent_to_fixes(config, paths, yes, printer)?,
        None => (Vec::new(), Vec::new()),
    };
    if !plan.installed && !yes {
        consent_to_download(plan, printer)?;
    }
    Ok(Preflight {
        config,
        profile,
        fixes,
        migrations,
    })
}

type Fixes = (Vec<Op>, Vec<(PathBuf, String)>);

/// Entries Codex refuses to load are removed only with consent; old `[profiles.*]` tables move to their files.
fn consent_to_fixes(
    config: &CodexConfigMut,
    paths: &Paths,
    yes: bool,
    printer: &Printer,
) -> anyhow::Result<Fixes> {
    let problems = setup::problems(config.document());
    if problems.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let path = config.path();
    for problem in &problems {
        printer.warn(&format!("`{}` has {}", path.display(), problem.description));
    }
    let consent = yes || printer.confirm("Remove these entries (a backup is kept)?") == Some(true);
    if !consent {
        let list: Vec<String> = problems.iter().map(|p| p.description.clone()).collect();
        return Err(InitError::ConfigProblems {
            path: path.to_path_buf(),
            problems: list.join("; and "),
        }
        .into());
    }
    let migrations = setup::old_profiles(config.document())
        .into_iter()
        .map(|(name, text)| (paths.home.join(format!("{name}{PROFILE_SUFFIX}")), text))
        .filter(|(path, _)| !path.exists())
        .collect();
    Ok((problems.into_iter().map(|p| p.fix).collect(), migrations))
}

/// A download needs a yes: `--yes`, or an answer on the terminal.
fn consent_to_download(plan: &Plan, printer: &Printer) -> anyhow::Result<()> {
    let size = human_bytes(plan.estimate.weights_bytes);
    let model = plan.base_model.clone();
    match printer.confirm(&format!("Download `{model}` ({size})?")) {
        Some(true) => Ok(()),
        Some(false) => Err(InitError::Declined { model }.into()),
        None => Err(InitError::NeedsYes { model, size }.into()),
    }
}
