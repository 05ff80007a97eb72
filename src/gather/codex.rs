//! Reading Codex's `config.toml` and profile files: the effective provider, model and context, and anything in
//! them that Codex would refuse. Nothing here fails: what cannot be read becomes a warning.

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{DocumentMut, Item};

use crate::codex::file::{self, ConfigError};

use crate::facts::codex::{
    CONFIG_FILE, CodexStatus, DEFAULT_PROVIDER, PROFILE_SUFFIX, Profile, RESERVED_PROVIDERS,
    Selection, Warning, is_local_provider, is_loopback_url, is_profile_name,
};

/// Reads Codex's configuration in `home`. Nothing here fails: what cannot be read becomes a warning.
#[must_use]
pub fn read_status(home: &Path) -> CodexStatus {
    let config = home.join(CONFIG_FILE);
    let mut warnings = Vec::new();
    let file = read_file(&config, true, &mut warnings);
    let profiles = read_profiles(home, &mut warnings);
    let selection = file.selection;
    if file.parsed && file.exists {
        warnings.extend(check_selection(&config, &selection));
    }
    CodexStatus {
        error: file.error,
        home: home.to_path_buf(),
        home_exists: home.is_dir(),
        config,
        config_exists: file.exists,
        model_provider_is_default: selection.model_provider.is_none(),
        model_provider: selection
            .model_provider
            .clone()
            .unwrap_or_else(|| DEFAULT_PROVIDER.to_owned()),
        model: selection.model.clone(),
        model_context_window: selection.model_context_window,
        model_auto_compact_token_limit: selection.model_auto_compact_token_limit,
        base_url: selection.base_url.clone(),
        selection,
        parsed: file.parsed,
        profiles,
        warnings,
    }
}

/// What reading one configuration file gave.
struct FileRead {
    exists: bool,
    parsed: bool,
    selection: Selection,
    /// Why it could not be read or parsed.
    error: Option<String>,
}

/// Reads and checks one file; `is_main` marks config.toml, where a top-level `profile` is a problem. Only a regular
/// file is opened (a FIFO would never answer), and a file that cannot be used is a warning that says why.
fn read_file(path: &Path, is_main: bool, warnings: &mut Vec<Warning>) -> FileRead {
    let failed = |exists, error| FileRead {
        exists,
        parsed: !exists,
        selection: Selection::default(),
        error,
    };
    let text = match file::read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) => return failed(false, None),
        Err(err) => {
            let message = err.to_string();
            warnings.push(Warning {
                file: path.to_path_buf(),
                message: message.clone(),
                hint: err.hint(),
            });
            return failed(true, Some(message));
        }
    };
    match parse(path, &text.plain) {
        Ok(document) => {
            warnings.extend(check(path, &document, is_main));
            FileRead {
                exists: true,
                parsed: true,
                selection: select(&document),
                error: None,
            }
        }
        Err(failed_parse) => {
            let (warning, error) = *failed_parse;
            warnings.push(warning);
            failed(true, Some(error.to_string()))
        }
    }
}

/// Parses a configuration file, turning a syntax error into a warning with its line and column, and the error
/// text an editing command would give.
fn parse(path: &Path, text: &str) -> Result<DocumentMut, Box<(Warning, ConfigError)>> {
    text.parse::<DocumentMut>().map_err(|err| {
        let before = &text[..err.span().map_or(0, |span| span.start).min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let reason = err.message().trim().to_owned();
        let warning = Warning {
            file: path.to_path_buf(),
            message: format!(
                "`{}` is not valid TOML at line {line}, column {column}: {reason}",
                path.display()
            ),
            hint: "Codex will not start until it is fixed; codex-local will not edit a file it cannot parse"
                .to_owned(),
        };
        let error = ConfigError::Unparsable {
            path: path.to_path_buf(),
            line,
            column,
            message: reason,
        };
        Box::new((warning, error))
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
        values: values(document),
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
    let local =
        is_local_provider(provider) || selection.base_url.as_deref().is_some_and(is_loopback_url);
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
            is_profile_name(name).then(|| (name.to_owned(), entry.path()))
        })
        .map(|(name, path)| {
            let file = read_file(&path, false, warnings);
            Profile {
                name,
                path,
                selection: file.selection,
                error: file.error,
            }
        })
        .collect();
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    profiles
}

/// Every value of a Codex configuration file by dotted key; `None` when it does not exist.
pub fn values_of(path: &Path) -> Result<Option<BTreeMap<String, String>>, ConfigError> {
    let Some(text) = file::read_text(path)? else {
        return Ok(None);
    };
    parse(path, &text.plain)
        .map(|document| Some(values(&document)))
        .map_err(|failed| failed.1)
}

/// Every value of a document by dotted key, as TOML text without comments or spacing.
fn values(document: &DocumentMut) -> BTreeMap<String, String> {
    fn walk(prefix: &str, table: &dyn toml_edit::TableLike, out: &mut BTreeMap<String, String>) {
        for (key, item) in table.iter() {
            let dotted = if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}.{key}")
            };
            if let Some(child) = item.as_table_like() {
                walk(&dotted, child, out);
            } else if let Some(value) = item.as_value() {
                let mut bare = value.clone();
                bare.decor_mut().clear();
                out.insert(dotted, bare.to_string().trim().to_owned());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", document.as_table(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_place_of_a_syntax_error() {
        let (warning, _) =
            *parse(Path::new("c.toml"), "model = \"a\"\nmodel_provider = \n").expect_err("invalid");
        assert!(
            warning.message.contains("line 2, column"),
            "{}",
            warning.message
        );
    }
}
