//! A pack: a model file and what is needed to recreate it in Ollama on a machine with no network, written by
//! `codex-local pack DIR` as `DIR/codex-local-pack.toml` beside the GGUF, read by `init --from DIR`.
//!
//! Everything in it is untrusted on reading (the folder came on a USB drive): the file name must be a plain name in
//! the folder, the digest a SHA-256, the sizes and context within bounds, and the file itself is read bounded.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The pack's description file, in the pack's folder.
pub const FILE_NAME: &str = "codex-local-pack.toml";
/// The version of the format written; a newer one is refused with a hint to update.
pub const SCHEMA_VERSION: u32 = 1;
/// The most read of the description file (a template is a few KiB).
pub const MAX_BYTES: u64 = 1 << 20;

/// What `codex-local-pack.toml` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub schema_version: u32,
    /// The model's name in Ollama's registry (`namespace/model:tag`, with a host when not Ollama's).
    pub name: String,
    /// The catalog's id, when the model is one of the catalog's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// The GGUF file in the pack's folder.
    pub file: String,
    /// `sha256:<64 hex digits>` of the file.
    pub digest: String,
    pub size_bytes: u64,
    /// The context the target serves, in tokens.
    pub context_length: u64,
    /// The machine it was chosen for, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Ollama's template for the model (the one that offers tools), its system prompt and parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Why a pack cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PackError {
    #[error("{FILE_NAME} is not a pack description: {0}")]
    Syntax(String),
    #[error(
        "{FILE_NAME} was written by a newer codex-local (format {0}, this one reads {SCHEMA_VERSION})"
    )]
    Newer(u32),
    #[error("{FILE_NAME} has a bad `{field}`: {message}")]
    Field {
        field: &'static str,
        message: String,
    },
}

impl Pack {
    /// Reads and checks a pack description.
    pub fn parse(text: &str) -> Result<Self, PackError> {
        let pack: Self =
            toml_edit::de::from_str(text).map_err(|err| PackError::Syntax(one_line(&err)))?;
        pack.check()?;
        Ok(pack)
    }

    /// The description as TOML, with a comment that says what it is for.
    #[must_use]
    pub fn to_text(&self) -> String {
        let body = toml_edit::ser::to_string_pretty(self).unwrap_or_default();
        format!(
            "# Written by `codex-local pack`. On the machine without a network, run:\n\
             #   codex-local init --from <this folder> --offline\n{body}"
        )
    }

    /// Every field within what codex-local accepts.
    pub fn check(&self) -> Result<(), PackError> {
        let bad = |field, message: &str| {
            Err(PackError::Field {
                field,
                message: message.to_owned(),
            })
        };
        if self.schema_version > SCHEMA_VERSION {
            return Err(PackError::Newer(self.schema_version));
        }
        if self.schema_version == 0 {
            return bad("schema_version", "0 is no version");
        }
        if super::model_name::Reference::parse(&self.name).is_none() {
            return bad("name", "not an Ollama model name");
        }
        if !is_plain_file_name(&self.file) {
            return bad(
                "file",
                "must be the name of a `.gguf` file in the pack's folder, without a path",
            );
        }
        if !is_sha256(&self.digest) {
            return bad("digest", "must be `sha256:` and 64 hexadecimal digits");
        }
        if self.size_bytes == 0 || self.size_bytes > 4 << 40 {
            return bad("size_bytes", "must be between 1 byte and 4 TiB");
        }
        if !(2048..=1_048_576).contains(&self.context_length) {
            return bad("context_length", "must be between 2048 and 1048576 tokens");
        }
        if self.template.as_ref().is_some_and(|t| t.len() > 256 << 10) {
            return bad("template", "is over 256 KiB");
        }
        Ok(())
    }
}

/// A file name with no path in it: letters, digits, `-`, `_` and `.`, ending in `.gguf`, not hidden.
#[must_use]
pub fn is_plain_file_name(name: &str) -> bool {
    name.len() <= 200
        && !name.starts_with('.')
        && name.to_ascii_lowercase().ends_with(".gguf")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `sha256:` and 64 lowercase hexadecimal digits.
#[must_use]
pub fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    })
}

/// The GGUF file name a model gets in a pack: its name in the letters a file name allows.
#[must_use]
pub fn file_name_for(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let stem: String = stem.chars().take(120).collect();
    if stem.is_empty() {
        "model.gguf".to_owned()
    } else {
        format!("{stem}.gguf")
    }
}

fn one_line(err: &impl std::fmt::Display) -> String {
    err.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> Pack {
        Pack {
            schema_version: 1,
            name: "library/qwen3-coder:30b".to_owned(),
            catalog_id: Some("qwen3-coder-30b".to_owned()),
            file: "library-qwen3-coder-30b.gguf".to_owned(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            size_bytes: 18_556_688_640,
            context_length: 65536,
            target: Some("32 GiB RAM, NVIDIA 24 GiB".to_owned()),
            template: Some("{{ if .Tools }}tools{{ end }}\n\"quoted\" '''".to_owned()),
            system: None,
            parameters: Some(
                serde_json::json!({"stop": ["<|im_end|>"], "temperature": 0.7, "top_k": 20})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        }
    }

    #[test]
    fn round_trips() {
        let pack = pack();
        let text = pack.to_text();
        assert!(
            text.starts_with("# Written by `codex-local pack`"),
            "{text}"
        );
        assert_eq!(Pack::parse(&text), Ok(pack));
    }

    #[test]
    fn refuses_paths_and_bad_digests() {
        for file in [
            "../x.gguf",
            "/etc/x.gguf",
            "a/b.gguf",
            ".hidden.gguf",
            "x.bin",
            "",
        ] {
            let mut bad = pack();
            bad.file = file.to_owned();
            assert!(
                matches!(bad.check(), Err(PackError::Field { field: "file", .. })),
                "{file}"
            );
        }
        for digest in [
            "sha256:abc",
            "md5:00",
            &format!("sha256:{}", "AB".repeat(32)),
        ] {
            let mut bad = pack();
            bad.digest = digest.to_owned();
            assert!(matches!(
                bad.check(),
                Err(PackError::Field {
                    field: "digest",
                    ..
                })
            ));
        }
        let mut newer = pack();
        newer.schema_version = 9;
        assert_eq!(newer.check(), Err(PackError::Newer(9)));
        let mut huge = pack();
        huge.context_length = 1 << 40;
        assert!(huge.check().is_err());
    }

    #[test]
    fn names_files_plainly() {
        assert_eq!(
            file_name_for("library/qwen3-coder:30b"),
            "library-qwen3-coder-30b.gguf"
        );
        assert_eq!(
            file_name_for("hf.co/Org/Repo:Q4_K_M"),
            "hf.co-org-repo-q4_k_m.gguf"
        );
        assert_eq!(file_name_for("::"), "model.gguf");
        assert!(is_plain_file_name(&file_name_for("hf.co/Org/Repo:Q4_K_M")));
    }
}
