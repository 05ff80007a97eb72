//! Choosing the runtime and the candidate models: the runtime asked for or the one running (both: the one that
//! already holds a fitting model), and the catalog's models, the one named with `--model`, or an installed model
//! the catalog does not know.

use super::catalog::{Catalog, KvShape, Model};
use super::fit::{self, Budget, Fit};
use super::{InitOptions, Inputs, PlanError};
use crate::facts::runtime::{InstalledModel, RuntimeKind, RuntimeStatus};

/// The runtime to plan for.
pub(super) fn pick_runtime<'r>(
    inputs: &Inputs<'r>,
    catalog: &Catalog,
    options: &InitOptions,
    budget: &Budget,
) -> Result<&'r RuntimeStatus, PlanError> {
    if let Some(kind) = options.runtime {
        return named_runtime(inputs, kind, options);
    }
    let running: Vec<&RuntimeStatus> = inputs.runtimes.iter().filter(|r| r.running).collect();
    match running.as_slice() {
        [] if options.dry_run => inputs.runtimes.first().ok_or_else(|| no_runtime(inputs)),
        [] => Err(no_runtime(inputs)),
        [one] => Ok(one),
        several => Ok(prefer(several, catalog, options, budget)),
    }
}

/// The runtime named with `--runtime`, which must be running unless this is a dry run.
fn named_runtime<'r>(
    inputs: &Inputs<'r>,
    kind: RuntimeKind,
    options: &InitOptions,
) -> Result<&'r RuntimeStatus, PlanError> {
    let status = inputs
        .runtimes
        .iter()
        .find(|r| r.name == kind)
        .ok_or_else(|| no_runtime(inputs))?;
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
    Ok(status)
}

/// None answers: name each, with what its probe found, and what to do about each.
fn no_runtime(inputs: &Inputs<'_>) -> PlanError {
    let places: Vec<String> = inputs
        .runtimes
        .iter()
        .map(|r| match &r.error {
            Some(error) => format!("{} at `{}` ({error})", r.name.display_name(), r.url),
            None => format!("{} at `{}`", r.name.display_name(), r.url),
        })
        .collect();
    let hints = inputs
        .runtimes
        .iter()
        .map(|r| match (&r.program, &r.hint) {
            (None, _) => format!(
                "{} is not installed: install it with {}; then {}",
                r.name.display_name(),
                r.name.install_hint(),
                r.name.start_hint()
            ),
            (Some(_), hint) => format!(
                "{} is installed: `codex-local init --yes` starts it, or {}",
                r.name.display_name(),
                hint.as_deref().unwrap_or(r.name.start_hint())
            ),
        })
        .collect();
    PlanError::NoRuntime {
        places: places.join(" nor "),
        hints,
    }
}

/// Several run: prefer the one that already holds a catalog model that fits on the GPU, else the first listed.
fn prefer<'r>(
    several: &[&'r RuntimeStatus],
    catalog: &Catalog,
    options: &InitOptions,
    budget: &Budget,
) -> &'r RuntimeStatus {
    let holds_fitting = |status: &RuntimeStatus| {
        catalog.models.iter().any(|model| {
            model
                .name_on(status.name)
                .is_some_and(|name| status.has(name))
                && fit::contexts(options.context).iter().any(|&ctx| {
                    model.context_trained >= ctx
                        && fit::estimate(model, ctx, budget).fit == Fit::Gpu
                })
        })
    };
    several
        .iter()
        .copied()
        .find(|status| holds_fitting(status))
        .unwrap_or(several[0])
}

/// The models to choose from: the one named with `--model` (from the catalog, or an installed model the catalog
/// does not know, kept in `owned`), or every catalog model the runtime can pull (installed ones when offline).
pub(super) fn candidates<'a>(
    catalog: &'a Catalog,
    status: &RuntimeStatus,
    options: &InitOptions,
    (owned, remote): (&'a mut Option<Model>, Option<&'a Model>),
    warnings: &mut Vec<String>,
) -> Result<Vec<&'a Model>, PlanError> {
    let runtime = status.name;
    let Some(name) = &options.model else {
        return catalog_candidates(catalog, status, options);
    };
    let model: &Model = if let Some(model) = catalog.find(name) {
        model
    } else if let Some(remote) = remote.filter(|_| status.find(name).is_none()) {
        warnings.push(format!(
            "`{name}` is not in the catalog: sized from its GGUF header, its quality unknown"
        ));
        remote
    } else {
        let installed = status
            .find(name)
            .ok_or_else(|| PlanError::UnknownModel(name.clone()))?;
        warnings.push(format!(
            "`{name}` is not in the catalog: its memory need is a rough estimate and its tool calling untested"
        ));
        owned.insert(uncatalogued(installed))
    };
    if model.name_on(runtime).is_none() {
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

/// Every catalog model the runtime can get that calls tools; offline, only those it has.
fn catalog_candidates<'a>(
    catalog: &'a Catalog,
    status: &RuntimeStatus,
    options: &InitOptions,
) -> Result<Vec<&'a Model>, PlanError> {
    let runtime = status.name;
    let mut models: Vec<&Model> = catalog
        .models
        .iter()
        .filter(|m| m.tools && m.name_on(runtime).is_some())
        .collect();
    if options.offline {
        models.retain(|m| m.name_on(runtime).is_some_and(|name| status.has(name)));
        if models.is_empty() {
            return Err(PlanError::NothingInstalled { runtime });
        }
    }
    Ok(models)
}

/// A catalog-like entry for an installed model that the catalog does not know: a cautious guess of its KV cache
/// (8 KB per token per billion parameters), from the size and parameter count the runtime reports.
#[must_use]
fn uncatalogued(installed: &InstalledModel) -> Model {
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
        released: None,
        score: None,
        score_benchmark: None,
        score_harness: None,
        score_vendor: None,
        score_source: None,
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
            sliding_kv_heads: None,
            sliding_key_length: None,
            sliding_value_length: None,
        },
    }
}
