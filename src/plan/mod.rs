//! The init plan, a pure function of the facts (hardware, runtimes), the catalog and the options: which runtime,
//! model and context, which provider id, and the steps to carry out. Nothing here does I/O or prints.

pub mod catalog;
mod choose;
pub mod fit;
pub mod from_header;
pub mod provider;
pub mod speed;
pub mod steps;

use thiserror::Error;

use crate::facts::hardware::Hardware;
use crate::facts::ollama::version_at_least;
use crate::facts::runtime::{ContextControl, RuntimeKind, RuntimeStatus};
use catalog::{Catalog, Model};
use fit::{Budget, Estimate, Fit, PassedOver};
pub use provider::{Provider, variant_name, variant_parts};
use steps::Step;

/// What the user asked of `init`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitOptions {
    pub runtime: Option<RuntimeKind>,
    pub model: Option<String>,
    pub context: Option<u64>,
    pub profile: String,
    pub profile_only: bool,
    pub offline: bool,
    pub dry_run: bool,
    /// The least estimated writing speed worth choosing, in tokens/s (`--min-speed`).
    pub min_speed: Option<f64>,
    /// `--model` named a GGUF file on disk, or `--from` a pack: a file to import into the runtime rather than pull.
    pub import: Option<Import>,
}

/// A model file to import, and what is known of it beforehand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    pub file: std::path::PathBuf,
    /// `--name`: the exact name it gets [default: its own name with the context].
    pub name: Option<String>,
    /// From a pack: the digest the file must have, and Ollama's template, system prompt and parameters for it.
    pub digest: Option<String>,
    pub template: Option<String>,
    pub system: Option<String>,
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// A file codex-local placed for the runtime under this name before (its journal says so) may be replaced by
    /// this one.
    pub replace_placed: bool,
}

/// The default usable writing speed, in tokens/s.
pub const DEFAULT_MIN_SPEED: f64 = 10.0;

/// The facts a plan is made from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub hardware: &'a Hardware,
    pub runtimes: &'a [RuntimeStatus],
    /// `CODEX_OSS_BASE_URL`, when the user has moved Codex's built-in local providers with it.
    pub oss_base_url: Option<&'a str>,
    /// The runtimes whose API token is set: their authentication is on.
    pub tokens: &'a [RuntimeKind],
    /// The model named with `--model`, when neither the catalog nor a runtime has it, sized from its registry
    /// manifest and GGUF header.
    pub remote: Option<&'a Model>,
}

/// What init will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The chosen model's catalog entry, for estimates at other contexts.
    pub entry: Model,
    /// The memory the plan was made for.
    pub memory: Budget,
    pub runtime: RuntimeKind,
    pub url: String,
    /// The runtime was not running when planned (only in a dry run).
    pub runtime_running: bool,
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
    /// A model file to import rather than pull.
    pub import: Option<Import>,
    /// The estimated speed where it runs.
    pub speed: Option<speed::Speed>,
    /// What was traded between quality and context, when anything was.
    pub traded: Option<String>,
}

impl Plan {
    /// The plan for a model the runtime named itself (an import into LM Studio): the name it serves and Codex uses.
    #[must_use]
    pub fn named(&self, name: &str) -> Self {
        let mut plan = self.clone();
        name.clone_into(&mut plan.base_model);
        name.clone_into(&mut plan.model);
        plan
    }

    /// Whether a context the runtime gives by itself can stay: see [`needs_num_ctx`].
    #[must_use]
    pub fn accepts_context(&self, served: u64) -> bool {
        !needs_num_ctx(&self.entry, served, &self.estimate, &self.memory)
    }
}

/// Why no plan can be made.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("Internal error: the plan was asked for without the hardware")]
    NoHardware,
    #[error("No model runtime is running: neither {places} answers")]
    NoRuntime { places: String, hints: Vec<String> },
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
    #[error("No model here is trained for {requested} tokens: the longest context is {longest}")]
    ContextTooLong { requested: u64, longest: u64 },
    #[error("No catalog model fits this machine ({budget})")]
    NothingFits {
        budget: String,
        reasons: Vec<PassedOver>,
        smallest: Option<PassedOver>,
    },
    #[error(
        "Offline mode plans among installed models only, and none of the installed models fits"
    )]
    NothingInstalled { runtime: RuntimeKind },
    #[error("`{model}` is not installed, and offline mode downloads nothing")]
    NotInstalledOffline { model: String, runtime: RuntimeKind },
    #[error(
        "{} {version} at `{url}` is too old for Codex, which needs its `/v1/responses` endpoint ({} {since} and later)",
        runtime.display_name(),
        runtime.display_name()
    )]
    TooOld {
        runtime: RuntimeKind,
        version: String,
        url: String,
        since: String,
    },
}

impl PlanError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NoHardware => "this is a bug in codex-local; please report it".to_owned(),
            Self::NoRuntime { hints, .. } => format!(
                "{}. `codex-local init --dry-run` shows the plan without a runtime",
                hints.join("; or ")
            ),
            Self::RuntimeDown { hint, .. } => hint.clone(),
            Self::UnknownModel(_) => {
                "`codex-local models` lists the catalog; pass a catalog id, an Ollama tag or an LM Studio key (with \
                 `--offline` nothing is looked up: a model not installed comes from `codex-local pack DIR --model \
                 NAME` on a connected machine, then `init --from DIR`)"
                    .to_owned()
            }
            Self::NotOnRuntime { .. } | Self::NoTools { .. } => {
                "`codex-local models` lists the catalog; pass a catalog id, an Ollama tag or an LM Studio key".to_owned()
            }
            Self::ContextTooLong { longest, .. } => {
                format!("ask for `--context {longest}` or less (65536 is what Codex works best with)")
            }
            Self::DoesNotFit { .. } => {
                "pick a smaller model (`codex-local models`), or a smaller `--context`".to_owned()
            }
            Self::NothingFits { smallest, .. } => {
                let smallest = smallest
                    .as_ref()
                    .map(|r| format!(": the smallest, `{}`, {}", r.id, r.reason));
                format!(
                    "this machine has too little memory for a coding model{}",
                    smallest.unwrap_or_default()
                )
            }
            Self::NotInstalledOffline { model, runtime } => format!(
                "run `codex-local init --model {model}` once with a network, or `{}`",
                runtime.get_command(model)
            ),
            Self::TooOld { runtime, .. } => {
                format!("{}, then run init again", runtime.info().update_hint)
            }
            Self::NothingInstalled { runtime } => format!(
                "run `codex-local init` once with a network, or download a model with `{}`",
                runtime.get_command("<model>")
            ),
        }
    }
}

fn no_fit_error(no_fit: fit::NoFit, options: &InitOptions, runtime: RuntimeKind) -> PlanError {
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
        PlanError::NothingInstalled { runtime }
    } else {
        PlanError::NothingFits {
            budget: no_fit.budget,
            reasons: no_fit.reasons,
            smallest: no_fit.smallest,
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
    // A file on disk is imported without a network.
    if options.offline && !installed && options.import.is_none() {
        return Err(PlanError::NotInstalledOffline {
            runtime,
            model: base_model.to_owned(),
        });
    }
    let since = runtime.info().responses_since;
    if let Some((version, since)) = status
        .version
        .as_deref()
        .zip(since)
        .filter(|(v, since)| !version_at_least(v, *since))
    {
        let error = PlanError::TooOld {
            runtime,
            version: version.to_owned(),
            url: status.url.clone(),
            since: format!("{}.{}.{}", since.0, since.1, since.2),
        };
        if !options.dry_run {
            return Err(error);
        }
        warnings.push(error.to_string());
    }

    Ok(warnings)
}

/// The model chosen, before the runtime-specific parts are added.
struct Chosen<'a> {
    status: &'a RuntimeStatus,
    model: Model,
    estimate: Estimate,
    passed_over: Vec<PassedOver>,
    traded: Option<String>,
    warnings: Vec<String>,
}

/// Picks the runtime and the best model that fits.
fn choose<'r>(
    inputs: &Inputs<'r>,
    catalog: &Catalog,
    options: &InitOptions,
    budget: &Budget,
) -> Result<Chosen<'r>, PlanError> {
    let status = choose::pick_runtime(inputs, catalog, options, budget)?;
    let mut warnings = Vec::new();
    let mut owned = None;
    let candidates = choose::candidates(
        catalog,
        status,
        options,
        (&mut owned, inputs.remote),
        &mut warnings,
    )?;
    if let Some(requested) = options.context {
        let longest = candidates
            .iter()
            .map(|m| m.context_trained)
            .max()
            .unwrap_or(0);
        if longest < requested {
            return Err(PlanError::ContextTooLong { requested, longest });
        }
    }
    let machine = speed::Throughput::of(inputs.hardware);
    let rate = |model: &Model, estimate: &Estimate| {
        speed::estimate(model, estimate, &machine).map(|s| s.decode_tps)
    };
    let floor = fit::Floor {
        rate: &rate,
        min: options.min_speed.unwrap_or(DEFAULT_MIN_SPEED),
    };
    let choice = fit::choose(&candidates, budget, options.context, Some(&floor))
        .map_err(|no_fit| no_fit_error(no_fit, options, status.name))?;
    Ok(Chosen {
        status,
        model: choice.model.clone(),
        estimate: choice.estimate,
        passed_over: choice.passed_over,
        traded: choice.traded,
        warnings,
    })
}

/// Why this model: asked for, or the best that runs here (by the ranking rule), and what was traded for it.
fn why(
    model: &Model,
    estimate: &Estimate,
    budget: &Budget,
    options: &InitOptions,
    traded: Option<&str>,
) -> String {
    if options.import.as_ref().is_some_and(|i| i.digest.is_some()) {
        return format!("from the pack; {}", estimate.explain(budget));
    }
    if options.model.is_some() {
        return format!("asked for with --model; {}", estimate.explain(budget));
    }
    let traded = traded.map_or_else(String::new, |t| format!("; {t}"));
    format!(
        "the best catalog model that runs here ({}); {}{traded}",
        model.ranking(),
        estimate.explain(budget)
    )
}

/// The context the runtime would give the model by itself, where it decides one (Ollama), and the name Codex
/// uses: the model, or a variant that carries the planned context when the default will not do.
fn served_by_default(
    (status, options): (&RuntimeStatus, &InitOptions),
    model: &Model,
    base_model: &str,
    (estimate, budget): (&Estimate, &Budget),
    total_vram: u64,
) -> (Option<u64>, String) {
    if options.import.is_some() {
        // Imported with its context: nothing more to make.
        return (None, base_model.to_owned());
    }
    let info = status.name.info();
    match (info.context, info.default_context) {
        (ContextControl::ModelVariant, Some(default_context)) => {
            let default = default_context(
                status.version.as_deref().unwrap_or(""),
                total_vram,
                Some(model.context_trained),
            );
            let name = if needs_num_ctx(model, default, estimate, budget) {
                variant_name(base_model, estimate.context_length)
            } else {
                base_model.to_owned()
            };
            (Some(default), name)
        }
        _ => (None, base_model.to_owned()),
    }
}

/// The model as the runtime names it: its catalog name; for a file imported into Ollama, a name that carries the
/// context it is imported with, as a variant's does (or `--name`); for one placed in LM Studio's folder, the name
/// of its folder there (LM Studio gives the key once it lists the file).
fn base_model_of(
    status: &RuntimeStatus,
    model: &Model,
    options: &InitOptions,
    context: u64,
) -> String {
    let name = model.name_on(status.name).unwrap_or(&model.id);
    match &options.import {
        Some(import) if status.name == RuntimeKind::Lmstudio => {
            folder_name(import.name.as_deref().unwrap_or(name))
        }
        Some(Import {
            name: Some(exact), ..
        }) => exact.clone(),
        Some(_) => variant_name(name, context),
        None => name.to_owned(),
    }
}

/// A name as a folder name: lowercase letters, digits, `-`, `_` and `.`, others as `-`.
fn folder_name(name: &str) -> String {
    let folder: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let folder = folder.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if folder.is_empty() {
        "imported".to_owned()
    } else {
        folder.chars().take(100).collect()
    }
}

/// Makes the plan.
pub fn make(
    inputs: &Inputs<'_>,
    catalog: &Catalog,
    options: &InitOptions,
) -> Result<Plan, PlanError> {
    let budget = Budget::from_hardware(inputs.hardware);
    let Chosen {
        status,
        model,
        estimate,
        passed_over,
        traded,
        mut warnings,
    } = choose(inputs, catalog, options, &budget)?;
    let runtime = status.name;
    let context = estimate.context_length;
    let base_model = base_model_of(status, &model, options, context);
    let installed = status.has(&base_model);
    warnings.extend(runtime_checks(status, options, &base_model, installed)?);
    warnings.extend(fit_warnings(options, &estimate, &base_model));
    let (default_context, written_model) = served_by_default(
        (status, options),
        &model,
        &base_model,
        (&estimate, &budget),
        inputs.hardware.total_vram(),
    );
    let needs_variant = written_model != base_model;
    warnings.extend(not_running_warning(status));
    let speed = speed::estimate(&model, &estimate, &speed::Throughput::of(inputs.hardware));
    warnings.extend(slow_warning(speed.as_ref(), options));
    let mut plan = Plan {
        import: options.import.clone(),
        speed,
        why: why(&model, &estimate, &budget, options, traded.as_deref()),
        traded,
        catalog_id: catalog.find(&model.id).map(|m| m.id.clone()),
        display_name: model.name.clone(),
        budget: budget.describe(),
        memory: budget,
        runtime,
        url: status.url.clone(),
        runtime_running: status.running,
        base_model,
        model: written_model,
        installed,
        context_length: context,
        fit: estimate.fit,
        need_bytes: estimate.need_bytes,
        estimate,
        default_context,
        needs_variant,
        provider: provider::provider_for(
            runtime,
            &status.url,
            inputs.oss_base_url,
            inputs.tokens.contains(&runtime),
        ),
        passed_over,
        steps: Vec::new(),
        warnings,
        entry: model,
    };
    plan.steps = steps::planned(&plan, options);
    Ok(plan)
}

/// A model that will write below the usable speed (nothing faster fits): say so, with the numbers.
fn slow_warning(speed: Option<&speed::Speed>, options: &InitOptions) -> Option<String> {
    let speed = speed?;
    let floor = options.min_speed.unwrap_or(DEFAULT_MIN_SPEED);
    (speed.decode_tps < floor).then(|| {
        format!(
            "nothing that fits here writes {floor} tokens/s or more: this model is estimated at {}; Codex will be \
             slow ({})",
            speed.describe(),
            speed.basis
        )
    })
}

/// A dry run plans for a runtime that is not running; say what that assumes.
fn not_running_warning(status: &RuntimeStatus) -> Option<String> {
    (!status.running).then(|| {
        format!(
            "{} is not running at `{}`: this plan assumes nothing is installed",
            status.name.display_name(),
            status.url
        )
    })
}

#[cfg(test)]
mod tests {
    use super::catalog;
    use super::provider::provider_for;
    use super::*;
    use crate::facts::described::Described;
    use crate::facts::runtime::InstalledModel;

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
                    digest: None,
                })
                .collect(),
            error: (!running).then(|| "connection refused".to_owned()),
            hint: None,
            program: None,
        }
    }

    fn plan_for(
        hardware: &Hardware,
        runtimes: &[RuntimeStatus],
        catalog: &Catalog,
        options: &InitOptions,
    ) -> Result<Plan, PlanError> {
        make(
            &Inputs {
                hardware,
                runtimes,
                oss_base_url: None,
                tokens: &[],
                remote: None,
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
        let catalog = catalog::builtin().expect("catalog");
        let hw = hardware("64GiB", &["24GiB"]);
        let runtimes = [
            runtime(RuntimeKind::Ollama, true, &[]),
            runtime(RuntimeKind::Lmstudio, false, &[]),
        ];
        let plan = plan_for(&hw, &runtimes, &catalog, &options()).expect("a plan");
        assert_eq!(plan.runtime, RuntimeKind::Ollama);
        assert_eq!(plan.base_model, "qwen3.6:27b");
        assert_eq!(plan.context_length, 65_536);
        assert_eq!(
            plan.default_context,
            Some(32_768),
            "24 GiB of VRAM gets 32k by default"
        );
        assert!(plan.needs_variant);
        assert_eq!(plan.model, "qwen3.6:27b-ctx64k");
        assert_eq!(
            plan.provider,
            Provider {
                id: "ollama".to_owned(),
                base_url: None,
                env_key: None,
            }
        );
        assert_eq!(plan.steps[0].status, "planned");
        assert!(plan.passed_over.is_empty(), "the best model fits");
        assert!(
            plan.why.contains(
                "ranked by SWE-bench Verified 77.2 (Qwen's own scaffold, the maker's own number)"
            ),
            "{}",
            plan.why
        );
    }

    #[test]
    fn skips_the_pull_of_an_installed_model_and_prefers_the_runtime_that_has_it() {
        let catalog = catalog::builtin().expect("catalog");
        // 18 GiB and no RAM to spare for a split: gpt-oss-20b is the best that runs.
        let hw = hardware("2GiB", &["18GiB"]);
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
        let catalog = catalog::builtin().expect("catalog");
        let hw = hardware("64GiB", &["24GiB"]);
        let runtimes = [
            runtime(RuntimeKind::Ollama, false, &[]),
            runtime(RuntimeKind::Lmstudio, false, &[]),
        ];
        let facts = Inputs {
            hardware: &hw,
            runtimes: &runtimes,
            oss_base_url: None,
            tokens: &[],
            remote: None,
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
        assert_eq!(plan.base_model, "qwen3.6:27b");
    }

    #[test]
    #[expect(clippy::too_many_lines, reason = "one story, step by step")]
    fn honours_model_context_and_offline_options() {
        let catalog = catalog::builtin().expect("catalog");
        let hw = hardware("64GiB", &["40GiB"]);
        let runtimes = [runtime(
            RuntimeKind::Ollama,
            true,
            &[
                ("qwen3-coder:30b", 18_556_700_761),
                ("mine:8b", 5_000_000_000),
            ],
        )];
        let facts = Inputs {
            hardware: &hw,
            runtimes: &runtimes,
            oss_base_url: None,
            tokens: &[],
            remote: None,
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
