//! codex-local: set up OpenAI's Codex CLI to work with a model served on this machine.
//!
//! Data flows one way: `gather` reads the [`facts`], `plan` decides from them (pure), `steps` carry the plan out
//! through the `runtime` interface and the `codex` editor, and `report` prints what happened. `commands` holds one
//! thin file per subcommand that strings these together; `main.rs` only parses and maps the outcome to an exit code.

pub mod cli;
mod codex;
mod commands;
mod env_vars;
mod facts;
mod faults;
mod gather;
mod host;
mod interrupt;
mod plan;
mod report;
mod runtime;
mod settings;
mod size;
mod steps;
mod text;

pub use commands::{report as report_failure, run, usage_error};
pub use report::Printer;
