//! Importing a GGUF file into Ollama (its `docs/api.md`, "Push a Blob" and "Create a Model"): the file's SHA-256,
//! `HEAD /api/blobs/sha256:<hex>` (200: Ollama has it), `POST` of the file's bytes to the same path (201; 400 when
//! the digest does not match), streamed with progress and never held in memory.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;

use super::error::RuntimeError;
use super::http::{Auth, Http};
use super::{Observer, Progress};

/// How much of the file is read at a time.
const CHUNK: usize = 1 << 20;

fn unreadable(name: &str, file: &Path, err: &std::io::Error) -> RuntimeError {
    RuntimeError::Failed {
        model: name.to_owned(),
        message: format!("cannot read `{}`: {err}", file.display()),
    }
}

/// `sha256:<hex>` of the file, reporting progress as it reads.
pub async fn sha256_of(
    file: &Path,
    name: &str,
    observer: &mut dyn Observer,
) -> Result<String, RuntimeError> {
    let total = tokio::fs::metadata(file).await.map(|m| m.len()).ok();
    sha256_file(file, &mut |done| {
        observer.progress(&Progress {
            status: "checking the file",
            digest: None,
            total,
            completed: Some(done),
        });
    })
    .await
    .map_err(|err| unreadable(name, file, &err))
}

/// `sha256:<hex>` of the file, read a piece at a time, reporting the bytes read so far.
pub async fn sha256_file(
    file: &Path,
    progress: &mut (dyn FnMut(u64) + Send),
) -> std::io::Result<String> {
    let mut reader = tokio::fs::File::open(file).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; CHUNK];
    let mut done = 0_u64;
    loop {
        let read = reader.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        done += read as u64;
        progress(done);
    }
    Ok(super::registry::hex_digest(hasher))
}

/// Whether Ollama has the blob already.
pub async fn has_blob(http: &Http, url: &str, auth: &Auth) -> Result<bool, RuntimeError> {
    let response = http
        .head(url, auth)
        .send()
        .await
        .map_err(|err| RuntimeError::Unreachable {
            url: url.to_owned(),
            source: http.describe(&err),
        })?;
    Ok(response.status() == StatusCode::OK)
}

/// Sends the file as the blob `digest`, reporting progress every half second.
pub async fn upload(
    http: &Http,
    url: &str,
    auth: &Auth,
    file: &Path,
    (name, digest): (&str, &str),
    observer: &mut dyn Observer,
) -> Result<(), RuntimeError> {
    let reader = tokio::fs::File::open(file)
        .await
        .map_err(|err| unreadable(name, file, &err))?;
    let total = reader
        .metadata()
        .await
        .map_err(|err| unreadable(name, file, &err))?
        .len();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, CHUNK).map(move |chunk| {
        if let Ok(bytes) = &chunk {
            counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        chunk
    });
    let request = http
        .post(url, auth)
        .header(reqwest::header::CONTENT_LENGTH, total)
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    tokio::pin!(request);
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    let response = loop {
        tokio::select! {
            response = &mut request => break response,
            _ = ticks.tick() => observer.progress(&Progress {
                status: "sending the file to Ollama",
                digest: None,
                total: Some(total),
                completed: Some(sent.load(Ordering::Relaxed)),
            }),
        }
    };
    let response = response.map_err(|err| RuntimeError::Unreachable {
        url: url.to_owned(),
        source: http.describe(&err),
    })?;
    match response.status() {
        StatusCode::OK | StatusCode::CREATED => Ok(()),
        status => Err(RuntimeError::Failed {
            model: name.to_owned(),
            message: format!(
                "Ollama refused the file (HTTP {status}){}",
                if status == StatusCode::BAD_REQUEST {
                    format!(
                        ": its bytes do not match {digest}; the file may have changed while it was read"
                    )
                } else {
                    String::new()
                }
            ),
        }),
    }
}

/// Bytes free for this user on the disk that holds `dir` (`None` where it cannot be told).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}
