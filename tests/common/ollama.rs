//! A fake Ollama with state: what is installed, what was created and loaded, and how pulls and requests behave.
//!
//! It answers as Ollama 0.32 does: `/api/version`, `/api/tags`, `/api/show` (404 `{"error":"model 'x' not found"}`
//! when absent), `/api/pull` and `/api/create` streaming NDJSON with errors as `{"error"}` lines under HTTP 200,
//! `/api/generate` to load, `/api/ps` with the context really allocated, and `/v1/responses` as a server-sent
//! event stream. Every request is recorded.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fake"
)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::fake::{FakeServer, Reply, Request, StreamEnd};

/// How `/api/pull` behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// Streams a real-looking pull of `lines` progress lines over three layers, then `success`.
    Succeed { progress_lines: usize },
    /// Streams some progress, then `{"error": message}` with HTTP 200.
    ErrorLine(String),
    /// Answers with an HTTP error before streaming.
    HttpError(u16, String),
    /// Streams some progress, then the connection drops.
    Drop,
    /// Streams some progress, then goes silent.
    Hang,
    /// Repeats the same progress line (every 50 ms) and never gets further.
    Repeat,
    /// Sends blank lines (every 50 ms) and nothing else.
    Blank,
    /// Starts a line and never ends it.
    EndlessLine,
    /// Goes back and forth between two phases without a byte of progress.
    Alternate,
    /// Sends an error whose text tries to forge a line of codex-local's own.
    ForgedError,
}

/// How `/v1/responses` behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Responses {
    /// A function call to the tool offered.
    ToolCall,
    /// A text answer only.
    TextOnly,
    /// 400: the model does not support tools.
    NoTools,
    /// 404: a server older than 0.13.4.
    Missing,
    /// Never answers.
    Hang,
    /// Streams text deltas without end.
    Endless,
    /// Streams some of an answer, then drops the connection.
    Drop,
}

/// An installed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    pub size: u64,
    pub num_ctx: Option<u64>,
    /// Its manifest's digest, as `/api/tags` gives it: the same for the same content, whatever the name.
    pub digest: String,
}

impl Installed {
    /// A model of `size` bytes made from `source` (a blob's digest, or a base model's manifest).
    pub fn new(name: &str, size: u64, num_ctx: Option<u64>, source: &str) -> Self {
        let mut value = 0xcbf2_9ce4_8422_2325_u64;
        for byte in format!("{size}/{num_ctx:?}/{source}").bytes() {
            value = (value ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Self {
            name: full_name(name),
            size,
            num_ctx,
            digest: format!("{value:016x}{value:016x}{value:016x}{value:016x}"),
        }
    }
}

/// The fake's state.
#[derive(Debug)]
pub struct State {
    pub version: String,
    pub installed: Vec<Installed>,
    pub loaded: Vec<String>,
    pub pull: Pull,
    pub responses: Responses,
    /// Ollama's default context for a model without `num_ctx` (4096 under 24 GiB of VRAM).
    pub default_ctx: u64,
    /// The share of a loaded model that sits in VRAM, in percent.
    pub vram_percent: u64,
    /// The trained context `/api/show` reports for every model.
    pub trained_ctx: u64,
    /// Caps the context `/api/ps` reports (as `OLLAMA_CONTEXT_LENGTH` or memory would).
    pub ctx_cap: Option<u64>,
    /// Loading a model never finishes.
    pub load_hangs: bool,
    /// `/api/create` makes the model, then never answers (as when the client is killed while Ollama finishes).
    pub create_hangs: bool,
    /// `/api/create` from files fails, making nothing (as Ollama does for a file it cannot read).
    pub create_fails: bool,
    /// Answer `/v1/responses` token by token, this far apart (else all at once).
    pub token_pace: Option<std::time::Duration>,
    /// Blobs pushed to `/api/blobs`, by digest, with their size.
    pub blobs: Vec<(String, usize)>,
}

/// A fake Ollama and its state.
pub struct FakeOllama {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
}

/// Sizes the fake reports for a model's layers.
const LAYERS: [(&str, u64); 3] = [
    (
        "sha256:e7b273f9636059c6b6e8f6d1e8b6e5d1a1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6",
        13_793_000_000,
    ),
    (
        "sha256:fa6710a93d78da62641e192361344be7a8c0a1c3737f139cf89f20ce1626b99c",
        7_240,
    ),
    (
        "sha256:51468a0fd901e25ab3cdbf59caf0a6b7b5d0fa3a1c0dcfb9ef57c3e8a8c38d83",
        4_004,
    ),
];

fn ndjson(events: &[Value]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|e| format!("{e}\n").into_bytes())
        .collect()
}

/// The lines of a pull: manifest, `progress_lines` byte counts spread over three layers, verify, write, success.
pub fn pull_lines(progress_lines: usize) -> Vec<Vec<u8>> {
    let mut lines = vec![json!({"status": "pulling manifest"})];
    let per_layer = progress_lines.div_ceil(LAYERS.len()).max(1);
    for (digest, total) in LAYERS {
        let short = &digest[7..19];
        lines.push(json!({"status": format!("pulling {short}"), "digest": digest, "total": total}));
        for step in 1..=per_layer as u64 {
            lines.push(json!({"status": format!("pulling {short}"), "digest": digest, "total": total, "completed": total * step / per_layer as u64}));
        }
    }
    lines.push(json!({"status": "verifying sha256 digest"}));
    lines.push(json!({"status": "writing manifest"}));
    lines.push(json!({"status": "success"}));
    // Ollama flushes a line at a time; group them so a benchmark of many lines stays quick to serve.
    let mut chunks = Vec::new();
    for group in ndjson(&lines).chunks(64) {
        chunks.push(group.concat());
    }
    chunks
}

fn sse(events: &[Value]) -> Vec<Vec<u8>> {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")).into_bytes())
        .collect()
}

fn full_name(name: &str) -> String {
    if name.rsplit('/').next().unwrap_or(name).contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

fn not_found(model: &str) -> Reply {
    Reply::json(
        404,
        json!({"error": format!("model '{model}' not found")}).to_string(),
    )
}

impl FakeOllama {
    /// Starts a fake Ollama `version` with nothing installed, pulls that succeed and models that call tools.
    pub fn start(version: &str) -> Self {
        Self::start_at(version, 0)
    }

    /// Starts a fake Ollama on `port` (0: any free port).
    pub fn start_at(version: &str, port: u16) -> Self {
        let state = Arc::new(Mutex::new(State {
            version: version.to_owned(),
            installed: Vec::new(),
            loaded: Vec::new(),
            pull: Pull::Succeed { progress_lines: 30 },
            responses: Responses::ToolCall,
            default_ctx: 4096,
            vram_percent: 100,
            ctx_cap: None,
            load_hangs: false,
            create_hangs: false,
            create_fails: false,
            trained_ctx: 131_072,
            token_pace: None,
            blobs: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let server = FakeServer::start_at(port, move |request| handle(&shared, request));
        Self { server, state }
    }

    /// Changes the state.
    pub fn with(&self, change: impl FnOnce(&mut State)) -> &Self {
        change(&mut self.state.lock().expect("state lock"));
        self
    }

    /// Marks a model as installed.
    pub fn install(&self, name: &str, size: u64, num_ctx: Option<u64>) -> &Self {
        self.with(|state| {
            state
                .installed
                .push(Installed::new(name, size, num_ctx, "installed"));
        })
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.server.host()
    }

    /// Recorded requests, as `METHOD /path`.
    pub fn paths(&self) -> Vec<String> {
        self.server.paths()
    }

    /// Recorded requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Whether a model (`:latest` made explicit) is installed.
    pub fn has(&self, name: &str) -> Option<Installed> {
        let full = full_name(name);
        self.state
            .lock()
            .expect("state lock")
            .installed
            .iter()
            .find(|m| m.name == full)
            .cloned()
    }
}

fn handle(state: &Mutex<State>, request: &Request) -> Reply {
    let mut state = state.lock().expect("state lock");
    let path = request.path.split('?').next().unwrap_or("");
    match (request.method.as_str(), path) {
        ("GET" | "HEAD", "/") => Reply::text(200, "Ollama is running"),
        ("GET", "/api/version") => Reply::json(200, json!({"version": state.version}).to_string()),
        ("GET", "/api/tags") => tags(&mut state, request),
        ("POST", "/api/show") => show(&mut state, request),
        ("POST", "/api/pull") => pull(&mut state, request),
        ("POST", "/api/create") => {
            let reply = create(&mut state, request);
            if state.create_hangs {
                Reply::Hang
            } else {
                reply
            }
        }
        ("HEAD", blob) if blob.starts_with("/api/blobs/") => {
            let digest = &blob["/api/blobs/".len()..];
            let status = if state.blobs.iter().any(|(d, _)| d == digest) {
                200
            } else {
                404
            };
            Reply::text(status, "")
        }
        ("POST", blob) if blob.starts_with("/api/blobs/") => push_blob(&mut state, blob, request),
        ("POST", "/api/generate") => generate(&mut state, request),
        ("GET", "/api/ps") => ps(&mut state, request),
        ("POST", "/v1/responses") => responses(&mut state, request),
        _ => Reply::text(404, "404 page not found"),
    }
}

fn tags(state: &mut State, _request: &Request) -> Reply {
    let models: Vec<Value> = state
        .installed
        .iter()
        .map(|m| {
            json!({"name": m.name, "model": m.name, "modified_at": "2026-11-01T10:00:00Z", "size": m.size,
                   "digest": m.digest, "details": {"format": "gguf", "family": "gptoss",
                   "parameter_size": "20.9B", "quantization_level": "MXFP4"}})
        })
        .collect();
    Reply::json(200, json!({"models": models}).to_string())
}

fn show(state: &mut State, request: &Request) -> Reply {
    let name = body(request)["model"].as_str().unwrap_or("").to_owned();
    let Some(model) = state
        .installed
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(&full_name(&name)))
    else {
        return not_found(&name);
    };
    let parameters = model.num_ctx.map_or_else(String::new, |n| {
        format!("num_ctx                        {n}")
    });
    let capabilities = if state.responses == Responses::NoTools {
        json!(["completion"])
    } else {
        json!(["completion", "tools", "thinking"])
    };
    Reply::json(
        200,
        json!({"parameters": parameters, "capabilities": capabilities,
               "details": {"family": "gptoss", "parameter_size": "20.9B"},
               "model_info": {"general.architecture": "gptoss", "gptoss.context_length": state.trained_ctx, "gptoss.block_count": 24}})
        .to_string(),
    )
}

#[expect(clippy::too_many_lines, reason = "one arm per way a pull behaves")]
fn pull(state: &mut State, request: &Request) -> Reply {
    let name = body(request)["model"].as_str().unwrap_or("").to_owned();
    let progress = || {
        let (digest, total) = LAYERS[0];
        ndjson(&[
            json!({"status": "pulling manifest"}),
            json!({"status": format!("pulling {}", &digest[7..19]), "digest": digest, "total": total, "completed": total / 3}),
        ])
    };
    match state.pull.clone() {
        Pull::Succeed { progress_lines } => {
            state
                .installed
                .push(Installed::new(&name, 13_793_441_244, None, "pulled"));
            Reply::Stream {
                status: 200,
                content_type: "application/x-ndjson",
                chunks: pull_lines(progress_lines),
                end: StreamEnd::Finish,
            }
        }
        Pull::ErrorLine(message) => {
            let mut chunks = progress();
            chunks.extend(ndjson(&[json!({"error": message})]));
            Reply::Stream {
                status: 200,
                content_type: "application/x-ndjson",
                chunks,
                end: StreamEnd::Finish,
            }
        }
        Pull::HttpError(status, message) => {
            Reply::json(status, json!({"error": message}).to_string())
        }
        Pull::Drop => Reply::Stream {
            status: 200,
            content_type: "application/x-ndjson",
            chunks: progress(),
            end: StreamEnd::Drop,
        },
        Pull::Hang => Reply::Stream {
            status: 200,
            content_type: "application/x-ndjson",
            chunks: progress(),
            end: StreamEnd::Hang,
        },
        Pull::Repeat => paced(progress().concat(), progress().pop().unwrap_or_default()),
        Pull::Blank => paced(progress().concat(), b"\n".to_vec()),
        Pull::EndlessLine => endless(b"{\"status\":\"".to_vec(), vec![b'x'; 64 << 10]),
        Pull::Alternate => paced(
            progress().concat(),
            ndjson(&[
                json!({"status": "verifying sha256 digest"}),
                json!({"status": "writing manifest"}),
            ])
            .concat(),
        ),
        Pull::ForgedError => Reply::Stream {
            status: 200,
            content_type: "application/x-ndjson",
            chunks: ndjson(&[json!({"error": "disk full\r\n\u{1b}[32m✓ configure  all good"})]),
            end: StreamEnd::Finish,
        },
    }
}

/// A stream that repeats `chunk` every 50 ms after `first`, for up to 30 s: progress that never moves on.
fn paced(first: Vec<u8>, chunk: Vec<u8>) -> Reply {
    Reply::Endless {
        status: 200,
        content_type: "application/x-ndjson",
        first,
        chunk,
        every: Some(std::time::Duration::from_millis(50)),
        limit_bytes: u64::MAX,
        limit_time: std::time::Duration::from_secs(30),
    }
}

/// A stream that sends `chunk` as fast as it is read after `first`, up to 8 GiB or 60 s.
pub fn endless(first: Vec<u8>, chunk: Vec<u8>) -> Reply {
    Reply::Endless {
        status: 200,
        content_type: "application/x-ndjson",
        first,
        chunk,
        every: None,
        limit_bytes: 8 << 30,
        limit_time: std::time::Duration::from_mins(1),
    }
}

/// `POST /api/blobs/sha256:<hex>`: 201 when the body's SHA-256 is the digest, 400 otherwise (as Ollama answers).
fn push_blob(state: &mut State, path: &str, request: &Request) -> Reply {
    use sha2::{Digest as _, Sha256};
    let digest = &path["/api/blobs/".len()..];
    let hex = Sha256::digest(&request.body)
        .iter()
        .fold(String::new(), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    if digest != format!("sha256:{hex}") {
        return Reply::json(400, json!({"error": "digest mismatch"}).to_string());
    }
    state.blobs.push((digest.to_owned(), request.body.len()));
    Reply::text(201, "")
}

/// The name as Ollama stores it: an existing model's, when the two differ only in case (its `getExistingName`).
fn canonical(state: &State, name: &str) -> String {
    let full = full_name(name);
    state
        .installed
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(&full))
        .map_or(full, |m| m.name.clone())
}

fn create(state: &mut State, request: &Request) -> Reply {
    let request = body(request);
    let name = canonical(state, request["model"].as_str().unwrap_or(""));
    // From an uploaded file: the blob must be there.
    if let Some(files) = request["files"].as_object() {
        return create_from_files(state, &name, files, &request);
    }
    let from = request["from"].as_str().unwrap_or("").to_owned();
    let Some(base) = state
        .installed
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(&full_name(&from)))
        .cloned()
    else {
        return Reply::Stream {
            status: 200,
            content_type: "application/x-ndjson",
            chunks: ndjson(&[json!({"error": format!("model '{from}' not found")})]),
            end: StreamEnd::Finish,
        };
    };
    let num_ctx = request["parameters"]["num_ctx"].as_u64();
    state.installed.retain(|m| m.name != full_name(&name));
    state
        .installed
        .push(Installed::new(&name, base.size, num_ctx, &base.digest));
    Reply::Stream {
        status: 200,
        content_type: "application/x-ndjson",
        chunks: ndjson(&[
            json!({"status": "using existing layer sha256:e7b273f9636059c6"}),
            json!({"status": "writing manifest"}),
            json!({"status": "success"}),
        ]),
        end: StreamEnd::Finish,
    }
}

fn generate(state: &mut State, request: &Request) -> Reply {
    if state.load_hangs {
        return Reply::Hang;
    }
    let name = body(request)["model"].as_str().unwrap_or("").to_owned();
    if !state
        .installed
        .iter()
        .any(|m| m.name.eq_ignore_ascii_case(&full_name(&name)))
    {
        return not_found(&name);
    }
    if !state.loaded.contains(&full_name(&name)) {
        state.loaded.push(full_name(&name));
    }
    Reply::json(200, json!({"model": name, "created_at": "2026-11-26T10:00:00Z", "response": "", "done": true, "done_reason": "load"}).to_string())
}

fn ps(state: &mut State, _request: &Request) -> Reply {
    let models: Vec<Value> = state
        .loaded
        .iter()
        .filter_map(|name| state.installed.iter().find(|m| &m.name == name))
        .map(|m| {
            let size = m.size + 3_000_000_000;
            let ctx = m.num_ctx.unwrap_or(state.default_ctx).min(state.ctx_cap.unwrap_or(u64::MAX));
            json!({"name": m.name, "model": m.name, "size": size, "size_vram": size * state.vram_percent / 100,
                   "digest": "aa4295ac10c3", "expires_at": "2026-11-26T10:10:00Z", "context_length": ctx})
        })
        .collect();
    Reply::json(200, json!({"models": models}).to_string())
}

fn responses(state: &mut State, request: &Request) -> Reply {
    let name = body(request)["model"].as_str().unwrap_or("").to_owned();
    if !state
        .installed
        .iter()
        .any(|m| m.name.eq_ignore_ascii_case(&full_name(&name)))
    {
        return Reply::json(
            404,
            json!({"error": {"message": format!("model '{name}' not found"), "type": "api_error"}})
                .to_string(),
        );
    }
    let created =
        json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}});
    let completed = json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed",
        "usage": {"input_tokens": 1, "input_tokens_details": null, "output_tokens": 1, "output_tokens_details": null, "total_tokens": 2}}});
    if let (Responses::ToolCall, Some(every)) = (&state.responses, state.token_pace) {
        return paced_tool_call(created, every);
    }
    match state.responses {
        Responses::ToolCall => Reply::Stream {
            status: 200,
            content_type: "text/event-stream",
            chunks: sse(&[created, json!({"type": "response.output_item.done", "output_index": 0,
                "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"pwd\"}"}}), completed]),
            end: StreamEnd::Finish,
        },
        Responses::TextOnly => Reply::Stream {
            status: 200,
            content_type: "text/event-stream",
            chunks: sse(&[created, json!({"type": "response.output_text.delta", "delta": "hi there"}),
                json!({"type": "response.output_item.done", "item": {"type": "message", "role": "assistant", "id": "m1",
                "content": [{"type": "output_text", "text": "hi there"}]}}), completed]),
            end: StreamEnd::Finish,
        },
        Responses::NoTools => Reply::json(400, json!({"error": {"message": format!("registry.ollama.ai/library/{name} does not support tools"), "type": "api_error"}}).to_string()),
        Responses::Missing => Reply::text(404, "404 page not found"),
        Responses::Hang => Reply::Hang,
        Responses::Endless => {
            let delta = sse(&[json!({"type": "response.output_text.delta", "delta": "x".repeat(4096)})]).concat();
            let mut reply = endless(sse(&[created]).concat(), delta);
            if let Reply::Endless { content_type, .. } = &mut reply {
                *content_type = "text/event-stream";
            }
            reply
        }
        Responses::Drop => Reply::Stream {
            status: 200,
            content_type: "text/event-stream",
            chunks: sse(&[created, json!({"type": "response.output_text.delta", "delta": "hi"})]),
            end: StreamEnd::Drop,
        },
    }
}

/// A tool call as Ollama streams it, token by token `every` apart: the item, its arguments piece by piece, the item
/// done, then the usage.
fn paced_tool_call(created: Value, every: std::time::Duration) -> Reply {
    let mut events = vec![
        created,
        json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": ""}}),
    ];
    for piece in ["{\"", "cmd", "\":", " \"", "pwd", "\"}"] {
        events.push(
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1",
            "output_index": 0, "delta": piece}),
        );
    }
    events.push(json!({"type": "response.output_item.done", "output_index": 0,
        "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"pwd\"}"}}));
    events.push(
        json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed",
        "usage": {"input_tokens": 180, "output_tokens": 11, "total_tokens": 191}}}),
    );
    Reply::Paced {
        status: 200,
        content_type: "text/event-stream",
        chunks: sse(&events),
        every,
    }
}

/// `POST /api/create` with `files`: the model from a blob pushed before.
fn create_from_files(
    state: &mut State,
    name: &str,
    files: &serde_json::Map<String, Value>,
    request: &Value,
) -> Reply {
    let Some((_, digest)) = files.iter().next() else {
        return Reply::json(400, json!({"error": "no files"}).to_string());
    };
    if state.create_fails {
        return Reply::json(400, json!({"error": "invalid file magic"}).to_string());
    }
    let Some((_, size)) = state
        .blobs
        .iter()
        .find(|(d, _)| Some(d.as_str()) == digest.as_str())
        .cloned()
    else {
        return Reply::json(
            400,
            json!({"error": format!("blob {digest} not found")}).to_string(),
        );
    };
    state.installed.retain(|m| m.name != full_name(name));
    state.installed.push(Installed::new(
        name,
        size as u64,
        request["parameters"]["num_ctx"].as_u64(),
        digest.as_str().unwrap_or(""),
    ));
    Reply::Stream {
        status: 200,
        content_type: "application/x-ndjson",
        chunks: ndjson(&[
            json!({"status": "parsing GGUF"}),
            json!({"status": "success"}),
        ]),
        end: StreamEnd::Finish,
    }
}
