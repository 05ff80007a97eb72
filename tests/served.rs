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

/// Codex set up by init itself on `ollama` (which then has `BASE` and the `VARIANT` init made, in its journal),
/// with a repository in local mode.
fn after_init(ollama: &FakeOllama) -> (TestContext, PathBuf) {
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
    assert!(ollama.has(VARIANT).is_some(), "init made the variant");
    with_fake_codex(&mut ctx);
    let repo = ctx.dir.path().join("secret-project");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    (ctx, repo)
}

#[test]
fn run_makes_a_removed_ollama_variant_again_then_costs_one_request() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = after_init(&ollama);
    // `ollama rm gpt-oss:20b-ctx64k`
    ollama.with(|state| state.installed.retain(|m| !m.name.starts_with(VARIANT)));
    let made_by_init = creates(&ollama).len();

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
    assert_eq!(made.len(), made_by_init + 1);
    let again = made.last().expect("a create");
    assert_eq!(again["model"], VARIANT);
    assert_eq!(again["from"], BASE);
    assert_eq!(again["parameters"]["num_ctx"], 65_536);
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
    assert_eq!(
        creates(&ollama).len(),
        made_by_init + 1,
        "nothing made the second time"
    );
    assert!(
        after
            .iter()
            .all(|p| p.starts_with("GET ") || p == "POST /api/show"),
        "only reads: {after:?}"
    );

    // Codex commands that talk to no model cost nothing.
    let before = ollama.paths().len();
    let output = ctx
        .command(["run", "--", "--version"])
        .current_dir(ctx.dir.path())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(7));
    assert_eq!(
        ollama.paths().len(),
        before,
        "no request for `codex --version`"
    );
}

#[test]
fn run_makes_again_a_variant_of_its_own_that_carries_a_shorter_context() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, _) = after_init(&ollama);
    ollama.with(|state| {
        for model in &mut state.installed {
            if model.name.starts_with(VARIANT) {
                model.num_ctx = Some(4096);
            }
        }
    });

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
fn a_variant_codex_local_did_not_make_is_never_made_again() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(BASE, SIZE, None);
    // The user's own model, named like a variant, with a shorter context; no journal says codex-local made it.
    ollama.install(VARIANT, SIZE, Some(4096));
    let ctx = ollama_context(&ollama);
    let repo = local_mode_repo(&ctx, &selection("ollama", ollama.server.port, VARIANT));

    let (code, stderr) = run_in(&ctx, ctx.dir.path());
    assert_eq!(code, 7, "outside local mode Codex starts: {stderr}");
    assert!(
        stderr.contains(
            "warning: Ollama serves `gpt-oss:20b-ctx64k` with 4096 tokens, but Codex is told 65536"
        ),
        "{stderr}"
    );
    let (code, stderr) = run_in(&ctx, &repo);
    assert_eq!(code, 1, "local mode fails closed: {stderr}");

    ollama.with(|state| state.installed.retain(|m| !m.name.starts_with(VARIANT)));
    let (code, stderr) = run_in(&ctx, &repo);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Ollama no longer has `gpt-oss:20b-ctx64k`"),
        "{stderr}"
    );
    assert!(
        creates(&ollama).is_empty(),
        "the user's model is left alone"
    );
}

#[test]
fn a_variant_is_codex_locals_only_where_it_made_it_and_as_it_left_it() {
    let ollama = FakeOllama::start("0.32.15");
    let (mut ctx, repo) = after_init(&ollama);
    let made_by_init = creates(&ollama).len();

    // The user made their own model by the variant's name since (another digest, a shorter context).
    ollama.with(|state| {
        let model = state
            .installed
            .iter_mut()
            .find(|m| m.name == VARIANT)
            .expect("variant");
        model.num_ctx = Some(8192);
        model.digest = "2".repeat(64);
    });
    let (code, stderr) = run_in(&ctx, &repo);
    assert_eq!(code, 1, "local mode fails closed: {stderr}");
    assert_eq!(
        creates(&ollama).len(),
        made_by_init,
        "the user's model is left alone"
    );

    // init itself does not make its variant over it either.
    let output = ctx.run([
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
    ]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("already has a model named `gpt-oss:20b-ctx64k`, with another context"),
        "{stderr}"
    );
    assert_eq!(creates(&ollama).len(), made_by_init);

    // The same name at another Ollama, which codex-local never touched, is someone else's.
    let other = FakeOllama::start("0.32.15");
    other.install(BASE, SIZE, None);
    other.install(VARIANT, SIZE, Some(8192));
    ctx.env("OLLAMA_HOST", other.host());
    ctx.write_config(&selection("ollama", other.server.port, VARIANT));
    let (code, stderr) = run_in(&ctx, ctx.dir.path());
    assert_eq!(code, 7, "outside local mode Codex starts: {stderr}");
    assert!(stderr.contains("but Codex is told 65536"), "{stderr}");
    assert!(creates(&other).is_empty(), "left alone");
}

#[test]
fn a_variant_run_made_again_stays_codex_locals_and_restore_keeps_naming_it() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = after_init(&ollama);
    let init = [
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
    ];
    // Ollama pulled the base again (new content), and the variant is gone.
    ollama.with(|state| {
        state
            .installed
            .iter_mut()
            .find(|m| m.name == BASE)
            .expect("base")
            .digest = "3".repeat(64);
        state.installed.retain(|m| m.name != VARIANT);
    });
    let (code, stderr) = run_in(&ctx, &repo);
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("was missing: made it again"), "{stderr}");

    // Made again, it has another digest, and the journal says so: init may make it again when it is short.
    ollama.with(|state| {
        state
            .installed
            .iter_mut()
            .find(|m| m.name == VARIANT)
            .expect("variant")
            .num_ctx = Some(8192);
    });
    let output = ctx.run(init);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).1);
    assert_eq!(ollama.has(VARIANT).and_then(|m| m.num_ctx), Some(65_536));

    // restore, init (which takes the variant as it is), restore: it is named each time.
    for _ in 0..2 {
        let restored = ctx.json(["restore"], 0);
        assert!(
            restored["models"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["name"] == VARIANT)),
            "{restored}"
        );
        ctx.json(init, 0);
    }
}

#[test]
fn a_model_that_is_gone_with_its_base_keeps_codex_from_starting_in_local_mode() {
    let ollama = FakeOllama::start("0.32.15");
    let (ctx, repo) = after_init(&ollama);
    ollama.with(|state| state.installed.clear());
    let made_by_init = creates(&ollama).len();

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
    assert_eq!(creates(&ollama).len(), made_by_init);

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
    let mut entries: Vec<String> = std::fs::read_dir(&ctx.codex_home)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["codex-local", "config.toml"],
        "Codex wrote nothing in the Codex home (codex-local keeps its speed measurement)"
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

#[test]
fn a_runtime_that_trickles_its_answer_cannot_hold_codex_back() {
    use common::fake::{FakeServer, Reply};
    // `/api/show` sends a byte every 50 ms, with no end in sight: within the idle limit forever.
    let server = FakeServer::start(|request| match request.path.as_str() {
        "/api/show" => Reply::Endless {
            status: 200,
            content_type: "application/json",
            first: br#"{"parameters": ""#.to_vec(),
            chunk: b"x".to_vec(),
            every: Some(std::time::Duration::from_millis(50)),
            limit_bytes: u64::MAX,
            limit_time: std::time::Duration::from_mins(2),
        },
        _ => Reply::json(404, "{}"),
    });
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    with_fake_codex(&mut ctx);
    ctx.write_config(&selection("ollama", server.port, VARIANT));

    let started = std::time::Instant::now();
    let (code, stderr) = run_in(&ctx, ctx.dir.path());

    assert_eq!(code, 7, "Codex started: {stderr}");
    assert!(
        stderr.contains("/api/show` did not finish the answer to `/api/show` in time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: codex-local waits 10 s for an answer about a model"),
        "the limit is named: {stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the whole answer has a deadline"
    );
}

#[test]
fn verifys_copy_for_codex_is_private_and_a_hostile_codex_cannot_hold_it_or_print_escapes() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    let seen = ctx.dir.path().join("seen");
    let helper = ctx.dir.path().join("helper-pid");
    let report = doctor_report(&serde_json::json!({"status": "ok", "details": {}}))
        .replace("0.171.0", "0.171.0\\u001b]0;PWNED\\u0007\\u001b[31mRED");
    let report_file = ctx.dir.path().join("report.json");
    common::write(&report_file, &report);
    // It records the modes of its Codex home and the copy, prints its report, and leaves a helper running that
    // holds its output open.
    ctx.write_tool(
        "codex",
        &format!(
            "#!/bin/sh\nstat -c '%a' \"$CODEX_HOME\" \"$CODEX_HOME/config.toml\" > '{seen}'\ncat '{report}'\n\
             sleep 60 &\necho $! > '{helper}'\nexit 1\n",
            seen = seen.display(),
            report = report_file.display(),
            helper = helper.display()
        ),
    );

    let started = std::time::Instant::now();
    let output = ctx.run(["verify"]);
    let (stdout, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a helper holding the output open does not hold verify"
    );
    assert_eq!(
        common::read(&seen),
        "700\n600\n",
        "only the owner can read the copy"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "no escape reaches the terminal: {stdout:?}"
    );
    assert!(
        stdout.contains("Codex 0.171.0?]0;PWNED??[31mRED loads the file"),
        "{stdout}"
    );
    // Stopped: gone, or a zombie waiting for a parent that reaps it.
    let pid = common::read(&helper);
    let state = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let running = state
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|state| state != "Z");
    assert!(!running, "the helper Codex left was stopped: {state}");
}

#[test]
fn a_password_in_a_profiles_address_is_never_shown() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install(VARIANT, SIZE, Some(65_536));
    let ctx = ollama_context(&ollama);
    let with_password = selection("ollama", ollama.server.port, VARIANT)
        .replace("http://127.0.0.1", "http://admin:s3cret@127.0.0.1");
    ctx.write_config(&with_password);
    let repo = local_mode_repo(
        &ctx,
        &with_password.replace(
            &ollama.server.port.to_string(),
            &common::fake::closed_port().to_string(),
        ),
    );

    let status = ctx.run(["status", "--json"]);
    let verify = ctx.run(["verify", "--offline"]);
    let (_, run_stderr) = run_in(&ctx, &repo);

    for (what, out) in [
        ("status", text(&status).0),
        ("verify", text(&verify).0 + &text(&verify).1),
        ("run", run_stderr.clone()),
    ] {
        assert!(!out.contains("s3cret"), "{what}: {out}");
    }
    assert!(run_stderr.contains("admin:***@127.0.0.1"), "{run_stderr}");
}

#[test]
fn run_leaves_other_lm_studio_instances_of_the_model_alone() {
    let lmstudio = FakeLmStudio::start();
    let ctx = lmstudio_context(&lmstudio);
    // Someone else's instance, with a short context; Codex is set up for the second instance.
    lmstudio.with(|state| {
        state.instances.push(Instance {
            id: LMS_KEY.to_owned(),
            key: LMS_KEY.to_owned(),
            context: 4096,
        });
    });
    let second = format!("{LMS_KEY}:2");
    ctx.write_config(&selection("lmstudio", lmstudio.server.port, &second));

    let (code, stderr) = run_in(&ctx, ctx.dir.path());

    assert_eq!(code, 7, "{stderr}");
    assert!(
        lmstudio.requests_to("/api/v1/models/unload").is_empty(),
        "the other instance stays"
    );
    let instances = lmstudio.instances();
    assert_eq!(instances.len(), 2, "{instances:?}");
    assert_eq!(instances[1].id, second);
    assert_eq!(instances[1].context, 65_536);
    let (code, stderr) = run_in(&ctx, ctx.dir.path());
    assert_eq!(code, 7, "{stderr}");
    assert_eq!(stderr, "", "served now: nothing to do");
    assert_eq!(lmstudio.instances().len(), 2, "no third copy");
}

#[test]
fn an_lms_that_never_returns_is_stopped_after_the_wait() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.write_tool("lms", "#!/bin/sh\nexec sleep 120\n");

    let started = std::time::Instant::now();
    let stderr = ctx.fails([
        "init",
        "--yes",
        "--runtime",
        "lmstudio",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
    ]);

    assert!(
        stderr.contains("Cannot start LM Studio (`lms server start`)"),
        "{stderr}"
    );
    assert!(stderr.contains("it did not return within 15 s"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(40));
}
