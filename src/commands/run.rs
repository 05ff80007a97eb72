//! `codex-local run [-- ARGS…]`: start the real Codex the way this directory requires. Inside a local-mode
//! repository that is the local profile, and only while the local runtime answers (it fails closed, never falling
//! back to a cloud model); elsewhere Codex starts unchanged.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use thiserror::Error;

use super::Ctx;
use crate::cli::RunArgs;
use crate::codex::journal::Journal;
use crate::codex::repo::RepoError;
use crate::env_vars;
use crate::facts::codex::{CONFIG_FILE, CodexStatus, INSTALL_COMMAND, PROFILE_SUFFIX, leak};
use crate::facts::repo::{DEFAULT_PROFILE, RepoStatus};
use crate::facts::runtime::RuntimeKind;
use crate::facts::{Facts, Want, codex_args};
use crate::gather;
use crate::host::redact;
use crate::runtime::error::RuntimeError;
use crate::runtime::{self, Kept, Runtime};
use crate::settings::{LocalTarget, Settings};
use crate::steps;

/// Why Codex was not started.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("Codex is not installed (no `codex` on PATH)")]
    NoCodex,
    #[error("`{}` is in local mode, and Codex's argument `{arg}` could send prompts elsewhere: {why}", root.display())]
    ChoosesItself {
        root: PathBuf,
        arg: String,
        why: String,
    },
    #[error("`{}` is in local mode, but the `{profile}` profile does not point at a runtime on this machine ({base})", root.display())]
    NotLocal {
        root: PathBuf,
        profile: String,
        base: String,
    },
    #[error("`{}` is in local mode, and the local runtime at {base} does not answer: {error}. Codex was not started, so nothing left this machine", root.display())]
    RuntimeDown {
        root: PathBuf,
        base: String,
        error: String,
        kind: Option<RuntimeKind>,
    },
    #[error("`{}` is in local mode, but `{key}` in `{}` could send its data elsewhere: {why}", root.display(), file.display())]
    Leaks {
        root: PathBuf,
        file: PathBuf,
        key: String,
        why: String,
    },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("{0}")]
    Unreadable(String),
    #[error("Cannot start `{}`", path.display())]
    Start {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RunError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NoCodex => format!("install it with `{INSTALL_COMMAND}`"),
            Self::ChoosesItself { .. } => {
                "leave it out: local mode chooses the local profile and keeps Codex on this machine; \
                 `codex-local repo off` turns local mode off"
                    .to_owned()
            }
            Self::NotLocal { profile, .. } => {
                format!("run `codex-local init --profile {profile}` to point the profile at a local runtime")
            }
            Self::RuntimeDown { kind, .. } => {
                let start = kind.map_or_else(
                    || {
                        let all: Vec<&str> = RuntimeKind::ALL.iter().map(|k| k.start_hint()).collect();
                        all.join("; or ")
                    },
                    |kind| kind.start_hint().to_owned(),
                );
                format!("{start}; then run Codex again")
            }
            Self::Leaks { key, .. } => format!(
                "remove `{key}` (or point it at this machine) for Codex to start in local mode; \
                 `codex-local repo off` turns local mode off"
            ),
            Self::Repo(err) => err.hint(),
            Self::Unreadable(_) => {
                "fix the file by hand (Codex cannot load it either) and run the command again".to_owned()
            }
            Self::Start { .. } => "check that `codex` on PATH runs: `codex --version`".to_owned(),
        }
    }
}

/// Runs `run`.
pub async fn run(args: &RunArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let want = Want {
        codex: true,
        repo: true,
        ..Want::default()
    };
    let (facts, codex) = tokio::join!(gather::gather(settings, want), async {
        gather::locate_codex(settings.path_var.as_ref(), settings.cwd.as_deref())
    });
    let facts = facts?;
    let codex = codex.ok_or(RunError::NoCodex)?;
    let mut forwarded: Vec<OsString> = Vec::new();
    if let Some(status) = local_mode(settings, &facts, &args.args) {
        settings.check_environment()?;
        let profile = status.profile.unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        if let Err(refused) = codex_args::check(&args.args) {
            return Err(RunError::ChoosesItself {
                root: status.path,
                arg: refused.arg,
                why: refused.why,
            }
            .into());
        }
        check_settings(facts.codex()?, &status.path, &profile)?;
        check_local(ctx, &facts, &status.path, &profile, &args.args).await?;
        ctx.printer.debug(&format!(
            "local mode: starting Codex with the `{profile}` profile"
        ));
        forwarded.push("--profile".into());
        forwarded.push(profile.into());
    } else {
        keep_default(ctx, facts.codex()?, &args.args).await;
    }
    forwarded.extend(args.args.iter().cloned());
    start(&codex, &forwarded, &settings.codex_home)
}

/// The local-mode repository Codex would work in: the one around the working directory, or one that `-C`/`--cd`
/// or `--add-dir` names.
fn local_mode(settings: &Settings, facts: &Facts, args: &[OsString]) -> Option<RepoStatus> {
    if let Some(status) = facts.repo.clone().filter(|s| s.local_mode) {
        return Some(status);
    }
    let cwd = settings.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    codex_args::work_dirs(args)
        .into_iter()
        .filter_map(|dir| gather::repo_status(&cwd.join(dir), &settings.codex_home))
        .find(|status| status.local_mode)
}

/// No file Codex reads in the repository sends its data off the machine (telemetry or a tool server elsewhere, a
/// repository's own hook): the user's config.toml, the local profile, and the repository's `.codex/config.toml`.
fn check_settings(codex: &CodexStatus, root: &Path, profile: &str) -> anyhow::Result<()> {
    let repository = root.join(".codex").join(CONFIG_FILE);
    let profile_values = codex
        .profiles
        .iter()
        .find(|p| p.name == profile)
        .map(|p| p.selection.values.clone())
        .unwrap_or_default();
    let files = [
        (codex.config.clone(), codex.selection.values.clone(), false),
        (
            codex.home.join(format!("{profile}{PROFILE_SUFFIX}")),
            profile_values,
            false,
        ),
        (
            repository.clone(),
            gather::config_values(&repository)?.unwrap_or_default(),
            true,
        ),
    ];
    for (file, values, in_repository) in files {
        if let Some((key, why)) = leak(&values, in_repository) {
            return Err(RunError::Leaks {
                root: root.to_path_buf(),
                file,
                key,
                why,
            }
            .into());
        }
    }
    Ok(())
}

/// The profile exists, points at this machine, and its runtime answers (started, with consent on a terminal, when
/// it is installed and down) and still serves the model with the context Codex is told, put back when a restart, an
/// unload or a removal undid it.
async fn check_local(
    ctx: &Ctx<'_>,
    facts: &Facts,
    root: &Path,
    profile: &str,
    args: &[OsString],
) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let local = local_base(settings, facts.codex()?, root, profile)?;
    let runtime_root = runtime::root_of(&local.base).ok_or_else(|| RunError::NotLocal {
        root: root.to_path_buf(),
        profile: profile.to_owned(),
        base: redact(&local.base),
    })?;
    let kind = RuntimeKind::from_provider(&local.provider);
    let (mut runtime, mut status) = runtime::identify(kind, &runtime_root, settings).await?;
    if !status.running && kind.is_some() {
        gather::note_programs(settings, std::slice::from_mut(&mut status));
        if steps::start_runtime(&status, settings, false, ctx.printer).await? {
            (runtime, status) = runtime::identify(kind, &runtime_root, settings).await?;
        }
    }
    if !status.running {
        return Err(RunError::RuntimeDown {
            root: root.to_path_buf(),
            base: redact(&local.base),
            error: status.error.unwrap_or_default(),
            kind,
        }
        .into());
    }
    if let (Some(model), Some(context)) = (&local.model, local.context)
        && codex_args::starts_session(args)
    {
        keep(ctx, runtime.as_ref(), model, context).await?;
    }
    Ok(())
}

/// Journals the digest of a variant `run` made again, so that it stays codex-local's own; a journal that cannot
/// be written now only costs that (said with `-v`).
async fn remember_repair(ctx: &Ctx<'_>, runtime: &dyn Runtime, model: &str) {
    let home = &ctx.settings.codex_home;
    let noted = async {
        let digest = runtime
            .models()
            .await
            .ok()?
            .into_iter()
            .find(|m| crate::facts::ollama::same_model(&m.name, model))?
            .digest?;
        let _lock = crate::steps::lock_home(home, ctx.settings.lock_timeout, ctx.printer)
            .await
            .ok()?;
        let mut journal = Journal::load(home).ok()?;
        journal.set_digest(runtime.kind().id(), runtime.url().as_str(), model, &digest);
        journal.save(home).ok()
    };
    if noted.await.is_none() {
        ctx.printer
            .debug("codex-local: the model made again could not be noted in the journal");
    }
}

/// Puts back the context `model` is served with, saying so in one line when something had to be done. Only a
/// model codex-local's journal says it made is ever made again.
async fn keep(
    ctx: &Ctx<'_>,
    runtime: &dyn Runtime,
    model: &str,
    context: u64,
) -> Result<(), RuntimeError> {
    // A model codex-local made at this runtime's address, as a variant of another (an imported one has no base to
    // make it again from).
    let made = Journal::load(&ctx.settings.codex_home)
        .ok()
        .and_then(|journal| journal.made(runtime.kind().id(), runtime.url().as_str(), model))
        .filter(|made| made.variant);
    match runtime.keep_served(model, context, made.as_ref()).await? {
        Kept::Right => {}
        Kept::Repaired(what) => {
            ctx.printer.info(&format!("codex-local: {what}"));
            remember_repair(ctx, runtime, model).await;
        }
        Kept::Unknown(why) => ctx.printer.debug(&why),
    }
    Ok(())
}

/// Outside local mode, when Codex will talk to a model and the configuration it will load (config.toml, or the
/// profile its arguments choose) points at a runtime on this machine: the same repair. Nothing here stops Codex,
/// which starts whatever happens, after a warning when the model is not right or the runtime does not answer.
async fn keep_default(ctx: &Ctx<'_>, codex: &CodexStatus, args: &[OsString]) {
    if !codex_args::starts_session(args) {
        return;
    }
    let settings = &ctx.settings;
    let selection = match codex_args::profile(args) {
        Some(name) => match codex.profiles.iter().find(|p| p.name == name) {
            Some(found) => &found.selection,
            None => return,
        },
        None => &codex.selection,
    };
    let Ok(local) = settings.local_target(selection) else {
        return;
    };
    let (Some(kind), Some(model), Some(context), Some(root)) = (
        RuntimeKind::from_provider(&local.provider),
        local.model.as_deref(),
        local.context,
        runtime::root_of(&local.base),
    ) else {
        return;
    };
    let Ok(endpoint) = runtime::endpoint_at(kind, root, settings) else {
        return;
    };
    let runtime = runtime::connect(kind, endpoint);
    if let Err(err) = keep(ctx, runtime.as_ref(), model, context).await {
        ctx.printer.warn(&format!("{err}"));
        ctx.printer.info(&format!("hint: {}", err.hint()));
    }
}

/// Where the profile sends prompts (which must be this machine), and through which provider.
fn local_base(
    settings: &Settings,
    codex: &CodexStatus,
    root: &Path,
    profile: &str,
) -> Result<LocalTarget, RunError> {
    let Some(found) = codex.profiles.iter().find(|p| p.name == profile) else {
        return Err(RunError::Repo(RepoError::NoProfile {
            profile: profile.to_owned(),
            path: settings
                .codex_home
                .join(format!("{profile}{PROFILE_SUFFIX}")),
        }));
    };
    if let Some(error) = &found.error {
        return Err(RunError::Unreadable(error.clone()));
    }
    settings
        .local_target(&found.selection)
        .map_err(|base| RunError::NotLocal {
            root: root.to_path_buf(),
            profile: profile.to_owned(),
            base,
        })
}

/// Replaces this process with Codex (on Unix), so that Codex owns the terminal and its exit code is the result.
/// Codex is always started on the Codex home that was checked.
#[cfg(unix)]
fn start(codex: &Path, args: &[OsString], home: &Path) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt as _;
    let err = std::process::Command::new(codex)
        .args(args)
        .env(env_vars::CODEX_HOME, home)
        .exec();
    Err(RunError::Start {
        path: codex.to_path_buf(),
        source: err,
    }
    .into())
}

/// Starts Codex and passes its exit code on.
#[cfg(not(unix))]
fn start(codex: &Path, args: &[OsString], home: &Path) -> anyhow::Result<ExitCode> {
    let status = std::process::Command::new(codex)
        .args(args)
        .env(env_vars::CODEX_HOME, home)
        .status()
        .map_err(|source| RunError::Start {
            path: codex.to_path_buf(),
            source,
        })?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
    ))
}
