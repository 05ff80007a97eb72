//! `codex-local shell-init bash|zsh|fish`: the shell code that routes a plain `codex` through `codex-local run`.

use std::process::ExitCode;

use serde::Serialize;

use super::Ctx;
use crate::cli::{Shell, ShellInitArgs};

const BASH: &str = include_str!("../shell/bash.sh");
const ZSH: &str = include_str!("../shell/zsh.zsh");
const FISH: &str = include_str!("../shell/fish.fish");

/// Quotes a path for POSIX shells: single quotes, with `'` written as `'\''`.
#[must_use]
pub fn quote_posix(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Quotes a path for fish: single quotes, with `\` and `'` escaped.
#[must_use]
pub fn quote_fish(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The script for `shell`, calling the binary at `program`.
#[must_use]
pub fn script(shell: Shell, program: &str) -> String {
    match shell {
        Shell::Bash => BASH.replace("__CODEX_LOCAL__", &quote_posix(program)),
        Shell::Zsh => ZSH.replace("__CODEX_LOCAL__", &quote_posix(program)),
        Shell::Fish => FISH.replace("__CODEX_LOCAL__", &quote_fish(program)),
    }
}

/// The `shell-init --json` document: the script, as a string.
#[derive(Serialize)]
struct ScriptReport {
    shell: &'static str,
    program: String,
    script: String,
}

/// Prints the script, and nothing else, on stdout (under `--json`, a document holding it).
pub fn run(args: &ShellInitArgs, ctx: &Ctx<'_>) -> anyhow::Result<ExitCode> {
    let program = std::env::current_exe().map_or_else(
        |_| "codex-local".to_owned(),
        |path| path.display().to_string(),
    );
    let text = script(args.shell, &program);
    if ctx.printer.json {
        let report = ScriptReport {
            shell: match args.shell {
                Shell::Bash => "bash",
                Shell::Zsh => "zsh",
                Shell::Fish => "fish",
            },
            program,
            script: text,
        };
        ctx.printer.result(&report, |_| String::new())?;
    } else {
        ctx.printer.raw(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths_for_each_shell() {
        assert_eq!(
            quote_posix("/opt/it's/codex-local"),
            "'/opt/it'\\''s/codex-local'"
        );
        assert_eq!(quote_fish("/opt/it's\\x"), "'/opt/it\\'s\\\\x'");
        assert!(
            script(Shell::Fish, "/bin/codex-local")
                .contains("command '/bin/codex-local' run -- $argv")
        );
        assert!(
            script(Shell::Bash, "/bin/codex-local")
                .contains("command '/bin/codex-local' run -- \"$@\"")
        );
    }
}
