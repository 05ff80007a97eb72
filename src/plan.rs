//! The init plan, a pure function of the facts (hardware, runtimes, Codex), the catalog and the options: which
//! runtime, model and context, which provider id, and the steps to carry out. Nothing here does I/O.

use serde::Serialize;
use thiserror::Error;

use crate::catalog::{Catalog, KvShape, Model, ollama_full_name};
use crate::fit::{self, Budget, Estimate, Fit, PassedOver};
use crate::hardware::Hardware;
use crate::runtime::{InstalledModel, RuntimeKind, RuntimeStatus, ollama};
use crate::size::human_bytes;

/// The first Ollama with `/v1/responses`, which Codex speaks.
pub const RESPONSES_API: (u64, u64, u64) = (0, 13, 4);

/// What the user asked of `init`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitOptions {
    pub runtime: Option<RuntimeKind>,
    pub model: Option<String>,
    pub context: Option<u64>,
    pub profile: String,
    pub profile_only: bool,
    pub offline: bool,
    pub dry_run: bool,
}

/// The facts a plan is made from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub hardware: &'a Hardware,
    pub runtimes: &'a [RuntimeStatus],
    /// `CODEX_OSS_BASE_URL`, when the user has moved Codex's built-in local providers with it.
    pub oss_base_url: Option<&'a str>,
    /// LM Studio's API token is set (`LM_API_TOKEN`): its authentication is on.
    pub lmstudio_token: bool,
}

/// How Codex reaches the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    /// `ollama`, `lmstudio`, or a custom id such as `codex-local-ollama`.
    pub id: String,
    /// For a custom provider: the `base_url` written to `[model_providers.<id>]`.
    pub base_url: Option<String>,
    /// For a custom provider: the environment variable Codex reads a bearer token from.
    pub env_key: Option<String>,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: &'static str,
    /// `planned`, `skipped`, `done` or `failed`.
    pub status: &'static str,
    pub detail: String,
}

/// What init will do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The chosen model's catalog entry, for estimates at other contexts.
    #[serde(skip)]
    pub entry: Model,
    /// The memory the plan was made for.
    #[serde(skip)]
    pub memory: Budget,
    pub runtime: RuntimeKind,
    pub url: String,
    /// The runtime was not running when planned (only in a dry run).
    pub runtime_running: bool,
    pub server_version: Option<String>,
    pub catalog_id: Option<String>,
    pub display_name: String,
    /// The model as the runtime names it, e.g. `qwen3-coder:30b`.
    pub base_model: String,
    /// The name written to Codex: the base model, or a variant that carries the context.
    pub model: String,
    pub installed: bool,
    pub context_length: u64,
    pub fit: Fit,
    pub need_bytes: u64,
    pub estimate: Estimate,
    pub budget: String,
    /// The context the runtime would serve the base model without help.
    pub default_context: Option<u64>,
    pub needs_variant: bool,
    pub provider: Provider,
    pub why: String,
    pub passed_over: Vec<PassedOver>,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

/// Why no plan can be made.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "No model runtime is running: neither Ollama at `{ollama}` nor LM Studio at `{lmstudio}` answers"
    )]
    NoRuntime { ollama: String, lmstudio: String },
    #[error("{name} is not running at `{url}`: {error}")]
    RuntimeDown {
        name: &'static str,
        url: String,
        error: String,
        hint: String,
    },
    #[error("`{0}` is neither in the catalog nor installed in the runtime")]
    UnknownModel(String),
    #[error("`{model}` has no {runtime} name in the catalog")]
    NotOnRuntime {
        model: String,
        runtime: &'static str,
    },
    #[error("`{model}` cannot call tools, so it cannot drive Codex")]
    NoTools { model: String },
    #[error("`{model}` does not fit this machine ({budget}): {reason}")]
    DoesNotFit {
        model: String,
        budget: String,
        reason: String,
    },
    #[error("No catalog model fits this machine ({budget})")]
    NothingFits {
        budget: String,
        reasons: Vec<PassedOver>,
    },
    #[error(
        "Offline mode plans among installed models only, and none of the installed models fits"
    )]
    NothingInstalled,
    #[error("`{model}` is not installed, and offline mode downloads nothing")]
    NotInstalledOffline { model: String },
    #[error(
        "Ollama {version} at `{url}` is too old for Codex, which needs its `/v1/responses` endpoint (Ollama 0.13.4 and later)"
    )]
    TooOld { version: String, url: String },
}

impl PlanError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NoRuntime { .. } => format!(
                "{}; or {}. `codex-local init --dry-run` shows the plan without a runtime",
                RuntimeKind::Ollama.start_hint(),
                RuntimeKind::Lmstudio.start_hint()
            ),
            Self::RuntimeDown { hint, .. } => hint.clone(),
            Self::UnknownModel(_) | Self::NotOnRuntime { .. } | Self::NoTools { .. } => {
                "`codex-local models` lists the catalog; pass a catalog id, an Ollama tag or an LM Studio key".to_owned()
            }
            Self::DoesNotFit { .. } => {
                "pick a smaller model (`codex-local models`), or a smaller `--context`".to_owned()
            }
            Self::NothingFits { reasons, .. } => {
                let smallest = reasons.last().map(|r| format!(" (smallest: `{}`, {})", r.id, r.reason));
                format!("this machine has too little memory for a coding model{}", smallest.unwrap_or_default())
            }
            Self::NotInstalledOffline { model } => {
                format!("run `codex-local init --model {model}` once with a network, or `ollama pull {model}`")
            }
            Self::TooOld { .. } => {
                "update Ollama from https://ollama.com/download, then run init again".to_owned()
            }
            Self::NothingInstalled => {
                "run `codex-local init` once with a network, or pull a model with `ollama pull`".to_owned()
            }
        }
    }
}

/// The reserved provider applies where Codex's built-in points: the runtime's default local address, or the
/// address `CODEX_OSS_BASE_URL` moves it to. LM Studio with authentication on needs a custom provider, since the
/// built-in one sends no token.
#[must_use]
pub fn provider_for(
    runtime: RuntimeKind,
    url: &str,
    oss_base_url: Option<&str>,
    token: bool,
) -> Provider {
    let api = format!("{}v1", ensure_slash(url));
    let needs_token = token && runtime == RuntimeKind::Lmstudio;
    let default_port = match runtime {
        RuntimeKind::Ollama => 11434,
        RuntimeKind::Lmstudio => 1234,
    };
    let at_default = reqwest::Url::parse(url).is_ok_and(|u| {
        matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            && u.port_or_known_default() == Some(default_port)
            && u.path() == "/"
    });
    let moved_here = oss_base_url.is_some_and(|oss| oss.trim_end_matches('/') == api);
    if (at_default || moved_here) && !needs_token {
        Provider {
            id: runtime.id().to_owned(),
            base_url: None,
            env_key: None,
        }
    } else {
        Provider {
            id: format!("codex-local-{}", runtime.id()),
            base_url: Some(api),
            env_key: needs_token.then(|| crate::settings::env_vars::LM_API_TOKEN.to_owned()),
        }
    }
}

fn ensure_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// The predictable name of an Ollama variant that carries a context: `qwen3-coder:30b` at 64k is
/// `qwen3-coder:30b-ctx64k`, `glm-4.7-flash` is `glm-4.7-flash:ctx64k`.
#[must_use]
pub fn variant_name(base: &str, context: u64) -> String {
    let suffix = format!("ctx{}", fit::context_label(context).replace(" tokens", ""));
    let last = base.rsplit('/').next().unwrap_or(base);
    if last.contains(':') && !base.ends_with(":latest") {
        format!("{base}-{suffix}")
    } else {
        format!("{}:{suffix}", base.trim_end_matches(":latest"))
    }
}

/// A catalog-like entry for an installed model that the catalog does not know: a cautious guess of its KV cache
/// (8 KB per token per billion parameters), from the size and parameter count the runtime reports.
#[must_use]
pub fn uncatalogued(installed: &InstalledModel) -> Model {
    let size = installed.size_bytes.unwrap_or(0);
    let params_b = installed
        .parameter_size
        .as_deref()
        .and_then(|p| p.trim_end_matches(['B', 'b']).parse::<f64>().ok())
        .unwrap_or_else(|| {
            #[expect(clippy::cast_precision_loss, reason = "a rough parameter count")]
            let guess = size as f64 / 0.58e9;
            guess
        });
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive, small byte count"
    )]
    let per_token = (8000.0 * params_b).max(1.0) as u64;
    Model {
        id: installed.name.clone(),
        name: installed.name.clone(),
        ollama: Some(installed.name.clone()),
        lmstudio: Some(installed.name.clone()),
        size_bytes: size,
        size_exact: true,
        params_total_b: params_b,
        params_active_b: params_b,
        context_trained: installed.context_length.unwrap_or(131_072),
        tools: installed
            .capabilities
            .as_ref()
            .is_none_or(|caps| caps.iter().any(|c| c == "tools")),
        thinking: false,
        score: 0.0,
        score_benchmark: "not in the catalog".to_owned(),
        score_source: String::new(),
        license: String::new(),
        notes: Some("not in the catalog: memory is a rough estimate".to_owned()),
        kv: KvShape {
            full_layers: 1,
            kv_heads: 1,
            key_length: per_token.div_ceil(4),
            value_length: per_token.div_ceil(4),
            sliding_layers: 0,
            sliding_window: 0,
            state_bytes: 0,
        },
    }
}

/// The runtime's name for a catalog model.
#[must_use]
pub fn runtime_name(model: &Model, runtime: RuntimeKind) -> Option<&str> {
    match runtime {
        RuntimeKind::Ollama => model.ollama.as_deref(),
        RuntimeKind::Lmstudio => model.lmstudio.as_deref(),
    }
}

/// Whether the runtime has `name` installed (Ollama's `:latest` made explicit).
#[must_use]
pub fn is_installed(status: &RuntimeStatus, name: &str) -> bool {
    let full = ollama_full_name(name);
    status
        .models
        .iter()
        .any(|m| m.name == name || ollama_full_name(&m.name) == full)
}

fn pick_runtime<'r>(
    facts: &Facts<'r>,
    catalog: &Catalog,
    options: &InitOptions,
    budget: &Budget,
) -> Result<&'r RuntimeStatus, PlanError> {
    let find = |kind| facts.runtimes.iter().find(|r| r.name == kind);
    if let Some(kind) = options.runtime {
        let status = find(kind).ok_or(PlanError::NoRuntime {
            ollama: String::new(),
            lmstudio: String::new(),
        })?;
        if !status.running && !options.dry_run {
            return Err(PlanError::RuntimeDown {
                name: kind.display_name(),
                url: status.url.clone(),
                error: status.error.clone().unwrap_or_default(),
                hint: status
                    .hint
                    .clone()
                    .unwrap_or_else(|| kind.start_hint().to_owned()),
            });
        }
        return Ok(status);
    }
    let running: Vec<&RuntimeStatus> = facts.runtimes.iter().filter(|r| r.running).collect();
    match running.as_slice() {
        [] if options.dry_run => find(RuntimeKind::Ollama).ok_or(PlanError::NoRuntime {
            ollama: String::new(),
            lmstudio: String::new(),
        }),
        [] => Err(PlanError::NoRuntime {
            ollama: find(RuntimeKind::Ollama)
                .map(|r| r.url.clone())
                .unwrap_or_default(),
            lmstudio: find(RuntimeKind::Lmstudio)
                .map(|r| r.url.clone())
                .unwrap_or_default(),
        }),
        [one] => Ok(one),
        several => {
            // Both run: prefer the one that already holds a catalog model that fits on the GPU.
            let holds_fitting = |status: &RuntimeStatus| {
                catalog.models.iter().any(|model| {
                    runtime_name(model, status.name).is_some_and(|name| is_installed(status, name))
                        && fit::contexts(options.context).iter().any(|&ctx| {
                            model.context_trained >= ctx
                                && fit::estimate(model, ctx, budget).fit == Fit::Gpu
                        })
                })
            };
            Ok(several
                .iter()
                .copied()
                .find(|status| holds_fitting(status))
                .or_else(|| {
                    several
                        .iter()
                        .copied()
                        .find(|s| s.name == RuntimeKind::Ollama)
                })
                .unwrap_or(several[0]))
        }
    }
}

/// The models to choose from: the one named with `--model` (from the catalog, or an installed model the catalog
/// does not know, kept in `owned`), or every catalog model the runtime can pull (installed ones when offline).
fn candidates<'a>(
    catalog: &'a Catalog,
    status: &RuntimeStatus,
    options: &InitOptions,
    owned: &'a mut Option<Model>,
    warnings: &mut Vec<String>,
) -> Result<Vec<&'a Model>, PlanError> {
    let runtime = status.name;
    let Some(name) = &options.model else {
        let mut models: Vec<&Model> = catalog
            .models
            .iter()
            .filter(|m| m.tools && runtime_name(m, runtime).is_some())
            .collect();
        if options.offline {
            models.retain(|m| {
                runtime_name(m, runtime).is_some_and(|name| is_installed(status, name))
            });
            if models.is_empty() {
                return Err(PlanError::NothingInstalled);
            }
        }
        return Ok(models);
    };
    let model: &Model = if let Some(model) = catalog.find(name) {
        model
    } else {
        let installed = status
            .models
            .iter()
            .find(|m| m.name == *name || ollama_full_name(&m.name) == ollama_full_name(name))
            .ok_or_else(|| PlanError::UnknownModel(name.clone()))?;
        warnings.push(format!(
            "`{name}` is not in the catalog: its memory need is a rough estimate and its tool calling untested"
        ));
        owned.insert(uncatalogued(installed))
    };
    if runtime_name(model, runtime).is_none() {
        return Err(PlanError::NotOnRuntime {
            model: model.id.clone(),
            runtime: runtime.display_name(),
        });
    }
    if !model.tools {
        return Err(PlanError::NoTools {
            model: model.id.clone(),
        });
    }
    Ok(vec![model])
}

/// The steps of a plan, each `planned` or `skipped`.
#[expect(
    clippy::too_many_arguments,
    reason = "the plan's pieces, computed once in `make`"
)]
fn steps(
    options: &InitOptions,
    runtime: RuntimeKind,
    base_model: &str,
    installed: bool,
    size: u64,
    written_model: &str,
    context: u64,
    default_context: Option<u64>,
    provider: &Provider,
) -> Vec<Step> {
    let needs_variant = written_model != base_model;
    let steps = vec![
        Step {
            name: "pull",
            status: if installed { "skipped" } else { "planned" },
            detail: if installed {
                format!("`{base_model}` is already installed")
            } else if options.offline {
                format!("`{base_model}` must be installed first")
            } else {
                format!("download `{base_model}` ({})", human_bytes(size))
            },
        },
        Step {
            name: "context",
            status: "planned",
            detail: match runtime {
                RuntimeKind::Ollama if needs_variant => format!(
                    "Ollama would serve {} tokens by default: create `{written_model}` with num_ctx {context}",
                    default_context.unwrap_or(0)
                ),
                RuntimeKind::Ollama => format!("check that Ollama serves `{base_model}` with {context} tokens"),
                RuntimeKind::Lmstudio => format!("load `{base_model}` with a {context}-token context"),
            },
        },
        Step {
            name: "load",
            status: "planned",
            detail: "load the model and read the context and GPU share it really gets".to_owned(),
        },
        Step {
            name: "configure",
            status: "planned",
            detail: if options.profile_only {
                format!("write the `{}` profile, leave Codex's default alone", options.profile)
            } else {
                format!("point Codex at `{written_model}` through provider `{}`, and write the `{}` profile", provider.id, options.profile)
            },
        },
        Step {
            name: "verify",
            status: "planned",
            detail: "send one request the way Codex does and check that the model answers and calls a tool".to_owned(),
        },
    ];
    // LM Studio's load is the context step itself.
    steps
        .into_iter()
        .filter(|step| !(runtime == RuntimeKind::Lmstudio && step.name == "load"))
        .collect()
}

fn no_fit_error(no_fit: fit::NoFit, options: &InitOptions) -> PlanError {
    if let Some(name) = &options.model {
        PlanError::DoesNotFit {
            model: name.clone(),
            budget: no_fit.budget.clone(),
            reason: no_fit
                .reasons
                .first()
                .map(|r| r.reason.clone())
                .unwrap_or_default(),
        }
    } else if options.offline {
        PlanError::NothingInstalled
    } else {
        PlanError::NothingFits {
            budget: no_fit.budget,
            reasons: no_fit.reasons,
        }
    }
}

/// Warnings about the context asked for and about where the model will run.
fn fit_warnings(options: &InitOptions, estimate: &Estimate, base_model: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(requested) = options.context.filter(|c| *c < fit::CODEX_FLOOR) {
        warnings.push(format!(
            "{requested} tokens is below what Codex needs to work (about {}): its first request alone is about 10k \
             tokens",
            fit::CODEX_FLOOR
        ));
    }
    match estimate.fit {
        Fit::Split => warnings.push(format!(
            "`{base_model}` does not fit in GPU memory: about {}% of it runs on the CPU, several times slower",
            estimate.cpu_percent()
        )),
        Fit::Cpu => warnings.push(format!("no usable GPU: `{base_model}` runs on the CPU, slowly")),
        Fit::Gpu | Fit::No => {}
    }
    warnings
}

/// Whether the server's own context (`served`) must be overridden: it is shorter than planned, or so much longer
/// that the model would no longer fit where planned (Ollama gives 262,144 tokens to a model on 47 GiB of VRAM).
#[must_use]
pub fn needs_num_ctx(model: &Model, served: u64, planned: &Estimate, budget: &Budget) -> bool {
    served < planned.context_length
        || (served > planned.context_length
            && fit::estimate(model, served, budget).fit > planned.fit)
}

/// Refusals that depend on the runtime: a download in offline mode, an Ollama without `/v1/responses` (only a
/// warning in a dry run).
fn runtime_checks(
    status: &RuntimeStatus,
    options: &InitOptions,
    base_model: &str,
    installed: bool,
) -> Result<Vec<String>, PlanError> {
    let mut warnings = Vec::new();
    let runtime = status.name;
    if options.offline && !installed {
        return Err(PlanError::NotInstalledOffline {
            model: base_model.to_owned(),
        });
    }
    if let Some(version) = status
        .version
        .as_deref()
        .filter(|v| runtime == RuntimeKind::Ollama && !ollama::version_at_least(v, RESPONSES_API))
    {
        let error = PlanError::TooOld {
            version: version.to_owned(),
            url: status.url.clone(),
        };
        if !options.dry_run {
            return Err(error);
        }
        warnings.push(error.to_string());
    }

    Ok(warnings)
}

/// Makes the plan.
pub fn make(
    facts: &Facts<'_>,
    catalog: &Catalog,
    options: &InitOptions,
) -> Result<Plan, PlanError> {
    let budget = Budget::from_hardware(facts.hardware);
    let status = pick_runtime(facts, catalog, options, &budget)?;
    let runtime = status.name;
    let mut warnings = Vec::new();

    let mut owned = None;
    let candidates = candidates(catalog, status, options, &mut owned, &mut warnings)?;
    let choice = fit::choose(&candidates, &budget, options.context)
        .map_err(|no_fit| no_fit_error(no_fit, options))?;
    let model = choice.model;
    let estimate = choice.estimate.clone();
    let context = estimate.context_length;
    let base_model = runtime_name(model, runtime).unwrap_or(&model.id).to_owned();
    let installed = is_installed(status, &base_model);
    warnings.extend(runtime_checks(status, options, &base_model, installed)?);
    warnings.extend(fit_warnings(options, &estimate, &base_model));
    let total_vram = facts.hardware.total_vram();
    let default_context = match runtime {
        RuntimeKind::Ollama => Some(ollama::default_context(
            status.version.as_deref().unwrap_or(""),
            total_vram,
            Some(model.context_trained),
        )),
        RuntimeKind::Lmstudio => None,
    };
    let needs_variant = runtime == RuntimeKind::Ollama
        && default_context.is_some_and(|d| needs_num_ctx(model, d, &estimate, &budget));
    let written_model = if needs_variant {
        variant_name(&base_model, context)
    } else {
        base_model.clone()
    };
    let provider = provider_for(
        runtime,
        &status.url,
        facts.oss_base_url,
        facts.lmstudio_token,
    );

    let why = if options.model.is_some() {
        format!("asked for with --model; {}", estimate.explain(&budget))
    } else {
        format!(
            "the best-scoring catalog model that runs here ({} on {}); {}",
            model.score,
            model.score_benchmark,
            estimate.explain(&budget)
        )
    };

    let steps = steps(
        options,
        runtime,
        &base_model,
        installed,
        model.size_bytes,
        &written_model,
        context,
        default_context,
        &provider,
    );
    if !status.running {
        warnings.push(format!(
            "{} is not running at `{}`: this plan assumes nothing is installed",
            runtime.display_name(),
            status.url
        ));
    }

    Ok(Plan {
        entry: model.clone(),
        memory: budget.clone(),
        runtime,
        url: status.url.clone(),
        runtime_running: status.running,
        server_version: status.version.clone(),
        catalog_id: catalog.find(&model.id).map(|m| m.id.clone()),
        display_name: model.name.clone(),
        base_model,
        model: written_model,
        installed,
        context_length: context,
        fit: estimate.fit,
        need_bytes: estimate.need_bytes,
        estimate,
        budget: budget.describe(),
        default_context,
        needs_variant,
        provider,
        why,
        passed_over: choice.passed_over,
        steps,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::hardware::described::Described;

    fn hardware(ram: &str, gpus: &[&str]) -> Hardware {
        let gpus: Vec<String> = gpus.iter().map(|g| (*g).to_owned()).collect();
        Described::from_args(Some(ram), &gpus, false)
            .expect("valid")
            .expect("described")
            .hardware()
    }

    fn runtime(kind: RuntimeKind, running: bool, models: &[(&str, u64)]) -> RuntimeStatus {
        RuntimeStatus {
            name: kind,
            url: match kind {
                RuntimeKind::Ollama => "http://127.0.0.1:11434/".to_owned(),
                RuntimeKind::Lmstudio => "http://127.0.0.1:1234/".to_owned(),
            },
            running,
            version: running.then(|| "0.32.15".to_owned()),
            api: None,
            models: models
                .iter()
                .map(|(name, size)| InstalledModel {
                    name: (*name).to_owned(),
                    size_bytes: Some(*size),
                    display_name: None,
                    family: None,
                    parameter_size: Some("8.0B".to_owned()),
                    quantization: None,
                    context_length: Some(131_072),
                    capabilities: Some(vec!["completion".to_owned(), "tools".to_owned()]),
                    loaded: None,
                    loaded_context_length: None,
                })
                .collect(),
            error: (!running).then(|| "connection refused".to_owned()),
            hint: None,
        }
    }

    fn plan_for(
        hardware: &Hardware,
        runtimes: &[RuntimeStatus],
        catalog: &Catalog,
        options: &InitOptions,
    ) -> Result<Plan, PlanError> {
        make(
            &Facts {
                hardware,
                runtimes,
                oss_base_url: None,
                lmstudio_token: false,
            },
            catalog,
            options,
        )
    }

    fn options() -> InitOptions {
        InitOptions {
            profile: "local".to_owned(),
            ..InitOptions::default()
        }
    }

    #[test]
    fn plans_the_best_gpu_model_with_a_context_variant() {
        let catalog = catalog::load(None).expect("catalog");
        let hw = hardware("64GiB", &["24GiB"]);
        let runtimes = [
            runtime(RuntimeKind::Ollama, true, &[]),
            runtime(RuntimeKind::Lmstudio, false, &[]),
        ];
        let plan = plan_for(&hw, &runtimes, &catalog, &options()).expect("a plan");
        assert_eq!(plan.runtime, RuntimeKind::Ollama);
        assert_eq!(plan.base_model, "gpt-oss:20b");
        assert_eq!(plan.context_length, 65_536);
        assert_eq!(
            plan.default_context,
            Some(32_768),
            "24 GiB of VRAM gets 32k by default"
        );
        assert!(plan.needs_variant);
        assert_eq!(plan.model, "gpt-oss:20b-ctx64k");
        assert_eq!(
            plan.provider,
            Provider {
                id: "ollama".to_owned(),
                base_url: None,
                env_key: None,
            }
        );
        assert_eq!(plan.steps[0].status, "planned");
        assert_eq!(plan.passed_over.len(), 4);
    }

    #[test]
    fn skips_the_pull_of_an_installed_model_and_prefers_the_runtime_that_has_it() {
        let catalog = catalog::load(None).expect("catalog");
        let hw = hardware("64GiB", &["24GiB"]);
        let runtimes = [
            runtime(RuntimeKind::Ollama, true, &[]),
            runtime(
                RuntimeKind::Lmstudio,
                true,
                &[("openai/gpt-oss-20b", 12_000_000_000)],
            ),
        ];
        let plan = plan_for(&hw, &runtimes, &catalog, &options()).expect("a plan");
        assert_eq!(plan.runtime, RuntimeKind::Lmstudio);
        assert!(plan.installed);
        assert_eq!(plan.steps[0].status, "skipped");
        assert!(
            !plan.needs_variant,
            "LM Studio loads with an explicit context"
        );
    }

    #[test]
    fn refuses_without_a_runtime_but_plans_a_dry_run() {
        let catalog = catalog::load(None).expect("catalog");
        let hw = hardware("64GiB", &["24GiB"]);
        let runtimes = [
            runtime(RuntimeKind::Ollama, false, &[]),
            runtime(RuntimeKind::Lmstudio, false, &[]),
        ];
        let facts = Facts {
            hardware: &hw,
            runtimes: &runtimes,
            oss_base_url: None,
            lmstudio_token: false,
        };
        let err = make(&facts, &catalog, &options()).expect_err("nothing runs");
        assert!(matches!(err, PlanError::NoRuntime { .. }));
        assert!(err.hint().contains("ollama serve"));
        let plan = make(
            &facts,
            &catalog,
            &InitOptions {
                dry_run: true,
                ..options()
            },
        )
        .expect("a dry-run plan");
        assert!(!plan.runtime_running);
        assert_eq!(plan.base_model, "gpt-oss:20b");
    }

    #[test]
    fn honours_model_context_and_offline_options() {
        let catalog = catalog::load(None).expect("catalog");
        let hw = hardware("64GiB", &["40GiB"]);
        let runtimes = [runtime(
            RuntimeKind::Ollama,
            true,
            &[
                ("qwen3-coder:30b", 18_556_700_761),
                ("mine:8b", 5_000_000_000),
            ],
        )];
        let facts = Facts {
            hardware: &hw,
            runtimes: &runtimes,
            oss_base_url: None,
            lmstudio_token: false,
        };

        let plan = make(
            &facts,
            &catalog,
            &InitOptions {
                model: Some("qwen3-coder:30b".into()),
                ..options()
            },
        )
        .expect("plan");
        assert_eq!(plan.catalog_id.as_deref(), Some("qwen3-coder-30b"));
        assert!(plan.installed);
        assert_eq!(plan.default_context, Some(32_768));
        assert_eq!(plan.model, "qwen3-coder:30b-ctx64k");

        let plan = make(
            &facts,
            &catalog,
            &InitOptions {
                context: Some(32_768),
                model: Some("qwen3-coder-30b".into()),
                ..options()
            },
        )
        .expect("plan");
        assert_eq!(plan.context_length, 32_768);
        assert!(!plan.needs_variant, "the default already gives 32k");
        assert_eq!(plan.model, "qwen3-coder:30b");

        let offline = make(
            &facts,
            &catalog,
            &InitOptions {
                offline: true,
                ..options()
            },
        )
        .expect("plan");
        assert_eq!(
            offline.base_model, "qwen3-coder:30b",
            "only installed models when offline"
        );

        let mine = make(
            &facts,
            &catalog,
            &InitOptions {
                model: Some("mine:8b".into()),
                ..options()
            },
        )
        .expect("plan");
        assert_eq!(mine.base_model, "mine:8b");
        assert!(
            mine.warnings
                .iter()
                .any(|w| w.contains("not in the catalog"))
        );

        let err = make(
            &facts,
            &catalog,
            &InitOptions {
                model: Some("llama9".into()),
                ..options()
            },
        )
        .expect_err("unknown");
        assert_eq!(err, PlanError::UnknownModel("llama9".into()));

        let small = hardware("16GiB", &["8GiB"]);
        let err = plan_for(
            &small,
            &runtimes,
            &catalog,
            &InitOptions {
                model: Some("gpt-oss-120b".into()),
                ..options()
            },
        )
        .expect_err("too big");
        assert!(matches!(err, PlanError::DoesNotFit { .. }), "{err:?}");
    }

    #[test]
    fn a_runtime_elsewhere_gets_a_custom_provider() {
        assert_eq!(
            provider_for(RuntimeKind::Ollama, "http://localhost:11434/", None, false).id,
            "ollama"
        );
        let moved = provider_for(
            RuntimeKind::Ollama,
            "http://127.0.0.1:5555/",
            Some("http://127.0.0.1:5555/v1"),
            false,
        );
        assert_eq!(
            moved,
            Provider {
                id: "ollama".to_owned(),
                base_url: None,
                env_key: None,
            },
            "CODEX_OSS_BASE_URL moves the built-in"
        );
        let custom = provider_for(RuntimeKind::Ollama, "http://127.0.0.1:5555/", None, false);
        assert_eq!(custom.id, "codex-local-ollama");
        assert_eq!(custom.base_url.as_deref(), Some("http://127.0.0.1:5555/v1"));
        assert_eq!(
            provider_for(RuntimeKind::Lmstudio, "http://gpu-box:1234/", None, false).id,
            "codex-local-lmstudio"
        );
        assert_eq!(
            variant_name("qwen3-coder:30b", 65_536),
            "qwen3-coder:30b-ctx64k"
        );
        assert_eq!(
            variant_name("glm-4.7-flash", 65_536),
            "glm-4.7-flash:ctx64k"
        );
        assert_eq!(
            variant_name("glm-4.7-flash:latest", 32_768),
            "glm-4.7-flash:ctx32k"
        );
    }
}
