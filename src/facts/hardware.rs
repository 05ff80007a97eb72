//! Hardware facts: RAM, CPU and GPUs, as probed (`gather::hardware`) or described by the user.
//!
//! Every source may be missing or fail; that is recorded as a note on the source, never an error.

use std::fmt;

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

/// What one hardware source found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoteStatus {
    #[serde(rename = "found")]
    Found,
    #[serde(rename = "not found")]
    NotFound,
    #[serde(rename = "failed")]
    Failed,
}

/// What one hardware source said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceNote {
    pub source: &'static str,
    pub status: NoteStatus,
    pub detail: Option<String>,
}

impl SourceNote {
    #[must_use]
    pub fn found(source: &'static str) -> Self {
        Self {
            source,
            status: NoteStatus::Found,
            detail: None,
        }
    }

    #[must_use]
    pub fn not_found(source: &'static str, detail: impl Into<String>) -> Self {
        Self {
            source,
            status: NoteStatus::NotFound,
            detail: Some(detail.into()),
        }
    }

    #[must_use]
    pub fn failed(source: &'static str, detail: impl Into<String>) -> Self {
        Self {
            source,
            status: NoteStatus::Failed,
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

const GIB: u64 = 1 << 30;

/// The part of unified memory Metal lets the GPU wire: about two thirds up to 36 GiB of RAM and three quarters
/// above, unless the user raised `iogpu.wired_limit_mb` (0 means the default).
#[must_use]
pub fn gpu_share(memsize: u64, wired_limit_mb: u64) -> u64 {
    if wired_limit_mb > 0 {
        return (wired_limit_mb << 20).min(memsize);
    }
    if memsize <= 36 * GIB {
        memsize / 3 * 2
    } else {
        memsize / 4 * 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_apples_default_share_unless_raised() {
        assert_eq!(gpu_share(16 * GIB, 0), 16 * GIB / 3 * 2);
        assert_eq!(gpu_share(36 * GIB, 0), 24 * GIB);
        assert_eq!(gpu_share(64 * GIB, 0), 48 * GIB);
        assert_eq!(gpu_share(64 * GIB, 56 * 1024), 56 * GIB);
        assert_eq!(
            gpu_share(16 * GIB, 64 * 1024),
            16 * GIB,
            "never more than the machine has"
        );
    }
}
