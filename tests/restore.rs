//! `codex-local restore`: after init, Codex's files are as they were, but for what the user changed since.

mod common;

use common::ollama::FakeOllama;
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

#[test]
fn restore_puts_back_every_byte_init_changed() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let before = read(std::path::Path::new(
        "tests/fixtures/config/comments/in.toml",
    ));
    let config = ctx.write_config(&before);
    ctx.json(INIT, 0);
    assert_ne!(read(&config), before);
    assert!(ctx.codex_home.join("local.config.toml").exists());

    let doc = ctx.json(["restore"], 0);

    assert_eq!(doc["restored"], true);
    assert_eq!(read(&config), before, "config.toml is as it was");
    assert!(
        !ctx.codex_home.join("local.config.toml").exists(),
        "the profile init created is gone"
    );
    assert!(
        doc["models"][0]["name"]
            .as_str()
            .expect("the variant")
            .ends_with("-ctx64k")
    );
    // Nothing is left to undo; what stays is which model codex-local made, so that a later init knows it as its own.
    let journal: serde_json::Value =
        serde_json::from_str(&read(&ctx.codex_home.join("codex-local/journal.json")))
            .expect("JSON");
    assert_eq!(journal["files"], serde_json::json!({}), "{journal}");
    assert_eq!(journal["models"], serde_json::json!([]), "{journal}");
    assert!(
        journal["made"][0]["name"]
            .as_str()
            .is_some_and(|name| name.ends_with("-ctx64k")),
        "{journal}"
    );

    let output = ctx.run(["restore"]);
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("Nothing to restore"), "{stdout}");
    assert_eq!(read(&config), before);
}

#[test]
fn restore_keeps_what_the_user_changed_after_init() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");
    ctx.json(INIT, 0);
    let edited = read(&config).replace(
        "model_context_window = 65536",
        "model_context_window = 40000",
    );
    ctx.write_config(&edited);

    let output = ctx.run(["restore"]);
    let (stdout, stderr) = text(&output);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("model_context_window = 40000 kept"),
        "{stdout}"
    );
    assert!(stdout.contains("model = \"gpt-5\""), "{stdout}");
    assert_eq!(
        read(&config),
        "model = \"gpt-5\"\nmodel_context_window = 40000\n"
    );
}

#[test]
fn a_second_init_does_not_lose_the_original_values() {
    let ollama = FakeOllama::start("0.32.15");
    // As a real Ollama whose default is 32k tokens (it gives that on 23 GiB of VRAM or more).
    ollama.with(|s| s.default_ctx = 32_768);
    let ctx = context_for(&ollama);
    let config = ctx.write_config("model = \"gpt-5\"\n");
    ctx.json(INIT, 0);
    ctx.json(
        [
            "init",
            "--ram",
            "64GiB",
            "--gpu",
            "18GiB",
            "--context",
            "32768",
            "--model",
            "gpt-oss:20b",
        ],
        0,
    );
    assert!(read(&config).contains("model_context_window = 32768"));

    ctx.json(["restore"], 0);

    assert_eq!(read(&config), "model = \"gpt-5\"\n");
}

#[test]
fn restore_undoes_repo_on_and_says_which_repositories_stay_local() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = context_for(&ollama);
    ctx.json(INIT, 0);
    let repo = ctx.dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("a repository");
    ctx.json(["repo", "on", repo.to_str().expect("path")], 0);
    assert!(repo.join(".codex/config.toml").exists());

    let doc = ctx.json(["restore"], 0);

    assert!(
        !repo.join(".codex/config.toml").exists(),
        "the file `repo on` created is gone"
    );
    assert_eq!(doc["local_mode_repos"][0], repo.display().to_string());
    let (stdout, _) = text(&ctx.run(["restore"]));
    assert!(stdout.contains("is still in local mode"), "{stdout}");
    assert!(stdout.contains("codex-local repo off"), "{stdout}");
}
