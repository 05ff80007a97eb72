//! The model catalog (`models.toml`): which coding models exist, their sizes and the shapes the memory estimate
//! needs. The built-in catalog is compiled in; `--catalog FILE` replaces it (read by `gather::catalog`). Pure:
//! this file parses and checks text, and reads no file.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::facts::ollama::full_name;
use crate::facts::runtime::RuntimeKind;

/// The catalog that ships inside the binary.
pub const BUILTIN: &str = include_str!("../../models.toml");
/// The catalog format this program reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The KV cache's shape, per token.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KvShape {
    pub full_layers: u64,
    pub kv_heads: u64,
    pub key_length: u64,
    pub value_length: u64,
    #[serde(default)]
    pub sliding_layers: u64,
    #[serde(default)]
    pub sliding_window: u64,
    #[serde(default)]
    pub state_bytes: u64,
}

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub ollama: Option<String>,
    pub lmstudio: Option<String>,
    pub size_bytes: u64,
    pub size_exact: bool,
    pub params_total_b: f64,
    pub params_active_b: f64,
    pub context_trained: u64,
    pub tools: bool,
    pub thinking: bool,
    pub score: f64,
    pub score_benchmark: String,
    pub score_source: String,
    pub license: String,
    pub notes: Option<String>,
    pub kv: KvShape,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    schema_version: u32,
    models: Vec<Model>,
}

/// A loaded catalog: models best first.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Where it came from: `built-in` or the file's path.
    pub origin: String,
    pub models: Vec<Model>,
}

/// A catalog that cannot be used.
#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("Cannot read the catalog `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{origin}`, line {line}, column {column}: {message}")]
    Parse {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{origin}`: model `{id}`, field `{field}`: {message}")]
    Invalid {
        origin: String,
        id: String,
        field: &'static str,
        message: String,
    },
    #[error(
        "`{origin}` has schema_version {found}; this codex-local reads version {SCHEMA_VERSION}"
    )]
    Version { origin: String, found: u32 },
}

impl CatalogError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Read { .. } => {
                "check the path given to `--catalog`, or leave it out to use the built-in catalog"
            }
            Self::Version { .. } => {
                "update codex-local, or write the catalog in the format documented in models.toml"
            }
            Self::Parse { .. } | Self::Invalid { .. } => {
                "fix that line; the fields are documented at the top of the built-in models.toml"
            }
        }
    }
}

/// The catalog compiled into the binary.
pub fn builtin() -> Result<Catalog, CatalogError> {
    parse(BUILTIN, "models.toml (built-in)")
}

/// Parses and checks catalog text; models come back sorted best first.
pub fn parse(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
    let file: CatalogFile = toml_edit::de::from_str(text).map_err(|err| {
        let (line, column) = err
            .span()
            .map_or((0, 0), |span| line_column(text, span.start));
        CatalogError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    })?;
    if file.schema_version != SCHEMA_VERSION {
        return Err(CatalogError::Version {
            origin: origin.to_owned(),
            found: file.schema_version,
        });
    }
    let mut seen = HashSet::new();
    for model in &file.models {
        if !seen.insert(model.id.clone()) {
            return Err(invalid(origin, model, "id", "appears twice"));
        }
        check(model, origin)?;
    }
    let mut models = file.models;
    models.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.size_bytes.cmp(&b.size_bytes))
    });
    Ok(Catalog {
        origin: origin.to_owned(),
        models,
    })
}

fn invalid(origin: &str, model: &Model, field: &'static str, message: &str) -> CatalogError {
    CatalogError::Invalid {
        origin: origin.to_owned(),
        id: model.id.clone(),
        field,
        message: message.to_owned(),
    }
}

/// The numbers of one entry that the estimate cannot use.
fn check(model: &Model, origin: &str) -> Result<(), CatalogError> {
    let invalid = |field, message| Err(invalid(origin, model, field, message));
    if model.ollama.is_none() && model.lmstudio.is_none() {
        return invalid(
            "ollama",
            "a model needs an `ollama` tag or an `lmstudio` key",
        );
    }
    if model.size_bytes == 0 {
        return invalid("size_bytes", "must be more than 0");
    }
    if !(0.0..=100.0).contains(&model.score) {
        return invalid("score", "must be between 0 and 100");
    }
    if model.context_trained < 4096 {
        return invalid("context_trained", "must be at least 4096 tokens");
    }
    if model.kv.full_layers + model.kv.sliding_layers == 0 || model.kv.kv_heads == 0 {
        return invalid("kv", "needs attention layers and key/value heads");
    }
    if model.kv.sliding_layers > 0 && model.kv.sliding_window == 0 {
        return invalid("kv", "sliding layers need a `sliding_window`");
    }
    Ok(())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Model {
    /// The runtime's name for this model, when the runtime has it.
    #[must_use]
    pub fn name_on(&self, runtime: RuntimeKind) -> Option<&str> {
        match runtime {
            RuntimeKind::Ollama => self.ollama.as_deref(),
            RuntimeKind::Lmstudio => self.lmstudio.as_deref(),
        }
    }
}

impl Catalog {
    /// A model by catalog id, Ollama tag or LM Studio key.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&Model> {
        let full = full_name(name);
        self.models.iter().find(|model| {
            model.id == name
                || model
                    .ollama
                    .as_deref()
                    .is_some_and(|tag| full_name(tag) == full)
                || model.lmstudio.as_deref() == Some(name)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_is_valid_and_spans_small_to_large() {
        let catalog = builtin().expect("the built-in catalog parses");
        assert!(catalog.models.len() >= 8);
        assert!(
            catalog.models.iter().all(|m| m.tools),
            "every entry can drive Codex"
        );
        let smallest = catalog
            .models
            .iter()
            .map(|m| m.size_bytes)
            .min()
            .expect("models");
        let largest = catalog
            .models
            .iter()
            .map(|m| m.size_bytes)
            .max()
            .expect("models");
        assert!(
            smallest < 5_000_000_000 && largest > 60_000_000_000,
            "{smallest} .. {largest}"
        );
        let scores: Vec<f64> = catalog.models.iter().map(|m| m.score).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "best first: {scores:?}"
        );
    }

    #[test]
    fn finds_models_by_id_tag_or_key() {
        let catalog = builtin().expect("catalog");
        assert_eq!(
            catalog.find("qwen3-coder:30b").map(|m| m.id.as_str()),
            Some("qwen3-coder-30b")
        );
        assert_eq!(
            catalog.find("openai/gpt-oss-20b").map(|m| m.id.as_str()),
            Some("gpt-oss-20b")
        );
        assert_eq!(
            catalog.find("gpt-oss-120b").map(|m| m.id.as_str()),
            Some("gpt-oss-120b")
        );
        assert_eq!(
            catalog.find("glm-4.7-flash:latest").map(|m| m.id.as_str()),
            Some("glm-4.7-flash")
        );
        assert!(catalog.find("llama2").is_none());
    }

    #[test]
    fn a_malformed_catalog_names_file_line_and_field() {
        let base = BUILTIN.replacen("size_bytes = 23_938_333_577", "size_bytes = \"big\"", 1);
        let err = parse(&base, "mine.toml").expect_err("a string size");
        let text = err.to_string();
        let line = base
            .lines()
            .position(|l| l.contains("\"big\""))
            .expect("the line")
            + 1;
        assert!(
            text.starts_with(&format!("`mine.toml`, line {line}, column")),
            "{text}"
        );

        let missing = BUILTIN.replacen("score = 73.4\n", "", 1);
        let text = parse(&missing, "mine.toml")
            .expect_err("no score")
            .to_string();
        assert!(text.contains("missing field `score`"), "{text}");

        let twice = format!(
            "{BUILTIN}\n{}",
            &BUILTIN[BUILTIN.find("\n[[models]]").expect("a model")..]
        );
        let text = parse(&twice, "mine.toml")
            .expect_err("duplicates")
            .to_string();
        assert!(text.contains("field `id`: appears twice"), "{text}");

        let unknown = BUILTIN.replacen("thinking = true", "thinking = true\nspeed = 3", 1);
        let text = parse(&unknown, "mine.toml")
            .expect_err("unknown field")
            .to_string();
        assert!(text.contains("speed"), "{text}");
    }
}
