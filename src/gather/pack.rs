//! Reading a pack folder (`init --from DIR`): its description, bounded and checked, and its model file, which must
//! be there whole.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::facts::pack::{self, Pack, PackError};

/// A pack folder that cannot be used.
#[derive(Debug, Error)]
pub enum PackReadError {
    #[error("`{}` has no {}: it is not a folder written by `codex-local pack`", dir.display(), pack::FILE_NAME)]
    Missing { dir: PathBuf },
    #[error("Cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a regular file", path.display())]
    NotFile { path: PathBuf },
    #[error("`{}` is over {} bytes: it is not a pack description", path.display(), pack::MAX_BYTES)]
    TooLong { path: PathBuf },
    #[error("`{}`", path.display())]
    Bad {
        path: PathBuf,
        #[source]
        source: PackError,
    },
    #[error("The pack's model file `{}` is missing", path.display())]
    NoModelFile { path: PathBuf },
    #[error(
        "The pack's model file `{}` is {size} bytes, and the pack says {expected}: it was not copied whole",
        path.display()
    )]
    WrongSize {
        path: PathBuf,
        size: u64,
        expected: u64,
    },
}

impl PackReadError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::Missing { .. } => {
                "give `--from` the folder `codex-local pack DIR` filled on a connected machine".to_owned()
            }
            Self::Read { .. } | Self::NotFile { .. } => "check the folder given to `--from`".to_owned(),
            Self::TooLong { .. } | Self::Bad { source: PackError::Syntax(_) | PackError::Field { .. }, .. } => {
                "make the pack again with `codex-local pack DIR` on a connected machine".to_owned()
            }
            Self::Bad {
                source: PackError::Newer(_),
                ..
            } => "update codex-local on this machine to the version that made the pack".to_owned(),
            Self::NoModelFile { .. } | Self::WrongSize { .. } => {
                "copy the pack's folder again, whole (or run `codex-local pack` again to finish the download)"
                    .to_owned()
            }
        }
    }
}

/// The pack in `dir`, checked, and the path of its model file (there, and of the size the pack says).
pub fn read(dir: &Path) -> Result<(Pack, PathBuf), PackReadError> {
    let path = dir.join(pack::FILE_NAME);
    let read_error = |source| PackReadError::Read {
        path: path.clone(),
        source,
    };
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(PackReadError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        Err(err) => return Err(read_error(err)),
    };
    if !metadata.is_file() {
        return Err(PackReadError::NotFile { path });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|file| file.take(pack::MAX_BYTES + 1).read_to_end(&mut bytes))
        .map_err(read_error)?;
    if bytes.len() as u64 > pack::MAX_BYTES {
        return Err(PackReadError::TooLong { path });
    }
    let text = String::from_utf8_lossy(&bytes);
    let description = Pack::parse(&text).map_err(|source| PackReadError::Bad {
        path: path.clone(),
        source,
    })?;
    let model = dir.join(&description.file);
    match std::fs::metadata(&model) {
        Ok(meta) if meta.is_file() && meta.len() == description.size_bytes => {
            Ok((description, model))
        }
        Ok(meta) if meta.is_file() => Err(PackReadError::WrongSize {
            path: model,
            size: meta.len(),
            expected: description.size_bytes,
        }),
        Ok(_) => Err(PackReadError::NotFile { path: model }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            Err(PackReadError::NoModelFile { path: model })
        }
        Err(source) => Err(PackReadError::Read {
            path: model,
            source,
        }),
    }
}
