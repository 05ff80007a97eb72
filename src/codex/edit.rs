//! Changing Codex's configuration files: the one place that writes them.
//!
//! [`CodexConfigMut`] owns a file's path, its text as read and the parsed document. Edits are a list of
//! [`Op`]s applied to the document; only the keys named change, and every comment, unknown key and the order stay.
//! A file that does not parse is refused. Saving skips a write that changes nothing, keeps a backup of the
//! previous file, writes a temporary file next to it and renames it over (keeping permissions, following a
//! symlink), and re-applies the edits if the file changed on disk meanwhile.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;
use toml_edit::{DocumentMut, Item, Table, Value};

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

/// A configuration file that cannot be changed safely.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("`{}` is not valid TOML (line {line}, column {column}): {message}", path.display())]
    Unparsable {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("Cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{key}` in `{}` is not a table, so `{key}.{child}` cannot be set", path.display())]
    NotATable {
        path: PathBuf,
        key: String,
        child: String,
    },
}

impl ConfigError {
    /// The next thing to try.
    #[must_use]
    pub fn hint(&self) -> String {
        match self {
            Self::Unparsable { .. } => {
                "fix the file by hand (Codex cannot load it either) and run the command again; codex-local never \
                 rewrites a file it cannot parse"
                    .to_owned()
            }
            Self::Read { .. } => "check the file's permissions".to_owned(),
            Self::Write { .. } => {
                "check free disk space and the folder's permissions; the file was left as it was".to_owned()
            }
            Self::NotATable { key, .. } => format!("turn `{key}` into a table, or remove it, then run again"),
        }
    }
}

/// What saving did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub path: PathBuf,
    pub changed: bool,
    /// The copy of the previous file, when there was one and it changed.
    pub backup: Option<PathBuf>,
}

/// A Codex configuration file opened for editing.
#[derive(Debug, Clone)]
pub struct CodexConfigMut {
    path: PathBuf,
    raw: Option<String>,
    document: DocumentMut,
}

impl CodexConfigMut {
    /// Opens `path`; a missing file is an empty document, an unparsable one an error.
    pub fn open(path: &Path) -> Result<Self, ConfigError> {
        let raw = match fs_err::read_to_string(path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let document = parse(path, raw.as_deref().unwrap_or(""))?;
        Ok(Self {
            path: path.to_path_buf(),
            raw,
            document,
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

    /// The text that would be written.
    #[must_use]
    pub fn render(&self) -> String {
        self.document.to_string()
    }

    /// Whether saving would change the file.
    #[must_use]
    pub fn is_changed(&self) -> bool {
        self.raw.as_deref() != Some(self.render().as_str())
    }

    /// Writes the document if it differs from the file: backup first (into `backups`), then an atomic rename.
    /// `ops` are applied again if the file changed on disk since it was opened.
    pub fn save(&mut self, ops: &[Op], backups: &Path) -> Result<Saved, ConfigError> {
        if !self.is_changed() {
            return Ok(Saved {
                path: self.path.clone(),
                changed: false,
                backup: None,
            });
        }
        let target = fs_err::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        // Codex may have written the file since it was read: start again from what is there now.
        let now = match fs_err::read_to_string(&target) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: target,
                    source,
                });
            }
        };
        if now != self.raw {
            let mut fresh = Self {
                path: self.path.clone(),
                raw: now.clone(),
                document: parse(&self.path, now.as_deref().unwrap_or(""))?,
            };
            fresh.apply(ops)?;
            *self = fresh;
            if !self.is_changed() {
                return Ok(Saved {
                    path: self.path.clone(),
                    changed: false,
                    backup: None,
                });
            }
        }
        let backup = match &self.raw {
            Some(previous) => Some(backup(&target, previous, backups)?),
            None => None,
        };
        write_atomic(&target, &self.render())?;
        self.raw = Some(self.render());
        Ok(Saved {
            path: self.path.clone(),
            changed: true,
            backup,
        })
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

/// Copies the previous text to `backups/<file name>.<UTC time>[-n].bak`.
pub fn backup(target: &Path, previous: &str, backups: &Path) -> Result<PathBuf, ConfigError> {
    let write_error = |source| ConfigError::Write {
        path: backups.to_path_buf(),
        source,
    };
    fs_err::create_dir_all(backups).map_err(write_error)?;
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
    write_atomic(&candidate, previous)?;
    Ok(candidate)
}

/// Writes `text` to a temporary file beside `target`, copies the old file's permissions, and renames it over.
pub fn write_atomic(target: &Path, text: &str) -> Result<(), ConfigError> {
    let error = |source| ConfigError::Write {
        path: target.to_path_buf(),
        source,
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir).map_err(error)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".codex-local-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(error)?;
    temp.write_all(text.as_bytes()).map_err(error)?;
    temp.as_file().sync_all().map_err(error)?;
    match fs_err::metadata(target) {
        Ok(metadata) => {
            fs_err::set_permissions(temp.path(), metadata.permissions()).map_err(error)?;
        }
        Err(_) => set_default_permissions(temp.path()).map_err(error)?,
    }
    temp.persist(target).map_err(|err| error(err.error))?;
    Ok(())
}

/// A new file gets the usual 0644 rather than the temporary file's 0600.
#[cfg(unix)]
fn set_default_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_default_permissions(_path: &Path) -> std::io::Result<()> {
    Ok(())
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
