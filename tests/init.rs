//! `codex-local init`, `verify` and `models` against a fake Ollama: the happy path key by key, idempotence, a
//! dry run, and every way the runtime or the user's files can fail.

mod common;

use common::ollama::{FakeOllama, Pull, Responses};
use common::{TestContext, read, text, toml};
use serde_json::Value;

/// The machine every test plans for: one 18 GiB GPU, 64 GiB of RAM (gpt-oss:20b at 64k fits on the GPU; the
/// better Qwen3.6 27B does not fit there even at 32k).
const MACHINE: [&str; 6] = ["--ram", "64GiB", "--gpu", "18GiB", "--model", "gpt-oss-20b"];

fn context_for(ollama: &FakeOllama) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    ctx
}

fn init_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["init".into()];
    args.extend(MACHINE.iter().map(|s| (*s).to_owned()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn step<'a>(doc: &'a Value, name: &str) -> &'a Value {
    common::find(&doc["steps"], "name", name)
}

fn assert_codex_keys(doc: &toml_edit::DocumentMut, provider: &str, model: &str, context: i64) {
    assert_eq!(doc["model_provider"].as_str(), Some(provider));
    assert_eq!(doc["model"].as_str(), Some(model));
    assert_eq!(doc["model_context_window"].as_integer(), Some(context));
    assert_eq!(
        doc["model_auto_compact_token_limit"].as_integer(),
        Some(context / 10 * 9)
    );
    assert_eq!(doc["web_search"].as_str(), Some("disabled"));
    assert_eq!(doc["agents"]["enabled"].as_bool(), Some(false));
    for feature in ["apps", "plugins", "goals"] {
        assert_eq!(
            doc["features"][feature].as_bool(),
            Some(false),
            "features.{feature}"
        );
    }
    assert!(doc.get("profile").is_none());
    assert!(doc.get("profiles").is_none());
    let providers = doc.get("model_providers").and_then(|p| p.as_table_like());
    assert!(
        providers.is_none_or(|p| !p.contains_key("ollama") && !p.contains_key("lmstudio")),
        "never a reserved provider table"
    );
}

#[test]
#[expect(clippy::too_many_lines, reason = "one story, step by step")]
fn init_pulls_sets_the_context_configures_codex_and_verifies() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&["--yes"]), 0);

    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["runtime"], "ollama");
    assert_eq!(doc["base_model"], "gpt-oss:20b");
    assert_eq!(doc["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(doc["context_length"], 65536);
    assert_eq!(doc["fit"], "gpu");
    assert_eq!(doc["verified"], true);
    for name in ["pull", "context", "load", "configure", "verify"] {
        assert_eq!(step(&doc, name)["status"], "done", "{name}: {doc:#}");
    }
    assert_eq!(doc["codex"]["provider"], "codex-local-ollama");
    assert_eq!(doc["codex"]["default_changed"], true);
    assert_eq!(
        doc["codex"]["backup"],
        Value::Null,
        "there was no file to back up"
    );

    // What was asked of Ollama.
    let pull = &ollama.requests_to("/api/pull")[0];
    let pull: Value = serde_json::from_slice(&pull.body).expect("JSON");
    assert_eq!(pull["model"], "gpt-oss:20b");
    assert_eq!(pull["stream"], true);
    let create: Value =
        serde_json::from_slice(&ollama.requests_to("/api/create")[0].body).expect("JSON");
    assert_eq!(create["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(create["from"], "gpt-oss:20b");
    assert_eq!(create["parameters"]["num_ctx"], 65536);
    let check: Value =
        serde_json::from_slice(&ollama.requests_to("/v1/responses")[0].body).expect("JSON");
    assert_eq!(check["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(check["stream"], true);
    assert_eq!(check["tool_choice"], "auto");
    assert!(
        check["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .all(|t| t["type"] == "function")
    );
    assert!(ollama.paths().contains(&"GET /api/ps".to_owned()));

    // What was written for Codex, key by key.
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_codex_keys(&config, "codex-local-ollama", "gpt-oss:20b-ctx64k", 65536);
    let table = &config["model_providers"]["codex-local-ollama"];
    assert_eq!(
        table["base_url"].as_str(),
        Some(format!("http://127.0.0.1:{}/v1", ollama.server.port).as_str())
    );
    assert_eq!(table["wire_api"].as_str(), Some("responses"));
    assert!(table["name"].as_str().is_some());
    assert!(
        config.get("check_for_update_on_startup").is_none(),
        "privacy keys go to the profile unless --offline"
    );

    let profile = toml(&ctx.codex_home.join("local.config.toml"));
    assert_codex_keys(&profile, "codex-local-ollama", "gpt-oss:20b-ctx64k", 65536);
    assert_eq!(
        profile["check_for_update_on_startup"].as_bool(),
        Some(false)
    );
    assert_eq!(
        profile["openai_base_url"].as_str(),
        Some("http://127.0.0.1:1/v1"),
        "a fall-back to the openai provider stays on this machine"
    );
    assert_eq!(profile["analytics"]["enabled"].as_bool(), Some(false));

    // status shows it.
    let status = ctx.json(["status"], 0);
    assert_eq!(status["codex"]["model_provider"], "codex-local-ollama");
    assert_eq!(status["codex"]["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(status["codex"]["model_context_window"], 65536);
    assert_eq!(status["codex"]["warnings"], serde_json::json!([]));
}

#[test]
fn a_config_with_comments_keeps_every_byte_that_is_not_ours() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    let ctx = context_for(&ollama);
    let before = read(std::path::Path::new(
        "tests/fixtures/config/comments/in.toml",
    ));
    let config = ctx.write_config(&before);

    let doc = ctx.json(init_args(&[]), 0);

    let expected = read(std::path::Path::new(
        "tests/fixtures/config/comments/out.toml",
    ))
    .replace("[PORT]", &ollama.server.port.to_string());
    assert_eq!(read(&config), expected);
    let backup = doc["codex"]["backup"]
        .as_str()
        .expect("a backup of the previous file");
    assert_eq!(read(std::path::Path::new(backup)), before);
    assert!(backup.contains("codex-local/backups/"), "{backup}");
}

#[test]
fn running_init_twice_changes_nothing_the_second_time() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    ctx.json(init_args(&["--yes"]), 0);
    let config = read(&ctx.codex_home.join("config.toml"));
    let profile = read(&ctx.codex_home.join("local.config.toml"));
    let pulls = ollama.requests_to("/api/pull").len();

    let output = ctx.run(init_args(&[]));
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("Nothing changed"), "{stdout}");
    assert!(stderr.contains("already installed"), "{stderr}");
    assert!(stderr.contains("already configured"), "{stderr}");
    assert_eq!(
        ollama.requests_to("/api/pull").len(),
        pulls,
        "no second download"
    );
    assert_eq!(
        ollama.requests_to("/api/create").len(),
        1,
        "the variant is reused"
    );
    assert_eq!(read(&ctx.codex_home.join("config.toml")), config);
    assert_eq!(read(&ctx.codex_home.join("local.config.toml")), profile);
    assert!(
        !ctx.codex_home.join("codex-local/backups").exists(),
        "nothing to back up either time"
    );

    let doc = ctx.json(init_args(&[]), 0);
    assert_eq!(doc["changed"], false);
    assert_eq!(step(&doc, "configure")["status"], "skipped");
    assert_eq!(step(&doc, "pull")["status"], "skipped");
}

#[test]
fn a_dry_run_downloads_and_writes_nothing() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&["--dry-run"]), 0);

    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(step(&doc, "pull")["status"], "planned");
    assert!(
        ollama.paths().iter().all(|p| p.starts_with("GET ")),
        "{:?}",
        ollama.paths()
    );
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);

    // Left to choose, init says why it passed better models over.
    let output = ctx.run(["init", "--dry-run", "--ram", "64GiB", "--gpu", "18GiB"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("passed over  qwen3.6-27b: fits split between GPU and CPU"),
        "{stdout}"
    );
}

#[test]
fn without_a_terminal_a_download_needs_yes() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(init_args(&[]));
    assert!(stderr.contains("needs your consent"), "{stderr}");
    assert!(
        stderr.contains("hint: run it again with `--yes`"),
        "{stderr}"
    );
    assert!(ollama.requests_to("/api/pull").is_empty());
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);
}

fn failed_pull(pull: Pull) -> (String, TestContext, FakeOllama) {
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|s| s.pull = pull);
    let ctx = context_for(&ollama);
    ctx.write_config("model = \"mine\"\n");
    let output = ctx.run(init_args(&["--yes"]));
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        read(&ctx.codex_home.join("config.toml")),
        "model = \"mine\"\n",
        "config untouched"
    );
    assert!(!ctx.codex_home.join("local.config.toml").exists());
    (stderr, ctx, ollama)
}

#[test]
fn an_error_line_in_the_pull_stream_stops_init() {
    let (stderr, _, _) = failed_pull(Pull::ErrorLine(
        "pull model manifest: file does not exist".into(),
    ));
    assert!(
        stderr.contains(
            "error: Ollama could not pull `gpt-oss:20b`: pull model manifest: file does not exist"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: check the model's name"), "{stderr}");
}

#[test]
fn an_http_error_before_the_pull_stream_stops_init() {
    let (stderr, _, _) = failed_pull(Pull::HttpError(500, "no space left on device".into()));
    assert!(
        stderr.contains("could not pull `gpt-oss:20b`: no space left on device"),
        "{stderr}"
    );
}

#[test]
fn a_dropped_download_says_that_running_again_resumes() {
    let (stderr, ctx, ollama) = failed_pull(Pull::Drop);
    assert!(
        stderr.contains("dropped before pulling `gpt-oss:20b` finished"),
        "{stderr}"
    );
    assert!(stderr.contains("resumes the download"), "{stderr}");

    // Running again resumes: the pull is asked for again and init completes.
    ollama.with(|s| s.pull = Pull::Succeed { progress_lines: 6 });
    let doc = ctx.json(init_args(&["--yes"]), 0);
    assert_eq!(doc["verified"], true);
    assert_eq!(ollama.requests_to("/api/pull").len(), 2);
}

#[test]
fn ctrl_c_during_a_pull_stops_cleanly() {
    use std::io::{BufRead, BufReader};
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|s| s.pull = Pull::Hang);
    let ctx = context_for(&ollama);
    let mut child = ctx
        .command(init_args(&["--yes"]))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start init");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    // Wait for init to report the pull under way, then interrupt it as a user would.
    while !seen.contains("pulling manifest") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read stderr") > 0,
            "init ended early: {seen}"
        );
        seen.push_str(&line);
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "Ctrl-C exits 130: {seen}{rest}");
    assert!(
        rest.contains("Interrupted while pulling `gpt-oss:20b`"),
        "{rest}"
    );
    assert!(rest.contains("resumes the download"), "{rest}");
    assert_eq!(
        std::fs::read_dir(&ctx.codex_home).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn an_unparsable_config_is_refused_before_anything_happens() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let broken = "model_provider = ollama\n";
    let config = ctx.write_config(broken);

    let stderr = ctx.fails(init_args(&["--yes"]));
    assert!(
        stderr.contains("is not valid TOML (line 1, column 18)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("never rewrites a file it cannot parse"),
        "{stderr}"
    );
    assert_eq!(read(&config), broken);
    assert!(
        ollama.requests_to("/api/pull").is_empty(),
        "nothing downloaded"
    );
}

#[test]
fn tables_codex_refuses_are_removed_only_with_consent() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    let ctx = context_for(&ollama);
    let before = "profile = \"old\"\n\n[model_providers.ollama]\nbase_url = \"http://localhost:11434/v1\"\n\n\
                  [profiles.old]\nmodel = \"gpt-5\"\n";
    let config = ctx.write_config(before);

    let stderr = ctx.fails(init_args(&[]));
    assert!(
        stderr.contains("`[model_providers.ollama]` table"),
        "{stderr}"
    );
    assert!(stderr.contains("top-level `profile`"), "{stderr}");
    assert!(stderr.contains("`[profiles.*]` tables"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(read(&config), before, "nothing changed without consent");

    let doc = ctx.json(init_args(&["--yes"]), 0);
    let after = toml(&config);
    assert!(after.get("profile").is_none());
    assert!(after.get("profiles").is_none());
    assert!(after["model_providers"].get("ollama").is_none());
    let moved = toml(&ctx.codex_home.join("old.config.toml"));
    assert_eq!(
        moved["model"].as_str(),
        Some("gpt-5"),
        "the old profile lives on as a profile file"
    );
    assert_eq!(
        read(std::path::Path::new(
            doc["codex"]["backup"].as_str().expect("backup")
        )),
        before
    );
}

#[test]
fn a_model_without_tools_is_refused_with_its_reason() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    ollama.with(|s| s.responses = Responses::NoTools);
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(init_args(&[]));
    assert!(
        stderr.contains("cannot call tools, so it cannot drive Codex"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: choose a model that calls tools"),
        "{stderr}"
    );
}

#[test]
fn an_ollama_too_old_for_codex_is_refused_before_anything_happens() {
    let ollama = FakeOllama::start("0.13.3");
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(init_args(&["--yes"]));
    assert!(stderr.contains("Ollama 0.13.3 at `"), "{stderr}");
    assert!(
        stderr.contains("needs its `/v1/responses` endpoint (Ollama 0.13.4 and later)"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: update Ollama"), "{stderr}");
    assert!(ollama.requests_to("/api/pull").is_empty());
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);

    let doc = ctx.json(init_args(&["--dry-run"]), 0);
    assert!(
        doc["warnings"].to_string().contains("too old"),
        "a dry run warns"
    );
}

#[test]
fn a_server_without_the_responses_api_is_named() {
    // A current Ollama behind a proxy that does not pass `/v1/` on.
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::Missing);
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(init_args(&[]));
    assert!(
        stderr.contains("has no `/v1/responses` endpoint"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Ollama 0.32.15 has `/v1/responses`, so something in front of it"),
        "{stderr}"
    );
}

#[test]
fn offline_mode_downloads_nothing() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let stderr = ctx.fails([
        "init",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--offline",
        "--yes",
        "--model",
        "gpt-oss:20b",
    ]);
    assert!(
        stderr.contains("`gpt-oss:20b` is not installed, and offline mode downloads nothing"),
        "{stderr}"
    );

    let offline = ["init", "--ram", "64GiB", "--gpu", "18GiB", "--offline"];
    let output = ctx.run([&offline[..], &["--yes"]].concat());
    assert_eq!(
        output.status.code(),
        Some(1),
        "nothing installed to choose from"
    );
    assert!(ollama.requests_to("/api/pull").is_empty());

    ollama.install("qwen3-coder:30b", 18_556_700_761, None);
    let doc = ctx.json(offline, 0);
    assert_eq!(
        doc["base_model"], "qwen3-coder:30b",
        "the installed model, though a better one fits"
    );
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["check_for_update_on_startup"].as_bool(), Some(false));
    assert_eq!(config["analytics"]["enabled"].as_bool(), Some(false));
    assert_eq!(ctx.json(["verify", "--offline"], 0)["ok"], true);
}

#[test]
fn a_model_that_never_answers_times_out() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::Hang);
    let mut ctx = context_for(&ollama);
    ctx.env("CODEX_LOCAL_VERIFY_TIMEOUT_S", "1");

    let stderr = ctx.fails(init_args(&[]));
    assert!(
        stderr.contains("`gpt-oss:20b` did not answer within 1 s"),
        "{stderr}"
    );
}

#[test]
fn a_model_that_answers_without_calling_the_tool_fails_verification() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::TextOnly);
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&[]), 1);

    let message = doc["error"]["message"].as_str().expect("an error document");
    assert_eq!(
        message,
        "`gpt-oss:20b` answered but did not call the tool it was offered"
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .expect("a hint")
            .contains("--model")
    );
    assert!(
        doc.get("steps").is_none(),
        "one document on stdout, the error"
    );
    // Only a configuration that was proven to work is written.
    assert!(!ctx.codex_home.join("config.toml").exists());
    assert!(!ctx.codex_home.join("local.config.toml").exists());
}

#[test]
fn what_the_server_really_serves_is_what_codex_is_told() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    ollama.with(|s| {
        s.ctx_cap = Some(40_960);
        s.vram_percent = 70;
    });
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&[]), 0);

    assert_eq!(doc["served"]["context_length"], 40960);
    assert_eq!(doc["served"]["gpu_percent"], 70);
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("only 40960 tokens"), "{warnings}");
    assert!(
        warnings.contains("70% of `gpt-oss:20b-ctx64k` fits in GPU memory"),
        "{warnings}"
    );
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model_context_window"].as_integer(), Some(40960));
}

#[test]
fn a_model_that_already_carries_the_context_needs_no_variant() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&[]), 0);

    assert_eq!(doc["model"], "gpt-oss:20b");
    assert_eq!(step(&doc, "context")["status"], "skipped");
    assert!(ollama.requests_to("/api/create").is_empty());
}

#[test]
fn profile_only_leaves_the_default_alone() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");

    let doc = ctx.json(init_args(&["--profile-only", "--profile", "offline"]), 0);

    assert_eq!(doc["codex"]["default_changed"], false);
    assert_eq!(read(&config), "model = \"gpt-5\"\n");
    let profile = toml(&ctx.codex_home.join("offline.config.toml"));
    assert_codex_keys(&profile, "codex-local-ollama", "gpt-oss:20b-ctx64k", 65536);
}

#[test]
fn init_without_a_runtime_says_how_to_start_one() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let stderr = ctx.fails(init_args(&["--yes"]));
    assert!(stderr.contains("No model runtime is running"), "{stderr}");
    assert!(stderr.contains("ollama serve"), "{stderr}");

    let doc = ctx.json(init_args(&["--dry-run"]), 0);
    assert_eq!(doc["base_model"], "gpt-oss:20b");
    assert!(doc["warnings"].to_string().contains("not running"));
}

#[test]
fn verify_checks_what_is_configured() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    ctx.json(init_args(&["--yes"]), 0);

    let doc = ctx.json(["verify"], 0);
    assert_eq!(doc["ok"], true, "{doc:#}");
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["provider", "context", "runtime", "model", "request"]
    );

    let doc = ctx.json(["verify", "--profile", "local", "--offline"], 0);
    assert_eq!(doc["ok"], true, "the profile has the privacy keys: {doc:#}");

    let doc = ctx.json(["verify", "--offline"], 1);
    assert!(
        doc["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["name"] == "privacy" && c["ok"] == false)
    );

    ollama.with(|s| s.responses = Responses::TextOnly);
    let doc = ctx.json(["verify"], 1);
    assert_eq!(doc["ok"], false);
    let request = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "request")
        .expect("request check");
    assert!(
        request["detail"]
            .as_str()
            .expect("detail")
            .contains("did not call the tool")
    );
}

#[test]
fn verify_without_a_configuration_says_so() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let doc = ctx.json(["verify"], 1);
    assert!(
        doc["checks"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("run `codex-local init`")
    );
    ctx.write_config("model = \"gpt-5\"\n");
    let doc = ctx.json(["verify"], 1);
    assert!(
        doc["checks"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("not a local runtime"),
        "{doc:#}"
    );
}

#[test]
fn models_lists_the_catalog_for_the_machine() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("qwen3-coder:30b", 18_556_700_761, None);
    let ctx = context_for(&ollama);

    let doc = ctx.json(["models", "--ram", "64GiB", "--gpu", "18GiB"], 0);

    assert_eq!(doc["context_length"], 65536);
    assert_eq!(doc["recommended"], "qwen3.6-35b-a3b");
    assert_eq!(doc["hardware"]["source"], "described");
    let models = doc["models"].as_array().expect("models");
    assert!(models.len() >= 8);
    let first = &models[0];
    for key in [
        "id",
        "ollama",
        "lmstudio",
        "size_bytes",
        "need_bytes",
        "fit",
        "tools",
    ] {
        assert!(first.get(key).is_some(), "{key} in {first:#}");
    }
    let qwen = models
        .iter()
        .find(|m| m["id"] == "qwen3-coder-30b")
        .expect("qwen3-coder");
    assert_eq!(qwen["installed"], serde_json::json!(["ollama"]));
    assert_eq!(qwen["fit"], "split");

    let output = ctx.run(["models", "--ram", "64GiB", "--gpu", "18GiB"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.lines().any(|l| l.starts_with("  * qwen3.6-35b-a3b")),
        "{stdout}"
    );

    let mut bad = TestContext::new();
    bad.no_runtimes();
    let catalog = bad.write_codex_file("bad.toml", "schema_version = 1\n[[models]]\nid = 3\n");
    let output = bad.run(["models", "--catalog", catalog.to_str().expect("path")]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("bad.toml`, line 3, column 6"), "{stderr}");
}

#[test]
fn a_default_context_too_large_to_fit_is_capped_with_a_variant() {
    // Ollama gives 262,144 tokens by default on 47 GiB of VRAM or more; Devstral Small 2 at that context needs
    // about 55 GiB and would spill onto the CPU of a 48 GiB card.
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("devstral-small-2:24b", 15_000_000_000, None);
    ollama.with(|s| {
        s.trained_ctx = 262_144;
        s.default_ctx = 262_144;
    });
    let ctx = context_for(&ollama);

    let doc = ctx.json(
        [
            "init",
            "--ram",
            "64GiB",
            "--gpu",
            "48GiB",
            "--model",
            "devstral-small-2",
        ],
        0,
    );

    assert_eq!(doc["model"], "devstral-small-2:24b-ctx64k");
    let detail = step(&doc, "context")["detail"].as_str().expect("detail");
    assert!(detail.contains("262144 tokens, more than fits"), "{detail}");
    let create: Value =
        serde_json::from_slice(&ollama.requests_to("/api/create")[0].body).expect("JSON");
    assert_eq!(create["parameters"]["num_ctx"], 65536);

    // A model that fits at the larger default keeps it, and Codex is told the larger window.
    let roomy = FakeOllama::start("0.32.15");
    roomy.install("gpt-oss:20b", 13_793_441_244, None);
    roomy.with(|s| s.default_ctx = 131_072);
    let ctx = context_for(&roomy);
    let doc = ctx.json(
        [
            "init",
            "--ram",
            "64GiB",
            "--gpu",
            "48GiB",
            "--model",
            "gpt-oss:20b",
        ],
        0,
    );
    assert_eq!(doc["model"], "gpt-oss:20b");
    assert!(roomy.requests_to("/api/create").is_empty());
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model_context_window"].as_integer(), Some(131_072));
}

/// Runs init on a pseudo-terminal (util-linux `script`), typing `answer` at its question.
fn init_on_a_terminal(ctx: &TestContext, ollama: &FakeOllama, answer: &str) -> (i32, String) {
    use std::io::Write as _;
    let command = format!(
        "env -i HOME={home} CODEX_HOME={codex} PATH=/usr/bin:/bin NO_COLOR=1 OLLAMA_HOST={host} \
         LMSTUDIO_HOST=127.0.0.1:{closed} {bin} init --ram 64GiB --gpu 18GiB --model gpt-oss-20b",
        home = ctx.home.display(),
        codex = ctx.codex_home.display(),
        host = ollama.host(),
        closed = common::fake::closed_port(),
        bin = env!("CARGO_BIN_EXE_codex-local"),
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the program on a terminal");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn on_a_terminal_init_asks_before_downloading() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let (code, screen) = init_on_a_terminal(&ctx, &ollama, "n\n");
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("Download `gpt-oss:20b` (12.8 GiB)? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("was not downloaded, and nothing was changed"),
        "{screen}"
    );
    assert!(ollama.requests_to("/api/pull").is_empty());

    let (code, screen) = init_on_a_terminal(&ctx, &ollama, "y\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(ollama.requests_to("/api/pull").len(), 1);
    assert!(screen.contains("Ready."), "{screen}");
}

#[test]
fn a_machine_too_small_for_any_model_is_told_so() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(["init", "--yes", "--ram", "4GiB"]);

    assert!(
        stderr
            .contains("No catalog model fits this machine (no usable GPU, RAM 2.0 GiB available)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: this machine has too little memory for a coding model: the smallest, `qwen3.5-4b`, needs 5.0 GiB \
             at 32k"
        ),
        "{stderr}"
    );
    assert!(ollama.requests_to("/api/pull").is_empty());
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);
}

#[test]
fn a_runtime_asked_for_but_not_running_is_named() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);

    let stderr = ctx.fails(init_args(&["--yes", "--runtime", "lmstudio"]));

    assert!(
        stderr.contains("LM Studio is not running at `http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        stderr.contains("hint: open LM Studio and run `lms server start`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);
}

#[test]
fn a_missing_catalog_file_is_named() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let missing = ctx.dir.path().join("no-such-catalog.toml");

    let stderr = ctx.fails(init_args(&["--catalog", missing.to_str().expect("path")]));

    assert!(stderr.contains("Cannot read the catalog `"), "{stderr}");
    assert!(stderr.contains("no-such-catalog.toml`"), "{stderr}");
    assert!(
        stderr.contains("hint: check the path given to `--catalog`"),
        "{stderr}"
    );
}

#[test]
fn verify_names_a_runtime_that_is_down_and_a_model_that_is_gone() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    ctx.json(init_args(&["--yes"]), 0);

    // The model is removed from Ollama.
    ollama.with(|s| s.installed.clear());
    let doc = ctx.json(["verify"], 1);
    let check = common::find(&doc["checks"], "name", "model");
    assert_eq!(check["ok"], false);
    assert!(
        check["detail"]
            .as_str()
            .expect("detail")
            .contains("is not installed"),
        "{check}"
    );
    assert!(
        doc["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["name"] != "request"),
        "no request after that"
    );

    // Codex's provider points at a port where nothing listens.
    let config = ctx.codex_home.join("config.toml");
    let dead = read(&config).replace(
        &format!(":{}/v1", ollama.server.port),
        &format!(":{}/v1", common::fake::closed_port()),
    );
    ctx.write_config(&dead);
    let doc = ctx.json(["verify"], 1);
    let check = common::find(&doc["checks"], "name", "runtime");
    assert_eq!(check["ok"], false);
    assert!(
        check["detail"]
            .as_str()
            .expect("detail")
            .contains("connection refused"),
        "{check}"
    );
}

/// A context whose `ollama` is installed (a stand-in on `PATH`) but not running at a free port. When the stand-in
/// is started with `serve`, it reports the address it was told to listen on through a FIFO, and a fake Ollama
/// starts there, as the real one would.
fn installed_but_down() -> (TestContext, std::sync::mpsc::Receiver<(String, FakeOllama)>) {
    let port = common::fake::closed_port();
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", format!("127.0.0.1:{port}"));
    let fifo = ctx.dir.path().join("started");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    ctx.write_tool(
        "ollama",
        &format!(
            "#!/bin/sh\n[ \"$1\" = serve ] || exit 2\necho \"$OLLAMA_HOST\" > '{}'\n",
            fifo.display()
        ),
    );
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let told = std::fs::read_to_string(&fifo).expect("read the FIFO");
        let ollama = FakeOllama::start_at("0.32.15", port);
        let _ = send.send((told.trim().to_owned(), ollama));
    });
    (ctx, receive)
}

#[test]
fn init_starts_an_installed_ollama_that_is_not_running_when_allowed() {
    let (ctx, started) = installed_but_down();

    let output = ctx.run(init_args(&["--yes"]));
    let (stdout, stderr) = common::text(&output);

    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let (told, ollama) = started.try_recv().expect("`ollama serve` was started");
    let port = told.rsplit(':').next().expect("a port");
    assert_eq!(
        told,
        format!("127.0.0.1:{port}"),
        "it listens where codex-local looks"
    );
    assert!(
        stderr.contains("Starting Ollama (`ollama serve`)"),
        "{stderr}"
    );
    assert_eq!(ollama.requests_to("/api/pull").len(), 1);
    let doc = common::toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(doc["model_provider"].as_str(), Some("codex-local-ollama"));
    let log = ctx.codex_home.join("codex-local").join("ollama.log");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&log)
            .expect("its output goes to a log")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the log is private");
}

#[test]
fn without_a_terminal_or_yes_init_does_not_start_a_runtime() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let marker = ctx.dir.path().join("ran");
    ctx.write_tool(
        "ollama",
        &format!("#!/bin/sh\ntouch '{}'\n", marker.display()),
    );

    let stderr = ctx.fails(init_args(&[]));

    assert!(stderr.contains("No model runtime is running"), "{stderr}");
    assert!(
        stderr.contains("Ollama is installed: `codex-local init --yes` starts it"),
        "{stderr}"
    );
    assert!(!marker.exists(), "nothing was started without consent");
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);
}

#[test]
fn a_runtime_that_is_not_installed_gets_install_instructions() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let stderr = ctx.fails(init_args(&["--yes"]));

    assert!(
        stderr.contains("Ollama is not installed: install it with"),
        "{stderr}"
    );
    assert!(
        stderr.contains("LM Studio is not installed: install it with"),
        "{stderr}"
    );
}

#[test]
fn a_started_runtime_that_never_answers_is_named_with_its_log() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.write_tool(
        "ollama",
        "#!/bin/sh\necho 'Error: listen failed' >&2\nexit 1\n",
    );

    let stderr = ctx.fails(init_args(&["--yes"]));

    assert!(
        stderr.contains("Started Ollama (`ollama serve`), but it stopped (exit status: 1) before answering at `http://127.0.0.1:"),
        "{stderr}"
    );
    let log = ctx.codex_home.join("codex-local").join("ollama.log");
    assert!(stderr.contains("ollama.log"), "{stderr}");
    assert!(common::read(&log).contains("Error: listen failed"));
}

#[test]
fn every_machine_from_8_gib_up_gets_a_model_and_the_table_says_at_which_context() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    // 8 GiB of RAM, no GPU: a small model at 32k, on the CPU.
    let doc = ctx.json(["models", "--ram", "8GiB"], 0);
    assert_eq!(doc["recommended"], "qwen3.5-4b");
    assert_eq!(doc["recommended_context"], 32_768);
    let row = common::find(&doc["models"], "id", "qwen3.5-4b");
    assert_eq!(row["fit"], "cpu");
    assert_eq!(
        row["context_length"], 32_768,
        "the row is sized where it fits"
    );

    // 4 GiB: nothing, and what the smallest needs.
    let doc = ctx.json(["models", "--ram", "4GiB"], 0);
    assert_eq!(doc["recommended"], Value::Null);
    assert_eq!(doc["smallest"]["id"], "qwen3.5-4b");
    let output = ctx.run(["models", "--ram", "4GiB"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains(
            "No catalog model fits this machine. The smallest, `qwen3.5-4b`, needs 5.0 GiB at 32k"
        ),
        "{stdout}"
    );

    // 20 GiB of VRAM: the best model fits below 64k, and the table says where.
    let output = ctx.run(["models", "--ram", "2GiB", "--gpu", "20GiB", "-v"]);
    let (stdout, _) = text(&output);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("  * qwen3.6-27b"))
        .unwrap_or_else(|| panic!("qwen3.6-27b recommended:\n{stdout}"));
    assert!(line.contains("gpu@"), "{line}");
    assert!(
        stdout.contains(
            "ranked by SWE-bench Verified 77.2 (Qwen's own scaffold, the maker's own number)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "no SWE-bench Verified score (it has 23.4 on LiveCodeBench (2407-2411)): ranked after the models that \
             have one, newest first, released 2024-11"
        ),
        "{stdout}"
    );
}

#[test]
fn the_plan_says_what_was_traded_between_quality_and_context() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let doc = ctx.json(["init", "--dry-run", "--ram", "2GiB", "--gpu", "20GiB"], 0);

    assert_eq!(doc["base_model"], "qwen3.6:27b");
    let context = doc["context_length"].as_u64().expect("a context");
    assert!((32_768..65_536).contains(&context), "{context}");
    let why = doc["why"].as_str().expect("why");
    assert!(
        why.contains("rather than `gpt-oss-20b` at 64k: better by 16.5 points on SWE-bench Verified (77.2 against 60.7)"),
        "{why}"
    );
}

#[test]
fn a_catalog_with_contradictory_numbers_is_refused_naming_the_entry_and_field() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let builtin = read(std::path::Path::new("models.toml"));
    for (from, to, field) in [
        (
            "params_total_b = 27.8\nparams_active_b = 27.8",
            "params_total_b = 27.8\nparams_active_b = 30.0",
            "params_active_b",
        ),
        (
            "size_bytes = 17_420_432_739",
            "size_bytes = 174_204_327_390",
            "size_bytes",
        ),
        ("score = 77.2", "score = 772", "score"),
        ("ollama = \"qwen3.6:27b\"", "ollama = \"\"", "ollama"),
        ("id = \"qwen3.6-27b\"", "id = \"qwen3.6 27b\"", "id"),
        (
            "kv = { full_layers = 16, kv_heads = 4,",
            "kv = { full_layers = 65536, kv_heads = 65536,",
            "kv",
        ),
        (
            "key_length = 256, value_length = 256, sliding_layers = 0, sliding_window = 0, state_bytes = 157_286_400",
            "key_length = 0, value_length = 0, sliding_layers = 0, sliding_window = 0, state_bytes = 157_286_400",
            "kv",
        ),
        (
            "params_total_b = 27.8\nparams_active_b = 27.8",
            "params_total_b = 27.8\nparams_active_b = 0.0001",
            "params_active_b",
        ),
        (
            "score_source = \"Qwen3.6-27B model card (as listed on models.dev)\"",
            "score_source = \"\"",
            "score_source",
        ),
    ] {
        let catalog = ctx.write_codex_file("mine.toml", &builtin.replacen(from, to, 1));
        let stderr = ctx.fails(["models", "--catalog", catalog.to_str().expect("path")]);
        assert!(
            stderr.contains("model `qwen3.6") && stderr.contains(&format!("`, field `{field}`")),
            "{field}: {stderr}"
        );
    }
}

#[test]
fn speed_is_estimated_before_the_pull_from_the_gpu_table_and_used_in_the_choice() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    // A product name brings its memory and bandwidth.
    let doc = ctx.json(["models", "--ram", "64GiB", "--gpu", "RTX 4090"], 0);
    assert_eq!(doc["hardware"]["gpus"][0]["name"], "RTX 4090");
    assert_eq!(doc["recommended"], "qwen3.6-27b");
    let row = common::find(&doc["models"], "id", "qwen3.6-27b");
    let decode = row["decode_tps"].as_f64().expect("decode_tps");
    let prefill = row["prefill_tps"].as_f64().expect("prefill_tps");
    assert!((10.0..100.0).contains(&decode), "{row}");
    assert!(prefill > 500.0, "{row}");
    assert_eq!(row["speed_guessed"], false);
    let too_big = common::find(&doc["models"], "id", "gpt-oss-120b");
    assert_eq!(too_big["fit"], "split");

    // init's plan carries the estimate.
    let plan = ctx.json(
        ["init", "--dry-run", "--ram", "64GiB", "--gpu", "RTX 4090"],
        0,
    );
    assert_eq!(plan["decode_tps"], row["decode_tps"]);
    assert!(
        plan["speed_basis"]
            .as_str()
            .is_some_and(|b| b.contains("RTX 4090: 1008 GB/s")),
        "{plan}"
    );

    // On a CPU, a model below the usable speed is passed over for a faster one, and says so; a lower floor lets it
    // through.
    let plan = ctx.json(["init", "--dry-run", "--ram", "64GiB"], 0);
    let slow = common::find(&plan["passed_over"], "id", "qwen3.6-27b");
    assert!(
        slow["reason"]
            .as_str()
            .is_some_and(|r| r.contains("below the usable 10 (`--min-speed`)")),
        "{plan}"
    );
    let plan = ctx.json(
        ["init", "--dry-run", "--ram", "64GiB", "--min-speed", "1"],
        0,
    );
    assert_eq!(plan["base_model"], "qwen3.6:27b");

    // A vendor and a size still work, with the bandwidth marked as a guess.
    let doc = ctx.json(["models", "--ram", "64GiB", "--gpu", "nvidia:24GiB"], 0);
    let row = common::find(&doc["models"], "id", "qwen3.6-27b");
    assert_eq!(row["speed_guessed"], true);
}

#[test]
fn an_unknown_gpu_name_or_speed_is_a_usage_error_with_close_names() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let output = ctx.run(["models", "--ram", "64GiB", "--gpu", "RTX 4900"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`--gpu RTX 4900` is not a GPU codex-local knows (close: `RTX 4090`"),
        "{stderr}"
    );
    let doc = ctx.json(["models", "--ram", "64GiB", "--gpu", "Apple M9 Max"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Apple M")),
        "{doc}"
    );
    for (gpu, says) in [
        ("NVIDIA GeForce RTX 3080 Laptop GPU", "is a laptop GPU"),
        ("nvidia:1B", "less than 1 GiB"),
        ("RTX 4090 RTX 3090", "is not a GPU codex-local knows"),
        ("RX 9070 GRE", "is not a GPU codex-local knows"),
    ] {
        let output = ctx.run(["models", "--ram", "64GiB", "--gpu", gpu]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{gpu}: {stderr}");
        assert!(stderr.contains(says), "{gpu}: {stderr}");
    }
    let output = ctx.run([
        "models",
        "--ram",
        "64GiB",
        "--gpu",
        "Apple M3 Max",
        "--gpu",
        "RTX 4090",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an Apple chip is the machine's only GPU"
    );
    for bad in ["0", "fast", "-3"] {
        let output = ctx.run(["models", "--min-speed", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn speed_is_measured_on_the_verification_and_kept_for_status() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|s| s.token_pace = Some(std::time::Duration::from_millis(20)));
    let ctx = context_for(&ollama);

    let doc = ctx.json(init_args(&["--yes"]), 0);

    let measured = &doc["measured"];
    let decode = measured["decode_tps"].as_f64().expect("decode_tps");
    // 10 tokens after the first, over 5 gaps of 20 ms: about 100 tokens/s (a loaded machine may deliver two pieces
    // at once, so only the order of magnitude is checked).
    assert!((5.0..=10_000.0).contains(&decode), "{measured}");
    assert!(
        measured["ttft_ms"].as_u64().expect("ttft_ms") >= 40,
        "{measured}"
    );
    assert!(
        measured["prefill_tps"].as_f64().expect("prefill_tps") <= 4_500.0,
        "{measured}"
    );
    assert_eq!(measured["output_tokens"], 11);
    let estimated = doc["decode_tps"].as_f64().expect("an estimate");

    let status = ctx.json(["status"], 0);
    let kept = &status["codex"]["measured"];
    assert_eq!(kept["model"], "gpt-oss:20b-ctx64k");
    assert_eq!(
        kept["decode_tps"].as_f64(),
        Some((decode * 10.0).round() / 10.0)
    );
    assert_eq!(kept["estimated_decode_tps"].as_f64(), Some(estimated));
    let output = ctx.run(["status"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains(&format!("tokens/s written (estimated {estimated})")),
        "{stdout}"
    );

    // verify measures again, and keeps the estimate init made.
    let doc = ctx.json(["verify"], 0);
    assert!(doc["measured"]["decode_tps"].as_f64().is_some(), "{doc}");
    let output = ctx.run(["verify"]);
    let (stdout, _) = text(&output);
    assert!(stdout.contains("speed     measured"), "{stdout}");
    assert!(
        stdout.contains(&format!("(estimated {estimated})")),
        "{stdout}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(ctx.codex_home.join("codex-local/measured.json"))
            .expect("kept")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn chips_that_share_ram_with_a_fast_gpu_count_as_gpus() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    for chip in ["DGX Spark", "Ryzen AI Max+ 395", "Apple M4 Max"] {
        let doc = ctx.json(["models", "--ram", "128GiB", "--gpu", chip], 0);
        let recommended = doc["recommended"].as_str().expect("a model");
        let row = common::find(&doc["models"], "id", recommended);
        assert_eq!(row["fit"], "gpu", "{chip}: {row}");
        assert!(
            !doc["budget"]
                .as_str()
                .unwrap_or("")
                .contains("no usable GPU"),
            "{chip}: {doc}"
        );
    }
}
