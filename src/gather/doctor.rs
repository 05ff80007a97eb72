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
const MAX_OUTPUT: u64 = 4 << 20;

/// A proxy address where nothing listens: the discard port on this machine.
const NO_PROXY_HERE: &str = "http://127.0.0.1:9";

/// Codex's verdict on `config` (the text of a config.toml) and its version; `Err` says why there is none.
pub async fn doctor(codex: &Path, config: &str) -> Result<(Doctor, Option<String>), String> {
    let home = tempfile::Builder::new()
        .prefix("codex-local-doctor")
        .tempdir()
        .map_err(|err| format!("cannot make a temporary folder: {err}"))?;
    let codex_home = home.path().join("codex");
    fs_err::create_dir(&codex_home).map_err(|err| err.to_string())?;
    fs_err::write(codex_home.join("config.toml"), config).map_err(|err| err.to_string())?;
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
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot start `{}`: {err}", codex.display()))?;
    let mut output = Vec::new();
    let read = async {
        if let Some(stdout) = child.stdout.take() {
            stdout.take(MAX_OUTPUT).read_to_end(&mut output).await?;
        }
        child.wait().await
    };
    match tokio::time::timeout(DOCTOR_TIMEOUT, read).await {
        Err(_) => {
            return Err(format!(
                "it did not finish within {} s",
                DOCTOR_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(err)) => return Err(err.to_string()),
        Ok(Ok(_)) => {}
    }
    doctor::read(&output)
}
