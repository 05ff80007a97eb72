//! Steps: carrying out a plan. Each step is idempotent, reports through the printer as it finishes, and records
//! itself in the init report: make the model present, serve it at the context, configure Codex, verify.

mod configure;
mod preflight;
mod start;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::codex::lock::{self, Attempt, HomeLock};
use crate::codex::measured::{self, Measurement};
use crate::facts::codex::CodexBinary;
use crate::facts::runtime::RuntimeKind;
use crate::interrupt;
use crate::plan::Plan;
use crate::plan::fit::{Fit, PassedOver};
use crate::plan::steps::{Step, StepName, StepStatus};
use crate::report::{Download, Printer};
use crate::runtime::Measured;
use crate::runtime::{Fetched, Observer, Progress, Runtime, ServeRequest, Serving};
pub use configure::{
    PartlyWritten, Paths, configure, open_journal, remember_variant, report_configured, tidy,
};
pub use preflight::{Preflight, preflight};
pub use start::{StartError, start_runtime};

/// Why init stopped before changing anything, or why its last step failed.
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
    NoToolCall { model: String },
    #[error(
        "`[profiles.{profile}]` in config.toml sets `{key} = {table}`, but `{}` already sets `{key} = {file}`",
        path.display()
    )]
    ProfileConflict {
        profile: String,
        key: String,
        table: String,
        file: String,
        path: PathBuf,
    },
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
            Self::ProfileConflict { profile, .. } => format!(
                "decide which value `{profile}` should have: change it in one place so both agree (or remove the \
                 `[profiles.{profile}]` table), then run init again; nothing was changed"
            ),
            Self::NoToolCall { .. } => {
                "Codex needs a model that calls tools reliably: try `codex-local verify` again, or choose another \
                 model with `--model` (see `codex-local models`)"
                    .to_owned()
            }
        }
    }
}

/// Another codex-local kept the Codex home too long.
#[derive(Debug, Error)]
#[error(
    "Another codex-local{} is still changing `{}` after {seconds} s",
    pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
    home.display()
)]
pub struct Busy {
    pub home: PathBuf,
    pub pid: Option<u32>,
    pub seconds: u64,
}

impl Busy {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        let which = self.pid.map_or_else(
            || "the other one".to_owned(),
            |pid| format!("process {pid}"),
        );
        format!(
            "run the command again when {which} has finished, or raise `{}`",
            crate::env_vars::CODEX_LOCAL_LOCK_TIMEOUT_S
        )
    }
}

/// Takes the Codex home's lock: at once when it is free, else after saying who holds it and waiting up to
/// `timeout` for them.
pub async fn lock_home(
    home: &Path,
    timeout: Duration,
    printer: &Printer,
) -> anyhow::Result<HomeLock> {
    let pid = match lock::try_lock(home)? {
        Attempt::Held(lock) => return Ok(lock),
        Attempt::Busy(pid) => pid,
    };
    let holder = pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
    printer.info(&format!(
        "Waiting for another codex-local{holder} to finish changing `{}`…",
        home.display()
    ));
    let owned = home.to_path_buf();
    let waiting = tokio::task::spawn_blocking(move || lock::lock(&owned));
    match tokio::time::timeout(timeout, waiting).await {
        Ok(Ok(held)) => Ok(held?),
        Ok(Err(err)) => Err(anyhow::Error::new(err).context("Waiting for the lock failed")),
        Err(_) => Err(Busy {
            home: home.to_path_buf(),
            pid,
            seconds: timeout.as_secs(),
        }
        .into()),
    }
}

/// Asks a yes/no question on the terminal without blocking Ctrl-C; `None` when there is no terminal.
pub async fn ask(printer: &Printer, question: &str) -> anyhow::Result<Option<bool>> {
    if !printer.interactive {
        return Ok(None);
    }
    let (printer, question) = (printer.clone(), question.to_owned());
    let answer = tokio::task::spawn_blocking(move || printer.confirm(&question));
    Ok(answer.await?)
}

/// The `codex` part of the init document.
#[derive(Debug, Serialize)]
pub struct CodexReport {
    pub config: Option<PathBuf>,
    pub profile: PathBuf,
    pub provider: String,
    pub default_changed: bool,
    pub backup: Option<PathBuf>,
    pub profile_backup: Option<PathBuf>,
    pub binary: Option<CodexBinary>,
}

/// What the model really got once loaded.
#[derive(Debug, Serialize)]
pub struct Served {
    pub context_length: u64,
    pub size_bytes: u64,
    pub vram_bytes: u64,
    pub gpu_percent: u64,
}

/// The `init` document: the plan, then what each step did.
#[derive(Debug, Serialize)]
pub struct InitReport {
    pub dry_run: bool,
    pub runtime: RuntimeKind,
    pub url: String,
    pub base_model: String,
    pub model: String,
    pub context_length: u64,
    pub fit: Fit,
    pub need_bytes: u64,
    pub why: String,
    pub passed_over: Vec<PassedOver>,
    /// Estimated tokens/s written, and read, before the pull.
    pub decode_tps: Option<f64>,
    pub prefill_tps: Option<f64>,
    /// Where the estimate's numbers come from, and whether any was guessed.
    pub speed_basis: Option<String>,
    pub speed_guessed: Option<bool>,
    /// What was traded between quality and context, when anything was.
    pub traded: Option<String>,
    pub steps: Vec<Step>,
    pub codex: CodexReport,
    pub served: Option<Served>,
    pub verified: Option<bool>,
    /// Speed measured on the verification request (`null` on a dry run).
    pub measured: Option<Measured>,
    pub changed: bool,
    pub warnings: Vec<String>,
    /// The variant model this run created, if it created one.
    #[serde(skip)]
    pub created_variant: Option<String>,
    /// A model file codex-local placed where the runtime finds models (LM Studio).
    pub created_file: Option<std::path::PathBuf>,
    /// The file the created model was imported from (not part of the document).
    #[serde(skip)]
    pub created_source: Option<crate::codex::journal::Source>,
    /// The digest the runtime gave the created model.
    #[serde(skip)]
    pub created_digest: Option<String>,
    /// An import began and has not been seen to finish.
    #[serde(skip)]
    pub import_pending: bool,
    /// A variant codex-local made before that this run takes as it is, with the digest the runtime gives it now.
    #[serde(skip)]
    pub reused_variant: Option<(String, Option<String>)>,
}

impl InitReport {
    /// The report of a plan before any step ran.
    #[must_use]
    pub fn new(plan: &Plan, dry_run: bool, codex: CodexReport) -> Self {
        Self {
            dry_run,
            runtime: plan.runtime,
            url: plan.url.clone(),
            base_model: plan.base_model.clone(),
            model: plan.model.clone(),
            context_length: plan.context_length,
            fit: plan.fit,
            need_bytes: plan.need_bytes,
            why: plan.why.clone(),
            passed_over: plan.passed_over.clone(),
            decode_tps: plan.speed.as_ref().map(|s| round1(s.decode_tps)),
            prefill_tps: plan.speed.as_ref().map(|s| round1(s.prefill_tps)),
            speed_basis: plan.speed.as_ref().map(|s| s.basis.clone()),
            speed_guessed: plan.speed.as_ref().map(|s| s.guessed),
            traded: plan.traded.clone(),
            steps: plan.steps.clone(),
            codex,
            served: None,
            verified: None,
            measured: None,
            changed: false,
            warnings: plan.warnings.clone(),
            created_variant: None,
            created_file: None,
            created_source: None,
            created_digest: None,
            import_pending: false,
            reused_variant: None,
        }
    }

    /// Records a step's outcome and prints it.
    pub fn step(&mut self, printer: &Printer, name: StepName, status: StepStatus, detail: String) {
        printer.step(status, name, &detail);
        if let Some(step) = self.steps.iter_mut().find(|s| s.name == name) {
            step.status = status;
            step.detail = detail;
        }
    }

    /// Records a warning and prints it.
    pub fn warn(&mut self, printer: &Printer, message: String) {
        printer.warn(&message);
        self.warnings.push(message);
    }
}

/// One decimal is enough for an estimate.
#[must_use]
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Passes what a runtime reports to the printer and the report.
struct Reporter<'a> {
    printer: &'a Printer,
    report: &'a mut InitReport,
    download: Option<Download>,
}

impl Observer for Reporter<'_> {
    fn step(&mut self, name: StepName, status: StepStatus, detail: String) {
        self.report.step(self.printer, name, status, detail);
    }

    fn warn(&mut self, message: String) {
        self.report.warn(self.printer, message);
    }

    fn progress(&mut self, progress: &Progress<'_>) {
        if let Some(download) = &mut self.download {
            download.update(
                progress.status,
                progress.digest,
                progress.total,
                progress.completed,
            );
        }
    }
}

/// Makes the model present unless it is installed, by a pull; Ctrl-C stops cleanly. A file to import is staged and
/// made with [`stage_import`] and [`make_import`] (the caller journals the model between the two).
pub async fn fetch(
    plan: &Plan,
    runtime: &dyn Runtime,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<()> {
    let model = plan.base_model.as_str();
    let step = if plan.import.is_some() {
        StepName::Import
    } else {
        StepName::Pull
    };
    if plan.installed {
        let detail = format!("`{model}` is already installed");
        report.step(printer, step, StepStatus::Skipped, detail);
        return Ok(());
    }
    let mut reporter = Reporter {
        printer,
        report,
        download: Some(printer.download(model)),
    };
    let fetched = tokio::select! {
        result = runtime.fetch(model, &mut reporter) => result,
        () = interrupt::wait() => Err(runtime.interrupted(model)),
    };
    if let Some(download) = reporter.download.take() {
        download.finish();
    }
    let (status, detail) = match fetched {
        Ok(Fetched::AlreadyThere) => (
            StepStatus::Skipped,
            format!("`{model}` is already downloaded"),
        ),
        Ok(Fetched::Downloaded) => {
            report.changed = true;
            (StepStatus::Done, format!("downloaded `{model}`"))
        }
        Err(err) => {
            report.step(printer, step, StepStatus::Failed, err.to_string());
            return Err(err.into());
        }
    };
    report.step(printer, step, status, detail);
    Ok(())
}

/// Stages the file to import (hashed and uploaded, or placed in the runtime's folder), with progress; Ctrl-C stops
/// it with nothing half made.
pub async fn stage_import(
    plan: &Plan,
    import: &crate::plan::Import,
    runtime: &dyn Runtime,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<crate::runtime::Staged> {
    let model = plan.base_model.as_str();
    let mut reporter = Reporter {
        printer,
        report,
        download: Some(printer.download(model)),
    };
    let staged = tokio::select! {
        result = runtime.stage(import, model, &mut reporter) => result,
        () = interrupt::wait() => Err(crate::runtime::error::RuntimeError::ImportInterrupted {
            model: model.to_owned(),
            making: false,
        }),
    };
    if let Some(download) = reporter.download.take() {
        download.finish();
    }
    staged.map_err(|err| {
        report.step(
            printer,
            StepName::Import,
            StepStatus::Failed,
            err.to_string(),
        );
        err.into()
    })
}

/// Makes the model of a staged file; the model (and a file placed for the runtime) is noted in the report for the
/// journal. Returns the runtime's name for it.
pub async fn make_import(
    plan: &Plan,
    import: &crate::plan::Import,
    staged: crate::runtime::Staged,
    runtime: &dyn Runtime,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<String> {
    let model = plan.base_model.as_str();
    let imported = tokio::select! {
        result = runtime.make(import, model, plan.context_length, staged) => result,
        () = interrupt::wait() => Err(crate::runtime::error::RuntimeError::ImportInterrupted {
            model: model.to_owned(),
            making: true,
        }),
    };
    match imported {
        Ok(imported) => {
            report.import_pending = false;
            report.created_digest = digest_of(runtime, Some(&imported.name)).await;
            report.changed = true;
            // A model codex-local made: the journal lists it for `restore`.
            report.created_variant = Some(imported.name.clone());
            report.created_file.clone_from(&imported.file);
            report.created_source =
                crate::codex::journal::Source::of(&import.file, import.digest.as_deref());
            report.step(printer, StepName::Import, StepStatus::Done, imported.detail);
            Ok(imported.name)
        }
        Err(err) => {
            if let crate::runtime::error::RuntimeError::NotListed { path } = &err {
                // The file is in the runtime's folder even so: noted, for `restore` to name it.
                report.created_variant = Some(model.to_owned());
                report.created_file = Some(std::path::PathBuf::from(path));
            }
            report.step(
                printer,
                StepName::Import,
                StepStatus::Failed,
                err.to_string(),
            );
            Err(err.into())
        }
    }
}

/// The digest the runtime gives the model `name` now (Ollama's manifest), for the journal.
async fn digest_of(runtime: &dyn Runtime, name: Option<&str>) -> Option<String> {
    let name = name?;
    let models = runtime.models().await.ok()?;
    models
        .into_iter()
        .find(|m| crate::facts::ollama::same_model(&m.name, name))
        .and_then(|m| m.digest)
}

/// Makes the runtime serve the model at the planned context; sets the name Codex uses and returns what is served.
pub async fn serve(
    plan: &Plan,
    runtime: &dyn Runtime,
    (total_vram, has_gpu): (u64, bool),
    home: &std::path::Path,
    printer: &Printer,
    report: &mut InitReport,
) -> anyhow::Result<Serving> {
    let accepts = |served: u64| plan.accepts_context(served);
    let variant = crate::plan::variant_name(&plan.base_model, plan.context_length);
    // A model by the variant's name is made again only when codex-local made it there.
    let made_variant = crate::codex::journal::Journal::load(home)
        .ok()
        .and_then(|journal| journal.made(plan.runtime.id(), &plan.url, &variant));
    let request = ServeRequest {
        model: &plan.base_model,
        context: plan.context_length,
        accepts: &accepts,
        variant: &variant,
        made_variant: made_variant.as_ref(),
        total_vram,
        has_gpu,
    };
    let mut reporter = Reporter {
        printer,
        report,
        download: None,
    };
    let serving = runtime.serve(&request, &mut reporter).await?;
    report.model.clone_from(&serving.model);
    report.changed |= serving.changed;
    if serving.created.is_none() && serving.model == variant && made_variant.is_some() {
        let digest = digest_of(runtime, Some(&variant)).await;
        report.reused_variant = Some((variant.clone(), digest));
    }
    if serving.created.is_some() {
        report.created_variant.clone_from(&serving.created);
        // A variant made from the imported model is not itself imported from the file.
        report.created_source = None;
        report.created_file = None;
        report.created_digest = digest_of(runtime, serving.created.as_deref()).await;
    }
    if let Some(placement) = serving.placement {
        report.served = Some(Served {
            context_length: serving.context,
            size_bytes: placement.size_bytes,
            vram_bytes: placement.vram_bytes,
            gpu_percent: placement.gpu_percent(),
        });
    }
    Ok(serving)
}

/// Sends the request Codex makes and checks that the model called the tool; keeps the speed it showed, next to the
/// estimate, in `<codex home>/codex-local/measured.json`.
pub async fn verify(
    runtime: &dyn Runtime,
    timeout: Duration,
    printer: &Printer,
    report: &mut InitReport,
    home: &std::path::Path,
) -> anyhow::Result<()> {
    let verified = runtime.verify(&report.model, timeout).await;
    let mut speed = String::new();
    if let Ok(outcome) = &verified {
        report.measured = Some(outcome.measured.clone());
        let mut measurement = Measurement::now(
            report.runtime.id(),
            &report.url,
            &report.model,
            &outcome.measured,
        );
        measurement.estimated_decode_tps = report.decode_tps;
        measurement.estimated_prefill_tps = report.prefill_tps;
        speed = format!("; {}", measurement.describe());
        if let Err(err) = measured::record(home, measurement) {
            report.warn(printer, format!("the speed measured was not kept: {err}"));
        }
    }
    report.verified = Some(matches!(&verified, Ok(outcome) if outcome.tool_call.is_some()));
    let outcome = match verified {
        Ok(outcome) => outcome,
        Err(err) => {
            report.step(
                printer,
                StepName::Verify,
                StepStatus::Failed,
                err.to_string(),
            );
            return Err(err.into());
        }
    };
    if let Some(tool) = outcome.tool_call {
        let seconds = Duration::from_millis(u64::try_from(outcome.elapsed_ms).unwrap_or(u64::MAX))
            .as_secs_f64();
        let detail = format!(
            "`{}` answered in {seconds:.1} s and called `{tool}`{speed}",
            report.model
        );
        report.step(printer, StepName::Verify, StepStatus::Done, detail);
        Ok(())
    } else {
        let detail = "the model answered without calling the tool".to_owned();
        report.step(printer, StepName::Verify, StepStatus::Failed, detail);
        Err(InitError::NoToolCall {
            model: report.model.clone(),
        }
        .into())
    }
}
