//! A model file placed where LM Studio finds models, as `lms import` does (lmstudio-ai/lms
//! `src/subcommands/importCmd.ts`): LM Studio's home is the path in `~/.lmstudio-home-pointer`, else
//! `~/.cache/lm-studio` when it exists, else `~/.lmstudio`; its models folder is `downloadsFolder` in the home's
//! `settings.json`, else `<home>/models`; a model lives at `<models>/<publisher>/<repository>/<file>.gguf`.
//!
//! codex-local files it under `codex-local/<name>/`, as a hard link to the given file when both are on one file
//! system (no space used), else as a copy written beside the target and linked into place (never over a file that
//! is there). It writes nothing else of LM Studio's: not the pointer, not the settings.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// The publisher folder codex-local files models under.
pub const PUBLISHER: &str = "codex-local";
/// The most read of the pointer file and of `settings.json`.
const MAX_SMALL: u64 = 1 << 20;
/// Room left on the disk beside a copy, for the file system's own needs.
const SPARE_BYTES: u64 = 256 << 20;
/// The piece copied at a time.
const CHUNK: usize = 1 << 20;

/// LM Studio's models folder for the user whose home is `home`.
#[must_use]
pub fn models_folder(home: &Path) -> PathBuf {
    let lmstudio = lmstudio_home(home);
    let configured = read_small(&lmstudio.join("settings.json"))
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|settings| settings["downloadsFolder"].as_str().map(PathBuf::from))
        .filter(|path| path.is_absolute());
    configured.unwrap_or_else(|| lmstudio.join("models"))
}

fn lmstudio_home(home: &Path) -> PathBuf {
    let pointed = read_small(&home.join(".lmstudio-home-pointer"))
        .map(|text| PathBuf::from(text.trim()))
        .filter(|path| path.is_absolute());
    if let Some(path) = pointed {
        return path;
    }
    let cache = home.join(".cache").join("lm-studio");
    if cache.is_dir() {
        cache
    } else {
        home.join(".lmstudio")
    }
}

/// A small regular file's text, `None` when it is missing, not a regular file, too long or unreadable.
fn read_small(path: &Path) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_SMALL {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SMALL)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// How the file came to be in LM Studio's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A hard link to the given file.
    Linked,
    /// A copy of it.
    Copied,
    /// It was there already (an earlier run).
    There,
}

/// The file's place under the models folder: `codex-local/<name>/<name>.gguf`, with `/` between the parts as LM
/// Studio reports a model's `path`.
#[must_use]
pub fn relative_path(name: &str) -> String {
    format!("{PUBLISHER}/{name}/{name}.gguf")
}

/// Where the file at `relative` lies under the models folder.
#[must_use]
pub fn target_path(models: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(models.to_path_buf(), |path, part| path.join(part))
}

/// Where a copy is written before it is linked into place at `target`: a hidden file beside it.
#[must_use]
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.codex-local-partial"))
}

/// Puts `file` at `models/relative`: a hard link when it can, else a copy (reporting `(done, total)`), never over
/// another file unless `replace` (a file codex-local placed there before), which is then replaced whole, by a
/// rename. The target's folder is made when missing.
pub fn place(
    file: &Path,
    models: &Path,
    (relative, replace): (&str, bool),
    progress: &mut dyn FnMut(u64) -> bool,
) -> std::io::Result<(PathBuf, How)> {
    let target = target_path(models, relative);
    // The file itself, not a link to it, is what gets linked.
    let file = &std::fs::canonicalize(file)?;
    let source = std::fs::metadata(file)?;
    if !source.is_file() {
        return Err(std::io::Error::other(format!(
            "`{}` is not a regular file",
            file.display()
        )));
    }
    make_folders(models, relative)?;
    let over = match already_there(file, &source, &target) {
        Ok(Some(how)) => return Ok((target, how)),
        Ok(None) => false,
        Err(_) if replace && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()) => true,
        Err(err) => return Err(err),
    };
    if over {
        // A hard link made beside it, then renamed over the old file; else a copy, renamed over it.
        let link = target.with_file_name(format!(
            ".{}.codex-local-link",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_file(&link);
        if std::fs::hard_link(file, &link).is_ok() {
            std::fs::rename(&link, &target)?;
            return Ok((target, How::Linked));
        }
        copy_into_place(file, &target, true, progress)?;
        return Ok((target, How::Copied));
    }
    if std::fs::hard_link(file, &target).is_ok() {
        return Ok((target, How::Linked));
    }
    copy_into_place(file, &target, false, progress)?;
    Ok((target, How::Copied))
}

/// Makes the folders between `models` and the file at `relative`, each a real folder: a link among them (which
/// would put the file somewhere else) is refused. The models folder itself may be a link (a user's moved library).
fn make_folders(models: &Path, relative: &str) -> std::io::Result<()> {
    let parts: Vec<&str> = relative.split('/').collect();
    let mut folder = models.to_path_buf();
    if !folder.is_dir() {
        std::fs::create_dir_all(&folder).map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!(
                    "cannot make LM Studio's models folder `{}`: {err}",
                    folder.display()
                ),
            )
        })?;
    }
    for part in &parts[..parts.len().saturating_sub(1)] {
        folder.push(part);
        match std::fs::symlink_metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "`{}` is a link or a file, not a folder; codex-local puts models only in folders of its own",
                    folder.display()
                )));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&folder).map_err(|err| {
                    std::io::Error::new(
                        err.kind(),
                        format!("cannot make `{}`: {err}", folder.display()),
                    )
                })?;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// `Some(How::There)` when the target is the file already (the same file, or the same bytes); an error when
/// something else is there; `None` when nothing is.
fn already_there(
    file: &Path,
    source: &std::fs::Metadata,
    target: &Path,
) -> std::io::Result<Option<How>> {
    let existing = match std::fs::symlink_metadata(target) {
        Ok(existing) => existing,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let taken = || {
        std::io::Error::other(format!(
            "`{}` is there already and holds another file; move it away, or give the file another name",
            target.display()
        ))
    };
    if !existing.is_file() || existing.len() != source.len() {
        return Err(taken());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if existing.dev() == source.dev() && existing.ino() == source.ino() {
            return Ok(Some(How::There));
        }
    }
    if same_bytes(file, target)? {
        Ok(Some(How::There))
    } else {
        Err(taken())
    }
}

/// Whether two files of one size hold the same bytes, read a piece at a time.
fn same_bytes(a: &Path, b: &Path) -> std::io::Result<bool> {
    let (mut a, mut b) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut left, mut right) = (vec![0_u8; CHUNK], vec![0_u8; CHUNK]);
    loop {
        let read = read_full(&mut a, &mut left)?;
        if read != read_full(&mut b, &mut right)? || left[..read] != right[..read] {
            return Ok(false);
        }
        if read == 0 {
            return Ok(true);
        }
    }
}

fn read_full(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

/// Removes a half-written copy whatever stops the copying.
struct Partial(PathBuf);

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Refuses a copy that cannot fit, before it fills the disk.
fn check_room(file: &Path, target: &Path) -> std::io::Result<()> {
    let size = std::fs::metadata(file)?.len();
    if let Some(free) = target.parent().and_then(super::free_bytes)
        && free < size.saturating_add(SPARE_BYTES)
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "`{}` has {} MiB free, and the copy needs {} MiB; free some space, or put LM Studio's models \
                 folder on a bigger disk",
                target
                    .parent()
                    .map_or_else(String::new, |p| p.display().to_string()),
                free >> 20,
                size >> 20
            ),
        ));
    }
    Ok(())
}

/// Copies `file` to a new hidden file beside `target`, syncs it, and links it into place (which fails rather than
/// replace a file that appeared meanwhile). `progress` hears the bytes copied so far, and stops the copy by
/// answering `false`.
fn copy_into_place(
    file: &Path,
    target: &Path,
    replace: bool,
    progress: &mut dyn FnMut(u64) -> bool,
) -> std::io::Result<()> {
    check_room(file, target)?;
    let path = partial_path(target);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    let mut out = options.open(&path)?;
    // The copy is held by the one codex-local making it; one an interrupted run left is free, and starts over.
    match out.try_lock() {
        Ok(()) | Err(std::fs::TryLockError::Error(_)) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(std::io::Error::other(format!(
                "another codex-local is copying a model to `{}` now; wait for it to finish",
                target.display()
            )));
        }
    }
    let partial = Partial(path);
    out.set_len(0)?;
    let mut input = std::fs::File::open(file)?;
    let mut buffer = vec![0_u8; CHUNK];
    let mut done = 0_u64;
    loop {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        out.write_all(&buffer[..read])?;
        done += read as u64;
        if !progress(done) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "stopped",
            ));
        }
    }
    out.sync_all()?;
    if replace {
        return std::fs::rename(&partial.0, target);
    }
    match std::fs::hard_link(&partial.0, target) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(err),
        // A file system without hard links: a rename, after checking that nothing appeared.
        Err(_) if std::fs::symlink_metadata(target).is_err() => std::fs::rename(&partial.0, target),
        Err(err) => Err(err),
    }
}

/// The key `lms ls --json` gives the model whose `path` is `relative` (LM Studio's list of downloaded models:
/// `[{"modelKey", "path", "sizeBytes", …}]`).
#[must_use]
pub fn key_in_listing(listing: &[u8], relative: &str) -> Option<String> {
    let models: Vec<serde_json::Value> = serde_json::from_slice(listing).ok()?;
    models.iter().find_map(|model| {
        let path = model["path"].as_str()?.replace('\\', "/");
        (path == relative)
            .then(|| model["modelKey"].as_str().map(str::to_owned))
            .flatten()
            .filter(|key| is_plain_key(key))
    })
}

/// Whether a model key is one codex-local may write into Codex's configuration and show: a few hundred printable
/// characters, no control characters or direction marks.
#[must_use]
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 512 && crate::text::sanitize(key) == key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_folder_follows_lm_studios_own_rules() {
        let home = tempfile::tempdir().expect("a home");
        let home = home.path();
        assert_eq!(models_folder(home), home.join(".lmstudio/models"));
        std::fs::create_dir_all(home.join(".cache/lm-studio")).expect("dir");
        assert_eq!(models_folder(home), home.join(".cache/lm-studio/models"));
        let elsewhere = home.join("elsewhere");
        fs_err::write(
            home.join(".lmstudio-home-pointer"),
            format!("{}\n", elsewhere.display()),
        )
        .expect("pointer");
        assert_eq!(models_folder(home), elsewhere.join("models"));
        std::fs::create_dir_all(&elsewhere).expect("dir");
        fs_err::write(
            elsewhere.join("settings.json"),
            r#"{"downloadsFolder": "/big/disk/models"}"#,
        )
        .expect("settings");
        assert_eq!(models_folder(home), PathBuf::from("/big/disk/models"));
        fs_err::write(
            elsewhere.join("settings.json"),
            r#"{"downloadsFolder": "relative"}"#,
        )
        .expect("settings");
        assert_eq!(models_folder(home), elsewhere.join("models"));
    }

    #[test]
    fn a_file_is_linked_or_found_and_never_put_over_another() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = dir.path().join("model.gguf");
        fs_err::write(&file, b"GGUF weights").expect("file");
        let models = dir.path().join("models");
        let relative = relative_path("model");
        let mut progress = |_| true;
        let (target, how) =
            place(&file, &models, (&relative, false), &mut progress).expect("placed");
        assert_eq!(target, models.join("codex-local/model/model.gguf"));
        assert_eq!(how, How::Linked);
        assert_eq!(
            place(&file, &models, (&relative, false), &mut progress)
                .expect("again")
                .1,
            How::There
        );
        let other = dir.path().join("other.gguf");
        fs_err::write(&other, b"GGUF other!!").expect("file");
        let err = place(&other, &models, (&relative, false), &mut progress).expect_err("taken");
        assert!(err.to_string().contains("holds another file"), "{err}");
        assert_eq!(std::fs::read(&target).expect("read"), b"GGUF weights");
        // A file codex-local placed is replaced whole by a changed one.
        let (_, how) = place(&other, &models, (&relative, true), &mut progress).expect("replaced");
        assert_eq!(how, How::Linked);
        assert_eq!(std::fs::read(&target).expect("read"), b"GGUF other!!");
        assert_eq!(
            std::fs::read(&file).expect("read"),
            b"GGUF weights",
            "the old file is untouched"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_among_the_folders_is_refused() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = dir.path().join("x.gguf");
        fs_err::write(&file, b"GGUF weights").expect("file");
        let victim = dir.path().join("victim");
        std::fs::create_dir_all(&victim).expect("victim");
        let models = dir.path().join("models");
        std::fs::create_dir_all(models.join(PUBLISHER)).expect("models");
        std::os::unix::fs::symlink(&victim, models.join(PUBLISHER).join("x")).expect("link");
        let err = place(&file, &models, (&relative_path("x"), false), &mut |_| true)
            .expect_err("refused");
        assert!(err.to_string().contains("is a link or a file"), "{err}");
        assert_eq!(std::fs::read_dir(&victim).expect("victim").count(), 0);
        // The models folder itself may be a link.
        let library = dir.path().join("library");
        std::fs::create_dir_all(&library).expect("library");
        let linked = dir.path().join("linked-models");
        std::os::unix::fs::symlink(&library, &linked).expect("link");
        place(&file, &linked, (&relative_path("y"), false), &mut |_| true).expect("placed");
        assert!(library.join("codex-local/y/y.gguf").is_file());
    }

    #[test]
    fn a_copy_lands_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = dir.path().join("model.gguf");
        fs_err::write(&file, vec![7_u8; 3 << 20]).expect("file");
        let target = dir.path().join("models/x/y.gguf");
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dir");
        let mut seen = 0;
        let stopped = copy_into_place(&file, &target, false, &mut |_| false).expect_err("stopped");
        assert_eq!(stopped.kind(), std::io::ErrorKind::Interrupted);
        assert!(!target.exists());
        copy_into_place(&file, &target, false, &mut |done| {
            seen = done;
            true
        })
        .expect("copied");
        assert_eq!(seen, 3 << 20);
        assert_eq!(std::fs::read(&target).expect("read").len(), 3 << 20);
        let err = copy_into_place(&file, &target, false, &mut |_| true).expect_err("there");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        let left: Vec<_> = std::fs::read_dir(target.parent().expect("parent"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left.len(), 1, "no partial copy is left: {left:?}");
    }

    #[test]
    fn a_copy_is_refused_while_another_makes_it_or_when_it_cannot_fit() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = dir.path().join("model.gguf");
        fs_err::write(&file, b"GGUF weights").expect("file");
        let target = dir.path().join("models/x/y.gguf");
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dir");
        // Another codex-local holds the half-made copy.
        let held = std::fs::File::create(partial_path(&target)).expect("partial");
        held.try_lock().expect("lock");
        let err = copy_into_place(&file, &target, false, &mut |_| true).expect_err("busy");
        assert!(
            err.to_string().contains("another codex-local is copying"),
            "{err}"
        );
        assert!(
            partial_path(&target).exists(),
            "the other one's copy is left alone"
        );
        assert!(!target.exists());
        drop(held);
        // A file bigger than the disk's room (sparse: it takes no room itself) is refused before any copying.
        let free = crate::runtime::free_bytes(dir.path()).expect("free space");
        let huge = dir.path().join("huge.gguf");
        std::fs::File::create(&huge)
            .and_then(|f| f.set_len(free + (1 << 30)))
            .expect("sparse file");
        let err = copy_into_place(&huge, &target, false, &mut |_| true).expect_err("no room");
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull, "{err}");
        assert!(err.to_string().contains("free some space"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn a_models_folder_that_is_a_file_is_named() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = dir.path().join("model.gguf");
        fs_err::write(&file, b"GGUF weights").expect("file");
        let models = dir.path().join("models");
        fs_err::write(&models, b"not a folder").expect("a file in the way");
        let err = place(&file, &models, (&relative_path("x"), false), &mut |_| true)
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("cannot make LM Studio's models folder"),
            "{err}"
        );
        assert_eq!(std::fs::read(&models).expect("read"), b"not a folder");
    }

    #[test]
    fn the_key_is_found_by_the_files_path() {
        let listing = br#"[{"type":"llm","modelKey":"qwen2.5-7b-instruct","path":"lmstudio-community/Q/Q.gguf","sizeBytes":1},
            {"type":"llm","modelKey":"my-coder","path":"codex-local\\my-coder\\my-coder.gguf","sizeBytes":2}]"#;
        assert_eq!(
            key_in_listing(listing, "codex-local/my-coder/my-coder.gguf").as_deref(),
            Some("my-coder")
        );
        assert_eq!(key_in_listing(listing, "codex-local/x/x.gguf"), None);
        assert_eq!(key_in_listing(b"not json", "x"), None);
        let hostile = br#"[{"modelKey":"k\u001b]0;PWNED\u0007","path":"codex-local/x/x.gguf"}]"#;
        assert_eq!(key_in_listing(hostile, "codex-local/x/x.gguf"), None);
        assert!(is_plain_key("qwen/qwen3-coder-30b@q4_k_m"));
        assert!(!is_plain_key("") && !is_plain_key(&"k".repeat(513)));
    }
}
