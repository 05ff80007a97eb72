//! `codex-local run [-- ARGS…]`: start the real Codex the way this directory requires. Inside a local-mode
//! repository that is the local profile, and only while the local runtime answers (it fails closed, never falling
//! back to a cloud model); elsewhere Codex starts unchanged.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use thiserror::Error;
use toml_edit::Item;

use super::Ctx;
use crate::cli::RunArgs;
use crate::codex::binary;
use crate::codex::config::{PROFILE_SUFFIX, is_loopback_url};
use crate::codex::edit::CodexConfigMut;
use crate::codex::repo::{self, RepoError};
use crate::runtime::http;
use crate::settings::Settings;

/// Why Codex was not started.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("Codex is not installed (no `codex` on PATH)")]
    NoCodex,
    #[error("`{}` is in local mode, and Codex's arguments choose a profile or provider themselves (`{arg}`)", root.display())]
    ChoosesItself { root: PathBuf, arg: String },
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
    },
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
            Self::NoCodex => format!("install it with `{}`", binary::INSTALL_COMMAND),
            Self::ChoosesItself { .. } => {
                "leave out `--profile`, `--oss` and `-c` overrides: local mode chooses the local profile; \
                 `codex-local repo off` turns it off"
                .to_owned()
            }
            Self::NotLocal { profile, .. } => {
                format!("run `codex-local init --profile {profile}` to point the profile at a local runtime")
            }
            Self::RuntimeDown { .. } => {
                "start the runtime (`ollama serve`, or `lms server start` for LM Studio), then run Codex again"
                    .to_owned()
            }
            Self::Start { .. } => "check that `codex` on PATH runs: `codex --version`".to_owned(),
        }
    }
}

/// Arguments that would let Codex pick something other than the local profile.
fn chooses_itself(args: &[OsString]) -> Option<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .find(|arg| {
            matches!(
                arg.as_str(),
                "-p" | "--profile" | "--oss" | "--local-provider"
            ) || arg.starts_with("--profile=")
                || arg.starts_with("--local-provider=")
                || arg.starts_with("-c")
                || arg == "--config"
        })
}

/// Runs `run`.
pub async fn run(args: &RunArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let codex = settings
        .path_var
        .as_ref()
        .and_then(|path| binary::which("codex", path))
        .ok_or(RunError::NoCodex)?;
    let cwd = settings.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut codex_args: Vec<OsString> = Vec::new();
    if let Some(status) = repo::status(&cwd, &settings.codex_home).filter(|s| s.local_mode) {
        let profile = status
            .profile
            .unwrap_or_else(|| repo::DEFAULT_PROFILE.to_owned());
        if let Some(arg) = chooses_itself(&args.args) {
            return Err(RunError::ChoosesItself {
                root: status.path,
                arg,
            }
            .into());
        }
        check_local(settings, &status.path, &profile).await?;
        ctx.printer.debug(&format!(
            "local mode: starting Codex with the `{profile}` profile"
        ));
        codex_args.push("--profile".into());
        codex_args.push(profile.into());
    }
    codex_args.extend(args.args.iter().cloned());
    start(&codex, &codex_args)
}

/// The profile exists, points at this machine, and its runtime answers.
async fn check_local(settings: &Settings, root: &Path, profile: &str) -> anyhow::Result<()> {
    let path = settings
        .codex_home
        .join(format!("{profile}{PROFILE_SUFFIX}"));
    if !path.exists() {
        return Err(RepoError::NoProfile {
            profile: profile.to_owned(),
            path,
        }
        .into());
    }
    let config = CodexConfigMut::open(&path)?;
    let document = config.document();
    let provider = document
        .get("model_provider")
        .and_then(Item::as_str)
        .unwrap_or("openai")
        .to_owned();
    let table_url = document
        .get("model_providers")
        .and_then(|p| p.get(&provider))
        .and_then(|t| t.get("base_url"))
        .and_then(Item::as_str);
    let base = settings
        .provider_api_base(&provider, table_url)
        .unwrap_or_else(|| format!("provider `{provider}`"));
    if !is_loopback_url(&base) {
        return Err(RunError::NotLocal {
            root: root.to_path_buf(),
            profile: profile.to_owned(),
            base,
        }
        .into());
    }
    let api = reqwest::Url::parse(&format!("{}/", base.trim_end_matches('/'))).map_err(|_| {
        RunError::NotLocal {
            root: root.to_path_buf(),
            profile: profile.to_owned(),
            base: base.clone(),
        }
    })?;
    let runtime_root = api.join("../").unwrap_or_else(|_| api.clone());
    let probe_path = if provider.contains("lmstudio") {
        "lmstudio-greeting"
    } else {
        "api/version"
    };
    let timeout = settings.probe_timeout.max(Duration::from_secs(1));
    let answer = http::get(
        &http::probe_client(timeout),
        &runtime_root,
        probe_path,
        None,
        timeout,
    )
    .await;
    match answer {
        Ok(answer) if answer.status.is_success() => Ok(()),
        Ok(answer) => Err(RunError::RuntimeDown {
            root: root.to_path_buf(),
            base,
            error: format!("`/{probe_path}` answered HTTP {}", answer.status),
        }
        .into()),
        Err(err) => Err(RunError::RuntimeDown {
            root: root.to_path_buf(),
            base,
            error: err.to_string(),
        }
        .into()),
    }
}

/// Replaces this process with Codex (on Unix), so that Codex owns the terminal and its exit code is the result.
#[cfg(unix)]
fn start(codex: &Path, args: &[OsString]) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt as _;
    let err = std::process::Command::new(codex).args(args).exec();
    Err(RunError::Start {
        path: codex.to_path_buf(),
        source: err,
    }
    .into())
}

/// Starts Codex and passes its exit code on.
#[cfg(not(unix))]
fn start(codex: &Path, args: &[OsString]) -> anyhow::Result<ExitCode> {
    let status = std::process::Command::new(codex)
        .args(args)
        .status()
        .map_err(|source| RunError::Start {
            path: codex.to_path_buf(),
            source,
        })?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
    ))
}
