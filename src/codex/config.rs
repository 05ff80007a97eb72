//! Reading Codex's `config.toml` and profile files: the effective provider, model and context, and anything in
//! them that Codex would refuse.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::{DocumentMut, Item};

use super::{LOCAL_PROVIDERS, RESERVED_PROVIDERS};

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
    /// Whether the configuration could be parsed at all.
    pub parsed: bool,
    pub profiles: Vec<Profile>,
    pub warnings: Vec<Warning>,
}

/// Reads Codex's configuration in `home`. Nothing here fails: what cannot be read becomes a warning.
#[must_use]
pub fn read_status(home: &Path) -> CodexStatus {
    let config = home.join(CONFIG_FILE);
    let mut warnings = Vec::new();
    let home_exists = home.is_dir();
    let (selection, parsed, config_exists) = match fs_err::read_to_string(&config) {
        Ok(text) => match parse(&config, &text) {
            Ok(document) => {
                warnings.extend(check(&config, &document, true));
                (select(&document), true, true)
            }
            Err(warning) => {
                warnings.push(warning);
                (Selection::default(), false, true)
            }
        },
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            (Selection::default(), true, false)
        }
        Err(err) => {
            warnings.push(Warning {
                file: config.clone(),
                message: format!("Cannot read `{}`: {}", config.display(), err.kind()),
                hint: "check the file's permissions; Codex cannot read it either".to_owned(),
            });
            (Selection::default(), false, true)
        }
    };
    let profiles = read_profiles(home, &mut warnings);
    let provider = selection.model_provider.clone();
    if parsed && config_exists {
        warnings.extend(check_selection(&config, &selection));
    }
    CodexStatus {
        home: home.to_path_buf(),
        home_exists,
        config,
        config_exists,
        model_provider_is_default: provider.is_none(),
        model_provider: provider.unwrap_or_else(|| DEFAULT_PROVIDER.to_owned()),
        model: selection.model,
        model_context_window: selection.model_context_window,
        model_auto_compact_token_limit: selection.model_auto_compact_token_limit,
        base_url: selection.base_url,
        parsed,
        profiles,
        warnings,
    }
}

/// Parses a configuration file, turning a syntax error into a warning with its line and column.
fn parse(path: &Path, text: &str) -> Result<DocumentMut, Warning> {
    text.parse::<DocumentMut>().map_err(|err| {
        let place = err
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        let reason = err.message().trim().to_owned();
        Warning {
            file: path.to_path_buf(),
            message: format!("`{}` is not valid TOML{place}: {reason}", path.display()),
            hint: "Codex will not start until it is fixed; codex-local will not edit a file it cannot parse"
                .to_owned(),
        }
    })
}

fn string(item: Option<&Item>) -> Option<String> {
    item?.as_str().map(str::to_owned)
}

fn integer(item: Option<&Item>) -> Option<i64> {
    item?.as_integer()
}

/// The keys that pick the model.
fn select(document: &DocumentMut) -> Selection {
    let model_provider = string(document.get("model_provider"));
    let base_url = model_provider.as_deref().and_then(|id| {
        document
            .get("model_providers")
            .and_then(|providers| providers.get(id))
            .and_then(|table| string(table.get("base_url")))
    });
    Selection {
        model_provider,
        model: string(document.get("model")),
        model_context_window: integer(document.get("model_context_window")),
        model_auto_compact_token_limit: integer(document.get("model_auto_compact_token_limit")),
        base_url,
    }
}

/// Keys that make Codex refuse the file, or that it no longer reads.
fn check(path: &Path, document: &DocumentMut, is_main: bool) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let file = path.to_path_buf();
    if let Some(providers) = document
        .get("model_providers")
        .and_then(Item::as_table_like)
    {
        for (id, table) in providers.iter() {
            if RESERVED_PROVIDERS.contains(&id) {
                warnings.push(Warning {
                    file: file.clone(),
                    message: format!(
                        "`{}` has a `[model_providers.{id}]` table: `{id}` is built into Codex, and Codex refuses \
                         to load a configuration that redefines it",
                        path.display()
                    ),
                    hint: format!(
                        "delete the `[model_providers.{id}]` table and select the provider with \
                         `model_provider = \"{id}\"`"
                    ),
                });
            }
            if table.get("wire_api").and_then(Item::as_str) == Some("chat") {
                warnings.push(Warning {
                    file: file.clone(),
                    message: format!(
                        "`[model_providers.{id}]` in `{}` sets `wire_api = \"chat\"`, which current Codex no longer \
                         loads",
                        path.display()
                    ),
                    hint: "set `wire_api = \"responses\"`".to_owned(),
                });
            }
        }
    }
    if is_main && document.contains_key("profile") {
        warnings.push(Warning {
            file: file.clone(),
            message: format!(
                "`{}` sets a top-level `profile`, which current Codex rejects: profiles are now separate files",
                path.display()
            ),
            hint: "remove the `profile` key and start Codex with `codex --profile <name>`, which reads \
                   `<name>.config.toml`"
                .to_owned(),
        });
    }
    if document.contains_key("profiles") {
        warnings.push(Warning {
            file,
            message: format!(
                "`{}` has `[profiles.*]` tables, which current Codex ignores or rejects",
                path.display()
            ),
            hint: "move each `[profiles.<name>]` table into its own file `<name>.config.toml` next to config.toml"
                .to_owned(),
        });
    }
    warnings
}

/// A local provider selected without the keys that make it work.
fn check_selection(path: &Path, selection: &Selection) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let Some(provider) = selection.model_provider.as_deref() else {
        return warnings;
    };
    let local = LOCAL_PROVIDERS.contains(&provider)
        || selection.base_url.as_deref().is_some_and(is_loopback_url);
    if !local {
        return warnings;
    }
    if selection.model.is_none() {
        warnings.push(Warning {
            file: path.to_path_buf(),
            message: format!(
                "`model_provider = \"{provider}\"` without `model`: Codex will ask the local server for its own \
                 cloud model name, which it does not have"
            ),
            hint: "set `model` to a model the runtime has (see `codex-local status`)".to_owned(),
        });
    }
    if selection.model_context_window.is_none() {
        warnings.push(Warning {
            file: path.to_path_buf(),
            message: format!(
                "`model_provider = \"{provider}\"` without `model_context_window`: Codex will assume a window of \
                 about 272,000 tokens and overrun what the runtime serves"
            ),
            hint: "set `model_context_window` to the context the runtime really serves".to_owned(),
        });
    }
    warnings
}

/// Whether a provider's `base_url` points at this machine.
#[must_use]
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Lists `<name>.config.toml` files, reading each one's selection.
fn read_profiles(home: &Path, warnings: &mut Vec<Warning>) -> Vec<Profile> {
    let Ok(entries) = fs_err::read_dir(home) else {
        return Vec::new();
    };
    let mut profiles: Vec<Profile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file_name = entry.file_name().into_string().ok()?;
            let name = file_name.strip_suffix(PROFILE_SUFFIX)?;
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            valid.then(|| (name.to_owned(), entry.path()))
        })
        .map(|(name, path)| {
            let (selection, error) = match fs_err::read_to_string(&path) {
                Ok(text) => match parse(&path, &text) {
                    Ok(document) => {
                        warnings.extend(check(&path, &document, false));
                        (select(&document), None)
                    }
                    Err(warning) => {
                        let message = warning.message.clone();
                        warnings.push(warning);
                        (Selection::default(), Some(message))
                    }
                },
                Err(err) => (Selection::default(), Some(err.to_string())),
            };
            Profile {
                name,
                path,
                selection,
                error,
            }
        })
        .collect();
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    profiles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_loopback_addresses() {
        assert!(is_loopback_url("http://localhost:11434/v1"));
        assert!(is_loopback_url("http://127.0.0.2:1/v1"));
        assert!(is_loopback_url("http://[::1]:1234/v1"));
        assert!(!is_loopback_url("http://gpu-box:11434/v1"));
        assert!(!is_loopback_url("not a url"));
    }

    #[test]
    fn reports_the_place_of_a_syntax_error() {
        let warning =
            parse(Path::new("c.toml"), "model = \"a\"\nmodel_provider = \n").expect_err("invalid");
        assert!(
            warning.message.contains("line 2, column"),
            "{}",
            warning.message
        );
    }
}
