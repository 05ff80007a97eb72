//! Codex's own command line, read by its grammar (taken from the `--help` of every subcommand of the Codex versions
//! codex-local is tested with), to find what could send a local-mode repository's prompts off the machine.
//!
//! The grammar is clap's: long options as `--name value` or `--name=value`, short options with the value attached
//! (`-pdefault`, `-c=key=value`) or next, short flags in clusters, and `--` ending the options. What local mode
//! refuses: choosing a profile (`-p`), the open-source switches (`--oss`, `--local-provider`), remote execution
//! (`--remote`, `--remote-auth-token-env`), web search (`--search`), ignoring the user's configuration (which holds
//! the local profile), enabling features (`--enable`), `-c`/`--config` overrides of any key that picks a provider,
//! an address, a profile or a network tool, and subcommands that work with a cloud. An option it does not know is
//! refused too: local mode fails closed.

use std::ffi::OsString;

/// Options that take a value and are safe in local mode (long names; the short ones are in [`SHORT_VALUE`]).
const LONG_VALUE: [&str; 16] = [
    "--model",
    "--image",
    "--sandbox",
    "--cd",
    "--add-dir",
    "--ask-for-approval",
    "--output-schema",
    "--color",
    "--output-last-message",
    "--thread-source",
    "--base",
    "--commit",
    "--title",
    "--disable",
    "--output-format",
    "--session-name",
];

/// Flags that are safe in local mode.
const LONG_FLAG: [&str; 19] = [
    "--strict-config",
    "--approve-for-me",
    "--dangerously-bypass-approvals-and-sandbox",
    "--dangerously-bypass-hook-trust",
    "--worktree",
    "--no-alt-screen",
    "--no-daemon",
    "--skip-git-repo-check",
    "--trust",
    "--ephemeral",
    "--ignore-rules",
    "--json",
    "--uncommitted",
    "--last",
    "--all",
    "--include-non-interactive",
    "--full-auto",
    "--help",
    "--version",
];

/// Options that can send prompts elsewhere, with why.
const LONG_REFUSED: [(&str, &str); 9] = [
    ("--profile", "it chooses another profile"),
    ("--oss", "it chooses Codex's own local provider setup"),
    ("--local-provider", "it chooses another provider"),
    ("--remote", "it runs the session on a remote server"),
    (
        "--remote-auth-token-env",
        "it is for a session on a remote server",
    ),
    ("--search", "it turns on web search, a cloud service"),
    (
        "--ignore-user-config",
        "it ignores the configuration that holds the local profile",
    ),
    ("--enable", "it can turn on features that reach a cloud"),
    (
        "--cyber-access-program",
        "codex-local cannot tell where it sends work",
    ),
];

/// Short options that take a value and are safe (`-c` is checked by its value, `-p` refused).
const SHORT_VALUE: [char; 7] = ['m', 'i', 's', 'C', 'a', 'o', 'c'];
/// Short flags.
const SHORT_FLAG: [char; 2] = ['h', 'V'];

/// Subcommands that run on this machine with the configuration given.
const SAFE_SUBCOMMANDS: [&str; 14] = [
    "exec",
    "e",
    "review",
    "resume",
    "fork",
    "apply",
    "a",
    "help",
    "completion",
    "features",
    "doctor",
    "sandbox",
    "archive",
    "unarchive",
];

/// Subcommands under which a session still starts (they take subcommands of their own).
const NESTING: [&str; 2] = ["exec", "e"];

/// The first keys of a `-c` override that local mode lets through: what shapes the session on this machine. Any
/// other key is refused (it might choose a provider, an address, a profile, a network tool, telemetry, a hook or an
/// MCP server), and so is any key whose parts name a provider or a base URL.
const SAFE_KEYS: [&str; 17] = [
    "model",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "model_context_window",
    "model_auto_compact_token_limit",
    "sandbox_mode",
    "sandbox_workspace_write",
    "approval_policy",
    "shell_environment_policy",
    "hide_agent_reasoning",
    "show_raw_agent_reasoning",
    "file_opener",
    "tui",
    "project_doc_max_bytes",
    "project_doc_fallback_filenames",
    "disable_paste_burst",
];

/// An argument local mode refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The argument as given.
    pub arg: String,
    pub why: String,
}

fn refused(arg: &str, why: impl Into<String>) -> Refused {
    Refused {
        arg: arg.to_owned(),
        why: why.into(),
    }
}

/// Checks Codex's arguments; the first one local mode refuses, if any.
pub fn check(args: &[OsString]) -> Result<(), Refused> {
    scan(args, &mut Vec::new())
}

/// Subcommands that talk to no model: Codex started with one needs no model served.
const NO_SESSION: [&str; 18] = [
    "apply",
    "a",
    "help",
    "completion",
    "features",
    "doctor",
    "sandbox",
    "archive",
    "unarchive",
    "login",
    "logout",
    "mcp",
    "mcp-server",
    "app-server",
    "debug",
    "cloud",
    "cloud-tasks",
    "responses-api-proxy",
];

/// Whether Codex started with `args` talks to a model: the interactive session, `exec`, `review`, `resume`,
/// `fork` or a prompt; not `--help`, `--version` or a subcommand of [`NO_SESSION`].
#[must_use]
pub fn starts_session(args: &[OsString]) -> bool {
    let args: Vec<&str> = args
        .iter()
        .map(|arg| arg.to_str().unwrap_or(""))
        .take_while(|arg| *arg != "--")
        .collect();
    if args
        .iter()
        .any(|arg| matches!(*arg, "-h" | "--help" | "-V" | "--version"))
    {
        return false;
    }
    let mut at = 0;
    while let Some(arg) = args.get(at) {
        at += 1;
        if let Some(long) = arg.strip_prefix("--") {
            let takes_value = LONG_VALUE.contains(arg)
                || LONG_REFUSED.iter().any(|(name, _)| name == arg)
                || long == "config";
            if takes_value && !long.contains('=') {
                at += 1;
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let last = short.chars().last().unwrap_or('-');
            let valued = short
                .char_indices()
                .find(|(_, letter)| SHORT_VALUE.contains(letter) || *letter == 'p');
            if valued.is_some_and(|(index, letter)| index + letter.len_utf8() == short.len())
                && (SHORT_VALUE.contains(&last) || last == 'p')
            {
                at += 1;
            }
        } else {
            return !NO_SESSION.contains(arg);
        }
    }
    true
}

/// The profile the arguments choose (`-p NAME`, `-pNAME`, `--profile NAME`, `--profile=NAME`), if any; what comes
/// after `--` is a prompt, not an option.
#[must_use]
pub fn profile(args: &[OsString]) -> Option<String> {
    let args: Vec<&str> = args
        .iter()
        .map(|arg| arg.to_str().unwrap_or(""))
        .take_while(|arg| *arg != "--")
        .collect();
    let mut chosen = None;
    for (at, arg) in args.iter().enumerate() {
        let next = args.get(at + 1).map(|next| (*next).to_owned());
        let value = match *arg {
            "-p" | "--profile" => next,
            _ => arg
                .strip_prefix("--profile=")
                .or_else(|| arg.strip_prefix("-p").filter(|rest| !rest.is_empty()))
                .map(|value| value.trim_start_matches('=').to_owned()),
        };
        if value.is_some() {
            chosen = value;
        }
    }
    chosen
}

/// The folders Codex's arguments make it work in (`-C`/`--cd` and `--add-dir`), as given.
#[must_use]
pub fn work_dirs(args: &[OsString]) -> Vec<String> {
    let mut dirs = Vec::new();
    // Refusals do not matter here: the folders seen before one are what Codex would use.
    let _ = scan(args, &mut dirs);
    dirs
}

fn scan(args: &[OsString], dirs: &mut Vec<String>) -> Result<(), Refused> {
    let args: Vec<String> = args
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let mut subcommand_slot = true;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            break;
        }
        let next = args.get(i + 1).map(String::as_str);
        if arg.starts_with("--") {
            i += long(arg, next, dirs)?;
        } else if arg.len() > 1 && arg.starts_with('-') {
            i += short(arg, next, dirs)?;
        } else if subcommand_slot {
            subcommand_slot = subcommand(arg)?;
        }
        i += 1;
    }
    Ok(())
}

/// A long option; how many following arguments it takes as its value.
fn long(arg: &str, next: Option<&str>, dirs: &mut Vec<String>) -> Result<usize, Refused> {
    let (name, inline) = arg
        .split_once('=')
        .map_or((arg, None), |(name, value)| (name, Some(value)));
    if let Some((_, why)) = LONG_REFUSED.iter().find(|(refused, _)| *refused == name) {
        return Err(refused(arg, *why));
    }
    if name == "--config" {
        let value = inline.or(next).unwrap_or("");
        config(arg, value)?;
        return Ok(usize::from(inline.is_none()));
    }
    if LONG_VALUE.contains(&name) {
        if matches!(name, "--cd" | "--add-dir") {
            dirs.extend(inline.or(next).map(str::to_owned));
        }
        return Ok(usize::from(inline.is_none()));
    }
    if LONG_FLAG.contains(&name) {
        return Ok(0);
    }
    Err(refused(
        arg,
        "codex-local does not know this option of Codex, and local mode refuses what it cannot check",
    ))
}

/// A cluster of short options (`-pdefault`, `-c key=value`, `-hV`); how many following arguments it takes.
fn short(arg: &str, next: Option<&str>, dirs: &mut Vec<String>) -> Result<usize, Refused> {
    let cluster = &arg[1..];
    for (at, letter) in cluster.char_indices() {
        let rest = &cluster[at + letter.len_utf8()..];
        if letter == 'p' {
            return Err(refused(arg, "it chooses another profile"));
        }
        if SHORT_VALUE.contains(&letter) {
            // The value is attached (`-Crepo`, `-c=key=value`) or the next argument.
            let value = match rest.strip_prefix('=').unwrap_or(rest) {
                "" => next.unwrap_or(""),
                attached => attached,
            };
            match letter {
                'c' => config(arg, value)?,
                'C' => dirs.push(value.to_owned()),
                _ => {}
            }
            return Ok(usize::from(rest.is_empty()));
        }
        if !SHORT_FLAG.contains(&letter) {
            return Err(refused(
                arg,
                "codex-local does not know this option of Codex, and local mode refuses what it cannot check",
            ));
        }
    }
    Ok(0)
}

/// A positional argument where a subcommand may stand; whether another subcommand may follow it.
fn subcommand(arg: &str) -> Result<bool, Refused> {
    if SAFE_SUBCOMMANDS.contains(&arg) {
        return Ok(NESTING.contains(&arg));
    }
    if KNOWN_SUBCOMMANDS.contains(&arg) {
        return Err(refused(
            arg,
            "this subcommand works with a cloud or changes Codex's setup; run it outside local mode",
        ));
    }
    // Anything else is the prompt.
    Ok(false)
}

/// Every subcommand of the tested Codex versions.
const KNOWN_SUBCOMMANDS: [&str; 32] = [
    "cloud-tasks",
    "responses-api-proxy",
    "stdio-to-uds",
    "mcp-server",
    "agents",
    "exec",
    "e",
    "review",
    "login",
    "logout",
    "mcp",
    "plugin",
    "app-server",
    "remote-control",
    "completion",
    "update",
    "doctor",
    "sandbox",
    "debug",
    "apply",
    "a",
    "resume",
    "queue",
    "archive",
    "delete",
    "migrate-rollouts",
    "migrate-nfs-db",
    "unarchive",
    "fork",
    "cloud",
    "exec-server",
    "features",
];

/// A `-c`/`--config` override: refused when its key picks a provider, an address, a profile or a network tool.
fn config(arg: &str, value: &str) -> Result<(), Refused> {
    let Some((key, _)) = value.split_once('=') else {
        return Err(refused(arg, "an override needs `key=value`"));
    };
    let parts = key_parts(key);
    let first = parts.first().map_or("", String::as_str);
    let named = parts
        .iter()
        .any(|part| part.contains("provider") || part.contains("base_url"));
    if !SAFE_KEYS.contains(&first) || named {
        return Err(refused(
            arg,
            format!(
                "it overrides `{}`, which local mode does not let change (it may decide where prompts or data go)",
                parts.join(".")
            ),
        ));
    }
    Ok(())
}

/// The parts of a dotted TOML key, unquoted and lower-cased: `"model_provider"` and ` Model_Provider ` alike.
fn key_parts(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut quote = None;
    for letter in key.chars() {
        match (quote, letter) {
            (None, '"' | '\'') => quote = Some(letter),
            (Some(open), _) if letter == open => quote = None,
            (None, '.') => parts.push(std::mem::take(&mut part)),
            _ => part.push(letter),
        }
    }
    parts.push(part);
    parts
        .into_iter()
        .map(|part| part.trim().to_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_talks_to_a_model_starts_a_session() {
        let os = |args: &[&str]| args.iter().map(OsString::from).collect::<Vec<_>>();
        for args in [
            &[][..],
            &["exec", "say hi"],
            &["-m", "x", "resume", "--last"],
            &["-c", "model=x", "fix the tests"],
            &["-pwork"],
            &["--model=x", "review"],
            &["-C", "repo", "e", "hi"],
            &["--", "--version"],
        ] {
            assert!(starts_session(&os(args)), "{args:?}");
        }
        for args in [
            &["--version"][..],
            &["-V"],
            &["exec", "--help"],
            &["completion", "bash"],
            &["logout"],
            &["-c", "model=x", "mcp", "list"],
            &["--profile", "exec", "login"],
            &["-m", "exec", "doctor"],
        ] {
            assert!(!starts_session(&os(args)), "{args:?}");
        }
    }

    #[test]
    fn the_profile_chosen_is_found_in_every_spelling() {
        let os = |args: &[&str]| args.iter().map(OsString::from).collect::<Vec<_>>();
        for args in [
            &["-p", "work"][..],
            &["--profile", "work"],
            &["--profile=work"],
            &["-pwork"],
            &["-p=work"],
            &["exec", "-p", "other", "--profile", "work", "say hi"],
        ] {
            assert_eq!(profile(&os(args)).as_deref(), Some("work"), "{args:?}");
        }
        for args in [&["exec", "say -p hi"][..], &["--", "-p", "work"], &[]] {
            assert_eq!(profile(&os(args)), None, "{args:?}");
        }
    }

    fn verdict(args: &[&str]) -> Result<(), Refused> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        check(&args)
    }

    #[test]
    fn refuses_every_spelling_of_what_sends_prompts_elsewhere() {
        for args in [
            &["-p", "default"][..],
            &["-pdefault"],
            &["-p=default"],
            &["--profile=default"],
            &["--profile", "x"],
            &["exec", "-pdefault", "hi"],
            &["--oss"],
            &["--oss=true"],
            &["--local-provider", "ollama"],
            &["--remote", "ws://host:1"],
            &["--remote-auth-token-env", "T"],
            &["--search"],
            &["exec", "--ignore-user-config", "x"],
            &["--enable", "apps"],
            &["--config=model_provider=openai"],
            &["--config", "model_provider=\"openai\""],
            &["-c", "model_provider=openai"],
            &["-cmodel_provider=openai"],
            &["-c=model_provider=openai"],
            &["-c", "\"model_provider\"=openai"],
            &["-c", "'model_provider' = openai"],
            &["-c", " Model_Provider =openai"],
            &["-c", "model_providers.openai.base_url=\"http://x\""],
            &["-c", "openai_base_url=http://x"],
            &["-c", "chatgpt_base_url=http://x"],
            &["-c", "profile=default"],
            &["-c", "oss_provider=ollama"],
            &["-c", "web_search=\"live\""],
            &["-c", "features.apps=true"],
            &[
                "-c",
                "model_providers.\"codex-local-ollama\".base_url=\"x\"",
            ],
            &["exec", "-c", "model_provider=openai", "x"],
            &["cloud"],
            &["exec-server"],
            &["app-server"],
            &["remote-control"],
            &["--made-up-option"],
            &["-Z"],
            &["cloud-tasks"],
            &["responses-api-proxy"],
            &["-c", "otel.exporter={otlp-http={endpoint=\"https://x\"}}"],
            &["-c", "otel.log_user_prompt=true"],
            &["-c", "notify=[\"curl\",\"x\"]"],
            &["-c", "mcp_servers.x.url=\"https://x\""],
        ] {
            assert!(verdict(args).is_err(), "{args:?} is refused");
        }
    }

    #[test]
    fn finds_the_folders_codex_works_in() {
        let args: Vec<OsString> = [
            "-C",
            "a",
            "--cd=b",
            "-Cc",
            "--add-dir",
            "d",
            "exec",
            "--",
            "-C",
            "e",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        assert_eq!(work_dirs(&args), ["a", "b", "c", "d"]);
    }

    #[test]
    fn lets_through_what_stays_local() {
        for args in [
            &[][..],
            &["fix the bug"],
            &["exec", "--", "-c model_provider=openai"],
            &["--", "-pdefault"],
            &["exec", "-m", "qwen", "--skip-git-repo-check", "hello"],
            &["-m", "-p"],
            &[
                "exec",
                "-c",
                "model=\"x\"",
                "-c",
                "sandbox_mode=read-only",
                "x",
            ],
            &["-C", "/tmp", "--add-dir", "/x", "-i", "a.png", "hi"],
            &["exec", "resume", "--last"],
            &["review", "--uncommitted"],
            &["--disable", "apps"],
            &["-hV"],
            &["cloudy day"],
        ] {
            assert_eq!(verdict(args), Ok(()), "{args:?} is let through");
        }
    }
}
