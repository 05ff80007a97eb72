//! Verification: one request the way Codex makes it (`POST /v1/responses`, streamed, with a function tool), read to
//! `response.completed`.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};

use super::error::RuntimeError;
use super::http;

/// The tool offered, shaped like Codex's own `exec_command`.
const TOOL_NAME: &str = "exec_command";
const PROMPT: &str = "This is a connection check from codex-local. Call the exec_command tool once with cmd set \
                      to \"pwd\". Do not reply with text.";

/// What the model did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Text the model wrote, if any.
    pub text: String,
    /// The tool it called, if it called one.
    pub tool_call: Option<String>,
    pub elapsed_ms: u128,
}

/// The request body, as Codex sends it with a local provider.
#[must_use]
pub fn request_body(model: &str) -> Value {
    json!({
        "model": model,
        "stream": true,
        "store": false,
        "input": [{
            "type": "message",
            "role": "user",
            "content": [{ "type": "input_text", "text": PROMPT }],
        }],
        "tools": [{
            "type": "function",
            "name": TOOL_NAME,
            "description": "Runs a command in a PTY, returning output or a session ID for ongoing interaction.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "cmd": { "type": "string", "description": "Shell command to execute." },
                    "workdir": { "type": "string", "description": "Working directory for the command." },
                },
                "required": ["cmd"],
                "additionalProperties": false,
            },
        }],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
    })
}

/// Reads the events of a Responses stream.
#[derive(Debug, Default)]
struct Collector {
    text: String,
    tool_call: Option<String>,
    completed: bool,
}

impl Collector {
    /// Takes one `data:` line; a `response.failed` or `error` event fails.
    fn line(&mut self, line: &str, model: &str) -> Result<(), RuntimeError> {
        let Some(data) = line.strip_prefix("data:") else {
            return Ok(());
        };
        let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
            return Ok(());
        };
        match event["type"].as_str().unwrap_or("") {
            "response.output_text.delta" => {
                self.text.push_str(event["delta"].as_str().unwrap_or(""));
            }
            "response.output_item.done" => {
                let item = &event["item"];
                match item["type"].as_str() {
                    Some("function_call") => {
                        self.tool_call = item["name"].as_str().map(str::to_owned);
                    }
                    Some("message") if self.text.is_empty() => {
                        for part in item["content"].as_array().into_iter().flatten() {
                            self.text.push_str(part["text"].as_str().unwrap_or(""));
                        }
                    }
                    _ => {}
                }
            }
            "response.completed" => self.completed = true,
            "response.failed" | "error" => {
                let message = event["response"]["error"]["message"]
                    .as_str()
                    .or_else(|| event["message"].as_str())
                    .or_else(|| event["error"]["message"].as_str())
                    .unwrap_or("the server reported a failure");
                return Err(RuntimeError::Failed {
                    model: model.to_owned(),
                    message: crate::text::sanitize(message),
                });
            }
            _ => {}
        }
        Ok(())
    }
}

/// The error for a refused request: 404 without a model message is a server without `/v1/responses`, a 400
/// about tools is a model that cannot call them.
fn refused(
    status: StatusCode,
    body: &[u8],
    target: String,
    model: &str,
    server_version: Option<&str>,
) -> RuntimeError {
    let answer = http::Answer {
        path: "/v1/responses".to_owned(),
        status,
        body: body.to_vec(),
    };
    let message = crate::text::sanitize(
        &answer
            .error_message()
            .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).trim().to_owned()),
    );
    if status == StatusCode::NOT_FOUND && !message.contains("model") {
        RuntimeError::NoResponsesApi {
            url: target,
            version: server_version.map(str::to_owned),
        }
    } else if message.contains("does not support tools") {
        RuntimeError::NoTools {
            model: model.to_owned(),
            message,
        }
    } else {
        RuntimeError::Status {
            path: "/v1/responses".to_owned(),
            status: status.as_u16(),
            message,
        }
    }
}

/// Sends the check to `{api_base}/responses` (`api_base` ends in `/v1/`) and reads the event stream.
pub async fn verify(
    client: &Client,
    api_base: &Url,
    model: &str,
    token: Option<&str>,
    timeout: Duration,
    server_version: Option<&str>,
) -> Result<Verified, RuntimeError> {
    let started = std::time::Instant::now();
    let target = api_base
        .join("responses")
        .map_or_else(|_| format!("{api_base}responses"), |u| u.to_string());
    let mut request = client
        .post(&target)
        .json(&request_body(model))
        .timeout(timeout);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let failure = Failure {
        target: &target,
        model,
        timeout,
    };
    let mut response = request.send().await.map_err(|err| {
        if err.is_timeout() {
            failure.timed_out()
        } else {
            RuntimeError::Unreachable {
                url: target.clone(),
                source: http::describe(&err, timeout),
            }
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        return Err(refused(status, &body, target, model, server_version));
    }
    let collector = read(&mut response, &failure).await?;
    Ok(Verified {
        text: collector.text,
        tool_call: collector.tool_call,
        elapsed_ms: started.elapsed().as_millis(),
    })
}

/// The errors of a request once sent.
struct Failure<'a> {
    target: &'a str,
    model: &'a str,
    timeout: Duration,
}

impl Failure<'_> {
    fn timed_out(&self) -> RuntimeError {
        RuntimeError::TimedOut {
            model: self.model.to_owned(),
            seconds: self.timeout.as_secs(),
        }
    }

    fn dropped(&self) -> RuntimeError {
        RuntimeError::Dropped {
            url: self.target.to_owned(),
            what: format!("the answer of `{}`", self.model),
        }
    }
}

/// Reads the event stream to `response.completed`.
async fn read(
    response: &mut reqwest::Response,
    failure: &Failure<'_>,
) -> Result<Collector, RuntimeError> {
    let mut collector = Collector::default();
    super::stream::each_line(
        response,
        |line| collector.line(line, failure.model),
        |err| {
            if err.is_timeout() {
                failure.timed_out()
            } else {
                failure.dropped()
            }
        },
    )
    .await?;
    if !collector.completed {
        return Err(failure.dropped());
    }
    Ok(collector)
}
