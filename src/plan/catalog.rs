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
/// The catalog format this program writes and reads (version 1, without the newer fields, is read too).
pub const SCHEMA_VERSION: u32 = 2;
/// The benchmark that ranks first.
pub const RANKING_BENCHMARK: &str = "SWE-bench Verified";
/// How much more on [`RANKING_BENCHMARK`] makes a model "clearly better", worth a shorter context.
pub const CLEAR_MARGIN: f64 = 5.0;

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
    /// The sliding layers' own shape, when it differs from the full layers' (Gemma 4).
    #[serde(default)]
    pub sliding_kv_heads: Option<u64>,
    #[serde(default)]
    pub sliding_key_length: Option<u64>,
    #[serde(default)]
    pub sliding_value_length: Option<u64>,
}

impl KvShape {
    /// Bytes one token takes in one full layer (f16).
    #[must_use]
    pub fn full_bytes_per_token(&self) -> u64 {
        (self.key_length + self.value_length) * self.kv_heads * 2
    }

    /// Bytes one token takes in one sliding layer (f16).
    #[must_use]
    pub fn sliding_bytes_per_token(&self) -> u64 {
        let heads = self.sliding_kv_heads.unwrap_or(self.kv_heads);
        let key = self.sliding_key_length.unwrap_or(self.key_length);
        let value = self.sliding_value_length.unwrap_or(self.value_length);
        (key + value) * heads * 2
    }
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
    /// The month of release, `YYYY-MM`.
    #[serde(default)]
    pub released: Option<String>,
    pub tools: bool,
    pub thinking: bool,
    /// A published coding score, when there is one.
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub score_benchmark: Option<String>,
    #[serde(default)]
    pub score_harness: Option<String>,
    /// The model maker's own number.
    #[serde(default)]
    pub score_vendor: Option<bool>,
    #[serde(default)]
    pub score_source: Option<String>,
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
    if !(1..=SCHEMA_VERSION).contains(&file.schema_version) {
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
    models.sort_by(Model::rank_order);
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
    check_names(model).map_err(|(field, message)| invalid_owned(origin, model, field, message))?;
    check_kv(&model.kv).map_err(|message| invalid_owned(origin, model, "kv", message))?;
    if !model.tools {
        return invalid(
            "tools",
            "a model that cannot call tools cannot drive Codex: leave it out of the catalog",
        );
    }
    #[expect(clippy::cast_precision_loss, reason = "a plausibility check")]
    let too_big = model.size_bytes as f64 > 4e12;
    if too_big {
        return invalid("size_bytes", "more than 4 TB");
    }
    if model.params_active_b < model.params_total_b * 0.01 {
        return invalid(
            "params_active_b",
            "less than 1 % of the parameters in all: no model routes so few",
        );
    }
    if model.ollama.is_none() && model.lmstudio.is_none() {
        return invalid(
            "ollama",
            "a model needs an `ollama` tag or an `lmstudio` key",
        );
    }
    if model.size_bytes == 0 {
        return invalid("size_bytes", "must be more than 0");
    }
    check_score(model).map_err(|(field, message)| invalid_owned(origin, model, field, message))?;
    if model.params_total_b <= 0.0 || model.params_active_b <= 0.0 {
        return invalid("params_total_b", "parameters must be more than 0");
    }
    if model.params_active_b > model.params_total_b {
        return invalid(
            "params_active_b",
            "more active parameters than parameters in all",
        );
    }
    // Weights at 2 to 16 bits per parameter: anything else contradicts the parameter count.
    #[expect(clippy::cast_precision_loss, reason = "a plausibility check")]
    let bytes_per_param = model.size_bytes as f64 / (model.params_total_b * 1e9);
    if !(0.25..=2.1).contains(&bytes_per_param) {
        return invalid(
            "size_bytes",
            "does not match params_total_b (between 2 and 16 bits per parameter)",
        );
    }
    if model.context_trained < 4096 {
        return invalid("context_trained", "must be at least 4096 tokens");
    }
    if let Some(released) = &model.released
        && !is_month(released)
    {
        return invalid("released", "must be a month written YYYY-MM");
    }
    Ok(())
}

/// Names that can be written into a command and into Codex's configuration: not empty, no spaces or control
/// characters.
fn check_names(model: &Model) -> Result<(), (&'static str, String)> {
    let plain =
        |text: &str| !text.is_empty() && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plain(&model.id) {
        return Err(("id", "must be a word without spaces".to_owned()));
    }
    if model.name.trim().is_empty() {
        return Err(("name", "must not be empty".to_owned()));
    }
    for (field, value) in [("ollama", &model.ollama), ("lmstudio", &model.lmstudio)] {
        if value.as_deref().is_some_and(|name| !plain(name)) {
            return Err((field, "must be a model name without spaces".to_owned()));
        }
    }
    for (field, value) in [
        ("score_benchmark", &model.score_benchmark),
        ("score_harness", &model.score_harness),
        ("score_source", &model.score_source),
    ] {
        if value.as_deref().is_some_and(|text| text.trim().is_empty()) {
            return Err((field, "must not be empty".to_owned()));
        }
    }
    Ok(())
}

/// A KV shape the estimate can use: keys, values and counts within what any model has, so that no arithmetic
/// overflows.
pub(crate) fn check_kv(kv: &KvShape) -> Result<(), String> {
    let bounded = [
        ("full_layers", kv.full_layers, 1_024),
        ("sliding_layers", kv.sliding_layers, 1_024),
        ("kv_heads", kv.kv_heads, 1_024),
        ("key_length", kv.key_length, 16_384),
        ("value_length", kv.value_length, 16_384),
        ("sliding_window", kv.sliding_window, 10_000_000),
        ("sliding_kv_heads", kv.sliding_kv_heads.unwrap_or(0), 1_024),
        (
            "sliding_key_length",
            kv.sliding_key_length.unwrap_or(0),
            16_384,
        ),
        (
            "sliding_value_length",
            kv.sliding_value_length.unwrap_or(0),
            16_384,
        ),
        ("state_bytes", kv.state_bytes, 1 << 40),
    ];
    for (name, value, most) in bounded {
        if value > most {
            return Err(format!(
                "`{name}` = {value} is more than any model has ({most})"
            ));
        }
    }
    if kv.key_length == 0 {
        return Err("`key_length` must be more than 0".to_owned());
    }
    if kv.full_layers + kv.sliding_layers == 0 || kv.kv_heads == 0 {
        return Err("needs attention layers and key/value heads".to_owned());
    }
    if kv.sliding_layers > 0 && kv.sliding_window == 0 {
        return Err("sliding layers need a `sliding_window`".to_owned());
    }
    let sliding_shape = [
        kv.sliding_kv_heads,
        kv.sliding_key_length,
        kv.sliding_value_length,
    ];
    if kv.sliding_layers == 0 && sliding_shape.iter().any(Option::is_some) {
        return Err("a sliding shape without sliding layers".to_owned());
    }
    if kv.sliding_kv_heads == Some(0) {
        return Err("`sliding_kv_heads` must be more than 0".to_owned());
    }
    Ok(())
}

/// A score comes whole (number, benchmark, source) or not at all, between 0 and 100.
fn check_score(model: &Model) -> Result<(), (&'static str, String)> {
    match (&model.score, &model.score_benchmark, &model.score_source) {
        (None, None, None) => {
            if model.score_harness.is_some() || model.score_vendor.is_some() {
                return Err((
                    "score",
                    "a harness or vendor flag without a score".to_owned(),
                ));
            }
            Ok(())
        }
        (Some(score), Some(_), Some(_)) if (0.0..=100.0).contains(score) => Ok(()),
        (Some(_), Some(_), Some(_)) => Err(("score", "must be between 0 and 100".to_owned())),
        (None, _, _) => Err(("score", "a benchmark or source without a score".to_owned())),
        (_, None, _) => Err(("score_benchmark", "a score needs its benchmark".to_owned())),
        (_, _, None) => Err(("score_source", "a score needs its source".to_owned())),
    }
}

fn invalid_owned(
    origin: &str,
    model: &Model,
    field: &'static str,
    message: String,
) -> CatalogError {
    CatalogError::Invalid {
        origin: origin.to_owned(),
        id: model.id.clone(),
        field,
        message,
    }
}

/// `YYYY-MM`.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(text[5..].parse::<u8>(), Ok(1..=12))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Model {
    /// Its score on [`RANKING_BENCHMARK`], when it has one.
    #[must_use]
    pub fn ranking_score(&self) -> Option<f64> {
        self.score
            .filter(|_| self.score_benchmark.as_deref() == Some(RANKING_BENCHMARK))
    }

    /// The ranking rule (see models.toml): a SWE-bench Verified score first, highest first (the smaller download
    /// on a tie); then the rest, newest first (the larger of a family first).
    #[must_use]
    pub fn rank_order(a: &Self, b: &Self) -> std::cmp::Ordering {
        match (a.ranking_score(), b.ranking_score()) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            // Without a comparable score: the newer, then the larger of a family.
            (None, None) => b
                .released
                .cmp(&a.released)
                .then_with(|| b.size_bytes.cmp(&a.size_bytes)),
        }
        // Equal scores: the smaller download.
        .then_with(|| a.size_bytes.cmp(&b.size_bytes))
    }

    /// Why it ranks where it does, in words.
    #[must_use]
    pub fn ranking(&self) -> String {
        let released = self
            .released
            .as_deref()
            .map_or_else(String::new, |r| format!(", released {r}"));
        if let Some(score) = self.ranking_score() {
            let whose = match self.score_vendor {
                Some(true) => ", the maker's own number",
                Some(false) => ", not the maker's",
                None => "",
            };
            let harness = self
                .score_harness
                .as_deref()
                .map_or_else(String::new, |h| format!(" ({h}{whose})"));
            return format!("ranked by {RANKING_BENCHMARK} {score}{harness}");
        }
        let other = match (&self.score, &self.score_benchmark) {
            (Some(score), Some(benchmark)) => format!(" (it has {score} on {benchmark})"),
            _ => String::new(),
        };
        format!(
            "no {RANKING_BENCHMARK} score{other}: ranked after the models that have one, newest first{released}"
        )
    }

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
        // The ranking rule: SWE-bench Verified scores first, highest first; then the others, newest first.
        let ranked: Vec<Option<f64>> = catalog.models.iter().map(Model::ranking_score).collect();
        let scored = ranked.iter().take_while(|s| s.is_some()).count();
        assert!(scored >= 8, "{ranked:?}");
        assert!(ranked[scored..].iter().all(Option::is_none), "{ranked:?}");
        assert!(
            ranked[..scored].windows(2).all(|w| w[0] >= w[1]),
            "best first: {ranked:?}"
        );
        let released: Vec<&Option<String>> = catalog.models[scored..]
            .iter()
            .map(|m| &m.released)
            .collect();
        assert!(
            released.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {released:?}"
        );
        for model in &catalog.models {
            assert!(model.released.is_some(), "{}: a release month", model.id);
            if model.score.is_some() {
                assert!(
                    model.score_harness.is_some() && model.score_vendor.is_some(),
                    "{}: the score's harness and whose number it is",
                    model.id
                );
            }
        }
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
        assert!(
            text.contains(
                "model `qwen3.6-35b-a3b`, field `score`: a benchmark or source without a score"
            ),
            "{text}"
        );
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

    #[test]
    fn a_missing_or_contradictory_number_is_refused_with_entry_and_field() {
        for (from, to, field) in [
            (
                "params_active_b = 3.0\n",
                "params_active_b = 40.0\n",
                "params_active_b",
            ),
            (
                "size_bytes = 23_938_333_577",
                "size_bytes = 900_000_000",
                "size_bytes",
            ),
            ("score = 73.4", "score = 173.4", "score"),
            (
                "released = \"2026-04\"",
                "released = \"April 2026\"",
                "released",
            ),
            (
                "score_source = \"Qwen3.6-35B-A3B model card\"\n",
                "",
                "score_source",
            ),
        ] {
            let text = parse(&BUILTIN.replacen(from, to, 1), "mine.toml")
                .expect_err(field)
                .to_string();
            assert!(
                text.contains(&format!("field `{field}`")),
                "{field}: {text}"
            );
        }
    }
}
