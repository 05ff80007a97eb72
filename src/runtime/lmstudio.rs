//! LM Studio through its HTTP API: detection (`/lmstudio-greeting`), models (`/api/v1/models`, else
//! `/api/v0/models`), download jobs, loading with a context, and the Responses request.
//!
//! LM Studio answers unknown routes with HTTP 200 and `{"error": "Unexpected endpoint or method. …"}`, so every
//! answer is checked for an `error` key whatever its status.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::error::RuntimeError;
use super::http::{self, Answer, Auth, Http, ProbeError};
use super::lmstudio_files;
use super::{
    Endpoint, Fetched, Imported, Kept, Observer, Progress, Runtime, ServeRequest, Served, Serves,
    Serving, Staged, Verified,
};
use crate::facts::runtime::{InstalledModel, RuntimeKind, RuntimeStatus};
use crate::plan::steps::{StepName, StepStatus};

/// How long loading a model may take (a large model from a slow disk takes minutes).
const LOAD_IDLE: Duration = Duration::from_mins(15);
/// How many polls (`CODEX_LOCAL_POLL_INTERVAL_MS` apart, 500 ms by default: 15 s) LM Studio may take to list a
/// model file placed in its folder.
const LISTING_POLLS: u32 = 30;
/// How long `lms ls` may take.
const LMS_WAIT: Duration = Duration::from_secs(15);
/// The most read of `lms ls --json`.
const MAX_LISTING: usize = 8 << 20;

/// How long a quick request may stay silent.
const QUICK_IDLE: Duration = Duration::from_mins(1);

/// Puts the file in LM Studio's folder on a blocking thread, reporting a copy's progress every half second; a
/// copy stops (and its partial file goes) when this future is dropped.
async fn place(
    file: &std::path::Path,
    models: &std::path::Path,
    (relative, replace): (&str, bool),
    observer: &mut dyn Observer,
) -> std::io::Result<(std::path::PathBuf, lmstudio_files::How)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    /// Tells the copy to stop when the import is dropped (Ctrl-C), and removes its partial file at once: the
    /// process may end before the copying thread sees the word.
    struct Stop(Arc<AtomicBool>, std::path::PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            if !self.0.swap(true, Ordering::Relaxed) {
                let _ = std::fs::remove_file(&self.1);
            }
        }
    }
    let total = std::fs::metadata(file).map_or(0, |m| m.len());
    let partial = lmstudio_files::partial_path(&lmstudio_files::target_path(models, relative));
    let (done, stop) = (
        Arc::new(AtomicU64::new(0)),
        Stop(Arc::new(AtomicBool::new(false)), partial),
    );
    let (copied, stopped) = (Arc::clone(&done), Arc::clone(&stop.0));
    let (file, models, relative) = (
        file.to_path_buf(),
        models.to_path_buf(),
        relative.to_owned(),
    );
    let work = tokio::task::spawn_blocking(move || {
        lmstudio_files::place(&file, &models, (&relative, replace), &mut |bytes| {
            copied.store(bytes, Ordering::Relaxed);
            !stopped.load(Ordering::Relaxed)
        })
    });
    tokio::pin!(work);
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            placed = &mut work => {
                // Done: nothing to stop or remove.
                stop.0.store(true, Ordering::Relaxed);
                return placed.map_err(std::io::Error::other)?;
            }
            _ = ticks.tick() => {
                let bytes = done.load(Ordering::Relaxed);
                if bytes > 0 {
                    observer.progress(&Progress {
                        status: "copying the file into LM Studio's models folder",
                        digest: None,
                        total: Some(total),
                        completed: Some(bytes),
                    });
                }
            }
        }
    }
}

/// An LM Studio server.
pub struct LmStudio {
    endpoint: Endpoint,
}

impl LmStudio {
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }

    fn base(&self) -> &Url {
        &self.endpoint.url
    }

    fn auth(&self) -> &Auth {
        &self.endpoint.auth
    }

    /// The API with a client whose idle deadline is `idle`.
    fn api(&self, idle: Duration) -> Result<Api<'_>, RuntimeError> {
        Ok(Api {
            http: Http::ops(idle)?,
            base: &self.endpoint.url,
            auth: &self.endpoint.auth,
        })
    }

    /// LM Studio's key for the model file at `relative` in its folder, once it lists it: from `lms ls --json`, which
    /// names each model's file, else the one new model of the file's size in its API's list (or the one model of
    /// that size). Waits [`LISTING_POLLS`] polls.
    async fn find_key(
        &self,
        relative: &str,
        (size, was_there): (u64, bool),
        before: &[InstalledModel],
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + self.endpoint.poll * LISTING_POLLS;
        loop {
            if let Some(program) = &self.endpoint.program
                && let Some(key) = listed_by_lms(program, relative).await
            {
                return Some(key);
            }
            if let Ok(models) = self.models().await {
                let sized = |m: &&InstalledModel| {
                    m.size_bytes == Some(size) && lmstudio_files::is_plain_key(&m.name)
                };
                let new: Vec<&InstalledModel> = models
                    .iter()
                    .filter(|m| !before.iter().any(|b| b.name == m.name))
                    .filter(sized)
                    .collect();
                if let [only] = new.as_slice() {
                    return Some(only.name.clone());
                }
                // A file placed by an earlier run is listed from before; a model that was there before a file
                // placed now is someone else's, whatever its size.
                let same: Vec<&InstalledModel> = models.iter().filter(sized).collect();
                if was_there && let [only] = same.as_slice() {
                    return Some(only.name.clone());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(self.endpoint.poll).await;
        }
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
impl Runtime for LmStudio {
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
        super::within(KIND, base, timeout * 2 + timeout / 4, async {
            let (greeting, (api, listed)) = tokio::join!(
                client.get(base, "lmstudio-greeting", &Auth::None),
                self.list(),
            );
            match greeting.and_then(|answer| read_greeting(&answer)) {
                Ok(()) => up(base, api, listed),
                Err(err) => super::down(KIND, base, &err),
            }
        })
        .await
    }

    async fn models(&self) -> Result<Vec<InstalledModel>, ProbeError> {
        self.list().await.1
    }

    async fn fetch(
        &self,
        model: &str,
        observer: &mut dyn Observer,
    ) -> Result<Fetched, RuntimeError> {
        let api = self.api(QUICK_IDLE)?;
        let start = api.download(model).await?;
        let DownloadStart::Job { id, total } = start else {
            return Ok(Fetched::AlreadyThere);
        };
        self.follow_download(&api, model, &id, total, observer)
            .await
            .map_err(|err| match err {
                RuntimeError::Failed { message, .. } => RuntimeError::DownloadFailed {
                    model: model.to_owned(),
                    message,
                },
                other => other,
            })?;
        Ok(Fetched::Downloaded)
    }

    async fn stage(
        &self,
        spec: &crate::plan::Import,
        name: &str,
        observer: &mut dyn Observer,
    ) -> Result<Staged, RuntimeError> {
        let file = spec.file.as_path();
        let placement = |message: String| RuntimeError::Placement {
            file: file.display().to_string(),
            message,
        };
        if !crate::facts::codex::is_loopback_url(self.base().as_str()) {
            return Err(placement(format!(
                "LM Studio at {} is on another machine; copy the file there and import it with `lms import`",
                self.base()
            )));
        }
        let home = self.endpoint.home_dir.clone().ok_or_else(|| {
            placement(
                "the home folder, where LM Studio keeps its settings, is not known".to_owned(),
            )
        })?;
        if let Some(expected) = &spec.digest {
            let found = super::import::sha256_of(file, name, observer).await?;
            if found != *expected {
                return Err(RuntimeError::NotThePacksFile {
                    file: file.display().to_string(),
                    expected: expected.clone(),
                    found,
                });
            }
        }
        let before = self.models().await.unwrap_or_default();
        let relative = lmstudio_files::relative_path(name);
        let models = lmstudio_files::models_folder(&home);
        let placed = place(file, &models, (&relative, spec.replace_placed), observer)
            .await
            .map_err(|err| placement(err.to_string()))?;
        Ok(Staged {
            placed: Some(placed),
            before,
            ..Staged::default()
        })
    }

    async fn make(
        &self,
        spec: &crate::plan::Import,
        name: &str,
        _context: u64,
        staged: Staged,
    ) -> Result<Imported, RuntimeError> {
        let Some((target, how)) = staged.placed else {
            return Err(RuntimeError::Placement {
                file: spec.file.display().to_string(),
                message: "the file was not placed".to_owned(),
            });
        };
        let relative = lmstudio_files::relative_path(name);
        let size = std::fs::metadata(&target).map_or(0, |m| m.len());
        // A file placed by an earlier run (or replacing one) is listed from before.
        let listed_before = how == lmstudio_files::How::There || spec.replace_placed;
        let key = self
            .find_key(&relative, (size, listed_before), &staged.before)
            .await
            .ok_or_else(|| RuntimeError::NotListed {
                path: target.display().to_string(),
            })?;
        let done = match how {
            lmstudio_files::How::Linked => "linked",
            lmstudio_files::How::Copied => "copied",
            lmstudio_files::How::There => "found",
        };
        Ok(Imported {
            detail: format!(
                "{done} `{}` in LM Studio's models folder ({}); LM Studio lists it as `{key}`",
                spec.file.display(),
                target.display()
            ),
            name: key,
            // Found there or put there, the file in codex-local's own folder is codex-local's to name.
            file: Some(target),
        })
    }

    fn interrupted(&self, model: &str) -> RuntimeError {
        RuntimeError::StoppedFollowing {
            model: model.to_owned(),
        }
    }

    async fn serve(
        &self,
        request: &ServeRequest<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Serving, RuntimeError> {
        let api = self.api(LOAD_IDLE)?;
        let key = request.model;
        let wanted = request.context;
        let loaded = api.instances(key).await?;
        if let Some(instance) = loaded
            .iter()
            .find(|i| i.context_length.is_some_and(|c| c >= wanted))
        {
            let served = instance.context_length.unwrap_or(wanted);
            let detail = format!("`{}` is loaded with {served} tokens already", instance.id);
            observer.step(StepName::Context, StepStatus::Skipped, detail);
            return Ok(serving(&instance.id, served, false));
        }
        // A second load would make a second instance (`key:2`): unload the short ones first.
        for instance in &loaded {
            api.unload(&instance.id).await?;
        }
        let instance = api.load(key, wanted).await?;
        let served = instance.context_length.unwrap_or(wanted);
        let unloaded = if loaded.is_empty() {
            String::new()
        } else {
            format!(" (unloaded {} with a shorter context)", loaded.len())
        };
        observer.step(
            StepName::Context,
            StepStatus::Done,
            format!("loaded `{}` with {served} tokens{unloaded}", instance.id),
        );
        if served < wanted {
            observer.warn(format!(
                "LM Studio loaded `{}` with only {served} tokens, not {wanted}; Codex is told the truth",
                instance.id
            ));
        }
        Ok(serving(&instance.id, served, true))
    }

    async fn served(&self, model: &str) -> Result<Served, RuntimeError> {
        let body = match self.quick_api()?.listing(model).await {
            Err(RuntimeError::LmStudioTooOld { .. }) => return self.served_v0(model).await,
            other => other?,
        };
        let found = body.models.iter().find(|m| {
            m.key == model
                || m.loaded_instances
                    .iter()
                    .any(|instance| instance.id == model)
        });
        let Some(found) = found else {
            return Ok(Served {
                serves: Serves::Missing,
                detail: format!("`{model}` is not in LM Studio"),
            });
        };
        let context = found
            .loaded_instances
            .iter()
            .filter(|instance| instance.id == model || found.key == model)
            .filter_map(|instance| instance.config.as_ref()?.context_length)
            .max();
        Ok(match context {
            Some(context) => Served {
                serves: Serves::At(context),
                detail: format!("`{model}` is loaded with {context} tokens"),
            },
            None => Served {
                serves: Serves::NotLoaded,
                detail: format!(
                    "`{model}` is not loaded: LM Studio would load it on the first request with its default \
                     context"
                ),
            },
        })
    }

    async fn keep_served(
        &self,
        model: &str,
        context: u64,
        _made: Option<&crate::facts::runtime::Made>,
    ) -> Result<Kept, RuntimeError> {
        // Loading changes nothing on disk, so it is done for any model.
        let body = match self.quick_api()?.listing(model).await {
            Err(RuntimeError::LmStudioTooOld { .. }) => {
                return Ok(Kept::Unknown(
                    "this LM Studio (before 0.4) does not say which context it serves".to_owned(),
                ));
            }
            other => other?,
        };
        let gone = |why: String| RuntimeError::Gone {
            runtime: KIND.display_name(),
            model: model.to_owned(),
            why,
        };
        let Some(found) = owner_of(&body, model) else {
            return Err(gone(String::new()));
        };
        // Codex's requests go to the instance it names, or to any instance of the model it names.
        let serving: Vec<Option<u64>> = found
            .loaded_instances
            .iter()
            .filter(|instance| instance.id == model || found.key == model)
            .map(|instance| instance.config.as_ref().and_then(|c| c.context_length))
            .collect();
        match serving.iter().copied().max() {
            Some(Some(served)) if served >= context => return Ok(Kept::Right),
            Some(None) => {
                return Ok(Kept::Unknown(format!(
                    "LM Studio does not say which context `{model}` is loaded with"
                )));
            }
            _ => {}
        }
        let was = match serving.iter().copied().flatten().max() {
            Some(served) => format!("was loaded with only {served} tokens"),
            None => "was not loaded".to_owned(),
        };
        let served = self.load_again(found, model, context).await?;
        Ok(Kept::Repaired(format!(
            "`{model}` {was}: loaded it with {served} tokens"
        )))
    }

    async fn verify(&self, model: &str, timeout: Duration) -> Result<Verified, RuntimeError> {
        super::responses::verify_at(&self.endpoint, model, timeout, None).await
    }
}

impl LmStudio {
    /// Loads `found` again with `context` for Codex's `model`, the short instance of that name unloaded first (a load
    /// beside it would make a second instance, `key:2`); returns the context it got.
    async fn load_again(
        &self,
        found: &InstancesModel,
        model: &str,
        context: u64,
    ) -> Result<u64, RuntimeError> {
        let api = self.api(LOAD_IDLE)?;
        // Only the instance Codex names goes; other instances of the model are someone else's.
        let short = found.loaded_instances.iter().filter(|instance| {
            instance.id == model
                && instance
                    .config
                    .as_ref()
                    .and_then(|c| c.context_length)
                    .is_some_and(|served| served < context)
        });
        for instance in short {
            api.unload(&instance.id).await?;
        }
        let loaded = api.load(&found.key, context).await?;
        let served = loaded.context_length.unwrap_or(context);
        if loaded.id != model && found.key != model {
            return Err(RuntimeError::Gone {
                runtime: KIND.display_name(),
                model: model.to_owned(),
                why: format!(
                    " (LM Studio named the instance it loaded now `{}`)",
                    crate::text::sanitize(&loaded.id)
                ),
            });
        }
        if served < context {
            return Err(RuntimeError::Short {
                runtime: KIND.display_name(),
                model: model.to_owned(),
                served,
                wanted: context,
            });
        }
        Ok(served)
    }
}

/// The model that `name` (a model key, or the id of one of its instances, loaded or not: `key:2`) belongs to.
fn owner_of<'a>(body: &'a InstancesBody, name: &str) -> Option<&'a InstancesModel> {
    body.models
        .iter()
        .find(|m| m.key == name || m.loaded_instances.iter().any(|i| i.id == name))
        .or_else(|| {
            let (key, number) = name.rsplit_once(':')?;
            number.parse::<u32>().ok()?;
            body.models.iter().find(|m| m.key == key)
        })
}

fn serving(model: &str, context: u64, changed: bool) -> Serving {
    Serving {
        model: model.to_owned(),
        context,
        placement: None,
        changed,
        created: None,
    }
}

impl LmStudio {
    /// The models, from `/api/v1/models`, else `/api/v0/models` (LM Studio before 0.4), with the API that answered.
    async fn list(&self) -> (&'static str, Result<Vec<InstalledModel>, ProbeError>) {
        let endpoint = &self.endpoint;
        let client = &endpoint.probe;
        let answer = client.get(self.base(), "api/v1/models", self.auth()).await;
        match answer.and_then(|answer| read_v1(&answer)) {
            Err(err) if !matches!(err, ProbeError::Unauthorized { .. }) => {
                let v0 = client
                    .get(self.base(), "api/v0/models", self.auth())
                    .await
                    .and_then(|answer| read_v0(&answer));
                ("v0", v0)
            }
            other => ("v1", other),
        }
    }

    /// What a listing from LM Studio before 0.4 (`/api/v0/models`) says: whether the model is there and loaded;
    /// that API does not say with which context.
    async fn served_v0(&self, model: &str) -> Result<Served, RuntimeError> {
        let found = self
            .models()
            .await
            .map_err(|source| RuntimeError::Unreachable {
                url: self.base().to_string(),
                source,
            })?;
        Ok(match found.iter().find(|m| m.name == model) {
            None => Served {
                serves: Serves::Missing,
                detail: format!("`{model}` is not in LM Studio"),
            },
            Some(found) if found.loaded == Some(true) => Served {
                serves: Serves::Unknown,
                detail: format!(
                    "`{model}` is loaded (this LM Studio does not say with which context)"
                ),
            },
            Some(_) => Served {
                serves: Serves::NotLoaded,
                detail: format!(
                    "`{model}` is not loaded: LM Studio would load it on the first request with its default \
                     context"
                ),
            },
        })
    }

    /// Polls a download job until it completes or fails; stops when no bytes arrive for the stall limit.
    async fn follow_download(
        &self,
        api: &Api<'_>,
        model: &str,
        job: &str,
        total: Option<u64>,
        observer: &mut dyn Observer,
    ) -> Result<(), RuntimeError> {
        let stall = self.endpoint.stall;
        let mut last = (0, tokio::time::Instant::now());
        loop {
            let status = api.download_status(job).await?;
            let downloaded = status.downloaded_bytes.unwrap_or(0);
            if downloaded > last.0 {
                last = (downloaded, tokio::time::Instant::now());
            } else if last.1.elapsed() >= stall {
                return Err(RuntimeError::Stalled {
                    model: model.to_owned(),
                    seconds: stall.as_secs(),
                });
            }
            let total = status.total_size_bytes.or(total);
            observer.progress(&Progress {
                status: "downloading",
                digest: None,
                total,
                completed: status.downloaded_bytes,
            });
            match status.status.as_str() {
                "completed" => return Ok(()),
                "failed" => {
                    return Err(RuntimeError::Failed {
                        model: job.to_owned(),
                        message: status
                            .error
                            .unwrap_or_else(|| "the download failed".to_owned()),
                    });
                }
                _ => tokio::time::sleep(self.endpoint.poll.min(stall)).await,
            }
        }
    }
}

const KIND: RuntimeKind = RuntimeKind::Lmstudio;
const NOT_LM_STUDIO: &str = "an LM Studio server";

#[derive(Deserialize)]
struct Greeting {
    lmstudio: bool,
}

#[derive(Deserialize)]
struct V1Models {
    models: Vec<V1Model>,
}

#[derive(Deserialize)]
struct V1Model {
    key: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    display_name: Option<String>,
    architecture: Option<String>,
    quantization: Option<V1Quantization>,
    size_bytes: Option<u64>,
    params_string: Option<String>,
    max_context_length: Option<u64>,
    capabilities: Option<V1Capabilities>,
    #[serde(default)]
    loaded_instances: Vec<V1Instance>,
}

#[derive(Deserialize)]
struct V1Quantization {
    name: Option<String>,
}

#[derive(Deserialize)]
struct V1Capabilities {
    vision: Option<bool>,
    trained_for_tool_use: Option<bool>,
}

#[derive(Deserialize)]
struct V1Instance {
    config: Option<V1InstanceConfig>,
}

#[derive(Deserialize)]
struct V1InstanceConfig {
    context_length: Option<u64>,
}

#[derive(Deserialize)]
struct V0Models {
    data: Vec<V0Model>,
}

#[derive(Deserialize)]
struct V0Model {
    id: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    arch: Option<String>,
    quantization: Option<String>,
    state: Option<String>,
    max_context_length: Option<u64>,
}

/// The status of a server that greeted as LM Studio.
fn up(
    base: &Url,
    api: &'static str,
    listed: Result<Vec<InstalledModel>, ProbeError>,
) -> RuntimeStatus {
    let mut status = RuntimeStatus {
        name: KIND,
        url: base.to_string(),
        running: true,
        version: None,
        api: Some(api),
        models: Vec::new(),
        error: None,
        hint: None,
        program: None,
    };
    match listed {
        Ok(models) => status.models = models,
        Err(err) => {
            if matches!(err, ProbeError::Unauthorized { .. }) {
                status.hint = Some(
                    "LM Studio's API authentication is on: set `LM_API_TOKEN` to a token from its server \
                     settings, or turn authentication off"
                        .to_owned(),
                );
            }
            status.error = Some(err.to_string());
        }
    }
    status
}

/// `{"lmstudio": true}` is LM Studio. A 200 with LM Studio's "Unexpected endpoint" error is an LM Studio too old
/// to greet.
fn read_greeting(answer: &Answer) -> Result<(), ProbeError> {
    if answer.status == StatusCode::OK {
        if let Ok(Greeting { lmstudio: true }) = answer.json::<Greeting>() {
            return Ok(());
        }
        if answer
            .error_message()
            .is_some_and(|message| message.starts_with("Unexpected endpoint or method"))
        {
            return Ok(());
        }
    }
    Err(ProbeError::NotRuntime {
        expected: NOT_LM_STUDIO,
        detail: format!(
            "`GET {}` answered HTTP {} without LM Studio's greeting",
            answer.path, answer.status
        ),
    })
}

/// Checks an answer for LM Studio's ways of saying no: 401, another non-200, or an `error` key.
fn check(answer: &Answer) -> Result<(), ProbeError> {
    if answer.status == StatusCode::UNAUTHORIZED {
        return Err(ProbeError::Unauthorized {
            path: answer.path.clone(),
        });
    }
    if let Some(message) = answer.error_message() {
        return Err(ProbeError::Reported {
            path: answer.path.clone(),
            message,
        });
    }
    if answer.status != StatusCode::OK {
        return Err(ProbeError::Status {
            path: answer.path.clone(),
            status: answer.status,
        });
    }
    Ok(())
}

fn read_v1(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    check(answer)?;
    let listed: V1Models = answer.json()?;
    Ok(listed
        .models
        .into_iter()
        .map(|model| {
            let mut capabilities = Vec::new();
            if let Some(caps) = &model.capabilities {
                if caps.trained_for_tool_use == Some(true) {
                    capabilities.push("tools".to_owned());
                }
                if caps.vision == Some(true) {
                    capabilities.push("vision".to_owned());
                }
            }
            if model.kind.as_deref() == Some("embedding") {
                capabilities.push("embedding".to_owned());
            }
            InstalledModel {
                name: model.key,
                size_bytes: model.size_bytes,
                display_name: model.display_name,
                family: model.architecture,
                parameter_size: model.params_string,
                quantization: model.quantization.and_then(|q| q.name),
                context_length: model.max_context_length,
                capabilities: model.capabilities.is_some().then_some(capabilities),
                loaded: Some(!model.loaded_instances.is_empty()),
                loaded_context_length: model
                    .loaded_instances
                    .iter()
                    .find_map(|instance| instance.config.as_ref()?.context_length),
                digest: None,
            }
        })
        .collect())
}

fn read_v0(answer: &Answer) -> Result<Vec<InstalledModel>, ProbeError> {
    check(answer)?;
    let listed: V0Models = answer.json()?;
    Ok(listed
        .data
        .into_iter()
        .map(|model| InstalledModel {
            name: model.id,
            size_bytes: None,
            display_name: None,
            family: model.arch,
            parameter_size: None,
            quantization: model.quantization,
            context_length: model.max_context_length,
            capabilities: (model.kind.as_deref() == Some("embeddings"))
                .then(|| vec!["embedding".to_owned()]),
            loaded: model.state.map(|state| state == "loaded"),
            loaded_context_length: None,
            digest: None,
        })
        .collect())
}

/// How a download request was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DownloadStart {
    /// The model is on disk already.
    AlreadyDownloaded,
    /// A download job runs in LM Studio.
    Job { id: String, total: Option<u64> },
}

#[derive(Deserialize)]
struct DownloadAnswer {
    job_id: Option<String>,
    status: String,
    total_size_bytes: Option<u64>,
}

/// Where a download job stands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct DownloadStatus {
    /// `downloading`, `paused`, `completed` or `failed`.
    pub status: String,
    pub downloaded_bytes: Option<u64>,
    pub total_size_bytes: Option<u64>,
    pub error: Option<String>,
}

/// A loaded instance of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instance {
    pub id: String,
    pub context_length: Option<u64>,
}

#[derive(Deserialize)]
struct InstancesBody {
    models: Vec<InstancesModel>,
}

#[derive(Deserialize)]
struct InstancesModel {
    key: String,
    #[serde(default)]
    loaded_instances: Vec<InstanceBody>,
}

#[derive(Deserialize)]
struct InstanceBody {
    id: String,
    config: Option<V1InstanceConfig>,
}

#[derive(Deserialize)]
struct LoadAnswer {
    instance_id: String,
    load_config: Option<V1InstanceConfig>,
}

/// LM Studio older than 0.4 has no download or load API; its "unexpected endpoint" answer becomes this error.
fn too_old(err: RuntimeError, model: &str) -> RuntimeError {
    match err {
        RuntimeError::Status { message, .. } if message.starts_with("Unexpected endpoint") => {
            RuntimeError::LmStudioTooOld {
                model: model.to_owned(),
            }
        }
        other => other,
    }
}

/// LM Studio's operations, on one client.
struct Api<'a> {
    http: Http,
    base: &'a Url,
    auth: &'a Auth,
}

impl Api<'_> {
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, RuntimeError> {
        let response = self.http.get_for(self.base, path, self.auth).await?;
        http::read_json(response, path).await
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, RuntimeError> {
        let response = self
            .http
            .post_json(self.base, path, body, self.auth)
            .await?;
        http::read_json(response, path).await
    }

    /// `POST /api/v1/models/download`: starts a download, or says the model is there already.
    async fn download(&self, model: &str) -> Result<DownloadStart, RuntimeError> {
        let answer: DownloadAnswer = self
            .post(
                "api/v1/models/download",
                &serde_json::json!({ "model": model }),
            )
            .await
            .map_err(|err| too_old(err, model))?;
        match (answer.status.as_str(), answer.job_id) {
            ("already_downloaded" | "completed", _) => Ok(DownloadStart::AlreadyDownloaded),
            (_, Some(id)) => Ok(DownloadStart::Job {
                id,
                total: answer.total_size_bytes,
            }),
            (status, None) => Err(RuntimeError::DownloadFailed {
                model: model.to_owned(),
                message: format!(
                    "LM Studio answered `{}` without a job",
                    crate::text::sanitize(status)
                ),
            }),
        }
    }

    /// `GET /api/v1/models/download/status/{job}`.
    async fn download_status(&self, job: &str) -> Result<DownloadStatus, RuntimeError> {
        self.get(&format!("api/v1/models/download/status/{job}"))
            .await
    }

    /// Every model with its loaded instances, from `/api/v1/models`.
    async fn listing(&self, model: &str) -> Result<InstancesBody, RuntimeError> {
        self.get("api/v1/models")
            .await
            .map_err(|err| too_old(err, model))
    }

    /// The loaded instances of `model`.
    async fn instances(&self, model: &str) -> Result<Vec<Instance>, RuntimeError> {
        Ok(self
            .listing(model)
            .await?
            .models
            .into_iter()
            .filter(|m| m.key == model)
            .flat_map(|m| m.loaded_instances)
            .map(|instance| Instance {
                id: instance.id,
                context_length: instance.config.and_then(|c| c.context_length),
            })
            .collect())
    }

    /// `POST /api/v1/models/unload`.
    async fn unload(&self, instance: &str) -> Result<(), RuntimeError> {
        let body = serde_json::json!({ "instance_id": instance });
        self.post::<serde_json::Value>("api/v1/models/unload", &body)
            .await?;
        Ok(())
    }

    /// `POST /api/v1/models/load` with a context length; blocks until loaded and returns the instance and the
    /// context LM Studio really gave it.
    async fn load(&self, model: &str, context: u64) -> Result<Instance, RuntimeError> {
        let body = serde_json::json!({ "model": model, "context_length": context, "echo_load_config": true });
        let answer: LoadAnswer = self
            .post("api/v1/models/load", &body)
            .await
            .map_err(|err| too_old(err, model))?;
        Ok(Instance {
            id: answer.instance_id,
            context_length: answer.load_config.and_then(|c| c.context_length),
        })
    }
}

/// The key `lms ls --json` gives the model file at `relative`; `None` when `lms` fails, takes over 15 s, or does
/// not list it.
async fn listed_by_lms(program: &std::path::Path, relative: &str) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut command = tokio::process::Command::new(program);
    command
        .args(["ls", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    // Its own process group, so that whatever it starts goes with it.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().ok()?;
    let group = child.id();
    let mut listing = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        let read = async {
            (&mut stdout)
                .take(MAX_LISTING as u64)
                .read_to_end(&mut listing)
                .await
        };
        let _ = tokio::time::timeout(LMS_WAIT, read).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
    }
    #[cfg(unix)]
    if let Some(pid) = group.and_then(|id| rustix::process::Pid::from_raw(id.cast_signed())) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill().await;
    lmstudio_files::key_in_listing(&listing, relative)
}
