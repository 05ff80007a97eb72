//! Reading and writing files that are not ours to lose: only regular files (a symlink is followed to one, a FIFO,
//! device, socket, directory or dangling link is refused before it is opened, so nothing hangs), text kept as it
//! was (a byte-order mark and CRLF line endings survive), and writes that are atomic, durable, and keep the file's
//! owner, group and mode.

use std::fs::Metadata;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::faults;

/// The prefix and suffix of codex-local's temporary files, so that stale ones can be recognised and removed.
const TEMP_PREFIX: &str = ".codex-local-";
const TEMP_SUFFIX: &str = ".tmp";
/// The byte-order mark some editors put first.
const BOM: char = '\u{feff}';

/// A file that cannot be read, changed or written safely.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("`{}` is not valid TOML (line {line}, column {column}): {message}", path.display())]
    Unparsable {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("codex-local's own file `{}` is damaged (line {line}, column {column}): {message}", path.display())]
    Damaged {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{}` is not UTF-8 text: a byte at line {line}, column {column} is not", path.display())]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("`{}` is {what}, not a regular file", path.display())]
    NotRegular { path: PathBuf, what: &'static str },
    #[error("`{}` is a symbolic link to `{}`, which does not exist", path.display(), target.display())]
    DanglingLink { path: PathBuf, target: PathBuf },
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
    #[error("Cannot keep the owner of `{}` (user {uid}, group {gid}) on a rewritten file", path.display())]
    Owner {
        path: PathBuf,
        uid: u32,
        gid: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is read-only (mode {mode:o}), and codex-local does not change a file made read-only", path.display())]
    ReadOnly { path: PathBuf, mode: u32 },
    #[error("`{}` has {links} hard links: replacing it would split them", path.display())]
    HardLinked { path: PathBuf, links: u64 },
    #[error(
        "`{}` is a symbolic link owned by user {link_uid} to `{}`, owned by user {target_uid}",
        path.display(),
        target.display()
    )]
    ForeignLink {
        path: PathBuf,
        target: PathBuf,
        link_uid: u32,
        target_uid: u32,
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
            Self::Damaged { path, .. } => format!(
                "this is not Codex's configuration but codex-local's record of its changes: move `{}` aside \
                 (backups of every file codex-local changed are in the `backups` folder next to it)",
                path.display()
            ),
            Self::NotUtf8 { .. } => {
                "save the file as UTF-8 (Codex reads only UTF-8), then run the command again".to_owned()
            }
            Self::NotRegular { path, .. } | Self::DanglingLink { path, .. } => format!(
                "codex-local reads and writes only regular files: move `{}` aside, or point the link at a regular \
                 file",
                path.display()
            ),
            Self::Read { .. } => {
                "check that it is a file you can read: its permissions, and any symbolic links on the way".to_owned()
            }
            Self::ReadOnly { .. } => "make it writable (`chmod u+w`) and run the command again".to_owned(),
            Self::HardLinked { .. } => {
                "make the other names symbolic links (or copies), then run the command again; nothing was changed"
                    .to_owned()
            }
            Self::ForeignLink { .. } => {
                "codex-local follows a link only to a file of the link's owner: replace the link with the file"
                    .to_owned()
            }
            Self::Write { .. } => {
                "check free disk space and the folder's permissions; the file was left as it was".to_owned()
            }
            Self::Owner { .. } => {
                "run codex-local as the file's owner (or as root); the file was left as it was".to_owned()
            }
            Self::NotATable { key, .. } => format!("turn `{key}` into a table, or remove it, then run again"),
        }
    }
}

/// What kind of thing `metadata` describes, in words, for anything that is not a regular file.
#[cfg(unix)]
fn what(metadata: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn what(metadata: &Metadata) -> &'static str {
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// What is at `path`, following symbolic links: `None` when nothing is, the metadata of a regular file, or an error
/// for anything else. Nothing is opened.
pub fn check(path: &Path) -> Result<Option<Metadata>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(read_error(err)),
        Ok(_) => {}
    }
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(path).unwrap_or_default();
            return Err(ConfigError::DanglingLink {
                path: path.to_path_buf(),
                target,
            });
        }
        Err(err) => return Err(read_error(err)),
    };
    if metadata.is_file() {
        Ok(Some(metadata))
    } else {
        Err(ConfigError::NotRegular {
            path: path.to_path_buf(),
            what: what(&metadata),
        })
    }
}

/// The bytes of a regular file, `None` when it does not exist.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, ConfigError> {
    if check(path)?.is_none() {
        return Ok(None);
    }
    match fs_err::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// How a text file is written: with a byte-order mark or not, with CRLF or LF line endings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    pub bom: bool,
    pub crlf: bool,
}

impl Format {
    /// Writes LF text in this format.
    #[must_use]
    pub fn encode(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 16 + 3);
        if self.bom {
            out.push(BOM);
        }
        if self.crlf {
            // Normalise first, so that text holding CRLF already does not get CRCRLF.
            out.push_str(&text.replace("\r\n", "\n").replace('\n', "\r\n"));
        } else {
            out.push_str(text);
        }
        out
    }
}

/// A text file as read: exactly as on disk, and as LF text without a byte-order mark for parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The file's text, byte for byte.
    pub raw: String,
    /// The same text with LF line endings and no byte-order mark.
    pub plain: String,
    pub format: Format,
}

impl Text {
    /// Decodes bytes read from `path`; a byte that is not UTF-8 is named by line and column.
    pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<Self, ConfigError> {
        let raw = String::from_utf8(bytes).map_err(|err| {
            let good = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let before = String::from_utf8_lossy(good);
            ConfigError::NotUtf8 {
                path: path.to_path_buf(),
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            }
        })?;
        let without_bom = raw.strip_prefix(BOM);
        let body = without_bom.unwrap_or(&raw);
        // A file counts as CRLF when its first line ends so; each line of it is written that way again.
        let crlf = body.find('\n').is_some_and(|at| body[..at].ends_with('\r'));
        let plain = if body.contains("\r\n") {
            body.replace("\r\n", "\n")
        } else {
            body.to_owned()
        };
        Ok(Self {
            format: Format {
                bom: without_bom.is_some(),
                crlf,
            },
            plain,
            raw,
        })
    }
}

/// The text of a regular file, `None` when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<Text>, ConfigError> {
    read(path)?
        .map(|bytes| Text::decode(path, bytes))
        .transpose()
}

/// The file a write to `path` lands in: `path` itself, or the regular file a symbolic link leads to. Refused: a
/// link to a file of another user (a link cannot lead a root process to someone else's file), a file made
/// read-only, and a file with other hard links (a rename would split them).
fn write_target(path: &Path) -> Result<(PathBuf, Option<Metadata>), ConfigError> {
    let Some(metadata) = check(path)? else {
        return Ok((path.to_path_buf(), None));
    };
    let target = fs_err::canonicalize(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    refuse_unsafe(path, &target, &metadata)?;
    Ok((target, Some(metadata)))
}

#[cfg(unix)]
fn refuse_unsafe(path: &Path, target: &Path, metadata: &Metadata) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let link = std::fs::symlink_metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if link.file_type().is_symlink() && link.uid() != metadata.uid() {
        return Err(ConfigError::ForeignLink {
            path: path.to_path_buf(),
            target: target.to_path_buf(),
            link_uid: link.uid(),
            target_uid: metadata.uid(),
        });
    }
    if metadata.mode() & 0o200 == 0 {
        return Err(ConfigError::ReadOnly {
            path: path.to_path_buf(),
            mode: metadata.mode() & 0o7777,
        });
    }
    if metadata.nlink() > 1 {
        return Err(ConfigError::HardLinked {
            path: path.to_path_buf(),
            links: metadata.nlink(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_unsafe(_path: &Path, _target: &Path, _metadata: &Metadata) -> Result<(), ConfigError> {
    Ok(())
}

/// Writes `text` to `path` atomically: a temporary file beside the target (the one a symbolic link leads to, so the
/// link stays), given the old file's owner, group and mode (`new_mode` for a new file), synced, renamed over the
/// target, and the folder synced. On any error the target is as it was and the temporary file is gone.
pub fn write_atomic(path: &Path, text: &str, new_mode: u32) -> Result<(), ConfigError> {
    let (target, metadata) = write_target(path)?;
    let error = |source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir).map_err(error)?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(error)?;
    temp.write_all(text.as_bytes()).map_err(error)?;
    keep_owner_and_mode(temp.as_file(), metadata.as_ref(), new_mode, path)?;
    temp.as_file().sync_all().map_err(error)?;
    faults::point("before-rename");
    temp.persist(&target).map_err(|err| error(err.error))?;
    faults::point("after-rename");
    sync_dir(dir);
    Ok(())
}

#[cfg(unix)]
fn keep_owner_and_mode(
    file: &std::fs::File,
    old: Option<&Metadata>,
    new_mode: u32,
    path: &Path,
) -> Result<(), ConfigError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mode = old.map_or(new_mode, |m| m.mode() & 0o7777);
    let mine = file.metadata().map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    // A rewritten file keeps its owner; a new one, written by root into someone's folder, becomes theirs.
    let owner = match old {
        Some(old) => Some((old.uid(), old.gid())),
        None if mine.uid() == 0 => path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .and_then(|dir| std::fs::metadata(dir).ok())
            .map(|dir| (dir.uid(), dir.gid())),
        None => None,
    };
    if let Some((uid, gid)) = owner.filter(|owner| *owner != (mine.uid(), mine.gid())) {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid)).map_err(|source| {
            ConfigError::Owner {
                path: path.to_path_buf(),
                uid,
                gid,
                source,
            }
        })?;
    }
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(not(unix))]
fn keep_owner_and_mode(
    _file: &std::fs::File,
    _old: Option<&Metadata>,
    _new_mode: u32,
    _path: &Path,
) -> Result<(), ConfigError> {
    Ok(())
}

/// Makes a rename durable. Not every system can sync a folder; a failure here changes nothing already written.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// The mode a file has, for a copy that must not be readable by more people than the original.
#[cfg(unix)]
#[must_use]
pub fn mode_of(metadata: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777
}

#[cfg(not(unix))]
#[must_use]
pub fn mode_of(_metadata: &Metadata) -> u32 {
    0o600
}

/// Creates a private folder (0700), or makes an existing one of ours private. Made by root in someone's folder, it
/// becomes theirs, so that they can still use it.
pub fn private_dir(dir: &Path) -> Result<(), ConfigError> {
    let error = |source| ConfigError::Write {
        path: dir.to_path_buf(),
        source,
    };
    if let Ok(existing) = std::fs::symlink_metadata(dir)
        && !existing.is_dir()
    {
        return Err(ConfigError::NotRegular {
            path: dir.to_path_buf(),
            what: "not a folder",
        });
    }
    let created = !dir.exists();
    fs_err::create_dir_all(dir).map_err(error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(error)?;
        let mine = std::fs::metadata(dir).map_err(error)?;
        let parent = dir.parent().and_then(|p| std::fs::metadata(p).ok());
        if let Some(parent) = parent.filter(|p| created && mine.uid() == 0 && p.uid() != 0) {
            std::os::unix::fs::chown(dir, Some(parent.uid()), Some(parent.gid())).map_err(error)?;
        }
    }
    Ok(())
}

/// Opens codex-local's own log file `path` for appending, creating it private (0600). A link or anything but a
/// regular file is refused rather than followed.
pub fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(format!(
            "`{}` is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// Removes codex-local's own temporary files left in `dir` by a process that was killed. Call it only while holding
/// the Codex home's lock, so that no other codex-local is writing one.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && name.len() == TEMP_PREFIX.len() + 6 + TEMP_SUFFIX.len()
                && entry.file_type().is_ok_and(|t| t.is_file())
        })
        .filter(|entry| std::fs::remove_file(entry.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_byte_order_mark_and_crlf() {
        let text = Text::decode(
            Path::new("c.toml"),
            b"\xef\xbb\xbfa = 1\r\nb = 2\r\n".to_vec(),
        )
        .expect("UTF-8");
        assert_eq!(text.plain, "a = 1\nb = 2\n");
        assert_eq!(
            text.format,
            Format {
                bom: true,
                crlf: true
            }
        );
        assert_eq!(
            text.format.encode("a = 1\nb = 3\n"),
            "\u{feff}a = 1\r\nb = 3\r\n"
        );
        let lf = Text::decode(Path::new("c.toml"), b"a = 1\n".to_vec()).expect("UTF-8");
        assert_eq!(lf.format, Format::default());
    }

    #[test]
    fn names_the_place_of_a_byte_that_is_not_utf8() {
        let err = Text::decode(Path::new("c.toml"), b"a = 1\nb = \"\xff\"\n".to_vec())
            .expect_err("not UTF-8");
        assert!(err.to_string().contains("line 2, column 6"), "{err}");
    }
}
