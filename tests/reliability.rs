//! Nothing lost, undo always works: what init, restore and `repo` do to Codex's files when those files are odd,
//! when codex-local is killed at any point, and when several run at once.

#![expect(
    clippy::disallowed_methods,
    reason = "tests write their fixtures directly"
)]
#![expect(
    clippy::print_stderr,
    reason = "a skipped part of a test says why on stderr"
)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::ollama::{FakeOllama, Responses};
use common::{TestContext, read, text};

fn context_for(ollama: &FakeOllama) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    ctx
}

const INIT: [&str; 8] = [
    "init",
    "--yes",
    "--ram",
    "64GiB",
    "--gpu",
    "18GiB",
    "--model",
    "gpt-oss-20b",
];

/// The fixture with comments, unknown keys and tables, as users' files are.
fn fixture() -> String {
    read(Path::new("tests/fixtures/config/comments/in.toml"))
}

/// Every file under `dir`, by name (the temporary files codex-local must never leave behind among them).
fn names(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            found.push(
                path.file_name()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    found
}

fn no_litter(dir: &Path) {
    let litter: Vec<String> = names(dir)
        .into_iter()
        .filter(|name| name.starts_with(".codex-local-") && name.contains(".tmp"))
        .collect();
    assert!(litter.is_empty(), "temporary files left: {litter:?}");
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one kind of special file after another"
)]
fn special_files_are_refused_before_they_are_opened() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config = ctx.codex_home.join("config.toml");

    // A FIFO would make a reader wait forever: status, init and verify name it instead, at once.
    let made = std::process::Command::new("mkfifo")
        .arg(&config)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let doc = ctx.json(["status"], 0);
    let warnings = doc["codex"]["warnings"].to_string();
    assert!(
        warnings.contains("is a FIFO (named pipe), not a regular file"),
        "{warnings}"
    );
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    let doc = ctx.json(["verify"], 1);
    assert!(
        doc["checks"][0]["detail"].to_string().contains("FIFO"),
        "{doc:#}"
    );
    std::fs::remove_file(&config).expect("remove the FIFO");

    // A link to a character device: the device stays a device.
    std::os::unix::fs::symlink("/dev/null", &config).expect("symlink");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is a character device, not a regular file"),
        "{stderr}"
    );
    let device = std::fs::metadata("/dev/null").expect("stat /dev/null");
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &device.file_type()
    ));
    std::fs::remove_file(&config).expect("remove the link");

    // A dangling link is not replaced by a file.
    std::os::unix::fs::symlink(ctx.dir.path().join("gone.toml"), &config).expect("symlink");
    let stderr = ctx.fails(INIT);
    assert!(stderr.contains("which does not exist"), "{stderr}");
    assert!(
        std::fs::symlink_metadata(&config)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    std::fs::remove_file(&config).expect("remove the link");

    // A directory and a socket are named for what they are.
    std::fs::create_dir(&config).expect("a directory");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is a directory, not a regular file"),
        "{stderr}"
    );
    std::fs::remove_dir(&config).expect("remove the directory");
    let _socket = std::os::unix::net::UnixListener::bind(&config).expect("a socket");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is a socket, not a regular file"),
        "{stderr}"
    );
    assert!(
        !ctx.codex_home.join("local.config.toml").exists(),
        "nothing written"
    );
}

#[test]
fn a_config_that_is_not_utf8_is_named_with_the_place_of_the_bad_byte() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config = ctx.codex_home.join("config.toml");
    std::fs::write(&config, b"model = \"a\"\n# caf\xe9\n").expect("write");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is not UTF-8 text: a byte at line 2, column 6 is not"),
        "{stderr}"
    );
    assert!(stderr.contains("save the file as UTF-8"), "{stderr}");
    assert_eq!(
        std::fs::read(&config).expect("read"),
        b"model = \"a\"\n# caf\xe9\n"
    );
}

#[test]
fn owner_mode_line_endings_and_byte_order_mark_survive_init_and_restore() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let original = format!("\u{feff}{}", fixture().replace('\n', "\r\n"));
    let config = ctx.write_config(&original);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if as_root {
        std::os::unix::fs::chown(&config, Some(4321), Some(4322)).expect("chown");
    } else {
        eprintln!("not root: the owner part of this test is skipped (the mode part runs)");
    }

    ctx.json(INIT, 0);

    let written = read(&config);
    assert!(written.starts_with('\u{feff}'), "the byte-order mark stays");
    assert!(
        !written.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF"
    );
    assert!(
        written.contains("model_provider = \"codex-local-ollama\"\r\n"),
        "{written}"
    );
    let metadata = std::fs::metadata(&config).expect("stat");
    assert_eq!(metadata.mode() & 0o777, 0o600, "the mode stays");
    if as_root {
        assert_eq!(
            (metadata.uid(), metadata.gid()),
            (4321, 4322),
            "the owner stays"
        );
    }
    let backups = ctx.codex_home.join("codex-local/backups");
    assert_eq!(
        std::fs::metadata(&backups).expect("stat").mode() & 0o777,
        0o700,
        "the backup folder is private"
    );
    for backup in std::fs::read_dir(&backups).expect("backups") {
        let backup = backup.expect("an entry").path();
        let mode = std::fs::metadata(&backup).expect("stat").mode() & 0o777;
        assert_eq!(
            mode,
            0o600,
            "a backup is no wider than its original: {}",
            backup.display()
        );
    }

    ctx.json(["restore"], 0);
    assert_eq!(read(&config), original, "restore gives back every byte");
    let metadata = std::fs::metadata(&config).expect("stat");
    assert_eq!(metadata.mode() & 0o777, 0o600);
    if as_root {
        assert_eq!((metadata.uid(), metadata.gid()), (4321, 4322));
    }
}

#[test]
fn old_profile_tables_merge_into_their_files_and_conflicts_stop_init() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let original = "model = \"gpt-5\"\n\n[profiles.fast]\nmodel = \"m\"\nmodel_reasoning_effort = \"low\"\n\n\
                    [profiles.local]\nmodel = \"theirs\"\nsandbox_mode = \"read-only\"\n";
    let config = ctx.write_config(original);
    let fast = ctx.write_codex_file("fast.config.toml", "# kept\nmodel = \"other\"\n");

    // `fast` sets `model` differently in the table and in its file: init stops and changes nothing.
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("`[profiles.fast]` in config.toml sets `model = \"m\"`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("already sets `model = \"other\"`"),
        "{stderr}"
    );
    assert_eq!(read(&config), original);
    assert_eq!(read(&fast), "# kept\nmodel = \"other\"\n");

    // With the same value in both, the table's other keys join the file, and nothing is lost.
    std::fs::write(&fast, "# kept\nmodel = \"m\"\n").expect("write");
    ctx.json(INIT, 0);
    let merged = read(&fast);
    assert!(merged.starts_with("# kept\nmodel = \"m\"\n"), "{merged}");
    assert!(
        merged.contains("model_reasoning_effort = \"low\""),
        "{merged}"
    );
    let local = read(&ctx.codex_home.join("local.config.toml"));
    assert!(local.contains("sandbox_mode = \"read-only\""), "{local}");

    ctx.json(["restore"], 0);
    assert_eq!(
        read(&config),
        original,
        "[profiles.local] and the rest are back"
    );
    assert_eq!(read(&fast), "# kept\nmodel = \"m\"\n");
    assert!(!ctx.codex_home.join("local.config.toml").exists());
}

/// The points where init writes, in order, for a config.toml that exists and a profile that does not: the journal
/// (its temporary file, then its rename), the backup of config.toml, config.toml, and the profile.
const CRASH_POINTS: [&str; 11] = [
    "before-rename#1",
    "after-rename#1",
    "after-journal",
    "before-rename#2",
    "after-rename#2",
    "before-write#1",
    "before-rename#3",
    "after-rename#3",
    "before-write#2",
    "before-rename#4",
    "after-rename#4",
];

#[test]
fn restore_gives_back_every_byte_after_init_is_killed_at_any_write() {
    let ollama = FakeOllama::start("0.32.15");
    let original = fixture();
    for point in CRASH_POINTS {
        let mut ctx = context_for(&ollama);
        let config = ctx.write_config(&original);
        ctx.env("CODEX_LOCAL_TEST_CRASH_AT", point);
        let output = ctx.run(INIT);
        assert_eq!(
            output.status.code(),
            None,
            "init was killed at `{point}`: {}",
            text(&output).1
        );
        ctx.env
            .retain(|(name, _)| name != "CODEX_LOCAL_TEST_CRASH_AT");

        let doc = ctx.json(["restore"], 0);
        assert_eq!(
            read(&config),
            original,
            "after a kill at `{point}`: {doc:#}"
        );
        assert!(
            !ctx.codex_home.join("local.config.toml").exists(),
            "after a kill at `{point}`"
        );
        no_litter(&ctx.codex_home);

        // Killed, then run again to the end: restore still gives back the original.
        ctx.env("CODEX_LOCAL_TEST_CRASH_AT", point);
        let _ = ctx.run(INIT);
        ctx.env
            .retain(|(name, _)| name != "CODEX_LOCAL_TEST_CRASH_AT");
        ctx.json(INIT, 0);
        no_litter(&ctx.codex_home);
        ctx.json(["restore"], 0);
        assert_eq!(
            read(&config),
            original,
            "after a kill at `{point}` and a full run"
        );
    }
}

#[test]
fn stale_temporary_files_are_cleaned_up() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let stale = ctx.write_codex_file(".codex-local-AbC123.tmp", "half a config");
    let theirs = ctx.write_codex_file(
        ".codex-local-notes.tmp",
        "not ours: the name does not match",
    );
    ctx.json(INIT, 0);
    assert!(!stale.exists(), "a temporary file of ours is removed");
    assert!(theirs.exists(), "anything else stays");
}

#[test]
fn eight_inits_at_once_leave_files_and_journal_from_one_run() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let original = fixture();
    let config = ctx.write_config(&original);
    let children: Vec<_> = (0..8)
        .map(|n| {
            let context = (40 + n * 4) * 1024;
            let mut command = ctx.command(INIT);
            command.args(["--context", &context.to_string()]);
            command
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start init")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let main = common::toml(&config);
    let profile = common::toml(&ctx.codex_home.join("local.config.toml"));
    assert_eq!(
        main["model"].as_str(),
        profile["model"].as_str(),
        "one run's model"
    );
    assert_eq!(
        main["model_context_window"].as_integer(),
        profile["model_context_window"].as_integer(),
        "one run's context"
    );
    ctx.json(["restore"], 0);
    assert_eq!(read(&config), original, "restore gives back the original");
    assert!(!ctx.codex_home.join("local.config.toml").exists());
    no_litter(&ctx.codex_home);
}

#[test]
fn a_second_writer_waits_for_the_first_and_says_so() {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = context_for(&ollama);
    let lock = ctx.codex_home.join("codex-local").join("lock");
    std::fs::create_dir_all(lock.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&lock, "4242").expect("write");
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock)
        .expect("open the lock");
    held.lock()
        .expect("hold the lock as another codex-local would");
    ctx.env("CODEX_LOCAL_LOCK_TIMEOUT_S", "1");

    let output = ctx.run(["restore"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Waiting for another codex-local (pid 4242)"),
        "{stderr}"
    );
    assert!(stderr.contains("is still changing"), "{stderr}");
    drop(held);
    assert_eq!(ctx.run(["restore"]).status.code(), Some(0), "free again");
}

#[test]
fn a_damaged_journal_is_named_and_init_goes_on() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let journal = ctx.codex_home.join("codex-local/journal.json");
    std::fs::create_dir_all(journal.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&journal, "{ not json").expect("write");

    let stderr = ctx.fails(["restore"]);
    assert!(stderr.contains("codex-local's own file `"), "{stderr}");
    assert!(stderr.contains("journal.json` is damaged"), "{stderr}");
    assert!(!stderr.contains("TOML"), "{stderr}");

    let config = ctx.write_config("model = \"gpt-5\"\n");
    let output = ctx.run(INIT);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("it is kept as `"), "{stderr}");
    let kept: Vec<PathBuf> = std::fs::read_dir(journal.parent().expect("a folder"))
        .expect("read")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.to_string_lossy().contains("journal.json.damaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged journal is kept aside");
    ctx.json(["restore"], 0);
    assert_eq!(read(&config), "model = \"gpt-5\"\n");
}

#[test]
fn a_failed_verification_writes_nothing_and_says_so() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::TextOnly);
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("Codex's configuration was not changed"),
        "{stderr}"
    );
    assert_eq!(read(&config), "model = \"gpt-5\"\n");
    assert!(!ctx.codex_home.join("local.config.toml").exists());
}

#[test]
fn repo_on_is_journaled_first_and_refuses_a_missing_path() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    ctx.json(INIT, 0);
    let missing = ctx.dir.path().join("no-such-repo");
    let stderr = ctx.fails(["repo", "on", missing.to_str().expect("path")]);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!stderr.contains("not inside a git repository"), "{stderr}");

    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    std::fs::create_dir_all(repo.join(".codex")).expect("a .codex folder");
    let repo_config = repo.join(".codex/config.toml");
    std::fs::write(
        &repo_config,
        "# the team's\r\napproval_policy = \"never\"\r\n",
    )
    .expect("write");
    let mut killed = TestContext::new();
    killed.home.clone_from(&ctx.home);
    killed.codex_home.clone_from(&ctx.codex_home);
    killed.env.clone_from(&ctx.env);
    killed.env("CODEX_LOCAL_TEST_CRASH_AT", "after-journal");
    let output = killed.run(["repo", "on", repo.to_str().expect("path")]);
    assert_eq!(output.status.code(), None, "killed after the journal");
    ctx.json(["restore"], 0);
    assert_eq!(
        read(&repo_config),
        "# the team's\r\napproval_policy = \"never\"\r\n"
    );
}

#[test]
fn restore_touches_only_what_codex_local_writes_and_goes_on_past_a_broken_file() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");
    ctx.json(INIT, 0);
    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);

    // A journal that names a file codex-local never writes: restore leaves it alone, and says so.
    let victim = ctx.dir.path().join("victim.txt");
    std::fs::write(&victim, "mine\n").expect("write");
    let journal_path = ctx.codex_home.join("codex-local/journal.json");
    let mut journal: serde_json::Value = serde_json::from_str(&read(&journal_path)).expect("JSON");
    let print = journal["files"]["config.toml"]["written"][0].clone();
    for name in [victim.display().to_string(), "../../victim.txt".to_owned()] {
        journal["files"][name] = serde_json::json!({"created": true, "written": [print.clone()], "keys": {}, "tables": []});
    }
    std::fs::write(&journal_path, journal.to_string()).expect("write");
    // And the repository's file became unparsable meanwhile.
    let repo_config = repo.join(".codex/config.toml");
    std::fs::write(&repo_config, "web_search = \"disabled\"\noops =\n").expect("write");

    let output = ctx.run(["restore"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("not a file codex-local writes"), "{stdout}");
    assert!(stdout.contains("not valid TOML"), "{stdout}");
    assert_eq!(read(&victim), "mine\n", "left alone");
    assert_eq!(
        read(&config),
        "model = \"gpt-5\"\n",
        "the rest was restored all the same"
    );
}

#[test]
fn read_only_and_hard_linked_files_are_not_replaced() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let stderr = ctx.fails(INIT);
    assert!(stderr.contains("is read-only (mode 444)"), "{stderr}");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let other = ctx.dir.path().join("also-config.toml");
    std::fs::hard_link(&config, &other).expect("a hard link");
    let stderr = ctx.fails(INIT);
    assert!(stderr.contains("has 2 hard links"), "{stderr}");
    assert_eq!(read(&other), "model = \"gpt-5\"\n");
}

#[test]
fn temporary_files_beside_a_linked_config_are_cleaned_up() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let dotfiles = ctx.dir.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).expect("mkdir");
    std::fs::write(dotfiles.join("codex.toml"), "model = \"gpt-5\"\n").expect("write");
    std::os::unix::fs::symlink(
        dotfiles.join("codex.toml"),
        ctx.codex_home.join("config.toml"),
    )
    .expect("link");
    let stale = dotfiles.join(".codex-local-Zz9Yy8.tmp");
    std::fs::write(&stale, "a half-written copy").expect("write");
    ctx.json(INIT, 0);
    assert!(!stale.exists());
    assert!(
        std::fs::symlink_metadata(ctx.codex_home.join("config.toml"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn as_root_new_files_belong_to_the_home_and_links_to_others_files_are_refused() {
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
    if !as_root {
        eprintln!("skipped: only root can run codex-local on another user's files");
        return;
    }
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config =
        ctx.write_config("model = \"gpt-5\"\n[profiles.work]\nexperimental_bearer_token = \"t\"\n");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    for path in [&ctx.codex_home, &config] {
        std::os::unix::fs::chown(path, Some(4321), Some(4322)).expect("chown");
    }
    ctx.json(INIT, 0);
    for name in ["work.config.toml", "local.config.toml"] {
        let metadata = std::fs::metadata(ctx.codex_home.join(name)).expect("stat");
        assert_eq!(
            (metadata.uid(), metadata.gid()),
            (4321, 4322),
            "{name} is the user's"
        );
        assert_eq!(
            metadata.mode() & 0o777,
            0o600,
            "{name} is as private as config.toml"
        );
    }
    let state = std::fs::metadata(ctx.codex_home.join("codex-local")).expect("stat");
    assert_eq!(state.uid(), 4321, "the user can still restore");
    ctx.json(["restore"], 0);

    // A link of the user's that leads to a file of root's is not followed for a write.
    let roots = ctx.dir.path().join("roots.toml");
    std::fs::write(&roots, "model = \"root\"\n").expect("write");
    std::fs::remove_file(&config).expect("remove");
    std::os::unix::fs::symlink(&roots, &config).expect("link");
    std::os::unix::fs::lchown(&config, Some(4321), Some(4322)).expect("lchown");
    let stderr = ctx.fails(INIT);
    assert!(
        stderr.contains("is a symbolic link owned by user 4321"),
        "{stderr}"
    );
    assert_eq!(read(&roots), "model = \"root\"\n");
}
