//! codex-local: set up OpenAI's Codex CLI to work with a model served on this machine.
//!
//! The program gathers facts (hardware, runtimes, Codex's configuration), decides, and reports.
//! `main.rs` only parses the command line and maps the result to an exit code.

pub mod catalog;
pub mod cli;
pub mod codex;
pub mod commands;
pub mod fit;
pub mod hardware;
pub mod plan;
pub mod runtime;
pub mod settings;
pub mod size;
pub mod ui;
