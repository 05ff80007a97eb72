//! Any Ollama name, sized before the pull from its manifest and GGUF header in the registry (a fake on loopback,
//! serving blobs behind a redirect and with HTTP ranges).

mod common;

use common::ollama::FakeOllama;
use common::registry::{Entry, FakeRegistry, Gguf, PLAIN_TEMPLATE, TOOLS_TEMPLATE, coder_header};
use common::{TestContext, text};
use serde_json::Value;

const SIZE: u64 = 18_556_700_761;

fn registry(ranges: bool) -> FakeRegistry {
    FakeRegistry::start(
        vec![
            Entry {
                name: "someone/coder:q4".to_owned(),
                // A 150k-token vocabulary makes a header of several MB.
                head: coder_header(150_000),
                size: SIZE,
                template: TOOLS_TEMPLATE.to_owned(),
                whole: None,
            },
            Entry {
                name: "someone/chat:q4".to_owned(),
                head: coder_header(10),
                size: SIZE,
                template: PLAIN_TEMPLATE.to_owned(),
                whole: None,
            },
            Entry {
                name: "someone/broken:q4".to_owned(),
                head: b"PK\x03\x04 a zip, not a model".to_vec(),
                size: 1_000_000,
                template: TOOLS_TEMPLATE.to_owned(),
                whole: None,
            },
            Entry {
                name: "someone/huge:q4".to_owned(),
                head: Gguf::default()
                    .string("general.architecture", "llama")
                    .u32("llama.block_count", 1_000_000_000)
                    .bytes(),
                size: 1_000_000,
                template: TOOLS_TEMPLATE.to_owned(),
                whole: None,
            },
        ],
        ranges,
    )
}

fn context(registry: &FakeRegistry) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", registry.url());
    ctx
}

#[test]
fn a_model_outside_the_catalog_is_sized_from_its_header_before_any_pull() {
    let registry = registry(true);
    let ctx = context(&registry);

    let doc = ctx.json(
        [
            "models",
            "--model",
            "someone/coder:q4",
            "--ram",
            "64GiB",
            "--gpu",
            "RTX 4090",
        ],
        0,
    );

    let row = &doc["models"][0];
    assert_eq!(row["id"], "someone/coder:q4");
    assert_eq!(row["size_bytes"], SIZE);
    // 48 layers × 4 heads × (128 + 128) × 2 bytes = 96 KiB per token: 6 GiB at 64k, as for the catalog's Qwen3-Coder.
    assert_eq!(row["kv_bytes"], 6_u64 << 30, "{row}");
    assert_eq!(row["context_length"], 65_536);
    assert_ne!(row["fit"], "no");
    assert!(
        row["decode_tps"].as_f64().is_some_and(|tps| tps > 20.0),
        "a mixture of experts: {row}"
    );
    let sized = &doc["sized_from"];
    assert_eq!(sized["architecture"], "qwen3moe");
    assert_eq!(sized["tools"], true);
    let read = sized["header_bytes_read"].as_u64().expect("bytes read");
    assert!(read < 10 << 20, "under 10 MB read: {read}");
    assert_eq!(
        registry.blob_bytes(),
        read,
        "only the ranges asked for crossed the network"
    );
    let ranges = registry.seen.lock().expect("lock").ranges.clone();
    assert_eq!(
        ranges.first().map(String::as_str),
        Some("bytes=0-1048575"),
        "{ranges:?}"
    );
    assert!(
        ranges.len() >= 2,
        "the header needed more than the first 1 MiB: {ranges:?}"
    );
}

#[test]
fn a_registry_without_ranges_is_read_only_as_far_as_needed() {
    let registry = registry(false);
    let ctx = context(&registry);

    let doc = ctx.json(
        ["models", "--model", "someone/coder:q4", "--ram", "64GiB"],
        0,
    );

    assert_eq!(doc["models"][0]["kv_bytes"], 6_u64 << 30);
    let read = doc["sized_from"]["header_bytes_read"]
        .as_u64()
        .expect("read");
    assert!(read < 16 << 20, "{read}");
}

#[test]
fn a_registry_answering_another_range_is_refused_and_its_password_never_shown() {
    let registry = registry(true);
    registry
        .misplaced
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut ctx = context(&registry);
    let with_password = registry.url().replace("http://", "http://alice:s3cretPW@");
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", &with_password);
    let args = ["models", "--model", "someone/coder:q4", "--ram", "64GiB"];

    let stderr = ctx.fails(args);
    let doc = ctx.json(args, 1);

    assert!(
        stderr.contains("it answered with another part of the file"),
        "{stderr}"
    );
    assert!(stderr.contains("alice:***@"), "{stderr}");
    assert!(!doc.to_string().contains("s3cretPW"), "{doc}");
    assert!(!stderr.contains("s3cretPW"), "{stderr}");
    // A registry that is not there: reqwest's own words name the address too.
    ctx.env(
        "CODEX_LOCAL_OLLAMA_REGISTRY",
        "http://alice:s3cretPW@127.0.0.1:1",
    );
    let stderr = ctx.fails(args);
    assert!(stderr.contains("Cannot read"), "{stderr}");
    assert!(
        stderr.contains("refused"),
        "the reason underneath is said: {stderr}"
    );
    assert!(!stderr.contains("s3cretPW"), "{stderr}");
}

#[test]
fn a_registry_that_wants_credentials_a_pause_or_sends_a_compressed_file_says_so() {
    let registry = registry(true);
    let ctx = context(&registry);
    let args = ["models", "--model", "someone/coder:q4", "--ram", "64GiB"];
    for (answer, says) in [
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "asks for credentials",
        ),
        (
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "asks to wait for 30 s",
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\nConnection: close\r\n\r\n\u{1f}\u{8b}\u{8}\u{0}",
            "compressed (`gzip`)",
        ),
    ] {
        *registry.blob_answer.lock().expect("lock") = Some(answer.to_owned());
        let stderr = ctx.fails(args);
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[test]
fn a_manifest_claiming_an_absurd_size_is_refused_by_name() {
    let registry = FakeRegistry::start(
        vec![Entry {
            name: "someone/huge:q4".to_owned(),
            head: coder_header(10),
            size: u64::MAX - 1000,
            template: TOOLS_TEMPLATE.to_owned(),
            whole: None,
        }],
        true,
    );
    let ctx = context(&registry);

    let stderr = ctx.fails(["models", "--model", "someone/huge:q4", "--ram", "64GiB"]);

    assert!(
        stderr.contains(
            "the layer `application/vnd.ollama.image.model` holds 18446744073709550615 bytes"
        ),
        "{stderr}"
    );
    assert_eq!(registry.blob_bytes(), 0, "no header read for it");
}

#[test]
fn init_plans_any_ollama_name_and_refuses_one_without_tools_before_the_pull() {
    let registry = registry(true);
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = context(&registry);
    ctx.env("OLLAMA_HOST", ollama.host());

    let doc = ctx.json(
        [
            "init",
            "--dry-run",
            "--ram",
            "64GiB",
            "--gpu",
            "RTX 4090",
            "--model",
            "someone/coder:q4",
        ],
        0,
    );
    assert_eq!(doc["base_model"], "someone/coder:q4");
    assert_eq!(doc["model"], "someone/coder:q4-ctx64k");
    assert!(
        doc["warnings"]
            .to_string()
            .contains("sized from its GGUF header"),
        "{doc}"
    );

    let stderr = ctx.fails([
        "init",
        "--yes",
        "--ram",
        "64GiB",
        "--model",
        "someone/chat:q4",
    ]);
    assert!(stderr.contains("cannot call tools"), "{stderr}");
    assert!(
        ollama.requests_to("/api/pull").is_empty(),
        "refused before the pull"
    );
}

#[test]
fn names_that_do_not_exist_or_files_that_are_not_models_are_refused_by_name() {
    let registry = registry(true);
    let ctx = context(&registry);

    let stderr = ctx.fails(["models", "--model", "someone/nothing:q4"]);
    assert!(
        stderr.contains("The registry has no `someone/nothing:q4`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: check the name"), "{stderr}");

    let stderr = ctx.fails(["models", "--model", "someone/broken:q4"]);
    assert!(stderr.contains("this is not a GGUF file"), "{stderr}");

    let stderr = ctx.fails(["models", "--model", "someone/huge:q4"]);
    assert!(
        stderr.contains("`llama.block_count` = 1000000000 is not a value any model has"),
        "{stderr}"
    );

    let output = ctx.run(["models", "--model", "a/b/c/d"]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a model name"), "{stderr}");

    let mut bad = TestContext::new();
    bad.no_runtimes();
    bad.env("CODEX_LOCAL_OLLAMA_REGISTRY", "ftp://mirror");
    let output = bad.run(["models", "--model", "x"]);
    assert_eq!(output.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(
        &bad.command(["models", "--model", "x", "--json"])
            .output()
            .expect("run")
            .stdout,
    )
    .expect("JSON");
    assert!(
        doc["error"]["message"]
            .to_string()
            .contains("CODEX_LOCAL_OLLAMA_REGISTRY")
    );
}

#[test]
fn a_registry_that_answers_without_end_is_cut_off() {
    use common::fake::FakeServer;
    // A manifest that never ends.
    let endless = FakeServer::start(|_| {
        common::ollama::endless(b"{\"layers\": [".to_vec(), b" ".repeat(64 << 10))
    });
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env(
        "CODEX_LOCAL_OLLAMA_REGISTRY",
        format!("http://{}", endless.host()),
    );

    let stderr = ctx.fails(["models", "--model", "someone/coder:q4"]);

    assert!(stderr.contains("more than 1024 KiB"), "{stderr}");
}

/// A small model file on disk: a header with `template`, then some bytes of weights.
/// `init` importing `path` with no network, for a machine with an RTX 4090.
fn import_offline(path: &str) -> [&str; 9] {
    [
        "init",
        "--yes",
        "--offline",
        "--ram",
        "64GiB",
        "--gpu",
        "RTX 4090",
        "--model",
        path,
    ]
}

/// A test context whose only runtime is `ollama`.
fn with_ollama(ollama: &FakeOllama) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    ctx
}

fn model_file(ctx: &TestContext, name: &str, template: &str) -> std::path::PathBuf {
    let mut bytes = Gguf::default()
        .string("general.architecture", "qwen3moe")
        .string("tokenizer.chat_template", template)
        .u32("qwen3moe.block_count", 48)
        .u32("qwen3moe.context_length", 262_144)
        .u32("qwen3moe.attention.head_count", 32)
        .u32("qwen3moe.attention.head_count_kv", 4)
        .u32("qwen3moe.attention.key_length", 128)
        .u32("qwen3moe.attention.value_length", 128)
        .tensor("token_embd.weight", &[2048, 151_936])
        .tensor("blk.0.attn_q.weight", &[2048, 4096])
        .bytes();
    bytes.resize(bytes.len() + (3 << 20), 7);
    let path = ctx.dir.path().join(name);
    common::write_bytes(&path, &bytes);
    path
}

#[test]
fn text_from_a_file_cannot_drive_the_terminal_and_no_cause_is_said_twice() {
    let ctx = TestContext::new();
    let hostile = "x\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{202e}";
    let bytes = Gguf::default()
        .string("general.architecture", hostile)
        .u32(&format!("{hostile}.block_count"), 1_000_000_000)
        .bytes();
    let path = ctx.dir.path().join("esc.gguf");
    common::write_bytes(&path, &bytes);

    let stderr = ctx.fails(["models", "--model", path.to_str().expect("path")]);

    assert!(
        stderr.contains("block_count"),
        "the field is named: {stderr}"
    );
    assert!(
        !stderr.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "{stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        if let Some(cause) = line.trim().strip_prefix("Caused by: ") {
            assert!(
                !lines[..at].iter().any(|earlier| earlier.contains(cause)),
                "said twice: {stderr}"
            );
        }
    }
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: import, then nothing to do"
)]
fn a_model_file_is_imported_into_ollama_with_its_context_even_offline() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = with_ollama(&ollama);
    let file = model_file(
        &ctx,
        "My Coder-Q4_K_M.gguf",
        "{% if tools %}{{ tools }}{% endif %}",
    );
    let path = file.to_str().expect("path");

    let doc = ctx.json(import_offline(path), 0);

    assert_eq!(doc["model"], "my-coder-q4_k_m:ctx64k");
    let import = common::find(&doc["steps"], "name", "import");
    assert_eq!(import["status"], "done", "{doc}");
    let blobs = ollama.state.lock().expect("lock").blobs.clone();
    let size = std::fs::metadata(&file).expect("file").len();
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[0].1 as u64, size, "the whole file was sent");
    assert!(
        ollama.requests_to("/api/pull").is_empty(),
        "nothing downloaded"
    );
    assert_eq!(
        ollama.has("my-coder-q4_k_m:ctx64k").and_then(|m| m.num_ctx),
        Some(65_536)
    );
    let config = common::toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model"].as_str(), Some("my-coder-q4_k_m:ctx64k"));
    let journal = common::read(&ctx.codex_home.join("codex-local/journal.json"));
    assert!(
        journal.contains("my-coder-q4_k_m:ctx64k"),
        "restore can name it"
    );

    // The second time, Ollama has the blob and the model: nothing is sent again.
    let init = import_offline(path);
    let doc = ctx.json(init, 0);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "skipped"
    );
    assert_eq!(ollama.state.lock().expect("lock").blobs.len(), 1);

    // After `restore` the model is still codex-local's own: init takes it again, as it is.
    let restored = ctx.json(["restore"], 0);
    assert_eq!(restored["models"][0]["name"], "my-coder-q4_k_m:ctx64k");
    let doc = ctx.json(init, 0);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "skipped",
        "{doc}"
    );
    // …and `restore` names it again.
    let restored = ctx.json(["restore"], 0);
    assert_eq!(
        restored["models"][0]["name"], "my-coder-q4_k_m:ctx64k",
        "{restored}"
    );

    // A new file by the same name replaces codex-local's own model, not a user's.
    let creates = ollama.requests_to("/api/create").len();
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend_from_slice(b"a newer quantization");
    common::write_bytes(&file, &bytes);
    let doc = ctx.json(init, 0);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "done",
        "{doc}"
    );
    assert_eq!(ollama.requests_to("/api/create").len(), creates + 1);
    assert_eq!(ollama.state.lock().expect("lock").blobs.len(), 2);
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: a model codex-local made, through kills, changes and other addresses"
)]
fn an_imported_model_is_codex_locals_by_address_and_digest_and_a_users_is_never_taken() {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = with_ollama(&ollama);
    ctx.env("CODEX_LOCAL_STALL_TIMEOUT_S", "1");
    let file = model_file(&ctx, "m.gguf", "{% if tools %}{{ tools }}{% endif %}");
    let path = file.to_str().expect("path").to_owned();
    let init = |more: &[&str]| {
        let mut args = vec![
            "init",
            "--yes",
            "--offline",
            "--ram",
            "64GiB",
            "--gpu",
            "RTX 4090",
        ];
        args.extend(more);
        args.extend(["--model", path.as_str()]);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };

    // Ollama makes the model, and init never hears it finish (as after a kill): the model is journaled even so.
    ollama.with(|state| state.create_hangs = true);
    let stderr = ctx.fails(init(&[]));
    assert!(ollama.has("m:ctx64k").is_some(), "{stderr}");
    let restored = ctx.json(["restore"], 0);
    assert_eq!(restored["models"][0]["name"], "m:ctx64k", "{restored}");
    assert_eq!(restored["models"][0]["pending"], true, "{restored}");

    // The next init cannot tell it from a model made since by someone else: it says so, and what to do.
    ollama.with(|state| state.create_hangs = false);
    let output = ctx.run(init(&[]));
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("was stopped while making one by that name"),
        "{stderr}"
    );
    assert!(stderr.contains("`ollama rm m:ctx64k`"), "{stderr}");
    // `ollama rm m:ctx64k`, as the hint says; then init imports it.
    ollama.with(|state| state.installed.retain(|m| m.name != "m:ctx64k"));
    let doc = ctx.json(init(&[]), 0);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "done",
        "{doc}"
    );

    // A changed file makes it again, and the configurations that use it are named.
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend_from_slice(b"a newer quantization");
    common::write_bytes(&file, &bytes);
    let output = ctx.run(init(&["--profile", "beta", "--profile-only"]));
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("config.toml, profile `local` use it too"),
        "{stderr}"
    );

    // Changed by someone else since (another digest): no longer codex-local's.
    ollama.with(|state| {
        let model = state
            .installed
            .iter_mut()
            .find(|m| m.name == "m:ctx64k")
            .expect("model");
        model.digest = "0".repeat(64);
    });
    let creates = ollama.requests_to("/api/create").len();
    let output = ctx.run(init(&[]));
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("or it was changed since"), "{stderr}");
    assert_eq!(ollama.requests_to("/api/create").len(), creates);

    // The same name at another address is someone else's.
    let other = FakeOllama::start("0.32.15");
    other.install("m:ctx64k", 1000, None);
    ctx.env("OLLAMA_HOST", other.host());
    assert_eq!(ctx.run(init(&[])).status.code(), Some(2));
    assert_eq!(other.has("m:ctx64k").map(|m| m.size), Some(1000));
    assert!(other.requests_to("/api/create").is_empty());

    // Names that differ only in case, namespace or tag spelled out are one model to Ollama.
    other.install("mine:latest", 1000, None);
    for name in [
        "MINE",
        "library/mine",
        "registry.ollama.ai/library/mine:latest",
    ] {
        assert_eq!(
            ctx.run(init(&["--name", name])).status.code(),
            Some(2),
            "{name}"
        );
    }
    assert_eq!(other.has("mine:latest").map(|m| m.size), Some(1000));

    // A name given without a tag is looked up as Ollama lists it (`:latest`): its digest is journaled, and a
    // model the user makes by that name later is not taken.
    ctx.json(init(&["--name", "coder"]), 0);
    let journal: Value = serde_json::from_str(&common::read(
        &ctx.codex_home.join("codex-local/journal.json"),
    ))
    .expect("JSON");
    let made = journal["made"]
        .as_array()
        .and_then(|made| made.iter().find(|m| m["name"] == "coder"))
        .expect("coder journaled");
    assert!(made["digest"].is_string(), "{made}");
    other.with(|state| {
        let model = state
            .installed
            .iter_mut()
            .find(|m| m.name == "coder:latest")
            .expect("coder");
        model.digest = "1".repeat(64);
    });
    assert_eq!(ctx.run(init(&["--name", "coder"])).status.code(), Some(2));

    // A damaged journal is said to be one, not taken for an empty one.
    ctx.env("OLLAMA_HOST", ollama.host());
    common::write(
        &ctx.codex_home.join("codex-local/journal.json"),
        "{\"version\":1,\"files\":",
    );
    let stderr = ctx.fails(init(&[]));
    assert!(stderr.contains("journal.json"), "{stderr}");
}

#[test]
fn a_model_an_older_codex_local_imported_is_still_its_own() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("m:ctx64k", 1000, Some(65_536));
    let ctx = with_ollama(&ollama);
    let file = model_file(&ctx, "m.gguf", "{% if tools %}{{ tools }}{% endif %}");
    // The journal as the first codex-local that imported files wrote it: no digest, no source.
    common::write(
        &ctx.codex_home.join("codex-local/journal.json"),
        &format!(
            r#"{{"version":2,"files":{{}},"models":[{{"runtime":"ollama","url":"http://{}/","name":"m:ctx64k"}}]}}"#,
            ollama.host()
        ),
    );

    let doc = ctx.json(import_offline(file.to_str().expect("path")), 0);

    assert_eq!(doc["model"], "m:ctx64k", "{doc}");
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "done",
        "made again from the file, as its own: {doc}"
    );
}

#[test]
fn run_never_makes_an_imported_model_again_from_a_model_that_happens_to_share_its_stem() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = with_ollama(&ollama);
    let file = model_file(&ctx, "m.gguf", "{% if tools %}{{ tools }}{% endif %}");
    ctx.json(import_offline(file.to_str().expect("path")), 0);
    // `ollama rm m:ctx64k`; the user has a model of their own called `m`.
    ollama.with(|state| state.installed.retain(|m| m.name != "m:ctx64k"));
    ollama.install("m", 1000, None);
    let creates = ollama.requests_to("/api/create").len();
    ctx.write_tool("codex", "#!/bin/sh\nexit 7\n");

    let output = ctx
        .command(["run", "--", "exec", "hi"])
        .output()
        .expect("run");

    let (_, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(7),
        "Codex starts outside local mode: {stderr}"
    );
    assert!(stderr.contains("no longer has `m:ctx64k`"), "{stderr}");
    assert_eq!(
        ollama.requests_to("/api/create").len(),
        creates,
        "nothing made from `m`"
    );
}

#[test]
fn an_import_the_runtime_refuses_leaves_nothing_journaled() {
    let ollama = FakeOllama::start("0.32.15");
    ollama.with(|state| state.create_fails = true);
    let ctx = with_ollama(&ollama);
    let file = model_file(&ctx, "m.gguf", "{% if tools %}{{ tools }}{% endif %}");

    let stderr = ctx.fails(import_offline(file.to_str().expect("path")));

    assert!(stderr.contains("invalid file magic"), "{stderr}");

    // Offline, a name that is not installed is not looked up: the way to bring it is named.
    let stderr = ctx.fails(["init", "--yes", "--offline", "--model", "someone/coder:q4"]);
    assert!(
        stderr.contains("codex-local pack DIR --model NAME"),
        "{stderr}"
    );
    assert!(ollama.has("m:ctx64k").is_none());
    assert!(
        !ctx.codex_home.join("codex-local/journal.json").exists(),
        "the model noted before Ollama was asked is forgotten: nothing was made"
    );
    assert!(
        !ctx.codex_home.join("config.toml").exists(),
        "Codex untouched"
    );
}

#[test]
fn models_recommends_a_file_by_its_path() {
    let ctx = TestContext::new();
    let file = model_file(
        &ctx,
        "my model.gguf",
        "{% if tools %}{{ tools }}{% endif %}",
    );
    let path = file.to_str().expect("path");

    let output = ctx.run([
        "models", "--model", path, "--ram", "64GiB", "--gpu", "RTX 4090",
    ]);

    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!("`codex-local init --model '{path}'`")),
        "{stdout}"
    );
}

#[test]
fn a_file_that_is_not_a_model_or_cannot_call_tools_is_refused_before_anything_is_sent() {
    let ollama = FakeOllama::start("0.32.15");
    let ctx = with_ollama(&ollama);
    let plain = model_file(&ctx, "chat.gguf", "{{ messages }}");
    let stderr = ctx.fails(["init", "--yes", "--model", plain.to_str().expect("path")]);
    assert!(stderr.contains("cannot call tools"), "{stderr}");

    let fake = ctx.dir.path().join("notes.gguf");
    common::write_bytes(&fake, b"these are not weights");
    let stderr = ctx.fails(["init", "--yes", "--model", fake.to_str().expect("path")]);
    assert!(
        stderr.contains("notes.gguf`: this is not a GGUF file"),
        "{stderr}"
    );
    assert!(ollama.state.lock().expect("lock").blobs.is_empty());
    assert!(ollama.requests_to("/api/create").is_empty());
}

/// A Qwen3-Coder 30B-A3B header as the catalog describes it: 48 layers, `kv_heads` KV heads of 128, 128 experts
/// with 8 used, about 30.5B parameters of which 3.3B are active.
fn qwen3_coder(kv_heads: u32) -> Vec<u8> {
    let mut gguf = Gguf::default()
        .string("general.architecture", "qwen3moe")
        .u32("qwen3moe.block_count", 48)
        .u32("qwen3moe.context_length", 262_144)
        .u32("qwen3moe.attention.head_count", 32)
        .u32("qwen3moe.attention.head_count_kv", kv_heads)
        .u32("qwen3moe.attention.key_length", 128)
        .u32("qwen3moe.attention.value_length", 128)
        .u32("qwen3moe.expert_count", 128)
        .u32("qwen3moe.expert_used_count", 8)
        .tensor("token_embd.weight", &[2048, 151_936]);
    for layer in 0..48 {
        gguf = gguf
            .tensor(&format!("blk.{layer}.attn_q.weight"), &[2048, 4096])
            .tensor(&format!("blk.{layer}.attn_other.weight"), &[2048, 8192]);
        for part in ["up", "down", "gate"] {
            gguf = gguf.tensor(
                &format!("blk.{layer}.ffn_{part}_exps.weight"),
                &[2048, 768, 128],
            );
        }
    }
    gguf.bytes()
}

#[test]
fn models_check_compares_the_catalog_with_each_models_own_header() {
    let entry = |kv_heads| Entry {
        name: "library/qwen3-coder:30b".to_owned(),
        head: qwen3_coder(kv_heads),
        size: 18_556_700_761,
        template: TOOLS_TEMPLATE.to_owned(),
        whole: None,
    };
    let good = FakeRegistry::start(vec![entry(4)], true);
    let mut ctx = context(&good);

    // Nothing checked proves nothing: a name the check cannot compare is a usage error.
    for (model, says) in [
        ("devstral-small-2507", "has no Ollama name"),
        ("someone/tiny:q4", "is not in the catalog"),
    ] {
        let output = ctx.run(["models", "--check", "--model", model]);
        let (_, stderr) = common::text(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }

    let doc = ctx.json(["models", "--check", "--model", "qwen3-coder-30b"], 0);

    assert_eq!(doc["ok"], true, "{doc}");
    assert_eq!(doc["models"][0]["ollama"], "qwen3-coder:30b");
    assert!(good.blob_bytes() < 4 << 20, "only the header was read");

    let bad = FakeRegistry::start(vec![entry(8)], true);
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", bad.url());
    let doc = ctx.json(["models", "--check", "--model", "qwen3-coder-30b"], 1);
    assert_eq!(doc["ok"], false);
    let difference = &doc["models"][0]["differences"][0];
    assert_eq!(difference["field"], "kv.kv_heads");
    assert_eq!(difference["catalog"], 4);
    assert_eq!(difference["header"], 8);
    let output = ctx.run(["models", "--check", "--model", "qwen3-coder-30b"]);
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("kv.kv_heads: catalog 4, its file 8"),
        "{stdout}"
    );

    // Every catalog model: those the fake does not have are reported as not read, and the check fails.
    let doc = ctx.json(["models", "--check"], 1);
    let checked = doc["checked"].as_u64().expect("a count");
    assert!(checked > 5, "{doc}");
    assert_eq!(doc["failed"].as_u64(), Some(checked - 1));
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: placed, found, loaded, restored"
)]
fn a_model_file_goes_into_lm_studios_folder_and_is_served_by_the_key_lm_studio_gives() {
    use common::lmstudio::FakeLmStudio;
    let mut ctx = TestContext::new();
    let models = ctx.home.join(".lmstudio/models");
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|state| state.models_dir = Some(models.clone()));
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host());
    ctx.env("CODEX_LOCAL_POLL_INTERVAL_MS", "10");
    let file = model_file(
        &ctx,
        "My Coder-Q4_K_M.gguf",
        "{% if tools %}{{ tools }}{% endif %}",
    );
    let init = [
        "init",
        "--yes",
        "--offline",
        "--runtime",
        "lmstudio",
        "--ram",
        "64GiB",
        "--gpu",
        "RTX 4090",
        "--model",
        file.to_str().expect("path"),
    ];

    let doc = ctx.json(init, 0);

    assert_eq!(doc["model"], "my-coder", "the key LM Studio gave: {doc}");
    let import = common::find(&doc["steps"], "name", "import");
    assert_eq!(import["status"], "done");
    assert!(
        import["detail"]
            .as_str()
            .expect("detail")
            .starts_with("linked"),
        "{import}"
    );
    let placed = models.join("codex-local/my-coder-q4_k_m/my-coder-q4_k_m.gguf");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let (a, b) = (
            std::fs::metadata(&file).expect("file"),
            std::fs::metadata(&placed).expect("placed"),
        );
        assert_eq!(
            (a.dev(), a.ino()),
            (b.dev(), b.ino()),
            "a hard link, no copy"
        );
    }
    let loads = lmstudio.requests_to("/api/v1/models/load");
    let load: Value = serde_json::from_slice(&loads[0].body).expect("JSON");
    assert_eq!(load["model"], "my-coder");
    assert_eq!(load["context_length"], 65_536);
    let config = common::toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model"].as_str(), Some("my-coder"));
    assert_eq!(
        config["model_provider"].as_str(),
        Some("codex-local-lmstudio")
    );

    // Again: the file is found in place, and nothing new is made.
    let doc = ctx.json(init, 0);
    assert_eq!(doc["model"], "my-coder");
    let entries: Vec<_> = std::fs::read_dir(placed.parent().expect("folder"))
        .expect("folder")
        .collect();
    assert_eq!(entries.len(), 1, "no copy, no partial file");

    // restore names the file it placed.
    let output = ctx.run(["restore"]);
    let (stdout, stderr) = text(&output);
    assert!(
        format!("{stdout}{stderr}").contains("my-coder-q4_k_m.gguf"),
        "{stdout}{stderr}"
    );
    assert!(placed.exists(), "restore deletes no model");

    // A new file by the same name replaces the one codex-local placed (even after restore).
    let mut bytes = std::fs::read(&file).expect("read");
    bytes.extend_from_slice(b"a newer quantization");
    std::fs::remove_file(&file).expect("remove");
    common::write_bytes(&file, &bytes);
    let doc = ctx.json(init, 0);
    assert_eq!(doc["model"], "my-coder", "{doc}");
    assert_eq!(std::fs::read(&placed).expect("placed"), bytes);
}

#[test]
fn lm_studio_that_does_not_list_the_file_is_reported_and_lms_is_asked_for_its_key() {
    use common::lmstudio::FakeLmStudio;
    let mut ctx = TestContext::new();
    let models = ctx.home.join(".lmstudio/models");
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|state| {
        state.models_dir = Some(models.clone());
        state.lists_files = false;
    });
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host());
    ctx.env("CODEX_LOCAL_POLL_INTERVAL_MS", "10");
    let file = model_file(&ctx, "coder.gguf", "{% if tools %}{{ tools }}{% endif %}");
    // A model of the user's that happens to be the file's size is not taken for it.
    let size = std::fs::metadata(&file).expect("file").len();
    lmstudio.with(|state| state.downloaded.push(("users-own".to_owned(), size)));
    // Nor is a key that could drive the terminal.
    ctx.write_tool(
        "lms",
        "#!/bin/sh\necho '[{\"modelKey\":\"k\\u001b]0;PWNED\\u0007\",\"path\":\"codex-local/coder/coder.gguf\"}]'\n",
    );
    let init = [
        "init",
        "--yes",
        "--runtime",
        "lmstudio",
        "--ram",
        "64GiB",
        "--gpu",
        "RTX 4090",
        "--model",
        file.to_str().expect("path"),
    ];

    let stderr = ctx.fails(init);

    assert!(stderr.contains("LM Studio has not listed"), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    assert!(
        !stderr.contains("users-own") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    assert!(
        !ctx.codex_home.join("config.toml").exists(),
        "Codex untouched"
    );
    // The file it placed is named by `restore`, though init stopped.
    let restored = ctx.json(["restore"], 0);
    assert_eq!(
        restored["models"][0]["file"],
        models
            .join("codex-local/coder/coder.gguf")
            .to_str()
            .expect("path"),
        "{restored}"
    );

    // `lms ls --json` names each model's file: its key is taken from there.
    ctx.write_tool(
        "lms",
        "#!/bin/sh\n[ \"$1 $2\" = 'ls --json' ] || exit 1\n\
         echo '[{\"type\":\"llm\",\"modelKey\":\"coder\",\"path\":\"codex-local/coder/coder.gguf\",\"sizeBytes\":1}]'\n",
    );
    let doc = ctx.json(init, 0);
    assert_eq!(doc["model"], "coder");
    assert_eq!(doc["verified"], true);
}
