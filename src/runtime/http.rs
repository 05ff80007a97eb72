//! HTTP to the runtimes: a client for probes and one for long operations, and errors that say what went wrong in
//! plain words.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use serde::de::DeserializeOwned;
use thiserror::Error;

use super::error::RuntimeError;

/// Why a request to a runtime gave nothing usable.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProbeError {
    #[error("connection refused")]
    Refused,
    #[error("no answer within {0} ms")]
    TimedOut(u128),
    #[error("cannot connect: {0}")]
    Unreachable(String),
    #[error("`{path}` answered HTTP {status}")]
    Status { path: String, status: StatusCode },
    #[error("`{path}` needs an API token (HTTP 401)")]
    Unauthorized { path: String },
    #[error("`{path}` answered with an error: {message}")]
    Reported { path: String, message: String },
    #[error("bad JSON from `{path}`: {detail}")]
    BadJson { path: String, detail: String },
    #[error("not {expected}: {detail}")]
    NotRuntime {
        expected: &'static str,
        detail: String,
    },
}

/// A client for short probes of local servers: no proxy (reqwest would send even loopback traffic through one),
/// a short connect timeout and a total timeout per request.
#[must_use]
pub fn probe_client(timeout: Duration) -> Client {
    Client::builder()
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("codex-local/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// A client for operations that may take long: a short connect timeout and an idle (read) timeout, never a total
/// one, so a 20 GB download is not cut off while bytes still flow.
#[must_use]
pub fn ops_client(idle: Duration) -> Client {
    Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(idle)
        .user_agent(concat!("codex-local/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// An answer: its status and body.
#[derive(Debug)]
pub struct Answer {
    pub path: String,
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON of type `T`, whatever the status.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProbeError> {
        serde_json::from_slice(&self.body).map_err(|err| ProbeError::BadJson {
            path: self.path.clone(),
            detail: err.to_string(),
        })
    }

    /// The `error` text of a JSON body such as `{"error":"…"}` or `{"error":{"message":"…"}}`, if it has one.
    #[must_use]
    pub fn error_message(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        let error = value.get("error")?;
        Some(match error {
            serde_json::Value::String(text) => text.clone(),
            other => other
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map_or_else(|| other.to_string(), str::to_owned),
        })
    }
}

/// `GET base/path`, with a bearer token when one is given.
pub async fn get(
    client: &Client,
    base: &Url,
    path: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<Answer, ProbeError> {
    let url = base.join(path).map_err(|err| {
        ProbeError::Unreachable(format!("cannot join `{path}` to `{base}`: {err}"))
    })?;
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|err| describe(&err, timeout))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|err| describe(&err, timeout))?;
    Ok(Answer {
        path: format!("/{path}"),
        status,
        body: body.to_vec(),
    })
}

/// Plain words for a failed request: refused, timed out, or what the transport said.
#[must_use]
pub fn describe(err: &reqwest::Error, timeout: Duration) -> ProbeError {
    if err.is_timeout() {
        return ProbeError::TimedOut(timeout.as_millis());
    }
    let mut source = err.source();
    let mut deepest = err.to_string();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return ProbeError::Refused,
                io::ErrorKind::TimedOut => return ProbeError::TimedOut(timeout.as_millis()),
                _ => {}
            }
        }
        deepest = cause.to_string();
        source = cause.source();
    }
    ProbeError::Unreachable(deepest)
}

/// `base` joined with `path`, as text.
#[must_use]
pub fn endpoint(base: &Url, path: &str) -> String {
    base.join(path)
        .map_or_else(|_| format!("{base}{path}"), |u| u.to_string())
}

/// `POST base/path` with a JSON body, and a bearer token when one is given.
pub async fn post_json(
    client: &Client,
    base: &Url,
    path: &str,
    body: &serde_json::Value,
    token: Option<&str>,
) -> Result<reqwest::Response, RuntimeError> {
    let target = endpoint(base, path);
    send(client.post(&target).json(body), target, token).await
}

/// `GET base/path` for an operation (not a probe), with a bearer token when one is given.
pub async fn get_for(
    client: &Client,
    base: &Url,
    path: &str,
    token: Option<&str>,
) -> Result<reqwest::Response, RuntimeError> {
    let target = endpoint(base, path);
    send(client.get(&target), target, token).await
}

async fn send(
    request: reqwest::RequestBuilder,
    target: String,
    token: Option<&str>,
) -> Result<reqwest::Response, RuntimeError> {
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request
        .send()
        .await
        .map_err(|err| RuntimeError::Unreachable {
            url: target,
            source: describe(&err, Duration::from_secs(3)),
        })
}

/// Reads a whole answer as JSON of type `T`. LM Studio says "no" with HTTP 200 and an `error` key, so any answer
/// with one, or with a non-2xx status, becomes [`RuntimeError::Status`].
pub async fn read_json<T: DeserializeOwned>(
    response: reqwest::Response,
    path: &str,
) -> Result<T, RuntimeError> {
    let status = response.status();
    let target = response.url().to_string();
    let body = response.bytes().await.map_err(|_| RuntimeError::Dropped {
        url: target,
        what: format!("the answer to `/{path}`"),
    })?;
    let answer = Answer {
        path: format!("/{path}"),
        status,
        body: body.to_vec(),
    };
    if let Some(message) = answer.error_message() {
        return Err(RuntimeError::Status {
            path: answer.path,
            status: status.as_u16(),
            message: crate::text::sanitize(&message),
        });
    }
    if !status.is_success() {
        return Err(status_error(&answer));
    }
    serde_json::from_slice(&answer.body).map_err(|err| RuntimeError::BadData {
        path: answer.path,
        detail: err.to_string(),
    })
}

fn status_error(answer: &Answer) -> RuntimeError {
    let message = answer.error_message().unwrap_or_else(|| {
        String::from_utf8_lossy(&answer.body)
            .trim()
            .chars()
            .take(200)
            .collect()
    });
    RuntimeError::Status {
        path: answer.path.clone(),
        status: answer.status.as_u16(),
        message: crate::text::sanitize(&message),
    }
}

/// Turns a non-2xx answer into an error carrying the body's `error` text.
pub async fn refusal(response: reqwest::Response, path: &str) -> RuntimeError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    status_error(&Answer {
        path: format!("/{path}"),
        status,
        body: body.to_vec(),
    })
}
