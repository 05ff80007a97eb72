//! `codex-local models`: the catalog sized for this machine, best first, the recommended model marked.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::ModelsArgs;
use crate::facts::Want;
use crate::facts::hardware::Hardware;
use crate::facts::runtime::{RuntimeKind, RuntimeStatus};
use crate::gather;
use crate::plan::catalog::Model;
use crate::plan::fit::{self, Budget, Fit};
use crate::report::Style;
use crate::size::human_bytes;
use crate::text::pad;

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    name: String,
    ollama: Option<String>,
    lmstudio: Option<String>,
    size_bytes: u64,
    size_exact: bool,
    need_bytes: u64,
    kv_bytes: u64,
    fit: Fit,
    context_length: u64,
    tools: bool,
    thinking: bool,
    score: f64,
    score_benchmark: String,
    license: String,
    /// Runtimes that have it installed.
    installed: Vec<RuntimeKind>,
    reason: String,
}

/// The `models` document.
#[derive(Debug, Serialize)]
struct ModelsReport {
    hardware: Hardware,
    catalog: String,
    context_length: u64,
    budget: String,
    recommended: Option<String>,
    recommended_context: Option<u64>,
    models: Vec<Row>,
}

/// Runs `models`.
pub async fn run(args: &ModelsArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let catalog = gather::catalog(settings)?;
    let want = Want {
        hardware: true,
        runtimes: true,
        ..Want::default()
    };
    let facts = gather::gather(settings, want).await?;
    let hardware = facts.hardware()?.clone();
    let runtimes = facts.runtimes;
    let budget = Budget::from_hardware(&hardware);
    let context = args.context.unwrap_or(fit::PREFERRED_CONTEXT);
    let all: Vec<&Model> = catalog.models.iter().collect();
    let choice = fit::choose(&all, &budget, args.context).ok();
    let rows = catalog
        .models
        .iter()
        .map(|model| row(model, context, &budget, &runtimes))
        .collect();
    let report = ModelsReport {
        recommended: choice.as_ref().map(|c| c.model.id.clone()),
        recommended_context: choice.as_ref().map(|c| c.estimate.context_length),
        budget: budget.describe(),
        catalog: catalog.origin.clone(),
        context_length: context,
        hardware,
        models: rows,
    };
    ctx.printer.result(&report, |style| {
        render(&report, ctx.printer.verbose > 0, style)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn row(model: &Model, context: u64, budget: &Budget, runtimes: &[RuntimeStatus]) -> Row {
    let estimate = fit::estimate(model, context, budget);
    let (fit, reason) = if model.context_trained < context {
        (
            Fit::No,
            format!("trained for only {} tokens", model.context_trained),
        )
    } else {
        (estimate.fit, estimate.explain(budget))
    };
    let installed = runtimes
        .iter()
        .filter(|status| {
            model
                .name_on(status.name)
                .is_some_and(|name| status.has(name))
        })
        .map(|status| status.name)
        .collect();
    Row {
        id: model.id.clone(),
        name: model.name.clone(),
        ollama: model.ollama.clone(),
        lmstudio: model.lmstudio.clone(),
        size_bytes: model.size_bytes,
        size_exact: model.size_exact,
        need_bytes: estimate.need_bytes,
        kv_bytes: estimate.kv_bytes,
        fit,
        context_length: context,
        tools: model.tools,
        thinking: model.thinking,
        score: model.score,
        score_benchmark: model.score_benchmark.clone(),
        license: model.license.clone(),
        installed,
        reason,
    }
}

fn render_row(out: &mut String, row: &Row, width: usize, recommended: bool, style: Style) {
    let mark = if recommended { "*" } else { " " };
    let fit = pad(row.fit.as_str(), 5);
    let fit = match row.fit {
        Fit::Gpu => style.good(&fit),
        Fit::Split | Fit::Cpu => style.warn(&fit),
        Fit::No => style.dim(&fit),
    };
    let approx = if row.size_exact { "" } else { "~" };
    let installed = if row.installed.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = row.installed.iter().map(|k| k.id()).collect();
        format!("  installed in {}", names.join(", "))
    };
    let _ = writeln!(
        out,
        "  {mark} {}  {:>9}  {:>9}  {fit}  {:>5.1}  {}{installed}",
        pad(&row.id, width),
        format!("{approx}{}", human_bytes(row.size_bytes)),
        human_bytes(row.need_bytes),
        row.score,
        row.score_benchmark,
    );
}

fn render(report: &ModelsReport, verbose: bool, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} at {} tokens ({})",
        style.bold("Models"),
        report.context_length,
        report.budget
    );
    let width = report
        .models
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(10)
        .max(5);
    let _ = writeln!(
        out,
        "  {}",
        style.dim(&format!(
            "  {}  {:>9}  {:>9}  {:<5}  {:>5}  {}",
            pad("model", width),
            "download",
            "need",
            "fit",
            "score",
            "benchmark"
        ))
    );
    for row in &report.models {
        let recommended = report.recommended.as_deref() == Some(row.id.as_str());
        render_row(&mut out, row, width, recommended, style);
        if verbose {
            let _ = writeln!(out, "      {}", style.dim(&row.reason));
        }
    }
    match (&report.recommended, report.recommended_context) {
        (Some(id), Some(context)) => {
            let _ = writeln!(
                out,
                "* recommended: {id} at {context} tokens (`codex-local init --model {id}`)"
            );
        }
        _ => {
            let _ = writeln!(out, "No catalog model fits this machine.");
        }
    }
    out
}
