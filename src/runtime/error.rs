//! Errors of the runtime operations (pull, create, load, verify), each with the next step to take.

use thiserror::Error;

use super::http::ProbeError;

/// The idle limit of the longest operations (a load, a create), in seconds, for messages.
const LONG_IDLE_SECONDS: u64 = 900;

/// A runtime operation that failed.
#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error("Cannot reach `{url}`: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: ProbeError,
    },
    #[error("`{path}` answered HTTP {status}: {message}")]
    Status {
        path: String,
        status: u16,
        message: String,
    },
    #[error("Ollama could not pull `{model}`: {message}")]
    PullFailed { model: String, message: String },
    #[error("The connection to `{url}` dropped before {what} finished")]
    Dropped { url: String, what: String },
    #[error("`{url}` did not finish {what} in time")]
    Slow { url: String, what: String },
    #[error("The connection to `{url}` dropped before pulling `{model}` finished")]
    PullDropped { url: String, model: String },
    #[error("Interrupted while pulling `{model}`")]
    Interrupted { model: String },
    #[error(
        "Ollama already has a model named `{model}`, with another context, that codex-local did not make"
    )]
    NameTaken { model: String },
    #[error("Interrupted while importing `{model}`: {}", if *making {
        "the runtime may still finish making it; `codex-local restore` names it"
    } else {
        "nothing half-made was kept"
    })]
    ImportInterrupted { model: String, making: bool },
    #[error("`{model}` made no progress for {seconds} s")]
    Stalled { model: String, seconds: u64 },
    #[error("`{url}` sent more than {} MiB", limit >> 20)]
    TooLarge { url: String, limit: usize },
    #[error("`{url}` sent a line of more than 1 MiB")]
    LineTooLong { url: String },
    #[error("Cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("Bad data from `{path}`: {detail}")]
    BadData { path: String, detail: String },
    #[error("LM Studio could not download `{model}`: {message}")]
    DownloadFailed { model: String, message: String },
    #[error(
        "This LM Studio has no API to download or load `{model}` (it needs LM Studio 0.4 or later)"
    )]
    LmStudioTooOld { model: String },
    #[error("Stopped following the download of `{model}`")]
    StoppedFollowing { model: String },
    #[error("Ollama could not create `{model}`: {message}")]
    CreateFailed { model: String, message: String },
    #[error("`{model}` cannot call tools, so it cannot drive Codex: {message}")]
    NoTools { model: String, message: String },
    #[error("The server at `{url}` has no `/v1/responses` endpoint (HTTP 404), which Codex needs")]
    NoResponsesApi {
        url: String,
        version: Option<String>,
    },
    #[error("`{model}` did not answer within {seconds} s")]
    TimedOut { model: String, seconds: u64 },
    #[error("`{model}` answered with an error: {message}")]
    Failed { model: String, message: String },
    #[error(
        "`{file}` does not match the pack's digest {expected} (it hashes to {found}): it was changed or not copied \
         whole"
    )]
    NotThePacksFile {
        file: String,
        expected: String,
        found: String,
    },
    #[error("Cannot import `{file}` into LM Studio: {message}")]
    Placement { file: String, message: String },
    #[error("LM Studio has not listed `{path}` as a model yet")]
    NotListed { path: String },
    #[error("{runtime} no longer has `{model}`, which Codex is set up to use{why}")]
    Gone {
        runtime: &'static str,
        model: String,
        why: String,
    },
    #[error("{runtime} serves `{model}` with {served} tokens, but Codex is told {wanted}")]
    Short {
        runtime: &'static str,
        model: String,
        served: u64,
        wanted: u64,
    },
}

impl RuntimeError {
    /// The next thing to try after an import failed.
    fn import_hint(&self) -> String {
        match self {
            Self::NotThePacksFile { .. } => {
                "copy the pack's folder again (or run `codex-local pack` again on the connected machine); nothing was \
                 imported"
            }
            Self::NameTaken { model } => {
                return format!(
                    "it is left alone: rename it (`ollama cp {model} NEW` then `ollama rm {model}`), or choose \
                     another context with `--context`"
                );
            }
            Self::ImportInterrupted { .. } => {
                "run the same `codex-local init` again to import it (an upload or a copy starts over)"
            }
            Self::NotListed { .. } => {
                "the file is in place: open My Models in LM Studio (or restart its server with `lms server stop` and \
                 `lms server start`) so that it finds the file, then run the same command again"
            }
            _ => {
                "check LM Studio's models folder (My Models in the app shows where it is), or import the file yourself \
                 with `lms import FILE` and give its key to `--model`"
            }
        }
        .to_owned()
    }

    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::Unreachable { .. } => "check that the runtime is still running (`codex-local status`)".to_owned(),
            Self::Status { status: 401, .. } => format!(
                "the runtime asks for an API token (HTTP 401): set `{}` to a token from LM Studio's server \
                 settings, or turn its authentication off",
                crate::env_vars::LM_API_TOKEN
            ),
            Self::Status { .. }
            | Self::BadData { .. }
            | Self::Failed { .. }
            | Self::TooLarge { .. }
            | Self::LineTooLong { .. } => {
                "check the runtime's log; `codex-local status` shows what it serves".to_owned()
            }
            Self::Slow { .. } => format!(
                "codex-local waits {} s for an answer about a model, and {} min without a byte during a pull or a \
                 load; the runtime is busy or stuck: check its log, or restart it, then try again",
                super::http::QUICK.as_secs(),
                LONG_IDLE_SECONDS / 60
            ),
            Self::Dropped { .. } => {
                "check that the runtime is still running (`codex-local status`) and its log, then try again".to_owned()
            }
            Self::Stalled { seconds, .. } => format!(
                "no progress for {seconds} s; run init again to resume (raise `{}` for a slow network)",
                crate::env_vars::CODEX_LOCAL_STALL_TIMEOUT_S
            ),
            Self::Client(_) => "this is a bug in codex-local; please report it".to_owned(),
            Self::NotThePacksFile { .. }
            | Self::Placement { .. }
            | Self::NotListed { .. }
            | Self::ImportInterrupted { .. }
            | Self::NameTaken { .. } => self.import_hint(),
            Self::PullFailed { .. } | Self::PullDropped { .. } | Self::Interrupted { .. } => self.pull_hint(),
            Self::DownloadFailed { .. }
            | Self::LmStudioTooOld { .. }
            | Self::StoppedFollowing { .. } => self.lm_studio_hint(),
            Self::CreateFailed { .. } => {
                "set `OLLAMA_CONTEXT_LENGTH=65536` where `ollama serve` runs and restart it, then run init again"
                    .to_owned()
            }
            Self::NoTools { .. } => {
                "choose a model that calls tools: `codex-local models` lists them".to_owned()
            }
            Self::NoResponsesApi { version, .. } => responses_hint(version.as_deref()),
            Self::Gone { .. } | Self::Short { .. } => {
                "run `codex-local init` again (with the same `--profile`, if any) to set the model up again".to_owned()
            }
            Self::TimedOut { .. } => {
                "the machine may be too slow for this model: try a smaller one with `--model`, or raise \
                 `CODEX_LOCAL_VERIFY_TIMEOUT_S`"
                    .to_owned()
            }
        }
    }

    /// What to do about an LM Studio download.
    fn lm_studio_hint(&self) -> String {
        match self {
            Self::LmStudioTooOld { model } => format!(
                "update LM Studio (https://lmstudio.ai), or run `lms get {model}` and `lms load {model} -c 65536`, \
                 then run init again"
            ),
            Self::StoppedFollowing { .. } => {
                "LM Studio goes on downloading in the background; run `codex-local init` again to pick it up"
                    .to_owned()
            }
            _ => "check LM Studio's Downloads panel and free disk space, then run `codex-local init` again"
                .to_owned(),
        }
    }

    /// What to do about a pull that did not finish.
    fn pull_hint(&self) -> String {
        match self {
            Self::PullFailed { message, .. } if message.contains("412") => {
                "this model needs a newer Ollama: update it from https://ollama.com/download".to_owned()
            }
            Self::PullFailed { message, .. } if message.contains("file does not exist") => {
                "check the model's name at https://ollama.com/library, or pick one with `codex-local models`".to_owned()
            }
            _ => "run `codex-local init` again: Ollama resumes the download where it stopped".to_owned(),
        }
    }
}

/// What to do about a server without `/v1/responses`: an old Ollama, or something in front of a new one.
fn responses_hint(version: Option<&str>) -> String {
    match version {
        Some(version)
            if crate::facts::ollama::version_at_least(
                version,
                crate::facts::ollama::RESPONSES_API,
            ) =>
        {
            format!(
                "Ollama {version} has `/v1/responses`, so something in front of it (a proxy?) does not pass \
                 `/v1/` on; point codex-local and Codex at Ollama itself"
            )
        }
        _ => format!(
            "update Ollama to 0.13.4 or later (this one is {}): https://ollama.com/download",
            version.unwrap_or("older")
        ),
    }
}
