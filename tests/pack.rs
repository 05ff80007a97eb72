//! A machine with no network: `pack DIR` downloads a model straight from the registry (a fake on loopback with
//! ranges, a CDN redirect and real SHA-256 digests), resumably and checked; `init --from DIR --offline` sets Codex
//! up from the folder with nothing but the local Ollama (a fake).

mod common;

use std::path::{Path, PathBuf};

use common::TestContext;
use common::ollama::FakeOllama;
use common::registry::{
    Entry, FakeRegistry, PARAMS, TOOLS_TEMPLATE, Whole, coder_header, sha256_of,
};
use serde_json::Value;

/// The size of the test model's file.
const SIZE: u64 = 3 << 20;
const TARGET: [&str; 4] = ["--ram", "64GiB", "--gpu", "RTX 4090"];

fn tiny(whole: Whole) -> Entry {
    Entry::whole("someone/tiny:q4", coder_header(10), SIZE, whole)
}

fn context(registry: &FakeRegistry) -> TestContext {
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", registry.url());
    ctx
}

fn pack_args<'a>(dir: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["pack", dir.to_str().expect("path")];
    args.extend(TARGET);
    args.extend(more);
    args
}

fn model_path(dir: &Path) -> PathBuf {
    dir.join("someone-tiny-q4.gguf")
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: pack on one machine, set up on another"
)]
fn a_pack_made_online_sets_up_a_machine_with_no_network() {
    let entry = tiny(Whole::default());
    let registry = FakeRegistry::start(vec![entry.clone()], true);
    let mut ctx = context(&registry);
    let dir = ctx.dir.path().join("usb/codex-pack");

    let doc = ctx.json(pack_args(&dir, &["--model", "someone/tiny:q4"]), 0);

    assert_eq!(doc["model"], "someone/tiny:q4");
    assert_eq!(doc["digest"], entry.sha256());
    assert_eq!(doc["size_bytes"], SIZE);
    assert_eq!(doc["downloaded_bytes"], SIZE);
    assert_eq!(doc["context_length"], 65_536);
    assert_eq!(doc["fit"], "gpu");
    assert_eq!(doc["hardware"]["source"], "described");
    let file = model_path(&dir);
    assert_eq!(doc["model_file"], file.to_str().expect("path"));
    let bytes = std::fs::read(&file).expect("the model file");
    assert_eq!(sha256_of(&bytes), entry.sha256(), "the file is whole");
    assert!(!dir.join("someone-tiny-q4.gguf.partial").exists());
    let description = common::toml(&dir.join("codex-local-pack.toml"));
    assert_eq!(description["name"].as_str(), Some("someone/tiny:q4"));
    assert_eq!(description["file"].as_str(), Some("someone-tiny-q4.gguf"));
    assert_eq!(
        description["digest"].as_str(),
        Some(entry.sha256().as_str())
    );
    assert_eq!(description["context_length"].as_integer(), Some(65_536));
    assert_eq!(description["template"].as_str(), Some(TOOLS_TEMPLATE));
    assert_eq!(description["parameters"]["top_k"].as_integer(), Some(20));

    // Packed again: the file there is checked, not downloaded again.
    let again = ctx.json(pack_args(&dir, &["--model", "someone/tiny:q4"]), 0);
    assert_eq!(again["already_there"], true);
    assert_eq!(again["downloaded_bytes"], 0);

    // The other machine: no registry at all, only its own Ollama.
    drop(registry);
    let ollama = FakeOllama::start("0.32.15");
    ctx.env("OLLAMA_HOST", ollama.host());
    let from = dir.to_str().expect("path");
    let mut init = vec!["init", "--from", from, "--offline", "--yes"];
    init.extend(TARGET);

    let doc = ctx.json(init.clone(), 0);

    let model = "someone/tiny:q4-ctx64k";
    assert_eq!(doc["model"], model, "{doc}");
    assert_eq!(doc["context_length"], 65_536);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "done"
    );
    assert_eq!(doc["verified"], true);
    let blobs = ollama.state.lock().expect("lock").blobs.clone();
    assert_eq!(
        blobs,
        vec![(entry.sha256(), usize::try_from(SIZE).expect("small"))]
    );
    let creates = ollama.requests_to("/api/create");
    let create: Value = serde_json::from_slice(&creates[0].body).expect("JSON");
    assert_eq!(create["model"], model);
    assert_eq!(
        create["template"], TOOLS_TEMPLATE,
        "the registry's template, with tools"
    );
    assert_eq!(create["parameters"]["num_ctx"], 65_536);
    let params: Value = serde_json::from_str(PARAMS).expect("JSON");
    assert_eq!(create["parameters"]["stop"], params["stop"]);
    assert_eq!(create["files"]["someone-tiny-q4.gguf"], entry.sha256());
    assert_eq!(ollama.has(model).and_then(|m| m.num_ctx), Some(65_536));
    let config = common::toml(&ctx.codex_home.join("config.toml"));
    assert_eq!(config["model"].as_str(), Some(model));
    assert_eq!(config["check_for_update_on_startup"].as_bool(), Some(false));
    assert_eq!(config["analytics"]["enabled"].as_bool(), Some(false));
    assert_eq!(ctx.json(["verify", "--offline"], 0)["ok"], true);

    // Once more: Ollama has it, nothing is sent again.
    let doc = ctx.json(init, 0);
    assert_eq!(
        common::find(&doc["steps"], "name", "import")["status"],
        "skipped"
    );
    assert_eq!(ollama.state.lock().expect("lock").blobs.len(), 1);
    assert_eq!(ollama.requests_to("/api/create").len(), 1);
}

#[test]
fn a_cut_download_resumes_where_it_stopped_and_a_damaged_one_is_thrown_away() {
    let cut = FakeRegistry::start(
        vec![tiny(Whole {
            cut_at: Some(SIZE / 3),
            ..Whole::default()
        })],
        true,
    );
    let mut ctx = context(&cut);
    let dir = ctx.dir.path().join("pack");
    let args = pack_args(&dir, &["--model", "someone/tiny:q4"]);

    let stderr = ctx.fails(args.clone());

    assert!(
        stderr.contains("stopped after 1048576 of 3145728 bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("goes on from there"), "{stderr}");
    let partial = dir.join("someone-tiny-q4.gguf.partial");
    assert_eq!(std::fs::metadata(&partial).expect("kept").len(), SIZE / 3);
    assert!(!dir.join("codex-local-pack.toml").exists());

    let whole = FakeRegistry::start(vec![tiny(Whole::default())], true);
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", whole.url());
    let doc = ctx.json(args, 0);
    assert_eq!(doc["resumed_bytes"], SIZE / 3);
    assert_eq!(doc["downloaded_bytes"], SIZE - SIZE / 3);
    let asked = whole.seen.lock().expect("lock").ranges.clone();
    assert!(
        asked.contains(&format!("bytes={}-", SIZE / 3)),
        "only the rest was asked for: {asked:?}"
    );
    let bytes = std::fs::read(model_path(&dir)).expect("the model file");
    assert_eq!(sha256_of(&bytes), tiny(Whole::default()).sha256());

    // A registry whose bytes do not match the digest its manifest names.
    let other = ctx.dir.path().join("other");
    let damaged = FakeRegistry::start(
        vec![tiny(Whole {
            wrong_digest: true,
            ..Whole::default()
        })],
        true,
    );
    ctx.env("CODEX_LOCAL_OLLAMA_REGISTRY", damaged.url());
    let stderr = ctx.fails(pack_args(&other, &["--model", "someone/tiny:q4"]));
    assert!(stderr.contains("does not match its digest"), "{stderr}");
    assert!(stderr.contains("run the command again"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&other).expect("dir").collect();
    assert!(left.is_empty(), "nothing half made is left: {left:?}");
}

#[test]
fn pack_refuses_before_downloading_anything() {
    let registry = FakeRegistry::start(
        vec![
            tiny(Whole::default()),
            Entry {
                template: common::registry::PLAIN_TEMPLATE.to_owned(),
                ..Entry::whole("someone/chat:q4", coder_header(10), SIZE, Whole::default())
            },
        ],
        true,
    );
    let ctx = context(&registry);
    let dir = ctx.dir.path().join("pack");

    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/nothing:q4"]));
    assert!(
        stderr.contains("The registry has no `someone/nothing:q4`"),
        "{stderr}"
    );
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/chat:q4"]));
    assert!(stderr.contains("cannot call tools"), "{stderr}");
    let output = ctx.run(pack_args(&dir, &["--model", "./model.gguf"]));
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(2), "a usage error: {stderr}");
    assert!(
        stderr.contains("`pack` downloads from Ollama's registry"),
        "{stderr}"
    );
    let doc = ctx.json(
        pack_args(&dir, &["--model", "someone/tiny:q4", "--dry-run"]),
        0,
    );
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["pack_file"], Value::Null);
    assert!(!dir.exists(), "nothing made, nothing downloaded");
    assert_eq!(registry.blob_bytes(), tiny_header_reads(&registry));

    // A file in place of the folder, and a link where the download would be kept.
    let file = ctx.dir.path().join("a-file");
    common::write(&file, "mine");
    let stderr = ctx.fails(pack_args(&file, &["--model", "someone/tiny:q4"]));
    assert!(stderr.contains("is not a folder"), "{stderr}");
    assert_eq!(common::read(&file), "mine");
    #[cfg(unix)]
    {
        let victim = ctx.dir.path().join("victim");
        common::write(&victim, "precious");
        std::fs::create_dir_all(&dir).expect("dir");
        std::os::unix::fs::symlink(&victim, dir.join("someone-tiny-q4.gguf.partial"))
            .expect("link");
        let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/tiny:q4"]));
        assert!(stderr.contains("Cannot write"), "{stderr}");
        assert_eq!(common::read(&victim), "precious");
    }
}

#[cfg(unix)]
#[test]
fn a_disk_without_room_for_the_model_is_refused_before_the_download() {
    let ctx_dir = tempfile::tempdir().expect("a folder");
    let stat = rustix::fs::statvfs(ctx_dir.path()).expect("statvfs");
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    // A model 1 GiB bigger than the disk's room, for a machine big enough to run it.
    let size = free + (1 << 30);
    let registry = FakeRegistry::start(
        vec![Entry {
            name: "someone/huge:q4".to_owned(),
            head: coder_header(10),
            size,
            template: TOOLS_TEMPLATE.to_owned(),
            whole: None,
        }],
        true,
    );
    let ctx = context(&registry);
    let dir = ctx_dir.path().join("pack");
    let ram = format!("{}GiB", (size >> 30) * 2 + 64);
    let dir_arg = dir.to_str().expect("path");
    let args = ["pack", dir_arg, "--ram", &ram, "--model", "someone/huge:q4"];

    let stderr = ctx.fails(args);

    assert!(stderr.contains("free, and the model needs"), "{stderr}");
    assert!(
        stderr.contains("choose a folder on a bigger disk"),
        "{stderr}"
    );
    assert!(
        registry
            .seen
            .lock()
            .expect("lock")
            .ranges
            .iter()
            .all(|r| !r.ends_with('-')),
        "no download was started"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing written: {left:?}");
}

#[cfg(unix)]
#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: one folder, every way to take it over"
)]
fn a_folder_holds_one_pack_made_by_one_process_and_nothing_is_written_through_links() {
    use std::os::unix::fs::PermissionsExt as _;
    let registry = FakeRegistry::start(
        vec![
            tiny(Whole::default()),
            Entry::whole("someone/other:q4", coder_header(12), SIZE, Whole::default()),
            // Another name for the very same file (as `:latest` and a size tag are).
            Entry::whole("someone/alias:q4", coder_header(10), SIZE, Whole::default()),
        ],
        true,
    );
    let ctx = context(&registry);
    let dir = ctx.dir.path().join("pack");
    std::fs::create_dir_all(&dir).expect("dir");
    // A look-up reads the first MiB of the file (its header); a download reads all of its 3 MiB.
    let header = 1 << 20;

    // Another process packing into the folder holds its lock.
    let held = std::fs::File::open(&dir).expect("open the folder");
    held.try_lock().expect("lock");
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/tiny:q4"]));
    assert!(
        stderr.contains("Another codex-local is packing into"),
        "{stderr}"
    );
    assert_eq!(registry.blob_bytes(), header, "nothing downloaded");
    drop(held);

    ctx.json(pack_args(&dir, &["--model", "someone/tiny:q4"]), 0);
    let description = dir.join("codex-local-pack.toml");
    let mode = |path: &Path| std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(
        mode(&description),
        mode(&model_path(&dir)),
        "the description is as readable as the model"
    );
    let blob_bytes = registry.blob_bytes();

    // A second model would orphan the first one's file.
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/other:q4"]));
    assert!(
        stderr.contains("holds the pack of `someone/tiny:q4`"),
        "{stderr}"
    );
    assert!(!dir.join("someone-other-q4.gguf").exists());
    assert_eq!(
        registry.blob_bytes(),
        blob_bytes + header,
        "nothing downloaded"
    );
    // Nor may another name for the same file take the folder over.
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/alias:q4"]));
    assert!(
        stderr.contains("holds the pack of `someone/tiny:q4` already"),
        "{stderr}"
    );
    assert!(!dir.join("someone-alias-q4.gguf").exists());
    assert_eq!(registry.blob_bytes(), blob_bytes + 2 * header);

    // A description that is a link is refused before anything is downloaded.
    let victim = ctx.dir.path().join("victim");
    common::write(&victim, "precious");
    std::fs::remove_file(&description).expect("remove");
    std::fs::remove_file(model_path(&dir)).expect("remove");
    std::os::unix::fs::symlink(&victim, &description).expect("link");
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/tiny:q4"]));
    assert!(stderr.contains("Cannot write"), "{stderr}");
    assert_eq!(common::read(&victim), "precious");
    std::fs::remove_file(&description).expect("remove");

    // A partial download that is another name of a user's file is not appended to.
    std::fs::hard_link(&victim, dir.join("someone-tiny-q4.gguf.partial")).expect("hard link");
    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/tiny:q4"]));
    assert!(stderr.contains("hard link to another file"), "{stderr}");
    assert_eq!(common::read(&victim), "precious");
    assert_eq!(
        registry.blob_bytes(),
        blob_bytes + 4 * header,
        "only headers were read since the first pack"
    );
}

#[test]
fn a_folder_with_a_damaged_pack_or_a_model_ollama_does_not_have_is_refused_before_downloading() {
    let registry = FakeRegistry::start(vec![tiny(Whole::default())], true);
    let ctx = context(&registry);
    let dir = ctx.dir.path().join("pack");
    std::fs::create_dir_all(&dir).expect("dir");
    common::write(&dir.join("codex-local-pack.toml"), "this is not a pack");

    let stderr = ctx.fails(pack_args(&dir, &["--model", "someone/tiny:q4"]));

    assert!(stderr.contains("that cannot be read"), "{stderr}");
    assert!(
        stderr.contains("give each model its own folder"),
        "{stderr}"
    );
    assert_eq!(
        common::read(&dir.join("codex-local-pack.toml")),
        "this is not a pack"
    );
    assert!(!model_path(&dir).exists());

    // A catalog model that exists only for LM Studio: a usage error.
    let output = ctx.run(pack_args(&dir, &["--model", "devstral-small-2507"]));
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no Ollama name"), "{stderr}");
}

#[test]
fn a_download_started_over_says_so_and_no_partial_is_left_beside_a_whole_file() {
    // A mirror that ignores ranges sends the whole file again: nothing of the partial download is kept.
    let registry = FakeRegistry::start(vec![tiny(Whole::default())], false);
    let ctx = context(&registry);
    let dir = ctx.dir.path().join("pack");
    std::fs::create_dir_all(&dir).expect("dir");
    let partial = dir.join("someone-tiny-q4.gguf.partial");
    common::write_bytes(&partial, &tiny(Whole::default()).bytes()[..104]);

    let doc = ctx.json(pack_args(&dir, &["--model", "someone/tiny:q4"]), 0);

    assert_eq!(doc["resumed_bytes"], 0, "{doc}");
    assert_eq!(doc["downloaded_bytes"], SIZE, "{doc}");
    assert!(!partial.exists());

    // A partial left beside the whole file (a copy, say) goes when the file is found whole.
    common::write_bytes(&partial, b"old");
    let doc = ctx.json(pack_args(&dir, &["--model", "someone/tiny:q4"]), 0);
    assert_eq!(doc["already_there"], true, "{doc}");
    assert!(!partial.exists(), "the useless partial is removed");
}

/// What the look-ups read of model blobs (their headers), which is all a refusal may read.
fn tiny_header_reads(registry: &FakeRegistry) -> u64 {
    let seen = registry.seen.lock().expect("lock");
    assert!(
        seen.ranges.iter().all(|r| !r.ends_with('-')),
        "no download was started: {:?}",
        seen.ranges
    );
    seen.blob_bytes
}

#[test]
fn pack_without_a_model_takes_the_one_models_recommends_for_the_target() {
    let probe = TestContext::new();
    let models = probe.json(["models", "--ram", "24GiB", "--gpu", "16GiB"], 0);
    let id = models["recommended"].as_str().expect("a recommendation");
    let row = models["models"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["id"] == id)
        .expect("the row");
    let name = row["ollama"].as_str().expect("an Ollama name");
    let full = if name.contains('/') {
        name.to_owned()
    } else {
        format!("library/{name}")
    };
    let registry = FakeRegistry::start(
        vec![Entry::whole(
            &full,
            coder_header(10),
            SIZE,
            Whole::default(),
        )],
        true,
    );
    let ctx = context(&registry);
    let dir = ctx.dir.path().join("pack");

    let doc = ctx.json(
        [
            "pack",
            dir.to_str().expect("path"),
            "--ram",
            "24GiB",
            "--gpu",
            "16GiB",
            "--dry-run",
        ],
        0,
    );

    assert_eq!(doc["catalog_id"], id);
    assert_eq!(doc["model"], name);
    assert_eq!(doc["context_length"], row["context_length"]);
}

/// A pack made by the test: the model file and a description naming `digest` and `size`.
fn write_pack(dir: &Path, entry: &Entry, digest: &str, size: u64, file: &str) {
    std::fs::create_dir_all(dir).expect("dir");
    common::write_bytes(&dir.join("someone-tiny-q4.gguf"), &entry.bytes());
    common::write(
        &dir.join("codex-local-pack.toml"),
        &format!(
            "schema_version = 1\nname = \"someone/tiny:q4\"\nfile = \"{file}\"\ndigest = \"{digest}\"\n\
             size_bytes = {size}\ncontext_length = 65536\ntemplate = '{TOOLS_TEMPLATE}'\n"
        ),
    );
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "every way a pack can be wrong, in one place"
)]
fn a_damaged_or_foreign_pack_is_refused_and_nothing_is_imported() {
    let ollama = FakeOllama::start("0.32.15");
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    let entry = tiny(Whole::default());
    let dir = ctx.dir.path().join("pack");
    let from = dir.to_str().expect("path");
    let init = |extra: &[&'static str]| {
        let mut args = vec!["init", "--from", from, "--offline", "--yes"];
        args.extend(TARGET);
        args.extend(extra);
        ctx.fails(args)
    };

    // Same size, other bytes: the digest tells.
    let other = sha256_of(b"another file");
    write_pack(&dir, &entry, &other, SIZE, "someone-tiny-q4.gguf");
    let stderr = init(&[]);
    assert!(
        stderr.contains("does not match the pack's digest"),
        "{stderr}"
    );
    assert!(
        ollama.state.lock().expect("lock").blobs.is_empty(),
        "nothing sent"
    );
    assert!(
        ollama.requests_to("/api/create").is_empty(),
        "nothing created"
    );
    assert!(
        !ctx.codex_home.join("config.toml").exists(),
        "Codex untouched"
    );

    write_pack(
        &dir,
        &entry,
        &entry.sha256(),
        SIZE + 1,
        "someone-tiny-q4.gguf",
    );
    let stderr = init(&[]);
    assert!(stderr.contains("it was not copied whole"), "{stderr}");

    write_pack(
        &dir,
        &entry,
        &entry.sha256(),
        SIZE,
        "../../home/.codex/config.toml",
    );
    let stderr = init(&[]);
    assert!(stderr.contains("has a bad `file`"), "{stderr}");

    common::write(&dir.join("codex-local-pack.toml"), "schema_version = 7\n");
    let stderr = init(&[]);
    assert!(
        stderr.contains("missing field") || stderr.contains("newer"),
        "{stderr}"
    );

    std::fs::remove_file(dir.join("codex-local-pack.toml")).expect("remove");
    let stderr = init(&[]);
    assert!(
        stderr.contains("not a folder written by `codex-local pack`"),
        "{stderr}"
    );
    assert!(ollama.requests_to("/api/create").is_empty());
    assert!(ollama.requests_to("/api/blobs").is_empty());
    assert!(
        !ctx.codex_home.join("codex-local/journal.json").exists(),
        "nothing was made, so nothing is journaled"
    );
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one story: imported, again, a name taken, bad names"
)]
fn a_blob_ollama_already_holds_is_not_read_or_sent_and_name_sets_the_name() {
    let ollama = FakeOllama::start("0.32.15");
    let entry = tiny(Whole::default());
    ollama.with(|state| {
        state
            .blobs
            .push((entry.sha256(), usize::try_from(SIZE).expect("small")));
    });
    let mut ctx = TestContext::new();
    ctx.no_runtimes();
    ctx.env("OLLAMA_HOST", ollama.host());
    let dir = ctx.dir.path().join("pack");
    write_pack(&dir, &entry, &entry.sha256(), SIZE, "someone-tiny-q4.gguf");
    let from = dir.to_str().expect("path");

    let mut args = vec![
        "init",
        "--from",
        from,
        "--offline",
        "--yes",
        "--name",
        "my-coder:64k",
    ];
    args.extend(TARGET);
    let doc = ctx.json(&args, 0);

    assert_eq!(doc["model"], "my-coder:64k");
    assert_eq!(
        ollama.state.lock().expect("lock").blobs.len(),
        1,
        "not sent again"
    );
    assert!(ollama.has("my-coder:64k").is_some());
    // Again: the model codex-local imported is its own (the journal says so), and is taken as it is.
    let again = ctx.json(args.clone(), 0);
    assert_eq!(again["model"], "my-coder:64k");

    // A model of the user's by the name the file would get is neither taken for the file nor replaced.
    ollama.install("mine:latest", 1000, None);
    let creates = ollama.requests_to("/api/create").len();
    let mut taken = args.clone();
    let at = taken
        .iter()
        .position(|a| *a == "my-coder:64k")
        .expect("name");
    taken[at] = "mine";
    let output = ctx.run(&taken);
    let (_, stderr) = common::text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "already has a model named `mine:latest` that is not one codex-local made there"
        ),
        "{stderr}"
    );
    assert_eq!(ollama.requests_to("/api/create").len(), creates);
    assert_eq!(ollama.has("mine:latest").map(|m| m.size), Some(1000));
    taken.push("--dry-run");
    assert_eq!(
        ctx.run(&taken).status.code(),
        Some(2),
        "a dry run refuses it too"
    );

    // `--name` belongs to an import, and must be a name Ollama takes.
    let output = ctx.run(["init", "--name", "x:y", "--dry-run"]);
    assert_eq!(output.status.code(), Some(2));
    let (_, stderr) = common::text(&output);
    assert!(
        stderr.contains("`--name` names a model imported from a file"),
        "{stderr}"
    );
    let output = ctx.run(["init", "--from", from, "--name", "../evil", "--dry-run"]);
    assert_eq!(output.status.code(), Some(2));
    let output = ctx.run(["init", "--from", from, "--model", "x", "--dry-run"]);
    assert_eq!(output.status.code(), Some(2), "--from and --model conflict");
}

#[test]
fn a_pack_goes_into_lm_studio_too_once_its_digest_is_checked() {
    use common::lmstudio::FakeLmStudio;
    let mut ctx = TestContext::new();
    let models = ctx.home.join(".lmstudio/models");
    let lmstudio = FakeLmStudio::start();
    lmstudio.with(|state| state.models_dir = Some(models.clone()));
    ctx.no_runtimes();
    ctx.env("LMSTUDIO_HOST", lmstudio.host());
    ctx.env("CODEX_LOCAL_POLL_INTERVAL_MS", "10");
    let entry = tiny(Whole::default());
    let dir = ctx.dir.path().join("pack");
    let from = dir.to_str().expect("path");
    let mut init = vec![
        "init",
        "--from",
        from,
        "--offline",
        "--yes",
        "--runtime",
        "lmstudio",
    ];
    init.extend(TARGET);

    write_pack(
        &dir,
        &entry,
        &sha256_of(b"another"),
        SIZE,
        "someone-tiny-q4.gguf",
    );
    let stderr = ctx.fails(init.clone());
    assert!(
        stderr.contains("does not match the pack's digest"),
        "{stderr}"
    );
    assert!(!models.exists(), "nothing placed");

    write_pack(&dir, &entry, &entry.sha256(), SIZE, "someone-tiny-q4.gguf");
    let doc = ctx.json(init, 0);
    assert_eq!(doc["model"], "someone-tiny", "{doc}");
    assert!(
        models
            .join("codex-local/someone-tiny-q4/someone-tiny-q4.gguf")
            .exists()
    );
}
