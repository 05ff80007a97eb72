//! Codex CLI's configuration: reading what it is set to, and the repository around the working directory.

pub mod binary;
pub mod config;
pub mod edit;
pub mod journal;
pub mod repo;
pub mod setup;
pub mod state;

/// Provider ids built into Codex; a `[model_providers.<id>]` table for any of them stops Codex from loading.
pub const RESERVED_PROVIDERS: [&str; 5] = [
    "openai",
    "ollama",
    "lmstudio",
    "amazon-bedrock",
    "amazon-bedrock-runtime",
];

/// The local providers Codex has built in.
pub const LOCAL_PROVIDERS: [&str; 2] = ["ollama", "lmstudio"];
