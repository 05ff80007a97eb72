//! RAM and CPU from sysinfo, with a container's cgroup memory limit taken into account.

use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use crate::facts::hardware::{Cpu, SourceNote};

/// RAM as the runtime will see it.
#[derive(Debug, Clone)]
pub struct Memory {
    pub physical_total: u64,
    pub usable_total: u64,
    pub usable_available: u64,
    pub cgroup_limit: Option<u64>,
    pub cpu: Option<Cpu>,
    pub note: SourceNote,
}

impl Memory {
    /// No memory facts, and why.
    #[must_use]
    pub fn failed(detail: impl Into<String>) -> Self {
        Self {
            physical_total: 0,
            usable_total: 0,
            usable_available: 0,
            cgroup_limit: None,
            cpu: None,
            note: SourceNote::failed("sysinfo", detail),
        }
    }
}

/// Reads RAM, the cgroup limit and the CPU.
#[must_use]
pub fn probe() -> Memory {
    let Ok(system) = System::new_with_specifics(
        RefreshKind::nothing()
            .with_memory(MemoryRefreshKind::nothing().with_ram())
            .with_cpu(CpuRefreshKind::nothing()),
    ) else {
        return Memory::failed("sysinfo cannot read this system's memory");
    };
    let cgroup = system
        .cgroup_limits()
        .map(|limits| (limits.total_memory, limits.free_memory));
    let (usable_total, usable_available, cgroup_limit) =
        effective(system.total_memory(), system.available_memory(), cgroup);
    let cpus = system.cpus();
    let cpu = cpus.first().map(|first| Cpu {
        name: first.brand().trim().to_owned(),
        cores: cpus.len(),
    });
    Memory {
        physical_total: system.total_memory(),
        usable_total,
        usable_available,
        cgroup_limit,
        cpu,
        note: SourceNote::found("sysinfo"),
    }
}

/// The RAM a runtime can use: a cgroup limit below physical RAM wins, and so does its free share.
///
/// Returns `(total, available, the limit when it applies)`.
#[must_use]
pub fn effective(
    total: u64,
    available: u64,
    cgroup: Option<(u64, u64)>,
) -> (u64, u64, Option<u64>) {
    match cgroup {
        Some((limit, free)) if limit > 0 && limit < total => {
            (limit, available.min(free), Some(limit))
        }
        _ => (total, available, None),
    }
}

#[cfg(test)]
mod tests {
    use super::effective;

    const GIB: u64 = 1 << 30;

    #[test]
    fn a_lower_cgroup_limit_is_what_the_runtime_gets() {
        assert_eq!(
            effective(64 * GIB, 40 * GIB, None),
            (64 * GIB, 40 * GIB, None)
        );
        assert_eq!(
            effective(64 * GIB, 40 * GIB, Some((16 * GIB, 12 * GIB))),
            (16 * GIB, 12 * GIB, Some(16 * GIB))
        );
        // A limit above physical RAM (cgroup "max" is reported as a huge number) changes nothing.
        assert_eq!(
            effective(64 * GIB, 40 * GIB, Some((u64::MAX, u64::MAX))),
            (64 * GIB, 40 * GIB, None)
        );
        // The machine may have less free than the cgroup allows.
        assert_eq!(
            effective(64 * GIB, 4 * GIB, Some((16 * GIB, 12 * GIB))),
            (16 * GIB, 4 * GIB, Some(16 * GIB))
        );
    }
}
