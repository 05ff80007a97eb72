//! Fake Ollama and LM Studio servers for tests and benchmarks: real HTTP/1.1 on 127.0.0.1, random ports.
//!
//! Each server is bound before its thread starts, so a test can use the port at once without waiting. Every
//! request is recorded. Replies follow the runtimes' wire formats, odd corners included: LM Studio answers
//! unknown routes with HTTP 200 and an `error` key, Ollama with a plain-text 404.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fakes"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the fake answers.
pub enum Reply {
    /// A whole body with a status and content type.
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Read the request and never answer.
    Hang,
    /// A chunked body that never ends on its own: `first`, then `chunk` again and again (every `every`, or as fast
    /// as the client reads) until the client leaves, `limit_bytes` were sent or `limit_time` passed.
    Endless {
        status: u16,
        content_type: &'static str,
        first: Vec<u8>,
        chunk: Vec<u8>,
        every: Option<std::time::Duration>,
        limit_bytes: u64,
        limit_time: std::time::Duration,
    },
    /// A redirect to another place (`Location`).
    Redirect(String),
    /// These bytes as they are (status line, headers and body, or less: a connection cut short), then close.
    Raw(Vec<u8>),
    /// A chunked body sent piece by piece, `every` apart, as a model writes tokens; then the end.
    Paced {
        status: u16,
        content_type: &'static str,
        chunks: Vec<Vec<u8>>,
        every: std::time::Duration,
    },
    /// A chunked body sent piece by piece, then `end`.
    Stream {
        status: u16,
        content_type: &'static str,
        chunks: Vec<Vec<u8>>,
        end: StreamEnd,
    },
}

/// How a streamed reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The terminating chunk: a complete answer.
    Finish,
    /// The connection closes mid-body.
    Drop,
    /// The connection stays open and silent until the client leaves.
    Hang,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            content_type: "application/json; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }

    pub fn html(status: u16, body: impl Into<String>) -> Self {
        Self::Full {
            status,
            content_type: "text/html",
            body: body.into().into_bytes(),
        }
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running fake server.
pub struct FakeServer {
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    /// Starts a server that answers every request with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_at(0, handler)
    }

    /// Starts a server on `port` (0: any free port), as a runtime that was started late does.
    pub fn start_at(
        port: u16,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let server_log = Arc::clone(&log);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&server_log);
                thread::spawn(move || serve(stream, &*handler, &log));
            }
        });
        Self { port, log }
    }

    /// `127.0.0.1:<port>`, the form `OLLAMA_HOST` takes.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("the log lock").clone()
    }

    /// The paths of the requests received so far, as `METHOD /path`.
    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one HTTP exchange, read and answered in order"
)]
fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    log.lock().expect("the log lock").push(request.clone());
    match handler(&request) {
        Reply::Hang => {
            // Hold the connection open until the client gives up and closes it.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        }
        Reply::Endless {
            status,
            content_type,
            first,
            chunk,
            every,
            limit_bytes,
            limit_time,
        } => endless(
            stream,
            status,
            content_type,
            &first,
            &chunk,
            every,
            (limit_bytes, limit_time),
        ),
        Reply::Paced {
            status,
            content_type,
            chunks,
            every,
        } => paced(stream, status, content_type, &chunks, every),
        Reply::Raw(bytes) => {
            let mut stream = stream;
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
        }
        Reply::Redirect(location) => {
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.flush();
        }
        Reply::Stream {
            status,
            content_type,
            chunks,
            end,
        } => {
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                reason(status)
            );
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for chunk in chunks {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                if stream
                    .write_all(&framed)
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
            }
            match end {
                StreamEnd::Finish => {
                    let _ = stream.write_all(b"0\r\n\r\n");
                    let _ = stream.flush();
                }
                StreamEnd::Drop => {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                StreamEnd::Hang => {
                    let mut sink = Vec::new();
                    let _ = reader.read_to_end(&mut sink);
                }
            }
        }
        Reply::Full {
            status,
            content_type,
            body,
        } => {
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reason(status),
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        }
    }
}

/// Sends `chunks` `every` apart, then ends the body (see [`Reply::Paced`]).
fn paced(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    chunks: &[Vec<u8>],
    every: std::time::Duration,
) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        reason(status)
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for (index, chunk) in chunks.iter().enumerate() {
        if index > 0 {
            // The fake paces its own output, as a model writing tokens does; no test waits on this.
            thread::sleep(every);
        }
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        if stream
            .write_all(&framed)
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let _ = stream.flush();
}

/// Sends a chunked body that does not end by itself (see [`Reply::Endless`]); the fake's own limits stop it.
fn endless(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    first: &[u8],
    chunk: &[u8],
    every: Option<std::time::Duration>,
    (limit_bytes, limit_time): (u64, std::time::Duration),
) {
    let started = std::time::Instant::now();
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        reason(status)
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let frame = |bytes: &[u8]| {
        let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
        framed.extend_from_slice(bytes);
        framed.extend_from_slice(b"\r\n");
        framed
    };
    if !first.is_empty() && stream.write_all(&frame(first)).is_err() {
        return;
    }
    let framed = frame(chunk);
    let mut sent = 0_u64;
    while sent < limit_bytes && started.elapsed() < limit_time {
        if stream
            .write_all(&framed)
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
        sent += framed.len() as u64;
        if let Some(every) = every {
            // The fake paces its own output, as a slow server would; no test waits on this.
            thread::sleep(every);
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// A port with nothing listening: bound, noted, released.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// A port that accepts connections (the kernel completes the handshake) and never answers.
pub struct SilentPort {
    pub port: u16,
    _listener: TcpListener,
}

impl SilentPort {
    pub fn open() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        Self {
            port,
            _listener: listener,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A model a fake runtime has installed.
#[derive(Debug, Clone)]
pub struct FakeModel {
    pub name: &'static str,
    pub size: u64,
}

/// The `/api/tags` body of a real Ollama 0.32 for these models.
pub fn ollama_tags(models: &[FakeModel]) -> String {
    let entries: Vec<String> = models
        .iter()
        .map(|model| {
            format!(
                r#"{{"name":"{name}","model":"{name}","modified_at":"2026-10-02T09:14:03.512Z","size":{size},"digest":"06c1097efce0431c2045fe7b2e5108366e43bee1b4603a7aded8f21689e90bca","details":{{"parent_model":"","format":"gguf","family":"qwen3moe","families":["qwen3moe"],"parameter_size":"30.5B","quantization_level":"Q4_K_M","context_length":262144}},"capabilities":["completion","tools"]}}"#,
                name = model.name,
                size = model.size
            )
        })
        .collect();
    format!(r#"{{"models":[{}]}}"#, entries.join(","))
}

/// A fake Ollama that answers as Ollama does: `/`, `/api/version`, `/api/tags`, and a plain-text 404 elsewhere.
pub fn ollama(version: &'static str, models: Vec<FakeModel>) -> FakeServer {
    FakeServer::start(
        move |request| match (request.method.as_str(), request.path.as_str()) {
            ("GET" | "HEAD", "/") => Reply::text(200, "Ollama is running"),
            ("GET", "/api/version") => Reply::json(200, format!(r#"{{"version":"{version}"}}"#)),
            ("GET", "/api/tags") => Reply::json(200, ollama_tags(&models)),
            _ => Reply::text(404, "404 page not found"),
        },
    )
}

/// How a fake LM Studio behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LmStudioApi {
    /// 0.4 and later: `/api/v1/models`.
    V1,
    /// 0.3.x: only `/api/v0/models`; `/api/v1/*` is an unknown route.
    V0Only,
}

/// A fake LM Studio. With `token`, its API answers 401 `invalid_api_key` unless that bearer token is sent.
pub fn lmstudio(
    api: LmStudioApi,
    models: Vec<FakeModel>,
    token: Option<&'static str>,
) -> FakeServer {
    FakeServer::start(move |request| {
        let unexpected = || {
            Reply::json(
                200,
                format!(
                    r#"{{"error":"Unexpected endpoint or method. ({} {})"}}"#,
                    request.method, request.path
                ),
            )
        };
        if let Some(token) = token
            && request.path.starts_with("/api/")
            && request.header("authorization") != Some(&format!("Bearer {token}"))
        {
            return Reply::json(
                401,
                r#"{"error":{"message":"Invalid API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            );
        }
        match (request.method.as_str(), request.path.as_str(), api) {
            ("GET", "/lmstudio-greeting", _) => Reply::json(200, r#"{"lmstudio":true}"#),
            ("GET", "/api/v1/models", LmStudioApi::V1) => {
                let entries: Vec<String> = models
                    .iter()
                    .map(|model| {
                        format!(
                            r#"{{"type":"llm","publisher":"qwen","key":"{key}","display_name":"Qwen3 Coder 30B","architecture":"qwen3moe","quantization":{{"name":"Q4_K_M","bits_per_weight":4}},"size_bytes":{size},"params_string":"30B","loaded_instances":[],"max_context_length":262144,"format":"gguf","capabilities":{{"vision":false,"trained_for_tool_use":true}},"description":null}}"#,
                            key = model.name,
                            size = model.size
                        )
                    })
                    .collect();
                Reply::json(200, format!(r#"{{"models":[{}]}}"#, entries.join(",")))
            }
            ("GET", "/api/v0/models", _) => {
                let entries: Vec<String> = models
                    .iter()
                    .map(|model| {
                        format!(
                            r#"{{"id":"{id}","object":"model","type":"llm","publisher":"qwen","arch":"qwen3moe","compatibility_type":"gguf","quantization":"Q4_K_M","state":"not-loaded","max_context_length":262144}}"#,
                            id = model.name
                        )
                    })
                    .collect();
                Reply::json(
                    200,
                    format!(r#"{{"object":"list","data":[{}]}}"#, entries.join(",")),
                )
            }
            _ => unexpected(),
        }
    })
}
