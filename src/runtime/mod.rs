//! Local model runtimes behind one interface, [`Runtime`]: probe, list models, make a model present (pull or
//! download), serve it at a context (a variant or a load), read the context really served, and send the request
//! Codex sends. Every command talks to a runtime through it.
//!
//! Adding a runtime means one new file implementing [`Runtime`], and listing it where runtimes are listed: a
//! [`RuntimeKind`] with its `RuntimeInfo` (ports, variables, rules) in `facts::runtime`, the arm in [`connect`], its
//! address option (`cli`, `settings`) and its model names in the catalog. No command changes.

pub mod error;
pub mod http;
mod import;
pub mod lmstudio_files;
pub use import::{free_bytes, sha256_file};
mod lmstudio;
mod ollama;
pub mod registry;
pub mod responses;
mod stream;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;

use crate::facts::runtime::{InstalledModel, RuntimeKind, RuntimeStatus};
use crate::plan::steps::{StepName, StepStatus};
use crate::settings::Settings;
use error::RuntimeError;
use http::{Auth, Http, ProbeError};
pub use responses::{Measured, Verified};

/// How to reach one runtime.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: Url,
    /// How requests prove who sends them: a bearer token, or the user and password of the address.
    pub auth: Auth,
    /// How long a probe may take.
    pub probe_timeout: Duration,
    /// The client for probes (short timeouts, no proxy).
    pub probe: Http,
    /// How often to ask about a download job.
    pub poll: Duration,
    /// How long a download may go without progress.
    pub stall: Duration,
    /// The version a probe found, when one already ran.
    pub version: Option<String>,
    /// The user's home folder and the runtime's own program, for what goes through files (a model file placed
    /// for LM Studio).
    pub home_dir: Option<std::path::PathBuf>,
    pub program: Option<std::path::PathBuf>,
}

/// A runtime at one address.
#[async_trait]
pub trait Runtime: Send + Sync {
    /// Which runtime this is.
    fn kind(&self) -> RuntimeKind;

    /// Its address.
    fn url(&self) -> &Url;

    /// Whether it answers, its version and its models. Never fails: what went wrong is in the status.
    async fn probe(&self) -> RuntimeStatus;

    /// The models it has on disk.
    async fn models(&self) -> Result<Vec<InstalledModel>, ProbeError>;

    /// Makes `model` present on disk (a pull or a download), reporting progress.
    async fn fetch(
        &self,
        model: &str,
        observer: &mut dyn Observer,
    ) -> Result<Fetched, RuntimeError>;

    /// Puts the GGUF file `import` names where the runtime can make a model of it (Ollama: its blob store, the file
    /// hashed and uploaded; LM Studio: its models folder), reporting progress. Nothing is a model yet.
    async fn stage(
        &self,
        import: &crate::plan::Import,
        name: &str,
        observer: &mut dyn Observer,
    ) -> Result<Staged, RuntimeError> {
        let _ = (import, observer);
        Err(RuntimeError::Failed {
            model: name.to_owned(),
            message: format!("{} does not import model files", self.kind().display_name()),
        })
    }

    /// Makes the model of a staged file (as `name` where the runtime lets codex-local name it), served with
    /// `context` tokens where the model carries its context. Returns the runtime's name for it.
    async fn make(
        &self,
        import: &crate::plan::Import,
        name: &str,
        context: u64,
        staged: Staged,
    ) -> Result<Imported, RuntimeError> {
        let _ = (import, context, staged);
        Err(RuntimeError::Failed {
            model: name.to_owned(),
            message: format!("{} does not import model files", self.kind().display_name()),
        })
    }

    /// Whether a model imported as `name` keeps that name (Ollama), so that it can be journaled before the import
    /// begins; LM Studio gives its own key, known only afterwards.
    fn import_keeps_name(&self) -> bool {
        false
    }

    /// The error for a fetch stopped by Ctrl-C.
    fn interrupted(&self, model: &str) -> RuntimeError;

    /// Makes the runtime serve the model at the context asked for, and reads back what it really serves.
    async fn serve(
        &self,
        request: &ServeRequest<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Serving, RuntimeError>;

    /// Whether `model` (the name Codex uses) is present, and the context it is served with.
    async fn served(&self, model: &str) -> Result<Served, RuntimeError>;

    /// Makes sure `model` (the name Codex uses) is still served with at least `context` tokens, and puts back what a
    /// restart, an unload or a removal undid: a model loaded again with the context, or a variant made again, but
    /// only when `ours` (codex-local's journal says it made that model); anything else is the user's and is only
    /// named. When all is right it costs one request, within a few seconds, and changes nothing.
    async fn keep_served(
        &self,
        model: &str,
        context: u64,
        made: Option<&crate::facts::runtime::Made>,
    ) -> Result<Kept, RuntimeError>;

    /// Sends the request Codex sends, with a tool offered, and reads the answer to its end.
    async fn verify(&self, model: &str, timeout: Duration) -> Result<Verified, RuntimeError>;
}

/// What a runtime reports while it works: steps as they finish, warnings, and download progress.
pub trait Observer: Send {
    /// A step finished (or was skipped, or failed).
    fn step(&mut self, name: StepName, status: StepStatus, detail: String);
    /// Something the user should know.
    fn warn(&mut self, message: String);
    /// A progress report of a download.
    fn progress(&mut self, progress: &Progress<'_>);
}

/// One progress report of a download.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The runtime's word for the phase (`pulling manifest`, `pulling 06c1097efce0`, `downloading`, …).
    pub status: &'a str,
    /// The layer, when the runtime downloads several.
    pub digest: Option<&'a str>,
    pub total: Option<u64>,
    pub completed: Option<u64>,
}

/// A model file staged for the runtime: where it now is, before the model is made.
#[derive(Debug, Clone, Default)]
pub struct Staged {
    /// The blob's digest (Ollama).
    pub digest: Option<String>,
    /// Where the file lies in the runtime's folder, and how it came there (LM Studio).
    pub placed: Option<(std::path::PathBuf, lmstudio_files::How)>,
    /// The models the runtime listed before.
    pub before: Vec<InstalledModel>,
}

/// What an import made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The model's name in the runtime.
    pub name: String,
    /// What was done, in words.
    pub detail: String,
    /// A file codex-local put where the runtime finds models, when it did.
    pub file: Option<std::path::PathBuf>,
}

/// What fetching did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The model was on disk already.
    AlreadyThere,
    /// It was downloaded now.
    Downloaded,
}

/// What to serve, and how to judge what the runtime would serve by itself.
pub struct ServeRequest<'a> {
    /// The model as the runtime names it.
    pub model: &'a str,
    /// The context to serve.
    pub context: u64,
    /// Whether a context the runtime would give by itself can stay: not shorter than wanted, and not so long that
    /// the model would no longer fit where planned.
    pub accepts: &'a (dyn Fn(u64) -> bool + Sync),
    /// The name for a variant that carries the context, where the runtime makes one.
    pub variant: &'a str,
    /// What codex-local's journal says of a model by the variant's name, when it made one: any other model by that
    /// name is the user's, and is not replaced.
    pub made_variant: Option<&'a crate::facts::runtime::Made>,
    /// Dedicated GPU memory in all, which some runtimes' default context depends on.
    pub total_vram: u64,
    /// The machine has a GPU worth warning about when the model lands on the CPU.
    pub has_gpu: bool,
}

/// What the runtime serves after [`Runtime::serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The name Codex must use: the model, a variant, or a loaded instance.
    pub model: String,
    /// The context really served.
    pub context: u64,
    /// Where the loaded model sits, when the runtime says.
    pub placement: Option<Placement>,
    /// Something changed in the runtime (a variant created, a model loaded).
    pub changed: bool,
    /// A variant model created by this call, for the journal.
    pub created: Option<String>,
}

/// How much of a loaded model is in GPU memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub size_bytes: u64,
    pub vram_bytes: u64,
}

impl Placement {
    /// The share on the GPU, in percent, rounded.
    #[must_use]
    pub fn gpu_percent(&self) -> u64 {
        (self.vram_bytes.min(self.size_bytes) * 100 + self.size_bytes / 2)
            .checked_div(self.size_bytes)
            .unwrap_or(0)
    }
}

/// Whether a model is present, and the context it is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub serves: Serves,
    /// In words, for a check's detail.
    pub detail: String,
}

/// What [`Runtime::keep_served`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// The model is served with the context already.
    Right,
    /// It was not, and now is: what was done, in words.
    Repaired(String),
    /// The runtime does not say which context it serves; nothing was done.
    Unknown(String),
}

impl Served {
    /// When this falls short of the `window` Codex is told: what is wrong, and the command that puts it right.
    #[must_use]
    pub fn shortfall(
        &self,
        kind: RuntimeKind,
        model: &str,
        window: u64,
    ) -> Option<(String, String)> {
        let run = "`codex-local run` (what the shell hook calls) puts it back before Codex starts";
        let variant = kind == RuntimeKind::Ollama && crate::plan::variant_parts(model).is_some();
        let again = "run `codex-local init` again (with the same `--profile`, if any)";
        let fix = match (kind, self.serves) {
            (_, Serves::At(served)) if served >= window => return None,
            (_, Serves::Unknown) => return None,
            (RuntimeKind::Ollama, Serves::Missing) if variant => format!("{run}, or {again}"),
            (_, Serves::Missing) => again.to_owned(),
            (RuntimeKind::Lmstudio, _) => {
                format!("{run}; by hand: `lms unload --all` and `lms load {model} -c {window} -y`")
            }
            (RuntimeKind::Ollama, _) if variant => format!("{run}, or {again}"),
            (RuntimeKind::Ollama, _) => format!(
                "set `OLLAMA_CONTEXT_LENGTH={window}` where `ollama serve` runs, or {again}"
            ),
        };
        let told = format!("Codex is told {window} tokens");
        let what = match self.serves {
            Serves::At(served) => format!(
                "{} serves `{model}` with {served} tokens, but {told}",
                kind.display_name()
            ),
            _ => format!("{}, but {told}", self.detail),
        };
        Some((what, fix))
    }
}

/// What a runtime serves a model with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serves {
    /// The runtime does not have the model.
    Missing,
    /// It serves the model with this many tokens.
    At(u64),
    /// It has the model, and decides the context itself when it loads it.
    Unknown,
    /// It has the model but not loaded: the first request loads it with the runtime's default context.
    NotLoaded,
}

/// The runtime of kind `kind` at `endpoint`. This is the one place that lists the implementations.
#[must_use]
pub fn connect(kind: RuntimeKind, endpoint: Endpoint) -> Box<dyn Runtime> {
    match kind {
        RuntimeKind::Ollama => Box::new(ollama::Ollama::new(endpoint)),
        RuntimeKind::Lmstudio => Box::new(lmstudio::LmStudio::new(endpoint)),
    }
}

/// An endpoint of `kind` at `url` (the configured address, or one read from Codex's configuration).
pub fn endpoint_at(
    kind: RuntimeKind,
    url: Url,
    settings: &Settings,
) -> Result<Endpoint, RuntimeError> {
    Ok(endpoint_with(
        kind,
        url,
        settings,
        Http::probe(settings.probe_timeout)?,
    ))
}

fn endpoint_with(kind: RuntimeKind, url: Url, settings: &Settings, probe: Http) -> Endpoint {
    let address = settings.runtime_address(kind);
    let token = settings.token(kind).map(str::to_owned);
    let auth = match (token, &address.credentials) {
        (Some(token), _) => Auth::Bearer(token),
        (None, Some(credentials)) if address.url == url => Auth::Basic {
            user: credentials.user.clone(),
            password: credentials.password.clone(),
        },
        _ => Auth::None,
    };
    Endpoint {
        url,
        auth,
        probe_timeout: settings.probe_timeout,
        probe,
        poll: settings.poll_interval,
        stall: settings.stall_timeout,
        version: None,
        home_dir: settings.home_dir.clone(),
        program: None,
    }
}

/// The runtime a probe found, carrying what the probe learned (its version).
pub fn for_status(
    status: &RuntimeStatus,
    settings: &Settings,
) -> Result<Box<dyn Runtime>, RuntimeError> {
    let url = Url::parse(&status.url).unwrap_or_else(|_| settings.runtime_url(status.name).clone());
    let mut endpoint = endpoint_at(status.name, url, settings)?;
    endpoint.version.clone_from(&status.version);
    endpoint.program.clone_from(&status.program);
    Ok(connect(status.name, endpoint))
}

/// The runtime's own address under a Codex provider's `base_url` (`http://host:port/v1` gives `http://host:port/`).
#[must_use]
pub fn root_of(api_base: &str) -> Option<Url> {
    let api = Url::parse(&format!("{}/", api_base.trim_end_matches('/'))).ok()?;
    api.join("../").ok()
}

/// The runtime at `url`: the kind given, else the first kind that answers there (else the first kind), with what
/// its probe found.
pub async fn identify(
    kind: Option<RuntimeKind>,
    url: &Url,
    settings: &Settings,
) -> Result<(Box<dyn Runtime>, RuntimeStatus), RuntimeError> {
    let kinds: Vec<RuntimeKind> = kind.map_or_else(|| RuntimeKind::ALL.to_vec(), |kind| vec![kind]);
    let timeout = settings.probe_timeout.max(Duration::from_secs(2));
    let client = Http::probe(timeout)?;
    // Every kind is asked at once; the first in the list that answers as itself wins.
    let mut set = tokio::task::JoinSet::new();
    for (index, kind) in kinds.into_iter().enumerate() {
        let mut endpoint = endpoint_with(kind, url.clone(), settings, client.clone());
        endpoint.probe_timeout = timeout;
        let runtime = connect(kind, endpoint);
        set.spawn(async move {
            let status = runtime.probe().await;
            (index, runtime, status)
        });
    }
    let mut found = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(one) = joined {
            found.push(one);
        }
    }
    found.sort_by_key(|(index, _, status)| (!status.running, *index));
    if let Some((_, runtime, status)) = found.into_iter().next() {
        return Ok((runtime, status));
    }
    let kind = RuntimeKind::ALL[0];
    let runtime = connect(kind, endpoint_at(kind, url.clone(), settings)?);
    Ok((runtime, down(kind, url, &ProbeError::Refused)))
}

/// Probes every runtime at its configured address, side by side; each probe ends within its own deadline.
pub async fn probe_all(settings: &Settings) -> Result<Vec<RuntimeStatus>, RuntimeError> {
    let client = Http::probe(settings.probe_timeout)?;
    let mut set = tokio::task::JoinSet::new();
    for (index, kind) in RuntimeKind::ALL.into_iter().enumerate() {
        let url = settings.runtime_url(kind).clone();
        let runtime = connect(kind, endpoint_with(kind, url, settings, client.clone()));
        set.spawn(async move { (index, runtime.probe().await) });
    }
    let mut found: Vec<(usize, RuntimeStatus)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(one) = joined {
            found.push(one);
        }
    }
    found.sort_by_key(|(index, _)| *index);
    Ok(found.into_iter().map(|(_, status)| status).collect())
}

/// The status of a runtime that did not answer as one, with what to do about it.
fn down(kind: RuntimeKind, url: &Url, error: &ProbeError) -> RuntimeStatus {
    let hint = match error {
        ProbeError::Refused | ProbeError::Unreachable(_) => Some(kind.start_hint().to_owned()),
        ProbeError::TimedOut(_) => Some(format!(
            "something at this address accepts connections but does not answer; check what listens there, or \
             raise `{}` for a slow server",
            crate::env_vars::CODEX_LOCAL_PROBE_TIMEOUT_MS
        )),
        ProbeError::NotRuntime { .. } => Some(format!(
            "another program holds this address; point codex-local at {} with `{}`",
            kind.display_name(),
            kind.info().address_flag
        )),
        _ => None,
    };
    RuntimeStatus {
        name: kind,
        url: url.to_string(),
        running: false,
        version: None,
        api: None,
        models: Vec::new(),
        error: Some(error.to_string()),
        hint,
        program: None,
    }
}

/// Runs `probe`, giving up after `deadline` with a time-out status.
async fn within<F>(kind: RuntimeKind, url: &Url, deadline: Duration, probe: F) -> RuntimeStatus
where
    F: Future<Output = RuntimeStatus>,
{
    tokio::time::timeout(deadline, probe)
        .await
        .unwrap_or_else(|_| down(kind, url, &ProbeError::TimedOut(deadline.as_millis())))
}
