//! All output: results on stdout, everything else on stderr, colour only where it helps.
//!
//! No other module prints. Commands hand their result to [`Printer`], which writes the one JSON document or the
//! human text, and reports errors as `error:` / `Caused by:` / `hint:` lines (or a JSON error document).

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

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
        Self {
            json,
            quiet: cli.global.quiet,
            verbose: cli.global.verbose,
            out: Style::new(!json && wants(io::stdout().is_terminal())),
            err: Style::new(wants(io::stderr().is_terminal())),
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
