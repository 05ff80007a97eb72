//! `codex-local models --check`: the catalog's numbers against each model's own GGUF header and manifest in
//! Ollama's registry, read as for any name (only the header's bytes), every model at once.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::ModelsArgs;
use crate::gather;
use crate::plan::catalog::Model;
use crate::plan::from_header::{self, Difference};
use crate::report::Style;
use crate::runtime::registry;
use crate::text::sanitize;

/// One model checked.
#[derive(Debug, Serialize)]
struct Checked {
    id: String,
    ollama: String,
    /// The catalog and the header agree.
    ok: bool,
    differences: Vec<Difference>,
    /// Why it could not be checked.
    error: Option<String>,
}

/// The `models --check` document.
#[derive(Debug, Serialize)]
struct CheckReport {
    catalog: String,
    ok: bool,
    checked: usize,
    differ: usize,
    failed: usize,
    models: Vec<Checked>,
}

/// Runs `models --check`: exit 0 when every model agrees, 1 when any differs or could not be read.
pub async fn run(args: &ModelsArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let catalog = &gather::catalog(&ctx.settings)?;
    let models: Vec<&Model> = match args.model.as_deref() {
        Some(name) => {
            let model = catalog.find(name).ok_or_else(|| super::BadUsage {
                message: format!(
                    "`{}` is not in the catalog: `--check` compares the catalog's entries with their files",
                    sanitize(name)
                ),
                hint: format!(
                    "`codex-local models --model {}` sizes any Ollama name from its own file",
                    sanitize(name)
                ),
            })?;
            if model.ollama.is_none() {
                return Err(super::BadUsage {
                    message: format!(
                        "The catalog's `{}` has no Ollama name, so the registry has no file to check it against",
                        model.id
                    ),
                    hint: "`codex-local models --check` checks every catalog model that has one".to_owned(),
                }
                .into());
            }
            vec![model]
        }
        None => catalog.models.iter().collect(),
    };
    let base = ctx.settings.registry.as_ref();
    let checks = models
        .iter()
        .filter_map(|model| Some((*model, model.ollama.clone()?)))
        .map(|(model, name)| async move { check(model, name, base).await });
    let checked = futures_util::future::join_all(checks).await;
    let differ = checked.iter().filter(|c| !c.differences.is_empty()).count();
    let failed = checked.iter().filter(|c| c.error.is_some()).count();
    let report = CheckReport {
        catalog: catalog.origin.clone(),
        // Nothing checked proves nothing.
        ok: differ == 0 && failed == 0 && !checked.is_empty(),
        checked: checked.len(),
        differ,
        failed,
        models: checked,
    };
    ctx.printer
        .result(&report, |style| render(&report, style))?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

async fn check(model: &Model, name: String, base: Option<&reqwest::Url>) -> Checked {
    let outcome = async {
        let described = registry::describe(&name, base).await?;
        from_header::model_from(
            &name,
            &described.header,
            described.model_bytes,
            described.projector_bytes,
            described.tools,
        )
        .map_err(|message| registry::RegistryError::Unusable {
            name: name.clone(),
            message,
        })
    }
    .await;
    let (differences, error) = match outcome {
        Ok(header) => (from_header::differences(model, &header), None),
        Err(err) => (Vec::new(), Some(err.to_string())),
    };
    Checked {
        id: model.id.clone(),
        ollama: name,
        ok: differences.is_empty() && error.is_none(),
        differences,
        error,
    }
}

fn render(report: &CheckReport, style: Style) -> String {
    let mut out = String::new();
    for model in &report.models {
        let verdict = if model.ok {
            style.good("agrees")
        } else if model.error.is_some() {
            style.warn("not read")
        } else {
            style.warn("differs")
        };
        let _ = writeln!(out, "{verdict:<10} {} ({})", model.id, model.ollama);
        if let Some(error) = &model.error {
            let _ = writeln!(out, "           {}", sanitize(error));
        }
        for difference in &model.differences {
            let _ = writeln!(
                out,
                "           {}: catalog {}, its file {}",
                difference.field,
                sanitize(&difference.catalog.to_string()),
                sanitize(&difference.header.to_string())
            );
        }
    }
    let _ = writeln!(
        out,
        "{} checked against their GGUF headers: {} agree, {} differ, {} not read.",
        report.checked,
        report.checked - report.differ - report.failed,
        report.differ,
        report.failed
    );
    out
}
