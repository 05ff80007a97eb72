//! HTTP to the runtimes: a client for probes (a total deadline) and one for long operations (an idle deadline),
//! bodies read within a size limit whatever a server sends, and errors in plain words that name the limit that
//! applied.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use thiserror::Error;

use super::error::RuntimeError;

/// The most a whole JSON answer to an operation may hold.
pub const MAX_BODY: usize = 16 << 20;
/// The most an answer to a probe may hold (a list of a few hundred models is well under 1 MiB).
pub const MAX_PROBE_BODY: usize = 4 << 20;
/// How long connecting may take for a long operation.
const CONNECT: Duration = Duration::from_secs(3);
/// The whole time a question about a runtime's state may take (see [`Http::quick`]).
pub const QUICK: Duration = Duration::from_secs(10);

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
    #[error("`{path}` sent more than {} MiB", limit >> 20)]
    TooLarge { path: String, limit: usize },
    #[error("not {expected}: {detail}")]
    NotRuntime {
        expected: &'static str,
        detail: String,
    },
}

/// How a request proves who sends it, when the runtime asks.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer <token>` (LM Studio's API tokens).
    Bearer(String),
    /// A user and password from the runtime's address (a proxy in front of it).
    Basic {
        user: String,
        password: Option<String>,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Bearer(_) => "bearer ***",
            Self::Basic { .. } => "basic ***",
        })
    }
}

impl Auth {
    fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Self::None => request,
            Self::Bearer(token) => request.bearer_auth(token),
            Self::Basic { user, password } => request.basic_auth(user, password.as_deref()),
        }
    }
}

/// A client and the limits it was built with, so that a timeout can name the one that applied.
#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    connect: Duration,
    /// The total deadline of a probe, or the idle deadline of a long operation.
    limit: Duration,
    /// The most a whole answer read by [`Http::get`] may hold.
    max_body: usize,
}

fn builder() -> reqwest::ClientBuilder {
    // reqwest would send even loopback traffic through a system proxy.
    // Nor does a runtime on this machine send anyone elsewhere: redirects are not followed.
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("codex-local/", env!("CARGO_PKG_VERSION")))
}

fn built(builder: reqwest::ClientBuilder) -> Result<Client, RuntimeError> {
    builder
        .build()
        .map_err(|err| RuntimeError::Client(err.to_string()))
}

impl Http {
    /// A client for short probes of local servers: `timeout` to connect and for the whole request.
    pub fn probe(timeout: Duration) -> Result<Self, RuntimeError> {
        Ok(Self {
            client: built(builder().connect_timeout(timeout).timeout(timeout))?,
            connect: timeout,
            limit: timeout,
            max_body: MAX_PROBE_BODY,
        })
    }

    /// A client for a question about the runtime's state (a model's details, its loaded models): the answer must
    /// come whole within [`QUICK`], however slowly a server sends it.
    pub fn quick() -> Result<Self, RuntimeError> {
        Ok(Self {
            client: built(builder().connect_timeout(CONNECT).timeout(QUICK))?,
            connect: CONNECT.min(QUICK),
            limit: QUICK,
            max_body: MAX_BODY,
        })
    }

    /// A client for operations that may take long: a short connect deadline and an idle (read) deadline, never a
    /// total one, so a 20 GB download is not cut off while bytes still flow.
    pub fn ops(idle: Duration) -> Result<Self, RuntimeError> {
        Ok(Self {
            client: built(builder().connect_timeout(CONNECT).read_timeout(idle))?,
            connect: CONNECT.min(idle),
            limit: idle,
            max_body: MAX_BODY,
        })
    }

    /// The deadline that applied to a failed request.
    fn limit_for(&self, err: &reqwest::Error) -> Duration {
        if err.is_connect() {
            self.connect
        } else {
            self.limit
        }
    }

    /// Plain words for a failed request: refused, timed out (after the limit that applied), or what the transport
    /// said.
    #[must_use]
    pub fn describe(&self, err: &reqwest::Error) -> ProbeError {
        describe(err, self.limit_for(err))
    }

    /// `GET base/path`, its body read whole within the client's limit.
    pub async fn get(&self, base: &Url, path: &str, auth: &Auth) -> Result<Answer, ProbeError> {
        let url = base.join(path).map_err(|err| {
            ProbeError::Unreachable(format!("cannot join `{path}` to `{base}`: {err}"))
        })?;
        let response = auth
            .apply(self.client.get(url))
            .send()
            .await
            .map_err(|err| self.describe(&err))?;
        let status = response.status();
        let body = read_capped(response, self.max_body)
            .await
            .map_err(|err| match err {
                Capped::TooLarge => ProbeError::TooLarge {
                    path: format!("/{path}"),
                    limit: self.max_body,
                },
                Capped::Failed(err) => self.describe(&err),
            })?;
        Ok(Answer {
            path: format!("/{path}"),
            status,
            body,
        })
    }

    /// `POST base/path` with a JSON body; the answer is left to read.
    pub async fn post_json(
        &self,
        base: &Url,
        path: &str,
        body: &serde_json::Value,
        auth: &Auth,
    ) -> Result<Response, RuntimeError> {
        let target = endpoint(base, path);
        self.send(self.client.post(&target).json(body), target, auth)
            .await
    }

    /// `GET base/path` for an operation (not a probe); the answer is left to read.
    pub async fn get_for(
        &self,
        base: &Url,
        path: &str,
        auth: &Auth,
    ) -> Result<Response, RuntimeError> {
        let target = endpoint(base, path);
        self.send(self.client.get(&target), target, auth).await
    }

    /// A request built on this client, for callers that need more than GET and POST.
    pub fn post(&self, url: &str, auth: &Auth) -> RequestBuilder {
        auth.apply(self.client.post(url))
    }

    /// A `HEAD` request with the client's limits and `auth`.
    pub fn head(&self, url: &str, auth: &Auth) -> RequestBuilder {
        auth.apply(self.client.head(url))
    }

    async fn send(
        &self,
        request: RequestBuilder,
        target: String,
        auth: &Auth,
    ) -> Result<Response, RuntimeError> {
        auth.apply(request)
            .send()
            .await
            .map_err(|err| RuntimeError::Unreachable {
                url: target,
                source: self.describe(&err),
            })
    }
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

/// Why a bounded read stopped.
pub enum Capped {
    /// The server sent more than the limit.
    TooLarge,
    /// The transport failed.
    Failed(reqwest::Error),
}

/// Reads a whole body, but never more than `limit` bytes of it.
pub async fn read_capped(mut response: Response, limit: usize) -> Result<Vec<u8>, Capped> {
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Capped::Failed)? {
        let needed = body.len() + chunk.len();
        if needed > limit {
            return Err(Capped::TooLarge);
        }
        if needed > body.capacity() {
            // Grow by doubling, but never past the limit.
            let target = (body.capacity() * 2).max(needed).min(limit);
            body.reserve_exact(target - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

/// Reads a whole answer (within [`MAX_BODY`]) as JSON of type `T`. LM Studio says "no" with HTTP 200 and an
/// `error` key, so any answer with one, or with a non-2xx status, becomes [`RuntimeError::Status`].
pub async fn read_json<T: DeserializeOwned>(
    response: Response,
    path: &str,
) -> Result<T, RuntimeError> {
    let answer = read_answer(response, path).await?;
    if let Some(message) = answer.error_message() {
        return Err(RuntimeError::Status {
            path: answer.path,
            status: answer.status.as_u16(),
            message: crate::text::sanitize(&message),
        });
    }
    if !answer.status.is_success() {
        return Err(status_error(&answer));
    }
    serde_json::from_slice(&answer.body).map_err(|err| RuntimeError::BadData {
        path: answer.path,
        detail: err.to_string(),
    })
}

/// Reads a whole answer within [`MAX_BODY`].
pub async fn read_answer(response: Response, path: &str) -> Result<Answer, RuntimeError> {
    let status = response.status();
    let target = response.url().to_string();
    let body = read_capped(response, MAX_BODY)
        .await
        .map_err(|err| match err {
            Capped::TooLarge => RuntimeError::TooLarge {
                url: target,
                limit: MAX_BODY,
            },
            Capped::Failed(err) if err.is_timeout() => RuntimeError::Slow {
                url: target,
                what: format!("the answer to `/{path}`"),
            },
            Capped::Failed(_) => RuntimeError::Dropped {
                url: target,
                what: format!("the answer to `/{path}`"),
            },
        })?;
    Ok(Answer {
        path: format!("/{path}"),
        status,
        body,
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

/// Turns a non-2xx answer into an error carrying the body's `error` text (the body read within [`MAX_BODY`]).
pub async fn refusal(response: Response, path: &str) -> RuntimeError {
    match read_answer(response, path).await {
        Ok(answer) => status_error(&answer),
        Err(err) => err,
    }
}
