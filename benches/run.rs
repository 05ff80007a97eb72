//! What `codex-local run` adds before Codex starts, as whole processes against fake runtimes on loopback. Codex is
//! a stand-in that exits at once (`true`), so each figure is codex-local's own cost; the first row is the stand-in
//! started directly, for comparison.
//!
//! Situations: config.toml on a cloud provider (no request); config.toml on Ollama with everything right (one
//! `show`); a local-mode repository on Ollama and on LM Studio with everything right (probe + one request); and the
//! two repairs, where the fake's create or load is instant, so the figure is everything but the runtime's own work.
//!
//! Run with `cargo bench --bench run`; `RUN_BENCH_RUNS` changes the number of runs (default 30).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(
    clippy::disallowed_methods,
    reason = "the benchmark writes its fixtures and reads its own knob"
)]

#[path = "../tests/common/fake.rs"]
mod fake;
#[path = "../tests/common/lmstudio.rs"]
mod lmstudio;
#[path = "../tests/common/ollama.rs"]
mod ollama;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lmstudio::FakeLmStudio;
use ollama::FakeOllama;

const BIN: &str = env!("CARGO_BIN_EXE_codex-local");
const VARIANT: &str = "gpt-oss:20b-ctx64k";
const LMS_KEY: &str = "openai/gpt-oss-20b";

/// A temporary home with a stand-in `codex` on its `PATH`.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary home");
        std::fs::create_dir_all(dir.path().join(".codex")).expect("a Codex home");
        std::fs::create_dir_all(dir.path().join("bin")).expect("a bin folder");
        std::os::unix::fs::symlink("/bin/true", dir.path().join("bin/codex"))
            .expect("a stand-in codex");
        Self { dir }
    }

    fn codex_home(&self) -> PathBuf {
        self.dir.path().join(".codex")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.codex_home().join(name), text).expect("write a Codex file");
    }

    /// A repository in local mode, its profile `profile`.
    fn local_repo(&self, profile: &str) -> PathBuf {
        self.write("local.config.toml", profile);
        let repo = self.dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).expect("a repository");
        let status = self
            .command(BIN, &repo)
            .args(["repo", "on"])
            .status()
            .expect("repo on");
        assert!(status.success());
        repo
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("CODEX_HOME", self.codex_home())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
            )
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }
}

fn selection(provider: &str, port: u16, model: &str) -> String {
    format!(
        "model_provider = \"codex-local-{provider}\"\nmodel = \"{model}\"\nmodel_context_window = 65536\n\n\
         [model_providers.codex-local-{provider}]\nname = \"{provider}\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\n\
         wire_api = \"responses\"\n"
    )
}

/// Times `runs` runs of `command()` after `before()` (not timed), and prints a row.
fn row(name: &str, runs: usize, mut before: impl FnMut(), mut command: impl FnMut() -> Command) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            before();
            let mut command = command();
            let start = Instant::now();
            let status = command.status().expect("run");
            let elapsed = start.elapsed();
            assert!(status.success(), "{name}: the run succeeds");
            elapsed
        })
        .collect();
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{name:<52} {:>9} {:>9} {:>9}",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}

#[expect(clippy::too_many_lines, reason = "the benchmark reads top to bottom")]
fn main() {
    let runs: usize = std::env::var("RUN_BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(30);
    let ollama = FakeOllama::start("0.32.15");
    ollama.install("gpt-oss:20b", 13_793_441_244, None);
    ollama.install(VARIANT, 13_793_441_244, Some(65_536));
    let lms = FakeLmStudio::start();
    lms.with(|state| state.downloaded.push((LMS_KEY.to_owned(), 12_109_710_000)));

    println!(
        "codex-local run -- exec hi, {runs} runs each (whole process, wall clock; Codex is `true`)"
    );
    println!(
        "{:<52} {:>9} {:>9} {:>9}",
        "situation", "median", "min", "max"
    );

    let home = Home::new();
    let dir = home.dir.path().to_path_buf();
    let with_env = |mut command: Command| {
        command
            .env("OLLAMA_HOST", ollama.host())
            .env("LMSTUDIO_HOST", lms.host());
        command
    };
    row(
        "the stand-in codex alone",
        runs,
        || {},
        || home.command("/bin/true", &dir),
    );
    let run = || {
        let mut command = with_env(home.command(BIN, &dir));
        command.args(["run", "--", "exec", "hi"]);
        command
    };
    home.write("config.toml", "model = \"gpt-5\"\n");
    row("config.toml on a cloud provider", runs, || {}, run);
    home.write(
        "config.toml",
        &selection("ollama", ollama.server.port, VARIANT),
    );
    row("config.toml on Ollama, all right", runs, || {}, run);

    let repo = home.local_repo(&selection("ollama", ollama.server.port, VARIANT));
    let run_in_repo = || {
        let mut command = with_env(home.command(BIN, &repo));
        command.args(["run", "--", "exec", "hi"]);
        command
    };
    row("local mode on Ollama, all right", runs, || {}, run_in_repo);
    let remove_variant = || {
        ollama.with(|state| state.installed.retain(|m| !m.name.starts_with(VARIANT)));
    };
    row(
        "local mode on Ollama, variant made again",
        runs,
        remove_variant,
        run_in_repo,
    );

    home.write(
        "local.config.toml",
        &selection("lmstudio", lms.server.port, LMS_KEY),
    );
    lms.with(|state| state.instances.clear());
    row(
        "local mode on LM Studio, all right",
        runs,
        || {},
        run_in_repo,
    );
    let unload = || {
        lms.with(|state| state.instances.clear());
    };
    row(
        "local mode on LM Studio, loaded again",
        runs,
        unload,
        run_in_repo,
    );
}
