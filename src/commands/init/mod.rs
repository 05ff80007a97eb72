//! `codex-local init`: plan, then pull, make the runtime serve the context, configure Codex and verify.
//!
//! This file holds the flow, the checks before any change, the Codex configuration and the report; the
//! runtime-specific steps are in `ollama_steps.rs` and `lmstudio_steps.rs`.

mod lmstudio_steps;
mod ollama_steps;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::Url;
use serde::Serialize;
use thiserror::Error;

use super::Ctx;
use crate::catalog;
use crate::cli::{InitArgs, RuntimeArg};
use crate::codex::binary::{self, CodexBinary};
use crate::codex::config::{CONFIG_FILE, PROFILE_SUFFIX};
use crate::codex::edit::{self, CodexConfigMut, Op};
use crate::codex::journal::{CreatedModel, Journal};
use crate::codex::setup::{self, Target};
use crate::fit::{self, Fit, PassedOver};
use crate::plan::{self, Facts, InitOptions, Plan, Step};
use crate::runtime::{RuntimeKind, http, responses};
use crate::size::human_bytes;
use crate::ui::{Printer, Style, display_path};

/// How long a download may sit without a byte before it counts as stalled.
const PULL_IDLE: Duration = Duration::from_mins(2);
/// How long loading a model may take (a large model from a slow disk takes minutes).
const LOAD_IDLE: Duration = Duration::from_mins(15);
/// How long a quick request (show, create, ps) may stay silent.
const SHOW_IDLE: Duration = Duration::from_mins(1);

/// Why init stopped before changing anything.
#[derive(Debug, Error)]
pub enum InitError {
    #[error(
        "Downloading `{model}` ({size}) needs your consent, and there is no terminal to ask on"
    )]
    NeedsYes { model: String, size: String },
    #[error("Stopped: `{model}` was not downloaded, and nothing was changed")]
    Declined { model: String },
    #[error("`{}` has {problems}", path.display())]
    ConfigProblems { path: PathBuf, problems: String },
    #[error("`{model}` answered but did not call the tool it was offered")]
    NoToolCall { model: String, text: String },
}

impl InitError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::NeedsYes { .. } => "run it again with `--yes` to allow the download".to_owned(),
            Self::Declined { .. } => "run `codex-local init` again when you are ready".to_owned(),
            Self::ConfigProblems { .. } => {
                "Codex will not load this file as it is: run `codex-local init --yes` to let codex-local remove \
                 these entries (a backup is kept), or remove them by hand"
                    .to_owned()
            }
            Self::NoToolCall { .. } => {
                "Codex needs a model that calls tools reliably: try `codex-local verify` again, or choose another \
                 model with `--model` (see `codex-local models`)"
                    .to_owned()
            }
        }
    }
}

/// The `codex` part of the init document.
#[derive(Debug, Serialize)]
struct CodexReport {
    config: Option<PathBuf>,
    profile: PathBuf,
    provider: String,
    default_changed: bool,
    backup: Option<PathBuf>,
    profile_backup: Option<PathBuf>,
    binary: Option<CodexBinary>,
}

/// What the model really got once loaded.
#[derive(Debug, Serialize)]
struct Served {
    context_length: u64,
    size_bytes: u64,
    vram_bytes: u64,
    gpu_percent: u64,
}

/// The `init` document.
#[derive(Debug, Serialize)]
struct InitReport {
    dry_run: bool,
    runtime: RuntimeKind,
    url: String,
    base_model: String,
    model: String,
    context_length: u64,
    fit: Fit,
    need_bytes: u64,
    why: String,
    passed_over: Vec<PassedOver>,
    steps: Vec<Step>,
    codex: CodexReport,
    served: Option<Served>,
    verified: Option<bool>,
    changed: bool,
    warnings: Vec<String>,
    /// The Ollama variant this run created, if it created one.
    #[serde(skip)]
    created_variant: Option<String>,
}

impl InitReport {
    fn step(&mut self, printer: &Printer, name: &str, status: &'static str, detail: String) {
        printer.step(status, name, &detail);
        if let Some(step) = self.steps.iter_mut().find(|s| s.name == name) {
            step.status = status;
            step.detail = detail;
        }
    }

    fn warn(&mut self, printer: &Printer, message: String) {
        printer.warn(&message);
        self.warnings.push(message);
    }
}

/// Where init writes.
struct Paths {
    home: PathBuf,
    config: PathBuf,
    profile: PathBuf,
}

/// Runs `init`.
pub async fn run(args: &InitArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let printer = ctx.printer;
    let catalog = catalog::load(settings.catalog.as_deref())?;
    let (facts, codex_binary) = tokio::join!(
        super::status::gather(settings),
        binary::find(settings.path_var.as_ref(), Duration::from_secs(3))
    );
    let plan = plan::make(
        &Facts {
            hardware: &facts.hardware,
            runtimes: &facts.runtimes,
            oss_base_url: settings.codex_oss_base_url.as_deref(),
            lmstudio_token: settings.lm_api_token.is_some(),
        },
        &catalog,
        &options(args),
    )?;
    let paths = Paths {
        home: settings.codex_home.clone(),
        config: settings.codex_home.join(CONFIG_FILE),
        profile: settings
            .codex_home
            .join(format!("{}{PROFILE_SUFFIX}", args.profile)),
    };
    let mut report = InitReport::new(&plan, args, &paths, codex_binary);
    if args.dry_run {
        printer.result(&report, |style| render_plan(&plan, &report, style))?;
        return Ok(ExitCode::SUCCESS);
    }
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    printer.info(&format!(
        "{} {} on {} ({}): {}",
        printer.err.bold("Model"),
        plan.base_model,
        plan.runtime.display_name(),
        fit::context_label(plan.context_length),
        plan.why
    ));

    if let Some(found) = &report.codex.binary {
        printer.debug(&format!(
            "Codex {} at {}",
            found.version.as_deref().unwrap_or("?"),
            found.path.display()
        ));
    }
    // Everything that could stop init is checked before anything is downloaded or written.
    let preflight = preflight(args, &plan, &paths, printer)?;
    report.warn_about_codex(printer);

    let connection = Connection {
        base: Url::parse(&plan.url).context("the runtime's address")?,
        token: match plan.runtime {
            RuntimeKind::Lmstudio => settings.lm_api_token.as_deref(),
            RuntimeKind::Ollama => None,
        },
        version: facts
            .runtimes
            .iter()
            .find(|r| r.name == plan.runtime)
            .and_then(|r| r.version.clone()),
        poll: settings.poll_interval,
    };
    let served_context = match plan.runtime {
        RuntimeKind::Ollama => {
            ollama_steps::prepare(&plan, &connection.base, &facts, printer, &mut report).await?
        }
        RuntimeKind::Lmstudio => {
            lmstudio_steps::prepare(&plan, &connection, printer, &mut report).await?
        }
    };
    let target = Target {
        provider: plan.provider.id.clone(),
        base_url: plan.provider.base_url.clone(),
        env_key: plan.provider.env_key.clone(),
        provider_name: format!("{} (codex-local)", plan.runtime.display_name()),
        model: report.model.clone(),
        context: served_context,
    };
    let home_dir = settings.home_dir.as_deref();
    configure(
        preflight,
        &target,
        args.offline,
        &paths,
        home_dir,
        printer,
        &mut report,
    )?;
    verify(&connection, settings.verify_timeout, printer, &mut report).await?;
    printer.result(&report, |style| {
        render_done(&report, settings.home_dir.as_deref(), style)
    })?;
    Ok(ExitCode::SUCCESS)
}

fn options(args: &InitArgs) -> InitOptions {
    InitOptions {
        runtime: args.runtime.map(|r| match r {
            RuntimeArg::Ollama => RuntimeKind::Ollama,
            RuntimeArg::Lmstudio => RuntimeKind::Lmstudio,
        }),
        model: args.model.clone(),
        context: args.context,
        profile: args.profile.clone(),
        profile_only: args.profile_only,
        offline: args.offline,
        dry_run: args.dry_run,
    }
}

impl InitReport {
    fn new(plan: &Plan, args: &InitArgs, paths: &Paths, binary: Option<CodexBinary>) -> Self {
        Self {
            dry_run: args.dry_run,
            runtime: plan.runtime,
            url: plan.url.clone(),
            base_model: plan.base_model.clone(),
            model: plan.model.clone(),
            context_length: plan.context_length,
            fit: plan.fit,
            need_bytes: plan.need_bytes,
            why: plan.why.clone(),
            passed_over: plan.passed_over.clone(),
            steps: plan.steps.clone(),
            codex: CodexReport {
                config: (!args.profile_only).then(|| paths.config.clone()),
                profile: paths.profile.clone(),
                provider: plan.provider.id.clone(),
                default_changed: false,
                backup: None,
                profile_backup: None,
                binary,
            },
            served: None,
            verified: None,
            changed: false,
            warnings: plan.warnings.clone(),
            created_variant: None,
        }
    }

    /// Codex missing or too old is worth a warning, not a failure: the configuration is what init is for.
    fn warn_about_codex(&mut self, printer: &Printer) {
        let message = match &self.codex.binary {
            None => format!(
                "Codex is not installed: install it with `{}`; init configures it all the same",
                binary::INSTALL_COMMAND
            ),
            Some(found) if found.supported == Some(false) => format!(
                "Codex {} is older than 0.134, which the profile files need: update it with `{}`",
                found.version.as_deref().unwrap_or("?"),
                binary::INSTALL_COMMAND
            ),
            Some(_) => return,
        };
        self.warn(printer, message);
    }
}

/// Opens both files (refusing one that does not parse), asks before removing what Codex refuses, and asks before
/// a download. Nothing is changed here.
fn preflight(
    args: &InitArgs,
    plan: &Plan,
    paths: &Paths,
    printer: &Printer,
) -> anyhow::Result<Preflight> {
    let config = if args.profile_only {
        None
    } else {
        Some(CodexConfigMut::open(&paths.config)?)
    };
    let profile = CodexConfigMut::open(&paths.profile)?;
    let mut fixes: Vec<Op> = Vec::new();
    let mut migrations = Vec::new();
    if let Some(config) = &config {
        let problems = setup::problems(config.document());
        if !problems.is_empty() {
            let list = problems
                .iter()
                .map(|p| p.description.clone())
                .collect::<Vec<_>>()
                .join("; and ");
            for problem in &problems {
                printer.warn(&format!(
                    "`{}` has {}",
                    paths.config.display(),
                    problem.description
                ));
            }
            let consent = args.yes
                || printer.confirm("Remove these entries (a backup is kept)?") == Some(true);
            if !consent {
                return Err(InitError::ConfigProblems {
                    path: paths.config.clone(),
                    problems: list,
                }
                .into());
            }
            fixes.extend(problems.into_iter().map(|p| p.fix));
            migrations = setup::old_profiles(config.document())
                .into_iter()
                .map(|(name, text)| (paths.home.join(format!("{name}{PROFILE_SUFFIX}")), text))
                .filter(|(path, _)| !path.exists())
                .collect();
        }
    }
    if !plan.installed && !args.yes {
        let size = human_bytes(plan.estimate.weights_bytes);
        match printer.confirm(&format!("Download `{}` ({size})?", plan.base_model)) {
            Some(true) => {}
            Some(false) => {
                return Err(InitError::Declined {
                    model: plan.base_model.clone(),
                }
                .into());
            }
            None => {
                return Err(InitError::NeedsYes {
                    model: plan.base_model.clone(),
                    size,
                }
                .into());
            }
        }
    }
    Ok(Preflight {
        config,
        profile,
        fixes,
        migrations,
    })
}

/// What the checks before any change found: the files opened, the fixes consented to, and old `[profiles.*]`
/// tables to move into their own files.
struct Preflight {
    config: Option<CodexConfigMut>,
    profile: CodexConfigMut,
    fixes: Vec<Op>,
    migrations: Vec<(PathBuf, String)>,
}

/// Writes config.toml (unless `--profile-only`) and the profile file, and moves old `[profiles.*]` tables into
/// their own files; a second run writes nothing.
fn configure(
    preflight: Preflight,
    target: &Target,
    offline: bool,
    paths: &Paths,
    home_dir: Option<&Path>,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let backups = paths.home.join("codex-local").join("backups");
    fs_err::create_dir_all(&paths.home)
        .with_context(|| format!("Cannot create Codex's folder `{}`", paths.home.display()))?;
    let Preflight {
        config,
        mut profile,
        fixes,
        migrations,
    } = preflight;
    let mut journal = Journal::load(&paths.home)?;
    let mut changed_files = Vec::new();
    for (path, text) in &migrations {
        edit::write_atomic(path, text)?;
        changed_files.push(path.clone());
    }
    if let Some(mut config) = config {
        let mut ops = fixes;
        ops.extend(setup::ops(target, offline));
        journal.record(CONFIG_FILE, &config, &ops);
        config.apply(&ops)?;
        let saved = config.save(&ops, &backups)?;
        report.codex.default_changed = saved.changed;
        report.codex.backup = saved.backup;
        if saved.changed {
            changed_files.push(paths.config.clone());
        }
    }
    let profile_ops = setup::ops(target, true);
    let profile_name = paths
        .profile
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    journal.record(&profile_name, &profile, &profile_ops);
    profile.apply(&profile_ops)?;
    let saved = profile.save(&profile_ops, &backups)?;
    report.codex.profile_backup = saved.backup;
    if saved.changed {
        changed_files.push(paths.profile.clone());
    }
    if let Some(variant) = &report.created_variant
        && !journal.models.iter().any(|m| &m.name == variant)
    {
        journal.models.push(CreatedModel {
            runtime: report.runtime.id().to_owned(),
            url: report.url.clone(),
            name: variant.clone(),
        });
    }
    if !changed_files.is_empty() || report.created_variant.is_some() {
        journal.save(&paths.home)?;
    }
    report.changed = report.changed || !changed_files.is_empty();
    if changed_files.is_empty() {
        let detail = "Codex is already configured for this model: nothing changed".to_owned();
        report.step(printer, "configure", "skipped", detail);
    } else {
        let names: Vec<String> = changed_files
            .iter()
            .map(|p| display_path(p, home_dir))
            .collect();
        let detail = format!(
            "wrote {} (provider `{}`, model `{}`, {} tokens)",
            names.join(" and "),
            target.provider,
            target.model,
            target.context
        );
        report.step(printer, "configure", "done", detail);
    }
    Ok(())
}

/// Sends the request Codex makes and checks that the model called the tool.
async fn verify(
    connection: &Connection<'_>,
    timeout: Duration,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let api_base = connection
        .base
        .join("v1/")
        .context("the runtime's address")?;
    let client = http::ops_client(timeout);
    let (token, version) = (connection.token, connection.version.as_deref());
    let verified =
        responses::verify(&client, &api_base, &report.model, token, timeout, version).await;
    report.verified = Some(matches!(&verified, Ok(outcome) if outcome.tool_call.is_some()));
    let outcome = match verified {
        Ok(outcome) => outcome,
        Err(err) => {
            report.step(printer, "verify", "failed", err.to_string());
            return Err(err.into());
        }
    };
    if let Some(tool) = outcome.tool_call {
        let seconds = Duration::from_millis(u64::try_from(outcome.elapsed_ms).unwrap_or(u64::MAX))
            .as_secs_f64();
        let detail = format!(
            "`{}` answered in {seconds:.1} s and called `{tool}`",
            report.model
        );
        report.step(printer, "verify", "done", detail);
        Ok(())
    } else {
        report.step(
            printer,
            "verify",
            "failed",
            "the model answered without calling the tool".to_owned(),
        );
        Err(InitError::NoToolCall {
            model: report.model.clone(),
            text: outcome.text,
        }
        .into())
    }
}

/// Where the runtime is and how to talk to it.
pub(super) struct Connection<'a> {
    pub base: Url,
    /// LM Studio's bearer token, when its authentication is on.
    pub token: Option<&'a str>,
    pub version: Option<String>,
    /// How often to ask LM Studio about a download.
    pub poll: Duration,
}

fn render_plan(plan: &Plan, report: &InitReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold("Plan (dry run: nothing is downloaded or written)")
    );
    let running = if plan.runtime_running {
        ""
    } else {
        " (not running)"
    };
    let _ = writeln!(
        out,
        "  runtime   {} at {}{running}",
        plan.runtime.display_name(),
        plan.url
    );
    let _ = writeln!(
        out,
        "  model     {} ({})",
        plan.base_model, plan.display_name
    );
    let _ = writeln!(out, "  why       {}", plan.why);
    let _ = writeln!(out, "  context   {} tokens", plan.context_length);
    let _ = writeln!(
        out,
        "  memory    {} needed; {}",
        human_bytes(plan.need_bytes),
        plan.budget
    );
    let _ = writeln!(
        out,
        "  codex     model `{}` through provider `{}`",
        plan.model, plan.provider.id
    );
    for passed in &plan.passed_over {
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            style.dim("passed over"),
            passed.id,
            passed.reason
        );
    }
    let _ = writeln!(out, "{}", style.bold("Steps"));
    for step in &report.steps {
        let _ = writeln!(out, "  {:<9} {:<8} {}", step.name, step.status, step.detail);
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "{} {warning}", style.warn("warning:"));
    }
    out
}

fn render_done(report: &InitReport, home: Option<&Path>, style: Style) -> String {
    let mut out = String::new();
    let on = match &report.served {
        Some(served) => format!(
            "{} tokens, {}% on the GPU",
            served.context_length, served.gpu_percent
        ),
        None => format!("{} tokens", report.context_length),
    };
    if report.verified == Some(true) {
        let _ = writeln!(
            out,
            "{} Codex now uses `{}` on {} ({on}).",
            style.good("Ready."),
            report.model,
            report.runtime.display_name()
        );
    } else {
        let _ = writeln!(
            out,
            "Codex is configured for `{}` on {} ({on}), but the check failed.",
            report.model,
            report.runtime.display_name()
        );
    }
    if !report.changed {
        let _ = writeln!(
            out,
            "Nothing changed: this machine was already set up this way."
        );
    }
    let profile = profile_name(&report.codex.profile);
    let start = if report.codex.config.is_some() {
        format!("`codex`, or `codex --profile {profile}`")
    } else {
        format!("`codex --profile {profile}`")
    };
    match &report.codex.binary {
        Some(found) => {
            let version = found.version.as_deref().unwrap_or("?");
            let _ = writeln!(out, "Start it with {start} (Codex {version}).");
        }
        None => {
            let _ = writeln!(
                out,
                "Install Codex with `{}`, then start it with {start}.",
                binary::INSTALL_COMMAND
            );
        }
    }
    if let Some(backup) = &report.codex.backup {
        let _ = writeln!(
            out,
            "The previous config.toml is saved as {}.",
            display_path(backup, home)
        );
    }
    out
}

fn profile_name(path: &Path) -> String {
    path.file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(PROFILE_SUFFIX)
                .to_owned()
        })
        .unwrap_or_default()
}
