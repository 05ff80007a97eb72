//! One writer at a time: an advisory lock on `<codex home>/codex-local/lock`, held by init, restore and
//! `repo on/off` while they change Codex's files, with the holder's process id written in it.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use super::file::{self, ConfigError};

/// The lock file inside `<codex home>/codex-local/`.
const FILE: &str = "lock";

/// The lock, held until dropped.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

/// What trying the lock found.
#[derive(Debug)]
pub enum Attempt {
    Held(HomeLock),
    /// Another process holds it; its process id, when it wrote one.
    Busy(Option<u32>),
}

/// `<codex home>/codex-local/lock`.
#[must_use]
pub fn path(home: &Path) -> PathBuf {
    home.join("codex-local").join(FILE)
}

fn open(home: &Path) -> Result<File, ConfigError> {
    let path = path(home);
    if let Some(dir) = path.parent() {
        file::private_dir(dir)?;
    }
    file::check(&path)?;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| ConfigError::Write { path, source })
}

/// Takes the lock if it is free.
pub fn try_lock(home: &Path) -> Result<Attempt, ConfigError> {
    let mut handle = open(home)?;
    match handle.try_lock() {
        Ok(()) => Ok(Attempt::Held(mark(handle, home)?)),
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = handle.read_to_string(&mut text);
            Ok(Attempt::Busy(text.trim().parse().ok()))
        }
        Err(TryLockError::Error(source)) => Err(ConfigError::Write {
            path: path(home),
            source,
        }),
    }
}

/// Waits for the lock (run it off the async runtime; the caller bounds the wait).
pub fn lock(home: &Path) -> Result<HomeLock, ConfigError> {
    let handle = open(home)?;
    handle.lock().map_err(|source| ConfigError::Write {
        path: path(home),
        source,
    })?;
    mark(handle, home)
}

/// Writes this process's id into the held lock file, for whoever waits.
fn mark(mut handle: File, home: &Path) -> Result<HomeLock, ConfigError> {
    let error = |source| ConfigError::Write {
        path: path(home),
        source,
    };
    handle.set_len(0).map_err(error)?;
    handle.rewind().map_err(error)?;
    handle
        .write_all(std::process::id().to_string().as_bytes())
        .map_err(error)?;
    Ok(HomeLock { _file: handle })
}
