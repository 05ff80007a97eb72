//! `codex-local init` on a fake LM Studio: download through its job API, load with the context, configure Codex,
//! verify; an instance with too short a context, authentication, and an LM Studio too old for the API.

mod common;

use common::lmstudio::{Download, FakeLmStudio};
use common::{TestContext, read, toml};
use serde_json::Value;

const KEY: &str = "openai/gpt-oss-20b";

fn context_for(lmstudio: &FakeLmStudio) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host())
        .env("CODEX_LOCAL_POLL_INTERVAL_MS", "1");
    ctx
}

fn init(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "init",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
        "--runtime",
        "lmstudio",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn step<'a>(doc: &'a Value, name: &str) -> &'a Value {
    common::find(&doc["steps"], "name", name)
}

#[test]
fn init_downloads_loads_with_the_context_and_configures_codex() {
    let lmstudio = FakeLmStudio::start();
    let ctx = context_for(&lmstudio);

    let doc = ctx.json(init(&["--yes"]), 0);

    assert_eq!(doc["runtime"], "lmstudio");
    assert_eq!(doc["base_model"], KEY);
    assert_eq!(doc["model"], KEY);
    assert_eq!(doc["verified"], true);
    assert_eq!(step(&doc, "pull")["status"], "done");
    assert_eq!(step(&doc, "context")["status"], "done");
    assert_eq!(
        lmstudio
            .requests_to("/api/v1/models/download/status/job_1")
            .len(),
        3,
        "polled to completion"
    );
    let load: Value =
        serde_json::from_slice(&lmstudio.requests_to("/api/v1/models/load")[0].body).expect("JSON");
    assert_eq!(load["model"], KEY);
    assert_eq!(load["context_length"], 65536);
    assert_eq!(load["echo_load_config"], true);

    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(
        config["model_provider"].as_str(),
        Some("codex-local-lmstudio")
    );
    assert_eq!(config["model"].as_str(), Some(KEY));
    assert_eq!(config["model_context_window"].as_integer(), Some(65536));
    let table = &config["model_providers"]["codex-local-lmstudio"];
    assert_eq!(
        table["base_url"].as_str(),
        Some(format!("http://127.0.0.1:{}/v1", lmstudio.server.port).as_str())
    );
    assert!(table.get("env_key").is_none(), "no token, no env_key");

    // Again: nothing to download, the instance is loaded with enough context, nothing changes.
    let doc = ctx.json(init(&[]), 0);
    assert_eq!(doc["changed"], false);
    assert_eq!(step(&doc, "pull")["status"], "skipped");
    assert_eq!(step(&doc, "context")["status"], "skipped");
    assert_eq!(lmstudio.requests_to("/api/v1/models/load").len(), 1);
}

#[test]
fn an_instance_with_too_short_a_context_is_replaced() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| {
        s.downloaded.push((KEY.to_owned(), 12_109_710_000));
        s.instances.push(common::lmstudio::Instance {
            id: KEY.to_owned(),
            key: KEY.to_owned(),
            context: 4096,
        });
    });
    let ctx = context_for(&lmstudio);

    let doc = ctx.json(init(&[]), 0);

    let unload: Value =
        serde_json::from_slice(&lmstudio.requests_to("/api/v1/models/unload")[0].body)
            .expect("JSON");
    assert_eq!(unload["instance_id"], KEY);
    let instances = lmstudio.instances();
    assert_eq!(
        instances.len(),
        1,
        "no second instance `{KEY}:2`: {instances:?}"
    );
    assert_eq!(instances[0].context, 65536);
    assert_eq!(doc["model"], KEY);
    assert!(
        step(&doc, "context")["detail"]
            .as_str()
            .expect("detail")
            .contains("unloaded 1")
    );
}

#[test]
fn what_lm_studio_really_loads_is_what_codex_is_told() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| {
        s.downloaded.push((KEY.to_owned(), 12_109_710_000));
        s.load_cap = Some(32_768);
    });
    let ctx = context_for(&lmstudio);

    let doc = ctx.json(init(&[]), 0);

    assert!(
        doc["warnings"].to_string().contains("only 32768 tokens"),
        "{doc:#}"
    );
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model_context_window"].as_integer(), Some(32768));
}

#[test]
fn with_authentication_codex_gets_a_provider_that_sends_the_token() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.token = Some("sk-lm-secret".to_owned()));
    let mut ctx = context_for(&lmstudio);
    ctx.env("LM_API_TOKEN", "sk-lm-secret");

    let doc = ctx.json(init(&["--yes"]), 0);

    assert_eq!(doc["verified"], true);
    let config = toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(
        config["model_provider"].as_str(),
        Some("codex-local-lmstudio")
    );
    assert_eq!(
        config["model_providers"]["codex-local-lmstudio"]["env_key"].as_str(),
        Some("LM_API_TOKEN")
    );
    assert!(
        !read(&ctx.codex_home.join("config.toml")).contains("sk-lm-secret"),
        "the token itself is never written"
    );
    for path in [
        "/api/v1/models/download",
        "/api/v1/models/load",
        "/v1/responses",
    ] {
        let request = &lmstudio.requests_to(path)[0];
        assert_eq!(
            request.header("authorization"),
            Some("Bearer sk-lm-secret"),
            "{path}"
        );
    }
}

#[test]
fn a_failed_download_stops_init_and_changes_nothing() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.download = Download::Fail);
    let ctx = context_for(&lmstudio);

    let stderr = ctx.fails(init(&["--yes"]));
    assert!(
        stderr.contains("LM Studio could not download `openai/gpt-oss-20b`: the download failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: check LM Studio's Downloads panel"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&ctx.codex_home).expect("dir").count(), 0);
}

#[test]
fn an_lm_studio_without_the_api_says_what_to_do() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.download = Download::Unsupported);
    let ctx = context_for(&lmstudio);

    let stderr = ctx.fails(init(&["--yes"]));
    assert!(stderr.contains("needs LM Studio 0.4 or later"), "{stderr}");
    assert!(stderr.contains("`lms get openai/gpt-oss-20b`"), "{stderr}");
}

#[test]
fn ctrl_c_stops_following_a_download_and_says_lm_studio_goes_on() {
    use std::io::{BufRead, BufReader, Read};
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.download = Download::Succeed { polls: u64::MAX });
    let ctx = context_for(&lmstudio);
    let mut child = ctx
        .command(init(&["--yes"]))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start init");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains("downloading") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read") > 0,
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
    stderr.read_to_string(&mut rest).expect("read");
    assert_eq!(
        child.wait().expect("wait").code(),
        Some(130),
        "{seen}{rest}"
    );
    assert!(
        rest.contains("Stopped following the download of `openai/gpt-oss-20b`"),
        "{rest}"
    );
    assert!(
        rest.contains("LM Studio goes on downloading in the background"),
        "{rest}"
    );
    assert_eq!(
        std::fs::read_dir(&ctx.codex_home).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn init_starts_lm_studios_server_with_lms_when_allowed() {
    let port = common::fake::closed_port();
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", format!("127.0.0.1:{port}"))
        .env("CODEX_LOCAL_POLL_INTERVAL_MS", "1");
    let fifo = ctx.dir.path().join("started");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // `lms server start` starts the server and returns, as the real one does.
    ctx.write_tool(
        "lms",
        &format!("#!/bin/sh\necho \"$*\" > '{}'\n", fifo.display()),
    );
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args = std::fs::read_to_string(&fifo).expect("read the FIFO");
        let lmstudio = FakeLmStudio::start_at(port);
        let _ = send.send((args.trim().to_owned(), lmstudio));
    });

    let output = ctx.run([
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
    let (stdout, stderr) = common::text(&output);

    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let (args, lmstudio) = receive.try_recv().expect("`lms` was run");
    assert_eq!(args, format!("server start --port {port}"));
    assert!(
        stderr.contains("Starting LM Studio (`lms server start`)"),
        "{stderr}"
    );
    assert_eq!(lmstudio.requests_to("/api/v1/models/load").len(), 1);
    assert_eq!(
        toml(&ctx.codex_home.join("config.toml"))["model"].as_str(),
        Some(KEY)
    );
}
