//! Changing Codex's configuration files: the one place that writes them.
//!
//! [`CodexConfigMut`] owns a file's path, its text as read and the parsed document. Edits are a list of
//! [`Op`]s applied to the document; only the keys named change, and every comment, unknown key and the order stay.
//! A file that does not parse is refused. Saving skips a write that changes nothing, keeps a backup of the
//! previous file, and writes through `file::write_atomic` (owner, mode, byte-order mark and line endings kept, a
//! symlink followed); the edits are applied again if the file changed on disk meanwhile. `prepare` gives the
//! write before it happens, so that it can be journaled first.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use toml_edit::{DocumentMut, Item, Table, Value};

use super::file::{self, Format, Text};
use crate::faults;

/// A value codex-local writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Any TOML value, as its text (`"openai"`, `[1, 2]`): a value put back by `restore`.
    Toml(String),
}

impl Scalar {
    fn to_value(&self) -> Value {
        match self {
            Self::Str(text) => Value::from(text.as_str()),
            Self::Int(number) => Value::from(*number),
            Self::Bool(flag) => Value::from(*flag),
            Self::Toml(text) => text
                .parse::<Value>()
                .unwrap_or_else(|_| Value::from(text.as_str())),
        }
    }

    fn matches(&self, value: &Value) -> bool {
        match self {
            Self::Str(text) => value.as_str() == Some(text.as_str()),
            Self::Int(number) => value.as_integer() == Some(*number),
            Self::Bool(flag) => value.as_bool() == Some(*flag),
            Self::Toml(text) => value_text(value) == *text,
        }
    }

    /// The value as TOML text, without comments or spacing.
    #[must_use]
    pub fn text(&self) -> String {
        value_text(&self.to_value())
    }
}

/// A value as TOML text, without the comments and spacing around it.
#[must_use]
pub fn value_text(value: &Value) -> String {
    let mut bare = value.clone();
    bare.decor_mut().clear();
    bare.to_string().trim().to_owned()
}

/// The item at a dotted path, if there is one.
#[must_use]
pub fn lookup<'a>(document: &'a DocumentMut, keys: &[String]) -> Option<&'a Item> {
    let mut item = document.as_item();
    for key in keys {
        item = item.get(key)?;
    }
    Some(item)
}

/// One edit: set a dotted key, remove one, or remove a table that has become empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Set(Vec<String>, Scalar),
    Remove(Vec<String>),
    RemoveIfEmpty(Vec<String>),
    /// Puts back an entry that was removed: the text of a TOML document that holds it at that path.
    Put(Vec<String>, String),
}

impl Op {
    /// `Set` from a dotted path such as `features.apps`.
    #[must_use]
    pub fn set(path: &str, value: Scalar) -> Self {
        Self::Set(split(path), value)
    }

    /// `Remove` from a dotted path.
    #[must_use]
    pub fn remove(path: &str) -> Self {
        Self::Remove(split(path))
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('.').map(str::to_owned).collect()
}

pub use super::file::ConfigError;

/// What saving did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub path: PathBuf,
    pub changed: bool,
    /// The copy of the previous file, when there was one and it changed.
    pub backup: Option<PathBuf>,
}

/// A write that is ready: the file's text now and the text that will replace it. Journal it, then commit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub path: PathBuf,
    /// The file as it is on disk now, byte for byte; `None` when it does not exist.
    pub before: Option<String>,
    /// What will be written.
    pub after: String,
    /// The mode of the file when it is new.
    pub new_mode: u32,
}

impl Pending {
    /// Backs the old file up into `backups` (with its mode), then writes the new text atomically.
    pub fn commit(&self, backups: &Path) -> Result<Saved, ConfigError> {
        let backup = match &self.before {
            Some(previous) => Some(backup(&self.path, previous, backups)?),
            None => None,
        };
        faults::point("before-write");
        file::write_atomic(&self.path, &self.after, self.new_mode)?;
        Ok(Saved {
            path: self.path.clone(),
            changed: true,
            backup,
        })
    }
}

/// A new Codex configuration file is readable by its owner and others, as Codex's own are.
pub const NEW_FILE_MODE: u32 = 0o644;

/// A Codex configuration file opened for editing.
#[derive(Debug, Clone)]
pub struct CodexConfigMut {
    path: PathBuf,
    /// The file as read, byte for byte; `None` when it did not exist.
    raw: Option<String>,
    format: Format,
    document: DocumentMut,
    /// The mode the file gets if it is new.
    new_mode: u32,
}

impl CodexConfigMut {
    /// Gives a new file this mode (by default [`NEW_FILE_MODE`]), such as that of the config.toml it comes from.
    #[must_use]
    pub fn with_new_mode(mut self, mode: u32) -> Self {
        self.new_mode = mode;
        self
    }

    /// Opens `path`; a missing file is an empty document. Anything but a regular file of UTF-8 TOML is refused.
    pub fn open(path: &Path) -> Result<Self, ConfigError> {
        let text = file::read_text(path)?;
        Self::from_text(path, text)
    }

    fn from_text(path: &Path, text: Option<Text>) -> Result<Self, ConfigError> {
        let (raw, format, document) = match text {
            Some(text) => (Some(text.raw), text.format, parse(path, &text.plain)?),
            None => (None, Format::default(), DocumentMut::new()),
        };
        Ok(Self {
            path: path.to_path_buf(),
            raw,
            format,
            document,
            new_mode: NEW_FILE_MODE,
        })
    }

    /// The parsed document.
    #[must_use]
    pub fn document(&self) -> &DocumentMut {
        &self.document
    }

    /// Whether the file existed.
    #[must_use]
    pub fn exists(&self) -> bool {
        self.raw.is_some()
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text as read from disk, if the file existed.
    #[must_use]
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// Applies the edits; returns the ones that changed something.
    pub fn apply(&mut self, ops: &[Op]) -> Result<Vec<Op>, ConfigError> {
        apply(&self.path, &mut self.document, ops)
    }

    /// The text that would be written, in the file's own format (byte-order mark, line endings).
    #[must_use]
    pub fn render(&self) -> String {
        self.format.encode(&self.document.to_string())
    }

    /// Whether saving would change the file.
    #[must_use]
    pub fn is_changed(&self) -> bool {
        self.raw.as_deref() != Some(self.render().as_str())
    }

    /// The write that saving means, or `None` when the file would not change. Codex may have written the file since
    /// it was opened: then `ops` are applied again to what is on disk now.
    pub fn prepare(&mut self, ops: &[Op]) -> Result<Option<Pending>, ConfigError> {
        if !self.is_changed() {
            return Ok(None);
        }
        let now = file::read_text(&self.path)?;
        if now.as_ref().map(|t| &t.raw) != self.raw.as_ref() {
            let mut fresh = Self::from_text(&self.path, now)?.with_new_mode(self.new_mode);
            fresh.apply(ops)?;
            *self = fresh;
            if !self.is_changed() {
                return Ok(None);
            }
        }
        Ok(Some(Pending {
            path: self.path.clone(),
            before: self.raw.clone(),
            after: self.render(),
            new_mode: self.new_mode,
        }))
    }

    /// Writes the document if it differs from the file: backup first (into `backups`), then an atomic rename.
    /// `ops` are applied again if the file changed on disk since it was opened.
    pub fn save(&mut self, ops: &[Op], backups: &Path) -> Result<Saved, ConfigError> {
        let Some(pending) = self.prepare(ops)? else {
            return Ok(Saved {
                path: self.path.clone(),
                changed: false,
                backup: None,
            });
        };
        let saved = pending.commit(backups)?;
        self.raw = Some(pending.after);
        Ok(saved)
    }
}

fn parse(path: &Path, text: &str) -> Result<DocumentMut, ConfigError> {
    text.parse::<DocumentMut>().map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start).min(text.len());
        let before = &text[..offset];
        ConfigError::Unparsable {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            message: err.message().trim().to_owned(),
        }
    })
}

fn apply(path: &Path, document: &mut DocumentMut, ops: &[Op]) -> Result<Vec<Op>, ConfigError> {
    let mut changed = Vec::new();
    for op in ops {
        let did = match op {
            Op::Set(keys, value) => set(path, document, keys, value)?,
            Op::Remove(keys) => remove(document, keys),
            Op::Put(keys, text) => put(path, document, keys, text)?,
            Op::RemoveIfEmpty(keys) => {
                lookup(document, keys)
                    .and_then(Item::as_table_like)
                    .is_some_and(toml_edit::TableLike::is_empty)
                    && remove(document, keys)
            }
        };
        if did {
            changed.push(op.clone());
        }
    }
    Ok(changed)
}

fn set(
    path: &Path,
    document: &mut DocumentMut,
    keys: &[String],
    value: &Scalar,
) -> Result<bool, ConfigError> {
    let Some((last, parents)) = keys.split_last() else {
        return Ok(false);
    };
    let mut table: &mut dyn toml_edit::TableLike = document.as_table_mut();
    for (depth, key) in parents.iter().enumerate() {
        if !table.contains_key(key) {
            let mut new = Table::new();
            new.set_implicit(depth + 1 < parents.len());
            table.insert(key, Item::Table(new));
        }
        let child = keys.get(depth + 1).cloned().unwrap_or_default();
        table = table
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| ConfigError::NotATable {
                path: path.to_path_buf(),
                key: keys[..=depth].join("."),
                child,
            })?;
    }
    if let Some(Item::Value(existing)) = table.get_mut(last) {
        if value.matches(existing) {
            return Ok(false);
        }
        // Keep the comment and spacing around the old value.
        let decor = existing.decor().clone();
        *existing = value.to_value();
        *existing.decor_mut() = decor;
    } else {
        table.insert(last, Item::Value(value.to_value()));
    }
    Ok(true)
}

/// Puts the item at `keys` of the document `text` into `document`, unless something is there already.
fn put(
    path: &Path,
    document: &mut DocumentMut,
    keys: &[String],
    text: &str,
) -> Result<bool, ConfigError> {
    let Some((last, parents)) = keys.split_last() else {
        return Ok(false);
    };
    if lookup(document, keys).is_some() {
        return Ok(false);
    }
    let held = parse(path, text)?;
    let Some(item) = lookup(&held, keys) else {
        return Ok(false);
    };
    let mut table: &mut dyn toml_edit::TableLike = document.as_table_mut();
    for (depth, key) in parents.iter().enumerate() {
        if !table.contains_key(key) {
            let mut new = Table::new();
            new.set_implicit(true);
            table.insert(key, Item::Table(new));
        }
        table = table
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| ConfigError::NotATable {
                path: path.to_path_buf(),
                key: keys[..=depth].join("."),
                child: last.clone(),
            })?;
    }
    table.insert(last, item.clone());
    Ok(true)
}

fn remove(document: &mut DocumentMut, keys: &[String]) -> bool {
    let Some((last, parents)) = keys.split_last() else {
        return false;
    };
    let mut table: &mut dyn toml_edit::TableLike = document.as_table_mut();
    for key in parents {
        match table.get_mut(key).and_then(Item::as_table_like_mut) {
            Some(child) => table = child,
            None => return false,
        }
    }
    table.remove(last).is_some()
}

/// `20261126T051700Z` for a time in seconds since 1970 (UTC), by the days-to-civil algorithm.
#[must_use]
pub fn utc_stamp(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Shift the era to start on 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Copies the previous text to `backups/<file name>.<UTC time>[-n].bak`, readable by no more people than the
/// original (the folder itself is private).
pub fn backup(target: &Path, previous: &str, backups: &Path) -> Result<PathBuf, ConfigError> {
    file::private_dir(backups)?;
    let mode = file::check(target)
        .ok()
        .flatten()
        .map_or(0o600, |metadata| file::mode_of(&metadata));
    let name = target.file_name().map_or_else(
        || "config.toml".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let stamp = utc_stamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let mut candidate = backups.join(format!("{name}.{stamp}.bak"));
    let mut n = 1;
    while candidate.exists() {
        candidate = backups.join(format!("{name}.{stamp}-{n}.bak"));
        n += 1;
    }
    file::write_atomic(&candidate, previous, mode)?;
    Ok(candidate)
}
#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Vec<Op> {
        vec![
            Op::set("model_provider", Scalar::Str("ollama".into())),
            Op::set("model_context_window", Scalar::Int(65_536)),
            Op::set("features.apps", Scalar::Bool(false)),
            Op::set("agents.enabled", Scalar::Bool(false)),
        ]
    }

    #[test]
    fn edits_keep_comments_order_and_unknown_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        let before = "# mine\nmodel_provider = \"openai\" # was cloud\nmystery = [1, 2]\n\n[features]\n# keep me\nother = true\n";
        fs_err::write(&path, before).expect("write");
        let mut config = CodexConfigMut::open(&path).expect("parses");
        let changed = config.apply(&ops()).expect("applies");
        assert_eq!(changed.len(), 4);
        let saved = config
            .save(&ops(), &dir.path().join("backups"))
            .expect("saves");
        assert!(saved.changed);
        let after = fs_err::read_to_string(&path).expect("read");
        assert_eq!(
            after,
            "# mine\nmodel_provider = \"ollama\" # was cloud\nmystery = [1, 2]\nmodel_context_window = 65536\n\n\
             [features]\n# keep me\nother = true\napps = false\n\n[agents]\nenabled = false\n"
        );
        let backup = saved.backup.expect("a backup");
        assert_eq!(fs_err::read_to_string(backup).expect("read"), before);

        // A second run changes nothing and writes nothing.
        let mut again = CodexConfigMut::open(&path).expect("parses");
        assert!(again.apply(&ops()).expect("applies").is_empty());
        assert!(
            !again
                .save(&ops(), &dir.path().join("backups"))
                .expect("saves")
                .changed
        );
    }

    #[test]
    fn backups_are_named_by_utc_time() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_795_670_098), "20261126T051458Z");
    }

    #[test]
    fn refuses_a_file_it_cannot_parse() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        fs_err::write(&path, "model = \n").expect("write");
        let err = CodexConfigMut::open(&path).expect_err("invalid");
        assert!(err.to_string().contains("line 1, column 9"), "{err}");
    }

    #[test]
    fn reapplies_edits_when_the_file_changed_meanwhile() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        fs_err::write(&path, "a = 1\n").expect("write");
        let mut config = CodexConfigMut::open(&path).expect("parses");
        config.apply(&ops()).expect("applies");
        fs_err::write(
            &path,
            "a = 1\n[projects.\"/x\"]\ntrust_level = \"trusted\"\n",
        )
        .expect("Codex writes");
        config
            .save(&ops(), &dir.path().join("backups"))
            .expect("saves");
        let after = fs_err::read_to_string(&path).expect("read");
        assert!(after.contains("trust_level = \"trusted\""), "{after}");
        assert!(after.contains("model_provider = \"ollama\""), "{after}");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_follows_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("dotfiles-config.toml");
        fs_err::write(&real, "a = 1\n").expect("write");
        fs_err::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let mut config = CodexConfigMut::open(&link).expect("parses");
        config.apply(&ops()).expect("applies");
        config
            .save(&ops(), &dir.path().join("backups"))
            .expect("saves");
        assert!(
            fs_err::symlink_metadata(&link)
                .expect("stat")
                .file_type()
                .is_symlink(),
            "the link stays a link"
        );
        assert!(
            fs_err::read_to_string(&real)
                .expect("read")
                .contains("ollama")
        );
        let mode = fs_err::metadata(&real).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
