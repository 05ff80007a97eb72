//! All output: results on stdout, everything else on stderr, colour only where it helps.
//!
//! No other module prints. Commands hand their result to [`Printer`], which writes the one JSON document or the
//! human text, and reports errors as `error:` / `Caused by:` / `hint:` lines (or a JSON error document).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use serde::Serialize;

use crate::cli::{Cli, ColorChoice};
use crate::settings::{self, ProcessEnv};

/// The version of every JSON document codex-local prints.
pub const SCHEMA_VERSION: u32 = 1;

/// Text styles for a terminal; plain text when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Styles that colour only when `enabled`.
    #[must_use]
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    #[must_use]
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    #[must_use]
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    #[must_use]
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }

    #[must_use]
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    #[must_use]
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// Where and how output goes.
#[derive(Debug, Clone)]
pub struct Printer {
    pub json: bool,
    pub quiet: u8,
    pub verbose: u8,
    /// Styles for stdout.
    pub out: Style,
    /// Styles for stderr.
    pub err: Style,
    /// Progress bars may be drawn: stderr is a terminal, and neither `-q`, `-v`, `--json` nor
    /// `CODEX_LOCAL_NO_PROGRESS` says otherwise.
    pub bars: bool,
    /// Questions may be asked: stdin and stderr are terminals.
    pub interactive: bool,
}

impl Printer {
    /// Builds the printer from the global options, `NO_COLOR` and whether each stream is a terminal.
    #[must_use]
    pub fn from_cli(cli: &Cli) -> Self {
        let no_color = settings::no_color(&ProcessEnv);
        let wants = |terminal: bool| match cli.global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        let json = cli.global.json;
        let stderr_terminal = io::stderr().is_terminal();
        Self {
            json,
            quiet: cli.global.quiet,
            verbose: cli.global.verbose,
            out: Style::new(!json && wants(io::stdout().is_terminal())),
            err: Style::new(wants(stderr_terminal)),
            bars: stderr_terminal
                && !json
                && cli.global.quiet == 0
                && cli.global.verbose == 0
                && !settings::no_progress(&ProcessEnv),
            interactive: stderr_terminal && io::stdin().is_terminal(),
        }
    }

    /// Writes the result of a command: the JSON document under `--json`, else the human text.
    pub fn result<T: Serialize>(
        &self,
        document: &T,
        human: impl FnOnce(Style) -> String,
    ) -> io::Result<()> {
        let text = if self.json {
            let mut value = serde_json::to_value(document).map_err(io::Error::other)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("schema_version".to_owned(), SCHEMA_VERSION.into());
            }
            let mut text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
            text.push('\n');
            text
        } else {
            human(self.out)
        };
        write_ignoring_broken_pipe(&mut io::stdout().lock(), &text)
    }

    /// Text for stdout exactly as given (a shell script), whatever `--json` says.
    pub fn raw(&self, text: &str) -> io::Result<()> {
        write_ignoring_broken_pipe(&mut io::stdout().lock(), text)
    }

    /// A warning on stderr (shown unless `-qq`).
    pub fn warn(&self, message: &str) {
        if self.quiet < 2 {
            Self::stderr(&format!("{} {message}\n", self.err.warn("warning:")));
        }
    }

    /// Detail on stderr, only with `-v`.
    pub fn debug(&self, message: &str) {
        if self.verbose > 0 {
            Self::stderr(&format!("{}\n", self.err.dim(message)));
        }
    }

    /// A line of progress on stderr (hidden by `-q`).
    pub fn info(&self, message: &str) {
        if self.quiet == 0 {
            Self::stderr(&format!("{message}\n"));
        }
    }

    /// The outcome of one step: `✓ pull  detail`.
    pub fn step(&self, status: &str, name: &str, detail: &str) {
        if self.quiet > 0 {
            return;
        }
        let mark = match status {
            "done" => self.err.good("✓"),
            "skipped" => self.err.dim("·"),
            "failed" => self.err.bad("✗"),
            _ => " ".to_owned(),
        };
        Self::stderr(&format!(
            "{mark} {} {detail}\n",
            self.err.bold(&pad(name, 9))
        ));
    }

    /// Asks a yes/no question on the terminal; `None` when there is no terminal to ask on.
    #[must_use]
    pub fn confirm(&self, question: &str) -> Option<bool> {
        if !self.interactive {
            return None;
        }
        Self::stderr(&format!("{question} [y/N] "));
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer).ok()?;
        Some(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
    }

    /// Progress for a download: one bar over all layers on a terminal, else a line per phase.
    #[must_use]
    pub fn download(&self, what: &str) -> Download {
        let bar = self.bars.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(20));
            bar.set_style(spinner_style());
            bar.set_message(format!("{what}: pulling manifest"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Download {
            what: what.to_owned(),
            bar,
            lines: !self.bars && self.quiet == 0,
            layers: HashMap::new(),
            status: String::new(),
            reported_quarter: 0,
            sized: false,
        }
    }

    fn stderr(text: &str) {
        // Nothing sensible is left to do when stderr itself is gone.
        let _ = write_ignoring_broken_pipe(&mut io::stderr().lock(), text);
    }

    /// Reports a failure and returns the exit code: a JSON error document under `--json`, else `error:` lines.
    pub fn report_failure(&self, err: &anyhow::Error, hint: Option<&str>, code: u8) -> ExitCode {
        let causes: Vec<String> = err.chain().skip(1).map(ToString::to_string).collect();
        if self.json {
            let document = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "error": { "message": err.to_string(), "causes": causes, "hint": hint, "exit_code": code },
            });
            let text = serde_json::to_string_pretty(&document).unwrap_or_default();
            let _ = write_ignoring_broken_pipe(&mut io::stdout().lock(), &format!("{text}\n"));
        }
        let mut text = format!("{} {err}\n", self.err.bad("error:"));
        for cause in &causes {
            let _ = writeln!(text, "  Caused by: {cause}");
        }
        if let Some(hint) = hint {
            let _ = writeln!(text, "{} {hint}", self.err.good("hint:"));
        }
        Self::stderr(&text);
        ExitCode::from(code)
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
    )
    .map_or_else(
        |_| ProgressStyle::default_bar(),
        |style| style.progress_chars("=> "),
    )
}

/// A download in progress: bytes summed over every layer, the phase as the message.
pub struct Download {
    what: String,
    bar: Option<ProgressBar>,
    lines: bool,
    /// Per layer digest: (total, completed).
    layers: HashMap<String, (u64, u64)>,
    status: String,
    reported_quarter: u64,
    sized: bool,
}

impl Download {
    /// One progress report from the runtime.
    pub fn update(
        &mut self,
        status: &str,
        digest: Option<&str>,
        total: Option<u64>,
        completed: Option<u64>,
    ) {
        let mut sizes_changed = false;
        if let (Some(digest), Some(total)) = (digest, total) {
            let entry = self.layers.entry(digest.to_owned()).or_insert((0, 0));
            sizes_changed = entry.0 != total;
            *entry = (total, completed.unwrap_or(entry.1).min(total));
        } else if let (Some(total), None) = (total, digest) {
            // One aggregate line for the whole model.
            let entry = self.layers.entry(String::new()).or_insert((0, 0));
            sizes_changed = entry.0 != total;
            *entry = (total, completed.unwrap_or(entry.1).min(total));
        }
        let phase = phase_of(status);
        if phase != self.status {
            phase.clone_into(&mut self.status);
            if let Some(bar) = &self.bar {
                bar.set_message(format!("{}: {phase}", self.what));
            } else if self.lines {
                Printer::stderr(&format!("{}: {phase}\n", self.what));
            }
        }
        let (total, done) = self
            .layers
            .values()
            .fold((0, 0), |(t, d), (lt, ld)| (t + lt, d + ld));
        if total == 0 {
            return;
        }
        if let Some(bar) = &self.bar {
            if sizes_changed {
                bar.set_length(total);
            }
            if !self.sized && phase == "downloading" {
                self.sized = true;
                bar.set_style(bytes_style());
                bar.set_message(self.what.clone());
                bar.disable_steady_tick();
            }
            bar.set_position(done);
        } else if self.lines && phase == "downloading" {
            let quarter = done * 4 / total;
            if quarter > self.reported_quarter {
                self.reported_quarter = quarter;
                Printer::stderr(&format!(
                    "{}: {}% ({} of {})\n",
                    self.what,
                    quarter * 25,
                    crate::size::human_bytes(done),
                    crate::size::human_bytes(total)
                ));
            }
        }
    }

    /// Removes the bar (success or failure alike).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The phase a status line belongs to: `pulling 06c1097efce0` lines are all "downloading".
fn phase_of(status: &str) -> &str {
    if status.is_empty() || (status.starts_with("pulling ") && status != "pulling manifest") {
        "downloading"
    } else {
        status
    }
}

/// Writes `text`, treating a closed pipe (`codex-local status | head -1`) as success.
fn write_ignoring_broken_pipe(stream: &mut impl Write, text: &str) -> io::Result<()> {
    match stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush())
    {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Removes control characters from text that came from a server, so it cannot move the cursor or recolour.
#[must_use]
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect()
}

/// Shows a path as `~/…` when it lies under the user's home.
#[must_use]
pub fn display_path(path: &std::path::Path, home: Option<&std::path::Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if !rest.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Pads `text` on the right to `width` characters.
#[must_use]
pub fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len >= width {
        text.to_owned()
    } else {
        format!("{text}{}", " ".repeat(width - len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_control_characters_from_server_text() {
        assert_eq!(sanitize("ok\x1b[31mred"), "ok?[31mred");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(Style::new(false).bad("x"), "x");
        assert_eq!(Style::new(true).bad("x"), "\x1b[31mx\x1b[0m");
    }
}
