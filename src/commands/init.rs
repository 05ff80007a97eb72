//! `codex-local init`: plan, then pull, make the runtime serve the context, configure Codex and verify.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::Url;
use serde::Serialize;
use thiserror::Error;

use super::Ctx;
use crate::catalog::{self, ollama_full_name};
use crate::cli::{InitArgs, RuntimeArg};
use crate::codex::binary::{self, CodexBinary};
use crate::codex::config::{CONFIG_FILE, PROFILE_SUFFIX};
use crate::codex::edit::{self, CodexConfigMut, Op};
use crate::codex::journal::{CreatedModel, Journal};
use crate::codex::setup::{self, Target};
use crate::fit::{self, Fit, PassedOver};
use crate::plan::{self, Facts, InitOptions, Plan, Step};
use crate::runtime::error::RuntimeError;
use crate::runtime::{RuntimeKind, lmstudio, ollama, responses};
use crate::size::human_bytes;
use crate::ui::{Printer, Style};

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
            prepare_ollama(&plan, &connection.base, &facts, printer, &mut report).await?
        }
        RuntimeKind::Lmstudio => prepare_lmstudio(&plan, &connection, printer, &mut report).await?,
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
        let names: Vec<String> = changed_files.iter().map(|p| display(p, home_dir)).collect();
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
    let client = ollama::ops_client(timeout);
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
struct Connection<'a> {
    base: Url,
    /// LM Studio's bearer token, when its authentication is on.
    token: Option<&'a str>,
    version: Option<String>,
    /// How often to ask LM Studio about a download.
    poll: Duration,
}

/// Download and load on LM Studio; returns the context the loaded instance really has.
async fn prepare_lmstudio(
    plan: &Plan,
    lmstudio: &Connection<'_>,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<u64> {
    download_lmstudio(plan, lmstudio, printer, report).await?;
    let client = ollama::ops_client(LOAD_IDLE);
    let (base, token, key) = (&lmstudio.base, lmstudio.token, plan.base_model.as_str());
    let wanted = plan.context_length;
    let loaded = lmstudio::instances(&client, base, token, key).await?;
    if let Some(instance) = loaded
        .iter()
        .find(|i| i.context_length.is_some_and(|c| c >= wanted))
    {
        let served = instance.context_length.unwrap_or(wanted);
        report.model.clone_from(&instance.id);
        let detail = format!("`{}` is loaded with {served} tokens already", instance.id);
        report.step(printer, "context", "skipped", detail);
        return Ok(served);
    }
    // A second load would make a second instance (`key:2`): unload the short ones first.
    for instance in &loaded {
        lmstudio::unload(&client, base, token, &instance.id).await?;
    }
    let instance = lmstudio::load(&client, base, token, key, wanted).await?;
    let served = instance.context_length.unwrap_or(wanted);
    report.model.clone_from(&instance.id);
    report.changed = true;
    let unloaded = if loaded.is_empty() {
        String::new()
    } else {
        format!(" (unloaded {} with a shorter context)", loaded.len())
    };
    report.step(
        printer,
        "context",
        "done",
        format!("loaded `{}` with {served} tokens{unloaded}", instance.id),
    );
    if served < wanted {
        let message = format!(
            "LM Studio loaded `{}` with only {served} tokens, not {wanted}; Codex is told the truth",
            instance.id
        );
        report.warn(printer, message);
    }
    Ok(served)
}

/// Asks LM Studio to download the model and follows the job; Ctrl-C stops following, not the download.
async fn download_lmstudio(
    plan: &Plan,
    lmstudio: &Connection<'_>,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let key = plan.base_model.as_str();
    let client = ollama::ops_client(SHOW_IDLE);
    let (base, token) = (&lmstudio.base, lmstudio.token);
    let start = if plan.installed {
        lmstudio::DownloadStart::AlreadyDownloaded
    } else {
        lmstudio::download(&client, base, token, key).await?
    };
    let lmstudio::DownloadStart::Job { id, total } = start else {
        let detail = format!("`{key}` is already downloaded");
        report.step(printer, "pull", "skipped", detail);
        return Ok(());
    };
    let mut progress = printer.download(key);
    let followed = tokio::select! {
        result = follow_download(&client, lmstudio, &id, total, &mut progress) => result,
        _ = tokio::signal::ctrl_c() => Err(RuntimeError::StoppedFollowing { model: key.to_owned() }),
    };
    progress.finish();
    match followed {
        Ok(()) => {
            report.changed = true;
            report.step(printer, "pull", "done", format!("downloaded `{key}`"));
            Ok(())
        }
        Err(err) => {
            let err = match err {
                RuntimeError::Failed { message, .. } => RuntimeError::DownloadFailed {
                    model: key.to_owned(),
                    message,
                },
                other => other,
            };
            report.step(printer, "pull", "failed", err.to_string());
            Err(err.into())
        }
    }
}

/// Polls a download job until it completes or fails.
async fn follow_download(
    client: &reqwest::Client,
    lmstudio: &Connection<'_>,
    job: &str,
    total: Option<u64>,
    progress: &mut crate::ui::Download,
) -> Result<(), RuntimeError> {
    loop {
        let status = lmstudio::download_status(client, &lmstudio.base, lmstudio.token, job).await?;
        let total = status.total_size_bytes.or(total);
        progress.update("downloading", None, total, status.downloaded_bytes);
        match status.status.as_str() {
            "completed" => return Ok(()),
            "failed" => {
                return Err(RuntimeError::Failed {
                    model: job.to_owned(),
                    message: status
                        .error
                        .unwrap_or_else(|| "the download failed".to_owned()),
                });
            }
            _ => tokio::time::sleep(lmstudio.poll).await,
        }
    }
}

/// Pull, context and load on Ollama; returns the context the server really serves.
async fn prepare_ollama(
    plan: &Plan,
    base: &Url,
    facts: &super::status::StatusReport,
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
    let client = ollama::ops_client(PULL_IDLE);
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
    let client = ollama::ops_client(SHOW_IDLE);
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
    ollama::load(&ollama::ops_client(LOAD_IDLE), base, &report.model).await?;
    let running = ollama::ps(&ollama::ops_client(SHOW_IDLE), base).await?;
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

fn display(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
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
            display(backup, home)
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
