//! Ollama through its HTTP API: detection (`/api/version`), models (`/api/tags`, `/api/show`), pulls, context
//! variants (`/api/create` with `num_ctx`), loading (`/api/generate`, `/api/ps`) and the Responses request.

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::error::RuntimeError;
use super::http::{self, Answer, Auth, Http, ProbeError};
use super::import;
use super::stream::{self, Stop};
use super::{
    Endpoint, Fetched, Imported, Kept, Observer, Placement, Progress, Runtime, ServeRequest,
    Served, Serves, Serving, Staged, Verified,
};
use crate::facts::ollama::{default_context, full_name};
use crate::facts::runtime::{InstalledModel, RuntimeKind, RuntimeStatus};
use crate::plan::steps::{StepName, StepStatus};

const KIND: RuntimeKind = RuntimeKind::Ollama;

/// How long loading a model may take (a large model from a slow disk takes minutes).
const LOAD_IDLE: Duration = Duration::from_mins(15);
/// How long a quick request (show, create, ps) may stay silent.
const SHOW_IDLE: Duration = Duration::from_mins(1);

/// An Ollama server.
pub struct Ollama {
    endpoint: Endpoint,
    /// The version, once known (from an earlier probe, or this one's).
    version: OnceLock<String>,
}

impl Ollama {
    pub fn new(endpoint: Endpoint) -> Self {
        let version = OnceLock::new();
        if let Some(known) = &endpoint.version {
            let _ = version.set(known.clone());
        }
        Self { endpoint, version }
    }

    fn base(&self) -> &Url {
        &self.endpoint.url
    }

    /// The API with a client whose idle deadline is `idle`.
    fn api(&self, idle: Duration) -> Result<Api<'_>, RuntimeError> {
        Ok(Api {
            http: Http::ops(idle)?,
            base: &self.endpoint.url,
            auth: &self.endpoint.auth,
        })
    }

    /// The API for a question that must be answered whole within [`http::QUICK`].
    fn quick_api(&self) -> Result<Api<'_>, RuntimeError> {
        Ok(Api {
            http: Http::quick()?,
            base: &self.endpoint.url,
            auth: &self.endpoint.auth,
        })
    }
}

#[async_trait]
impl Runtime for Ollama {
    fn kind(&self) -> RuntimeKind {
        KIND
    }

    fn url(&self) -> &Url {
        &self.endpoint.url
    }

    async fn probe(&self) -> RuntimeStatus {
        let (client, base, timeout) = (
            &self.endpoint.probe,
            self.base(),
            self.endpoint.probe_timeout,
        );
        let auth = &self.endpoint.auth;
        let status = super::within(KIND, base, timeout + timeout / 4, async {
            let (version, models) =
                tokio::join!(client.get(base, "api/version", auth), self.models());
            match version.and_then(|answer| read_version(&answer)) {
                Ok(version) => up(base, version, models),
                Err(err) => super::down(KIND, base, &err),
            }
        })
        .await;
        if let Some(version) = &status.version {
            let _ = self.version.set(version.clone());
        }
        status
    }

    async fn models(&self) -> Result<Vec<InstalledModel>, ProbeError> {
        let answer = self
            .endpoint
            .probe
            .get(self.base(), "api/tags", &self.endpoint.auth)
            .await?;
        read_tags(&answer)
    }

    async fn fetch(
        &self,
        model: &str,
        observer: &mut dyn Observer,
    ) -> Result<Fetched, RuntimeError> {
        // The client's own idle limit comes after the stall limit, so that silence reads as a stall.
        let api = self.api(self.endpoint.stall * 2)?;
        api.pull(model, self.endpoint.stall, observer).await?;
        Ok(Fetched::Downloaded)
    }

    async fn stage(
        &self,
        spec: &crate::plan::Import,
        name: &str,
        observer: &mut dyn Observer,
    ) -> Result<Staged, RuntimeError> {
        let file = spec.file.as_path();
        let api = self.api(self.endpoint.stall * 2)?;
        let blob_url = |digest: &str| api.url(&format!("api/blobs/{digest}"));
        // A pack names the digest: when Ollama holds that blob already, the file need not even be read.
        if let Some(digest) = &spec.digest
            && import::has_blob(&api.http, &blob_url(digest), api.auth).await?
        {
            return Ok(Staged {
                digest: Some(digest.clone()),
                ..Staged::default()
            });
        }
        let digest = import::sha256_of(file, name, observer).await?;
        if let Some(expected) = spec.digest.as_ref().filter(|e| **e != digest) {
            return Err(RuntimeError::NotThePacksFile {
                file: file.display().to_string(),
                expected: expected.clone(),
                found: digest,
            });
        }
        let blob = blob_url(&digest);
        if !import::has_blob(&api.http, &blob, api.auth).await? {
            import::upload(&api.http, &blob, api.auth, file, (name, &digest), observer).await?;
        }
        Ok(Staged {
            digest: Some(digest),
            ..Staged::default()
        })
    }

    async fn make(
        &self,
        spec: &crate::plan::Import,
        name: &str,
        context: u64,
        staged: Staged,
    ) -> Result<Imported, RuntimeError> {
        let file = spec.file.as_path();
        let api = self.api(self.endpoint.stall * 2)?;
        let digest = staged.digest.unwrap_or_default();
        let file_name = file.file_name().map_or_else(
            || "model.gguf".to_owned(),
            |f| f.to_string_lossy().into_owned(),
        );
        api.create_from_file(name, (&file_name, &digest), spec, context)
            .await?;
        Ok(Imported {
            name: name.to_owned(),
            detail: format!("imported `{}` as `{name}`", file.display()),
            file: None,
        })
    }

    fn import_keeps_name(&self) -> bool {
        true
    }

    fn interrupted(&self, model: &str) -> RuntimeError {
        RuntimeError::Interrupted {
            model: model.to_owned(),
        }
    }

    async fn serve(
        &self,
        request: &ServeRequest<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Serving, RuntimeError> {
        let (model, created) = self.serve_context(request, observer).await?;
        let mut serving = self.load(&model, request, observer).await?;
        serving.changed |= created.is_some();
        serving.created = created;
        Ok(serving)
    }

    async fn served(&self, model: &str) -> Result<Served, RuntimeError> {
        let api = self.quick_api()?;
        Ok(match api.show(model).await? {
            Some(show) => match show.num_ctx {
                Some(served) => Served {
                    serves: Serves::At(served),
                    detail: format!("`{model}` is installed and carries num_ctx {served}"),
                },
                None => Served {
                    serves: Serves::Unknown,
                    detail: format!("`{model}` is installed"),
                },
            },
            None => Served {
                serves: Serves::Missing,
                detail: format!("`{model}` is not installed"),
            },
        })
    }

    async fn keep_served(
        &self,
        model: &str,
        context: u64,
        made: Option<&crate::facts::runtime::Made>,
    ) -> Result<Kept, RuntimeError> {
        let api = self.quick_api()?;
        let shown = api.show(model).await?;
        let served = match &shown {
            Some(show) => match show.num_ctx {
                Some(served) if served >= context => return Ok(Kept::Right),
                Some(served) => Some(served),
                None => {
                    return Ok(Kept::Unknown(format!(
                        "`{model}` carries no num_ctx: Ollama's own default context applies"
                    )));
                }
            },
            None => None,
        };
        // A variant codex-local made is made again from its base; any other model is the user's to fix. A model
        // still there must be as codex-local left it (its digest), or it is someone else's by now.
        let ours = match made {
            None => false,
            Some(_) if served.is_none() => true,
            Some(made) => made.still_ours(KIND, self.digest_of(model).await.as_deref()),
        };
        let Some((base, named)) = crate::plan::variant_parts(model).filter(|_| ours) else {
            return Err(match served {
                Some(served) => RuntimeError::Short {
                    runtime: KIND.display_name(),
                    model: model.to_owned(),
                    served,
                    wanted: context,
                },
                None => RuntimeError::Gone {
                    runtime: KIND.display_name(),
                    model: model.to_owned(),
                    why: String::new(),
                },
            });
        };
        if api.show(&base).await?.is_none() {
            return Err(RuntimeError::Gone {
                runtime: KIND.display_name(),
                model: model.to_owned(),
                why: format!(", nor `{base}`, the model it was made from"),
            });
        }
        let num_ctx = named.max(context);
        self.api(SHOW_IDLE)?.create(model, &base, num_ctx).await?;
        let what = if served.is_some() {
            "carried a shorter context"
        } else {
            "was missing"
        };
        Ok(Kept::Repaired(format!(
            "`{model}` {what}: made it again from `{base}` with num_ctx {num_ctx}"
        )))
    }

    async fn verify(&self, model: &str, timeout: Duration) -> Result<Verified, RuntimeError> {
        let version = self.version.get().map(String::as_str);
        super::responses::verify_at(&self.endpoint, model, timeout, version).await
    }
}

impl Ollama {
    /// Finds the context Ollama would give the model and, when it will not do, creates (or reuses) a variant with
    /// `num_ctx`. Returns the name Codex should use, and the variant when this call created it.
    /// Another context under the variant's name: made again only when it is codex-local's own, as it left it.
    async fn check_replaceable(&self, request: &ServeRequest<'_>) -> Result<(), RuntimeError> {
        let now = self.digest_of(request.variant).await;
        if request
            .made_variant
            .is_some_and(|made| made.still_ours(KIND, now.as_deref()))
        {
            Ok(())
        } else {
            Err(RuntimeError::NameTaken {
                model: request.variant.to_owned(),
            })
        }
    }

    /// The digest `/api/tags` gives the model `name` now.
    async fn digest_of(&self, name: &str) -> Option<String> {
        self.models()
            .await
            .ok()?
            .into_iter()
            .find(|m| crate::facts::ollama::same_model(&m.name, name))
            .and_then(|m| m.digest)
    }

    async fn serve_context(
        &self,
        request: &ServeRequest<'_>,
        observer: &mut dyn Observer,
    ) -> Result<(String, Option<String>), RuntimeError> {
        let api = self.api(SHOW_IDLE)?;
        let Some(show) = api.show(request.model).await? else {
            return Err(RuntimeError::Failed {
                model: request.model.to_owned(),
                message: "Ollama does not list the model it just pulled".to_owned(),
            });
        };
        if !show.capabilities.is_empty() && !show.capabilities.iter().any(|c| c == "tools") {
            return Err(RuntimeError::NoTools {
                model: request.model.to_owned(),
                message: format!(
                    "Ollama lists its capabilities as {}",
                    show.capabilities.join(", ")
                ),
            });
        }
        let version = self.version.get().map_or("", String::as_str);
        let would_serve = show
            .num_ctx
            .unwrap_or_else(|| default_context(version, request.total_vram, show.context_length));
        let wanted = request.context;
        if (request.accepts)(would_serve) {
            let detail = format!(
                "Ollama serves `{}` with {would_serve} tokens already",
                request.model
            );
            observer.step(StepName::Context, StepStatus::Skipped, detail);
            return Ok((request.model.to_owned(), None));
        }
        let variant = request.variant;
        if let Some(existing) = api.show(variant).await? {
            if existing.num_ctx == Some(wanted) {
                let whose = if request.made_variant.is_some() {
                    ""
                } else {
                    " (not made by codex-local here: used as it is, and never made again by it)"
                };
                let detail = format!("`{variant}` already carries num_ctx {wanted}{whose}");
                observer.step(StepName::Context, StepStatus::Skipped, detail);
                return Ok((variant.to_owned(), None));
            }
            self.check_replaceable(request).await?;
        }
        api.create(variant, request.model, wanted).await?;
        let why = if would_serve < wanted {
            format!("Ollama would serve only {would_serve} tokens")
        } else {
            format!("Ollama would serve {would_serve} tokens, more than fits where planned")
        };
        let detail = format!("{why}: created `{variant}` with num_ctx {wanted}");
        observer.step(StepName::Context, StepStatus::Done, detail);
        Ok((variant.to_owned(), Some(variant.to_owned())))
    }

    /// Loads the model and reads back from `/api/ps` the context and GPU share it really got.
    async fn load(
        &self,
        model: &str,
        request: &ServeRequest<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Serving, RuntimeError> {
        let wanted = request.context;
        self.api(LOAD_IDLE)?.load(model).await?;
        let running = self.api(SHOW_IDLE)?.ps().await?;
        let full = full_name(model);
        let mut serving = Serving {
            model: model.to_owned(),
            context: wanted,
            placement: None,
            changed: false,
            created: None,
        };
        let Some(entry) = running.iter().find(|m| full_name(&m.name) == full) else {
            let detail =
                "loaded (Ollama did not list it in /api/ps, so the context is taken as asked)"
                    .to_owned();
            observer.step(StepName::Load, StepStatus::Done, detail);
            return Ok(serving);
        };
        let served = entry.context_length.unwrap_or(wanted);
        let placement = Placement {
            size_bytes: entry.size,
            vram_bytes: entry.size_vram,
        };
        let gpu_percent = placement.gpu_percent();
        serving.context = served;
        serving.placement = Some(placement);
        if served < wanted {
            observer.warn(format!(
                "Ollama serves `{model}` with only {served} tokens, not {wanted}: Codex is told the truth, but set \
                 `OLLAMA_CONTEXT_LENGTH={wanted}` where `ollama serve` runs for the full context"
            ));
        }
        if request.has_gpu && entry.size_vram < entry.size {
            observer.warn(format!(
                "only {gpu_percent}% of `{model}` fits in GPU memory; the rest runs on the CPU, several times slower. \
                 Close other programs that use the GPU, use a smaller `--context`, or a smaller `--model`"
            ));
        }
        let detail = format!("loaded with {served} tokens, {gpu_percent}% on the GPU");
        observer.step(StepName::Load, StepStatus::Done, detail);
        Ok(serving)
    }
}

/// The status of a server that answered with its version.
fn up(
    base: &Url,
    version: String,
    models: Result<Vec<InstalledModel>, ProbeError>,
) -> RuntimeStatus {
    let (models, error) = match models {
        Ok(models) => (models, None),
        Err(err) => (Vec::new(), Some(err.to_string())),
    };
    RuntimeStatus {
        name: KIND,
        url: base.to_string(),
        running: true,
        version: Some(version),
        api: None,
        models,
        error,
        hint: None,
        program: None,
    }
}

#[derive(Deserialize)]
struct Version {
    version: String,
}

#[derive(Deserialize)]
struct Tags {
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    details: Option<Details>,
    #[serde(default)]
    capabilities: Option<Vec<String>>,
    #[serde(default)]
    digest: Option<String>,
}

#[derive(Deserialize, Default)]
struct Details {
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
    context_length: Option<u64>,
}

fn read_version(answer: &Answer) -> Result<String, ProbeError> {
    if answer.status != StatusCode::OK {
        return Err(ProbeError::NotRuntime {
            expected: "an Ollama server",
            detail: format!("`GET {}` answered HTTP {}", answer.path, answer.status),
        });
    }
    let looks_like_json = answer.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !looks_like_json {
        return Err(ProbeError::NotRuntime {
            expected: "an Ollama server",
            detail: format!("`GET {}` did not answer JSON", answer.path),
        });
    }
    let version: Version = answer.json()?;
    Ok(version.version)
}

fn read_tags(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    if answer.status != StatusCode::OK {
        return Err(answer.error_message().map_or_else(
            || ProbeError::Status {
                path: answer.path.clone(),
                status: answer.status,
            },
            |message| ProbeError::Reported {
                path: answer.path.clone(),
                message,
            },
        ));
    }
    let tags: Tags = answer.json()?;
    Ok(tags
        .models
        .into_iter()
        .map(|tag| {
            let details = tag.details.unwrap_or_default();
            InstalledModel {
                name: tag.name,
                size_bytes: tag.size,
                display_name: None,
                family: details.family,
                parameter_size: details.parameter_size,
                quantization: details.quantization_level,
                context_length: details.context_length,
                capabilities: tag.capabilities,
                loaded: None,
                loaded_context_length: None,
                digest: tag.digest,
            }
        })
        .collect())
}

/// What `/api/show` says about a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ShowInfo {
    capabilities: Vec<String>,
    /// `num_ctx` from the model's parameters, when it sets one.
    num_ctx: Option<u64>,
    /// `<arch>.context_length` from the model's metadata: the trained maximum.
    context_length: Option<u64>,
}

#[derive(Deserialize)]
struct ShowBody {
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    parameters: Option<String>,
    #[serde(default)]
    model_info: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Reads `num_ctx` from Ollama's parameter text (`num_ctx                        65536`).
#[must_use]
fn num_ctx(parameters: &str) -> Option<u64> {
    parameters.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("num_ctx")).then(|| words.next()?.parse().ok())?
    })
}

/// Ollama's operations, on one client.
struct Api<'a> {
    http: Http,
    base: &'a Url,
    auth: &'a Auth,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        http::endpoint(self.base, path)
    }

    async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, RuntimeError> {
        self.http.post_json(self.base, path, body, self.auth).await
    }

    /// `POST /api/show`: `None` when the server does not have the model.
    async fn show(&self, model: &str) -> Result<Option<ShowInfo>, RuntimeError> {
        let response = self
            .post("api/show", &serde_json::json!({ "model": model }))
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(http::refusal(response, "api/show").await);
        }
        let answer = http::read_answer(response, "api/show").await?;
        let show: ShowBody =
            serde_json::from_slice(&answer.body).map_err(|err| RuntimeError::BadData {
                path: "/api/show".to_owned(),
                detail: err.to_string(),
            })?;
        let context_length = show.model_info.as_ref().and_then(|info| {
            info.iter()
                .find(|(key, _)| key.ends_with(".context_length"))
                .and_then(|(_, value)| value.as_u64())
        });
        Ok(Some(ShowInfo {
            capabilities: show.capabilities,
            num_ctx: show.parameters.as_deref().and_then(num_ctx),
            context_length,
        }))
    }

    /// `POST /api/pull` with streaming, reporting every progress line until `success`; stops after `stall` without
    /// progress.
    async fn pull(
        &self,
        model: &str,
        stall: Duration,
        observer: &mut dyn Observer,
    ) -> Result<(), RuntimeError> {
        let body = serde_json::json!({ "model": model, "stream": true });
        let response = self.post("api/pull", &body).await?;
        let failed = |message| RuntimeError::PullFailed {
            model: model.to_owned(),
            message,
        };
        if !response.status().is_success() {
            return Err(match http::refusal(response, "api/pull").await {
                RuntimeError::Status { message, .. } => failed(message),
                other => other,
            });
        }
        let mut seen = Seen::default();
        let stopped = |stalled: Option<Duration>| match stalled {
            Some(after) => RuntimeError::Stalled {
                model: model.to_owned(),
                seconds: after.as_secs(),
            },
            None => RuntimeError::PullDropped {
                url: self.url("api/pull"),
                model: model.to_owned(),
            },
        };
        follow(
            response,
            &self.url("api/pull"),
            Some(stall),
            failed,
            stopped,
            |event| {
                observer.progress(&Progress {
                    status: &event.status,
                    digest: event.digest.as_deref(),
                    total: event.total,
                    completed: event.completed,
                });
                seen.progress(event)
            },
        )
        .await
    }

    /// `POST /api/create`: a variant of `from` that carries its own `num_ctx` (it shares the base's blobs).
    /// `POST /api/create` from an uploaded GGUF file, with `num_ctx`.
    /// `POST /api/create` from an uploaded blob, with a pack's template, system prompt and parameters, and
    /// `num_ctx`.
    async fn create_from_file(
        &self,
        name: &str,
        (file_name, digest): (&str, &str),
        spec: &crate::plan::Import,
        num_ctx: u64,
    ) -> Result<(), RuntimeError> {
        let mut parameters = spec.parameters.clone().unwrap_or_default();
        parameters.insert("num_ctx".to_owned(), num_ctx.into());
        let mut body = serde_json::json!({ "model": name, "files": { file_name: digest }, "parameters": parameters, "stream": true });
        if let Some(template) = &spec.template {
            body["template"] = template.clone().into();
        }
        if let Some(system) = &spec.system {
            body["system"] = system.clone().into();
        }
        self.create_with(name, &body).await
    }

    async fn create(&self, name: &str, from: &str, num_ctx: u64) -> Result<(), RuntimeError> {
        let body = serde_json::json!({ "model": name, "from": from, "parameters": { "num_ctx": num_ctx }, "stream": true });
        self.create_with(name, &body).await
    }

    /// `POST /api/create` with `body`, followed to its end.
    async fn create_with(&self, name: &str, body: &serde_json::Value) -> Result<(), RuntimeError> {
        let response = self.post("api/create", body).await?;
        let failed = |message| RuntimeError::CreateFailed {
            model: name.to_owned(),
            message,
        };
        if !response.status().is_success() {
            return Err(match http::refusal(response, "api/create").await {
                RuntimeError::Status { message, .. } => failed(message),
                other => other,
            });
        }
        let target = self.url("api/create");
        let stopped = |_: Option<Duration>| RuntimeError::Dropped {
            url: target.clone(),
            what: format!("creating `{name}`"),
        };
        follow(response, &target, None, failed, stopped, |_| true).await
    }

    /// `POST /api/generate` with no prompt: loads the model and keeps it loaded for a while.
    async fn load(&self, model: &str) -> Result<(), RuntimeError> {
        let body = serde_json::json!({ "model": model, "stream": false, "keep_alive": "10m" });
        let response = self.post("api/generate", &body).await?;
        if !response.status().is_success() {
            return Err(http::refusal(response, "api/generate").await);
        }
        http::read_answer(response, "api/generate")
            .await
            .map_err(|err| match err {
                RuntimeError::Dropped { url, .. } => RuntimeError::Dropped {
                    url,
                    what: format!("loading `{model}`"),
                },
                other => other,
            })?;
        Ok(())
    }

    /// `GET /api/ps`: what is loaded, with the context really allocated (Ollama 0.10 and later).
    async fn ps(&self) -> Result<Vec<Loaded>, RuntimeError> {
        let response = self.http.get_for(self.base, "api/ps", self.auth).await?;
        if !response.status().is_success() {
            return Err(http::refusal(response, "api/ps").await);
        }
        let answer = http::read_answer(response, "api/ps").await?;
        let ps: PsBody =
            serde_json::from_slice(&answer.body).map_err(|err| RuntimeError::BadData {
                path: "/api/ps".to_owned(),
                detail: err.to_string(),
            })?;
        Ok(ps.models)
    }
}

/// What a pull reported so far, to tell progress from lines that only repeat or go back and forth.
#[derive(Default)]
struct Seen {
    /// The phases seen (a pull has a handful; a server inventing new ones without end stops counting as progress).
    statuses: Vec<String>,
    /// The most bytes seen of each layer.
    completed: Vec<(String, u64)>,
}

impl Seen {
    /// Whether `event` moved the pull on: a phase not seen before, or more bytes of a layer.
    fn progress(&mut self, event: &StreamEvent) -> bool {
        let new_phase = self.statuses.len() < 64 && !self.statuses.contains(&event.status);
        if new_phase {
            self.statuses.push(event.status.clone());
        }
        let layer = event.digest.clone().unwrap_or_default();
        let completed = event.completed.unwrap_or(0);
        let known = self.completed.len();
        let more = match self
            .completed
            .iter_mut()
            .find(|(digest, _)| *digest == layer)
        {
            Some((_, most)) if completed > *most => {
                *most = completed;
                true
            }
            None if known < 64 => {
                self.completed.push((layer, completed));
                completed > 0
            }
            Some(_) | None => false,
        };
        new_phase || more
    }
}

/// One line of a pull or create stream.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
struct StreamEvent {
    #[serde(default)]
    status: String,
    digest: Option<String>,
    total: Option<u64>,
    completed: Option<u64>,
    error: Option<String>,
}

/// Follows a streamed NDJSON answer to `success`, calling `on_event` for each line (which says whether it was
/// progress); an `error` line (sent with HTTP 200 once streaming has begun) fails with `failed(message)`, and a
/// stream that breaks before `success` fails with `stopped(None)`, one that stalls with `stopped(Some(after))`.
async fn follow(
    mut response: reqwest::Response,
    target: &str,
    stall: Option<Duration>,
    failed: impl Fn(String) -> RuntimeError,
    stopped: impl Fn(Option<Duration>) -> RuntimeError,
    mut on_event: impl FnMut(&StreamEvent) -> bool,
) -> Result<(), RuntimeError> {
    let mut succeeded = false;
    let read = stream::each_line(&mut response, stall, |line| {
        if line.trim().is_empty() {
            return Ok(false);
        }
        let event: StreamEvent =
            serde_json::from_str(line).map_err(|err| RuntimeError::BadData {
                path: target.to_owned(),
                detail: format!(
                    "{err} in `{}`",
                    crate::text::sanitize(&line.chars().take(120).collect::<String>())
                ),
            })?;
        if let Some(message) = &event.error {
            return Err(failed(crate::text::sanitize(message)));
        }
        if event.status == "success" {
            succeeded = true;
        }
        Ok(on_event(&event))
    })
    .await;
    match read {
        Ok(()) if succeeded => Ok(()),
        Err(Stop::Transport(err)) if err.is_timeout() => Err(stopped(stall)),
        Ok(()) | Err(Stop::Transport(_)) => Err(stopped(None)),
        Err(Stop::Stalled(after)) => Err(stopped(Some(after))),
        Err(Stop::Handler(err)) => Err(err),
        Err(Stop::LineTooLong) => Err(RuntimeError::LineTooLong {
            url: target.to_owned(),
        }),
    }
}

/// A model loaded in memory, from `/api/ps`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
struct Loaded {
    name: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    size_vram: u64,
    context_length: Option<u64>,
}

#[derive(Deserialize)]
struct PsBody {
    #[serde(default)]
    models: Vec<Loaded>,
}

/// `GET /api/ps`: what is loaded, with the context really allocated (Ollama 0.10 and later).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_num_ctx_from_parameter_text() {
        assert_eq!(
            num_ctx("stop \"<|im_end|>\"\nnum_ctx                        65536\ntemperature 0.7"),
            Some(65_536)
        );
        assert_eq!(num_ctx("temperature 0.7"), None);
    }
}
