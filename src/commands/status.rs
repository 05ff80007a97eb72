//! `codex-local status`: what is on this machine and what Codex is set to. Changes nothing.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::StatusArgs;
use crate::codex::measured::{self, Measurement};
use crate::facts::Want;
use crate::facts::codex::{
    CodexBinary, CodexStatus, INSTALL_COMMAND, MIN_VERSION, NEWEST_TESTED, Warning,
    is_loopback_url, version_text,
};
use crate::facts::hardware::{Gpu, Hardware, HardwareSource, NoteStatus};
use crate::facts::repo::{DEFAULT_PROFILE, RepoStatus};
use crate::facts::runtime::{RuntimeKind, RuntimeStatus};
use crate::gather;
use crate::report::Style;
use crate::runtime::{self, Served, Serves};
use crate::settings::{LocalTarget, Settings, Source};
use crate::size::human_bytes;
use crate::text::{display_path, pad, sanitize};
use reqwest::Url;

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
    /// For config.toml and each profile that points at a running runtime here: what the runtime really serves.
    pub served: Vec<ServedCheck>,
    /// The last speed measured for config.toml's model (by init or verify), with the estimate made before.
    pub measured: Option<Measurement>,
}

/// What a runtime serves, next to what one configuration file tells Codex.
#[derive(Debug, Serialize)]
struct ServedCheck {
    /// `null` for config.toml, else the profile's name.
    profile: Option<String>,
    model: String,
    model_context_window: u64,
    /// The context the runtime serves the model with; `null` when it does not have it, has not loaded it, or
    /// does not say.
    served_context: Option<u64>,
    ok: bool,
    detail: String,
    /// What is wrong and what fixes it, when something is.
    #[serde(skip)]
    fix: Option<(String, String)>,
}

/// Gathers every fact at once: hardware, every runtime, Codex's files and program, the repository; then asks
/// each running runtime that a configuration points at what it really serves.
async fn gather(settings: &Settings) -> anyhow::Result<StatusReport> {
    let facts = gather::gather(settings, Want::ALL).await?;
    let mut config = facts.codex()?.clone();
    let served = served_checks(settings, &mut config, &facts.runtimes).await;
    // An address's password is used, never shown.
    let hide = |url: &mut Option<String>| *url = url.as_deref().map(crate::host::redact);
    hide(&mut config.base_url);
    hide(&mut config.selection.base_url);
    for profile in &mut config.profiles {
        hide(&mut profile.selection.base_url);
    }
    Ok(StatusReport {
        hardware: facts.hardware()?.clone(),
        codex: CodexWithBinary {
            measured: config
                .model
                .as_deref()
                .and_then(|model| measured::last_of(&config.home, model)),
            config,
            binary: facts.program.clone(),
            served,
        },
        runtimes: facts.runtimes,
        repo: facts.repo,
    })
}

/// One request per configuration that points at a running runtime, all at once; a shortfall also becomes a
/// warning with the command that fixes it.
async fn served_checks(
    settings: &Settings,
    codex: &mut CodexStatus,
    runtimes: &[RuntimeStatus],
) -> Vec<ServedCheck> {
    let files = std::iter::once((None, codex.config.clone(), &codex.selection)).chain(
        codex
            .profiles
            .iter()
            .map(|p| (Some(p.name.clone()), p.path.clone(), &p.selection)),
    );
    let mut set = tokio::task::JoinSet::new();
    for (index, (profile, file, selection)) in files.enumerate() {
        let Ok(target) = settings.local_target(selection) else {
            continue;
        };
        let (Some(model), Some(window)) = (target.model.clone(), target.context) else {
            continue;
        };
        let Some(status) = serving_runtime(&target, runtimes) else {
            continue;
        };
        let Ok(runtime) = runtime::for_status(status, settings) else {
            continue;
        };
        set.spawn(async move {
            let served = runtime.served(&model).await;
            (index, profile, file, model, window, runtime.kind(), served)
        });
    }
    let mut checks = Vec::new();
    while let Some(Ok((index, profile, file, model, window, kind, served))) = set.join_next().await
    {
        let Ok(served) = served else { continue };
        let check = ServedCheck::judge(profile, model, window, kind, served);
        if let Some(warning) = check.warning(file) {
            codex.warnings.push(warning);
        }
        checks.push((index, check));
    }
    checks.sort_by_key(|(index, _)| *index);
    checks.into_iter().map(|(_, check)| check).collect()
}

impl ServedCheck {
    fn judge(
        profile: Option<String>,
        model: String,
        window: u64,
        kind: RuntimeKind,
        served: Served,
    ) -> Self {
        let short = served.shortfall(kind, &model, window);
        Self {
            profile,
            model_context_window: window,
            served_context: match served.serves {
                Serves::At(context) => Some(context),
                _ => None,
            },
            ok: short.is_none(),
            fix: short,
            detail: served.detail,
            model,
        }
    }

    /// The warning for a shortfall, naming the file.
    fn warning(&self, file: std::path::PathBuf) -> Option<Warning> {
        let (what, fix) = self.fix.as_ref()?;
        let whose = self.profile.as_deref().map_or_else(
            || "config.toml".to_owned(),
            |name| format!("the `{name}` profile"),
        );
        Some(Warning {
            file,
            message: format!("{what} ({whose})"),
            hint: fix.clone(),
        })
    }
}

/// The running runtime a configuration sends prompts to: the one of its kind listening on the same loopback port.
fn serving_runtime<'a>(
    target: &LocalTarget,
    runtimes: &'a [RuntimeStatus],
) -> Option<&'a RuntimeStatus> {
    let kind = RuntimeKind::from_provider(&target.provider);
    let root = runtime::root_of(&target.base)?;
    runtimes.iter().find(|status| {
        status.running
            && kind.is_none_or(|kind| kind == status.name)
            && Url::parse(&status.url).is_ok_and(|url| {
                url.port_or_known_default() == root.port_or_known_default()
                    && is_loopback_url(url.as_str())
            })
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
    render_serving(out, both, style);
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

/// What the runtime serves config.toml's model with, and the speed last measured.
fn render_serving(out: &mut String, both: &CodexWithBinary, style: Style) {
    if let Some(measurement) = &both.measured {
        let at = &measurement.at;
        let at = match (at.get(..4), at.get(4..6), at.get(6..8)) {
            (Some(year), Some(month), Some(day)) => format!("{year}-{month}-{day}"),
            _ => at.clone(),
        };
        row(
            out,
            style,
            "speed",
            &format!("{} ({at})", measurement.describe()),
        );
    }
    if let Some(check) = both.served.iter().find(|check| check.profile.is_none()) {
        let detail = sanitize(&check.detail);
        let served = if check.ok {
            detail
        } else {
            style.warn(&detail)
        };
        row(out, style, "served", &served);
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
