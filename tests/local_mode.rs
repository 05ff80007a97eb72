//! Local mode for a repository: `repo on|off|status`, `run` (fails closed when the runtime is down), and the
//! shell hook from `shell-init` in real bash, zsh and fish.

#![expect(
    clippy::disallowed_methods,
    reason = "the test asks whether it runs in CI"
)]
#![expect(clippy::print_stderr, reason = "a skipped shell says why on stderr")]

mod common;

use std::path::{Path, PathBuf};

use common::ollama::FakeOllama;
use common::{TestContext, read, text};

/// A context with a repository, the `local` profile pointing at `ollama` (which has its model), and a fake `codex` on PATH that
/// writes its arguments to `codex-args` and exits with 7.
fn setup(ollama: &FakeOllama) -> (TestContext, PathBuf) {
    // The model the profile names, as init leaves it: installed, carrying the context Codex is told.
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    let args_file = ctx.dir.path().join("codex-args");
    ctx.env("CODEX_ARGS_FILE", args_file.display().to_string());
    ctx.write_tool(
        "codex",
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$CODEX_ARGS_FILE\"\nexit 7\n",
    );
    ctx.write_codex_file(
        "local.config.toml",
        &format!(
            "model_provider = \"codex-local-ollama\"\nmodel = \"gpt-oss:20b\"\nmodel_context_window = 65536\n\n\
             [model_providers.codex-local-ollama]\nname = \"Ollama\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
             wire_api = \"responses\"\n",
            ollama.server.port
        ),
    );
    let repo = ctx.dir.path().join("secret-project");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    std::fs::create_dir_all(repo.join("src")).expect("a folder");
    (ctx, repo)
}

fn args_seen(ctx: &TestContext) -> Option<Vec<String>> {
    let path = ctx.dir.path().join("codex-args");
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.lines().map(str::to_owned).collect())
}

fn in_dir(ctx: &TestContext, dir: &Path, args: &[&str]) -> std::process::Output {
    ctx.command(args)
        .current_dir(dir)
        .output()
        .expect("run codex-local")
}

#[test]
fn repo_on_off_and_status() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    let src = repo.join("src");

    let doc: serde_json::Value =
        serde_json::from_slice(&in_dir(&ctx, &src, &["repo", "status", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(doc["local_mode"], false);
    assert_eq!(doc["source"], serde_json::Value::Null);

    let output = in_dir(&ctx, &src, &["repo", "on"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("Local mode is on for"), "{stdout}");
    assert!(
        stdout.contains("eval \"$(codex-local shell-init bash)\""),
        "{stdout}"
    );
    assert!(read(&repo.join(".codex/config.toml")).contains("web_search = \"disabled\""));
    assert!(
        !read(&repo.join(".codex/config.toml")).contains("model"),
        "never a model name in the repository"
    );

    let doc: serde_json::Value =
        serde_json::from_slice(&in_dir(&ctx, &src, &["repo", "status", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(doc["path"], repo.display().to_string());
    assert_eq!(doc["local_mode"], true);
    assert_eq!(doc["source"], "list");
    let status: serde_json::Value =
        serde_json::from_slice(&in_dir(&ctx, &src, &["status", "--json"]).stdout).expect("JSON");
    assert_eq!(status["repo"]["local_mode"], true);

    let doc: serde_json::Value =
        serde_json::from_slice(&in_dir(&ctx, &src, &["repo", "off", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(doc["local_mode"], false);

    // A committed marker keeps the repository local for everyone.
    let doc = ctx.json(["repo", "on", repo.to_str().expect("path"), "--marker"], 0);
    assert_eq!(doc["source"], "marker");
    assert!(read(&repo.join(".codex/codex-local.toml")).contains("local_mode = true"));
    ctx.json(["repo", "off", repo.to_str().expect("path")], 0);
    assert!(!repo.join(".codex/codex-local.toml").exists());
}

#[test]
fn repo_on_needs_a_repository_and_the_profile() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    let stderr = ctx.fails(["repo", "on", ctx.dir.path().to_str().expect("path")]);
    assert!(
        stderr.contains("is not inside a git repository"),
        "{stderr}"
    );

    std::fs::remove_file(ctx.codex_home.join("local.config.toml")).expect("remove the profile");
    let stderr = ctx.fails(["repo", "on", repo.to_str().expect("path")]);
    assert!(
        stderr.contains("The `local` profile does not exist yet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run `codex-local init --profile local` first"),
        "{stderr}"
    );
}

#[test]
fn run_starts_codex_with_the_local_profile_only_in_local_mode() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);

    // Outside local mode, Codex gets its arguments unchanged, and its exit code comes back.
    let output = in_dir(&ctx, &repo, &["run", "--", "exec", "say hi"]);
    assert_eq!(output.status.code(), Some(7), "{}", text(&output).1);
    assert_eq!(
        args_seen(&ctx),
        Some(vec!["exec".to_owned(), "say hi".to_owned()])
    );

    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    let output = in_dir(&ctx, &repo.join("src"), &["run", "--", "exec", "say hi"]);
    assert_eq!(output.status.code(), Some(7), "{}", text(&output).1);
    assert_eq!(
        args_seen(&ctx),
        Some(vec![
            "--profile".to_owned(),
            "local".to_owned(),
            "exec".to_owned(),
            "say hi".to_owned()
        ])
    );
    assert!(
        ollama.paths().contains(&"GET /api/version".to_owned()),
        "the runtime was checked first"
    );

    // Arguments that would pick another provider are refused.
    let output = in_dir(&ctx, &repo, &["run", "--", "--oss", "exec", "x"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("`--oss`"), "{}", text(&output).1);
}

#[test]
fn run_fails_closed_when_the_local_runtime_is_down() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    // Point the profile at a port where nothing listens.
    let profile = ctx.codex_home.join("local.config.toml");
    let dead = read(&profile).replace(
        &format!(":{}/v1", ollama.server.port),
        &format!(":{}/v1", common::fake::closed_port()),
    );
    ctx.write_codex_file("local.config.toml", &dead);

    let output = in_dir(&ctx, &repo, &["run", "--", "exec", "say hi"]);
    let (_, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("does not answer: connection refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Codex was not started, so nothing left this machine"),
        "{stderr}"
    );
    assert_eq!(args_seen(&ctx), None, "Codex never ran");
}

fn shells() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "bash",
            vec!["--noprofile", "--norc", "-e", "-u", "-o", "pipefail", "-c"],
        ),
        ("zsh", vec!["-f", "-e", "-u", "-o", "pipefail", "-c"]),
        ("fish", vec!["--no-config", "-c"]),
    ]
}

fn have(shell: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
#[expect(clippy::too_many_lines, reason = "one story, step by step")]
fn the_shell_hook_routes_a_plain_codex_through_local_mode() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    let bin = env!("CARGO_BIN_EXE_codex-local");
    for (shell, flags) in shells() {
        if !have(shell) {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have {shell}: `.ci/test` installs it"
            );
            eprintln!("skipped {shell}: not installed");
            continue;
        }
        let script = ctx.run(["shell-init", shell]);
        let script = String::from_utf8(script.stdout).expect("UTF-8");
        assert!(script.contains(bin), "{script}");
        let load = if shell == "fish" {
            format!("{bin} shell-init fish | source; ")
        } else {
            format!("eval \"$({bin} shell-init {shell})\"; ")
        };

        // Sourcing it twice is harmless and prints nothing.
        let output = ctx
            .program(shell)
            .args(&flags)
            .arg(format!("{load}{load}true"))
            .current_dir(&repo)
            .output()
            .expect("run the shell");
        assert!(output.status.success(), "{shell}: {}", text(&output).1);
        assert!(
            output.stdout.is_empty() && output.stderr.is_empty(),
            "{shell}: {:?}",
            text(&output)
        );

        for (dir, expected) in [
            (repo.join("src"), vec!["--profile", "local", "exec", "a b"]),
            (ctx.dir.path().to_path_buf(), vec!["exec", "a b"]),
        ] {
            let _ = std::fs::remove_file(ctx.dir.path().join("codex-args"));
            let exit = if shell == "fish" { "$status" } else { "$?" };
            let output = ctx
                .program(shell)
                .args([
                    "-c",
                    &format!("{load}codex exec 'a b'; echo \"status {exit}\""),
                ])
                .current_dir(&dir)
                .output()
                .expect("run the shell");
            let (stdout, stderr) = text(&output);
            assert!(
                stdout.contains("status 7"),
                "{shell} in {}: {stdout}{stderr}",
                dir.display()
            );
            let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(
                args_seen(&ctx),
                Some(expected),
                "{shell} in {}",
                dir.display()
            );
        }
    }
}

#[test]
fn run_without_codex_says_how_to_install_it() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    std::fs::remove_file(ctx.bin.join("codex")).expect("remove the fake codex");

    let output = in_dir(&ctx, &repo, &["run", "--", "exec", "hi"]);
    let (_, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("Codex is not installed (no `codex` on PATH)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: install it with `npm install -g @openai/codex@latest`"),
        "{stderr}"
    );
}

#[test]
fn run_refuses_a_local_profile_that_points_off_this_machine() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    let profile = ctx.codex_home.join("local.config.toml");
    let remote = read(&profile).replace(
        &format!("http://127.0.0.1:{}/v1", ollama.server.port),
        "http://gpu-box.example:11434/v1",
    );
    ctx.write_codex_file("local.config.toml", &remote);

    let output = in_dir(&ctx, &repo, &["run", "--", "exec", "hi"]);
    let (_, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains(
            "does not point at a runtime on this machine (http://gpu-box.example:11434/v1)"
        ),
        "{stderr}"
    );
    assert_eq!(args_seen(&ctx), None, "Codex never ran");
}

#[test]
#[expect(clippy::too_many_lines, reason = "one way out after another")]
fn local_mode_holds_through_other_folders_nested_repositories_and_settings() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = setup(&ollama);
    assert_eq!(in_dir(&ctx, &repo, &["repo", "on"]).status.code(), Some(0));
    let outside = ctx.dir.path();

    // From outside, `-C`/`--cd`/`--add-dir` into the repository is local mode too.
    for args in [
        &["run", "--", "-C", "secret-project", "-p", "default", "hi"][..],
        &["run", "--", "--cd=secret-project", "-pdefault", "hi"],
        &["run", "--", "exec", "-Csecret-project", "--profile=x", "hi"],
        &[
            "run",
            "--",
            "--add-dir",
            "secret-project",
            "-c",
            "model_provider=openai",
            "hi",
        ],
    ] {
        let output = in_dir(&ctx, outside, args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&output).1
        );
        assert!(
            text(&output).1.contains("could send prompts elsewhere"),
            "{args:?}"
        );
        assert_eq!(args_seen(&ctx), None, "Codex was not started for {args:?}");
    }
    let output = in_dir(
        &ctx,
        outside,
        &["run", "--", "-C", "secret-project", "exec", "hi"],
    );
    assert_eq!(output.status.code(), Some(7), "{}", text(&output).1);
    assert_eq!(
        args_seen(&ctx).expect("codex ran")[..2],
        ["--profile", "local"]
    );

    // A repository inside a local-mode one (a submodule, say) is in local mode too.
    let nested = repo.join("vendor/lib");
    std::fs::create_dir_all(&nested).expect("mkdir");
    std::fs::write(nested.join(".git"), "gitdir: ../../.git/modules/lib\n").expect("write");
    let output = in_dir(&ctx, &nested, &["run", "--", "-p", "default", "hi"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output).1);
    let doc: serde_json::Value =
        serde_json::from_slice(&in_dir(&ctx, &nested, &["repo", "status", "--json"]).stdout)
            .expect("JSON");
    assert_eq!(doc["local_mode"], true, "{doc:#}");

    // Cloud-side subcommands, hidden ones and aliases included.
    for sub in ["cloud", "cloud-tasks", "responses-api-proxy"] {
        let output = in_dir(&ctx, &repo, &["run", "--", sub]);
        assert_eq!(output.status.code(), Some(1), "{sub}");
    }

    // Settings that send data elsewhere stop local mode, from the repository's own file or the user's.
    std::fs::create_dir_all(repo.join(".codex")).expect("mkdir");
    let committed = repo.join(".codex/config.toml");
    for (file, contents) in [
        (
            committed.clone(),
            "[otel]\nexporter = { otlp-http = { endpoint = \"https://collector.example\" } }\n",
        ),
        (
            committed.clone(),
            "notify = [\"curl\", \"https://hook.example\"]\n",
        ),
        (
            ctx.codex_home.join("config.toml"),
            "[mcp_servers.docs]\nurl = \"https://mcp.example/mcp\"\n",
        ),
    ] {
        std::fs::write(&file, contents).expect("write");
        let output = in_dir(&ctx, &repo, &["run", "--", "exec", "hi"]);
        let stderr = text(&output).1;
        assert_eq!(output.status.code(), Some(1), "{contents}: {stderr}");
        assert!(stderr.contains("could send its data elsewhere"), "{stderr}");
        std::fs::remove_file(&file).expect("remove");
    }
    std::fs::write(
        &committed,
        "[mcp_servers.local]\nurl = \"http://127.0.0.1:9000/mcp\"\n",
    )
    .expect("write");
    assert_eq!(
        in_dir(&ctx, &repo, &["run", "--", "exec", "hi"])
            .status
            .code(),
        Some(7)
    );
}
