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
use thiserror::Error;

use crate::facts::gguf::{self, GgufError, Header};

/// The default registry.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// The first range read of a model's file; each further one doubles, up to [`MAX_HEADER`].
const FIRST_RANGE: usize = 1 << 20;
/// The most of a model file read for its header.
pub const MAX_HEADER: usize = 32 << 20;
/// The most read of a manifest or a template.
const MAX_SMALL: usize = 1 << 20;
const TIMEOUT: Duration = Duration::from_mins(1);

const MODEL_LAYER: &str = "application/vnd.ollama.image.model";
const TEMPLATE_LAYER: &str = "application/vnd.ollama.image.template";
const PROJECTOR_LAYER: &str = "application/vnd.ollama.image.projector";
const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A model name, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub host: String,
    pub namespace: String,
    pub model: String,
    pub tag: String,
}

impl Reference {
    /// Reads `[host/][namespace/]model[:tag]`; `None` when it is not a model name at all.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let (path, tag) = match name.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, tag),
            _ => (name, "latest"),
        };
        let parts: Vec<&str> = path.split('/').collect();
        let (host, namespace, model) = match parts.as_slice() {
            [model] => (DEFAULT_HOST, "library", *model),
            [namespace, model] => (DEFAULT_HOST, *namespace, *model),
            [host, namespace, model] => (*host, *namespace, *model),
            _ => return None,
        };
        let fine = |part: &str| {
            !part.is_empty()
                && part.len() <= 128
                && !part.chars().all(|c| c == '.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (fine(host) && fine(namespace) && fine(model) && fine(tag)).then(|| Self {
            host: host.to_ascii_lowercase(),
            namespace: namespace.to_owned(),
            model: model.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// `namespace/model:tag`, or with the host when it is not Ollama's.
    #[must_use]
    pub fn display(&self) -> String {
        let short = format!("{}/{}:{}", self.namespace, self.model, self.tag);
        if self.host == DEFAULT_HOST {
            short
        } else {
            format!("{}/{short}", self.host)
        }
    }
}

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
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .connect_timeout(Duration::from_secs(10))
        .timeout(TIMEOUT)
        .user_agent(concat!("codex-local/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| RegistryError::Failed {
            url: root.to_string(),
            message: err.to_string(),
        })?;
    let repository = format!("v2/{}/{}/", reference.namespace, reference.model);
    let manifest_url = join(&root, &format!("{repository}manifests/{}", reference.tag))?;
    let manifest = get(&client, &manifest_url, Some(MANIFEST), &reference).await?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest).map_err(|err| RegistryError::Failed {
            url: manifest_url.to_string(),
            message: format!("the manifest is not JSON a registry sends ({err})"),
        })?;
    let layer = |kind: &str| manifest.layers.iter().find(|l| l.media_type == kind);
    let model = layer(MODEL_LAYER).ok_or_else(|| RegistryError::NoModel {
        name: reference.display(),
    })?;
    let blob = |digest: &str| join(&root, &format!("{repository}blobs/{digest}"));
    let tools = match layer(TEMPLATE_LAYER) {
        Some(template) => {
            let text = get(&client, &blob(&template.digest)?, None, &reference).await?;
            String::from_utf8_lossy(&text).contains(".Tools")
        }
        None => false,
    };
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
    })
}

fn join(root: &Url, path: &str) -> Result<Url, RegistryError> {
    root.join(path).map_err(|err| RegistryError::Failed {
        url: format!("{root}{path}"),
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
                url: url.to_string(),
            });
        }
        status => {
            return Err(RegistryError::Failed {
                url: url.to_string(),
                message: format!("HTTP {status}"),
            });
        }
    }
    super::http::read_capped(response, MAX_SMALL)
        .await
        .map_err(|_| RegistryError::Failed {
            url: url.to_string(),
            message: format!(
                "more than {} KiB, or the connection dropped",
                MAX_SMALL >> 10
            ),
        })
}

fn failed(url: &Url, err: &reqwest::Error) -> RegistryError {
    RegistryError::Failed {
        url: url.to_string(),
        message: crate::text::sanitize(&err.to_string()),
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
        StatusCode::PARTIAL_CONTENT => {}
        // The whole file, from its start.
        StatusCode::OK => bytes.clear(),
        StatusCode::NOT_FOUND => {
            return Err(RegistryError::NotFound {
                name: reference.display(),
                url: url.to_string(),
            });
        }
        status => {
            return Err(RegistryError::Failed {
                url: url.to_string(),
                message: format!("HTTP {status}"),
            });
        }
    }
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
