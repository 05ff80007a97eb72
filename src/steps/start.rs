//! Starting a runtime that is installed but not running, with consent: `ollama serve` detached from the terminal
//! (its output in `<codex home>/codex-local/ollama.log`, on the address codex-local uses), or `lms server start`;
//! then waiting up to 15 s for it to answer.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use thiserror::Error;
use tokio::time::Instant;

use super::ask;
use crate::codex::file;
use crate::facts::runtime::{RuntimeKind, RuntimeStatus};
use crate::report::Printer;
use crate::runtime;
use crate::settings::Settings;

/// How long a started runtime has to answer.
const START_WAIT: Duration = Duration::from_secs(15);

/// A runtime that was started but does not answer.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("Started {runtime} (`{command}`), but nothing answers at `{url}` after {} s", START_WAIT.as_secs())]
    Silent {
        runtime: &'static str,
        command: String,
        url: String,
        log: Option<String>,
    },
    #[error(
        "Started {runtime} (`{command}`), but it stopped ({status}) before answering at `{url}`"
    )]
    Stopped {
        runtime: &'static str,
        command: String,
        url: String,
        status: std::process::ExitStatus,
        log: Option<String>,
    },
    #[error("Cannot start {runtime} (`{command}`)")]
    Spawn {
        runtime: &'static str,
        command: String,
        #[source]
        source: std::io::Error,
    },
}

impl StartError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::Silent { log: Some(log), .. } | Self::Stopped { log: Some(log), .. } => {
                format!("its output is in `{log}`")
            }
            Self::Silent { .. } | Self::Stopped { .. } | Self::Spawn { .. } => {
                "start it by hand and run the command again".to_owned()
            }
        }
    }
}

/// Offers to start the runtime of `status` when it is installed and down; `true` once it answers. `yes` is
/// consent given beforehand; without it the question is asked on the terminal, and off one nothing is started.
pub async fn start_runtime(
    status: &RuntimeStatus,
    settings: &Settings,
    yes: bool,
    printer: &Printer,
) -> anyhow::Result<bool> {
    let kind = status.name;
    let Some(program) = status.program.as_deref().filter(|_| !status.running) else {
        return Ok(false);
    };
    let info = kind.info();
    let command = format!("{} {}", info.program, info.start_args.join(" "));
    let question = format!(
        "{} is installed but not running at `{}`. Start it (`{command}`)?",
        kind.display_name(),
        crate::host::redact(&status.url)
    );
    if something_listens(&status.url).await {
        // Something holds the address already (a runtime that is busy, or another program): starting another
        // would only fail.
        return Ok(false);
    }
    if !yes && ask(printer, &question).await? != Some(true) {
        return Ok(false);
    }
    printer.info(&format!("Starting {} (`{command}`)…", kind.display_name()));
    let url = url::Url::parse(&status.url).unwrap_or_else(|_| settings.runtime_url(kind).clone());
    let (mut server, log) = spawn(kind, program, &url, settings, &command).await?;
    let log = log.map(|log| log.display().to_string());
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        let probe = runtime::connect(kind, runtime::endpoint_at(kind, url.clone(), settings)?);
        if probe.probe().await.running {
            return Ok(true);
        }
        // A server that failed will not answer: no need to wait out the time. (One that exited cleanly may have
        // handed over to a process of its own, so the wait goes on.)
        if let Some(status) = server
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
            .filter(|status| !status.success())
        {
            return Err(StartError::Stopped {
                runtime: kind.display_name(),
                command,
                url: crate::host::redact(url.as_str()),
                status,
                log,
            }
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(StartError::Silent {
        runtime: kind.display_name(),
        command,
        url: crate::host::redact(url.as_str()),
        log,
    }
    .into())
}

/// Starts the program: a server that keeps running is detached, its output in a log; a command that starts the
/// server and returns is waited for. Returns the server's process and the log's path, when there are.
async fn spawn(
    kind: RuntimeKind,
    program: &Path,
    url: &url::Url,
    settings: &Settings,
    command: &str,
) -> Result<(Option<std::process::Child>, Option<std::path::PathBuf>), StartError> {
    let info = kind.info();
    let failed = |source| StartError::Spawn {
        runtime: kind.display_name(),
        command: command.to_owned(),
        source,
    };
    if !info.start_runs_server {
        return start_and_return(kind, program, url, command).await;
    }
    let mut child = std::process::Command::new(program);
    child.args(info.start_args).stdin(Stdio::null());
    // The server listens where codex-local looks for it.
    let host = match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => String::new(),
    };
    let dir = settings.codex_home.join("codex-local");
    file::private_dir(&dir).map_err(|err| failed(std::io::Error::other(err.to_string())))?;
    let log_path = dir.join(format!("{}.log", info.program));
    let log = file::open_log(&log_path).map_err(|err| {
        failed(std::io::Error::other(format!(
            "cannot open its log `{}` ({err}); move whatever is there away",
            log_path.display()
        )))
    })?;
    let log_err = log.try_clone().map_err(failed)?;
    child
        .env(info.address_var, host)
        .stdout(log)
        .stderr(log_err);
    #[cfg(unix)]
    {
        // Its own process group: Ctrl-C in this terminal does not stop it.
        use std::os::unix::process::CommandExt as _;
        child.process_group(0);
    }
    let server = child.spawn().map_err(failed)?;
    Ok((Some(server), Some(log_path)))
}

/// Whether anything accepts connections at `url`'s host and port.
async fn something_listens(url: &str) -> bool {
    let Some((host, port)) = url::Url::parse(url).ok().and_then(|url| {
        Some((
            url.host_str()?.trim_matches(['[', ']']).to_owned(),
            url.port_or_known_default()?,
        ))
    }) else {
        return false;
    };
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    matches!(
        tokio::time::timeout(Duration::from_millis(300), connect).await,
        Ok(Ok(_))
    )
}

/// Runs a command that starts the server and returns (`lms server start`), stopping it if it does not return within
/// the wait.
async fn start_and_return(
    kind: RuntimeKind,
    program: &Path,
    url: &url::Url,
    command: &str,
) -> Result<(Option<std::process::Child>, Option<std::path::PathBuf>), StartError> {
    let failed = |source| StartError::Spawn {
        runtime: kind.display_name(),
        command: command.to_owned(),
        source,
    };
    let mut starter = tokio::process::Command::new(program);
    starter
        .args(kind.info().start_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(port) = url.port_or_known_default() {
        starter.args(["--port", &port.to_string()]);
    }
    // It starts the server and returns; one that does not return within the wait is stopped.
    let status = tokio::time::timeout(START_WAIT, starter.status())
        .await
        .map_err(|_| {
            failed(std::io::Error::other(format!(
                "it did not return within {} s",
                START_WAIT.as_secs()
            )))
        })?
        .map_err(failed)?;
    if status.success() {
        Ok((None, None))
    } else {
        Err(failed(std::io::Error::other(format!(
            "it exited with {status}"
        ))))
    }
}
