//! init's steps on Ollama: pull, a context variant when needed, load and read back what is served.

use reqwest::Url;

use super::{InitReport, LOAD_IDLE, PULL_IDLE, SHOW_IDLE, Served};
use crate::catalog::ollama_full_name;
use crate::plan::{self, Plan};
use crate::runtime::error::RuntimeError;
use crate::runtime::{RuntimeKind, http, ollama};
use crate::ui::Printer;

/// Pull, context and load on Ollama; returns the context the server really serves.
pub(super) async fn prepare(
    plan: &Plan,
    base: &Url,
    facts: &crate::commands::status::StatusReport,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<u64> {
    pull(plan, base, printer, report).await?;
    let version = facts
        .runtimes
        .iter()
        .find(|r| r.name == RuntimeKind::Ollama)
        .and_then(|r| r.version.clone())
        .unwrap_or_default();
    let total_vram = facts.hardware.total_vram();
    serve_context(plan, base, &version, total_vram, printer, report).await?;
    load(
        plan.context_length,
        base,
        !facts.hardware.gpus.is_empty(),
        printer,
        report,
    )
    .await
}

/// Pulls the model unless it is installed; Ctrl-C stops cleanly, and pulling again resumes.
async fn pull(
    plan: &Plan,
    base: &Url,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    if plan.installed {
        report.step(
            printer,
            "pull",
            "skipped",
            format!("`{}` is already installed", plan.base_model),
        );
        return Ok(());
    }
    let client = http::ops_client(PULL_IDLE);
    let mut download = printer.download(&plan.base_model);
    let pulled = tokio::select! {
        result = ollama::pull(&client, base, &plan.base_model, |event| {
            download.update(&event.status, event.digest.as_deref(), event.total, event.completed);
        }) => result,
        _ = tokio::signal::ctrl_c() => Err(RuntimeError::Interrupted { model: plan.base_model.clone() }),
    };
    download.finish();
    if let Err(err) = pulled {
        report.step(printer, "pull", "failed", err.to_string());
        return Err(err.into());
    }
    report.changed = true;
    report.step(
        printer,
        "pull",
        "done",
        format!("downloaded `{}`", plan.base_model),
    );
    Ok(())
}

/// Finds the context Ollama would give the model and, when it is short, creates (or reuses) a variant with
/// `num_ctx`. Sets `report.model` to the name Codex should use.
async fn serve_context(
    plan: &Plan,
    base: &Url,
    version: &str,
    total_vram: u64,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let client = http::ops_client(SHOW_IDLE);
    let Some(show) = ollama::show(&client, base, &plan.base_model).await? else {
        anyhow::bail!(RuntimeError::Failed {
            model: plan.base_model.clone(),
            message: "Ollama does not list the model it just pulled".to_owned(),
        });
    };
    if !show.capabilities.is_empty() && !show.capabilities.iter().any(|c| c == "tools") {
        anyhow::bail!(RuntimeError::NoTools {
            model: plan.base_model.clone(),
            message: format!(
                "Ollama lists its capabilities as {}",
                show.capabilities.join(", ")
            ),
        });
    }
    let would_serve = show
        .num_ctx
        .unwrap_or_else(|| ollama::default_context(version, total_vram, show.context_length));
    let wanted = plan.context_length;
    if !plan::needs_num_ctx(&plan.entry, would_serve, &plan.estimate, &plan.memory) {
        report.model.clone_from(&plan.base_model);
        let detail = format!(
            "Ollama serves `{}` with {would_serve} tokens already",
            plan.base_model
        );
        report.step(printer, "context", "skipped", detail);
        return Ok(());
    }
    let variant = plan::variant_name(&plan.base_model, wanted);
    report.model.clone_from(&variant);
    let existing = ollama::show(&client, base, &variant).await?;
    if existing.as_ref().and_then(|s| s.num_ctx) == Some(wanted) {
        report.step(
            printer,
            "context",
            "skipped",
            format!("`{variant}` already carries num_ctx {wanted}"),
        );
    } else {
        ollama::create(&client, base, &variant, &plan.base_model, wanted).await?;
        report.changed = true;
        report.created_variant = Some(variant.clone());
        let why = if would_serve < wanted {
            format!("Ollama would serve only {would_serve} tokens")
        } else {
            format!("Ollama would serve {would_serve} tokens, more than fits where planned")
        };
        let detail = format!("{why}: created `{variant}` with num_ctx {wanted}");
        report.step(printer, "context", "done", detail);
    }
    Ok(())
}

/// Loads the model and reads back from `/api/ps` the context and GPU share it really got.
async fn load(
    wanted: u64,
    base: &Url,
    has_gpu: bool,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<u64> {
    ollama::load(&http::ops_client(LOAD_IDLE), base, &report.model).await?;
    let running = ollama::ps(&http::ops_client(SHOW_IDLE), base).await?;
    let full = ollama_full_name(&report.model);
    let Some(entry) = running.iter().find(|m| ollama_full_name(&m.name) == full) else {
        let detail = "loaded (Ollama did not list it in /api/ps, so the context is taken as asked)"
            .to_owned();
        report.step(printer, "load", "done", detail);
        return Ok(wanted);
    };
    let served = entry.context_length.unwrap_or(wanted);
    let gpu_percent = (entry.size_vram.min(entry.size) * 100 + entry.size / 2)
        .checked_div(entry.size)
        .unwrap_or(0);
    report.served = Some(Served {
        context_length: served,
        size_bytes: entry.size,
        vram_bytes: entry.size_vram,
        gpu_percent,
    });
    if served < wanted {
        let message = format!(
            "Ollama serves `{}` with only {served} tokens, not {wanted}: Codex is told the truth, but set \
             `OLLAMA_CONTEXT_LENGTH={wanted}` where `ollama serve` runs for the full context",
            report.model
        );
        report.warn(printer, message);
    }
    if has_gpu && entry.size_vram < entry.size {
        let message = format!(
            "only {gpu_percent}% of `{}` fits in GPU memory; the rest runs on the CPU, several times slower. Close \
             other programs that use the GPU, use a smaller `--context`, or a smaller `--model`",
            report.model
        );
        report.warn(printer, message);
    }
    report.step(
        printer,
        "load",
        "done",
        format!("loaded with {served} tokens, {gpu_percent}% on the GPU"),
    );
    Ok(served)
}
