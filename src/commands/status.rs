//! `codex-local status`: what is on this machine and what Codex is set to. Changes nothing.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::StatusArgs;
use crate::facts::Want;
use crate::facts::codex::{
    CodexBinary, CodexStatus, INSTALL_COMMAND, MIN_VERSION, NEWEST_TESTED, version_text,
};
use crate::facts::hardware::{Gpu, Hardware, HardwareSource, NoteStatus};
use crate::facts::repo::{DEFAULT_PROFILE, RepoStatus};
use crate::facts::runtime::{RuntimeKind, RuntimeStatus};
use crate::gather;
use crate::report::Style;
use crate::settings::{Settings, Source};
use crate::size::human_bytes;
use crate::text::{display_path, pad, sanitize};

/// The `status` document.
#[derive(Debug, Serialize)]
struct StatusReport {
    pub hardware: Hardware,
    pub runtimes: Vec<RuntimeStatus>,
    pub codex: CodexWithBinary,
    pub repo: Option<RepoStatus>,
}

/// Codex's configuration and the `codex` program found on `PATH`.
#[derive(Debug, Serialize)]
struct CodexWithBinary {
    #[serde(flatten)]
    pub config: CodexStatus,
    /// The `codex` program, or `null` when it is not on `PATH`.
    pub binary: Option<CodexBinary>,
}

/// Gathers every fact at once: hardware, every runtime, Codex's files and program, the repository.
async fn gather(settings: &Settings) -> anyhow::Result<StatusReport> {
    let facts = gather::gather(settings, Want::ALL).await?;
    Ok(StatusReport {
        hardware: facts.hardware()?.clone(),
        codex: CodexWithBinary {
            config: facts.codex()?.clone(),
            binary: facts.program.clone(),
        },
        runtimes: facts.runtimes,
        repo: facts.repo,
    })
}

/// Runs `status`: always exits 0 once the facts are gathered, whatever they say.
pub async fn run(_args: &StatusArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let report = gather(&ctx.settings).await?;
    let settings = &ctx.settings;
    ctx.printer.debug(&format!(
        "Codex home from {}",
        source_name(settings.codex_home_source, "CODEX_HOME")
    ));
    for kind in RuntimeKind::ALL {
        let address = settings.runtime_address(kind);
        ctx.printer.debug(&format!(
            "{} address from {}",
            kind.display_name(),
            source_name(address.source, kind.info().address_var)
        ));
    }
    ctx.printer
        .result(&report, |style| render(&report, &ctx.settings, style))?;
    Ok(ExitCode::SUCCESS)
}

fn source_name(source: Source, var: &str) -> String {
    match source {
        Source::Flag => "the command line".to_owned(),
        Source::Env => format!("`{var}`"),
        Source::Default => "the default".to_owned(),
    }
}

const LABEL: usize = 11;

fn row(out: &mut String, style: Style, label: &str, value: &str) {
    let _ = writeln!(out, "  {}{value}", style.dim(&pad(label, LABEL)));
}

/// The human form: short, aligned, readable at a glance.
fn render(report: &StatusReport, settings: &Settings, style: Style) -> String {
    let mut out = String::new();
    render_hardware(&mut out, &report.hardware, style);
    render_runtimes(&mut out, &report.runtimes, style);
    render_codex(&mut out, &report.codex, settings, style);
    render_repo(&mut out, report, style);
    out
}

fn render_repo(out: &mut String, report: &StatusReport, style: Style) {
    match &report.repo {
        Some(repo) => {
            let mode = if repo.local_mode {
                style.good("local mode on")
            } else {
                "local mode off".to_owned()
            };
            let _ = writeln!(
                out,
                "{} {} ({mode})",
                style.bold("Repository"),
                repo.path.display()
            );
            if repo.local_mode {
                let profile = repo.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
                let plain = format!(
                    "`codex-local run` and the shell hook start Codex here with the `{profile}` profile; a plain \
                     `codex` without the hook uses provider `{}`",
                    report.codex.config.model_provider
                );
                row(out, style, "", &style.dim(&plain));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "{} {}",
                style.bold("Repository"),
                style.dim("none here")
            );
        }
    }
}

fn render_hardware(out: &mut String, hardware: &Hardware, style: Style) {
    let heading = match hardware.source {
        HardwareSource::Probed => "Hardware",
        HardwareSource::Described => "Hardware (described)",
    };
    let _ = writeln!(out, "{}", style.bold(heading));
    let mut ram = format!(
        "{} total, {} available",
        human_bytes(hardware.ram_total_bytes),
        human_bytes(hardware.ram_available_bytes)
    );
    if let Some(limit) = hardware.cgroup_limit_bytes {
        let _ = write!(
            ram,
            " (container limit {}, machine {})",
            human_bytes(limit),
            human_bytes(hardware.ram_physical_bytes)
        );
    }
    if hardware.unified {
        ram.push_str(", shared with the GPU");
    }
    row(out, style, "RAM", &ram);
    if let Some(cpu) = &hardware.cpu {
        row(
            out,
            style,
            "CPU",
            &format!("{}, {} cores", sanitize(&cpu.name), cpu.cores),
        );
    }
    if hardware.gpus.is_empty() {
        row(
            out,
            style,
            "GPU",
            &style.dim("none found: models run on the CPU"),
        );
    }
    for gpu in &hardware.gpus {
        row(out, style, "GPU", &gpu_line(gpu, style));
    }
    for note in hardware
        .sources
        .iter()
        .filter(|note| note.status == NoteStatus::Failed)
    {
        let detail = note.detail.as_deref().unwrap_or("");
        row(
            out,
            style,
            "",
            &style.warn(&format!("{} failed: {}", note.source, sanitize(detail))),
        );
    }
}

fn gpu_line(gpu: &Gpu, style: Style) -> String {
    let memory = match (gpu.memory_total_bytes, gpu.memory_free_bytes) {
        (Some(total), Some(free)) => {
            format!("{}, {} free", human_bytes(total), human_bytes(free))
        }
        (Some(total), None) => human_bytes(total),
        _ => "memory unknown".to_owned(),
    };
    let shared = if gpu.integrated { ", shares RAM" } else { "" };
    format!(
        "{}  {memory}{shared}  {}",
        sanitize(&gpu.name),
        style.dim(&format!("({})", gpu.source))
    )
}

fn render_runtimes(out: &mut String, runtimes: &[RuntimeStatus], style: Style) {
    let _ = writeln!(out, "{}", style.bold("Runtimes"));
    for status in runtimes {
        let name = status.name.display_name();
        let state = if status.running {
            style.good("up  ")
        } else {
            style.bad("down")
        };
        let version = status.version.as_deref().map(sanitize).unwrap_or_default();
        let mut line = format!("{state}  {}", status.url);
        if !version.is_empty() {
            let _ = write!(line, "  {}", style.dim(&format!("version {version}")));
        }
        if let (false, Some(error)) = (status.running, &status.error) {
            let _ = write!(line, "  {}", sanitize(error));
        }
        row(out, style, name, &line);
        if status.running {
            if status.models.is_empty() && status.error.is_none() {
                row(out, style, "", &style.dim("no models installed"));
            }
            let width = status
                .models
                .iter()
                .map(|m| m.name.chars().count())
                .max()
                .unwrap_or(0);
            for model in &status.models {
                let size = model.size_bytes.map(human_bytes).unwrap_or_default();
                row(
                    out,
                    style,
                    "",
                    &format!("{}  {size}", pad(&sanitize(&model.name), width)),
                );
            }
            if let Some(error) = &status.error {
                row(out, style, "", &style.warn(&sanitize(error)));
            }
        }
        if let Some(hint) = &status.hint {
            row(out, style, "", &style.dim(&format!("hint: {hint}")));
        }
    }
}

fn render_codex(out: &mut String, both: &CodexWithBinary, settings: &Settings, style: Style) {
    let codex = &both.config;
    let home = display_path(&codex.home, settings.home_dir.as_deref());
    let origin = source_name(settings.codex_home_source, "CODEX_HOME");
    let _ = writeln!(
        out,
        "{} {home} {}",
        style.bold("Codex"),
        style.dim(&format!("(from {origin})"))
    );
    if !codex.home_exists {
        row(
            out,
            style,
            "",
            &style.dim("this folder does not exist yet: Codex has not run here"),
        );
    } else if !codex.config_exists {
        row(
            out,
            style,
            "",
            &style.dim("no config.toml: Codex uses its defaults"),
        );
    }
    row(
        out,
        style,
        "program",
        &program_line(both.binary.as_ref(), settings, style),
    );
    render_selection(out, codex, style);
    for warning in &codex.warnings {
        row(
            out,
            style,
            "",
            &format!("{} {}", style.warn("warning:"), warning.message),
        );
        row(
            out,
            style,
            "",
            &style.dim(&format!("hint: {}", warning.hint)),
        );
    }
}

/// The `codex` program, its version, and whether it is new enough.
fn program_line(binary: Option<&CodexBinary>, settings: &Settings, style: Style) -> String {
    let Some(found) = binary else {
        return style.warn(&format!("not installed: `{INSTALL_COMMAND}`"));
    };
    let version = found.version.as_deref().unwrap_or("version unknown");
    let mut text = format!(
        "{version}  {}",
        style.dim(&display_path(&found.path, settings.home_dir.as_deref()))
    );
    if found.newer_than_tested {
        let _ = write!(
            text,
            "  {}",
            style.dim(&format!(
                "newer than {}, the newest codex-local was tested with",
                version_text(NEWEST_TESTED)
            ))
        );
    }
    if found.supported == Some(false) {
        let _ = write!(
            text,
            "  {}",
            style.warn(&format!(
                "older than {}: update with `{INSTALL_COMMAND}`",
                version_text(MIN_VERSION)
            ))
        );
    }
    text
}

/// Provider, address, model, context and profiles.
fn render_selection(out: &mut String, codex: &CodexStatus, style: Style) {
    let provider = if codex.model_provider_is_default {
        format!(
            "{} {}",
            codex.model_provider,
            style.dim("(Codex's default)")
        )
    } else {
        codex.model_provider.clone()
    };
    row(out, style, "provider", &provider);
    if let Some(base_url) = &codex.base_url {
        row(out, style, "base url", base_url);
    }
    let model = codex
        .model
        .clone()
        .unwrap_or_else(|| style.dim("not set (Codex's default)"));
    row(out, style, "model", &model);
    let context = codex
        .model_context_window
        .map_or_else(|| style.dim("not set"), |window| format!("{window} tokens"));
    row(out, style, "context", &context);
    if !codex.profiles.is_empty() {
        let names: Vec<String> = codex
            .profiles
            .iter()
            .map(
                |profile| match (&profile.selection.model_provider, &profile.selection.model) {
                    (Some(provider), Some(model)) => {
                        format!("{} ({provider}, {model})", profile.name)
                    }
                    (Some(provider), None) => format!("{} ({provider})", profile.name),
                    _ => profile.name.clone(),
                },
            )
            .collect();
        row(out, style, "profiles", &names.join(", "));
    }
}
