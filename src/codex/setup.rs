//! What codex-local writes into Codex's configuration, as edits: the local provider and model, the context, the
//! keys that leave Codex only plain function tools, and (for profiles and offline use) the privacy keys.

use toml_edit::{DocumentMut, Item};

use super::edit::{Op, Scalar};
use crate::facts::codex::{RESERVED_PROVIDERS, is_profile_name};

/// Where Codex should send its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `ollama`, `lmstudio` or a custom id.
    pub provider: String,
    /// For a custom id: the `base_url` of `[model_providers.<id>]`.
    pub base_url: Option<String>,
    /// A display name for the custom provider.
    pub provider_name: String,
    /// For a custom id: the environment variable holding a bearer token.
    pub env_key: Option<String>,
    pub model: String,
    /// The context the runtime really serves.
    pub context: u64,
}

/// Keys that leave Codex with plain function tools only: local runtimes break on namespace and web-search tools,
/// and web search would send queries off the machine.
pub const TOOL_KEYS: [(&str, bool); 5] = [
    ("agents.enabled", false),
    ("features.apps", false),
    ("features.plugins", false),
    ("features.goals", false),
    // Stable and off by default since Codex 0.171, it adds a `namespace` tool when on (never the deprecated
    // `multi_agent` key, which prints warnings).
    ("features.multi_agent_v2", false),
];

/// A loopback address where nothing listens, for the `openai` provider in local profiles.
pub const NOWHERE: &str = "http://127.0.0.1:1/v1";

/// Keys that stop Codex from contacting anything but the local runtime.
pub const PRIVACY_KEYS: [(&str, bool); 3] = [
    ("check_for_update_on_startup", false),
    ("analytics.enabled", false),
    ("features.daemon_auto_start", false),
];

fn str(path: &str, value: &str) -> Op {
    Op::set(path, Scalar::Str(value.to_owned()))
}

/// The edits for `config.toml` (and, with `privacy`, the privacy keys as well).
#[must_use]
pub fn ops(target: &Target, privacy: bool) -> Vec<Op> {
    let context = i64::try_from(target.context).unwrap_or(i64::MAX);
    let mut ops = vec![
        str("model_provider", &target.provider),
        str("model", &target.model),
        Op::set("model_context_window", Scalar::Int(context)),
        Op::set(
            "model_auto_compact_token_limit",
            Scalar::Int(context / 10 * 9),
        ),
        str("web_search", "disabled"),
    ];
    ops.extend(
        TOOL_KEYS
            .iter()
            .map(|(path, value)| Op::set(path, Scalar::Bool(*value))),
    );
    if privacy {
        ops.extend(
            PRIVACY_KEYS
                .iter()
                .map(|(path, value)| Op::set(path, Scalar::Bool(*value))),
        );
        // Should anything fall back to the `openai` provider, it stays on this machine and fails.
        ops.push(str("openai_base_url", NOWHERE));
    }
    if let Some(base_url) = &target.base_url {
        let table = format!("model_providers.{}", target.provider);
        ops.push(str(&format!("{table}.name"), &target.provider_name));
        ops.push(str(&format!("{table}.base_url"), base_url));
        ops.push(str(&format!("{table}.wire_api"), "responses"));
        if let Some(env_key) = &target.env_key {
            ops.push(str(&format!("{table}.env_key"), env_key));
        }
    }
    ops
}

/// Something in a configuration that Codex refuses, and the edit that removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub description: String,
    pub fix: Op,
}

/// Tables and keys Codex refuses to load: `[model_providers.<reserved id>]` and a top-level `profile`.
#[must_use]
pub fn problems(document: &DocumentMut) -> Vec<Problem> {
    let mut found = Vec::new();
    if let Some(providers) = document
        .get("model_providers")
        .and_then(Item::as_table_like)
    {
        for (id, _) in providers.iter() {
            if RESERVED_PROVIDERS.contains(&id) {
                found.push(Problem {
                    description: format!(
                        "a `[model_providers.{id}]` table: `{id}` is built into Codex, which refuses a config that \
                         redefines it"
                    ),
                    fix: Op::Remove(vec!["model_providers".to_owned(), id.to_owned()]),
                });
            }
        }
    }
    if document.contains_key("profile") {
        found.push(Problem {
            description: "a top-level `profile` key, which current Codex rejects (profiles are now separate files)"
                .to_owned(),
            fix: Op::remove("profile"),
        });
    }
    if document.contains_key("profiles") {
        found.push(Problem {
            description: "`[profiles.*]` tables, which current Codex ignores or rejects; each moves to its own \
                          `<name>.config.toml`"
                .to_owned(),
            fix: Op::remove("profiles"),
        });
    }
    found
}

/// One value of an old `[profiles.<name>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Its dotted path inside the profile.
    pub keys: Vec<String>,
    /// Its value as TOML text, to compare.
    pub value: String,
    /// A TOML document that holds it at `keys`, comments and all, to put it into a profile file.
    pub snippet: String,
}

/// The `[profiles.<name>]` tables of an old configuration, each as the values a profile file must get.
#[must_use]
pub fn old_profiles(document: &DocumentMut) -> Vec<(String, Vec<Leaf>)> {
    let Some(profiles) = document.get("profiles").and_then(Item::as_table_like) else {
        return Vec::new();
    };
    profiles
        .iter()
        .filter(|(name, _)| is_profile_name(name))
        .filter_map(|(name, item)| {
            let table = item.as_table_like()?;
            let mut leaves = Vec::new();
            collect(table, &mut Vec::new(), &mut leaves);
            Some((name.to_owned(), leaves))
        })
        .collect()
}

fn collect(table: &dyn toml_edit::TableLike, prefix: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    for (key, item) in table.iter() {
        prefix.push(key.to_owned());
        if let Some(child) = item.as_table_like().filter(|_| !item.is_inline_table()) {
            collect(child, prefix, leaves);
        } else {
            let value = match item {
                Item::Value(value) => super::edit::value_text(value),
                other => other.to_string().trim().to_owned(),
            };
            let mut holder = DocumentMut::new();
            let mut at = holder.as_table_mut();
            for (depth, part) in prefix.iter().enumerate() {
                if depth + 1 == prefix.len() {
                    at.insert(part, item.clone());
                } else {
                    let mut parent = toml_edit::Table::new();
                    parent.set_implicit(true);
                    at.insert(part, Item::Table(parent));
                    match at.get_mut(part).and_then(Item::as_table_mut) {
                        Some(next) => at = next,
                        None => break,
                    }
                }
            }
            leaves.push(Leaf {
                keys: prefix.clone(),
                value,
                snippet: holder.to_string(),
            });
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_provider_gets_its_own_table() {
        let target = Target {
            provider: "codex-local-ollama".into(),
            base_url: Some("http://gpu-box:11434/v1".into()),
            provider_name: "Ollama (codex-local)".into(),
            env_key: None,
            model: "qwen3-coder:30b-ctx64k".into(),
            context: 65_536,
        };
        let ops = ops(&target, false);
        assert!(ops.contains(&Op::set(
            "model_auto_compact_token_limit",
            Scalar::Int(58_977)
        )));
        assert!(ops.contains(&Op::set(
            "model_providers.codex-local-ollama.wire_api",
            Scalar::Str("responses".into())
        )));
        assert!(
            !ops.iter().any(
                |op| matches!(op, Op::Set(path, _) if path[0] == "check_for_update_on_startup")
            )
        );
    }

    #[test]
    fn old_profile_tables_become_files() {
        let document: DocumentMut =
            "[profiles.fast]\nmodel = \"m\" # quick\n[profiles.fast.features]\napps = false\n"
                .parse()
                .expect("valid");
        let files = old_profiles(&document);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "fast");
        let mut file = DocumentMut::new();
        for leaf in &files[0].1 {
            let held: DocumentMut = leaf.snippet.parse().expect("valid");
            let mut path = super::super::edit::lookup(&held, &leaf.keys);
            assert!(path.take().is_some(), "{leaf:?}");
            file = format!("{file}{}", leaf.snippet).parse().expect("valid");
        }
        assert_eq!(file["model"].as_str(), Some("m"));
        assert_eq!(file["features"]["apps"].as_bool(), Some(false));
        assert_eq!(problems(&document).len(), 1);
    }

    #[test]
    fn finds_what_codex_refuses() {
        let document: DocumentMut =
            "profile = \"x\"\n[model_providers.ollama]\nbase_url = \"y\"\n[model_providers.mine]\nname = \"m\"\n"
                .parse()
                .expect("valid");
        let found = problems(&document);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].fix, Op::remove("model_providers.ollama"));
    }
}
