//! The command-line definition (clap derive only; no logic lives here).

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

/// Set up OpenAI's Codex CLI to work with a local model that fits this machine.
///
/// codex-local finds a running Ollama or LM Studio, measures RAM and GPUs, and shows what Codex is set to.
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

/// The commands that exist so far.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what is here: hardware, runtimes, what Codex is set to, and the current repository
    Status(StatusArgs),
}

/// Options of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {}
