//! The journal of what codex-local changed in Codex's files, so that `restore` can undo exactly that.
//!
//! It is written, and synced, before the first change to any file. For every file it keeps the whole text before
//! codex-local first changed it (or that there was none) and a fingerprint of every text codex-local wrote: while
//! the file still holds one of those, `restore` puts the original back byte for byte. When someone changed the file
//! since, `restore` undoes key by key instead, from what each key held before, and keeps (and names) what was
//! changed. It also lists the entries codex-local removed and the model variants it made. It lives in
//! `<codex home>/codex-local/journal.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::edit::{self, CodexConfigMut, ConfigError, Op, Pending, value_text};
use super::state;

/// The journal's file name inside `<codex home>/codex-local/`.
pub const FILE: &str = "journal.json";
/// The journal's format: 2 adds the original text and the fingerprints of what was written.
const VERSION: u32 = 2;

/// The SHA-256 of a text, in hex.
#[must_use]
pub fn fingerprint(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            use std::fmt::Write as _;
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// A TOML document that holds only the item at `keys`.
fn snippet(keys: &[String], item: &toml_edit::Item) -> String {
    let mut document = toml_edit::DocumentMut::new();
    let mut table = document.as_table_mut();
    for (depth, key) in keys.iter().enumerate() {
        if depth + 1 == keys.len() {
            table.insert(key, item.clone());
        } else {
            let mut child = toml_edit::Table::new();
            child.set_implicit(true);
            table.insert(key, toml_edit::Item::Table(child));
            let Some(next) = table.get_mut(key).and_then(toml_edit::Item::as_table_mut) else {
                break;
            };
            table = next;
        }
    }
    document.to_string()
}

/// One key codex-local set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The value before codex-local first set it, as TOML text; `None` when the key was absent.
    pub before: Option<String>,
    /// What codex-local last wrote, as TOML text.
    pub written: String,
}

/// What codex-local changed in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The file did not exist before codex-local wrote it.
    pub created: bool,
    /// The whole file before codex-local first changed it; `None` when it did not exist (or in an older journal).
    #[serde(default)]
    pub original: Option<String>,
    /// SHA-256 of every text codex-local wrote to the file, or was about to write.
    #[serde(default)]
    pub written: Vec<String>,
    /// Dotted key → its record.
    pub keys: BTreeMap<String, KeyRecord>,
    /// Tables codex-local created, as dotted paths.
    pub tables: Vec<String>,
    /// Entries codex-local removed, by dotted path, each as the text of a TOML document holding only it.
    #[serde(default)]
    pub removed: BTreeMap<String, String>,
}

/// A model variant codex-local created in a runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedModel {
    pub runtime: String,
    pub url: String,
    pub name: String,
    /// The model file codex-local placed where the runtime finds models (LM Studio), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
    /// The file it was imported from, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The digest the runtime gave the model when codex-local left it (Ollama's manifest): a model of that name with
    /// another digest is no longer the one codex-local made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Noted before an import began: the model may exist or not (init stopped before it could tell).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// The file a model was imported from, as it was then: a later init imports it again only when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub path: std::path::PathBuf,
    pub size: u64,
    /// Modification time, in nanoseconds since 1970.
    pub modified_ns: Option<u64>,
    /// Its SHA-256, when known (a pack names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Source {
    /// The file at `path` as it is now.
    #[must_use]
    pub fn of(path: &Path, digest: Option<&str>) -> Option<Self> {
        let path = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok());
        Some(Self {
            path,
            size: meta.len(),
            modified_ns,
            digest: digest.map(str::to_owned),
        })
    }

    /// Whether `now` is the same file, unchanged: the same digest when both name one, else the same path, size and
    /// modification time.
    #[must_use]
    pub fn unchanged(&self, now: &Self) -> bool {
        match (&self.digest, &now.digest) {
            (Some(then), Some(digest)) => then == digest && self.size == now.size,
            _ => {
                self.path == now.path
                    && self.size == now.size
                    && self.modified_ns.is_some()
                    && self.modified_ns == now.modified_ns
            }
        }
    }
}

/// Everything codex-local changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    /// File name (relative to the Codex home) → record.
    pub files: BTreeMap<String, FileRecord>,
    /// Models codex-local made that `restore` names (and then forgets).
    pub models: Vec<CreatedModel>,
    /// Every model codex-local made, kept after `restore`: a later init takes a model of such a name as its own
    /// (to use or make again), never a model of the user's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub made: Vec<CreatedModel>,
}

/// `<codex home>/codex-local/journal.json`.
#[must_use]
pub fn path(home: &Path) -> PathBuf {
    home.join("codex-local").join(FILE)
}

impl Journal {
    /// Reads the journal; a missing one is empty.
    pub fn load(home: &Path) -> Result<Self, ConfigError> {
        state::load(&path(home))
    }

    /// Moves a damaged journal aside (`journal.json.damaged-<UTC time>`) and returns where it went.
    pub fn set_aside(home: &Path) -> Result<PathBuf, ConfigError> {
        let from = path(home);
        let stamp = edit::utc_stamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        let to = from.with_file_name(format!("{FILE}.damaged-{stamp}"));
        fs_err::rename(&from, &to).map_err(|source| ConfigError::Write {
            path: from.clone(),
            source,
        })?;
        Ok(to)
    }

    /// Writes the journal, or removes it when it holds nothing.
    pub fn save(&self, home: &Path) -> Result<(), ConfigError> {
        let path = path(home);
        if self.files.is_empty() && self.models.is_empty() && self.made.is_empty() {
            return match fs_err::remove_file(&path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(ConfigError::Write { path, source: err })
                }
                _ => Ok(()),
            };
        }
        state::save(
            &path,
            &Journal {
                version: VERSION,
                ..self.clone()
            },
        )
    }

    /// Notes a model codex-local made, for `restore` to name and for later runs to know as its own.
    pub fn note_model(&mut self, model: CreatedModel) {
        let same = |m: &CreatedModel| {
            m.runtime == model.runtime
                && crate::facts::codex::same_address(&m.url, &model.url)
                && m.name == model.name
        };
        self.models.retain(|m| !same(m));
        self.models.push(model.clone());
        self.made.retain(|m| !same(m));
        self.made.push(model);
    }

    /// Lists again for `restore` a model codex-local made before (after a restore) that a run takes as it is.
    pub fn renote(&mut self, runtime: &str, url: &str, name: &str) {
        if self.made_model(runtime, Some(url), name).is_some()
            && !self.models.iter().any(|m| {
                m.runtime == runtime
                    && crate::facts::codex::same_address(&m.url, url)
                    && m.name == name
            })
            && let Some(made) = self.made_model(runtime, Some(url), name).cloned()
        {
            self.models.push(made);
        }
    }

    /// What the journal says of the model of this name that codex-local made in this runtime at this address.
    #[must_use]
    pub fn made(
        &self,
        runtime: &str,
        url: &str,
        name: &str,
    ) -> Option<crate::facts::runtime::Made> {
        let record = self.made_model(runtime, Some(url), name)?;
        let active = self
            .models
            .iter()
            .any(|m| m.runtime == record.runtime && m.url == record.url && m.name == record.name);
        Some(crate::facts::runtime::Made {
            digest: record.digest.clone(),
            pending: record.pending,
            active,
            variant: record.source.is_none() && record.file.is_none() && !record.pending,
        })
    }

    /// Records the digest the runtime now gives a model codex-local made (after it made it again, or where an older
    /// codex-local left none).
    pub fn set_digest(&mut self, runtime: &str, url: &str, name: &str, digest: &str) {
        for record in self.models.iter_mut().chain(self.made.iter_mut()) {
            if record.runtime == runtime
                && crate::facts::codex::same_address(&record.url, url)
                && (record.name == name || crate::facts::ollama::same_model(&record.name, name))
            {
                record.digest = Some(digest.to_owned());
            }
        }
    }

    /// Forgets a model noted before an import that then made nothing.
    pub fn forget_model(&mut self, runtime: &str, url: &str, name: &str) {
        let same = |m: &CreatedModel| {
            m.runtime == runtime && crate::facts::codex::same_address(&m.url, url) && m.name == name
        };
        self.models.retain(|m| !same(m));
        self.made.retain(|m| !same(m));
    }

    /// The model of this name that codex-local made in this runtime (at this address, when one is given), if it
    /// did.
    #[must_use]
    pub fn made_model(
        &self,
        runtime: &str,
        url: Option<&str>,
        name: &str,
    ) -> Option<&CreatedModel> {
        let same = |m: &&CreatedModel| {
            m.runtime == runtime
                && url.is_none_or(|url| crate::facts::codex::same_address(&m.url, url))
                && (m.name == name || crate::facts::ollama::same_model(&m.name, name))
        };
        self.made
            .iter()
            .find(same)
            .or_else(|| self.models.iter().find(same))
    }

    /// Notes a write before it happens: the file's text before codex-local's first change, and the fingerprint of
    /// the text about to be written.
    pub fn record_write(&mut self, name: &str, pending: &Pending) {
        let record = self.files.entry(name.to_owned()).or_default();
        if record.written.is_empty() {
            record.created = pending.before.is_none();
            record.original.clone_from(&pending.before);
        }
        let print = fingerprint(&pending.after);
        if !record.written.contains(&print) {
            record.written.push(print);
        }
    }

    /// Notes, before `ops` are applied to `config`, what each key and table held, keeping the first "before".
    pub fn record(&mut self, name: &str, config: &CodexConfigMut, ops: &[Op]) {
        let document = config.document();
        let record = self
            .files
            .entry(name.to_owned())
            .or_insert_with(|| FileRecord {
                created: !config.exists(),
                ..FileRecord::default()
            });
        for op in ops {
            if let Op::Remove(keys) = op {
                let dotted = keys.join(".");
                if let Some(item) = edit::lookup(document, keys)
                    && !record.removed.contains_key(&dotted)
                {
                    record.removed.insert(dotted, snippet(keys, item));
                }
                continue;
            }
            let Op::Set(keys, value) = op else { continue };
            for depth in 1..keys.len() {
                let table = keys[..depth].join(".");
                if edit::lookup(document, &keys[..depth]).is_none()
                    && !record.tables.contains(&table)
                {
                    record.tables.push(table);
                }
            }
            let dotted = keys.join(".");
            let written = value.text();
            if let Some(existing) = record.keys.get_mut(&dotted) {
                existing.written = written;
            } else {
                let before = edit::lookup(document, keys).map(|item| match item {
                    toml_edit::Item::Value(value) => value_text(value),
                    other => other.to_string().trim().to_owned(),
                });
                record.keys.insert(dotted, KeyRecord { before, written });
            }
        }
    }
}

/// What restoring one file means, given what it holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// It holds what it held before codex-local changed it (or is absent, as it was): nothing to do.
    AsItWas,
    /// It existed before, and is gone now: nothing to restore it from but the original, which stays untouched.
    Missing,
    /// It holds what codex-local wrote: put the original back byte for byte (`None`: remove the file).
    Exact(Option<String>),
    /// Someone changed it since: undo key by key, keeping what they changed.
    Keys,
}

impl FileRecord {
    /// How to restore the file, given its text now (`None` when it does not exist).
    #[must_use]
    pub fn restore(&self, now: Option<&str>) -> Restore {
        let knows_original = !self.written.is_empty();
        match now {
            None if self.created => Restore::AsItWas,
            None => Restore::Missing,
            Some(text) if knows_original && self.original.as_deref() == Some(text) => {
                Restore::AsItWas
            }
            Some(text) if knows_original && self.written.contains(&fingerprint(text)) => {
                Restore::Exact(self.original.clone())
            }
            Some(_) => Restore::Keys,
        }
    }
}

/// What restore did to one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UndoAction {
    /// The old value is back.
    Restored,
    /// It was absent before, and is gone again.
    Removed,
    /// It changed after codex-local wrote it; left alone.
    Kept,
}

#[cfg(test)]
impl PartialEq<&str> for UndoAction {
    fn eq(&self, other: &&str) -> bool {
        matches!(
            (self, *other),
            (Self::Restored, "restored") | (Self::Removed, "removed") | (Self::Kept, "kept")
        )
    }
}

/// What restoring one key does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undo {
    pub key: String,
    /// `restored` (the old value is back), `removed` (it was absent), or `kept` (changed since; left alone).
    pub action: UndoAction,
    pub value: Option<String>,
}

/// The edits that undo `record` in `document`; keys changed since codex-local wrote them are kept.
#[must_use]
pub fn undo_ops(record: &FileRecord, document: &toml_edit::DocumentMut) -> (Vec<Op>, Vec<Undo>) {
    let mut ops = Vec::new();
    let mut undone = Vec::new();
    for (dotted, key) in &record.keys {
        let keys: Vec<String> = dotted.split('.').map(str::to_owned).collect();
        let now = edit::lookup(document, &keys)
            .and_then(toml_edit::Item::as_value)
            .map(value_text);
        if now.as_deref() != Some(key.written.as_str()) {
            undone.push(Undo {
                key: dotted.clone(),
                action: UndoAction::Kept,
                value: now,
            });
            continue;
        }
        let action = if let Some(before) = &key.before {
            ops.push(Op::Set(keys, edit::Scalar::Toml(before.clone())));
            UndoAction::Restored
        } else {
            ops.push(Op::Remove(keys));
            UndoAction::Removed
        };
        undone.push(Undo {
            key: dotted.clone(),
            action,
            value: key.before.clone(),
        });
    }
    // What codex-local removed goes back where nothing took its place.
    for (dotted, text) in &record.removed {
        let keys: Vec<String> = dotted.split('.').map(str::to_owned).collect();
        if edit::lookup(document, &keys).is_some() {
            continue;
        }
        ops.push(Op::Put(keys, text.clone()));
        undone.push(Undo {
            key: dotted.clone(),
            action: UndoAction::Restored,
            value: None,
        });
    }
    // Deepest tables first, so that a parent empties after its children.
    let mut tables = record.tables.clone();
    tables.sort_by_key(|t| std::cmp::Reverse(t.matches('.').count()));
    ops.extend(
        tables
            .iter()
            .map(|t| Op::RemoveIfEmpty(t.split('.').map(str::to_owned).collect())),
    );
    (ops, undone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codex::edit::Scalar;

    #[test]
    fn records_the_first_value_and_undoes_only_unchanged_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        fs_err::write(&path, "model = \"gpt-5\" # mine\n").expect("write");
        let mut config = CodexConfigMut::open(&path).expect("parses");
        let ops = vec![
            Op::set("model", Scalar::Str("qwen3-coder:30b".into())),
            Op::set("model_context_window", Scalar::Int(65_536)),
            Op::set("features.apps", Scalar::Bool(false)),
        ];
        let mut journal = Journal::default();
        journal.record("config.toml", &config, &ops);
        config.apply(&ops).expect("applies");
        // A second init must not overwrite what was there before the first.
        journal.record("config.toml", &config, &ops);
        let record = &journal.files["config.toml"];
        assert!(!record.created);
        assert_eq!(record.keys["model"].before.as_deref(), Some("\"gpt-5\""));
        assert_eq!(record.keys["model_context_window"].before, None);
        assert_eq!(record.tables, ["features"]);

        let mut document = config.document().clone();
        document["model_context_window"] = toml_edit::value(32_768);
        let (undo, undone) = undo_ops(record, &document);
        let mut restored = CodexConfigMut::open(&path).expect("parses");
        restored.apply(&ops).expect("applies");
        restored
            .apply(&[Op::set("model_context_window", Scalar::Int(32_768))])
            .expect("applies");
        restored.apply(&undo).expect("undoes");
        assert_eq!(
            restored.render(),
            "model = \"gpt-5\" # mine\nmodel_context_window = 32768\n"
        );
        let kept: Vec<&str> = undone
            .iter()
            .filter(|u| u.action == "kept")
            .map(|u| u.key.as_str())
            .collect();
        assert_eq!(
            kept,
            ["model_context_window"],
            "the user's own change stays"
        );
    }
}
