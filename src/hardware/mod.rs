//! Hardware facts: RAM, CPU and GPUs, probed from each vendor's own source or described by the user.
//!
//! Every source may be missing or fail; that is recorded as a note on the source, never an error.

pub mod apple;
pub mod described;
pub mod memory;
pub mod nvidia;
pub mod sysinfo_gpu;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Where the hardware facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HardwareSource {
    Probed,
    Described,
}

/// A GPU maker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    Nvidia,
    Amd,
    Intel,
    Apple,
    Other,
}

impl Vendor {
    /// The vendor named by a word the user typed (`nvidia`, `amd`, `intel`, `apple`).
    #[must_use]
    pub fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "nvidia" => Some(Self::Nvidia),
            "amd" => Some(Self::Amd),
            "intel" => Some(Self::Intel),
            "apple" => Some(Self::Apple),
            _ => None,
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Nvidia => "NVIDIA",
            Self::Amd => "AMD",
            Self::Intel => "Intel",
            Self::Apple => "Apple",
            Self::Other => "other",
        })
    }
}

/// One GPU and its memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gpu {
    pub vendor: Vendor,
    pub name: String,
    /// Dedicated memory, or for a GPU that shares system RAM the part it may use; `None` when unknown.
    pub memory_total_bytes: Option<u64>,
    pub memory_free_bytes: Option<u64>,
    /// The GPU shares system RAM (an integrated GPU, or Apple Silicon).
    pub integrated: bool,
    pub driver: Option<String>,
    /// Which source reported it: `nvidia-smi`, `sysinfo`, `sysctl` or `described`.
    pub source: &'static str,
}

/// The CPU, as sysinfo sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpu {
    pub name: String,
    pub cores: usize,
}

/// What one hardware source said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceNote {
    pub source: &'static str,
    /// `found`, `not found` or `failed`.
    pub status: &'static str,
    pub detail: Option<String>,
}

impl SourceNote {
    #[must_use]
    pub fn found(source: &'static str) -> Self {
        Self {
            source,
            status: "found",
            detail: None,
        }
    }

    #[must_use]
    pub fn not_found(source: &'static str, detail: impl Into<String>) -> Self {
        Self {
            source,
            status: "not found",
            detail: Some(detail.into()),
        }
    }

    #[must_use]
    pub fn failed(source: &'static str, detail: impl Into<String>) -> Self {
        Self {
            source,
            status: "failed",
            detail: Some(detail.into()),
        }
    }
}

/// The machine a plan is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hardware {
    pub source: HardwareSource,
    /// RAM the runtime can use: physical RAM, or a lower cgroup limit.
    pub ram_total_bytes: u64,
    pub ram_available_bytes: u64,
    pub ram_physical_bytes: u64,
    /// The container's memory limit, when one is set and lower than physical RAM.
    pub cgroup_limit_bytes: Option<u64>,
    /// CPU and GPU share the same memory (Apple Silicon).
    pub unified: bool,
    pub cpu: Option<Cpu>,
    pub gpus: Vec<Gpu>,
    pub sources: Vec<SourceNote>,
}

impl Hardware {
    /// Dedicated memory of every GPU that reports it, the figure Ollama's default context depends on.
    #[must_use]
    pub fn total_vram(&self) -> u64 {
        self.gpus.iter().filter_map(|g| g.memory_total_bytes).sum()
    }
}

/// Probes this machine: sysinfo, `nvidia-smi` and (on macOS) `sysctl` run side by side.
pub async fn probe(command_timeout: Duration) -> Hardware {
    let local = tokio::task::spawn_blocking(|| (memory::probe(), sysinfo_gpu::probe()));
    let (nvidia, apple, local) = tokio::join!(
        nvidia::probe(command_timeout),
        apple::probe(command_timeout),
        local
    );
    let (memory, (sysinfo_gpus, sysinfo_note)) = local.unwrap_or_else(|err| {
        (
            memory::Memory::failed(err.to_string()),
            (
                Vec::new(),
                SourceNote::failed("sysinfo gpu", err.to_string()),
            ),
        )
    });
    let (nvidia_gpus, nvidia_note) = nvidia;
    let mut gpus = nvidia_gpus;
    let have_nvidia = !gpus.is_empty();
    gpus.extend(
        sysinfo_gpus
            .into_iter()
            .filter(|gpu| !(have_nvidia && gpu.vendor == Vendor::Nvidia)),
    );
    let mut sources = vec![memory.note.clone(), sysinfo_note, nvidia_note];
    let mut unified = false;
    if let Some(apple) = apple {
        unified = apple.unified;
        sources.push(apple.note);
        gpus.retain(|gpu| gpu.vendor != Vendor::Apple);
        gpus.extend(apple.gpu);
    }
    Hardware {
        source: HardwareSource::Probed,
        ram_total_bytes: memory.usable_total,
        ram_available_bytes: memory.usable_available,
        ram_physical_bytes: memory.physical_total,
        cgroup_limit_bytes: memory.cgroup_limit,
        unified,
        cpu: memory.cpu,
        gpus,
        sources,
    }
}
