//! `codex-local verify`: check what Codex is configured to use, with the request Codex itself would send, through
//! the runtime interface every command shares.

use std::process::ExitCode;

use reqwest::Url;
use serde::Serialize;

use super::Ctx;
use crate::cli::VerifyArgs;
use crate::codex::measured::{self, Measurement};
use crate::codex::setup::PRIVACY_KEYS;
use crate::facts::Want;
use crate::facts::codex::{
    CONFIG_FILE, CodexStatus, DEFAULT_PROVIDER, PROFILE_SUFFIX, Selection, is_local_provider,
    is_loopback_url,
};
use crate::facts::doctor::Doctor;
use crate::facts::runtime::RuntimeKind;
use crate::gather;
use crate::host::redact;
use crate::report::{Printer, Style};
use crate::runtime::{self, Measured, Runtime, Serves};
use crate::settings::Settings;

/// One check.
#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// The `verify` document.
#[derive(Debug, Serialize)]
struct VerifyReport {
    ok: bool,
    file: String,
    provider: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
    checks: Vec<Check>,
    /// Speed measured on the request, when it was sent.
    measured: Option<Measured>,
    /// The measurement in words, next to the estimate init made.
    #[serde(skip)]
    speed: Option<String>,
}

impl VerifyReport {
    fn check(&mut self, name: &'static str, ok: bool, detail: impl Into<String>) -> bool {
        self.checks.push(Check {
            name,
            ok,
            detail: detail.into(),
        });
        self.ok &= ok;
        ok
    }
}

/// Runs `verify`.
pub async fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let file = match &args.profile {
        Some(name) => settings.codex_home.join(format!("{name}{PROFILE_SUFFIX}")),
        None => settings.codex_home.join(CONFIG_FILE),
    };
    let want = Want {
        codex: true,
        ..Want::default()
    };
    let facts = gather::gather(settings, want).await?;
    let mut report = VerifyReport {
        ok: true,
        file: file.display().to_string(),
        provider: None,
        model: None,
        base_url: None,
        checks: Vec::new(),
        measured: None,
        speed: None,
    };
    if let Some(configured) = configured(&mut report, facts.codex()?, args.profile.as_deref()) {
        // The real Codex reads the file while the runtime is checked.
        let (verdict, ()) = tokio::join!(
            ask_codex(settings, &file),
            verify(
                &mut report,
                &configured,
                args.offline,
                settings,
                ctx.printer,
            )
        );
        check_codex(&mut report, verdict, ctx.printer);
    }
    ctx.printer
        .result(&report, |style| render(&report, style))?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

/// What the real Codex says of the file, when `codex` is installed: `None` when it is not.
async fn ask_codex(
    settings: &Settings,
    file: &std::path::Path,
) -> Option<Result<(Doctor, Option<String>), String>> {
    let codex = gather::locate_codex(settings.path_var.as_ref(), settings.cwd.as_deref())?;
    let text = match crate::codex::file::read_text(file) {
        Ok(Some(text)) => text.plain,
        Ok(None) => return None,
        Err(err) => return Some(Err(err.to_string())),
    };
    Some(gather::codex_doctor(&codex, &text).await)
}

/// The `codex` check: Codex loads the file and ignores none of its keys. When Codex cannot be asked, a warning.
fn check_codex(
    report: &mut VerifyReport,
    verdict: Option<Result<(Doctor, Option<String>), String>>,
    printer: &Printer,
) {
    let (doctor, version) = match verdict {
        None => return,
        Some(Ok(found)) => found,
        Some(Err(why)) => {
            printer.warn(&format!(
                "could not ask Codex whether it loads the file (`codex doctor --json`): {why}"
            ));
            return;
        }
    };
    let codex = version.map_or_else(|| "Codex".to_owned(), |v| format!("Codex {v}"));
    match doctor {
        Doctor::Loads { notes } if notes.is_empty() => {
            report.check("codex", true, format!("{codex} loads the file"));
        }
        Doctor::Loads { notes } => {
            let notes = notes.join("; ");
            report.check(
                "codex",
                true,
                format!("{codex} loads the file, and says: {notes}"),
            );
        }
        Doctor::Ignores { keys } => {
            let keys: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
            report.check(
                "codex",
                false,
                format!(
                    "{codex} would ignore {}: remove or correct {}, or update Codex",
                    keys.join(", "),
                    if keys.len() == 1 { "it" } else { "them" }
                ),
            );
        }
        Doctor::Refuses { error } => {
            report.check(
                "codex",
                false,
                format!("{codex} cannot load the file: {error}; `codex doctor` says more"),
            );
        }
    }
}

/// The selection of the file checked (config.toml or a profile), when it exists and parses.
fn configured(
    report: &mut VerifyReport,
    codex: &CodexStatus,
    profile: Option<&str>,
) -> Option<Selection> {
    let (exists, error, selection) = match profile {
        None => (codex.config_exists, codex.error.clone(), &codex.selection),
        Some(name) => match codex.profiles.iter().find(|p| p.name == name) {
            Some(found) => (true, found.error.clone(), &found.selection),
            None => (false, None, &codex.selection),
        },
    };
    if !exists {
        report.check(
            "config",
            false,
            format!("`{}` does not exist: run `codex-local init`", report.file),
        );
        return None;
    }
    if let Some(error) = error {
        report.check("config", false, error);
        return None;
    }
    Some(selection.clone())
}

/// The privacy keys, and a runtime on this machine.
fn check_offline(report: &mut VerifyReport, selection: &Selection, base: &str) {
    for (key, expected) in PRIVACY_KEYS {
        let value = selection.values.get(key).map(String::as_str);
        report.check(
            "privacy",
            value == Some(if expected { "true" } else { "false" }),
            format!("{key} = {}", value.unwrap_or("not set")),
        );
    }
    let search = selection
        .values
        .get("web_search")
        .map_or("not set", |v| v.trim_matches('"'));
    report.check(
        "privacy",
        search == "disabled",
        format!("web_search = {search}"),
    );
    let local = is_loopback_url(base);
    let place = if local {
        "on this machine"
    } else {
        "on another machine"
    };
    report.check(
        "offline",
        local,
        format!("the runtime is at {}, {place}", redact(base)),
    );
}

/// The checks of the configuration itself; the address of the runtime's API when they pass.
fn check_configuration(
    report: &mut VerifyReport,
    selection: &Selection,
    offline: bool,
    settings: &Settings,
) -> Option<(Url, String)> {
    let provider = selection
        .model_provider
        .clone()
        .unwrap_or_else(|| DEFAULT_PROVIDER.to_owned());
    report.provider = Some(provider.clone());
    report.model.clone_from(&selection.model);
    let base = settings.provider_api_base(&provider, selection.base_url.as_deref());
    report.base_url = base.as_deref().map(redact);
    let local = is_local_provider(&provider) || base.as_deref().is_some_and(is_loopback_url);
    let Some(base) = base.filter(|_| local || selection.base_url.is_some()) else {
        report.check(
            "provider",
            false,
            format!("Codex uses provider `{provider}`, which is not a local runtime"),
        );
        return None;
    };
    report.check(
        "provider",
        true,
        format!("`{provider}` at {}", redact(&base)),
    );
    let Some(model) = selection.model.clone() else {
        report.check(
            "model",
            false,
            "no `model` is set: Codex would ask the local server for a cloud model",
        );
        return None;
    };
    match selection.model_context_window {
        Some(window) => report.check("context", true, format!("model_context_window = {window}")),
        None => report.check(
            "context",
            false,
            "no `model_context_window`: Codex would assume about 272,000 tokens",
        ),
    };
    if offline {
        check_offline(report, selection, &base);
    }
    let Some(root) = runtime::root_of(&base) else {
        report.check(
            "runtime",
            false,
            format!("`{}` is not a URL", redact(&base)),
        );
        return None;
    };
    Some((root, model))
}

async fn verify(
    report: &mut VerifyReport,
    selection: &Selection,
    offline: bool,
    settings: &Settings,
    printer: &Printer,
) {
    let Some((root, model)) = check_configuration(report, selection, offline, settings) else {
        return;
    };
    let kind = report
        .provider
        .as_deref()
        .and_then(RuntimeKind::from_provider);
    let (runtime, status) = match runtime::identify(kind, &root, settings).await {
        Ok(found) => found,
        Err(err) => {
            report.check("runtime", false, err.to_string());
            return;
        }
    };
    let url = redact(runtime.url().as_str());
    if !status.running {
        let error = status.error.unwrap_or_default();
        report.check("runtime", false, format!("{url}: {error}"));
        return;
    }
    report.check(
        "runtime",
        true,
        match &status.version {
            Some(version) => format!(
                "{} {version} answers at {url}",
                runtime.kind().display_name()
            ),
            None => format!("{} answers at {url}", runtime.kind().display_name()),
        },
    );
    if !check_model(
        report,
        runtime.as_ref(),
        &model,
        selection.model_context_window,
    )
    .await
    {
        return;
    }
    request(report, runtime.as_ref(), &model, settings, printer).await;
}

/// Sends the request Codex sends, and keeps the speed it showed.
async fn request(
    report: &mut VerifyReport,
    runtime: &dyn Runtime,
    model: &str,
    settings: &Settings,
    printer: &Printer,
) {
    printer.info(&format!("Asking `{model}` to call a tool…"));
    let verified = runtime.verify(model, settings.verify_timeout).await;
    if let Ok(outcome) = &verified {
        report.measured = Some(outcome.measured.clone());
        let measurement = Measurement::now(
            runtime.kind().id(),
            runtime.url().as_str(),
            model,
            &outcome.measured,
        );
        if let Err(err) = measured::record(&settings.codex_home, measurement.clone()) {
            printer.warn(&format!("the speed measured was not kept: {err}"));
        }
        report.speed = Some(
            measured::last_of(&settings.codex_home, model)
                .unwrap_or(measurement)
                .describe(),
        );
    }
    match verified {
        Ok(outcome) => match outcome.tool_call {
            Some(tool) => report.check(
                "request",
                true,
                format!("answered in {} ms and called `{tool}`", outcome.elapsed_ms),
            ),
            None => report.check(
                "request",
                false,
                "answered, but did not call the tool it was offered",
            ),
        },
        Err(err) => report.check("request", false, format!("{err} (hint: {})", err.hint())),
    };
}

/// The runtime has the model, and serves it with at least the configured context; when not, the check says what
/// puts it right. `false` stops the checks.
async fn check_model(
    report: &mut VerifyReport,
    runtime: &dyn Runtime,
    model: &str,
    window: Option<i64>,
) -> bool {
    let served = match runtime.served(model).await {
        Ok(served) => served,
        Err(err) => {
            report.check("model", false, err.to_string());
            return false;
        }
    };
    let window = window.and_then(|w| u64::try_from(w).ok());
    let short = match window {
        Some(window) => served.shortfall(runtime.kind(), model, window),
        None => matches!(served.serves, Serves::Missing | Serves::NotLoaded).then(|| {
            (
                served.detail.clone(),
                "run `codex-local init` again".to_owned(),
            )
        }),
    };
    if let Some((what, fix)) = short {
        report.check("model", false, format!("{what}; {fix}"));
        // A model that is present can still answer; one that is missing cannot.
        return !matches!(served.serves, Serves::Missing | Serves::NotLoaded);
    }
    report.check("model", true, served.detail);
    true
}

fn render(report: &VerifyReport, style: Style) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for check in &report.checks {
        let mark = if check.ok {
            style.good("✓")
        } else {
            style.bad("✗")
        };
        let _ = writeln!(out, "{mark} {:<9} {}", check.name, check.detail);
    }
    if let Some(speed) = &report.speed {
        let _ = writeln!(out, "  {:<9} {}", "speed", style.dim(speed));
    }
    let _ = writeln!(
        out,
        "{}",
        if report.ok {
            style.good("Verified: Codex's local model works.")
        } else {
            style.bad("Verification failed.")
        }
    );
    out
}
