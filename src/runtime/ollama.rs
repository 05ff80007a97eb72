//! Ollama's HTTP API: detection (`/api/version`) and installed models (`/api/tags`).

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;

use super::error::RuntimeError;
use super::http::{self, Answer, ProbeError};
use super::{InstalledModel, RuntimeKind, RuntimeStatus};

const KIND: RuntimeKind = RuntimeKind::Ollama;

#[derive(Deserialize)]
struct Version {
    version: String,
}

#[derive(Deserialize)]
struct Tags {
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    details: Option<Details>,
    #[serde(default)]
    capabilities: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct Details {
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
    context_length: Option<u64>,
}

/// Asks the server at `base` for its version and models, at once.
pub async fn probe(client: &Client, base: &Url, timeout: Duration) -> RuntimeStatus {
    super::within(KIND, base, timeout + timeout / 4, async {
        let (version, tags) = tokio::join!(
            http::get(client, base, "api/version", None, timeout),
            http::get(client, base, "api/tags", None, timeout),
        );
        let version = match version.and_then(|answer| read_version(&answer)) {
            Ok(version) => version,
            Err(err) => return RuntimeStatus::down(KIND, base, &err),
        };
        let (models, error) = match tags.and_then(|answer| read_tags(&answer)) {
            Ok(models) => (models, None),
            Err(err) => (Vec::new(), Some(err.to_string())),
        };
        RuntimeStatus {
            name: KIND,
            url: base.to_string(),
            running: true,
            version: Some(version),
            api: None,
            models,
            error,
            hint: None,
        }
    })
    .await
}

fn read_version(answer: &Answer) -> Result<String, ProbeError> {
    if answer.status != StatusCode::OK {
        return Err(ProbeError::NotRuntime {
            expected: "an Ollama server",
            detail: format!("`GET {}` answered HTTP {}", answer.path, answer.status),
        });
    }
    let looks_like_json = answer.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !looks_like_json {
        return Err(ProbeError::NotRuntime {
            expected: "an Ollama server",
            detail: format!("`GET {}` did not answer JSON", answer.path),
        });
    }
    let version: Version = answer.json()?;
    Ok(version.version)
}

fn read_tags(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    if answer.status != StatusCode::OK {
        return Err(answer.error_message().map_or_else(
            || ProbeError::Status {
                path: answer.path.clone(),
                status: answer.status,
            },
            |message| ProbeError::Reported {
                path: answer.path.clone(),
                message,
            },
        ));
    }
    let tags: Tags = answer.json()?;
    Ok(tags
        .models
        .into_iter()
        .map(|tag| {
            let details = tag.details.unwrap_or_default();
            InstalledModel {
                name: tag.name,
                size_bytes: tag.size,
                display_name: None,
                family: details.family,
                parameter_size: details.parameter_size,
                quantization: details.quantization_level,
                context_length: details.context_length,
                capabilities: tag.capabilities,
                loaded: None,
                loaded_context_length: None,
            }
        })
        .collect())
}

/// What `/api/show` says about a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShowInfo {
    pub capabilities: Vec<String>,
    /// `num_ctx` from the model's parameters, when it sets one.
    pub num_ctx: Option<u64>,
    /// `<arch>.context_length` from the model's metadata: the trained maximum.
    pub context_length: Option<u64>,
}

#[derive(Deserialize)]
struct ShowBody {
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    parameters: Option<String>,
    #[serde(default)]
    model_info: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Reads `num_ctx` from Ollama's parameter text (`num_ctx                        65536`).
#[must_use]
pub fn num_ctx(parameters: &str) -> Option<u64> {
    parameters.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("num_ctx")).then(|| words.next()?.parse().ok())?
    })
}

fn url(base: &Url, path: &str) -> String {
    http::endpoint(base, path)
}

async fn post(
    client: &Client,
    base: &Url,
    path: &str,
    body: &serde_json::Value,
) -> Result<reqwest::Response, RuntimeError> {
    http::post_json(client, base, path, body, None).await
}

async fn refuse(response: reqwest::Response, path: &str) -> RuntimeError {
    http::refusal(response, path).await
}

/// `POST /api/show`: `None` when the server does not have the model.
pub async fn show(
    client: &Client,
    base: &Url,
    model: &str,
) -> Result<Option<ShowInfo>, RuntimeError> {
    let response = post(
        client,
        base,
        "api/show",
        &serde_json::json!({ "model": model }),
    )
    .await?;
    if response.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(refuse(response, "api/show").await);
    }
    let body = response.bytes().await.map_err(|_| RuntimeError::Dropped {
        url: url(base, "api/show"),
        what: format!("showing `{model}`"),
    })?;
    let show: ShowBody = serde_json::from_slice(&body).map_err(|err| RuntimeError::BadData {
        path: "/api/show".to_owned(),
        detail: err.to_string(),
    })?;
    let context_length = show.model_info.as_ref().and_then(|info| {
        info.iter()
            .find(|(key, _)| key.ends_with(".context_length"))
            .and_then(|(_, value)| value.as_u64())
    });
    Ok(Some(ShowInfo {
        capabilities: show.capabilities,
        num_ctx: show.parameters.as_deref().and_then(num_ctx),
        context_length,
    }))
}

/// One line of a pull or create stream.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct StreamEvent {
    #[serde(default)]
    pub status: String,
    pub digest: Option<String>,
    pub total: Option<u64>,
    pub completed: Option<u64>,
    pub error: Option<String>,
}

/// Follows a streamed NDJSON answer to `success`, calling `on_event` for each line; an `error` line (sent with
/// HTTP 200 once streaming has begun) fails with `failed(message)`.
async fn follow(
    mut response: reqwest::Response,
    target: &str,
    what: &str,
    mut on_event: impl FnMut(&StreamEvent),
    failed: impl Fn(String) -> RuntimeError,
) -> Result<(), RuntimeError> {
    let mut succeeded = false;
    super::stream::each_line(
        &mut response,
        |line| {
            if line.trim().is_empty() {
                return Ok(());
            }
            let event: StreamEvent =
                serde_json::from_str(line).map_err(|err| RuntimeError::BadData {
                    path: target.to_owned(),
                    detail: format!(
                        "{err} in `{}`",
                        crate::ui::sanitize(&line.chars().take(120).collect::<String>())
                    ),
                })?;
            if let Some(message) = &event.error {
                return Err(failed(crate::ui::sanitize(message)));
            }
            if event.status == "success" {
                succeeded = true;
            }
            on_event(&event);
            Ok(())
        },
        |_| RuntimeError::Dropped {
            url: target.to_owned(),
            what: what.to_owned(),
        },
    )
    .await?;
    if succeeded {
        Ok(())
    } else {
        Err(RuntimeError::Dropped {
            url: target.to_owned(),
            what: what.to_owned(),
        })
    }
}

/// `POST /api/pull` with streaming: calls `on_event` for every progress line until `success`.
pub async fn pull(
    client: &Client,
    base: &Url,
    model: &str,
    on_event: impl FnMut(&StreamEvent),
) -> Result<(), RuntimeError> {
    let response = post(
        client,
        base,
        "api/pull",
        &serde_json::json!({ "model": model, "stream": true }),
    )
    .await?;
    if !response.status().is_success() {
        return Err(match refuse(response, "api/pull").await {
            RuntimeError::Status { message, .. } => RuntimeError::PullFailed {
                model: model.to_owned(),
                message,
            },
            other => other,
        });
    }
    let target = url(base, "api/pull");
    follow(
        response,
        &target,
        &format!("pulling `{model}`"),
        on_event,
        |message| RuntimeError::PullFailed {
            model: model.to_owned(),
            message,
        },
    )
    .await
}

/// `POST /api/create`: a variant of `from` that carries its own `num_ctx` (it shares the base's blobs).
pub async fn create(
    client: &Client,
    base: &Url,
    name: &str,
    from: &str,
    num_ctx: u64,
) -> Result<(), RuntimeError> {
    let body = serde_json::json!({ "model": name, "from": from, "parameters": { "num_ctx": num_ctx }, "stream": true });
    let response = post(client, base, "api/create", &body).await?;
    if !response.status().is_success() {
        return Err(match refuse(response, "api/create").await {
            RuntimeError::Status { message, .. } => RuntimeError::CreateFailed {
                model: name.to_owned(),
                message,
            },
            other => other,
        });
    }
    let target = url(base, "api/create");
    follow(
        response,
        &target,
        &format!("creating `{name}`"),
        |_| {},
        |message| RuntimeError::CreateFailed {
            model: name.to_owned(),
            message,
        },
    )
    .await
}

/// `POST /api/generate` with no prompt: loads the model and keeps it loaded for a while.
pub async fn load(client: &Client, base: &Url, model: &str) -> Result<(), RuntimeError> {
    let body = serde_json::json!({ "model": model, "stream": false, "keep_alive": "10m" });
    let response = post(client, base, "api/generate", &body).await?;
    if !response.status().is_success() {
        return Err(refuse(response, "api/generate").await);
    }
    response.bytes().await.map_err(|_| RuntimeError::Dropped {
        url: url(base, "api/generate"),
        what: format!("loading `{model}`"),
    })?;
    Ok(())
}

/// A model loaded in memory, from `/api/ps`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Loaded {
    pub name: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub size_vram: u64,
    pub context_length: Option<u64>,
}

#[derive(Deserialize)]
struct PsBody {
    #[serde(default)]
    models: Vec<Loaded>,
}

/// `GET /api/ps`: what is loaded, with the context really allocated (Ollama 0.10 and later).
pub async fn ps(client: &Client, base: &Url) -> Result<Vec<Loaded>, RuntimeError> {
    let target = url(base, "api/ps");
    let response = client
        .get(&target)
        .send()
        .await
        .map_err(|err| RuntimeError::Unreachable {
            url: target.clone(),
            source: http::describe(&err, Duration::from_secs(3)),
        })?;
    if !response.status().is_success() {
        return Err(refuse(response, "api/ps").await);
    }
    let body = response.bytes().await.map_err(|_| RuntimeError::Dropped {
        url: target.clone(),
        what: "listing loaded models".to_owned(),
    })?;
    let ps: PsBody = serde_json::from_slice(&body).map_err(|err| RuntimeError::BadData {
        path: "/api/ps".to_owned(),
        detail: err.to_string(),
    })?;
    Ok(ps.models)
}

/// The context Ollama gives a model when nothing sets `num_ctx`: 4096 below 23 GiB of VRAM, 32768 up to 47 GiB,
/// 262144 above (0.15.5 and later); older servers use 2048 (before 0.6) or 4096. Capped at the trained maximum.
#[must_use]
pub fn default_context(version: &str, total_vram: u64, trained: Option<u64>) -> u64 {
    const GIB: u64 = 1 << 30;
    let default = if version_at_least(version, (0, 15, 5)) {
        if total_vram >= 47 * GIB {
            262_144
        } else if total_vram >= 23 * GIB {
            32_768
        } else {
            4096
        }
    } else if version_at_least(version, (0, 6, 0)) {
        4096
    } else {
        2048
    };
    trained.map_or(default, |trained| default.min(trained))
}

/// Whether a version such as `0.32.15` or `0.13.4-rc1` is at least `min`. Unknown versions count as new.
#[must_use]
pub fn version_at_least(version: &str, min: (u64, u64, u64)) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u64>().ok());
    match (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    ) {
        (Some(major), Some(minor), patch) => (major, minor, patch.unwrap_or(0)) >= min,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_num_ctx_from_parameter_text() {
        assert_eq!(
            num_ctx("stop \"<|im_end|>\"\nnum_ctx                        65536\ntemperature 0.7"),
            Some(65_536)
        );
        assert_eq!(num_ctx("temperature 0.7"), None);
    }

    #[test]
    fn the_default_context_follows_version_and_vram() {
        const GIB: u64 = 1 << 30;
        assert_eq!(default_context("0.32.15", 24 * GIB, Some(262_144)), 32_768);
        assert_eq!(default_context("0.32.15", 16 * GIB, Some(262_144)), 4096);
        assert_eq!(default_context("0.32.15", 80 * GIB, Some(131_072)), 131_072);
        assert_eq!(default_context("0.15.4", 80 * GIB, None), 4096);
        assert_eq!(default_context("0.5.7", 80 * GIB, None), 2048);
        assert!(version_at_least("0.13.4", (0, 13, 4)));
        assert!(!version_at_least("0.13.3", (0, 13, 4)));
        assert!(version_at_least("0.14.0-rc2", (0, 13, 4)));
    }
}
