//! Probing this machine's hardware: sysinfo, `nvidia-smi` and (on macOS) `sysctl`, side by side.

pub mod apple;
pub mod memory;
pub mod nvidia;
pub mod sysinfo_gpu;

use std::time::Duration;

use crate::facts::hardware::{Hardware, HardwareSource, SourceNote, Vendor};

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
