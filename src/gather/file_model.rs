//! A model file on disk (`init --model ./model.gguf`): its GGUF header, read in growing pieces from the start of
//! the file (never the whole file), and its size.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::facts::gguf::{self, GgufError, Header};

/// The first piece read; each further one doubles, up to [`MAX_HEADER`].
const FIRST: usize = 1 << 20;
/// The most of a file read for its header.
const MAX_HEADER: usize = 32 << 20;

/// A model file that cannot be used.
#[derive(Debug, Error)]
pub enum FileModelError {
    #[error("Cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a regular file", path.display())]
    NotFile { path: PathBuf },
    #[error("`{}`: {source}", path.display())]
    Header {
        path: PathBuf,
        #[source]
        source: GgufError,
    },
}

impl FileModelError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Read { .. } | Self::NotFile { .. } => "check the path given to `--model`",
            Self::Header { .. } => {
                "give a GGUF model file (llama.cpp's format, as Ollama and LM Studio use), or a model name"
            }
        }
    }
}

/// Whether `--model` names a model file: an existing path ending in `.gguf`.
#[must_use]
pub fn is_model_file(name: &str) -> bool {
    let path = Path::new(name);
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gguf"))
        && path.exists()
}

/// The header and the size of the model file at `path`.
pub fn describe(path: &Path) -> Result<(Header, u64), FileModelError> {
    let read_error = |source| FileModelError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(FileModelError::NotFile {
            path: path.to_path_buf(),
        });
    }
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes: Vec<u8> = Vec::new();
    let mut want = FIRST;
    loop {
        let missing = want.saturating_sub(bytes.len());
        let got = (&mut file)
            .take(missing as u64)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        match gguf::parse(&bytes) {
            Ok(header) => return Ok((header, metadata.len())),
            Err(GgufError::NeedMore { need, .. }) if got == missing && want < MAX_HEADER => {
                want = need.max(want * 2).min(MAX_HEADER);
            }
            Err(GgufError::NeedMore { .. }) => {
                return Err(FileModelError::Header {
                    path: path.to_path_buf(),
                    source: GgufError::Absurd {
                        field: "the header's length (the file ends first, or it is over 32 MiB)"
                            .to_owned(),
                        value: bytes.len() as u64,
                    },
                });
            }
            Err(source) => {
                return Err(FileModelError::Header {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// The name a model file gets in Ollama: its file name without `.gguf`, in the letters Ollama allows.
#[must_use]
pub fn model_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned();
    if name.is_empty() {
        "imported".to_owned()
    } else {
        name.chars().take(64).collect()
    }
}
