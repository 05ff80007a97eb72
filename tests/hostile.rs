//! Runtimes that misbehave and input that is wrong: every wait is bounded, every reply is bounded, Ctrl-C stops any
//! step, bad values are usage errors that name themselves, and secrets never show.

#![expect(
    clippy::disallowed_methods,
    reason = "the test reads whether it runs in CI from its own environment"
)]
#![expect(
    clippy::print_stderr,
    reason = "measurements and skips are reported on stderr"
)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use common::fake::{FakeServer, Reply, SilentPort};
use common::lmstudio::{Download, FakeLmStudio};
use common::ollama::{FakeOllama, Pull, Responses, endless};
use common::{TestContext, read, text};

fn context_for(ollama: &FakeOllama) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    ctx
}

const INIT: [&str; 9] = [
    "init",
    "--yes",
    "--ram",
    "64GiB",
    "--gpu",
    "18GiB",
    "--model",
    "gpt-oss-20b",
    "-q",
];

/// The limit on memory the issue sets for any command, whatever a server sends.
const PEAK_LIMIT_KB: u64 = 64 * 1024;

/// Runs `args` under GNU time; its exit code, stderr, and peak resident memory in KiB. `None` when GNU time is not
/// installed (`.ci/test` installs it), so the caller can say it skipped.
fn peak(ctx: &TestContext, args: &[&str]) -> Option<(Option<i32>, String, u64)> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let report = ctx.dir.path().join("time.txt");
    let mut command = ctx.program(time);
    command
        .arg("-o")
        .arg(&report)
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_codex-local"))
        .args(args);
    let output = command.output().expect("run under GNU time");
    let kb = read(&report)
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("GNU time's figure");
    Some((output.status.code(), text(&output).1, kb))
}

fn skipped_without_time() {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must measure memory: `.ci/test` installs GNU time"
    );
    eprintln!("skipped: /usr/bin/time (GNU time) is not installed");
}

#[test]
fn an_endless_line_in_a_pull_stops_at_its_limit_in_little_memory() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|s| s.pull = Pull::EndlessLine);
    let ctx = context_for(&ollama);
    let Some((code, stderr, kb)) = peak(&ctx, &INIT) else {
        return skipped_without_time();
    };
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("sent a line of more than 1 MiB"),
        "{stderr}"
    );
    assert!(kb < PEAK_LIMIT_KB, "peak {kb} KiB");
    eprintln!("endless pull line: peak {kb} KiB");
}

#[test]
fn an_endless_answer_to_the_verification_stays_small_and_times_out() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::Endless);
    let mut ctx = context_for(&ollama);
    ctx.env("CODEX_LOCAL_VERIFY_TIMEOUT_S", "3");
    let Some((code, stderr, kb)) = peak(&ctx, &INIT) else {
        return skipped_without_time();
    };
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("did not answer within 3 s"), "{stderr}");
    assert!(kb < PEAK_LIMIT_KB, "peak {kb} KiB");
    eprintln!("endless verification stream: peak {kb} KiB");
}

#[test]
fn a_huge_answer_to_a_probe_is_cut_off_in_little_memory() {
    let server = FakeServer::start(|_| endless(b"{\"version\":\"".to_vec(), vec![b'9'; 64 << 10]));
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", server.host())
        .env("CODEX_LOCAL_PROBE_TIMEOUT_MS", "20000");
    let Some((code, stderr, kb)) = peak(&ctx, &["status", "--json"]) else {
        return skipped_without_time();
    };
    assert_eq!(code, Some(0), "{stderr}");
    assert!(kb < PEAK_LIMIT_KB, "peak {kb} KiB");
    let doc = ctx.json(["status"], 0);
    let ollama = common::find(&doc["runtimes"], "name", "ollama");
    assert!(
        ollama["error"]
            .as_str()
            .expect("an error")
            .contains("sent more than 4 MiB"),
        "{ollama:#}"
    );
    eprintln!("huge probe answer: peak {kb} KiB");
}

#[test]
fn a_pull_without_progress_stops_after_the_stall_limit() {
    for pull in [Pull::Repeat, Pull::Blank] {
        let ollama = FakeOllama::start("0.32.15");
        ollama.with(|s| s.pull = pull.clone());
        let mut ctx = context_for(&ollama);
        ctx.env("CODEX_LOCAL_STALL_TIMEOUT_S", "1");
        let stderr = ctx.fails(INIT);
        assert!(
            stderr.contains("`gpt-oss:20b` made no progress for 1 s"),
            "{pull:?}: {stderr}"
        );
        assert!(stderr.contains("run init again to resume"), "{stderr}");
        assert!(!ctx.codex_home.join("config.toml").exists());
    }
}

#[test]
fn an_lm_studio_download_without_progress_stops_too() {
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.download = Download::Stuck);
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host())
        .env("CODEX_LOCAL_POLL_INTERVAL_MS", "10")
        .env("CODEX_LOCAL_STALL_TIMEOUT_S", "1");
    let stderr = ctx.fails([
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
        "--runtime",
        "lmstudio",
    ]);
    assert!(stderr.contains("made no progress for 1 s"), "{stderr}");
}

#[test]
fn every_variable_with_a_bad_value_is_a_usage_error_that_names_it() {
    let mut tried = 0;
    for var in [
        "CODEX_LOCAL_PROBE_TIMEOUT_MS",
        "CODEX_LOCAL_VERIFY_TIMEOUT_S",
        "CODEX_LOCAL_POLL_INTERVAL_MS",
        "CODEX_LOCAL_STALL_TIMEOUT_S",
        "CODEX_LOCAL_LOCK_TIMEOUT_S",
    ] {
        for value in ["abc", "-5", "1.5", "99999999999999999999999", "86400000000"] {
            let mut ctx = TestContext::new();
            ctx.no_runtimes();
            ctx.env(var, value);
            let output = ctx.run(["status"]);
            let (_, stderr) = text(&output);
            assert_eq!(output.status.code(), Some(2), "{var}={value}: {stderr}");
            assert!(stderr.contains(var), "{var}={value}: {stderr}");
            tried += 1;
        }
    }
    eprintln!("{tried} bad values refused");
}

/// Starts `args`, waits until stderr shows `marker`, presses Ctrl-C; the exit code and what stderr said after.
fn interrupt(ctx: &TestContext, args: &[&str], marker: &str) -> (Option<i32>, String) {
    let mut command = ctx.program("timeout");
    command
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_codex-local"))
        .args(args)
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains(marker) {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read stderr") > 0,
            "ended before `{marker}`: {seen}"
        );
        seen.push_str(&line);
    }
    // `timeout` runs codex-local as its child: signal that one, as a terminal's Ctrl-C would.
    let pid = Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_owned();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success(), "signal {pid}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("read stderr");
    (child.wait().expect("wait").code(), format!("{seen}{rest}"))
}

#[test]
fn ctrl_c_stops_a_load_and_a_verification_with_130_and_writes_nothing() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.load_hangs = true);
    let ctx = context_for(&ollama);
    let args = [
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
    ];
    let (code, stderr) = interrupt(&ctx, &args, "context");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("Interrupted"), "{stderr}");
    assert!(!ctx.codex_home.join("config.toml").exists());

    ollama.with(|s| {
        s.load_hangs = false;
        s.responses = Responses::Hang;
    });
    let (code, stderr) = interrupt(&ctx, &args, "load");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(!ctx.codex_home.join("config.toml").exists());
}

#[test]
fn ports_that_cannot_be_dialled_are_usage_errors() {
    let ctx = TestContext::new();
    for value in ["http://127.0.0.1:65536", ":abc", "http://[::1", "box:0"] {
        let output = ctx.run(["status", "--ollama-url", value]);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("--ollama-url"), "{value}: {stderr}");
        assert!(stdout.is_empty());
    }
    // From the environment, the address matters only to commands that talk to the runtime.
    let mut ctx = TestContext::new();
    ctx.env("OLLAMA_HOST", "127.0.0.1:99999");
    assert_eq!(ctx.run(["status"]).status.code(), Some(2));
    assert_eq!(ctx.run(["restore"]).status.code(), Some(0));
    assert_eq!(ctx.run(["shell-init", "bash"]).status.code(), Some(0));
}

#[test]
fn a_password_in_the_address_is_used_but_never_shown_nor_written() {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env(
        "OLLAMA_HOST",
        format!("http://user:s3cret@{}", ollama.host()),
    );

    let output = ctx.run(["status", "--json"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "{stdout}{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        common::find(&doc["runtimes"], "name", "ollama")["running"],
        true
    );
    let sent = ollama.requests_to("/api/version");
    assert_eq!(
        sent[0].header("authorization"),
        Some("Basic dXNlcjpzM2NyZXQ="),
        "the user and password reach the runtime"
    );

    let doc = ctx.json(INIT, 1);
    let shown = doc.to_string();
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("never writes credentials"), "{shown}");
    assert!(shown.contains("env_http_headers"), "{shown}");
    assert!(!ctx.codex_home.join("config.toml").exists());

    ctx.env("OLLAMA_HOST", "http://user:s3cret@127.0.0.1:99999");
    let output = ctx.run(["status", "--json"]);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("user:***@"), "{stderr}");
    for args in [
        &["restore"][..],
        &["shell-init", "bash"],
        &["repo", "status"],
    ] {
        let output = ctx.run(args);
        assert_ne!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&output).1
        );
        assert!(!text(&output).1.contains("s3cret"));
    }
}

#[test]
fn run_starts_codex_on_the_home_it_checked() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let other = ctx.dir.path().join("other-home");
    std::fs::create_dir_all(&other).expect("mkdir");
    let home = other.to_str().expect("path");
    ctx.json(
        [
            "--codex-home",
            home,
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
    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(
        [
            "--codex-home",
            home,
            "repo",
            "on",
            repo.to_str().expect("path"),
        ],
        0,
    );
    ctx.write_tool("codex", "#!/bin/sh\necho \"CODEX_HOME=$CODEX_HOME\"\n");
    let output = ctx
        .command(["--codex-home", home, "run", "--", "exec", "hi"])
        .current_dir(&repo)
        .output()
        .expect("run");
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.trim(), format!("CODEX_HOME={home}"));
}

#[test]
fn messages_say_what_really_happened() {
    // A verification answer that drops is not a download to resume.
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, Some(65_536));
    ollama.with(|s| s.responses = Responses::Drop);
    let ctx = context_for(&ollama);
    let stderr = ctx.fails(INIT);
    assert!(stderr.contains("dropped before the answer of"), "{stderr}");
    assert!(!stderr.contains("resumes the download"), "{stderr}");

    // A context the model was not trained for is not a lack of memory.
    let stderr = ctx.fails([
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
        "--context",
        "262144",
    ]);
    assert!(stderr.contains("trained for 262144 tokens"), "{stderr}");
    assert!(!stderr.contains("memory"), "{stderr}");

    // A server that never answers, and one that answers HTML, are named as status names them.
    let silent = SilentPort::open();
    let html = FakeServer::start(|_| Reply::html(200, "<html>a router</html>"));
    for (host, says) in [
        (silent.host(), "no answer within"),
        (html.host(), "not an Ollama server"),
    ] {
        let mut ctx = TestContext::new();
        ctx.no_runtimes();
        ctx.env("OLLAMA_HOST", host);
        let stderr = ctx.fails(INIT);
        assert!(stderr.contains(says), "{stderr}");
    }

    // LM Studio with its authentication on, and no token: the hint names the variable.
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|s| s.token = Some("sk-secret".to_owned()));
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host());
    let stderr = ctx.fails([
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--gpu",
        "18GiB",
        "--model",
        "gpt-oss-20b",
        "--runtime",
        "lmstudio",
    ]);
    assert!(stderr.contains("LM_API_TOKEN"), "{stderr}");
}

#[test]
fn json_is_one_document_even_for_a_usage_error() {
    let ctx = TestContext::new();
    for args in [
        &["--json", "status", "--bogus"][..],
        &["--json", "init", "--context", "abc"],
        &["init", "--json", "--runtime", "vllm"],
    ] {
        let output = ctx.run(args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{args:?}: {err}: {stdout}"));
        assert!(
            doc["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{doc:#}"
        );
        assert_eq!(doc["error"]["exit_code"], 2);
    }
    let doc = ctx.json(["shell-init", "bash"], 0);
    assert!(
        doc["script"]
            .as_str()
            .expect("the script")
            .contains("run -- \"$@\""),
        "{doc:#}"
    );
}

#[test]
fn phases_that_go_back_and_forth_and_silence_are_stalls_too() {
    for pull in [Pull::Alternate, Pull::Hang] {
        let ollama = FakeOllama::start("0.32.15");
        ollama.with(|s| s.pull = pull.clone());
        let mut ctx = context_for(&ollama);
        ctx.env("CODEX_LOCAL_STALL_TIMEOUT_S", "1");
        let stderr = ctx.fails(INIT);
        assert!(
            stderr.contains("made no progress for 1 s"),
            "{pull:?}: {stderr}"
        );
    }
}

#[test]
fn a_server_cannot_forge_lines_of_codex_locals_output() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|s| s.pull = Pull::ForgedError);
    let ctx = context_for(&ollama);
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
    assert!(stderr.contains("disk full"), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|line| line.starts_with("✓ configure") || line.contains('\x1b')),
        "{stderr}"
    );
}

#[test]
fn addresses_with_a_query_a_bare_number_or_a_redirect_are_not_followed() {
    let ctx = TestContext::new();
    for value in [
        "http://127.0.0.1:11434/?token=hunter2",
        "http://127.0.0.1:11434/#x",
        "18008",
    ] {
        let output = ctx.run(["status", "--ollama-url", value]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{value}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    let ollama = FakeOllama::start("0.32.15");
    let target = ollama.host();
    let redirect = FakeServer::start(move |_| Reply::Full {
        status: 302,
        content_type: "text/plain",
        body: format!("see http://{target}/api/version").into_bytes(),
    });
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", redirect.host());
    let doc = ctx.json(["status"], 0);
    assert_eq!(
        common::find(&doc["runtimes"], "name", "ollama")["running"],
        false
    );
}

#[test]
fn json_is_refused_where_it_cannot_be_one_document_and_kept_where_it_can() {
    let ctx = TestContext::new();
    for args in [
        &["--json", "repo"][..],
        &["--json=true", "status"],
        &["--json", "run", "--", "hi"],
    ] {
        let output = ctx.run(args);
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        let doc: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{args:?}: {err}: {stdout}"));
        assert!(doc["error"]["message"].is_string(), "{doc:#}");
    }
}
