//! Runtime facts: which runtimes exist, what is known about each without asking it, and what a probe found.

use serde::Serialize;

use crate::env_vars;

/// Which runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Ollama,
    Lmstudio,
}

/// How a runtime is made to serve a model with a given context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextControl {
    /// The model carries its context (Ollama's `num_ctx`): a variant model is created when the default falls short.
    ModelVariant,
    /// The model is loaded with the context (LM Studio's load API): loading is the context step.
    LoadParameter,
}

/// A runtime's rule for the context it gives a model by itself: from its version, the GPU memory in all, and the
/// model's trained maximum.
pub type DefaultContext = fn(&str, u64, Option<u64>) -> u64;

/// What is known about a runtime without asking it.
#[derive(Debug)]
pub struct RuntimeInfo {
    /// The id used in JSON, on the command line and as Codex's reserved provider id.
    pub id: &'static str,
    /// The runtime's own name, for people.
    pub display_name: &'static str,
    /// The port it listens on unless told otherwise.
    pub default_port: u16,
    /// The environment variable that holds its address.
    pub address_var: &'static str,
    /// The command-line option that gives its address.
    pub address_flag: &'static str,
    /// The environment variable holding a bearer token for its API, if it has authentication.
    pub token_var: Option<&'static str>,
    /// How it is made to serve a context.
    pub context: ContextControl,
    /// The context it gives a model by itself, from its version, the GPU memory and the model's trained maximum;
    /// for runtimes whose models carry their context.
    pub default_context: Option<DefaultContext>,
    /// The first version with the `/v1/responses` endpoint Codex speaks, where versions tell.
    pub responses_since: Option<(u64, u64, u64)>,
    /// How to get it answering.
    pub start_hint: &'static str,
    /// Where to get a newer one.
    pub update_hint: &'static str,
    /// The command that downloads a model by hand (`{model}` stands for its name).
    pub get_command: &'static str,
    /// The command that removes a model variant codex-local made, if it makes any.
    pub remove_command: Option<&'static str>,
    /// The program that starts it, and where else than `PATH` it may be.
    pub program: &'static str,
    pub program_elsewhere: Option<&'static str>,
    /// The program's arguments that start the server.
    pub start_args: &'static [&'static str],
    /// Whether that command keeps running as the server (else it returns once the server runs).
    pub start_runs_server: bool,
    /// How to install it on macOS, Linux and Windows.
    pub install: [&'static str; 3],
}

const OLLAMA: RuntimeInfo = RuntimeInfo {
    id: "ollama",
    display_name: "Ollama",
    default_port: 11434,
    address_var: env_vars::OLLAMA_HOST,
    address_flag: "--ollama-url",
    token_var: None,
    context: ContextControl::ModelVariant,
    default_context: Some(super::ollama::default_context),
    responses_since: Some(super::ollama::RESPONSES_API),
    start_hint: "start it with `ollama serve` (install it from https://ollama.com/download), or point `OLLAMA_HOST` at it",
    update_hint: "update Ollama from https://ollama.com/download",
    get_command: "ollama pull {model}",
    remove_command: Some("ollama rm {model}"),
    program: "ollama",
    program_elsewhere: None,
    start_args: &["serve"],
    start_runs_server: true,
    install: [
        "`brew install ollama`, or the app from https://ollama.com/download",
        "`curl -fsSL https://ollama.com/install.sh | sh`",
        "the installer from https://ollama.com/download",
    ],
};

const LMSTUDIO: RuntimeInfo = RuntimeInfo {
    id: "lmstudio",
    display_name: "LM Studio",
    default_port: 1234,
    address_var: env_vars::LMSTUDIO_HOST,
    address_flag: "--lmstudio-url",
    token_var: Some(env_vars::LM_API_TOKEN),
    context: ContextControl::LoadParameter,
    default_context: None,
    responses_since: None,
    start_hint: "open LM Studio and run `lms server start` (get it from https://lmstudio.ai), or point `LMSTUDIO_HOST` at it",
    update_hint: "update LM Studio from https://lmstudio.ai",
    get_command: "lms get {model}",
    remove_command: None,
    program: "lms",
    program_elsewhere: Some(".lmstudio/bin/lms"),
    start_args: &["server", "start"],
    start_runs_server: false,
    install: [
        "the app from https://lmstudio.ai (then `lms`, its command line, from ~/.lmstudio/bin)",
        "the AppImage from https://lmstudio.ai (then `lms`, its command line, from ~/.lmstudio/bin)",
        "the installer from https://lmstudio.ai",
    ],
};

impl RuntimeKind {
    /// Every runtime, in the order they are probed and preferred.
    pub const ALL: [Self; 2] = [Self::Ollama, Self::Lmstudio];

    /// What is known about this runtime.
    #[must_use]
    pub fn info(self) -> &'static RuntimeInfo {
        match self {
            Self::Ollama => &OLLAMA,
            Self::Lmstudio => &LMSTUDIO,
        }
    }

    /// The runtime's own name, for people.
    #[must_use]
    pub fn display_name(self) -> &'static str {
        self.info().display_name
    }

    /// The id used in JSON and in Codex's configuration.
    #[must_use]
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// How to get this runtime answering.
    #[must_use]
    pub fn start_hint(self) -> &'static str {
        self.info().start_hint
    }

    /// How to install it on this system.
    #[must_use]
    pub fn install_hint(self) -> &'static str {
        let [mac, linux, windows] = self.info().install;
        if cfg!(target_os = "macos") {
            mac
        } else if cfg!(windows) {
            windows
        } else {
            linux
        }
    }

    /// The command that downloads `model` by hand.
    #[must_use]
    pub fn get_command(self, model: &str) -> String {
        self.info().get_command.replace("{model}", model)
    }

    /// The runtime whose id is `id`.
    #[must_use]
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.id() == id)
    }

    /// The runtime a Codex provider id stands for: the reserved id, or the custom id codex-local writes
    /// (`codex-local-<id>`).
    #[must_use]
    pub fn from_provider(provider: &str) -> Option<Self> {
        Self::from_id(provider).or_else(|| Self::from_id(provider.strip_prefix("codex-local-")?))
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
    /// The digest of its manifest (Ollama): the same for the same content, changed when the model is made again
    /// from something else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// What codex-local's journal says of a model it made, for deciding whether the model in a runtime by that name is
/// still codex-local's to make again or replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Made {
    /// The digest the runtime gave it when codex-local left it.
    pub digest: Option<String>,
    /// Journaled before the runtime was asked to make it, and not seen made since.
    pub pending: bool,
    /// Still listed for `restore` (no `restore` since it was made).
    pub active: bool,
    /// Made from another model with a longer context (a `-ctxNNk` variant), so it can be made again from that one.
    pub variant: bool,
}

impl Made {
    /// Whether the model the runtime has now (with digest `now`, when it gives one) is still the one codex-local
    /// made: the same digest; a record without one (an older codex-local's) while still listed for `restore`; a
    /// pending one. A runtime without digests (LM Studio) goes by name and address.
    ///
    /// A pending record cannot tell the model it was making from one made since by someone else: it is not taken for
    /// a model that is there (callers say so, and what to do).
    #[must_use]
    pub fn still_ours(&self, runtime: RuntimeKind, now: Option<&str>) -> bool {
        if self.pending {
            return false;
        }
        if runtime == RuntimeKind::Lmstudio {
            return true;
        }
        match (&self.digest, now) {
            (Some(then), Some(now)) => then == now,
            (None, _) => self.active,
            (Some(_), None) => false,
        }
    }
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
    /// The runtime's own program (`ollama`, `lms`), when it is installed here.
    pub program: Option<std::path::PathBuf>,
}

impl RuntimeStatus {
    /// Whether the runtime has `name` installed (Ollama's `:latest` made explicit).
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The installed model called `name`, if there is one.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&InstalledModel> {
        // Ollama takes every spelling of a name (case, default namespace and tag) for one model.
        self.models
            .iter()
            .find(|m| m.name == name || super::ollama::same_model(&m.name, name))
    }
}
