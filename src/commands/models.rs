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
use crate::plan::fit::{self, Budget, Estimate, Fit};
use crate::plan::speed::{self, Throughput};
use crate::plan::{DEFAULT_MIN_SPEED, from_header};
use crate::report::Style;
use crate::runtime::registry;
use crate::size::human_bytes;
use crate::steps::round1;
use crate::text::{pad, sanitize};

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
    score: Option<f64>,
    score_benchmark: Option<String>,
    score_harness: Option<String>,
    score_vendor: Option<bool>,
    /// Estimated tokens/s written and read where it fits (`null` where it does not).
    decode_tps: Option<f64>,
    prefill_tps: Option<f64>,
    /// Some number behind the estimate was guessed.
    speed_guessed: Option<bool>,
    /// The ranking rule applied to it, in words.
    ranking: String,
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
    /// When nothing fits: the model that needs least, and what it needs.
    smallest: Option<fit::PassedOver>,
    /// For `--model NAME` outside the catalog: how it was sized from the registry.
    sized_from: Option<SizedFrom>,
    models: Vec<Row>,
}

/// How a model outside the catalog was sized before any pull.
#[derive(Debug, Serialize)]
struct SizedFrom {
    /// `registry` or `file`.
    source: &'static str,
    /// The name as the registry knows it, or the file's path.
    name: String,
    /// What a pull would download, every layer (for a file: its size).
    download_bytes: u64,
    /// Bytes of the model file read to find its GGUF header from the registry (`null` for a file), and how long
    /// the whole look-up took.
    header_bytes_read: Option<usize>,
    elapsed_ms: u64,
    architecture: String,
    tools: bool,
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
    let (models, sized_from) = models_to_show(args, settings, &catalog).await?;
    let budget = Budget::from_hardware(&hardware);
    let context = args.context.unwrap_or(fit::PREFERRED_CONTEXT);
    // Only a model that calls tools can be recommended.
    let all: Vec<&Model> = models.iter().filter(|m| m.tools).collect();
    let machine = Throughput::of(&hardware);
    let rate = |model: &Model, estimate: &Estimate| {
        speed::estimate(model, estimate, &machine).map(|s| s.decode_tps)
    };
    let floor = fit::Floor {
        rate: &rate,
        min: args.min_speed.unwrap_or(DEFAULT_MIN_SPEED),
    };
    let chosen = fit::choose(&all, &budget, args.context, Some(&floor));
    let smallest = chosen
        .as_ref()
        .err()
        .and_then(|no_fit| no_fit.smallest.clone());
    let choice = chosen.ok();
    let contexts = fit::contexts(args.context);
    let rows = models
        .iter()
        .map(|model| row(model, &contexts, (&budget, &machine, &floor), &runtimes))
        .collect();
    let report = ModelsReport {
        recommended: choice.as_ref().map(|c| c.model.id.clone()),
        recommended_context: choice.as_ref().map(|c| c.estimate.context_length),
        smallest,
        sized_from,
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

/// A model where it runs best, at the longest of `contexts` it fits there (else at the first, where it does not).
/// The catalog, or the one model `--model` names: from the catalog, else sized from the registry before any pull.
async fn models_to_show(
    args: &ModelsArgs,
    settings: &crate::settings::Settings,
    catalog: &crate::plan::catalog::Catalog,
) -> anyhow::Result<(Vec<Model>, Option<SizedFrom>)> {
    let Some(name) = args.model.as_deref() else {
        return Ok((catalog.models.clone(), None));
    };
    if let Some(model) = catalog.find(name) {
        return Ok((vec![model.clone()], None));
    }
    if gather::file_model::is_model_file(name) {
        let started = std::time::Instant::now();
        let path = std::path::Path::new(name);
        let (header, size) = gather::file_model::describe(path)?;
        let tools = header.template_tools.unwrap_or(false);
        let model = from_header::model_from(
            &gather::file_model::model_name(path),
            &header,
            size,
            0,
            tools,
        )
        .map_err(|message| registry::RegistryError::Unusable {
            name: name.to_owned(),
            message,
        })?;
        let sized_from = SizedFrom {
            source: "file",
            name: name.to_owned(),
            download_bytes: size,
            header_bytes_read: None,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            architecture: header.architecture.clone(),
            tools,
        };
        return Ok((vec![model], Some(sized_from)));
    }
    let described = registry::describe(name, settings.registry.as_ref()).await?;
    let model = from_header::model_from(
        name,
        &described.header,
        described.model_bytes,
        described.projector_bytes,
        described.tools,
    )
    .map_err(|message| registry::RegistryError::Unusable {
        name: described.reference.display(),
        message,
    })?;
    let sized_from = SizedFrom {
        source: "registry",
        name: described.reference.display(),
        download_bytes: described.download_bytes,
        header_bytes_read: Some(described.header_bytes_read),
        elapsed_ms: u64::try_from(described.elapsed.as_millis()).unwrap_or(u64::MAX),
        architecture: described.header.architecture.clone(),
        tools: described.tools,
    };
    Ok((vec![model], Some(sized_from)))
}

fn row(
    model: &Model,
    contexts: &[u64],
    (budget, machine, floor): (&Budget, &Throughput, &fit::Floor<'_>),
    runtimes: &[RuntimeStatus],
) -> Row {
    let longest = contexts[0];
    let shortest = *contexts.last().unwrap_or(&longest);
    // Where init would run it; where it does not fit, what it would need at the least context tried.
    let estimate = fit::placement(model, contexts, budget, Some(floor))
        .unwrap_or_else(|| fit::estimate(model, shortest, budget));
    let context = estimate.context_length;
    let (fit, reason) = if model.context_trained < shortest {
        (
            Fit::No,
            format!("trained for only {} tokens", model.context_trained),
        )
    } else {
        (estimate.fit, estimate.explain(budget))
    };
    // No speed where it does not fit (or was not trained for the context).
    let speed = speed::estimate(model, &estimate, machine).filter(|_| fit != Fit::No);
    let reason = match &speed {
        Some(speed) => format!(
            "{}; {reason}; {} (estimated: {})",
            model.ranking(),
            speed.describe(),
            speed.basis
        ),
        None => format!("{}; {reason}", model.ranking()),
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
        decode_tps: speed.as_ref().map(|s| round1(s.decode_tps)),
        prefill_tps: speed.as_ref().map(|s| round1(s.prefill_tps)),
        speed_guessed: speed.as_ref().map(|s| s.guessed),
        score_harness: model.score_harness.clone(),
        score_vendor: model.score_vendor,
        ranking: model.ranking(),
        license: model.license.clone(),
        installed,
        reason,
    }
}

fn render_row(
    out: &mut String,
    row: &Row,
    (width, longest): (usize, u64),
    recommended: bool,
    style: Style,
) {
    let mark = if recommended { "*" } else { " " };
    // The context it fits at, when that is not the longest tried.
    let fit = if row.fit != Fit::No && row.context_length < longest {
        format!(
            "{}@{}",
            row.fit.as_str(),
            fit::context_label(row.context_length)
        )
    } else {
        row.fit.as_str().to_owned()
    };
    let fit = pad(&fit, 9);
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
    let score = row
        .score
        .map_or_else(|| "-".to_owned(), |score| format!("{score:.1}"));
    let tps = row.decode_tps.map_or_else(
        || "-".to_owned(),
        |tps| {
            let guessed = if row.speed_guessed == Some(true) {
                "~"
            } else {
                ""
            };
            format!("{guessed}{}", speed::rate(tps))
        },
    );
    let _ = writeln!(
        out,
        "  {mark} {}  {:>9}  {:>9}  {fit}  {tps:>6}  {score:>5}  {}{installed}",
        pad(&row.id, width),
        format!("{approx}{}", human_bytes(row.size_bytes)),
        human_bytes(row.need_bytes),
        row.score_benchmark
            .as_deref()
            .unwrap_or("no published score"),
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
            "  {}  {:>9}  {:>9}  {:<9}  {:>6}  {:>5}  {}",
            pad("model", width),
            "download",
            "need",
            "fit",
            "tok/s",
            "score",
            "benchmark"
        ))
    );
    for row in &report.models {
        let recommended = report.recommended.as_deref() == Some(row.id.as_str());
        render_row(
            &mut out,
            row,
            (width, report.context_length),
            recommended,
            style,
        );
        if verbose {
            let _ = writeln!(out, "      {}", style.dim(&row.reason));
        }
    }
    if let Some(sized) = &report.sized_from {
        render_sized(&mut out, sized, style);
    }
    if let (Some(id), Some(context)) = (&report.recommended, report.recommended_context) {
        let model = init_argument(id, report.sized_from.as_ref());
        let _ = writeln!(
            out,
            "* recommended: {id} at {context} tokens (`codex-local init --model {model}`)"
        );
    } else if report.sized_from.is_some() {
        // One model asked for: its row and the line above say what there is to say.
    } else {
        let smallest = report.smallest.as_ref().map_or_else(String::new, |s| {
            format!(" The smallest, `{}`, {}.", s.id, s.reason)
        });
        let _ = writeln!(out, "No catalog model fits this machine.{smallest}");
    }
    out
}

/// How a model outside the catalog was sized.
fn render_sized(out: &mut String, sized: &SizedFrom, style: Style) {
    let tools = if sized.tools {
        "it calls tools"
    } else {
        "its template offers no tools, so it cannot drive Codex"
    };
    let how = match sized.header_bytes_read {
        Some(read) => format!(
            "{} KiB read from the registry in {} ms; a pull downloads {}",
            read >> 10,
            sized.elapsed_ms,
            human_bytes(sized.download_bytes)
        ),
        None => format!(
            "read in {} ms from a {} file",
            sized.elapsed_ms,
            human_bytes(sized.download_bytes)
        ),
    };
    let _ = writeln!(
        out,
        "{}",
        style.dim(&format!(
            "`{}` is not in the catalog: sized from its GGUF header ({} architecture, {how}); {tools}",
            sanitize(&sized.name),
            sanitize(&sized.architecture),
        ))
    );
}

/// What `init --model` takes for the recommended model: a file by its path.
fn init_argument(id: &str, sized: Option<&SizedFrom>) -> String {
    match sized {
        Some(sized) if sized.source == "file" => shell_word(&sized.name),
        _ => id.to_owned(),
    }
}

/// A path as one shell word: as it is when it holds only plain characters, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = text.chars().all(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~' | ':' | '+' | ',')
    });
    if plain && !text.is_empty() {
        text.to_owned()
    } else {
        format!("'{}'", crate::text::sanitize(text).replace('\'', "'\\''"))
    }
}
