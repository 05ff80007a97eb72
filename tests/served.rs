//! The context stays served after init: `run` puts back what a restart, an unload or a removal undid (an Ollama
//! variant made again, an LM Studio model loaded again with its context) at the cost of one request when all is
//! right; `status` and `verify` say when the runtime serves less than Codex is told, with the command that fixes it.

mod common;

use std::path::{Path, PathBuf};

use common::lmstudio::{FakeLmStudio, Instance};
use common::ollama::FakeOllama;
use common::{TestContext, text};
use serde_json::Value;

const BASE: &str = "gpt-oss:20b";
const VARIANT: &str = "gpt-oss:20b-ctx64k";
const LMS_KEY: &str = "openai/gpt-oss-20b";
const SIZE: u64 = 13_793_441_244;

/// A fake `codex` that writes its arguments to `codex-args` and exits with 7.
fn with_fake_codex(ctx: &mut TestContext) {
    let args_file = ctx.dir.path().join("codex-args");
    ctx.env("CODEX_ARGS_FILE", args_file.display().to_string());
    ctx.write_tool(
        "codex",
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$CODEX_ARGS_FILE\"\nexit 7\n",
    );
}

fn codex_ran(ctx: &TestContext) -> bool {
    ctx.dir.path().join("codex-args").exists()
}

/// The keys init writes for a model on a runtime at `port`.
fn selection(provider: &str, port: u16, model: &str) -> String {
    format!(
        "model_provider = \"codex-local-{provider}\"\nmodel = \"{model}\"\nmodel_context_window = 65536\n\n\
         [model_providers.codex-local-{provider}]\nname = \"{provider}\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\n\
         wire_api = \"responses\"\n"
    )
}

/// Codex set up (in config.toml) for `VARIANT` on `ollama`.
fn ollama_context(ollama: &FakeOllama) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    with_fake_codex(&mut ctx);
    ctx.write_config(&selection("ollama", ollama.server.port, VARIANT));
    ctx
}

/// Codex set up (in config.toml) for `LMS_KEY` on `lmstudio`, which has it on disk.
fn lmstudio_context(lmstudio: &FakeLmStudio) -> TestContext {
    lmstudio.with(|state| state.downloaded.push((LMS_KEY.to_owned(), SIZE)));
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host());
    with_fake_codex(&mut ctx);
    ctx.write_config(&selection("lmstudio", lmstudio.server.port, LMS_KEY));
    ctx
}

/// A repository in local mode whose `local` profile holds `profile_text`.
fn local_mode_repo(ctx: &TestContext, profile_text: &str) -> PathBuf {
    ctx.write_codex_file("local.config.toml", profile_text);
    let repo = ctx.dir.path().join("secret-project");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    repo
}

fn run_in(ctx: &TestContext, dir: &Path) -> (i32, String) {
    let output = ctx
        .command(["run", "--", "exec", "say hi"])
        .current_dir(dir)
        .output()
        .expect("run codex-local");
    (output.status.code().unwrap_or(-1), text(&output).1)
}

fn creates(ollama: &FakeOllama) -> Vec<Value> {
    ollama
        .requests_to("/api/create")
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .collect()
}

#[test]
fn run_makes_a_removed_ollama_variant_again_then_costs_one_request() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(BASE, SIZE, None);
    let ctx = ollama_context(&ollama);
    let repo = local_mode_repo(&ctx, &selection("ollama", ollama.server.port, VARIANT));

    let (code, stderr) = run_in(&ctx, &repo);

    assert_eq!(code, 7, "Codex ran: {stderr}");
    assert!(
        stderr.contains(
            "codex-local: `gpt-oss:20b-ctx64k` was missing: made it again from `gpt-oss:20b` with num_ctx 65536"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    let made = creates(&ollama);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["model"], VARIANT);
    assert_eq!(made[0]["from"], BASE);
    assert_eq!(made[0]["parameters"]["num_ctx"], 65_536);
    assert_eq!(ollama.has(VARIANT).and_then(|m| m.num_ctx), Some(65_536));

    // All is right now: one `show` of the model beyond the probe, nothing made, nothing said.
    let before = ollama.paths().len();
    let (code, stderr) = run_in(&ctx, &repo);
    assert_eq!(code, 7, "{stderr}");
    assert_eq!(stderr, "");
    let after: Vec<String> = ollama.paths().split_off(before);
    assert_eq!(
        after
            .iter()
            .filter(|p| p.as_str() == "POST /api/show")
            .count(),
        1,
        "{after:?}"
    );
    assert_eq!(creates(&ollama).len(), 1, "nothing made the second time");
    assert!(
        after
            .iter()
            .all(|p| p.starts_with("GET ") || p == "POST /api/show"),
        "only reads: {after:?}"
    );
}

#[test]
fn run_makes_again_a_variant_that_carries_a_shorter_context() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(BASE, SIZE, None);
    ollama.install(VARIANT, SIZE, Some(4096));
    let ctx = ollama_context(&ollama);

    // Outside local mode too: config.toml points Codex at this runtime.
    let (code, stderr) = run_in(&ctx, ctx.dir.path());

    assert_eq!(code, 7, "{stderr}");
    assert!(
        stderr.contains("`gpt-oss:20b-ctx64k` carried a shorter context: made it again"),
        "{stderr}"
    );
    assert_eq!(ollama.has(VARIANT).and_then(|m| m.num_ctx), Some(65_536));
}

#[test]
fn a_model_that_is_gone_with_its_base_keeps_codex_from_starting_in_local_mode() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = ollama_context(&ollama);
    let repo = local_mode_repo(&ctx, &selection("ollama", ollama.server.port, VARIANT));

    let (code, stderr) = run_in(&ctx, &repo);

    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "Ollama no longer has `gpt-oss:20b-ctx64k`, which Codex is set up to use, nor `gpt-oss:20b`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run `codex-local init` again"),
        "{stderr}"
    );
    assert!(!codex_ran(&ctx), "Codex never ran");
    assert!(creates(&ollama).is_empty());

    // Outside local mode the same finding is a warning, and Codex starts.
    let (code, stderr) = run_in(&ctx, ctx.dir.path());
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("warning: Ollama no longer has"), "{stderr}");
}

#[test]
fn a_model_that_is_not_ours_is_never_made_again() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("my-model:latest", SIZE, Some(8192));
    let ctx = ollama_context(&ollama);
    let repo = local_mode_repo(&ctx, &selection("ollama", ollama.server.port, "my-model"));

    let (code, stderr) = run_in(&ctx, &repo);

    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Ollama serves `my-model` with 8192 tokens, but Codex is told 65536"),
        "{stderr}"
    );
    assert!(
        creates(&ollama).is_empty(),
        "the user's model is left alone"
    );
}

#[test]
fn run_loads_an_unloaded_lmstudio_model_with_its_context_then_costs_one_request() {
    let lmstudio = FakeLmStudio::start();
    let ctx = lmstudio_context(&lmstudio);

    let (code, stderr) = run_in(&ctx, ctx.dir.path());

    assert_eq!(code, 7, "{stderr}");
    assert!(
        stderr.contains(
            "codex-local: `openai/gpt-oss-20b` was not loaded: loaded it with 65536 tokens"
        ),
        "{stderr}"
    );
    let loads = lmstudio.requests_to("/api/v1/models/load");
    assert_eq!(loads.len(), 1);
    let body: Value = serde_json::from_slice(&loads[0].body).expect("JSON");
    assert_eq!(body["model"], LMS_KEY);
    assert_eq!(body["context_length"], 65_536);
    assert_eq!(
        lmstudio.instances(),
        vec![Instance {
            id: LMS_KEY.to_owned(),
            key: LMS_KEY.to_owned(),
            context: 65_536
        }]
    );

    let before = lmstudio.server.requests().len();
    let (code, stderr) = run_in(&ctx, ctx.dir.path());
    assert_eq!(code, 7, "{stderr}");
    assert_eq!(stderr, "");
    let after: Vec<String> = lmstudio.server.paths().split_off(before);
    assert_eq!(after, vec!["GET /api/v1/models".to_owned()], "one request");
}

#[test]
fn run_replaces_an_lmstudio_instance_loaded_with_a_short_context() {
    let lmstudio = FakeLmStudio::start();
    let ctx = lmstudio_context(&lmstudio);
    lmstudio.with(|state| {
        state.instances.push(Instance {
            id: LMS_KEY.to_owned(),
            key: LMS_KEY.to_owned(),
            context: 4096,
        });
    });
    let repo = local_mode_repo(&ctx, &selection("lmstudio", lmstudio.server.port, LMS_KEY));

    let (code, stderr) = run_in(&ctx, &repo);

    assert_eq!(code, 7, "{stderr}");
    assert!(
        stderr.contains(
            "`openai/gpt-oss-20b` was loaded with only 4096 tokens: loaded it with 65536 tokens"
        ),
        "{stderr}"
    );
    let unloads = lmstudio.requests_to("/api/v1/models/unload");
    assert_eq!(unloads.len(), 1, "the short instance went first");
    assert_eq!(
        lmstudio.instances(),
        vec![Instance {
            id: LMS_KEY.to_owned(),
            key: LMS_KEY.to_owned(),
            context: 65_536
        }],
        "one instance, no `key:2`"
    );
}

#[test]
fn run_with_a_runtime_that_is_down_outside_local_mode_still_starts_codex() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    with_fake_codex(&mut ctx);
    ctx.write_config(&selection("ollama", common::fake::closed_port(), VARIANT));

    let (code, stderr) = run_in(&ctx, ctx.dir.path());

    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("warning: Cannot reach"), "{stderr}");
}

#[test]
fn status_and_verify_say_when_the_served_context_is_short_with_the_fix() {
    let lmstudio = FakeLmStudio::start();
    let ctx = lmstudio_context(&lmstudio);

    let doc = ctx.json(["status"], 0);
    let served = &doc["codex"]["served"][0];
    assert_eq!(served["profile"], Value::Null);
    assert_eq!(served["model"], LMS_KEY);
    assert_eq!(served["model_context_window"], 65_536);
    assert_eq!(served["served_context"], Value::Null);
    assert_eq!(served["ok"], false);
    let warnings = doc["codex"]["warnings"].to_string();
    assert!(
        warnings.contains("`openai/gpt-oss-20b` is not loaded"),
        "{warnings}"
    );
    assert!(
        warnings.contains("lms load openai/gpt-oss-20b -c 65536 -y"),
        "{warnings}"
    );
    assert!(
        lmstudio.requests_to("/api/v1/models/load").is_empty(),
        "status changes nothing"
    );

    let output = ctx.run(["status"]);
    let (stdout, _) = text(&output);
    assert!(stdout.contains("served"), "{stdout}");
    assert!(stdout.contains("`codex-local run`"), "{stdout}");

    let doc = ctx.json(["verify"], 1);
    let model = common::find(&doc["checks"], "name", "model");
    assert_eq!(model["ok"], false);
    let detail = model["detail"].as_str().expect("detail");
    assert!(
        detail.contains("but Codex is told 65536 tokens"),
        "{detail}"
    );
    assert!(detail.contains("`codex-local run`"), "{detail}");

    // Loaded with the context: no warning, and the number is there.
    lmstudio.with(|state| {
        state.instances.push(Instance {
            id: LMS_KEY.to_owned(),
            key: LMS_KEY.to_owned(),
            context: 65_536,
        });
    });
    let doc = ctx.json(["status"], 0);
    assert_eq!(doc["codex"]["served"][0]["served_context"], 65_536);
    assert_eq!(doc["codex"]["served"][0]["ok"], true);
    assert_eq!(doc["codex"]["warnings"], serde_json::json!([]));
}

#[test]
fn status_checks_each_profile_and_names_it() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(BASE, SIZE, None);
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    ctx.write_codex_file(
        "local.config.toml",
        &selection("ollama", ollama.server.port, "gpt-oss:20b-ctx128k"),
    );

    let doc = ctx.json(["status"], 0);

    let served = doc["codex"]["served"].as_array().expect("a list");
    assert_eq!(served.len(), 2, "{served:?}");
    assert_eq!(served[0]["ok"], true);
    assert_eq!(served[0]["served_context"], 65_536);
    assert_eq!(served[1]["profile"], "local");
    assert_eq!(served[1]["ok"], false);
    let warnings = doc["codex"]["warnings"].to_string();
    assert!(
        warnings.contains("`gpt-oss:20b-ctx128k` is not installed, but Codex is told 65536 tokens (the `local` profile)"),
        "{warnings}"
    );
    assert!(warnings.contains("`codex-local run`"), "{warnings}");
}

#[test]
fn run_off_a_terminal_never_starts_a_runtime_and_fails_closed() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    with_fake_codex(&mut ctx);
    let marker = ctx.dir.path().join("started");
    ctx.write_tool(
        "ollama",
        &format!("#!/bin/sh\ntouch '{}'\n", marker.display()),
    );
    let port = common::fake::closed_port();
    ctx.write_config(&selection("ollama", port, VARIANT));
    let repo = local_mode_repo(&ctx, &selection("ollama", port, VARIANT));

    let (code, stderr) = run_in(&ctx, &repo);

    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Codex was not started"), "{stderr}");
    assert!(!marker.exists(), "nothing was started without consent");
    assert!(!codex_ran(&ctx));
}

/// A stand-in `codex` whose `doctor --json` prints `report` and records its environment, its folder and the
/// config.toml it was given.
fn doctor_codex(ctx: &TestContext, report: &str) -> PathBuf {
    let seen = ctx.dir.path().join("doctor-seen");
    let report_file = ctx.dir.path().join("doctor-report.json");
    common::write(&report_file, report);
    ctx.write_tool(
        "codex",
        &format!(
            "#!/bin/sh\n[ \"$1 $2\" = \"doctor --json\" ] || exit 9\n\
             {{ env; echo \"cwd=$(pwd)\"; echo '--- config'; cat \"$CODEX_HOME/config.toml\"; }} > '{seen}'\n\
             cat '{report}'\nexit 1\n",
            seen = seen.display(),
            report = report_file.display()
        ),
    );
    seen
}

fn doctor_report(load: &Value) -> String {
    serde_json::json!({"schemaVersion": 1, "overallStatus": "fail", "codexVersion": "0.171.0",
        "checks": {"config.load": load, "network.provider_reachability": {"status": "fail"}}})
    .to_string()
}

#[test]
fn verify_has_the_real_codex_read_the_file_and_names_keys_it_would_ignore() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    let seen = doctor_codex(
        &ctx,
        &doctor_report(
            &serde_json::json!({"status": "warning", "summary": "config loaded", "details": {
            "startup warning": "Codex is ignoring 2 unrecognized configuration settings. Check for typos or deprecated settings.\n  user (/x/config.toml): `features.multi_agent_v3` is ignored.\n  user (/x/config.toml): `model_context_windw` is ignored."}}),
        ),
    );

    let doc = ctx.json(["verify"], 1);

    let codex = common::find(&doc["checks"], "name", "codex");
    assert_eq!(codex["ok"], false);
    assert_eq!(
        codex["detail"],
        "Codex 0.171.0 would ignore `features.multi_agent_v3`, `model_context_windw`: remove or correct them, or update Codex"
    );
    assert_eq!(
        common::find(&doc["checks"], "name", "request")["ok"],
        true,
        "the request still went through codex-local"
    );
    let seen = common::read(&seen);
    let config = common::read(&ctx.codex_home.join("config.toml"));
    assert!(
        seen.ends_with(&format!("--- config\n{config}")),
        "Codex read the file verified:\n{seen}"
    );
    assert!(
        !seen.contains(&format!("CODEX_HOME={}\n", ctx.codex_home.display())),
        "not the user's Codex home"
    );
    for proxy in [
        "HTTPS_PROXY=http://127.0.0.1:9",
        "HTTP_PROXY=http://127.0.0.1:9",
        "ALL_PROXY=http://127.0.0.1:9",
    ] {
        assert!(
            seen.contains(proxy),
            "its look-up of a newer version cannot leave the machine: {seen}"
        );
    }
    assert!(
        std::fs::read_dir(&ctx.codex_home).expect("dir").count() == 1,
        "nothing was written in the Codex home"
    );
}

#[test]
fn verify_fails_when_the_real_codex_cannot_load_the_profile() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    ctx.write_codex_file(
        "local.config.toml",
        &selection("ollama", ollama.server.port, VARIANT),
    );
    let seen = doctor_codex(
        &ctx,
        &doctor_report(
            &serde_json::json!({"status": "fail", "summary": "config could not be loaded", "details": {"error": "invalid data"}}),
        ),
    );

    let doc = ctx.json(["verify", "--profile", "local"], 1);

    let codex = common::find(&doc["checks"], "name", "codex");
    assert_eq!(
        codex["detail"],
        "Codex 0.171.0 cannot load the file: invalid data; `codex doctor` says more"
    );
    let profile = common::read(&ctx.codex_home.join("local.config.toml"));
    assert!(common::read(&seen).ends_with(&format!("--- config\n{profile}")));
}

#[test]
fn verify_passes_when_codex_loads_the_file_and_warns_when_codex_cannot_be_asked() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    doctor_codex(
        &ctx,
        &doctor_report(
            &serde_json::json!({"status": "ok", "summary": "config loaded", "details": {"model": VARIANT}}),
        ),
    );
    let doc = ctx.json(["verify"], 0);
    assert_eq!(
        common::find(&doc["checks"], "name", "codex")["detail"],
        "Codex 0.171.0 loads the file"
    );

    // A Codex without `doctor`: a warning, and the other checks decide.
    doctor_codex(&ctx, "error: unrecognized subcommand 'doctor'");
    let output = ctx.run(["verify"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: could not ask Codex whether it loads the file (`codex doctor --json`): its output is not a JSON document"),
        "{stderr}"
    );
    assert!(!stdout.contains("codex "), "no codex check: {stdout}");
}
