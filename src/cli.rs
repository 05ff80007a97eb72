//! The command line: every command and option as clap derive types, whose doc comments are the help text. Values
//! are only checked for their form here; `settings` resolves them against the environment.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

/// Set up OpenAI's Codex CLI to work with a local model that fits this machine.
///
/// codex-local measures RAM and GPUs, finds a running Ollama or LM Studio, chooses and pulls a coding model that
/// fits at the context Codex needs, points Codex at it, and proves it works.
#[derive(Debug, Parser)]
#[command(name = "codex-local", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options that every command accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout and nothing else there
    #[arg(long, global = true)]
    pub json: bool,

    /// Print less: only results and errors (repeat for errors only)
    #[arg(short, long, global = true, action = ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,

    /// Print more detail about each step (repeatable)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Codex's directory [default: $CODEX_HOME, else ~/.codex]
    #[arg(long, global = true, value_name = "DIR")]
    pub codex_home: Option<PathBuf>,

    /// Ollama's address [default: $OLLAMA_HOST, else http://127.0.0.1:11434]
    #[arg(long, global = true, value_name = "URL")]
    pub ollama_url: Option<String>,

    /// LM Studio's address [default: $LMSTUDIO_HOST, else http://127.0.0.1:1234]
    #[arg(long, global = true, value_name = "URL")]
    pub lmstudio_url: Option<String>,

    /// Use this model catalog instead of the built-in one
    #[arg(long, global = true, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Describe the machine instead of probing it: total RAM (e.g. 32GiB, 16G, 64000MB)
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        help_heading = "Described hardware"
    )]
    pub ram: Option<String>,

    /// A GPU of the described machine, repeatable (e.g. nvidia:24GiB; vendors: nvidia amd intel apple)
    #[arg(
        long,
        global = true,
        value_name = "[VENDOR:]SIZE",
        requires = "ram",
        help_heading = "Described hardware"
    )]
    pub gpu: Vec<String>,

    /// The described machine's CPU and GPU share --ram (Apple Silicon)
    #[arg(
        long,
        global = true,
        requires = "ram",
        conflicts_with = "gpu",
        help_heading = "Described hardware"
    )]
    pub unified: bool,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Choose a model that fits this machine, pull it, serve it with enough context, point Codex at it, and verify
    Init(InitArgs),
    /// Show what is here: hardware, runtimes, what Codex is set to, and the current repository
    Status(StatusArgs),
    /// List the catalog's models for this machine: memory need at the context, and where each would run
    Models(ModelsArgs),
    /// Check what Codex is configured to use, with a real request through the configured provider
    Verify(VerifyArgs),
    /// Undo what codex-local changed in Codex's configuration, and only that
    Restore(RestoreArgs),
    /// Local mode for one repository: Codex started there uses only the local model
    Repo(RepoArgs),
    /// Print the shell code that makes a plain `codex` honour local mode
    ShellInit(ShellInitArgs),
    /// Start the real Codex the way this directory requires (the shell hook calls this)
    Run(RunArgs),
    /// On a connected machine: download a model for a machine with no network into DIR, for `init --from DIR`
    Pack(PackArgs),
}

/// Options of `pack`.
#[derive(Debug, Clone, clap::Args)]
pub struct PackArgs {
    /// The folder to fill (a USB drive, a shared folder); made when missing
    pub dir: PathBuf,

    /// The model: a catalog id or any Ollama name [default: the best that fits the described machine]
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// The context length the target serves, in tokens [default: 65536 when it fits, else down to 32768]
    #[arg(long, value_name = "TOKENS", value_parser = clap::value_parser!(u64).range(2048..=1_048_576))]
    pub context: Option<u64>,

    /// The least estimated writing speed worth choosing, in tokens/s [default: 10]
    #[arg(long, value_name = "TOKENS_PER_S", value_parser = min_speed)]
    pub min_speed: Option<f64>,

    /// Print the choice and what would be downloaded; download and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `repo`.
#[derive(Debug, Clone, clap::Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub action: RepoAction,
}

/// What `repo` does.
#[derive(Debug, Clone, Subcommand)]
pub enum RepoAction {
    /// Turn local mode on for a repository [default: the one around the current directory]
    On {
        path: Option<PathBuf>,
        /// The profile Codex is started with there
        #[arg(long, value_name = "NAME", default_value = "local", value_parser = profile_name)]
        profile: String,
        /// Also write `.codex/codex-local.toml`, which a team can commit so every member's codex-local keeps
        /// the repository local
        #[arg(long)]
        marker: bool,
    },
    /// Turn local mode off for a repository
    Off { path: Option<PathBuf> },
    /// Show whether a repository is in local mode
    Status { path: Option<PathBuf> },
}

/// A shell `shell-init` writes code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Options of `shell-init`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShellInitArgs {
    pub shell: Shell,
}

/// Options of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Arguments for Codex, after `--`
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<std::ffi::OsString>,
}

/// Options of `restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {}

/// Options of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {}

/// A local runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    Ollama,
    Lmstudio,
}

/// Options of `init`.
#[expect(
    clippy::struct_excessive_bools,
    reason = "each flag is a separate command-line switch"
)]
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The runtime to use [default: the one running; both: the one that has a fitting model, else Ollama]
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeArg>,

    /// The model: a catalog id, any Ollama name (sized before the pull), an LM Studio key, or a `.gguf` file
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// Set up from a folder written by `codex-local pack` (no network needed)
    #[arg(long, value_name = "DIR", conflicts_with = "model")]
    pub from: Option<PathBuf>,

    /// The name an imported model file gets in Ollama [default: the file's (or pack's) name with the context]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The context length in tokens [default: 65536 when it fits, else 32768]
    #[arg(long, value_name = "TOKENS", value_parser = clap::value_parser!(u64).range(2048..=1_048_576))]
    pub context: Option<u64>,

    /// The least estimated writing speed worth choosing, in tokens/s: slower models are passed over when a faster
    /// one fits [default: 10]
    #[arg(long, value_name = "TOKENS_PER_S", value_parser = min_speed)]
    pub min_speed: Option<f64>,

    /// The profile file to write: <codex home>/<NAME>.config.toml, used as `codex --profile NAME`
    #[arg(long, value_name = "NAME", default_value = "local", value_parser = profile_name)]
    pub profile: String,

    /// Write only the profile file and leave Codex's default configuration alone
    #[arg(long)]
    pub profile_only: bool,

    /// Also write the privacy keys into config.toml, and plan among installed models only
    #[arg(long)]
    pub offline: bool,

    /// Print the plan; download and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Answer yes to every question (needed for a download when not run from a terminal)
    #[arg(short, long)]
    pub yes: bool,
}

/// Options of `models`.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelsArgs {
    /// The context length to size the models for [default: 65536]
    #[arg(long, value_name = "TOKENS", value_parser = clap::value_parser!(u64).range(2048..=1_048_576))]
    pub context: Option<u64>,

    /// Size one model: a catalog id, any Ollama name (`qwen3.6:27b-q8_0`, `user/model:tag`,
    /// `hf.co/org/repo:Q4_K_M`) read from the registry before any pull, or a `.gguf` file
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// Check the catalog's numbers (every model, or `--model`'s) against each model's own GGUF header in Ollama's
    /// registry, and report any difference
    #[arg(long)]
    pub check: bool,

    /// The least estimated writing speed worth choosing, in tokens/s: slower models are passed over when a faster
    /// one fits [default: 10]
    #[arg(long, value_name = "TOKENS_PER_S", value_parser = min_speed)]
    pub min_speed: Option<f64>,
}

/// Options of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Check a profile file instead of config.toml
    #[arg(long, value_name = "NAME", value_parser = profile_name)]
    pub profile: Option<String>,

    /// Also check that nothing Codex does needs a network
    #[arg(long)]
    pub offline: bool,
}

/// Codex accepts profile names of letters, digits, `_` and `-`.
fn profile_name(text: &str) -> Result<String, String> {
    if crate::facts::codex::is_profile_name(text) {
        Ok(text.to_owned())
    } else {
        Err("a profile name is letters, digits, `_` and `-`".to_owned())
    }
}

/// A speed floor: a number of tokens/s from 0.1 to 10,000.
fn min_speed(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of tokens per second"))?;
    if (0.1..=10_000.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{text} is not between 0.1 and 10000 tokens per second"
        ))
    }
}
