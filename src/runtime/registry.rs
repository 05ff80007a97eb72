//! Ollama's registry, read before a pull to size a model exactly: the manifest (every layer's byte size), the
//! template (whether the model calls tools) and the GGUF header of the model layer, read in growing HTTP ranges
//! so that only the header's bytes cross the network.
//!
//! Names follow Ollama's rules (`types/model/name.go`): `[host/][namespace/]model[:tag]`, host `registry.ollama.ai`,
//! namespace `library`, tag `latest`; `hf.co/org/repo:QUANT` is read from Hugging Face the same way.
//! `CODEX_LOCAL_OLLAMA_REGISTRY` points every name at a mirror (and the tests at a fake).

use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use tokio::io::AsyncWriteExt as _;

use crate::facts::gguf::{self, GgufError, Header};
pub use crate::facts::model_name::Reference;

/// The first range read of a model's file; each further one doubles, up to [`MAX_HEADER`].
const FIRST_RANGE: usize = 1 << 20;
/// The most of a model file read for its header.
pub const MAX_HEADER: usize = 32 << 20;
/// The most read of a manifest or a template.
const MAX_SMALL: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_mins(1);

const MODEL_LAYER: &str = "application/vnd.ollama.image.model";
const TEMPLATE_LAYER: &str = "application/vnd.ollama.image.template";
const PARAMS_LAYER: &str = "application/vnd.ollama.image.params";
const SYSTEM_LAYER: &str = "application/vnd.ollama.image.system";
const PROJECTOR_LAYER: &str = "application/vnd.ollama.image.projector";
/// The most a manifest's layer may say it holds (as for a pack's file); the sum of a manifest's layers (fewer than
/// its 1 MiB allows) then stays far from overflowing.
const MAX_LAYER_BYTES: u64 = 4 << 40;
const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Why a model could not be sized from the registry.
#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("`{0}` is not a model name")]
    BadName(String),
    #[error("The registry has no `{name}` ({url} answered 404)")]
    NotFound { name: String, url: String },
    #[error("Cannot read `{url}`: {message}")]
    Failed { url: String, message: String },
    #[error("`{name}` has no model layer in its manifest")]
    NoModel { name: String },
    #[error("`{name}` cannot be sized: {message}")]
    Unusable { name: String, message: String },
    #[error("Cannot write `{}`", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("The download stopped after {have} of {total} bytes ({message}; from `{url}`)")]
    Stopped {
        url: String,
        have: u64,
        total: u64,
        message: String,
    },
    #[error("The downloaded model file does not match its digest {digest}: {message}")]
    Mismatch { digest: String, message: String },
    #[error("`{name}`'s model file: {source}")]
    Header {
        name: String,
        #[source]
        source: GgufError,
    },
}

impl RegistryError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::BadName(_) | Self::NotFound { .. } => {
                "check the name at https://ollama.com/library (or the Hugging Face repository and quantization), or \
                 pick a catalog model with `codex-local models`"
                    .to_owned()
            }
            Self::Failed { .. } => format!(
                "check the network, or point `{}` at a mirror; models already pulled work without it",
                crate::env_vars::CODEX_LOCAL_OLLAMA_REGISTRY
            ),
            Self::Write { .. } => {
                "check that the folder is writable and has room for the model, or choose another folder".to_owned()
            }
            Self::Stopped { .. } => {
                "run the same command again: what was downloaded is kept, and the download goes on from there"
                    .to_owned()
            }
            Self::Mismatch { .. } => {
                "run the command again: the damaged download was removed and starts over".to_owned()
            }
            Self::NoModel { .. } | Self::Header { .. } | Self::Unusable { .. } => {
                "this is not a model Ollama can run; pick another with `codex-local models`".to_owned()
            }
        }
    }
}

/// A model as the registry describes it.
#[derive(Debug, Clone)]
pub struct Described {
    pub reference: Reference,
    /// Every layer's bytes: what the pull downloads.
    pub download_bytes: u64,
    /// The model file's bytes (the weights in memory).
    pub model_bytes: u64,
    /// A vision projector's bytes, loaded beside the weights.
    pub projector_bytes: u64,
    pub header: Header,
    /// The template offers tools to the model.
    pub tools: bool,
    /// Bytes of the model file read to find its header, and how long it took.
    pub header_bytes_read: usize,
    pub elapsed: Duration,
    /// The model file's digest (`sha256:<hex>`), its Ollama template and parameters, for a pack.
    pub model_digest: String,
    pub template: Option<String>,
    pub system: Option<String>,
    pub parameters: Option<serde_json::Value>,
    /// Where its blobs are.
    root: Url,
    repository: String,
}

#[derive(Deserialize)]
struct Manifest {
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
}

/// Reads `name` from the registry at `base` (or the name's own host): manifest, template and GGUF header.
pub async fn describe(name: &str, base: Option<&Url>) -> Result<Described, RegistryError> {
    let started = Instant::now();
    let reference =
        Reference::parse(name).ok_or_else(|| RegistryError::BadName(name.to_owned()))?;
    let root = match base {
        Some(url) => url.clone(),
        None => Url::parse(&format!("https://{}/", reference.host))
            .map_err(|_| RegistryError::BadName(name.to_owned()))?,
    };
    let client = client(&root, Some(TIMEOUT), false)?;
    let repository = format!("v2/{}/{}/", reference.namespace, reference.model);
    let manifest_url = join(&root, &format!("{repository}manifests/{}", reference.tag))?;
    let manifest = get(&client, &manifest_url, Some(MANIFEST), &reference).await?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest).map_err(|err| RegistryError::Failed {
            url: shown(&manifest_url),
            message: format!("the manifest is not JSON a registry sends ({err})"),
        })?;
    check_sizes(&manifest, &reference)?;
    let layer = |kind: &str| manifest.layers.iter().find(|l| l.media_type == kind);
    let model = model_layer(&manifest, &manifest_url, &reference)?;
    let blob = |digest: &str| join(&root, &format!("{repository}blobs/{digest}"));
    let text = async |kind: &str| -> Result<Option<Vec<u8>>, RegistryError> {
        match layer(kind) {
            Some(small) => Ok(Some(
                get(&client, &blob(&small.digest)?, None, &reference).await?,
            )),
            None => Ok(None),
        }
    };
    let words = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let template = text(TEMPLATE_LAYER).await?.map(words);
    let system = text(SYSTEM_LAYER).await?.map(words);
    let parameters = text(PARAMS_LAYER)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let tools = template.as_deref().is_some_and(|t| t.contains(".Tools"));
    let (header, read) = header(&client, &blob(&model.digest)?, &reference).await?;
    Ok(Described {
        download_bytes: manifest.layers.iter().map(|l| l.size).sum(),
        model_bytes: model.size,
        projector_bytes: layer(PROJECTOR_LAYER).map_or(0, |l| l.size),
        reference,
        header,
        tools,
        header_bytes_read: read,
        elapsed: started.elapsed(),
        model_digest: model.digest.clone(),
        template,
        system,
        parameters,
        root,
        repository,
    })
}

/// Refuses a manifest that says a layer holds more than any model file.
fn check_sizes(manifest: &Manifest, reference: &Reference) -> Result<(), RegistryError> {
    match manifest.layers.iter().find(|l| l.size > MAX_LAYER_BYTES) {
        Some(huge) => Err(RegistryError::Unusable {
            name: reference.display(),
            message: format!(
                "its manifest says the layer `{}` holds {} bytes, more than any model file (4 TiB)",
                crate::text::sanitize(&huge.media_type),
                huge.size
            ),
        }),
        None => Ok(()),
    }
}

/// The manifest's model layer, whose digest must be a SHA-256.
fn model_layer<'m>(
    manifest: &'m Manifest,
    url: &Url,
    reference: &Reference,
) -> Result<&'m Layer, RegistryError> {
    let model = manifest
        .layers
        .iter()
        .find(|l| l.media_type == MODEL_LAYER)
        .ok_or_else(|| RegistryError::NoModel {
            name: reference.display(),
        })?;
    if crate::facts::pack::is_sha256(&model.digest) {
        Ok(model)
    } else {
        Err(RegistryError::Failed {
            url: shown(url),
            message: format!(
                "the model layer's digest `{}` is not a SHA-256",
                model.digest
            ),
        })
    }
}

/// A client for the registry: redirects followed (blobs live on a CDN). `limit` bounds a whole request, or with
/// `idle` only each wait for the next bytes (a download of many GB).
fn client(
    root: &Url,
    limit: Option<Duration>,
    idle: bool,
) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("codex-local/", env!("CARGO_PKG_VERSION")));
    builder = match (limit, idle) {
        (Some(limit), true) => builder.read_timeout(limit),
        (Some(limit), false) => builder.timeout(limit),
        (None, _) => builder,
    };
    builder.build().map_err(|err| RegistryError::Failed {
        url: shown(root),
        message: err.to_string(),
    })
}

/// Downloads the model file of `described` to `path`, resuming the `<path>.partial` an earlier run left, and checks
/// its SHA-256 against the digest before giving it its name. A server silent for `stall` stops it. Reports
/// `(done, total)` as it goes. Returns the bytes downloaded now and how many an earlier run had left.
pub async fn download(
    described: &Described,
    path: &std::path::Path,
    stall: Duration,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(u64, u64), RegistryError> {
    let url = join(
        &described.root,
        &format!("{}blobs/{}", described.repository, described.model_digest),
    )?;
    let total = described.model_bytes;
    let partial = partial_path(path);
    let write_error = |source| RegistryError::Write {
        path: partial.clone(),
        source,
    };
    // What an earlier run left is hashed again, then continued.
    let (mut hasher, mut have) = hash_partial(&partial, total).await.map_err(write_error)?;
    let client = client(&described.root, Some(stall), true)?;
    let (response, continues) = request_from(&client, &url, have).await?;
    if !continues {
        // The whole file again: start over, keeping nothing of before.
        hasher = Sha256::new();
        have = 0;
    }
    let kept = have;
    let mut file = open_partial(&partial, have > 0)
        .await
        .map_err(write_error)?;
    progress(have, total);
    let received = receive(response, &mut file, (&mut hasher, have, total), progress).await;
    file.flush().await.map_err(write_error)?;
    file.sync_all().await.map_err(write_error)?;
    drop(file);
    let now = match received {
        Ok(Received::Whole(now)) => now,
        Ok(Received::Stopped(now, message)) => {
            return Err(RegistryError::Stopped {
                url: shown(&url),
                have: have + now,
                total,
                message,
            });
        }
        Ok(Received::TooMuch) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(RegistryError::Mismatch {
                digest: described.model_digest.clone(),
                message: format!("the server sent more than the manifest's {total} bytes"),
            });
        }
        Err(err) => return Err(write_error(err)),
    };
    name_if_whole(hasher, described, &partial, path).await?;
    Ok((now, kept))
}

/// Gives the downloaded file its name when its SHA-256 is the digest; removes it when it is not.
async fn name_if_whole(
    hasher: Sha256,
    described: &Described,
    partial: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), RegistryError> {
    let digest = hex_digest(hasher);
    // The bytes hashed are the bytes received; the file must hold exactly those (nothing else wrote to it).
    let length = tokio::fs::symlink_metadata(partial).await.map(|m| m.len());
    if let Ok(length) = length
        && length != described.model_bytes
    {
        let _ = tokio::fs::remove_file(partial).await;
        return Err(RegistryError::Mismatch {
            digest: described.model_digest.clone(),
            message: format!(
                "the file holds {length} bytes, not {}: something else wrote to it",
                described.model_bytes
            ),
        });
    }
    if digest != described.model_digest {
        let _ = tokio::fs::remove_file(partial).await;
        return Err(RegistryError::Mismatch {
            digest: described.model_digest.clone(),
            message: format!("its {} bytes hash to {digest}", described.model_bytes),
        });
    }
    tokio::fs::rename(partial, path)
        .await
        .map_err(|source| RegistryError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Asks for the file from byte `have` on; says whether the answer goes on from there (206 with that range) rather
/// than sending the whole file (200).
async fn request_from(
    client: &reqwest::Client,
    url: &Url,
    have: u64,
) -> Result<(reqwest::Response, bool), RegistryError> {
    let mut request = client.get(url.clone());
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let response = request.send().await.map_err(|err| failed(url, &err))?;
    let status = response.status();
    let continues = status == StatusCode::PARTIAL_CONTENT
        && response
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|range| range.starts_with(&format!("bytes {have}-")));
    if continues || status == StatusCode::OK {
        check_encoding(url, &response)?;
        Ok((response, continues))
    } else {
        Err(refused(url, &response))
    }
}

/// An answer other than the file, in words that say what the registry wants.
fn refused(url: &Url, response: &reqwest::Response) -> RegistryError {
    let status = response.status();
    let message = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
            "HTTP {status}: the registry asks for credentials, which codex-local does not send (a private model, or \
             a mirror behind a login)"
        ),
        StatusCode::TOO_MANY_REQUESTS => {
            let after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or_else(String::new, |s| format!(" for {s} s"));
            format!(
                "HTTP {status}: the registry asks to wait{after}; run the same command again then"
            )
        }
        _ => format!("HTTP {status}"),
    };
    RegistryError::Failed {
        url: shown(url),
        message,
    }
}

/// Refuses a model file sent compressed: its bytes would not be the file's, and its digest could not match.
fn check_encoding(url: &Url, response: &reqwest::Response) -> Result<(), RegistryError> {
    match response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        None | Some("identity" | "") => Ok(()),
        Some(encoding) => Err(RegistryError::Failed {
            url: shown(url),
            message: format!(
                "it sent the model file compressed (`{}`), not as the file itself",
                crate::text::sanitize(encoding)
            ),
        }),
    }
}

/// How a download's body ended.
enum Received {
    /// Every byte (this many now).
    Whole(u64),
    /// Cut short after this many bytes now, for this reason.
    Stopped(u64, String),
    /// More than the file's size.
    TooMuch,
}

/// Writes the body to `file` and the hasher as it arrives, from `have` of `total` bytes.
async fn receive(
    mut response: reqwest::Response,
    file: &mut tokio::fs::File,
    (hasher, have, total): (&mut Sha256, u64, u64),
    progress: &mut dyn FnMut(u64, u64),
) -> std::io::Result<Received> {
    use tokio::io::AsyncWriteExt as _;
    let mut now = 0_u64;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) if have + now < total => {
                return Ok(Received::Stopped(
                    now,
                    "the server ended the file early".to_owned(),
                ));
            }
            Ok(None) => return Ok(Received::Whole(now)),
            Err(err) => return Ok(Received::Stopped(now, describe_error(&err))),
        };
        if have + now + chunk.len() as u64 > total {
            return Ok(Received::TooMuch);
        }
        file.write_all(&chunk).await?;
        hasher.update(&chunk);
        now += chunk.len() as u64;
        progress(have + now, total);
    }
}

/// Where a download in progress is kept: `<file>.partial` beside the file.
#[must_use]
pub fn partial_path(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    std::path::PathBuf::from(name)
}

/// The SHA-256 state and length of what an earlier run left (nothing when there is none, or it is longer than the
/// file can be). Only a regular file is read.
async fn hash_partial(partial: &std::path::Path, total: u64) -> std::io::Result<(Sha256, u64)> {
    use tokio::io::AsyncReadExt as _;
    let mut hasher = Sha256::new();
    let mut have = 0_u64;
    match tokio::fs::symlink_metadata(partial).await {
        Ok(meta) if meta.is_file() && links(&meta) > 1 => {
            // Another name for the same file (a user's own): never written to.
            return Err(std::io::Error::other(
                "it is a hard link to another file; move it away",
            ));
        }
        Ok(meta) if meta.is_file() && meta.len() <= total => {}
        Ok(meta) if meta.is_file() => {
            tokio::fs::remove_file(partial).await?;
            return Ok((hasher, 0));
        }
        Ok(_) => {
            return Err(std::io::Error::other(
                "something other than a regular file is in the way",
            ));
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((hasher, 0)),
        Err(err) => return Err(err),
    }
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW);
    let mut earlier = options.open(partial).await?;
    let mut buffer = vec![0_u8; 1 << 20];
    loop {
        let read = earlier.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        have += read as u64;
    }
    Ok((hasher, have))
}

/// How many names a file has (1 where that cannot be told).
fn links(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        meta.nlink()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        1
    }
}

/// Opens the partial file to append to (or anew), never through a symbolic link.
async fn open_partial(partial: &std::path::Path, append: bool) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    options.open(partial).await
}

/// `sha256:<hex>` of what was hashed.
#[must_use]
pub fn hex_digest(hasher: Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .fold(String::from("sha256:"), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn join(root: &Url, path: &str) -> Result<Url, RegistryError> {
    root.join(path).map_err(|err| RegistryError::Failed {
        url: format!("{}{path}", shown(root)),
        message: err.to_string(),
    })
}

/// A small document (a manifest, a template), within [`MAX_SMALL`].
async fn get(
    client: &reqwest::Client,
    url: &Url,
    accept: Option<&str>,
    reference: &Reference,
) -> Result<Vec<u8>, RegistryError> {
    let mut request = client.get(url.clone());
    if let Some(accept) = accept {
        request = request.header(reqwest::header::ACCEPT, accept);
    }
    let response = request.send().await.map_err(|err| failed(url, &err))?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return Err(RegistryError::NotFound {
                name: reference.display(),
                url: shown(url),
            });
        }
        _ => return Err(refused(url, &response)),
    }
    super::http::read_capped(response, MAX_SMALL)
        .await
        .map_err(|_| RegistryError::Failed {
            url: shown(url),
            message: format!(
                "more than {} KiB, or the connection dropped",
                MAX_SMALL >> 10
            ),
        })
}

/// Why a body stopped, in words.
fn describe_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "nothing arrived for too long".to_owned()
    } else if err.is_body() || err.is_decode() {
        "the connection was cut".to_owned()
    } else {
        crate::text::sanitize(&without_url(err))
    }
}

/// A reqwest error's words, with the address it names shown without a password or a query.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        // The address is said already, beside the error: once is enough.
        text = text
            .replace(&format!(" for url ({})", url.as_str()), "")
            .replace(url.as_str(), &shown(url));
    }
    // The reason underneath (a refused connection, a name not found, a certificate), said once.
    let mut cause = std::error::Error::source(err);
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

/// An address as it may be shown: without a password or a query.
fn shown(url: &Url) -> String {
    crate::host::redact(url.as_str())
}

fn failed(url: &Url, err: &reqwest::Error) -> RegistryError {
    RegistryError::Failed {
        url: shown(url),
        message: crate::text::sanitize(&without_url(err)),
    }
}

/// The GGUF header at the start of `url`, read in growing ranges: 1 MiB, then more (twice as much, or what the
/// header says it needs), each range asking only for the bytes not read yet, up to [`MAX_HEADER`]. A server that
/// ignores ranges sends the whole file from its start: only as much as is needed is read from it. Returns the
/// header and the bytes read in all.
async fn header(
    client: &reqwest::Client,
    url: &Url,
    reference: &Reference,
) -> Result<(Header, usize), RegistryError> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut want = FIRST_RANGE;
    let mut read_in_all = 0;
    loop {
        let before = bytes.len();
        read_in_all += range(client, url, &mut bytes, want, reference).await?;
        let ended = bytes.len() < want;
        match gguf::parse(&bytes) {
            Ok(header) => return Ok((header, read_in_all)),
            Err(GgufError::NeedMore { need, .. }) if !ended && want < MAX_HEADER => {
                want = need.max(want * 2).min(MAX_HEADER);
            }
            Err(GgufError::NeedMore { .. }) => {
                let source = if ended && bytes.len() > before {
                    GgufError::Absurd {
                        field: "the file's length".to_owned(),
                        value: bytes.len() as u64,
                    }
                } else {
                    GgufError::Absurd {
                        field: "the header's length (more than 32 MiB)".to_owned(),
                        value: bytes.len() as u64,
                    }
                };
                return Err(RegistryError::Header {
                    name: reference.display(),
                    source,
                });
            }
            Err(source) => {
                return Err(RegistryError::Header {
                    name: reference.display(),
                    source,
                });
            }
        }
    }
}

/// Extends `bytes` to the first `want` bytes of `url`: a range request for the missing part, or (from a server that
/// ignores ranges) the whole answer read from its start. Returns the bytes that crossed the network.
async fn range(
    client: &reqwest::Client,
    url: &Url,
    bytes: &mut Vec<u8>,
    want: usize,
    reference: &Reference,
) -> Result<usize, RegistryError> {
    let from = bytes.len();
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::RANGE, format!("bytes={from}-{}", want - 1))
        .send()
        .await
        .map_err(|err| failed(url, &err))?;
    match response.status() {
        StatusCode::PARTIAL_CONTENT => {
            let starts = |at: usize| {
                response
                    .headers()
                    .get(reqwest::header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|range| range.starts_with(&format!("bytes {at}-")))
            };
            if starts(0) {
                bytes.clear();
            } else if !starts(from) {
                return Err(RegistryError::Failed {
                    url: shown(url),
                    message: format!(
                        "asked for the bytes from {from} on, it answered with another part of the file"
                    ),
                });
            }
        }
        // The whole file, from its start.
        StatusCode::OK => bytes.clear(),
        StatusCode::NOT_FOUND => {
            return Err(RegistryError::NotFound {
                name: reference.display(),
                url: shown(url),
            });
        }
        _ => return Err(refused(url, &response)),
    }
    check_encoding(url, &response)?;
    let mut read = 0;
    while bytes.len() < want {
        match response.chunk().await.map_err(|err| failed(url, &err))? {
            Some(chunk) => {
                let take = chunk.len().min(want - bytes.len());
                bytes.extend_from_slice(&chunk[..take]);
                read += chunk.len();
            }
            None => break,
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::model_name::DEFAULT_HOST;

    #[test]
    fn names_follow_ollamas_rules() {
        let parse = |name| Reference::parse(name).map(|r| (r.host, r.namespace, r.model, r.tag));
        let owned = |h: &str, n: &str, m: &str, t: &str| {
            Some((h.to_owned(), n.to_owned(), m.to_owned(), t.to_owned()))
        };
        assert_eq!(
            parse("qwen3.6"),
            owned(DEFAULT_HOST, "library", "qwen3.6", "latest")
        );
        assert_eq!(
            parse("qwen3.6:27b-q8_0"),
            owned(DEFAULT_HOST, "library", "qwen3.6", "27b-q8_0")
        );
        assert_eq!(
            parse("user/model:tag"),
            owned(DEFAULT_HOST, "user", "model", "tag")
        );
        assert_eq!(
            parse("hf.co/org/repo:Q4_K_M"),
            owned("hf.co", "org", "repo", "Q4_K_M")
        );
        for bad in ["", "a/b/c/d", "a b", "../x", "m:", "x:y:z/w", "http://x/y"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
