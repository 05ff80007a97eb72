//! Facts: what codex-local knows about this machine before it decides anything. Hardware, the runtimes and what
//! they hold, Codex's configuration and program, and the repository around the working directory.
//!
//! Only types and rules live here, no I/O: `gather` reads the facts, `plan` decides from them.

pub mod codex;
pub mod codex_args;
pub mod described;
pub mod doctor;
pub mod gguf;
pub mod gpu_specs;
pub mod hardware;
pub mod model_name;
pub mod ollama;
pub mod pack;
pub mod repo;
pub mod runtime;

use codex::{CodexBinary, CodexStatus};
use hardware::Hardware;
use repo::RepoStatus;
use runtime::{RuntimeKind, RuntimeStatus};

/// Which facts a command needs; the others are not gathered (probing hardware or runtimes takes time).
#[expect(clippy::struct_excessive_bools, reason = "one switch per kind of fact")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    pub hardware: bool,
    pub runtimes: bool,
    pub codex: bool,
    pub program: bool,
    pub repo: bool,
}

impl Want {
    /// Every fact.
    pub const ALL: Self = Self {
        hardware: true,
        runtimes: true,
        codex: true,
        program: true,
        repo: true,
    };
}

/// The facts gathered for one run of a command. A fact that was not wanted is `None` (or empty).
#[derive(Debug, Clone)]
pub struct Facts {
    pub hardware: Option<Hardware>,
    /// Every runtime's probe, in [`RuntimeKind::ALL`] order.
    pub runtimes: Vec<RuntimeStatus>,
    pub codex: Option<CodexStatus>,
    /// The `codex` program; `None` when it is not on `PATH` (or was not looked for).
    pub program: Option<CodexBinary>,
    /// The repository around the working directory; `None` outside one.
    pub repo: Option<RepoStatus>,
}

/// A command asked for a fact it did not gather: a bug in codex-local.
#[derive(Debug, thiserror::Error)]
#[error("Internal error: the {0} facts were not gathered")]
pub struct NotGathered(&'static str);

impl Facts {
    /// The hardware, which the command must have wanted.
    pub fn hardware(&self) -> Result<&Hardware, NotGathered> {
        self.hardware.as_ref().ok_or(NotGathered("hardware"))
    }

    /// Codex's configuration, which the command must have wanted.
    pub fn codex(&self) -> Result<&CodexStatus, NotGathered> {
        self.codex.as_ref().ok_or(NotGathered("Codex"))
    }

    /// The probe of one runtime, which the command must have wanted.
    pub fn runtime(&self, kind: RuntimeKind) -> Result<&RuntimeStatus, NotGathered> {
        self.runtimes
            .iter()
            .find(|status| status.name == kind)
            .ok_or(NotGathered("runtime"))
    }
}
