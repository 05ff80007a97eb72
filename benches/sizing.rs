//! Sizing a model outside the catalog before its pull: `codex-local models --model NAME --json` as a whole process
//! against a fake registry on loopback whose model header carries a 150,000-token vocabulary (several MB, as real
//! ones do), with and without HTTP range support. Reports the bytes of the model file read and the wall time.
//!
//! Run with `cargo bench --bench sizing`; `SIZING_BENCH_RUNS` changes the number of runs (default 20).

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
#[path = "../tests/common/registry.rs"]
mod registry;

use std::process::Command;
use std::time::{Duration, Instant};

use registry::{Entry, FakeRegistry, TOOLS_TEMPLATE, coder_header};

#[expect(clippy::too_many_lines, reason = "the benchmark reads top to bottom")]
fn main() {
    let runs: usize = std::env::var("SIZING_BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    let home = tempfile::tempdir().expect("a temporary home");
    let head = coder_header(150_000);
    println!(
        "codex-local models --model NAME --json, {runs} runs each; the model's GGUF header is {:.1} MiB",
        head.len() as f64 / f64::from(1 << 20)
    );
    println!(
        "{:<24} {:>12} {:>10} {:>10} {:>10}",
        "registry", "bytes read", "median", "min", "max"
    );
    for (name, ranges) in [("with ranges", true), ("without ranges", false)] {
        let fake = FakeRegistry::start(
            vec![Entry {
                name: "someone/coder:q4".to_owned(),
                head: head.clone(),
                size: 18_556_700_761,
                template: TOOLS_TEMPLATE.to_owned(),
                whole: None,
            }],
            ranges,
        );
        let mut read = 0;
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let output = Command::new(env!("CARGO_BIN_EXE_codex-local"))
                    .args([
                        "models",
                        "--model",
                        "someone/coder:q4",
                        "--ram",
                        "64GiB",
                        "--json",
                    ])
                    .env_clear()
                    .env("HOME", home.path())
                    .env("CODEX_HOME", home.path().join(".codex"))
                    .env("PATH", "/usr/bin:/bin")
                    .env("OLLAMA_HOST", "127.0.0.1:9")
                    .env("LMSTUDIO_HOST", "127.0.0.1:9")
                    .env("CODEX_LOCAL_OLLAMA_REGISTRY", fake.url())
                    .output()
                    .expect("run codex-local");
                let elapsed = start.elapsed();
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let doc: serde_json::Value =
                    serde_json::from_slice(&output.stdout).expect("a JSON document");
                read = doc["sized_from"]["header_bytes_read"].as_u64().unwrap_or(0);
                elapsed
            })
            .collect();
        times.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{name:<24} {:>9.2} MB {:>10} {:>10} {:>10}",
            read as f64 / 1e6,
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
    }
}
