//! LM Studio's HTTP API: detection (`/lmstudio-greeting`) and models (`/api/v1/models`, else `/api/v0/models`).
//!
//! LM Studio answers unknown routes with HTTP 200 and `{"error": "Unexpected endpoint or method. …"}`, so every
//! answer is checked for an `error` key whatever its status.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;

use super::http::{self, Answer, ProbeError};
use super::{InstalledModel, RuntimeKind, RuntimeStatus};

const KIND: RuntimeKind = RuntimeKind::Lmstudio;
const NOT_LM_STUDIO: &str = "an LM Studio server";

#[derive(Deserialize)]
struct Greeting {
    lmstudio: bool,
}

#[derive(Deserialize)]
struct V1Models {
    models: Vec<V1Model>,
}

#[derive(Deserialize)]
struct V1Model {
    key: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    display_name: Option<String>,
    architecture: Option<String>,
    quantization: Option<V1Quantization>,
    size_bytes: Option<u64>,
    params_string: Option<String>,
    max_context_length: Option<u64>,
    capabilities: Option<V1Capabilities>,
    #[serde(default)]
    loaded_instances: Vec<V1Instance>,
}

#[derive(Deserialize)]
struct V1Quantization {
    name: Option<String>,
}

#[derive(Deserialize)]
struct V1Capabilities {
    vision: Option<bool>,
    trained_for_tool_use: Option<bool>,
}

#[derive(Deserialize)]
struct V1Instance {
    config: Option<V1InstanceConfig>,
}

#[derive(Deserialize)]
struct V1InstanceConfig {
    context_length: Option<u64>,
}

#[derive(Deserialize)]
struct V0Models {
    data: Vec<V0Model>,
}

#[derive(Deserialize)]
struct V0Model {
    id: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    arch: Option<String>,
    quantization: Option<String>,
    state: Option<String>,
    max_context_length: Option<u64>,
}

/// Greets the server at `base` and lists its models.
pub async fn probe(
    client: &Client,
    base: &Url,
    token: Option<&str>,
    timeout: Duration,
) -> RuntimeStatus {
    super::within(KIND, base, timeout * 2 + timeout / 4, async {
        let (greeting, v1) = tokio::join!(
            http::get(client, base, "lmstudio-greeting", None, timeout),
            http::get(client, base, "api/v1/models", token, timeout),
        );
        if let Err(err) = greeting.and_then(|answer| read_greeting(&answer)) {
            return RuntimeStatus::down(KIND, base, &err);
        }
        let mut status = RuntimeStatus {
            name: KIND,
            url: base.to_string(),
            running: true,
            version: None,
            api: Some("v1"),
            models: Vec::new(),
            error: None,
            hint: None,
        };
        let v1 = v1.and_then(|answer| read_v1(&answer));
        let listed = match v1 {
            Ok(models) => Ok(models),
            Err(err @ ProbeError::Unauthorized { .. }) => Err(err),
            Err(_) => {
                status.api = Some("v0");
                http::get(client, base, "api/v0/models", token, timeout)
                    .await
                    .and_then(|answer| read_v0(&answer))
            }
        };
        match listed {
            Ok(models) => status.models = models,
            Err(err) => {
                if matches!(err, ProbeError::Unauthorized { .. }) {
                    status.hint = Some(
                        "LM Studio's API authentication is on: set `LM_API_TOKEN` to a token from its server \
                         settings, or turn authentication off"
                            .to_owned(),
                    );
                }
                status.error = Some(err.to_string());
            }
        }
        status
    })
    .await
}

/// `{"lmstudio": true}` is LM Studio. A 200 with LM Studio's "Unexpected endpoint" error is an LM Studio too old
/// to greet.
fn read_greeting(answer: &Answer) -> Result<(), ProbeError> {
    if answer.status == StatusCode::OK {
        if let Ok(Greeting { lmstudio: true }) = answer.json::<Greeting>() {
            return Ok(());
        }
        if answer
            .error_message()
            .is_some_and(|message| message.starts_with("Unexpected endpoint or method"))
        {
            return Ok(());
        }
    }
    Err(ProbeError::NotRuntime {
        expected: NOT_LM_STUDIO,
        detail: format!(
            "`GET {}` answered HTTP {} without LM Studio's greeting",
            answer.path, answer.status
        ),
    })
}

/// Checks an answer for LM Studio's ways of saying no: 401, another non-200, or an `error` key.
fn check(answer: &Answer) -> Result<(), ProbeError> {
    if answer.status == StatusCode::UNAUTHORIZED {
        return Err(ProbeError::Unauthorized {
            path: answer.path.clone(),
        });
    }
    if let Some(message) = answer.error_message() {
        return Err(ProbeError::Reported {
            path: answer.path.clone(),
            message,
        });
    }
    if answer.status != StatusCode::OK {
        return Err(ProbeError::Status {
            path: answer.path.clone(),
            status: answer.status,
        });
    }
    Ok(())
}

fn read_v1(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    check(answer)?;
    let listed: V1Models = answer.json()?;
    Ok(listed
        .models
        .into_iter()
        .map(|model| {
            let mut capabilities = Vec::new();
            if let Some(caps) = &model.capabilities {
                if caps.trained_for_tool_use == Some(true) {
                    capabilities.push("tools".to_owned());
                }
                if caps.vision == Some(true) {
                    capabilities.push("vision".to_owned());
                }
            }
            if model.kind.as_deref() == Some("embedding") {
                capabilities.push("embedding".to_owned());
            }
            InstalledModel {
                name: model.key,
                size_bytes: model.size_bytes,
                display_name: model.display_name,
                family: model.architecture,
                parameter_size: model.params_string,
                quantization: model.quantization.and_then(|q| q.name),
                context_length: model.max_context_length,
                capabilities: model.capabilities.is_some().then_some(capabilities),
                loaded: Some(!model.loaded_instances.is_empty()),
                loaded_context_length: model
                    .loaded_instances
                    .iter()
                    .find_map(|instance| instance.config.as_ref()?.context_length),
            }
        })
        .collect())
}

fn read_v0(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    check(answer)?;
    let listed: V0Models = answer.json()?;
    Ok(listed
        .data
        .into_iter()
        .map(|model| InstalledModel {
            name: model.id,
            size_bytes: None,
            display_name: None,
            family: model.arch,
            parameter_size: None,
            quantization: model.quantization,
            context_length: model.max_context_length,
            capabilities: (model.kind.as_deref() == Some("embeddings"))
                .then(|| vec!["embedding".to_owned()]),
            loaded: model.state.map(|state| state == "loaded"),
            loaded_context_length: None,
        })
        .collect())
}
