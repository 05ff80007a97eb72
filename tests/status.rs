//! `codex-local status` against fake runtimes, fake hardware tools and real Codex configuration files.

mod common;

use common::fake::{self, FakeModel, FakeServer, LmStudioApi, Reply, SilentPort};
use common::{TestContext, read, text};
use serde_json::Value;

const QWEN: FakeModel = FakeModel {
    name: "qwen3-coder:30b",
    size: 18_556_700_761,
};
const GPT_OSS: FakeModel = FakeModel {
    name: "gpt-oss:20b",
    size: 13_793_441_244,
};
const LMS_QWEN: FakeModel = FakeModel {
    name: "qwen/qwen3-coder-30b",
    size: 18_630_000_000,
};

fn runtime<'a>(doc: &'a Value, name: &str) -> &'a Value {
    common::find(&doc["runtimes"], "name", name)
}

fn with_runtimes(ollama: &str, lmstudio: &str) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.env("OLLAMA_HOST", ollama)
        .env("LMSTUDIO_HOST", lmstudio);
    ctx
}

#[test]
fn both_runtimes_up_are_reported_with_versions_and_models() {
    let ollama = fake::ollama("0.32.15", vec![QWEN, GPT_OSS]);
    let lmstudio = fake::lmstudio(LmStudioApi::V1, vec![LMS_QWEN], None);
    let ctx = with_runtimes(&ollama.host(), &lmstudio.host());

    let doc = ctx.json(["status"], 0);

    assert_eq!(doc["schema_version"], 1);
    let o = runtime(&doc, "ollama");
    assert_eq!(o["running"], true);
    assert_eq!(o["version"], "0.32.15");
    assert_eq!(o["url"], format!("http://127.0.0.1:{}/", ollama.port));
    assert_eq!(o["error"], Value::Null);
    assert_eq!(o["models"][0]["name"], "qwen3-coder:30b");
    assert_eq!(o["models"][0]["size_bytes"], 18_556_700_761_u64);
    assert_eq!(
        o["models"][0]["capabilities"],
        serde_json::json!(["completion", "tools"])
    );
    assert_eq!(o["models"][1]["name"], "gpt-oss:20b");
    let l = runtime(&doc, "lmstudio");
    assert_eq!(l["running"], true);
    assert_eq!(l["api"], "v1");
    assert_eq!(l["models"][0]["name"], "qwen/qwen3-coder-30b");
    assert_eq!(l["models"][0]["size_bytes"], 18_630_000_000_u64);
    assert_eq!(l["models"][0]["capabilities"], serde_json::json!(["tools"]));

    let mut seen = ollama.paths();
    seen.sort();
    assert_eq!(seen, ["GET /api/tags", "GET /api/version"]);
    assert!(
        lmstudio
            .paths()
            .contains(&"GET /lmstudio-greeting".to_owned())
    );
}

#[test]
fn human_status_is_short_and_says_what_it_found() {
    let ollama = fake::ollama("0.32.15", vec![QWEN]);
    let ctx = with_runtimes(
        &ollama.host(),
        &format!("127.0.0.1:{}", fake::closed_port()),
    );

    let output = ctx.run(["status"]);
    let (stdout, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.is_empty(),
        "status writes its result to stdout only: {stderr}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no colour off a terminal:\n{stdout}"
    );
    let line = |start: &str| {
        stdout
            .lines()
            .find(|line| line.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line starting with {start:?} in\n{stdout}"))
            .to_owned()
    };
    assert!(line("Ollama").contains("up"), "{stdout}");
    assert!(line("Ollama").contains("version 0.32.15"), "{stdout}");
    assert!(line("qwen3-coder:30b").contains("17.3 GiB"), "{stdout}");
    assert!(line("LM Studio").contains("down"), "{stdout}");
    assert!(line("LM Studio").contains("connection refused"), "{stdout}");
    assert!(
        stdout.contains("lms server start"),
        "the hint says how to start LM Studio:\n{stdout}"
    );
    assert!(
        line("provider").contains("openai (Codex's default)"),
        "{stdout}"
    );
    assert!(line("Codex").contains("~/.codex"), "{stdout}");
}

#[test]
fn nothing_listening_is_reported_as_refused_and_still_exits_zero() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let doc = ctx.json(["status"], 0);

    for name in ["ollama", "lmstudio"] {
        let r = runtime(&doc, name);
        assert_eq!(r["running"], false, "{name}");
        assert_eq!(r["error"], "connection refused", "{name}");
        assert_eq!(r["models"], serde_json::json!([]), "{name}");
    }
    assert!(
        runtime(&doc, "ollama")["hint"]
            .as_str()
            .expect("a hint")
            .contains("ollama serve")
    );
}

#[test]
fn a_port_that_never_answers_is_reported_as_a_timeout() {
    let silent = SilentPort::open();
    let mut ctx = with_runtimes(&silent.host(), &silent.host());
    ctx.env("CODEX_LOCAL_PROBE_TIMEOUT_MS", "150");

    let doc = ctx.json(["status"], 0);

    for name in ["ollama", "lmstudio"] {
        let r = runtime(&doc, name);
        assert_eq!(r["running"], false, "{name}");
        assert_eq!(r["error"], "no answer within 150 ms", "{name}");
        assert!(
            r["hint"]
                .as_str()
                .expect("a hint")
                .contains("does not answer"),
            "{name}"
        );
    }
}

#[test]
fn a_server_that_is_not_a_runtime_is_named_as_such() {
    let web = FakeServer::start(|_| Reply::html(404, "<html><body>nginx</body></html>"));
    let ctx = with_runtimes(&web.host(), &web.host());

    let doc = ctx.json(["status"], 0);

    let o = runtime(&doc, "ollama");
    assert_eq!(o["running"], false);
    assert_eq!(
        o["error"],
        "not an Ollama server: `GET /api/version` answered HTTP 404 Not Found"
    );
    assert!(o["hint"].as_str().expect("a hint").contains("--ollama-url"));
    let l = runtime(&doc, "lmstudio");
    assert_eq!(l["running"], false);
    assert!(
        l["error"]
            .as_str()
            .expect("an error")
            .starts_with("not an LM Studio server"),
        "{l:#}"
    );
}

#[test]
fn a_web_page_where_json_belongs_is_not_an_ollama() {
    let web = FakeServer::start(|_| Reply::html(200, "<!doctype html><title>router</title>"));
    let ctx = with_runtimes(&web.host(), &format!("127.0.0.1:{}", fake::closed_port()));

    let doc = ctx.json(["status"], 0);

    assert_eq!(
        runtime(&doc, "ollama")["error"],
        "not an Ollama server: `GET /api/version` did not answer JSON"
    );
}

#[test]
fn malformed_json_is_reported_with_the_endpoint() {
    let broken_version = FakeServer::start(|_| Reply::json(200, r#"{"version": "0.3"#));
    let broken_tags = FakeServer::start(|request| match request.path.as_str() {
        "/api/version" => Reply::json(200, r#"{"version":"0.32.15"}"#),
        _ => Reply::json(200, r#"{"models": [{"name": 7}]}"#),
    });
    let ctx = with_runtimes(&broken_version.host(), &broken_tags.host());
    let doc = ctx.json(["status"], 0);
    let o = runtime(&doc, "ollama");
    assert_eq!(o["running"], false);
    assert!(
        o["error"]
            .as_str()
            .expect("an error")
            .starts_with("bad JSON from `/api/version`: EOF"),
        "{o:#}"
    );

    let ctx = with_runtimes(
        &broken_tags.host(),
        &format!("127.0.0.1:{}", fake::closed_port()),
    );
    let doc = ctx.json(["status"], 0);
    let o = runtime(&doc, "ollama");
    assert_eq!(
        o["running"], true,
        "the version answered, so the server is up"
    );
    assert_eq!(o["version"], "0.32.15");
    assert!(
        o["error"]
            .as_str()
            .expect("an error")
            .starts_with("bad JSON from `/api/tags`: invalid type"),
        "{o:#}"
    );
}

#[test]
fn an_older_lm_studio_is_read_through_api_v0() {
    let lmstudio = fake::lmstudio(LmStudioApi::V0Only, vec![LMS_QWEN], None);
    let ctx = with_runtimes(
        &format!("127.0.0.1:{}", fake::closed_port()),
        &lmstudio.host(),
    );

    let doc = ctx.json(["status"], 0);

    let l = runtime(&doc, "lmstudio");
    assert_eq!(l["running"], true);
    assert_eq!(l["api"], "v0");
    assert_eq!(l["error"], Value::Null);
    assert_eq!(l["models"][0]["name"], "qwen/qwen3-coder-30b");
    assert_eq!(
        l["models"][0]["size_bytes"],
        Value::Null,
        "v0 does not tell sizes"
    );
    assert_eq!(l["models"][0]["loaded"], false);
    assert!(lmstudio.paths().contains(&"GET /api/v0/models".to_owned()));
}

#[test]
fn lm_studio_with_authentication_needs_the_token() {
    let lmstudio = fake::lmstudio(LmStudioApi::V1, vec![LMS_QWEN], Some("sk-lm-test"));
    let mut ctx = with_runtimes(
        &format!("127.0.0.1:{}", fake::closed_port()),
        &lmstudio.host(),
    );

    let doc = ctx.json(["status"], 0);
    let l = runtime(&doc, "lmstudio");
    assert_eq!(l["running"], true, "the greeting needs no token");
    assert_eq!(l["error"], "`/api/v1/models` needs an API token (HTTP 401)");
    assert!(l["hint"].as_str().expect("a hint").contains("LM_API_TOKEN"));

    ctx.env("LM_API_TOKEN", "sk-lm-test");
    let doc = ctx.json(["status"], 0);
    let l = runtime(&doc, "lmstudio");
    assert_eq!(l["error"], Value::Null);
    assert_eq!(l["models"][0]["name"], "qwen/qwen3-coder-30b");
    let sent = lmstudio.requests();
    let listed = sent
        .iter()
        .rev()
        .find(|r| r.path == "/api/v1/models")
        .expect("a model listing");
    assert_eq!(listed.header("authorization"), Some("Bearer sk-lm-test"));
}

#[test]
fn a_bind_all_ollama_host_is_dialled_on_loopback() {
    let ollama = fake::ollama("0.32.15", vec![]);
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", format!("0.0.0.0:{}", ollama.port));

    let doc = ctx.json(["status"], 0);

    let o = runtime(&doc, "ollama");
    assert_eq!(o["running"], true);
    assert_eq!(o["url"], format!("http://127.0.0.1:{}/", ollama.port));

    // The flag wins over the environment.
    let other = fake::ollama("0.13.4", vec![]);
    let doc = ctx.json(
        [
            "status",
            "--ollama-url",
            &format!("http://localhost:{}", other.port),
        ],
        0,
    );
    assert_eq!(runtime(&doc, "ollama")["version"], "0.13.4");
}

const USER_CONFIG: &str = r#"# My Codex settings
model_provider = "ollama"   # local for now
model = "qwen3-coder:30b"
model_context_window = 65536
model_auto_compact_token_limit = 58982

[projects."/src/app"]
trust_level = "trusted"
"#;

#[test]
fn codex_settings_and_profiles_are_read_and_left_untouched() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let config = ctx.write_config(USER_CONFIG);
    ctx.write_codex_file(
        "local.config.toml",
        "model_provider = \"lmstudio\"\nmodel = \"qwen/qwen3-coder-30b\"\nmodel_context_window = 32768\n",
    );
    ctx.write_codex_file("not a profile.config.toml", "model = 1\n");

    let doc = ctx.json(["status"], 0);

    let codex = &doc["codex"];
    assert_eq!(codex["home"], ctx.codex_home.display().to_string());
    assert_eq!(codex["model_provider"], "ollama");
    assert_eq!(codex["model"], "qwen3-coder:30b");
    assert_eq!(codex["model_context_window"], 65536);
    assert_eq!(codex["model_auto_compact_token_limit"], 58982);
    assert_eq!(codex["warnings"], serde_json::json!([]));
    let profiles = codex["profiles"].as_array().expect("profiles");
    assert_eq!(
        profiles.len(),
        1,
        "only names Codex accepts are profiles: {profiles:#?}"
    );
    assert_eq!(profiles[0]["name"], "local");
    assert_eq!(profiles[0]["model_provider"], "lmstudio");
    assert_eq!(profiles[0]["model_context_window"], 32768);
    assert_eq!(read(&config), USER_CONFIG, "status changes nothing");
}

#[test]
fn a_missing_codex_home_is_described_not_an_error() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env(
        "CODEX_HOME",
        ctx.dir.path().join("absent").display().to_string(),
    );

    let doc = ctx.json(["status"], 0);

    assert_eq!(doc["codex"]["home_exists"], false);
    assert_eq!(doc["codex"]["model_provider"], "openai");
    assert_eq!(doc["codex"]["model_provider_is_default"], true);
    assert_eq!(doc["codex"]["model"], Value::Null);
}

#[test]
fn settings_codex_refuses_are_warned_about() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.write_config(
        "profile = \"fast\"\nmodel_provider = \"ollama\"\n\n[model_providers.ollama]\nbase_url = \"http://localhost:11434/v1\"\n\n[model_providers.mine]\nbase_url = \"http://127.0.0.1:8080/v1\"\nwire_api = \"chat\"\n\n[profiles.fast]\nmodel = \"x\"\n",
    );

    let doc = ctx.json(["status"], 0);

    let messages: Vec<&str> = doc["codex"]["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["message"].as_str().expect("a message"))
        .collect();
    let has = |needle: &str| messages.iter().any(|m| m.contains(needle));
    assert!(has("`[model_providers.ollama]` table"), "{messages:#?}");
    assert!(has("top-level `profile`"), "{messages:#?}");
    assert!(has("`[profiles.*]` tables"), "{messages:#?}");
    assert!(has("`wire_api = \"chat\"`"), "{messages:#?}");
    assert!(has("without `model`:"), "{messages:#?}");
    assert!(has("without `model_context_window`"), "{messages:#?}");

    let output = ctx.run(["status"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("warning: `"),
        "warnings are shown to people too:\n{stdout}"
    );
    assert!(
        stdout.contains("hint: delete the `[model_providers.ollama]` table"),
        "{stdout}"
    );
}

#[test]
fn an_unparsable_config_is_reported_with_its_place_and_left_alone() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let broken = "model = \"qwen3-coder:30b\"\nmodel_provider = ollama\n";
    let config = ctx.write_config(broken);

    let doc = ctx.json(["status"], 0);

    assert_eq!(doc["codex"]["parsed"], false);
    let warning = &doc["codex"]["warnings"][0];
    let message = warning["message"].as_str().expect("a message");
    assert!(
        message.contains("is not valid TOML at line 2, column 18"),
        "{message}"
    );
    assert!(
        warning["hint"]
            .as_str()
            .expect("a hint")
            .contains("Codex will not start")
    );
    assert_eq!(read(&config), broken);
}

#[test]
fn nvidia_gpus_are_read_from_nvidia_smi() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.write_tool(
        "nvidia-smi",
        "#!/bin/sh\nprintf '0, NVIDIA GeForce RTX 4090, 24564, 1534, 23030, 550.54.14\\n1, NVIDIA GeForce RTX 3090, 24576, 319, 24257, 550.54.14\\n'\n",
    );

    let doc = ctx.json(["status"], 0);

    let gpus: Vec<&Value> = doc["hardware"]["gpus"]
        .as_array()
        .expect("gpus")
        .iter()
        .filter(|gpu| gpu["source"] == "nvidia-smi")
        .collect();
    assert_eq!(gpus.len(), 2, "{doc:#}");
    assert_eq!(gpus[0]["vendor"], "nvidia");
    assert_eq!(gpus[0]["name"], "NVIDIA GeForce RTX 4090");
    assert_eq!(gpus[0]["memory_total_bytes"], 24564_u64 << 20);
    assert_eq!(gpus[0]["memory_free_bytes"], 23030_u64 << 20);
    assert_eq!(gpus[1]["memory_free_bytes"], 24257_u64 << 20);

    // The probed names find their products: speed estimates from the slower card's 936 GB/s, not guessed.
    let models = ctx.json(["models", "-v"], 0);
    let row = common::find(&models["models"], "id", "gpt-oss-20b");
    assert_eq!(row["speed_guessed"], false, "{row}");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("RTX 3090: 936 GB/s")),
        "{row}"
    );
}

#[test]
fn a_failing_nvidia_smi_is_a_note_not_an_error() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.write_tool(
        "nvidia-smi",
        "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.' >&2\nexit 9\n",
    );

    let doc = ctx.json(["status"], 0);

    let note = common::find(&doc["hardware"]["sources"], "source", "nvidia-smi");
    assert_eq!(note["status"], "failed");
    assert!(
        note["detail"]
            .as_str()
            .expect("detail")
            .contains("could not communicate"),
        "{note:#}"
    );
    let output = ctx.run(["status"]);
    assert!(
        text(&output).0.contains("nvidia-smi failed"),
        "people see it too"
    );
}

#[test]
fn without_nvidia_smi_no_nvidia_gpu_is_found() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let doc = ctx.json(["status"], 0);

    let note = common::find(&doc["hardware"]["sources"], "source", "nvidia-smi");
    assert_eq!(note["status"], "not found");
    assert_eq!(doc["hardware"]["source"], "probed");
    assert!(doc["hardware"]["ram_total_bytes"].as_u64().expect("RAM") > 0);
    assert!(
        doc["hardware"]["ram_available_bytes"]
            .as_u64()
            .expect("RAM")
            <= doc["hardware"]["ram_total_bytes"].as_u64().expect("RAM")
    );
}

#[test]
fn described_hardware_replaces_the_probe() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    // A tool that would be found if anything were probed.
    ctx.write_tool("nvidia-smi", "#!/bin/sh\necho '0, Real GPU, 1, 1, 1, 1'\n");

    let doc = ctx.json(
        [
            "status", "--ram", "64GiB", "--gpu", "24GiB", "--gpu", "amd:16G",
        ],
        0,
    );

    let hardware = &doc["hardware"];
    assert_eq!(hardware["source"], "described");
    assert_eq!(hardware["ram_total_bytes"], 64_u64 << 30);
    assert_eq!(hardware["unified"], false);
    assert_eq!(hardware["gpus"].as_array().expect("gpus").len(), 2);
    assert_eq!(hardware["gpus"][0]["vendor"], "nvidia");
    assert_eq!(hardware["gpus"][0]["memory_total_bytes"], 24_u64 << 30);
    assert_eq!(hardware["gpus"][1]["vendor"], "amd");

    let doc = ctx.json(["status", "--ram", "36GiB", "--unified"], 0);
    assert_eq!(doc["hardware"]["unified"], true);
    assert_eq!(doc["hardware"]["gpus"][0]["vendor"], "apple");
    assert_eq!(
        doc["hardware"]["gpus"][0]["memory_total_bytes"],
        24_u64 << 30
    );
}

#[test]
fn a_bad_description_is_a_usage_error_with_a_hint() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let output = ctx.run(["status", "--ram", "lots"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with(
            "error: Cannot read `--ram lots`\n  Caused by: `lots` is not a size\nhint: "
        ),
        "{stderr}"
    );

    let doc = ctx.json(["status", "--ram", "8G", "--gpu", "matrox:8G"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .expect("message")
            .contains("matrox")
    );
    assert!(
        doc["error"]["hint"]
            .as_str()
            .expect("hint")
            .contains("nvidia")
    );

    let output = ctx.run(["status", "--gpu", "8G"]);
    assert_eq!(output.status.code(), Some(2), "--gpu needs --ram");
}

#[test]
fn the_repository_around_the_working_directory_is_shown() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();

    let doc = ctx.json(["status"], 0);
    assert_eq!(
        doc["repo"],
        Value::Null,
        "a temporary directory is in no repository"
    );

    let repo = ctx.dir.path().join("project");
    std::fs::create_dir_all(repo.join(".git")).expect("make a repository");
    std::fs::create_dir_all(repo.join("src")).expect("make a folder");
    let output = ctx
        .command(["status", "--json"])
        .current_dir(repo.join("src"))
        .output()
        .expect("run");
    let doc: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(doc["repo"]["path"], repo.display().to_string());
    assert_eq!(doc["repo"]["local_mode"], false);
}

#[test]
fn help_lists_every_command_of_the_contract() {
    let ctx = TestContext::new();
    let output = ctx.run(["--help"]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0));
    let commands = [
        "init",
        "status",
        "models",
        "verify",
        "restore",
        "repo",
        "shell-init",
        "run",
    ];
    for built in commands {
        assert!(
            stdout.contains(&format!("\n  {built} ")),
            "{built} is listed:\n{stdout}"
        );
    }
    let output = ctx.run(["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_codex_program_and_its_version_are_shown() {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    let doc = ctx.json(["status"], 0);
    assert_eq!(doc["codex"]["binary"], Value::Null, "no codex on PATH");
    let (stdout, _) = text(&ctx.run(["status"]));
    assert!(
        stdout.contains("not installed: `npm install -g @openai/codex@latest`"),
        "{stdout}"
    );

    // npm's layout: the version comes from package.json, without starting Node.
    let package = ctx.dir.path().join("npm/lib/node_modules/@openai/codex");
    std::fs::create_dir_all(package.join("bin")).expect("package folder");
    common::write(
        &package.join("package.json"),
        r#"{"name":"@openai/codex","version":"0.169.0"}"#,
    );
    let script = package.join("bin/codex.js");
    common::write(&script, "#!/bin/sh\nexit 3\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    std::os::unix::fs::symlink(&script, ctx.bin.join("codex")).expect("link");
    let doc = ctx.json(["status"], 0);
    assert_eq!(doc["codex"]["binary"]["version"], "0.169.0");
    assert_eq!(doc["codex"]["binary"]["supported"], true);

    // Any other install: `codex --version` answers.
    std::fs::remove_file(ctx.bin.join("codex")).expect("unlink");
    ctx.write_tool("codex", "#!/bin/sh\necho 'codex-cli 0.120.0'\n");
    let doc = ctx.json(["status"], 0);
    assert_eq!(doc["codex"]["binary"]["version"], "0.120.0");
    assert_eq!(doc["codex"]["binary"]["supported"], false);
    let (stdout, _) = text(&ctx.run(["status"]));
    assert!(
        stdout.contains("older than 0.156.0: update with `npm install -g @openai/codex@latest`"),
        "{stdout}"
    );
}
