//! Commands: one file each, and the glue that resolves settings, runs one, and diagnoses its errors.

mod init;
mod models;
mod models_check;
mod pack;
mod repo;
mod restore;
mod run;
mod shell_init;
mod status;
mod verify;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::codex::edit::ConfigError;
use crate::codex::repo::RepoError;
use crate::facts::described::DescribeError;
use crate::gather::file_model::FileModelError;
use crate::host::HostError;
use crate::interrupt::{self, Interrupted};
use crate::plan::PlanError;
use crate::plan::catalog::CatalogError;
use crate::report::Printer;
use crate::runtime::error::RuntimeError;
use crate::runtime::registry::RegistryError;
use crate::settings::{ProcessEnv, Settings, SettingsError};
use crate::size::SizeError;
use crate::steps::{Busy, InitError, PartlyWritten, StartError};

/// Exit code for a failure the user can fix.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage error or an internal bug.
pub const EXIT_USAGE: u8 = 2;

/// What a command needs: settings and the printer.
pub struct Ctx<'a> {
    pub settings: Settings,
    pub printer: &'a Printer,
}

/// Resolves the settings and runs the command; Ctrl-C stops it at the next wait.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    interrupt::listen();
    tokio::select! {
        biased;
        outcome = dispatch(cli, printer) => outcome,
        () = interrupt::wait() => Err(Interrupted.into()),
    }
}

/// A command line that is well formed but asks for something that cannot be.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub &'static str);

/// A command line that is well formed but asks for something that cannot be, and what to give instead.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadUsage {
    pub message: String,
    pub hint: String,
}

async fn dispatch(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    if printer.json && matches!(cli.command, Command::Run(_)) {
        return Err(Usage(
            "`run` starts Codex, whose output is its own: it cannot be one JSON document",
        )
        .into());
    }
    let settings = Settings::resolve(&cli.global, &ProcessEnv)?;
    if !matches!(cli.command, Command::ShellInit(_) | Command::Run(_)) {
        settings.check_environment()?;
    }
    if matches!(
        cli.command,
        Command::Status(_) | Command::Init(_) | Command::Models(_)
    ) {
        // These talk to the runtimes at their configured addresses; other commands never fail because of them.
        settings.check_addresses()?;
    }
    let ctx = Ctx { settings, printer };
    match cli.command {
        Command::Status(args) => status::run(&args, &ctx).await,
        Command::Init(args) => init::run(&args, &ctx).await,
        Command::Models(args) if args.check => models_check::run(&args, &ctx).await,
        Command::Models(args) => models::run(&args, &ctx).await,
        Command::Verify(args) => verify::run(&args, &ctx).await,
        Command::Restore(args) => restore::run(&args, &ctx).await,
        Command::Repo(args) => repo::run(&args, &ctx).await,
        Command::ShellInit(args) => shell_init::run(&args, &ctx),
        Command::Run(args) => run::run(&args, &ctx).await,
        Command::Pack(args) => pack::run(&args, &ctx).await,
    }
}

/// Reports a failed command: its message, causes, next step and exit code.
#[must_use]
pub fn report(printer: &Printer, err: &anyhow::Error) -> ExitCode {
    let (hint, code) = diagnose(err);
    printer.report_failure(err, hint.as_deref(), code)
}

/// Reports a command line that does not parse: clap's own text, or under `--json` one JSON error document. Help
/// and version requests print as usual and succeed.
#[must_use]
pub fn usage_error(err: &clap::Error, printer_json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    let help = matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    let missing = err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
    if help || (missing && !printer_json) {
        let _ = err.print();
        return if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(EXIT_USAGE)
        } else {
            ExitCode::SUCCESS
        };
    }
    Printer::usage_failure(err, printer_json, EXIT_USAGE)
}

/// The exit code after Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The hint and exit code for an error, found by looking through its chain for an error that knows its next step.
#[must_use]
pub fn diagnose(err: &anyhow::Error) -> (Option<String>, u8) {
    err.chain()
        .find_map(|cause| {
            stops(cause)
                .or_else(|| usage(cause))
                .or_else(|| failure(cause))
        })
        .unwrap_or((None, EXIT_FAILURE))
}

type Diagnosis = (Option<String>, u8);

/// Interruptions, and the stops that leave something to know (another codex-local, files written).
fn stops(cause: &(dyn std::error::Error + 'static)) -> Option<Diagnosis> {
    if cause.downcast_ref::<Interrupted>().is_some() {
        return Some((None, EXIT_INTERRUPTED));
    }
    if let Some(
        err @ (RuntimeError::Interrupted { .. }
        | RuntimeError::StoppedFollowing { .. }
        | RuntimeError::ImportInterrupted { .. }),
    ) = cause.downcast_ref::<RuntimeError>()
    {
        return Some((Some(err.hint()), EXIT_INTERRUPTED));
    }
    if let Some(err) = cause.downcast_ref::<Busy>() {
        return Some((Some(err.hint()), EXIT_FAILURE));
    }
    if let Some(err) = cause.downcast_ref::<pack::PackStop>() {
        let code = if err.interrupted() {
            EXIT_INTERRUPTED
        } else if err.bad_usage() {
            EXIT_USAGE
        } else {
            EXIT_FAILURE
        };
        return Some((Some(err.hint()), code));
    }
    if let Some(err) = cause.downcast_ref::<PartlyWritten>() {
        return Some((Some(err.hint()), EXIT_FAILURE));
    }
    None
}

/// Usage errors: what was given cannot be used.
fn usage(cause: &(dyn std::error::Error + 'static)) -> Option<Diagnosis> {
    if cause.downcast_ref::<Usage>().is_some() {
        return Some((Some("leave out `--json`".to_owned()), EXIT_USAGE));
    }
    if let Some(err) = cause.downcast_ref::<BadUsage>() {
        return Some((Some(err.hint.clone()), EXIT_USAGE));
    }
    if let Some(settings) = cause.downcast_ref::<SettingsError>() {
        let code = match settings {
            SettingsError::NoCodexHome => EXIT_FAILURE,
            _ => EXIT_USAGE,
        };
        return Some((Some(settings.hint()), code));
    }
    if let Some(described) = cause.downcast_ref::<DescribeError>() {
        return Some((Some(described.hint().to_owned()), EXIT_USAGE));
    }
    if let Some(size) = cause.downcast_ref::<SizeError>() {
        return Some((Some(size.hint().to_owned()), EXIT_USAGE));
    }
    if let Some(host) = cause.downcast_ref::<HostError>() {
        return Some((Some(host.hint().to_owned()), EXIT_USAGE));
    }
    None
}

/// Failures the user can fix, each with its next step.
fn failure(cause: &(dyn std::error::Error + 'static)) -> Option<Diagnosis> {
    let hint = if let Some(err) = cause.downcast_ref::<init::CredentialsInAddress>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<PlanError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<RuntimeError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<ConfigError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<CatalogError>() {
        err.hint().to_owned()
    } else if let Some(err) = cause.downcast_ref::<InitError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<run::RunError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<RepoError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<StartError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<RegistryError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<crate::gather::pack::PackReadError>() {
        err.hint()
    } else if let Some(err) = cause.downcast_ref::<FileModelError>() {
        err.hint().to_owned()
    } else {
        return None;
    };
    Some((Some(hint), EXIT_FAILURE))
}
