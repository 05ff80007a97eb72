//! Ollama's HTTP API: detection (`/api/version`) and installed models (`/api/tags`).

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;

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
