//! The report: all output. Results on stdout, everything else on stderr, colour only where it helps.
//!
//! No other module prints. Commands hand their result to [`Printer`], which writes the one JSON document or the
//! human text, and reports errors as `error:` / `Caused by:` / `hint:` lines (or a JSON error document).

mod progress;
mod style;

use std::fmt::Write as _;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::{Cli, ColorChoice};
use crate::plan::steps::{StepName, StepStatus};
use crate::settings::{self, ProcessEnv};
use crate::text::{pad, printable};
pub use progress::Download;
pub use style::Style;

/// The version of every JSON document codex-local prints.
pub const SCHEMA_VERSION: u32 = 1;

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
            stderr(&format!(
                "{} {}\n",
                self.err.warn("warning:"),
                printable(message)
            ));
        }
    }

    /// Detail on stderr, only with `-v`.
    pub fn debug(&self, message: &str) {
        if self.verbose > 0 {
            stderr(&format!("{}\n", self.err.dim(&printable(message))));
        }
    }

    /// A line of progress on stderr (hidden by `-q`).
    pub fn info(&self, message: &str) {
        if self.quiet == 0 {
            stderr(&format!("{}\n", printable(message)));
        }
    }

    /// The outcome of one step: `✓ pull  detail`.
    pub fn step(&self, status: StepStatus, name: StepName, detail: &str) {
        if self.quiet > 0 {
            return;
        }
        let mark = match status {
            StepStatus::Done => self.err.good("✓"),
            StepStatus::Skipped => self.err.dim("·"),
            StepStatus::Failed => self.err.bad("✗"),
            StepStatus::Planned => " ".to_owned(),
        };
        stderr(&format!(
            "{mark} {} {}\n",
            self.err.bold(&pad(name.as_str(), 9)),
            printable(detail)
        ));
    }

    /// Asks a yes/no question on the terminal; `None` when there is no terminal to ask on.
    #[must_use]
    pub fn confirm(&self, question: &str) -> Option<bool> {
        if !self.interactive {
            return None;
        }
        stderr(&format!("{question} [y/N] "));
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer).ok()?;
        Some(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
    }

    /// Progress for a download: one bar over all layers on a terminal, else a line per phase.
    #[must_use]
    pub fn download(&self, what: &str) -> Download {
        progress::start(what, self.bars, self.quiet > 0)
    }

    /// Reports a command line that does not parse: clap's text on stderr, and under `--json` one error document on
    /// stdout as well.
    #[must_use]
    pub fn usage_failure(err: &clap::Error, json: bool, code: u8) -> ExitCode {
        let text = err.to_string();
        if json {
            let message =
                if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    "a subcommand or argument is missing".to_owned()
                } else {
                    text.lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ")
                        .to_owned()
                };
            let document = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "error": {
                    "message": message,
                    "causes": [],
                    "hint": "see `codex-local --help`",
                    "exit_code": code,
                },
            });
            let text = serde_json::to_string_pretty(&document).unwrap_or_default();
            let _ = write_ignoring_broken_pipe(&mut io::stdout().lock(), &format!("{text}\n"));
        }
        stderr(&text);
        ExitCode::from(code)
    }

    /// Reports a failure and returns the exit code: a JSON error document under `--json`, else `error:` lines.
    #[must_use]
    pub fn report_failure(&self, err: &anyhow::Error, hint: Option<&str>, code: u8) -> ExitCode {
        let message = printable(&err.to_string()).into_owned();
        // A cause that its error already quotes in full says nothing new.
        let mut said = message.clone();
        let mut causes = Vec::new();
        for cause in err.chain().skip(1) {
            let cause = printable(&cause.to_string()).into_owned();
            if !said.contains(&cause) {
                said.push_str(&cause);
                causes.push(cause);
            }
        }
        if self.json {
            let document = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "error": { "message": message, "causes": causes, "hint": hint, "exit_code": code },
            });
            let text = serde_json::to_string_pretty(&document).unwrap_or_default();
            let _ = write_ignoring_broken_pipe(&mut io::stdout().lock(), &format!("{text}\n"));
        }
        let mut text = format!("{} {message}\n", self.err.bad("error:"));
        for cause in &causes {
            let _ = writeln!(text, "  Caused by: {cause}");
        }
        if let Some(hint) = hint {
            let _ = writeln!(text, "{} {hint}", self.err.good("hint:"));
        }
        stderr(&text);
        ExitCode::from(code)
    }
}

/// Writes to stderr; nothing sensible is left to do when stderr itself is gone.
fn stderr(text: &str) {
    let _ = write_ignoring_broken_pipe(&mut io::stderr().lock(), text);
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
