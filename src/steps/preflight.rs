//! The checks before any change: both files open and parse, entries Codex refuses are removed only with consent,
//! old `[profiles.*]` tables can move into their files without losing a key, and a download has consent. Nothing
//! is changed here.

use std::path::PathBuf;

use super::configure::Paths;
use super::{InitError, ask};
use crate::codex::edit::{self, CodexConfigMut, Op};
use crate::codex::setup;
use crate::facts::codex::PROFILE_SUFFIX;
use crate::plan::Plan;
use crate::report::Printer;
use crate::size::human_bytes;

/// What the checks found: the files opened, the fixes consented to, and the profile files old `[profiles.*]` tables
/// move into.
pub struct Preflight {
    pub config: Option<CodexConfigMut>,
    pub profile: CodexConfigMut,
    pub fixes: Vec<Op>,
    pub migrations: Vec<Migration>,
}

/// An old `[profiles.<name>]` table moving into `<name>.config.toml`: the file, and the values it gets.
pub struct Migration {
    pub file: CodexConfigMut,
    pub ops: Vec<Op>,
}

/// Opens both files (refusing one that does not parse), asks before removing what Codex refuses, and asks before
/// a download.
pub async fn preflight(
    plan: &Plan,
    paths: &Paths,
    yes: bool,
    printer: &Printer,
) -> anyhow::Result<Preflight> {
    let config = match &paths.config {
        Some(path) => Some(CodexConfigMut::open(path)?),
        None => None,
    };
    let profile = CodexConfigMut::open(&paths.profile)?.with_new_mode(paths.new_mode());
    let (fixes, migrations) = match &config {
        Some(config) => consent_to_fixes(config, paths, yes, printer).await?,
        None => (Vec::new(), Vec::new()),
    };
    if !plan.installed && !yes {
        consent_to_download(plan, printer).await?;
    }
    Ok(Preflight {
        config,
        profile,
        fixes,
        migrations,
    })
}

type Fixes = (Vec<Op>, Vec<Migration>);

/// Entries Codex refuses to load are removed only with consent; old `[profiles.*]` tables move to their files.
async fn consent_to_fixes(
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
    // A table that cannot move without losing a key stops init before the question is asked.
    let migrations = migrations(config, paths)?;
    for problem in &problems {
        printer.warn(&format!("`{}` has {}", path.display(), problem.description));
    }
    let consent =
        yes || ask(printer, "Remove these entries (a backup is kept)?").await? == Some(true);
    if !consent {
        let list: Vec<String> = problems.iter().map(|p| p.description.clone()).collect();
        return Err(InitError::ConfigProblems {
            path: path.to_path_buf(),
            problems: list.join("; and "),
        }
        .into());
    }
    Ok((problems.into_iter().map(|p| p.fix).collect(), migrations))
}

/// Each old `[profiles.<name>]` table merged into `<name>.config.toml`: values the file lacks are added, values it
/// has alike are left, and a value it has differently stops init, naming both.
fn migrations(config: &CodexConfigMut, paths: &Paths) -> anyhow::Result<Vec<Migration>> {
    let mut found = Vec::new();
    for (name, leaves) in setup::old_profiles(config.document()) {
        let path: PathBuf = paths.home.join(format!("{name}{PROFILE_SUFFIX}"));
        let file = CodexConfigMut::open(&path)?.with_new_mode(paths.new_mode());
        let mut ops = Vec::new();
        for leaf in leaves {
            let existing = edit::lookup(file.document(), &leaf.keys).map(|item| match item {
                toml_edit::Item::Value(value) => edit::value_text(value),
                other => other.to_string().trim().to_owned(),
            });
            match existing {
                None => ops.push(Op::Put(leaf.keys, leaf.snippet)),
                Some(value) if value == leaf.value => {}
                Some(value) => {
                    return Err(InitError::ProfileConflict {
                        profile: name,
                        key: leaf.keys.join("."),
                        table: leaf.value,
                        file: value,
                        path,
                    }
                    .into());
                }
            }
        }
        if !ops.is_empty() {
            found.push(Migration { file, ops });
        }
    }
    Ok(found)
}

/// A download needs a yes: `--yes`, or an answer on the terminal.
async fn consent_to_download(plan: &Plan, printer: &Printer) -> anyhow::Result<()> {
    let size = human_bytes(plan.estimate.weights_bytes);
    let model = plan.base_model.clone();
    match ask(printer, &format!("Download `{model}` ({size})?")).await? {
        Some(true) => Ok(()),
        Some(false) => Err(InitError::Declined { model }.into()),
        None => Err(InitError::NeedsYes { model, size }.into()),
    }
}
