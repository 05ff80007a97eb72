//! `codex-local verify`: check what Codex is configured to use, with the request Codex itself would send.

use std::process::ExitCode;
use std::time::Duration;

use reqwest::Url;
use serde::Serialize;
use toml_edit::Item;

use super::Ctx;
use crate::cli::VerifyArgs;
use crate::codex::LOCAL_PROVIDERS;
use crate::codex::config::{CONFIG_FILE, PROFILE_SUFFIX, is_loopback_url};
use crate::codex::edit::CodexConfigMut;
use crate::codex::setup::PRIVACY_KEYS;
use crate::runtime::{http, ollama, responses};
use crate::settings::Settings;
use crate::ui::Style;

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
    let mut report = VerifyReport {
        ok: true,
        file: file.display().to_string(),
        provider: None,
        model: None,
        base_url: None,
        checks: Vec::new(),
    };
    verify(&mut report, &file, args, settings, ctx).await;
    ctx.printer
        .result(&report, |style| render(&report, style))?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

/// What the configuration file says.
struct Configured {
    provider: String,
    model: Option<String>,
    window: Option<i64>,
    table_url: Option<String>,
    document: toml_edit::DocumentMut,
}

fn read_config(report: &mut VerifyReport, file: &std::path::Path) -> Option<Configured> {
    if !file.exists() {
        report.check(
            "config",
            false,
            format!(
                "`{}` does not exist: run `codex-local init`",
                file.display()
            ),
        );
        return None;
    }
    let config = match CodexConfigMut::open(file) {
        Ok(config) => config,
        Err(err) => {
            report.check("config", false, err.to_string());
            return None;
        }
    };
    let document = config.document().clone();
    let text = |key: &str| document.get(key).and_then(Item::as_str).map(str::to_owned);
    let provider = text("model_provider").unwrap_or_else(|| "openai".to_owned());
    let table_url = document
        .get("model_providers")
        .and_then(|p| p.get(&provider))
        .and_then(|t| t.get("base_url"))
        .and_then(Item::as_str)
        .map(str::to_owned);
    Some(Configured {
        model: text("model"),
        window: document
            .get("model_context_window")
            .and_then(Item::as_integer),
        provider,
        table_url,
        document,
    })
}

/// The privacy keys, and a runtime on this machine.
fn check_offline(report: &mut VerifyReport, document: &toml_edit::DocumentMut, base: &str) {
    for (key, expected) in PRIVACY_KEYS {
        let mut item = Some(document.as_item());
        for part in key.split('.') {
            item = item.and_then(|i| i.get(part));
        }
        let value = item.and_then(Item::as_bool);
        let shown = value.map_or_else(|| "not set".to_owned(), |v| v.to_string());
        report.check(
            "privacy",
            value == Some(expected),
            format!("{key} = {shown}"),
        );
    }
    let search = document
        .get("web_search")
        .and_then(Item::as_str)
        .unwrap_or("not set");
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
        format!("the runtime is at {base}, {place}"),
    );
}

async fn verify(
    report: &mut VerifyReport,
    file: &std::path::Path,
    args: &VerifyArgs,
    settings: &Settings,
    ctx: &Ctx<'_>,
) {
    let Some(configured) = read_config(report, file) else {
        return;
    };
    let provider = configured.provider.clone();
    report.provider = Some(provider.clone());
    report.model.clone_from(&configured.model);
    let base = settings.provider_api_base(&provider, configured.table_url.as_deref());
    report.base_url.clone_from(&base);
    let local = LOCAL_PROVIDERS.contains(&provider.as_str())
        || base.as_deref().is_some_and(is_loopback_url);
    let Some(base) = base.filter(|_| local || configured.table_url.is_some()) else {
        report.check(
            "provider",
            false,
            format!("Codex uses provider `{provider}`, which is not a local runtime"),
        );
        return;
    };
    report.check("provider", true, format!("`{provider}` at {base}"));
    let Some(model) = configured.model.clone() else {
        report.check(
            "model",
            false,
            "no `model` is set: Codex would ask the local server for a cloud model",
        );
        return;
    };
    match configured.window {
        Some(window) => report.check("context", true, format!("model_context_window = {window}")),
        None => report.check(
            "context",
            false,
            "no `model_context_window`: Codex would assume about 272,000 tokens",
        ),
    };
    if args.offline {
        check_offline(report, &configured.document, &base);
    }
    let Ok(api) = Url::parse(&format!("{}/", base.trim_end_matches('/'))) else {
        report.check("runtime", false, format!("`{base}` is not a URL"));
        return;
    };
    let is_lmstudio = provider.contains("lmstudio");
    let version = if is_lmstudio {
        None
    } else {
        match check_ollama(report, &api, &model, configured.window, settings).await {
            Some(version) => version,
            None => return,
        }
    };
    ctx.printer
        .info(&format!("Asking `{model}` to call a tool…"));
    let client = http::ops_client(settings.verify_timeout);
    let token = if is_lmstudio {
        settings.lm_api_token.as_deref()
    } else {
        None
    };
    match responses::verify(
        &client,
        &api,
        &model,
        token,
        settings.verify_timeout,
        version.as_deref(),
    )
    .await
    {
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

/// Ollama answers, has the model, and the model carries at least the configured context. `None` stops the checks;
/// `Some(version)` goes on.
async fn check_ollama(
    report: &mut VerifyReport,
    api: &Url,
    model: &str,
    window: Option<i64>,
    settings: &Settings,
) -> Option<Option<String>> {
    let root = api.join("../").unwrap_or_else(|_| api.clone());
    let timeout = settings.probe_timeout.max(Duration::from_secs(2));
    let version = match http::get(
        &http::probe_client(timeout),
        &root,
        "api/version",
        None,
        timeout,
    )
    .await
    {
        Ok(answer) => answer
            .json::<serde_json::Value>()
            .ok()
            .and_then(|v| v["version"].as_str().map(str::to_owned)),
        Err(err) => {
            report.check("runtime", false, format!("{root}: {err}"));
            return None;
        }
    };
    report.check(
        "runtime",
        true,
        format!(
            "Ollama {} answers at {root}",
            version.as_deref().unwrap_or("?")
        ),
    );
    match ollama::show(&http::ops_client(Duration::from_secs(30)), &root, model).await {
        Ok(Some(show)) => {
            let ok = match (show.num_ctx, window) {
                (Some(served), Some(window)) => u64::try_from(window).is_ok_and(|w| w <= served),
                _ => true,
            };
            let detail = match show.num_ctx {
                Some(served) => format!("`{model}` is installed and carries num_ctx {served}"),
                None => format!("`{model}` is installed"),
            };
            report.check("model", ok, detail);
            Some(version)
        }
        Ok(None) => {
            report.check(
                "model",
                false,
                format!("`{model}` is not installed: run `codex-local init`"),
            );
            None
        }
        Err(err) => {
            report.check("model", false, err.to_string());
            None
        }
    }
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
