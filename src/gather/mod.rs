//! Gathering the facts: hardware, every runtime, Codex's configuration and program are read side by side (the
//! probes and `nvidia-smi` each within a short deadline; Codex's files are local reads, and only regular files are
//! opened), then the repository around the working directory. Also the catalog, when `--catalog` names a file.

mod codex;
mod doctor;
pub mod file_model;
mod hardware;
pub mod pack;
mod program;
mod repo;

use std::time::Duration;

use crate::facts::hardware::Hardware;
use crate::facts::runtime::RuntimeStatus;
use crate::facts::{Facts, Want};
use crate::plan::catalog::{self, Catalog, CatalogError};
use crate::runtime::{self, error::RuntimeError};
use crate::settings::Settings;
pub use codex::{read_status as codex_status, values_of as config_values};
pub use doctor::doctor as codex_doctor;
pub use program::locate as locate_codex;
pub use repo::{find_root, status as repo_status};

/// How long a hardware tool such as `nvidia-smi` may take.
pub const HARDWARE_COMMAND_TIMEOUT: Duration = Duration::from_millis(1500);

/// Gathers the facts `want` names, at once.
pub async fn gather(settings: &Settings, want: Want) -> Result<Facts, RuntimeError> {
    let hardware = async {
        if want.hardware {
            Some(probe_hardware(settings).await)
        } else {
            None
        }
    };
    let runtimes = async {
        if want.runtimes {
            runtime::probe_all(settings).await
        } else {
            Ok(Vec::new())
        }
    };
    let codex = async {
        if !want.codex {
            return None;
        }
        let home = settings.codex_home.clone();
        let read = tokio::task::spawn_blocking(move || codex::read_status(&home)).await;
        Some(read.unwrap_or_else(|_| codex::read_status(&settings.codex_home)))
    };
    let program = async {
        if want.program {
            let cwd = settings.cwd.as_deref();
            program::find(settings.path_var.as_ref(), cwd, program::VERSION_TIMEOUT).await
        } else {
            None
        }
    };
    let (hardware, runtimes, codex, program) = tokio::join!(hardware, runtimes, codex, program);
    let mut runtimes = runtimes?;
    note_programs(settings, &mut runtimes);
    let repo = if want.repo {
        settings
            .cwd
            .as_deref()
            .and_then(|dir| repo::status(dir, &settings.codex_home))
    } else {
        None
    };
    Ok(Facts {
        hardware,
        runtimes,
        codex,
        program,
        repo,
    })
}

/// Notes each runtime's own program (`ollama`, `lms`) when it is installed.
pub fn note_programs(settings: &Settings, runtimes: &mut [RuntimeStatus]) {
    for status in runtimes {
        status.program = program::runtime_program(
            status.name,
            settings.path_var.as_ref(),
            settings.cwd.as_deref(),
            settings.home_dir.as_deref(),
        );
    }
}

/// The hardware: described on the command line, else probed.
async fn probe_hardware(settings: &Settings) -> Hardware {
    match &settings.described {
        Some(described) => described.hardware(),
        None => hardware::probe(HARDWARE_COMMAND_TIMEOUT).await,
    }
}

/// The catalog `--catalog` names, else the built-in one.
pub fn catalog(settings: &Settings) -> Result<Catalog, CatalogError> {
    let Some(path) = settings.catalog.as_deref() else {
        return catalog::builtin();
    };
    let text = crate::codex::file::read_text(path)
        .map_err(|err| CatalogError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other(err.to_string()),
        })?
        .ok_or_else(|| CatalogError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
    catalog::parse(&text.plain, &path.display().to_string())
}
