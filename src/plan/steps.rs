//! The steps of init, by name, with their status, and the list a plan starts from.

use std::fmt;

use serde::Serialize;

use crate::facts::runtime::{ContextControl, RuntimeKind};
use crate::size::human_bytes;

use super::{InitOptions, Plan};

/// One of init's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepName {
    /// Make the model present: a pull or a download.
    Pull,
    /// Make the model present from a file on disk, with its context.
    Import,
    /// Make the runtime serve the context: a variant, or a load with it.
    Context,
    /// Load the model and read back what it really got.
    Load,
    /// Write Codex's configuration.
    Configure,
    /// Send the request Codex sends.
    Verify,
}

impl StepName {
    /// The name as shown and in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Import => "import",
            Self::Context => "context",
            Self::Load => "load",
            Self::Configure => "configure",
            Self::Verify => "verify",
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Planned,
    Skipped,
    Done,
    Failed,
}

impl StepStatus {
    /// The status as shown and in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Skipped => "skipped",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
impl PartialEq<&str> for StepName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
impl PartialEq<&str> for StepStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: StepName,
    pub status: StepStatus,
    pub detail: String,
}

/// The steps of a plan, each `planned` or `skipped`. Where the runtime takes the context with the load, the load
/// is the context step itself.
pub(super) fn planned(plan: &Plan, options: &InitOptions) -> Vec<Step> {
    let mut steps = vec![pull(plan, options), context(plan)];
    if plan.runtime.info().context == ContextControl::ModelVariant {
        steps.push(Step {
            name: StepName::Load,
            status: StepStatus::Planned,
            detail: "load the model and read the context and GPU share it really gets".to_owned(),
        });
    }
    steps.push(configure(plan, options));
    steps.push(Step {
        name: StepName::Verify,
        status: StepStatus::Planned,
        detail:
            "send one request the way Codex does and check that the model answers and calls a tool"
                .to_owned(),
    });
    steps
}

fn pull(plan: &Plan, options: &InitOptions) -> Step {
    let base_model = &plan.base_model;
    if let Some(file) = plan.import.as_ref().map(|import| &import.file) {
        return Step {
            name: StepName::Import,
            status: if plan.installed {
                StepStatus::Skipped
            } else {
                StepStatus::Planned
            },
            detail: if plan.installed {
                format!("`{base_model}` is already imported")
            } else if plan.runtime == RuntimeKind::Lmstudio {
                format!(
                    "put `{}` ({}) in LM Studio's models folder as codex-local/{base_model}/ (a link when it can, \
                     else a copy)",
                    file.display(),
                    human_bytes(plan.entry.size_bytes),
                )
            } else {
                format!(
                    "import `{}` ({}) into Ollama as `{base_model}`, with num_ctx {}",
                    file.display(),
                    human_bytes(plan.entry.size_bytes),
                    plan.context_length
                )
            },
        };
    }
    Step {
        name: StepName::Pull,
        status: if plan.installed {
            StepStatus::Skipped
        } else {
            StepStatus::Planned
        },
        detail: if plan.installed {
            format!("`{base_model}` is already installed")
        } else if options.offline {
            format!("`{base_model}` must be installed first")
        } else {
            format!(
                "download `{base_model}` ({})",
                human_bytes(plan.entry.size_bytes)
            )
        },
    }
}

fn context(plan: &Plan) -> Step {
    let (base_model, written_model, context) = (&plan.base_model, &plan.model, plan.context_length);
    let runtime = plan.runtime.display_name();
    let detail = match plan.runtime.info().context {
        ContextControl::ModelVariant if written_model != base_model => format!(
            "{runtime} would serve {} tokens by default: create `{written_model}` with num_ctx {context}",
            plan.default_context.unwrap_or(0)
        ),
        ContextControl::ModelVariant => {
            format!("check that {runtime} serves `{base_model}` with {context} tokens")
        }
        ContextControl::LoadParameter => {
            format!("load `{base_model}` with a {context}-token context")
        }
    };
    Step {
        name: StepName::Context,
        status: StepStatus::Planned,
        detail,
    }
}

fn configure(plan: &Plan, options: &InitOptions) -> Step {
    Step {
        name: StepName::Configure,
        status: StepStatus::Planned,
        detail: if options.profile_only {
            format!(
                "write the `{}` profile, leave Codex's default alone",
                options.profile
            )
        } else {
            format!(
                "point Codex at `{}` through provider `{}`, and write the `{}` profile",
                plan.model, plan.provider.id, options.profile
            )
        },
    }
}
