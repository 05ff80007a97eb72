//! What every integration test shares: a temporary Codex home and a clean environment for the built binary.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]
#![expect(
    clippy::disallowed_methods,
    reason = "tests write their fixtures directly"
)]

pub mod fake;
pub mod gguf;
pub mod lmstudio;
pub mod ollama;
pub mod registry;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A temporary `HOME` and `CODEX_HOME`, and a command builder that sees nothing of the real environment.
pub struct TestContext {
    pub dir: TempDir,
    pub home: PathBuf,
    pub codex_home: PathBuf,
    /// Put first on `PATH`, for fake tools such as `nvidia-smi`.
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
}

impl TestContext {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let home = dir.path().join("home");
        let codex_home = home.join(".codex");
        let bin = dir.path().join("bin");
        for path in [&home, &codex_home, &bin] {
            std::fs::create_dir_all(path).expect("create a test directory");
        }
        let context = Self {
            dir,
            home,
            codex_home,
            bin,
            env: Vec::new(),
        };
        // The machine's own `nvidia-smi`, if it has one, must not decide what a test sees: by default there is an
        // NVIDIA driver without a GPU. Tests that want GPUs write their own.
        context.write_tool(
            "nvidia-smi",
            "#!/bin/sh\necho 'No devices were found'\nexit 6\n",
        );
        context
    }

    /// Sets an environment variable for every command this context builds.
    pub fn env(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// Points both runtimes at ports where nothing listens, so no test ever reaches a real runtime.
    pub fn no_runtimes(&mut self) -> &mut Self {
        self.env("OLLAMA_HOST", format!("127.0.0.1:{}", fake::closed_port()));
        self.env(
            "LMSTUDIO_HOST",
            format!("127.0.0.1:{}", fake::closed_port()),
        )
    }

    /// The built binary with a clean environment: temporary homes, no colour, no progress, no proxies.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.program(env!("CARGO_BIN_EXE_codex-local"));
        command.args(args);
        command
    }

    /// Any program (a shell, say) with the same clean environment as [`TestContext::command`].
    pub fn program(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("HOME", &self.home)
            .env("CODEX_HOME", &self.codex_home)
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("NO_COLOR", "1")
            .env("CODEX_LOCAL_NO_PROGRESS", "1")
            .env("COLUMNS", "100")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs the binary and returns its output.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(args).output().expect("run codex-local")
    }

    /// Runs the binary with `--json`, checks the exit code and returns the parsed document.
    pub fn json<I, S>(&self, args: I, code: i32) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.command(args);
        command.arg("--json");
        let output = command.output().expect("run codex-local");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(code),
            "exit code\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|err| panic!("stdout is one JSON document ({err}):\n{stdout}"))
    }

    /// Runs the binary, checks that it failed with exit code 1, and returns its stderr.
    pub fn fails<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self.run(args);
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stderr
    }

    /// Writes `config.toml` in the Codex home.
    pub fn write_config(&self, text: &str) -> PathBuf {
        self.write_codex_file("config.toml", text)
    }

    /// Writes a file in the Codex home.
    pub fn write_codex_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.codex_home.join(name);
        std::fs::write(&path, text).expect("write a Codex file");
        path
    }

    /// Writes an executable script on the context's `PATH`.
    pub fn write_tool(&self, name: &str, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.bin.join(name);
        std::fs::write(&path, script).expect("write a tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make the tool executable");
        path
    }
}

/// Writes bytes to a file.
pub fn write_bytes(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write a file");
}

/// Reads a file as text.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read a file")
}

/// stdout and stderr as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes a file, creating its folder.
pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create a folder");
    }
    std::fs::write(path, text).expect("write a file");
}

/// The element of the JSON array `array` whose `key` is `value`; the test fails when there is none.
pub fn find<'a>(array: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {array:#}"))
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no {key} = {value} in {array:#}"))
}

/// A file parsed as TOML.
pub fn toml(path: &Path) -> toml_edit::DocumentMut {
    read(path).parse().expect("valid TOML")
}
