//! A fake LM Studio 0.4 with state: downloaded models, loaded instances, download jobs that progress with each
//! status poll, and an optional API token.
//!
//! It answers as LM Studio does: `/lmstudio-greeting`, `/api/v1/models` with `loaded_instances`,
//! `/api/v1/models/download` and its `status/{job}`, `/api/v1/models/load` (which makes `key:2` when the key is
//! loaded already) and `unload`, `/v1/responses` as server-sent events, 401 `invalid_api_key` without the token,
//! and HTTP 200 with `{"error": "Unexpected endpoint or method. …"}` for anything else.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fake"
)]

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::fake::{FakeServer, Reply, Request, StreamEnd};

/// How downloads behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// Completes after this many status polls.
    Succeed { polls: u64 },
    /// The job never gets past a third of the bytes.
    Stuck,
    /// Fails at the first poll.
    Fail,
    /// An LM Studio before 0.4: no download API.
    Unsupported,
}

/// A loaded instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub key: String,
    pub context: u64,
}

/// The fake's state.
#[derive(Debug)]
pub struct State {
    pub downloaded: Vec<(String, u64)>,
    pub instances: Vec<Instance>,
    pub download: Download,
    /// job id → (key, polls so far).
    pub jobs: Vec<(String, String, u64)>,
    pub token: Option<String>,
    /// The longest context a load gives, whatever is asked.
    pub load_cap: Option<u64>,
    /// Answer `/v1/responses` with a tool call (else with text).
    pub tool_calls: bool,
    /// LM Studio's models folder: `.gguf` files placed at `<publisher>/<repository>/<file>` become models, keyed
    /// as LM Studio keys them (the file's name, lowercase, without its quantization).
    pub models_dir: Option<std::path::PathBuf>,
    /// Whether files found there show in `/api/v1/models` (LM Studio that has not rescanned its folder: not).
    pub lists_files: bool,
}

impl State {
    /// The models files in the folder make, as (key, size).
    fn files(&self) -> Vec<(String, u64)> {
        let Some(dir) = &self.models_dir else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for publisher in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            for repository in std::fs::read_dir(publisher.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                for file in std::fs::read_dir(repository.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = file.file_name().to_string_lossy().to_lowercase();
                    let Some(stem) = name.strip_suffix(".gguf") else {
                        continue;
                    };
                    if name.starts_with('.') {
                        continue;
                    }
                    let key = match stem.rfind("-q") {
                        Some(at) if stem[at + 2..].starts_with(|c: char| c.is_ascii_digit()) => {
                            &stem[..at]
                        }
                        _ => stem,
                    };
                    let size = file.metadata().map_or(0, |m| m.len());
                    found.push((key.to_owned(), size));
                }
            }
        }
        found
    }

    /// Every model it has: downloaded, and found in its folder.
    fn all(&self) -> Vec<(String, u64)> {
        let mut all = self.downloaded.clone();
        all.extend(self.files());
        all
    }
}

/// A fake LM Studio and its state.
pub struct FakeLmStudio {
    pub server: FakeServer,
    pub state: Arc<Mutex<State>>,
}

const SIZE: u64 = 12_109_710_000;

impl FakeLmStudio {
    pub fn start() -> Self {
        Self::start_at(0)
    }

    /// Starts a fake LM Studio on `port` (0: any free port).
    pub fn start_at(port: u16) -> Self {
        let state = Arc::new(Mutex::new(State {
            downloaded: Vec::new(),
            instances: Vec::new(),
            download: Download::Succeed { polls: 3 },
            jobs: Vec::new(),
            token: None,
            load_cap: None,
            tool_calls: true,
            models_dir: None,
            lists_files: true,
        }));
        let shared = Arc::clone(&state);
        let server = FakeServer::start_at(port, move |request| {
            handle(&mut shared.lock().expect("state lock"), request)
        });
        Self { server, state }
    }

    pub fn with(&self, change: impl FnOnce(&mut State)) -> &Self {
        change(&mut self.state.lock().expect("state lock"));
        self
    }

    pub fn host(&self) -> String {
        self.server.host()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn instances(&self) -> Vec<Instance> {
        self.state.lock().expect("state lock").instances.clone()
    }
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap_or(Value::Null)
}

fn unexpected(request: &Request) -> Reply {
    Reply::json(
        200,
        json!({"error": format!("Unexpected endpoint or method. ({} {})", request.method, request.path)}).to_string(),
    )
}

fn handle(state: &mut State, request: &Request) -> Reply {
    if request.path == "/lmstudio-greeting" {
        return Reply::json(200, r#"{"lmstudio":true}"#);
    }
    if let Some(token) = &state.token
        && request.header("authorization") != Some(&format!("Bearer {token}"))
    {
        return Reply::json(
            401,
            r#"{"error":{"message":"Invalid API key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        );
    }
    let path = request.path.as_str();
    match (request.method.as_str(), path) {
        ("GET", "/api/v1/models") if state.download != Download::Unsupported => models(state),
        ("POST", "/api/v1/models/download") if state.download != Download::Unsupported => {
            start_download(state, request)
        }
        ("GET", _) if path.starts_with("/api/v1/models/download/status/") => poll(state, path),
        ("POST", "/api/v1/models/load") if state.download != Download::Unsupported => {
            load(state, request)
        }
        ("POST", "/api/v1/models/unload") => {
            let id = body(request)["instance_id"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            state.instances.retain(|i| i.id != id);
            Reply::json(200, json!({"instance_id": id}).to_string())
        }
        ("POST", "/v1/responses") => responses(state, request),
        _ => unexpected(request),
    }
}

fn models(state: &State) -> Reply {
    let listed = if state.lists_files {
        state.all()
    } else {
        state.downloaded.clone()
    };
    let models: Vec<Value> = listed
        .iter()
        .map(|(key, size)| {
            let loaded: Vec<Value> = state
                .instances
                .iter()
                .filter(|i| &i.key == key)
                .map(|i| json!({"id": i.id, "config": {"context_length": i.context, "eval_batch_size": 512}}))
                .collect();
            json!({"type": "llm", "publisher": "openai", "key": key, "display_name": "gpt-oss 20B",
                   "architecture": "gpt-oss", "quantization": {"name": "MXFP4", "bits_per_weight": 4},
                   "size_bytes": size, "params_string": "20B", "loaded_instances": loaded,
                   "max_context_length": 131_072, "format": "gguf",
                   "capabilities": {"vision": false, "trained_for_tool_use": true}})
        })
        .collect();
    Reply::json(200, json!({"models": models}).to_string())
}

fn start_download(state: &mut State, request: &Request) -> Reply {
    let key = body(request)["model"].as_str().unwrap_or("").to_owned();
    if state.downloaded.iter().any(|(k, _)| *k == key) {
        return Reply::json(200, r#"{"status":"already_downloaded"}"#);
    }
    let id = format!("job_{}", state.jobs.len() + 1);
    state.jobs.push((id.clone(), key, 0));
    Reply::json(
        200,
        json!({"job_id": id, "status": "downloading", "total_size_bytes": SIZE, "started_at": "2026-11-26T10:00:00.000Z"})
            .to_string(),
    )
}

fn poll(state: &mut State, path: &str) -> Reply {
    let id = path.rsplit('/').next().unwrap_or("");
    let download = state.download.clone();
    let Some(job) = state.jobs.iter_mut().find(|(j, _, _)| j == id) else {
        return Reply::json(
            404,
            json!({"error": format!("Download job {id} not found")}).to_string(),
        );
    };
    job.2 += 1;
    let (polls, key) = (job.2, job.1.clone());
    match download {
        Download::Fail => Reply::json(200, json!({"job_id": id, "status": "failed", "total_size_bytes": SIZE, "downloaded_bytes": SIZE / 3}).to_string()),
        Download::Succeed { polls: needed } if polls >= needed => {
            state.downloaded.push((key, SIZE));
            Reply::json(200, json!({"job_id": id, "status": "completed", "total_size_bytes": SIZE, "downloaded_bytes": SIZE, "completed_at": "2026-11-26T10:01:00.000Z"}).to_string())
        }
        Download::Succeed { polls: needed } => Reply::json(
            200,
            json!({"job_id": id, "status": "downloading", "total_size_bytes": SIZE, "downloaded_bytes": SIZE * polls / needed,
                   "bytes_per_second": 52_000_000, "estimated_completion": "2026-11-26T10:01:00.000Z"})
            .to_string(),
        ),
        Download::Stuck => Reply::json(
            200,
            json!({"job_id": id, "status": "downloading", "total_size_bytes": SIZE, "downloaded_bytes": SIZE / 3}).to_string(),
        ),
        Download::Unsupported => Reply::json(200, r#"{"error":"Unexpected endpoint or method."}"#),
    }
}

fn load(state: &mut State, request: &Request) -> Reply {
    let request = body(request);
    let key = request["model"].as_str().unwrap_or("").to_owned();
    if !state.all().iter().any(|(k, _)| *k == key) {
        return Reply::json(
            200,
            json!({"error": format!("Model {key} not found")}).to_string(),
        );
    }
    let asked = request["context_length"].as_u64().unwrap_or(4096);
    let context = asked.min(state.load_cap.unwrap_or(u64::MAX));
    let count = state.instances.iter().filter(|i| i.key == key).count();
    let id = if count == 0 {
        key.clone()
    } else {
        format!("{key}:{}", count + 1)
    };
    state.instances.push(Instance {
        id: id.clone(),
        key,
        context,
    });
    Reply::json(
        200,
        json!({"type": "llm", "instance_id": id, "load_time_seconds": 4.2, "status": "loaded",
               "load_config": {"context_length": context, "eval_batch_size": 512, "flash_attention": true}})
        .to_string(),
    )
}

fn responses(state: &State, request: &Request) -> Reply {
    let model = body(request)["model"].as_str().unwrap_or("").to_owned();
    if !state
        .all()
        .iter()
        .any(|(k, _)| model.starts_with(k.as_str()))
    {
        return Reply::json(
            404,
            json!({"error": {"message": format!("Model {model} not found")}}).to_string(),
        );
    }
    let item = if state.tool_calls {
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": "{\"cmd\":\"pwd\"}"})
    } else {
        json!({"type": "message", "role": "assistant", "id": "m1", "content": [{"type": "output_text", "text": "hi there"}]})
    };
    let events = [
        json!({"type": "response.created", "response": {"id": "resp_1"}}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {"input_tokens": 1, "input_tokens_details": null, "output_tokens": 1, "output_tokens_details": null, "total_tokens": 2}}}),
    ];
    Reply::Stream {
        status: 200,
        content_type: "text/event-stream",
        chunks: events
            .iter()
            .map(|e| {
                format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")).into_bytes()
            })
            .collect(),
        end: StreamEnd::Finish,
    }
}
