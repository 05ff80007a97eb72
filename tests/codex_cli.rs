//! The real Codex CLI against a configuration that `init` wrote: Codex must load it (with `--strict-config`),
//! reach the fake Ollama, ask for the configured model, and offer plain function tools only.
//!
//! `.ci/test` installs a pinned `@openai/codex` from npm and names it in `CODEX_LOCAL_TEST_CODEX`. Without it the
//! tests skip when run by hand and fail in CI.

#![expect(
    clippy::disallowed_methods,
    reason = "the test reads where the real Codex is from its own environment"
)]
#![expect(clippy::print_stderr, reason = "a skipped test says why on stderr")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::ollama::{FakeOllama, Responses};
use common::{TestContext, read, text};
use serde_json::Value;

/// The real Codex binaries to test with: the newest version codex-local supports (`CODEX_LOCAL_TEST_CODEX`) and
/// the oldest (`CODEX_LOCAL_TEST_CODEX_OLDEST`), both installed by `.ci/test`. In CI both must be there; by hand,
/// the tests run with those that are set, and say so when none is.
fn codexes() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for var in ["CODEX_LOCAL_TEST_CODEX", "CODEX_LOCAL_TEST_CODEX_OLDEST"] {
        match std::env::var_os(var) {
            Some(path) => {
                let path = PathBuf::from(path);
                assert!(
                    path.exists(),
                    "{var} names `{}`, which does not exist",
                    path.display()
                );
                found.push(path);
            }
            None if std::env::var_os("CI").is_some() => {
                panic!(
                    "CI must test against the real Codex: run the tests through `.ci/test`, which installs it ({var})"
                )
            }
            None => eprintln!(
                "skipped for {var}: set it (or run `.ci/test`) to test against that real Codex"
            ),
        }
    }
    found
}

/// Keys that keep Codex from looking anything up on the network (its update check, analytics, the daemon): init
/// writes them into the profile, and into config.toml only with `--offline`, so the tests of config.toml give them
/// on the command line. No test reaches a network.
const OFFLINE: [&str; 6] = [
    "-c",
    "check_for_update_on_startup=false",
    "-c",
    "analytics.enabled=false",
    "-c",
    "features.daemon_auto_start=false",
];

/// Runs `codex exec` as a user would after init, in the context's homes, with at most two minutes to finish.
fn codex_exec(
    ctx: &TestContext,
    codex: &Path,
    extra_env: &[(&str, String)],
    args: &[&str],
) -> std::process::Output {
    let mut command = std::process::Command::new("timeout");
    command
        .arg("120")
        .arg(codex)
        .args(["exec", "--skip-git-repo-check", "--strict-config"])
        .args(OFFLINE)
        .args(args)
        .arg("say hi")
        .env_clear()
        .env("HOME", &ctx.home)
        .env("CODEX_HOME", &ctx.codex_home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(ctx.dir.path())
        .stdin(Stdio::null());
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().expect("run codex")
}

/// Codex's stdout and stderr, after checking that it exited 0.
fn succeeded(output: &std::process::Output) -> (String, String) {
    let (stdout, stderr) = text(output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

fn first_request(ollama: &FakeOllama) -> Value {
    let requests = ollama.requests_to("/v1/responses");
    // The first request came from init's own verification; Codex's come after it.
    let codex_request = requests
        .get(1)
        .expect("Codex sent POST /v1/responses to the fake");
    serde_json::from_slice(&codex_request.body).expect("a JSON body")
}

#[test]
fn codex_uses_the_custom_provider_that_init_wrote() {
    for codex in codexes() {
        codex_uses_the_custom_provider_that_init_wrote_with(&codex);
    }
}

fn codex_uses_the_custom_provider_that_init_wrote_with(codex: &Path) {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    let doc = ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
        ],
        0,
    );
    assert_eq!(doc["codex"]["provider"], "codex-local-ollama");
    // Codex ends its turn on a text answer.
    ollama.with(|s| s.responses = Responses::TextOnly);

    let output = codex_exec(&ctx, codex, &[], &[]);
    let (stdout, stderr) = succeeded(&output);
    assert!(stderr.contains("provider: codex-local-ollama"), "{stderr}");
    assert!(stdout.contains("hi there"), "{stdout}");
    let request = first_request(&ollama);
    assert_eq!(request["model"], "gpt-oss:20b-ctx64k");
    let tools = request["tools"].as_array().expect("tools");
    assert!(!tools.is_empty());
    let kinds: Vec<&str> = tools
        .iter()
        .map(|t| t["type"].as_str().unwrap_or("?"))
        .collect();
    assert!(
        kinds.iter().all(|k| *k == "function"),
        "function tools only, no namespace or web search: {kinds:?}"
    );

    // The profile file loads too.
    let output = codex_exec(&ctx, codex, &[], &["--profile", "local"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
}

#[test]
fn codex_uses_the_reserved_ollama_provider_where_it_points() {
    for codex in codexes() {
        codex_uses_the_reserved_ollama_provider_where_it_points_with(&codex);
    }
}

fn codex_uses_the_reserved_ollama_provider_where_it_points_with(codex: &Path) {
    let ollama = FakeOllama::start("0.32.15");
    let oss = format!("http://127.0.0.1:{}/v1", ollama.server.port);
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host())
        .env("CODEX_OSS_BASE_URL", oss.clone());
    let doc = ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
        ],
        0,
    );
    assert_eq!(doc["codex"]["provider"], "ollama");
    let config = read(&ctx.codex_home.join("config.toml"));
    assert!(config.contains("model_provider = \"ollama\""), "{config}");
    assert!(
        !config.contains("[model_providers"),
        "never a table for a reserved id:\n{config}"
    );
    ollama.with(|s| s.responses = Responses::TextOnly);

    let output = codex_exec(&ctx, codex, &[("CODEX_OSS_BASE_URL", oss)], &[]);
    let (_, stderr) = succeeded(&output);
    assert!(stderr.contains("provider: ollama"), "{stderr}");
    assert_eq!(first_request(&ollama)["model"], "gpt-oss:20b-ctx64k");
}

#[test]
fn codex_uses_the_reserved_lmstudio_provider_where_it_points() {
    for codex in codexes() {
        codex_uses_the_reserved_lmstudio_provider_where_it_points_with(&codex);
    }
}

fn codex_uses_the_reserved_lmstudio_provider_where_it_points_with(codex: &Path) {
    let lmstudio = common::lmstudio::FakeLmStudio::start();
    let oss = format!("http://127.0.0.1:{}/v1", lmstudio.server.port);
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host())
        .env("CODEX_OSS_BASE_URL", oss.clone())
        .env("CODEX_LOCAL_POLL_INTERVAL_MS", "1");
    let doc = ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
        ],
        0,
    );
    assert_eq!(doc["runtime"], "lmstudio");
    assert_eq!(doc["codex"]["provider"], "lmstudio");
    lmstudio.with(|s| s.tool_calls = false);

    let output = codex_exec(&ctx, codex, &[("CODEX_OSS_BASE_URL", oss)], &[]);
    let (_, stderr) = succeeded(&output);
    assert!(stderr.contains("provider: lmstudio"), "{stderr}");
    let requests = lmstudio.requests_to("/v1/responses");
    let request: Value =
        serde_json::from_slice(&requests.get(1).expect("Codex's request").body).expect("JSON");
    assert_eq!(request["model"], "openai/gpt-oss-20b");
}

#[test]
fn codex_sends_lm_studios_token_through_the_provider_init_wrote() {
    for codex in codexes() {
        codex_sends_lm_studios_token_through_the_provider_init_wrote_with(&codex);
    }
}

fn codex_sends_lm_studios_token_through_the_provider_init_wrote_with(codex: &Path) {
    let lmstudio = common::lmstudio::FakeLmStudio::start();
    lmstudio.with(|s| s.token = Some("sk-lm-secret".to_owned()));
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host())
        .env("LM_API_TOKEN", "sk-lm-secret")
        .env("CODEX_LOCAL_POLL_INTERVAL_MS", "1");
    let doc = ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
        ],
        0,
    );
    assert_eq!(doc["codex"]["provider"], "codex-local-lmstudio");
    lmstudio.with(|s| s.tool_calls = false);

    let output = codex_exec(
        &ctx,
        codex,
        &[("LM_API_TOKEN", "sk-lm-secret".to_owned())],
        &[],
    );
    succeeded(&output);
    let requests = lmstudio.requests_to("/v1/responses");
    let codex_request = requests.get(1).expect("Codex's request");
    assert_eq!(
        codex_request.header("authorization"),
        Some("Bearer sk-lm-secret")
    );
}

#[test]
fn codex_started_by_run_in_a_local_mode_repository_uses_the_local_profile() {
    for codex in codexes() {
        codex_started_by_run_in_a_local_mode_repository_uses_the_local_profile_with(&codex);
    }
}

fn codex_started_by_run_in_a_local_mode_repository_uses_the_local_profile_with(codex: &Path) {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    // The default stays on the cloud; only the profile is local.
    ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
            "--profile-only",
        ],
        0,
    );
    ollama.with(|s| s.responses = Responses::TextOnly);
    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    let codex_dir = codex
        .parent()
        .expect("the bin folder")
        .display()
        .to_string();

    let output = ctx
        .command([
            "run",
            "--",
            "exec",
            "--skip-git-repo-check",
            "--strict-config",
            "say hi",
        ])
        .env("PATH", format!("{codex_dir}:/usr/local/bin:/usr/bin:/bin"))
        .current_dir(&repo)
        .output()
        .expect("run");
    let (_, stderr) = succeeded(&output);
    assert!(stderr.contains("provider: codex-local-ollama"), "{stderr}");
    assert_eq!(first_request(&ollama)["model"], "gpt-oss:20b-ctx64k");
}

/// A local-mode repository whose default configuration sends prompts to a fake cloud: the context, the local fake,
/// the cloud fake, the repository and the folder with the real `codex` in it.
fn local_mode_with_a_cloud(
    codex: &std::path::Path,
) -> (TestContext, FakeOllama, FakeOllama, PathBuf, String) {
    let local = FakeOllama::start("0.32.15");
    let cloud = FakeOllama::start("0.32.15");
    cloud.install("gpt-5", 1, None);
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", local.host())
        .env("OPENAI_API_KEY", "sk-test-cloud")
        .env("CODEX_API_KEY", "sk-test-cloud");
    ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
            "--profile-only",
        ],
        0,
    );
    local.with(|s| s.responses = Responses::TextOnly);
    cloud.with(|s| s.responses = Responses::TextOnly);
    ctx.write_config(&format!(
        "model = \"gpt-5\"\nopenai_base_url = \"http://{}/v1\"\ncheck_for_update_on_startup = false\n\
         [analytics]\nenabled = false\n[features]\ndaemon_auto_start = false\n",
        cloud.host()
    ));
    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    let dir = codex
        .parent()
        .expect("the bin folder")
        .display()
        .to_string();
    (ctx, local, cloud, repo, dir)
}

/// `codex-local run -- ARGS` in the repository, with the real Codex on `PATH`.
fn run_in(
    ctx: &TestContext,
    repo: &std::path::Path,
    codex_dir: &str,
    args: &[&str],
) -> std::process::Output {
    let mut full = vec!["run", "--"];
    full.extend_from_slice(args);
    ctx.command(&full)
        .env("PATH", format!("{codex_dir}:/usr/local/bin:/usr/bin:/bin"))
        .current_dir(repo)
        .output()
        .expect("run")
}

#[test]
fn in_local_mode_no_spelling_of_an_escape_reaches_the_cloud() {
    for codex in codexes() {
        in_local_mode_no_spelling_of_an_escape_reaches_the_cloud_with(&codex);
    }
}

#[expect(clippy::too_many_lines, reason = "every spelling, in one list")]
fn in_local_mode_no_spelling_of_an_escape_reaches_the_cloud_with(codex: &Path) {
    let (ctx, local, cloud, repo, codex_dir) = local_mode_with_a_cloud(codex);
    let cloud_base = format!("http://{}/v1", cloud.host());
    let escapes: Vec<Vec<String>> = [
        vec!["-p", "default"],
        vec!["-pdefault"],
        vec!["--profile=default"],
        vec!["-c", "model_provider=\"openai\""],
        vec!["-cmodel_provider=openai"],
        vec!["--config=model_provider=openai"],
        vec!["-c", "'model_provider'=\"openai\""],
        vec!["-c", "profile=\"default\""],
        vec!["--oss"],
        vec!["--oss=true"],
        vec!["--search"],
        vec!["--enable", "apps"],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .chain([
        vec![
            "-c".to_owned(),
            format!("model_providers.codex-local-ollama.base_url=\"{cloud_base}\""),
        ],
        vec!["-c".to_owned(), format!("openai_base_url=\"{cloud_base}\"")],
    ])
    .collect();

    // Started plainly, as outside local mode, Codex does reach the fake cloud: this test can fail.
    Command::new("timeout")
        .arg("60")
        .arg(codex)
        .args(["exec", "--skip-git-repo-check", "say hi"])
        .env_clear()
        .env("HOME", &ctx.home)
        .env("CODEX_HOME", &ctx.codex_home)
        .env("OPENAI_API_KEY", "sk-test-cloud")
        .env("CODEX_API_KEY", "sk-test-cloud")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(&repo)
        .stdin(Stdio::null())
        .output()
        .expect("run codex");
    let before = cloud.server.requests().len();
    assert!(before > 0, "the fake cloud is reachable");

    for escape in &escapes {
        let mut args: Vec<&str> = escape.iter().map(String::as_str).collect();
        args.extend(["exec", "--skip-git-repo-check", "say hi"]);
        let output = run_in(&ctx, &repo, &codex_dir, &args);
        let (_, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{escape:?} is refused: {stderr}"
        );
        assert!(
            stderr.contains("could send prompts elsewhere"),
            "{escape:?}: {stderr}"
        );
    }

    // What stays local still runs, on the local runtime: a prompt after `--` that looks like an option included.
    for args in [
        &[
            "exec",
            "--skip-git-repo-check",
            "--",
            "-c model_provider=openai",
        ][..],
        &[
            "exec",
            "--skip-git-repo-check",
            "-c",
            "model_reasoning_effort=\"low\"",
            "say hi",
        ],
    ] {
        let output = run_in(&ctx, &repo, &codex_dir, args);
        let (_, stderr) = succeeded(&output);
        assert!(
            stderr.contains("provider: codex-local-ollama"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        local.requests_to("/v1/responses").len() >= 3,
        "the local runtime answered"
    );
    assert_eq!(
        cloud.server.requests().len(),
        before,
        "nothing from the local-mode repository reached the cloud"
    );
}

#[test]
fn verify_asks_the_real_codex_and_names_a_key_it_would_ignore() {
    for codex in codexes() {
        verify_asks_the_real_codex_and_names_a_key_it_would_ignore_with(&codex);
    }
}

fn verify_asks_the_real_codex_and_names_a_key_it_would_ignore_with(codex: &Path) {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    ctx.json(
        [
            "init",
            "--yes",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--model",
            "gpt-oss-20b",
        ],
        0,
    );
    std::os::unix::fs::symlink(codex, ctx.bin.join("codex")).expect("put codex on PATH");
    let version = Command::new(codex)
        .arg("--version")
        .output()
        .expect("codex --version");
    let version = String::from_utf8_lossy(&version.stdout)
        .split_whitespace()
        .last()
        .expect("a version")
        .to_owned();

    // What init wrote loads in this Codex without a warning, the profile too.
    for args in [&["verify"][..], &["verify", "--profile", "local"]] {
        let doc = ctx.json(args, 0);
        let check = common::find(&doc["checks"], "name", "codex");
        assert_eq!(
            check["detail"],
            format!("Codex {version} loads the file"),
            "{args:?}"
        );
    }

    let config = ctx.codex_home.join("config.toml");
    let text = read(&config);
    common::write(
        &config,
        &text.replace("[features]", "[features]\nmulti_agent_v9 = false"),
    );
    let doc = ctx.json(["verify"], 1);
    let check = common::find(&doc["checks"], "name", "codex");
    assert_eq!(check["ok"], false);
    assert!(
        check["detail"]
            .as_str()
            .is_some_and(|d| d.contains("would ignore `features.multi_agent_v9`")),
        "{check}"
    );
}
