//! Apple Silicon: unified memory from `sysctl`, and the share of it the GPU may use.

use std::time::Duration;

use crate::facts::hardware::{Gpu, SourceNote};
#[cfg(target_os = "macos")]
use crate::facts::hardware::{Vendor, gpu_share};

/// What `sysctl` said on a Mac.
#[derive(Debug, Clone)]
pub struct AppleFacts {
    pub unified: bool,
    pub gpu: Option<Gpu>,
    pub note: SourceNote,
}

/// Probes a Mac; on other systems there is nothing to ask.
#[cfg(not(target_os = "macos"))]
#[expect(clippy::unused_async, reason = "the same signature as the macOS probe")]
pub async fn probe(_timeout: Duration) -> Option<AppleFacts> {
    None
}

/// Probes a Mac with `sysctl`: Apple Silicon gets a unified-memory GPU, an Intel Mac none.
#[cfg(target_os = "macos")]
pub async fn probe(timeout: Duration) -> Option<AppleFacts> {
    const SOURCE: &str = "sysctl";
    if std::env::consts::ARCH != "aarch64" {
        return Some(AppleFacts {
            unified: false,
            gpu: None,
            note: SourceNote::not_found(SOURCE, "an Intel Mac: models run on the CPU"),
        });
    }
    let read = |name: &'static str| async move {
        let output = tokio::time::timeout(
            timeout,
            tokio::process::Command::new("sysctl")
                .args(["-n", name])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .ok()?
        .ok()?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse::<u64>()
            .ok()
    };
    // The chip's name (`Apple M3 Max`) finds its memory bandwidth in the product table.
    let brand = async {
        let output = tokio::time::timeout(
            timeout,
            tokio::process::Command::new("sysctl")
                .args(["-n", "machdep.cpu.brand_string"])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .ok()?
        .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (!text.is_empty()).then_some(text)
    };
    let (memsize, wired, brand) =
        tokio::join!(read("hw.memsize"), read("iogpu.wired_limit_mb"), brand);
    let Some(memsize) = memsize else {
        return Some(AppleFacts {
            unified: true,
            gpu: None,
            note: SourceNote::failed(SOURCE, "`sysctl hw.memsize` gave no answer"),
        });
    };
    let share = gpu_share(memsize, wired.unwrap_or(0));
    Some(AppleFacts {
        unified: true,
        gpu: Some(Gpu {
            vendor: Vendor::Apple,
            name: brand.map_or_else(
                || "Apple Silicon GPU (unified memory)".to_owned(),
                |chip| format!("{chip} GPU (unified memory)"),
            ),
            memory_total_bytes: Some(share),
            memory_free_bytes: None,
            integrated: true,
            driver: None,
            source: SOURCE,
        }),
        note: SourceNote::found(SOURCE),
    })
}
