//! The names of the environment variables codex-local reads, and nothing else. Only `settings` reads them.

/// Codex's own directory (Codex defaults it to `~/.codex`).
pub const CODEX_HOME: &str = "CODEX_HOME";
/// The user's home directory, for the default Codex home.
pub const HOME: &str = "HOME";
/// The user's home directory on Windows.
pub const USERPROFILE: &str = "USERPROFILE";
/// Ollama's address, read by Ollama's own rules.
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
/// LM Studio's address, read by the same rules with port 1234.
pub const LMSTUDIO_HOST: &str = "LMSTUDIO_HOST";
/// A bearer token for LM Studio's API when its authentication is on.
pub const LM_API_TOKEN: &str = "LM_API_TOKEN";
/// Where programs such as `codex` and `nvidia-smi` are found.
pub const PATH: &str = "PATH";
/// How long verification may wait for the model, in seconds (default 300).
pub const CODEX_LOCAL_VERIFY_TIMEOUT_S: &str = "CODEX_LOCAL_VERIFY_TIMEOUT_S";
/// Codex's own override of its built-in `ollama`/`lmstudio` address (a full URL ending in `/v1`).
pub const CODEX_OSS_BASE_URL: &str = "CODEX_OSS_BASE_URL";
/// Codex's own override of the built-in providers' port.
pub const CODEX_OSS_PORT: &str = "CODEX_OSS_PORT";
/// How often to ask LM Studio about a download, in milliseconds (default 500).
pub const CODEX_LOCAL_POLL_INTERVAL_MS: &str = "CODEX_LOCAL_POLL_INTERVAL_MS";
/// Any value turns colour off (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// Any value turns progress bars off.
pub const CODEX_LOCAL_NO_PROGRESS: &str = "CODEX_LOCAL_NO_PROGRESS";
/// How long a runtime probe may take, in milliseconds (default 400).
pub const CODEX_LOCAL_PROBE_TIMEOUT_MS: &str = "CODEX_LOCAL_PROBE_TIMEOUT_MS";
/// How long a pull or download may go without progress, in seconds (default 120).
pub const CODEX_LOCAL_STALL_TIMEOUT_S: &str = "CODEX_LOCAL_STALL_TIMEOUT_S";
/// How long to wait for another codex-local changing the same Codex home, in seconds (default 30).
pub const CODEX_LOCAL_LOCK_TIMEOUT_S: &str = "CODEX_LOCAL_LOCK_TIMEOUT_S";
/// For the crash tests of a debug build: the point at which to abort (see `faults`).
pub const CODEX_LOCAL_TEST_CRASH_AT: &str = "CODEX_LOCAL_TEST_CRASH_AT";
/// A mirror of Ollama's registry, read to size a model before its pull (default `https://registry.ollama.ai`).
pub const CODEX_LOCAL_OLLAMA_REGISTRY: &str = "CODEX_LOCAL_OLLAMA_REGISTRY";
