//! Carrying a model to a machine with no network, measured as whole processes on loopback: `pack DIR` downloading
//! a model file from a fake registry (resumable download, SHA-256 checked), then `init --model FILE` importing it
//! into a fake Ollama (hashed, then streamed to `/api/blobs`), and into a fake LM Studio's models folder (a hard link
//! on one file system; a copy from another, `/dev/shm`, when there is one). Reports time, throughput and the peak resident
//! memory of codex-local (GNU time's `%M`), which must stay small whatever the file's size.
//!
//! Run with `cargo bench --bench carry`; `CARRY_BENCH_MIB` sets the model file's size (default 512).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(
    clippy::disallowed_methods,
    reason = "the benchmark is not the program; it reads its own knob"
)]
#![expect(clippy::cast_precision_loss, reason = "sizes in MB for people")]

#[path = "../tests/common/fake.rs"]
mod fake;
#[path = "../tests/common/gguf.rs"]
mod gguf;
#[path = "../tests/common/lmstudio.rs"]
mod lmstudio;
#[path = "../tests/common/ollama.rs"]
mod ollama;
#[path = "../tests/common/registry.rs"]
mod registry;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use registry::{Entry, FakeRegistry, Gguf, Whole};

/// A model's header whose chat template offers tools.
fn head() -> Vec<u8> {
    Gguf::default()
        .string("general.architecture", "qwen3moe")
        .string(
            "tokenizer.chat_template",
            "{% if tools %}{{ tools }}{% endif %}",
        )
        .u32("qwen3moe.block_count", 48)
        .u32("qwen3moe.context_length", 262_144)
        .u32("qwen3moe.attention.head_count", 32)
        .u32("qwen3moe.attention.head_count_kv", 4)
        .u32("qwen3moe.attention.key_length", 128)
        .u32("qwen3moe.attention.value_length", 128)
        .tensor("token_embd.weight", &[2048, 151_936])
        .bytes()
}

/// Runs codex-local under GNU time; returns the wall time and the peak resident memory in KiB.
fn measured(home: &Path, env: &[(&str, String)], args: &[&str]) -> (Duration, u64) {
    let report = home.join("time.txt");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&report)
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_codex-local"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("CODEX_HOME", home.join(".codex"))
        .env("PATH", "/usr/bin:/bin")
        .env("LMSTUDIO_HOST", "127.0.0.1:9")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run codex-local");
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kib = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| text.lines().last()?.trim().parse().ok())
        .unwrap_or(0);
    (elapsed, kib)
}

#[expect(clippy::too_many_lines, reason = "the benchmark reads top to bottom")]
fn main() {
    if !Path::new("/usr/bin/time").exists() {
        println!("skipped: GNU time (/usr/bin/time) is not installed");
        return;
    }
    let mib: u64 = std::env::var("CARRY_BENCH_MIB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(512);
    let size = mib << 20;
    let home = tempfile::tempdir().expect("a temporary home");
    std::fs::create_dir_all(home.path().join(".codex")).expect("codex home");
    let registry = FakeRegistry::start(
        vec![Entry::whole(
            "someone/big:q4",
            head(),
            size,
            Whole::default(),
        )],
        true,
    );
    let dir = home.path().join("pack");
    let target = ["--ram", "64GiB", "--gpu", "RTX 4090"];
    println!("a {mib} MiB model file over loopback");
    println!(
        "{:<44} {:>10} {:>12} {:>14}",
        "step", "time", "throughput", "peak memory"
    );
    let row = |step: &str, (elapsed, kib): (Duration, u64)| {
        println!(
            "{step:<44} {:>8.2} s {:>8.0} MB/s {:>10.1} MiB",
            elapsed.as_secs_f64(),
            size as f64 / 1e6 / elapsed.as_secs_f64(),
            kib as f64 / 1024.0
        );
    };
    let pack = [
        &[
            "pack",
            dir.to_str().expect("path"),
            "--model",
            "someone/big:q4",
        ][..],
        &target,
    ]
    .concat();
    let registry_env = [
        ("OLLAMA_HOST", "127.0.0.1:9".to_owned()),
        ("CODEX_LOCAL_OLLAMA_REGISTRY", registry.url()),
    ];
    row(
        "pack: download, SHA-256 checked",
        measured(home.path(), &registry_env, &pack),
    );
    row(
        "pack again: the file there, hashed",
        measured(home.path(), &registry_env, &pack),
    );
    let ollama = ollama::FakeOllama::start("0.32.15");
    let file = dir.join("someone-big-q4.gguf");
    let import = [
        &[
            "init",
            "--yes",
            "--offline",
            "--model",
            file.to_str().expect("path"),
        ][..],
        &target,
    ]
    .concat();
    row(
        "init --model FILE: hash, upload, create",
        measured(home.path(), &[("OLLAMA_HOST", ollama.host())], &import),
    );
    into_lm_studio(home.path(), &file, &target, &row);
}

/// `init --model FILE --runtime lmstudio`: the file linked into LM Studio's folder, then copied from another file
/// system.
fn into_lm_studio(home: &Path, file: &Path, target: &[&str], row: &dyn Fn(&str, (Duration, u64))) {
    let lmstudio = lmstudio::FakeLmStudio::start();
    lmstudio.with(|state| state.models_dir = Some(home.join(".lmstudio/models")));
    let env = [
        ("OLLAMA_HOST", "127.0.0.1:9".to_owned()),
        ("LMSTUDIO_HOST", lmstudio.host()),
        ("CODEX_LOCAL_POLL_INTERVAL_MS", "10".to_owned()),
    ];
    let init = |file: &Path| {
        let path = file.to_str().expect("path").to_owned();
        let args = [
            &["init", "--yes", "--offline", "--runtime", "lmstudio"][..],
            target,
            &["--model", &path],
        ]
        .concat();
        measured(home, &env, &args)
    };
    row("init --model FILE, LM Studio: linked", init(file));
    let other = Path::new("/dev/shm");
    let elsewhere = other
        .is_dir()
        .then(|| tempfile::tempdir_in(other).ok())
        .flatten();
    let apart = elsewhere.as_ref().filter(|dir| {
        use std::os::unix::fs::MetadataExt as _;
        let device = |path: &Path| std::fs::metadata(path).map(|m| m.dev()).ok();
        device(dir.path()) != device(home)
    });
    let Some(dir) = apart else {
        println!("LM Studio copy: skipped, no second file system at /dev/shm");
        return;
    };
    let copy = dir.path().join("elsewhere-q4.gguf");
    std::fs::copy(file, &copy).expect("a copy on the other file system");
    row("init --model FILE, LM Studio: copied", init(&copy));
}
