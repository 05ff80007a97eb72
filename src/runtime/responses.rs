//! Verification: one request the way Codex makes it (`POST /v1/responses`, streamed, with a function tool), read to
//! `response.completed`.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use super::error::RuntimeError;
use super::http::{self, Auth, Http};
use super::stream::Stop;

/// The tool offered, shaped like Codex's own `exec_command`.
const TOOL_NAME: &str = "exec_command";
const PROMPT: &str = "This is a connection check from codex-local. Call the exec_command tool once with cmd set \
                      to \"pwd\". Do not reply with text.";

/// What the model did.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The tool it called, if it called one.
    pub tool_call: Option<String>,
    pub elapsed_ms: u128,
    /// Its speed, as the stream showed it.
    pub measured: Measured,
}

/// Speed measured on the verification request: time to the first streamed token, then tokens written per second
/// between the first and the last (from the usage the server reports), and prompt tokens read per second before
/// the first. A figure the stream does not allow (one token, everything in one chunk, no usage) is `None`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Measured {
    pub ttft_ms: Option<u64>,
    pub decode_tps: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

impl Measured {
    /// The figures from the moments the stream gave: start, first and last token, and the reported usage.
    #[must_use]
    pub fn from_times(
        started: std::time::Instant,
        first: Option<std::time::Instant>,
        last: Option<std::time::Instant>,
        usage: Option<(u64, u64)>,
    ) -> Self {
        let ttft = first.map(|first| first.duration_since(started));
        let (input, output) = usage.map_or((None, None), |(i, o)| (Some(i), Some(o)));
        #[expect(clippy::cast_precision_loss, reason = "token counts")]
        let decode_tps = match (first, last, output) {
            (Some(first), Some(last), Some(output)) if output >= 2 => {
                let seconds = last.duration_since(first).as_secs_f64();
                (seconds >= 0.001).then(|| (output - 1) as f64 / seconds)
            }
            _ => None,
        };
        #[expect(clippy::cast_precision_loss, reason = "token counts")]
        let prefill_tps = match (ttft, input) {
            (Some(ttft), Some(input)) if input > 0 && ttft.as_secs_f64() >= 0.001 => {
                Some(input as f64 / ttft.as_secs_f64())
            }
            _ => None,
        };
        Self {
            ttft_ms: ttft.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            decode_tps,
            prefill_tps,
            input_tokens: input,
            output_tokens: output,
        }
    }
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
    tool_call: Option<String>,
    completed: bool,
    /// When the first and the last token (any `*.delta` event: text, reasoning, tool arguments) arrived.
    first_token: Option<std::time::Instant>,
    last_token: Option<std::time::Instant>,
    /// Input and output tokens, from `response.completed`.
    usage: Option<(u64, u64)>,
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
        let kind = event["type"].as_str().unwrap_or("");
        if kind.rsplit('.').next() == Some("delta") {
            let now = std::time::Instant::now();
            self.first_token.get_or_insert(now);
            self.last_token = Some(now);
        }
        match kind {
            "response.output_item.done" => {
                let item = &event["item"];
                if item["type"].as_str() == Some("function_call") {
                    self.tool_call = item["name"].as_str().map(|name| {
                        crate::text::sanitize(&name.chars().take(200).collect::<String>())
                    });
                }
            }
            "response.completed" => {
                self.completed = true;
                let usage = &event["response"]["usage"];
                self.usage = usage["input_tokens"]
                    .as_u64()
                    .zip(usage["output_tokens"].as_u64());
            }
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

/// Sends the check to the OpenAI-compatible API under the runtime's address (`/v1/responses`).
pub async fn verify_at(
    endpoint: &super::Endpoint,
    model: &str,
    timeout: Duration,
    server_version: Option<&str>,
) -> Result<Verified, RuntimeError> {
    let api = endpoint
        .url
        .join("v1/")
        .map_err(|err| RuntimeError::BadData {
            path: endpoint.url.to_string(),
            detail: err.to_string(),
        })?;
    let http = Http::ops(timeout)?;
    verify(&http, &api, model, &endpoint.auth, timeout, server_version).await
}

/// Sends the check to `{api_base}/responses` (`api_base` ends in `/v1/`) and reads the event stream, within
/// `timeout` in all.
async fn verify(
    http: &Http,
    api_base: &Url,
    model: &str,
    auth: &Auth,
    timeout: Duration,
    server_version: Option<&str>,
) -> Result<Verified, RuntimeError> {
    let started = std::time::Instant::now();
    let target = api_base
        .join("responses")
        .map_or_else(|_| format!("{api_base}responses"), |u| u.to_string());
    let failure = Failure {
        target: &target,
        model,
        timeout,
    };
    let request = http
        .post(&target, auth)
        .json(&request_body(model))
        .timeout(timeout);
    let mut response = request.send().await.map_err(|err| {
        if err.is_timeout() {
            failure.timed_out()
        } else {
            RuntimeError::Unreachable {
                url: target.clone(),
                source: http.describe(&err),
            }
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        let body = http::read_capped(response, http::MAX_BODY)
            .await
            .unwrap_or_default();
        return Err(refused(status, &body, target, model, server_version));
    }
    let collector = read(&mut response, &failure).await?;
    Ok(Verified {
        tool_call: collector.tool_call,
        elapsed_ms: started.elapsed().as_millis(),
        measured: Measured::from_times(
            started,
            collector.first_token,
            collector.last_token,
            collector.usage,
        ),
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

/// Reads the event stream to `response.completed`, each event line within the stream's limit.
async fn read(
    response: &mut reqwest::Response,
    failure: &Failure<'_>,
) -> Result<Collector, RuntimeError> {
    let mut collector = Collector::default();
    let read = super::stream::each_line(response, None, |line| {
        collector.line(line, failure.model).map(|()| true)
    })
    .await;
    match read {
        Ok(()) => {}
        Err(Stop::Handler(err)) => return Err(err),
        Err(Stop::LineTooLong) => {
            return Err(RuntimeError::LineTooLong {
                url: failure.target.to_owned(),
            });
        }
        Err(Stop::Transport(err)) if err.is_timeout() => return Err(failure.timed_out()),
        Err(Stop::Transport(_) | Stop::Stalled(_)) => return Err(failure.dropped()),
    }
    if !collector.completed {
        return Err(failure.dropped());
    }
    Ok(collector)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn speed_comes_from_the_first_and_last_token_and_the_usage() {
        let started = Instant::now();
        let first = started + Duration::from_millis(500);
        let last = first + Duration::from_secs(2);
        let measured = Measured::from_times(started, Some(first), Some(last), Some((1000, 41)));
        assert_eq!(measured.ttft_ms, Some(500));
        assert_eq!(measured.decode_tps, Some(20.0));
        assert_eq!(measured.prefill_tps, Some(2000.0));

        // Everything in one chunk, a single token, or no usage: nothing to divide by.
        let once = Measured::from_times(started, Some(first), Some(first), Some((1000, 41)));
        assert_eq!(once.decode_tps, None);
        let single = Measured::from_times(started, Some(first), Some(last), Some((1000, 1)));
        assert_eq!(single.decode_tps, None);
        let none = Measured::from_times(started, None, None, None);
        assert_eq!(
            none,
            Measured {
                ttft_ms: None,
                decode_tps: None,
                prefill_tps: None,
                input_tokens: None,
                output_tokens: None
            }
        );
    }
}
