//! Facts about Codex: its files and reserved names, and what its configuration and program were found to be.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// Provider ids built into Codex; a `[model_providers.<id>]` table for any of them stops Codex from loading.
pub const RESERVED_PROVIDERS: [&str; 5] = [
    "openai",
    "ollama",
    "lmstudio",
    "amazon-bedrock",
    "amazon-bedrock-runtime",
];

/// Whether `provider` is one of Codex's built-in local providers (a runtime's reserved id).
#[must_use]
pub fn is_local_provider(provider: &str) -> bool {
    super::runtime::RuntimeKind::from_id(provider).is_some()
}

/// The file Codex reads its user configuration from.
pub const CONFIG_FILE: &str = "config.toml";
/// Profile files are `<name>.config.toml` next to it.
pub const PROFILE_SUFFIX: &str = ".config.toml";
/// The provider Codex uses when `model_provider` is not set.
pub const DEFAULT_PROVIDER: &str = "openai";

/// Something in the configuration that Codex will refuse or mishandle, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub file: PathBuf,
    pub message: String,
    pub hint: String,
}

/// The keys of one configuration file that decide which model Codex talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Every value in the file, by dotted key, as TOML text (for checks of keys such as the privacy keys).
    #[serde(skip)]
    pub values: BTreeMap<String, String>,
    pub model_provider: Option<String>,
    pub model: Option<String>,
    pub model_context_window: Option<i64>,
    pub model_auto_compact_token_limit: Option<i64>,
    /// The custom provider's `base_url`, when `model_provider` names a `[model_providers.<id>]` table.
    pub base_url: Option<String>,
}

/// One profile file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub path: PathBuf,
    #[serde(flatten)]
    pub selection: Selection,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

/// What Codex is set to, as far as its files say.
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag is a separate fact in the status document"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodexStatus {
    pub home: PathBuf,
    pub home_exists: bool,
    pub config: PathBuf,
    pub config_exists: bool,
    /// The provider Codex will use: the configured one, or `openai`.
    pub model_provider: String,
    pub model_provider_is_default: bool,
    pub model: Option<String>,
    pub model_context_window: Option<i64>,
    pub model_auto_compact_token_limit: Option<i64>,
    pub base_url: Option<String>,
    /// The keys of config.toml that pick the model, with every other value.
    #[serde(skip)]
    pub selection: Selection,
    /// Why config.toml could not be read or parsed, as an editing command would say it.
    #[serde(skip)]
    pub error: Option<String>,
    /// Whether the configuration could be parsed at all.
    pub parsed: bool,
    pub profiles: Vec<Profile>,
    pub warnings: Vec<Warning>,
}

/// A setting that would send a session's data off this machine, whatever the provider: an address under `otel`
/// (telemetry that can carry prompts) or `mcp_servers` (a remote tool server) that is not on this machine, and, in a
/// repository's own file, a `notify` command (which gets every turn). Its key, and why.
#[must_use]
pub fn leak(values: &BTreeMap<String, String>, in_repository: bool) -> Option<(String, String)> {
    for (key, value) in values {
        if key.starts_with("otel.") || key.starts_with("mcp_servers.") {
            let text = value.trim_matches(|c| c == '"' || c == '\'');
            if let Some(at) = text.find("://") {
                let start = text[..at]
                    .rfind(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
                    })
                    .map_or(0, |i| i + 1);
                let end = text[at..]
                    .find(|c: char| {
                        c == '"' || c == '\'' || c.is_whitespace() || c == ',' || c == '}'
                    })
                    .map_or(text.len(), |i| at + i);
                let url = &text[start..end];
                if !is_loopback_url(url) {
                    return Some((
                        key.clone(),
                        format!("it sends data to `{url}`, off this machine"),
                    ));
                }
            }
        }
        if in_repository && (key == "notify" || key.starts_with("notify.")) {
            return Some((
                key.clone(),
                "it runs a command the repository chose with every turn".to_owned(),
            ));
        }
    }
    None
}

/// Whether `name` is a valid profile name: letters, digits, `_` and `-`.
#[must_use]
pub fn is_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether a provider's `base_url` points at this machine.
#[must_use]
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether two runtime addresses reach the same server: the same scheme and port, and the same host, or both this
/// machine (`localhost`, `127.0.0.1` and `::1` are one place to a runtime listening on all of them).
#[must_use]
pub fn same_address(a: &str, b: &str) -> bool {
    let (Ok(left), Ok(right)) = (url::Url::parse(a), url::Url::parse(b)) else {
        return a == b;
    };
    // The spellings of this machine a runtime listening on it answers to alike (not 127.0.0.2 and the like,
    // where another server may listen).
    let this_machine = |url: &url::Url| {
        url.host_str().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| {
                    let ip = ip.to_canonical();
                    ip == std::net::IpAddr::from([127, 0, 0, 1])
                        || ip == std::net::Ipv6Addr::LOCALHOST
                })
        })
    };
    left.scheme() == right.scheme()
        && left.port_or_known_default() == right.port_or_known_default()
        && (left.host_str() == right.host_str() || (this_machine(&left) && this_machine(&right)))
}

/// The oldest Codex that loads every key codex-local writes (with `--strict-config`; `features.daemon_auto_start`
/// came in 0.156.0, profile files in 0.134.0). `.ci/test` runs the real-Codex tests against it.
pub const MIN_VERSION: (u64, u64, u64) = (0, 156, 0);

/// A version as `0.156.0`.
#[must_use]
pub fn version_text(version: (u64, u64, u64)) -> String {
    format!("{}.{}.{}", version.0, version.1, version.2)
}
/// The newest Codex the tests ran against: a newer one gets a note (it has not been tried with what init writes).
pub const NEWEST_TESTED: (u64, u64, u64) = (0, 171, 0);
/// How to install or update it.
pub const INSTALL_COMMAND: &str = "npm install -g @openai/codex@latest";

/// The Codex found on `PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodexBinary {
    pub path: PathBuf,
    pub version: Option<String>,
    /// Whether it is new enough for the configuration codex-local writes; `None` when the version is unknown.
    pub supported: Option<bool>,
    /// Whether it is newer than any Codex codex-local was tested with.
    pub newer_than_tested: bool,
}

/// The version in `codex --version` output (`codex-cli 0.169.0`): the first word that reads as one.
#[must_use]
pub fn version_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| parse_version(word).is_some())
        .map(|word| word.trim_start_matches('v').to_owned())
}

/// `0.169.0` as numbers.
#[must_use]
pub fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().trim_start_matches('v').split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_by_any_spelling_of_this_machine() {
        assert!(same_address(
            "http://127.0.0.1:11434/",
            "http://localhost:11434"
        ));
        assert!(same_address(
            "http://[::1]:11434/",
            "http://127.0.0.1:11434/"
        ));
        assert!(!same_address(
            "http://127.0.0.1:11434/",
            "http://127.0.0.1:11435/"
        ));
        assert!(!same_address(
            "http://gpu-box:11434/",
            "http://127.0.0.1:11434/"
        ));
        assert!(!same_address(
            "https://127.0.0.1:11434/",
            "http://127.0.0.1:11434/"
        ));
    }

    #[test]
    fn finds_settings_that_send_data_off_the_machine() {
        let values = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let remote = values(&[(
            "otel.exporter.otlp-http.endpoint",
            "\"https://collector.example\"",
        )]);
        assert!(leak(&remote, false).is_some());
        let inline = values(&[(
            "otel.exporter",
            "{ otlp-http = { endpoint = \"https://x.example\" } }",
        )]);
        assert!(leak(&inline, false).is_some());
        let local = values(&[("mcp_servers.docs.url", "\"http://127.0.0.1:8000/mcp\"")]);
        assert_eq!(leak(&local, false), None);
        let notify = values(&[("notify", "[\"curl\"]")]);
        assert_eq!(leak(&notify, false), None, "the user's own hook");
        assert!(leak(&notify, true).is_some(), "a repository's hook");
    }

    #[test]
    fn knows_loopback_addresses() {
        assert!(is_loopback_url("http://localhost:11434/v1"));
        assert!(is_loopback_url("http://127.0.0.2:1/v1"));
        assert!(is_loopback_url("http://[::1]:1234/v1"));
        assert!(!is_loopback_url("http://gpu-box:11434/v1"));
        assert!(!is_loopback_url("not a url"));
    }

    #[test]
    fn reads_versions() {
        assert_eq!(parse_version("0.169.0"), Some((0, 169, 0)));
        assert_eq!(parse_version("0.134.0-alpha.1"), Some((0, 134, 0)));
        assert!(parse_version("0.133.9").expect("a version") < MIN_VERSION);
        assert_eq!(parse_version("codex"), None);
        assert_eq!(
            version_in("codex-cli 0.169.0\n").as_deref(),
            Some("0.169.0")
        );
        assert_eq!(
            version_in("codex called with: --version"),
            None,
            "no version, no guess"
        );
    }
}
