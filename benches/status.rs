//! Times `codex-local status --json` as a whole process, the way a user runs it, in three situations:
//! both runtimes answering (fake servers), nothing listening, and a port that accepts but never answers.
//!
//! Run with `cargo bench --bench status`; set `STATUS_BENCH_RUNS` to change the number of runs (default 30).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(
    clippy::disallowed_methods,
    reason = "the benchmark is not the program; it reads its own knob"
)]

#[path = "../tests/common/fake.rs"]
mod fake;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake::{FakeModel, LmStudioApi, SilentPort};

#[expect(clippy::too_many_lines, reason = "the benchmark reads top to bottom")]
fn main() {
    let runs: usize = std::env::var("STATUS_BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(30);
    let home = tempfile::tempdir().expect("a temporary home");
    let model = FakeModel {
        name: "qwen3-coder:30b",
        size: 18_556_700_761,
    };
    let ollama = fake::ollama("0.32.15", vec![model.clone(), model]);
    let lmstudio = fake::lmstudio(
        LmStudioApi::V1,
        vec![FakeModel {
            name: "qwen/qwen3-coder-30b",
            size: 1,
        }],
        None,
    );
    let silent = SilentPort::open();
    let closed = format!("127.0.0.1:{}", fake::closed_port());
    let closed2 = format!("127.0.0.1:{}", fake::closed_port());

    println!("codex-local status --json, {runs} runs each (whole process, wall clock)");
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "situation", "median", "min", "max"
    );
    for (name, ollama_host, lmstudio_host) in [
        ("both runtimes answer", ollama.host(), lmstudio.host()),
        ("nothing listens", closed.clone(), closed2.clone()),
        ("a port never answers", silent.host(), silent.host()),
    ] {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let status = Command::new(env!("CARGO_BIN_EXE_codex-local"))
                    .args(["status", "--json"])
                    .env_clear()
                    .env("HOME", home.path())
                    .env("CODEX_HOME", home.path().join(".codex"))
                    .env("PATH", "/usr/bin:/bin")
                    .env("OLLAMA_HOST", &ollama_host)
                    .env("LMSTUDIO_HOST", &lmstudio_host)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .expect("run codex-local");
                let elapsed = start.elapsed();
                assert!(status.success(), "status exits 0 in every situation");
                elapsed
            })
            .collect();
        times.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:<28} {:>10} {:>10} {:>10}",
            name,
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(times[times.len() - 1])
        );
    }
}
