//! Asking the real Codex whether it loads a configuration: `codex doctor --json` in a temporary Codex home that
//! holds only that configuration (so Codex writes nothing in the user's), from a temporary folder (so no
//! repository's settings mix in), with every proxy pointed at a closed port (so its look-up of the newest version
//! fails at once and nothing leaves the machine), its output bounded in size and time.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;

use crate::facts::doctor::{self, Doctor};

/// How long Codex may take to report.
pub const DOCTOR_TIMEOUT: Duration = Duration::from_secs(20);

/// The most of its output that is read.
const MAX_OUTPUT: usize = 4 << 20;

/// How long its output may stay open after Codex exits.
const AFTER_EXIT: Duration = Duration::from_millis(500);

/// A proxy address where nothing listens: the discard port on this machine.
const NO_PROXY_HERE: &str = "http://127.0.0.1:9";

/// Codex's verdict on `config` (the text of a config.toml) and its version; `Err` says why there is none.
pub async fn doctor(codex: &Path, config: &str) -> Result<(Doctor, Option<String>), String> {
    // The copy may hold secrets: only its owner can read it, as the original.
    let mut builder = tempfile::Builder::new();
    builder.prefix("codex-local-doctor");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let home = builder
        .tempdir()
        .map_err(|err| format!("cannot make a temporary folder: {err}"))?;
    let codex_home = home.path().join("codex");
    let private = |err: std::io::Error| format!("cannot write a temporary copy of the file: {err}");
    let mut folder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(&codex_home).map_err(private)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut copy = options
        .open(codex_home.join("config.toml"))
        .map_err(private)?;
    std::io::Write::write_all(&mut copy, config.as_bytes()).map_err(private)?;
    drop(copy);
    let mut command = tokio::process::Command::new(codex);
    command
        .args(["doctor", "--json"])
        .current_dir(home.path())
        .env(crate::env_vars::CODEX_HOME, &codex_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env(name, NO_PROXY_HERE);
    }
    command
        .env("NO_PROXY", "localhost,127.0.0.1,::1")
        .env("no_proxy", "localhost,127.0.0.1,::1");
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot start `{}`: {err}", codex.display()))?;
    let group = child.id();
    let outcome = collect(&mut child).await;
    // Whatever Codex left running (a helper that holds its output open, say) goes with it.
    #[cfg(unix)]
    if let Some(pid) = group.and_then(|id| rustix::process::Pid::from_raw(id.cast_signed())) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill().await;
    doctor::read(&outcome?)
}

/// Codex's output, read until it ends, or until a moment after Codex exits (a helper may hold it open), or until
/// [`DOCTOR_TIMEOUT`]; at most [`MAX_OUTPUT`] bytes.
async fn collect(child: &mut tokio::process::Child) -> Result<Vec<u8>, String> {
    let Some(mut stdout) = child.stdout.take() else {
        return Ok(Vec::new());
    };
    let mut output = Vec::new();
    let mut deadline = tokio::time::Instant::now() + DOCTOR_TIMEOUT;
    let mut exited = false;
    let mut buffer = vec![0_u8; 64 << 10];
    loop {
        tokio::select! {
            read = stdout.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return Ok(output),
                Ok(count) => {
                    output.extend_from_slice(&buffer[..count]);
                    if output.len() > MAX_OUTPUT {
                        return Err(format!("it wrote more than {} MiB", MAX_OUTPUT >> 20));
                    }
                }
            },
            _ = child.wait(), if !exited => {
                exited = true;
                deadline = deadline.min(tokio::time::Instant::now() + AFTER_EXIT);
            },
            () = tokio::time::sleep_until(deadline) => {
                return if exited {
                    Ok(output)
                } else {
                    Err(format!("it did not finish within {} s", DOCTOR_TIMEOUT.as_secs()))
                };
            }
        }
    }
}
