//! Settings: the command line and the environment, read once, before any command runs.
//!
//! No other module reads environment variables; they receive what they need from [`Settings`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use thiserror::Error;

use crate::cli::GlobalArgs;
use crate::env_vars;
use crate::facts::codex::{DEFAULT_PROVIDER, Selection, is_loopback_url};
use crate::facts::described::{DescribeError, Described};
use crate::facts::runtime::RuntimeKind;
use crate::host::{self, Credentials, HostError};

/// How long a runtime probe may take unless `CODEX_LOCAL_PROBE_TIMEOUT_MS` says otherwise.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_millis(400);

/// How long verification waits for the model unless `CODEX_LOCAL_VERIFY_TIMEOUT_S` says otherwise.
pub const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_mins(5);
/// How long a pull may go without progress unless `CODEX_LOCAL_STALL_TIMEOUT_S` says otherwise.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_mins(2);
/// How long to wait for another codex-local unless `CODEX_LOCAL_LOCK_TIMEOUT_S` says otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A runtime's address and where it was set.
#[derive(Debug, Clone)]
pub struct Address {
    pub url: Url,
    pub source: Source,
    /// A user and password the address carried, kept apart from the URL so that no message shows them.
    pub credentials: Option<Credentials>,
    /// Why the environment's address cannot be used; the default address stands in until a command needs it.
    pub error: Option<HostError>,
}

/// Where a value came from, so that messages can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    Default,
}

/// Settings that cannot be used.
#[derive(Debug, Clone, Error)]
pub enum SettingsError {
    #[error(
        "Cannot find Codex's directory: neither `--codex-home`, `CODEX_HOME` nor a home directory is set"
    )]
    NoCodexHome,
    #[error("The address given by `{origin}` cannot be used")]
    Address {
        origin: &'static str,
        #[source]
        source: HostError,
    },
    #[error(
        "`CODEX_LOCAL_PROBE_TIMEOUT_MS` is `{0}`, not a number of milliseconds from 1 to 600000"
    )]
    ProbeTimeout(String),
    #[error("`CODEX_LOCAL_VERIFY_TIMEOUT_S` is `{0}`, not a number of seconds from 1 to 86400")]
    VerifyTimeout(String),
    #[error("`{var}` is `{value}`, not {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Described(#[from] DescribeError),
}

impl SettingsError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NoCodexHome => "pass `--codex-home DIR` or set `CODEX_HOME`".to_owned(),
            Self::Address { source, .. } => source.hint().to_owned(),
            Self::ProbeTimeout(_) => format!(
                "set `{}` to a whole number such as 1500, or unset it",
                env_vars::CODEX_LOCAL_PROBE_TIMEOUT_MS
            ),
            Self::VerifyTimeout(_) => format!(
                "set `{}` to a whole number of seconds such as 600, or unset it",
                env_vars::CODEX_LOCAL_VERIFY_TIMEOUT_S
            ),
            Self::Invalid { var, .. } => {
                format!("set `{var}` to a value as described, or unset it")
            }
            Self::Described(err) => err.hint().to_owned(),
        }
    }
}

/// Everything a command needs to know from outside the program.
#[derive(Debug, Clone)]
pub struct Settings {
    pub codex_home: PathBuf,
    pub codex_home_source: Source,
    pub ollama: Address,
    pub lmstudio: Address,
    /// Every runtime's API token from its environment variable, by variable name.
    pub tokens: std::collections::BTreeMap<&'static str, String>,
    pub probe_timeout: Duration,
    pub catalog: Option<PathBuf>,
    /// Hardware described on the command line; `None` means probe this machine.
    pub described: Option<Described>,
    pub cwd: Option<PathBuf>,
    /// The user's home directory, to show paths under it as `~/…`.
    pub home_dir: Option<PathBuf>,
    /// `PATH`, to find `codex`.
    pub path_var: Option<OsString>,
    /// How long verification may wait for the model.
    pub verify_timeout: Duration,
    /// `CODEX_OSS_BASE_URL`, which moves Codex's built-in local providers.
    pub codex_oss_base_url: Option<String>,
    /// `CODEX_OSS_PORT`, likewise.
    pub codex_oss_port: Option<u16>,
    /// How often to ask LM Studio about a download.
    pub poll_interval: Duration,
    /// How long a pull or download may go without progress before it stops.
    pub stall_timeout: Duration,
    /// How long to wait for another codex-local that is changing the same Codex home.
    pub lock_timeout: Duration,
    /// A mirror of Ollama's registry (`CODEX_LOCAL_OLLAMA_REGISTRY`), used for every model name.
    pub registry: Option<Url>,
    /// A `CODEX_LOCAL_*` value that cannot be used; the defaults stand in until a command needs the values.
    pub environment_error: Option<SettingsError>,
}

/// A way to read the environment: the real one, or a table in tests.
pub trait Env {
    /// The value of `name`, if set.
    fn var_os(&self, name: &str) -> Option<OsString>;

    /// The value of `name` as text, treating an empty or non-UTF-8 value as unset.
    fn var(&self, name: &str) -> Option<String> {
        self.var_os(name)
            .and_then(|value| value.into_string().ok())
            .filter(|value| !value.trim().is_empty())
    }
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the one place that reads the environment"
    )]
    fn var_os(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

/// Whether `NO_COLOR` asks for no colour.
#[must_use]
pub fn no_color(env: &dyn Env) -> bool {
    env.var_os(env_vars::NO_COLOR)
        .is_some_and(|value| !value.is_empty())
}

/// Whether `CODEX_LOCAL_NO_PROGRESS` turns progress bars off.
#[must_use]
pub fn no_progress(env: &dyn Env) -> bool {
    env.var_os(env_vars::CODEX_LOCAL_NO_PROGRESS)
        .is_some_and(|value| !value.is_empty())
}

impl Settings {
    /// Resolves the global options against the environment.
    pub fn resolve(args: &GlobalArgs, env: &dyn Env) -> Result<Self, SettingsError> {
        let home_dir = env
            .var_os(env_vars::HOME)
            .or_else(|| env.var_os(env_vars::USERPROFILE))
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from);
        let (codex_home, codex_home_source) = codex_home(args, env, home_dir.as_deref())?;
        let [ollama, lmstudio] = RuntimeKind::ALL.map(|kind| {
            let flag = match kind {
                RuntimeKind::Ollama => args.ollama_url.as_deref(),
                RuntimeKind::Lmstudio => args.lmstudio_url.as_deref(),
            };
            address(flag, kind, env)
        });
        let (timeouts, environment_error) = match Timeouts::read(env) {
            Ok(timeouts) => (timeouts, None),
            Err(err) => (Timeouts::default(), Some(err)),
        };
        crate::faults::arm(env.var(env_vars::CODEX_LOCAL_TEST_CRASH_AT));
        let registry = read_registry(env);
        Ok(Self {
            codex_home,
            codex_home_source,
            ollama: ollama?,
            lmstudio: lmstudio?,
            tokens: RuntimeKind::ALL
                .iter()
                .filter_map(|kind| kind.info().token_var)
                .filter_map(|var| Some((var, env.var(var)?)))
                .collect(),
            probe_timeout: timeouts.probe,
            catalog: args.catalog.clone(),
            described: Described::from_args(args.ram.as_deref(), &args.gpu, args.unified)?,
            cwd: std::env::current_dir().ok(),
            home_dir,
            path_var: env.var_os(env_vars::PATH),
            verify_timeout: timeouts.verify,
            codex_oss_base_url: env.var(env_vars::CODEX_OSS_BASE_URL),
            codex_oss_port: env
                .var(env_vars::CODEX_OSS_PORT)
                .and_then(|p| p.trim().parse().ok()),
            poll_interval: timeouts.poll,
            stall_timeout: timeouts.stall,
            lock_timeout: timeouts.lock,
            registry: registry.as_ref().ok().cloned().flatten(),
            environment_error: environment_error.or_else(|| registry.err()),
        })
    }

    /// Fails when a `CODEX_LOCAL_*` value cannot be used: for commands that use them. (`shell-init`, and `run`
    /// outside local mode, never fail because of them, so that a typo never stops every plain `codex`.)
    pub fn check_environment(&self) -> Result<(), SettingsError> {
        self.environment_error.clone().map_or(Ok(()), Err)
    }

    /// Fails when a runtime's address from the environment cannot be used: for commands that talk to runtimes.
    pub fn check_addresses(&self) -> Result<(), SettingsError> {
        for kind in RuntimeKind::ALL {
            if let Some(error) = &self.runtime_address(kind).error {
                return Err(SettingsError::Address {
                    origin: kind.info().address_var,
                    source: error.clone(),
                });
            }
        }
        Ok(())
    }

    /// The address of a runtime, and where it was set.
    #[must_use]
    pub fn runtime_address(&self, kind: RuntimeKind) -> &Address {
        match kind {
            RuntimeKind::Ollama => &self.ollama,
            RuntimeKind::Lmstudio => &self.lmstudio,
        }
    }

    /// A runtime's API token, when it has authentication and its variable is set.
    #[must_use]
    pub fn token(&self, kind: RuntimeKind) -> Option<&str> {
        self.tokens.get(kind.info().token_var?).map(String::as_str)
    }

    /// The address of a runtime.
    #[must_use]
    pub fn runtime_url(&self, kind: RuntimeKind) -> &Url {
        &self.runtime_address(kind).url
    }
}

/// `CODEX_LOCAL_OLLAMA_REGISTRY`: an `http(s)` address, or unset.
fn read_registry(env: &dyn Env) -> Result<Option<Url>, SettingsError> {
    let Some(text) = env.var(env_vars::CODEX_LOCAL_OLLAMA_REGISTRY) else {
        return Ok(None);
    };
    let url = Url::parse(&format!("{}/", text.trim().trim_end_matches('/')))
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
    url.map(Some).ok_or_else(|| SettingsError::Invalid {
        var: env_vars::CODEX_LOCAL_OLLAMA_REGISTRY,
        value: crate::host::redact(&text),
        expected: "an http:// or https:// address",
    })
}

/// Codex's directory: `--codex-home`, else `CODEX_HOME`, else `~/.codex`.
fn codex_home(
    args: &GlobalArgs,
    env: &dyn Env,
    home_dir: Option<&std::path::Path>,
) -> Result<(PathBuf, Source), SettingsError> {
    if let Some(dir) = &args.codex_home {
        return Ok((dir.clone(), Source::Flag));
    }
    if let Some(dir) = env
        .var_os(env_vars::CODEX_HOME)
        .filter(|dir| !dir.is_empty())
    {
        return Ok((PathBuf::from(dir), Source::Env));
    }
    let home = home_dir.ok_or(SettingsError::NoCodexHome)?;
    Ok((home.join(".codex"), Source::Default))
}

impl Settings {
    /// Where Codex sends requests for a provider: a custom table's `base_url`, or the built-in address of
    /// `ollama`/`lmstudio` (moved only by `CODEX_OSS_BASE_URL` / `CODEX_OSS_PORT`); `None` for other providers.
    #[must_use]
    pub fn provider_api_base(&self, provider: &str, table_url: Option<&str>) -> Option<String> {
        if let Some(url) = table_url {
            return Some(url.to_owned());
        }
        let port = match RuntimeKind::from_id(provider) {
            Some(kind) => kind.info().default_port,
            None => return None,
        };
        if let Some(url) = &self.codex_oss_base_url {
            return Some(url.clone());
        }
        Some(format!(
            "http://localhost:{}/v1",
            self.codex_oss_port.unwrap_or(port)
        ))
    }
}

/// What a Codex configuration selects, when it sends prompts to this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTarget {
    /// Where Codex sends prompts (the provider's API base).
    pub base: String,
    pub provider: String,
    pub model: Option<String>,
    /// The context Codex is told.
    pub context: Option<u64>,
}

impl Settings {
    /// What `selection` makes Codex use, when it sends prompts to a loopback address; else where it sends them.
    pub fn local_target(&self, selection: &Selection) -> Result<LocalTarget, String> {
        let provider = selection
            .model_provider
            .as_deref()
            .unwrap_or(DEFAULT_PROVIDER);
        let base = self
            .provider_api_base(provider, selection.base_url.as_deref())
            .unwrap_or_else(|| format!("provider `{provider}`"));
        if !is_loopback_url(&base) {
            return Err(base);
        }
        Ok(LocalTarget {
            base,
            provider: provider.to_owned(),
            model: selection.model.clone(),
            context: selection
                .model_context_window
                .and_then(|window| u64::try_from(window).ok()),
        })
    }
}

/// The limits read from the environment.
struct Timeouts {
    probe: Duration,
    verify: Duration,
    poll: Duration,
    stall: Duration,
    lock: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            probe: DEFAULT_PROBE_TIMEOUT,
            verify: DEFAULT_VERIFY_TIMEOUT,
            poll: Duration::from_millis(500),
            stall: DEFAULT_STALL_TIMEOUT,
            lock: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

impl Timeouts {
    fn read(env: &dyn Env) -> Result<Self, SettingsError> {
        let invalid = |var, expected| {
            move |value| SettingsError::Invalid {
                var,
                value,
                expected,
            }
        };
        Ok(Self {
            probe: number(env, env_vars::CODEX_LOCAL_PROBE_TIMEOUT_MS, 1..=600_000)
                .map_err(SettingsError::ProbeTimeout)?
                .map_or(DEFAULT_PROBE_TIMEOUT, Duration::from_millis),
            verify: number(env, env_vars::CODEX_LOCAL_VERIFY_TIMEOUT_S, 1..=86_400)
                .map_err(SettingsError::VerifyTimeout)?
                .map_or(DEFAULT_VERIFY_TIMEOUT, Duration::from_secs),
            poll: number(env, env_vars::CODEX_LOCAL_POLL_INTERVAL_MS, 1..=60_000)
                .map_err(invalid(
                    env_vars::CODEX_LOCAL_POLL_INTERVAL_MS,
                    "a number of milliseconds from 1 to 60000",
                ))?
                .map_or(Duration::from_millis(500), Duration::from_millis),
            stall: number(env, env_vars::CODEX_LOCAL_STALL_TIMEOUT_S, 1..=86_400)
                .map_err(invalid(
                    env_vars::CODEX_LOCAL_STALL_TIMEOUT_S,
                    "a number of seconds from 1 to 86400",
                ))?
                .map_or(DEFAULT_STALL_TIMEOUT, Duration::from_secs),
            lock: number(env, env_vars::CODEX_LOCAL_LOCK_TIMEOUT_S, 0..=86_400)
                .map_err(invalid(
                    env_vars::CODEX_LOCAL_LOCK_TIMEOUT_S,
                    "a number of seconds from 0 to 86400",
                ))?
                .map_or(DEFAULT_LOCK_TIMEOUT, Duration::from_secs),
        })
    }
}

/// A whole number from `var` within `range`; the text itself when it is not one.
fn number(
    env: &dyn Env,
    var: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, String> {
    match env.var(var) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or(text),
    }
}

/// A runtime's address: its command-line option (which must be usable), else its environment variable (whose
/// error waits until a command talks to the runtime), else its default.
fn address(flag: Option<&str>, kind: RuntimeKind, env: &dyn Env) -> Result<Address, SettingsError> {
    let info = kind.info();
    let var = info.address_var;
    let (raw, source) = match (flag, env.var_os(var)) {
        (Some(value), _) => (value.to_owned(), Source::Flag),
        (None, Some(value)) => (value.to_string_lossy().into_owned(), Source::Env),
        (None, None) => (String::new(), Source::Default),
    };
    match host::client_address(&raw, info.default_port) {
        Ok((url, credentials)) => Ok(Address {
            url,
            source,
            credentials,
            error: None,
        }),
        Err(source) if flag.is_some() => Err(SettingsError::Address {
            origin: info.address_flag,
            source,
        }),
        Err(error) => Ok(Address {
            url: host::client_url("", info.default_port).map_err(|source| {
                SettingsError::Address {
                    origin: var,
                    source,
                }
            })?,
            source: Source::Default,
            credentials: None,
            error: Some(error),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    struct TableEnv(HashMap<&'static str, &'static str>);

    impl Env for TableEnv {
        fn var_os(&self, name: &str) -> Option<OsString> {
            self.0.get(name).map(OsString::from)
        }
    }

    fn settings(
        args: &[&str],
        env: &[(&'static str, &'static str)],
    ) -> Result<Settings, SettingsError> {
        let cli = Cli::try_parse_from(["codex-local"].iter().chain(args).chain(&["status"]))
            .expect("the test's arguments parse");
        let settings = Settings::resolve(&cli.global, &TableEnv(env.iter().copied().collect()))?;
        settings.check_environment()?;
        Ok(settings)
    }

    #[test]
    fn the_flag_beats_the_environment_which_beats_the_default() {
        let s = settings(&[], &[("HOME", "/home/u")]).expect("settings");
        assert_eq!(s.codex_home, Path::new("/home/u/.codex"));
        assert_eq!(s.ollama.url.as_str(), "http://127.0.0.1:11434/");
        assert_eq!(s.lmstudio.url.as_str(), "http://127.0.0.1:1234/");
        assert_eq!(s.ollama.source, Source::Default);

        let env = [
            ("HOME", "/home/u"),
            ("CODEX_HOME", "/data/codex-home"),
            ("OLLAMA_HOST", "0.0.0.0:9"),
        ];
        let s = settings(&[], &env).expect("settings");
        assert_eq!(s.codex_home, Path::new("/data/codex-home"));
        assert_eq!(s.ollama.url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(s.ollama.source, Source::Env);

        let s = settings(&["--codex-home", "/x", "--ollama-url", "box:1"], &env).expect("settings");
        assert_eq!(s.codex_home, Path::new("/x"));
        assert_eq!(s.codex_home_source, Source::Flag);
        assert_eq!(s.ollama.url.as_str(), "http://box:1/");
    }

    #[test]
    fn lm_studio_reads_its_own_variable_and_token() {
        let env = [
            ("HOME", "/h"),
            ("LMSTUDIO_HOST", "studio:4321"),
            ("LM_API_TOKEN", "sk-1"),
        ];
        let s = settings(&[], &env).expect("settings");
        assert_eq!(s.lmstudio.url.as_str(), "http://studio:4321/");
        assert_eq!(s.token(RuntimeKind::Lmstudio), Some("sk-1"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        assert!(matches!(
            settings(&[], &[]),
            Err(SettingsError::NoCodexHome)
        ));
        let err = settings(&["--ollama-url", "ftp://x"], &[("HOME", "/h")]).expect_err("ftp");
        assert!(err.to_string().contains("--ollama-url"), "{err}");
        let err = settings(
            &[],
            &[("HOME", "/h"), ("CODEX_LOCAL_PROBE_TIMEOUT_MS", "soon")],
        )
        .expect_err("soon");
        assert!(matches!(err, SettingsError::ProbeTimeout(_)));
        let err = settings(
            &[],
            &[("HOME", "/h"), ("CODEX_LOCAL_VERIFY_TIMEOUT_S", "0")],
        )
        .expect_err("zero seconds");
        assert!(
            matches!(err, SettingsError::VerifyTimeout(ref text) if text == "0"),
            "{err}"
        );
        let s = settings(
            &[],
            &[("HOME", "/h"), ("CODEX_LOCAL_VERIFY_TIMEOUT_S", "42")],
        )
        .expect("valid");
        assert_eq!(s.verify_timeout, Duration::from_secs(42));
    }
}
