//! Local model runtimes (Ollama, LM Studio): where they are, whether they answer, and what they hold.

pub mod error;
pub mod host;
pub mod http;
pub mod lmstudio;
pub mod ollama;
pub mod responses;
pub mod stream;

use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

use crate::settings::Settings;

/// Which runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Ollama,
    Lmstudio,
}

impl RuntimeKind {
    /// The runtime's own name, for people.
    #[must_use]
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Ollama => "Ollama",
            Self::Lmstudio => "LM Studio",
        }
    }

    /// The id used in JSON and in Codex's configuration.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::Ollama => "ollama",
            Self::Lmstudio => "lmstudio",
        }
    }

    /// How to get this runtime answering.
    #[must_use]
    pub fn start_hint(self) -> &'static str {
        match self {
            Self::Ollama => {
                "start it with `ollama serve` (install it from https://ollama.com/download), or point `OLLAMA_HOST` at it"
            }
            Self::Lmstudio => {
                "open LM Studio and run `lms server start` (get it from https://lmstudio.ai), or point `LMSTUDIO_HOST` at it"
            }
        }
    }
}

/// One model a runtime has on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledModel {
    pub name: String,
    pub size_bytes: Option<u64>,
    pub display_name: Option<String>,
    pub family: Option<String>,
    pub parameter_size: Option<String>,
    pub quantization: Option<String>,
    /// The longest context the model was trained for, when the runtime says.
    pub context_length: Option<u64>,
    /// Capabilities the runtime reports (`tools`, `thinking`, `vision`, …), when it reports them.
    pub capabilities: Option<Vec<String>>,
    /// Whether the model is loaded in memory, when the listing says.
    pub loaded: Option<bool>,
    /// The context of a loaded instance (LM Studio), when one is loaded.
    pub loaded_context_length: Option<u64>,
}

/// What a probe found at one runtime's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeStatus {
    pub name: RuntimeKind,
    pub url: String,
    pub running: bool,
    pub version: Option<String>,
    /// Which of the runtime's APIs answered (LM Studio: `v1` or `v0`).
    pub api: Option<&'static str>,
    pub models: Vec<InstalledModel>,
    /// What went wrong, in plain words; `None` when everything answered.
    pub error: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl RuntimeStatus {
    fn down(kind: RuntimeKind, url: &Url, error: &http::ProbeError) -> Self {
        let hint = match error {
            http::ProbeError::Refused | http::ProbeError::Unreachable(_) => {
                Some(kind.start_hint().to_owned())
            }
            http::ProbeError::TimedOut(_) => Some(format!(
                "something at this address accepts connections but does not answer; check what listens there, or \
                 raise `{}` for a slow server",
                crate::settings::env_vars::CODEX_LOCAL_PROBE_TIMEOUT_MS
            )),
            http::ProbeError::NotRuntime { .. } => Some(format!(
                "another program holds this address; point codex-local at {} with `--{}-url`",
                kind.display_name(),
                kind.id()
            )),
            _ => None,
        };
        Self {
            name: kind,
            url: url.to_string(),
            running: false,
            version: None,
            api: None,
            models: Vec::new(),
            error: Some(error.to_string()),
            hint,
        }
    }
}

/// Probes both runtimes side by side; each probe ends within its own deadline.
pub async fn probe_all(settings: &Settings) -> Vec<RuntimeStatus> {
    let client = http::probe_client(settings.probe_timeout);
    let timeout = settings.probe_timeout;
    let (ollama, lmstudio) = tokio::join!(
        ollama::probe(&client, &settings.ollama.url, timeout),
        lmstudio::probe(
            &client,
            &settings.lmstudio.url,
            settings.lm_api_token.as_deref(),
            timeout
        ),
    );
    vec![ollama, lmstudio]
}

/// Runs `probe`, giving up after `deadline` with a time-out status.
async fn within<F>(kind: RuntimeKind, url: &Url, deadline: Duration, probe: F) -> RuntimeStatus
where
    F: Future<Output = RuntimeStatus>,
{
    tokio::time::timeout(deadline, probe)
        .await
        .unwrap_or_else(|_| {
            RuntimeStatus::down(kind, url, &http::ProbeError::TimedOut(deadline.as_millis()))
        })
}
