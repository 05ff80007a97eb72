//! Benchmarks of `init`, each as a whole process against a fake Ollama on loopback:
//! - pull overhead: codex-local's CPU time (user + system) while following a pull that streams 100,000 progress
//!   lines, minus the same init with the model already installed; without a terminal (plain lines) and, where
//!   `script` exists, on a pseudo-terminal (the progress bar);
//! - plan + dry run: wall time of `init --dry-run`;
//! - the size of the binary that ran.
//!
//! Run with `cargo bench --bench init`.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::cast_precision_loss, reason = "sizes in MiB for people")]

#[path = "../tests/common/fake.rs"]
mod fake;
#[path = "../tests/common/ollama.rs"]
mod ollama;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use ollama::{FakeOllama, Pull};

const BIN: &str = env!("CARGO_BIN_EXE_codex-local");
const LINES: usize = 100_000;
const RUNS: usize = 5;

/// Runs `init` under bash's `time` and returns (user + system CPU seconds, wall seconds).
fn cpu_of(args: &str, host: &str, home: &Path, tty: bool) -> (f64, f64) {
    let inner = format!(
        "env -i HOME={home} CODEX_HOME={home}/.codex PATH=/usr/bin:/bin OLLAMA_HOST={host} LMSTUDIO_HOST=127.0.0.1:9 {BIN} {args}",
        home = home.display()
    );
    // The program's stderr is the terminal (the bar) or /dev/null (plain lines); the timing goes to a file.
    let stderr = if tty { "/dev/tty" } else { "/dev/null" };
    let timed = format!(
        "TIMEFORMAT='%U %S'; {{ time ({inner} >/dev/null 2>{stderr}); }} 2>{}/t",
        home.display()
    );
    let mut command = if tty {
        let mut c = Command::new("script");
        c.args([
            "-qec",
            &format!("bash -c \"{}\"", timed.replace('"', "\\\"")),
            "/dev/null",
        ]);
        c
    } else {
        let mut c = Command::new("bash");
        c.args(["-c", &timed]);
        c
    };
    let start = Instant::now();
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run bash");
    let wall = start.elapsed().as_secs_f64();
    assert!(status.success(), "init failed: {args}");
    let timing = std::fs::read_to_string(home.join("t")).expect("the timing");
    let cpu: f64 = timing
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    (cpu, wall)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args = "init --yes --ram 64GiB --gpu 18GiB";
    let mut report = Vec::new();
    for tty in [false, true] {
        if tty && Command::new("script").arg("--version").output().is_err() {
            println!("(no `script` here: the progress-bar run is skipped)");
            continue;
        }
        let mut with_pull = Vec::new();
        let mut without = Vec::new();
        for _ in 0..RUNS {
            let home = tempfile::tempdir().expect("a temporary home");
            std::fs::create_dir_all(home.path().join(".codex")).expect("codex home");
            let fake = FakeOllama::start("0.32.15");
            fake.with(|s| {
                s.pull = Pull::Succeed {
                    progress_lines: LINES,
                }
            });
            with_pull.push(cpu_of(args, &fake.host(), home.path(), tty).0);
            // The same run again: installed, configured, so no pull.
            without.push(cpu_of(args, &fake.host(), home.path(), tty).0);
            assert!(
                fake.requests_to("/api/pull").len() == 1,
                "the second run pulls nothing"
            );
        }
        let (pull, base) = (median(with_pull), median(without));
        report.push(format!(
            "pull of {LINES} progress lines, {}: init CPU {:.3} s with the pull, {:.3} s without: overhead {:.3} s (median of {RUNS})",
            if tty { "on a terminal (bar)" } else { "without a terminal (plain lines)" },
            pull,
            base,
            pull - base
        ));
    }

    let fake = FakeOllama::start("0.32.15");
    let home = tempfile::tempdir().expect("a temporary home");
    let walls: Vec<f64> = (0..20)
        .map(|_| {
            cpu_of(
                "init --dry-run --ram 64GiB --gpu 18GiB",
                &fake.host(),
                home.path(),
                false,
            )
            .1
        })
        .collect();
    report.push(format!(
        "plan + dry run (whole process, wall): median {:.1} ms of 20",
        median(walls) * 1000.0
    ));
    let size = std::fs::metadata(BIN).expect("the binary").len();
    report.push(format!(
        "binary {BIN}: {:.1} MiB",
        size as f64 / 1_048_576.0
    ));
    for line in report {
        println!("{line}");
    }
}
