//! A fake of Ollama's registry: manifests, blobs behind a redirect (as the real one sends them to a CDN), HTTP
//! ranges on the model blob, and GGUF headers written by the test in llama.cpp's format (version 3, little-endian).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fake"
)]

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::fake::{FakeServer, Reply, Request};

pub use super::gguf::Gguf;

/// The header of a Qwen3-Coder-30B-like model (48 layers, 4 KV heads of 128, 128 experts with 8 used) with a
/// vocabulary of `vocabulary` tokens.
#[must_use]
pub fn coder_header(vocabulary: usize) -> Vec<u8> {
    let mut gguf = Gguf::default()
        .string("general.architecture", "qwen3moe")
        .string("general.name", "Test Coder 30B")
        .vocabulary(vocabulary)
        .u32("qwen3moe.block_count", 48)
        .u32("qwen3moe.context_length", 262_144)
        .u32("qwen3moe.embedding_length", 2048)
        .u32("qwen3moe.attention.head_count", 32)
        .u32("qwen3moe.attention.head_count_kv", 4)
        .u32("qwen3moe.attention.key_length", 128)
        .u32("qwen3moe.attention.value_length", 128)
        .u32("qwen3moe.expert_count", 128)
        .u32("qwen3moe.expert_used_count", 8)
        .tensor("token_embd.weight", &[2048, 151_936]);
    for layer in 0..48 {
        gguf = gguf
            .tensor(&format!("blk.{layer}.attn_q.weight"), &[2048, 4096])
            .tensor(
                &format!("blk.{layer}.ffn_up_exps.weight"),
                &[2048, 768, 128],
            )
            .tensor(
                &format!("blk.{layer}.ffn_down_exps.weight"),
                &[768, 2048, 128],
            )
            .tensor(
                &format!("blk.{layer}.ffn_gate_exps.weight"),
                &[2048, 768, 128],
            );
    }
    gguf.bytes()
}

/// One model the fake registry has.
#[derive(Clone)]
pub struct Entry {
    /// `namespace/model:tag`.
    pub name: String,
    /// The model blob's first bytes (the rest of its `size` is zeros).
    pub head: Vec<u8>,
    pub size: u64,
    pub template: String,
    /// The blob is all of `size` bytes (the head, then a pattern) with its real SHA-256, so that it can be
    /// downloaded whole; otherwise it stands for a big file by its first MBs.
    pub whole: Option<Whole>,
}

/// How a whole blob is served.
#[derive(Clone, Copy, Default)]
pub struct Whole {
    /// The connection is cut after this many bytes of the file.
    pub cut_at: Option<u64>,
    /// The manifest names a digest the bytes do not have.
    pub wrong_digest: bool,
}

impl Entry {
    /// A small model with a whole, downloadable blob of `size` bytes.
    pub fn whole(name: &str, head: Vec<u8>, size: u64, whole: Whole) -> Self {
        Self {
            name: name.to_owned(),
            head,
            size,
            template: TOOLS_TEMPLATE.to_owned(),
            whole: Some(whole),
        }
    }

    /// The whole blob's bytes: the head, then a repeating pattern.
    pub fn bytes(&self) -> Vec<u8> {
        let size = usize::try_from(self.size).expect("small");
        let pattern: Vec<u8> = (0..=255_u8)
            .map(|n| n.wrapping_mul(31).wrapping_add(7))
            .collect();
        let mut bytes = Vec::with_capacity(size.max(self.head.len()));
        bytes.extend_from_slice(&self.head);
        while bytes.len() < size {
            let take = (size - bytes.len()).min(pattern.len());
            bytes.extend_from_slice(&pattern[..take]);
        }
        bytes.truncate(size);
        bytes
    }

    /// `sha256:<hex>` of the whole blob.
    pub fn sha256(&self) -> String {
        sha256_of(&self.bytes())
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_of(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(bytes)
        .iter()
        .fold(String::from("sha256:"), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The parameters every fake model carries, as Ollama's params layer holds them.
pub const PARAMS: &str = r#"{"stop":["<|im_end|>"],"temperature":0.7,"top_k":20}"#;

/// What the fake saw.
#[derive(Default)]
pub struct Seen {
    /// Bytes of model blobs sent, in all.
    pub blob_bytes: u64,
    /// The `Range` headers asked for.
    pub ranges: Vec<String>,
}

/// A whole blob's bytes and digest, made once.
type WholeBlob = Option<(Arc<Vec<u8>>, String)>;

/// A fake registry.
pub struct FakeRegistry {
    pub server: FakeServer,
    pub seen: Arc<Mutex<Seen>>,
    /// When set, a range of a model's header is answered with the bytes (and `Content-Range`) of another range.
    pub misplaced: Arc<std::sync::atomic::AtomicBool>,
    /// When set, a model's file is answered with this raw HTTP answer instead (a refusal, a compressed body…).
    pub blob_answer: Arc<Mutex<Option<String>>>,
}

impl FakeRegistry {
    /// Serves `entries`; with `ranges` false it ignores `Range` and sends whole blobs, as some mirrors do.
    pub fn start(entries: Vec<Entry>, ranges: bool) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = Arc::clone(&seen);
        // Whole blobs are made and hashed once.
        let wholes: Vec<WholeBlob> = entries
            .iter()
            .map(|entry| {
                entry.whole.map(|_| {
                    let bytes = entry.bytes();
                    let digest = sha256_of(&bytes);
                    (Arc::new(bytes), digest)
                })
            })
            .collect();
        let misplaced = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let wrong = Arc::clone(&misplaced);
        let blob_answer: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let answer = Arc::clone(&blob_answer);
        let server = FakeServer::start(move |request| {
            if request.path.starts_with("/cdn/")
                && let Some(raw) = answer.lock().expect("lock").clone()
            {
                return Reply::Raw(raw.into_bytes());
            }
            let ranges = match (ranges, wrong.load(std::sync::atomic::Ordering::Relaxed)) {
                (false, _) => Ranges::Ignored,
                (true, false) => Ranges::Kept,
                (true, true) => Ranges::Misplaced,
            };
            handle(&entries, &wholes, ranges, &log, request)
        });
        Self {
            server,
            seen,
            misplaced,
            blob_answer,
        }
    }

    /// `http://127.0.0.1:<port>`, for `CODEX_LOCAL_OLLAMA_REGISTRY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.host())
    }

    pub fn blob_bytes(&self) -> u64 {
        self.seen.lock().expect("lock").blob_bytes
    }
}

fn digest(name: &str, kind: &str) -> String {
    // Not a real hash: a stable, distinct name per blob.
    let mut value = 0_u64;
    for byte in format!("{name}/{kind}").bytes() {
        value = value.wrapping_mul(31).wrapping_add(u64::from(byte));
    }
    format!("sha256:{value:064x}")
}

/// How the fake answers a `Range`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ranges {
    /// As asked, with `Content-Range` (a 206).
    Kept,
    /// Not at all: the whole file (a 200).
    Ignored,
    /// With another range, 1000 bytes on, said so in `Content-Range`.
    Misplaced,
}

fn handle(
    entries: &[Entry],
    wholes: &[WholeBlob],
    ranges: Ranges,
    seen: &Mutex<Seen>,
    request: &Request,
) -> Reply {
    let path = request.path.as_str();
    for (entry, whole_bytes) in entries.iter().zip(wholes) {
        let (repo, tag) = entry.name.rsplit_once(':').expect("a tag");
        let model = match (entry.whole, whole_bytes) {
            (Some(whole), Some((_, digest))) if !whole.wrong_digest => digest.clone(),
            _ => digest(&entry.name, "model"),
        };
        let template = digest(&entry.name, "template");
        let params = digest(&entry.name, "params");
        if path == format!("/v2/{repo}/manifests/{tag}") {
            let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": digest(&entry.name, "config"), "size": 487},
                "layers": [
                    {"mediaType": "application/vnd.ollama.image.model", "digest": model, "size": entry.size},
                    {"mediaType": "application/vnd.ollama.image.template", "digest": template, "size": entry.template.len()},
                    {"mediaType": "application/vnd.ollama.image.params", "digest": params, "size": PARAMS.len()}]});
            return Reply::json(200, manifest.to_string());
        }
        // Blobs redirect to a CDN, as the real registry's do.
        if path == format!("/v2/{repo}/blobs/{model}") {
            return Reply::Redirect(format!("/cdn/{model}"));
        }
        if path == format!("/v2/{repo}/blobs/{template}") {
            return Reply::text(200, entry.template.clone());
        }
        if path == format!("/v2/{repo}/blobs/{params}") {
            return Reply::text(200, PARAMS.to_owned());
        }
        if path == format!("/cdn/{model}") {
            return match (entry.whole, whole_bytes) {
                (Some(whole), Some((bytes, _))) => {
                    whole_blob(bytes, whole, ranges != Ranges::Ignored, seen, request)
                }
                _ => blob(entry, ranges, seen, request),
            };
        }
    }
    Reply::json(
        404,
        r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
    )
}

/// The model blob: the range asked for, or (without range support) as much of the whole as the client reads.
fn blob(entry: &Entry, ranges: Ranges, seen: &Mutex<Seen>, request: &Request) -> Reply {
    let range = request.header("range").map(str::to_owned);
    // The blob: its head, then zeros (4 MiB of them stand for the rest of the file).
    let mut whole = entry.head.clone();
    whole.resize(entry.head.len() + (4 << 20), 0);
    let total = whole.len();
    let asked = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(start, end)| {
            Some((start.parse::<usize>().ok()?, end.parse::<usize>().ok()? + 1))
        })
        .filter(|_| ranges != Ranges::Ignored)
        .map(|(start, end)| {
            let shift = if ranges == Ranges::Misplaced { 1000 } else { 0 };
            ((start + shift).min(total), (end + shift).min(total))
        });
    let (start, end) = asked.unwrap_or((0, total));
    let body = &whole[start..end];
    let head = match asked {
        Some(_) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            end.saturating_sub(1),
            body.len()
        ),
        None => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
    };
    let mut seen = seen.lock().expect("lock");
    seen.blob_bytes += body.len() as u64;
    seen.ranges.extend(range);
    let mut reply = head.into_bytes();
    reply.extend_from_slice(body);
    Reply::Raw(reply)
}

/// A whole blob from the byte a `Range: bytes=N-` (or `N-M`) asks for, with `Content-Range`, as a CDN sends it;
/// cut short where the entry says.
fn whole_blob(
    bytes: &[u8],
    whole: Whole,
    ranges: bool,
    seen: &Mutex<Seen>,
    request: &Request,
) -> Reply {
    let total = bytes.len();
    let range = request.header("range").map(str::to_owned);
    let asked = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(start, end)| {
            let start = start.parse::<usize>().ok()?;
            let end = if end.is_empty() {
                total
            } else {
                end.parse::<usize>().ok()? + 1
            };
            Some((start.min(total), end.min(total)))
        })
        .filter(|_| ranges);
    let (start, end) = asked.unwrap_or((0, total));
    let body = &bytes[start..end];
    let head = match asked {
        Some(_) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            end.saturating_sub(1),
            body.len()
        ),
        None => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
    };
    let sent = match whole.cut_at {
        Some(cut) => {
            &body[..usize::try_from(cut)
                .expect("small")
                .saturating_sub(start)
                .min(body.len())]
        }
        None => body,
    };
    let mut seen = seen.lock().expect("lock");
    seen.blob_bytes += sent.len() as u64;
    seen.ranges.extend(range);
    let mut reply = head.into_bytes();
    reply.extend_from_slice(sent);
    Reply::Raw(reply)
}

/// An Ollama template that offers tools, and one that does not.
pub const TOOLS_TEMPLATE: &str =
    "{{- if .Tools }}<tools>{{ range .Tools }}{{ . }}{{ end }}</tools>{{ end }}{{ .Prompt }}";
pub const PLAIN_TEMPLATE: &str = "{{ .System }} {{ .Prompt }}";
