//! NVIDIA GPUs from `nvidia-smi` (no GPU library is linked at build time).

use std::io::ErrorKind;
use std::process::Stdio;
use std::time::Duration;

use crate::facts::hardware::{Gpu, SourceNote, Vendor};

const SOURCE: &str = "nvidia-smi";
const QUERY: &str = "--query-gpu=index,name,memory.total,memory.used,memory.free,driver_version";
const MIB: u64 = 1 << 20;

/// Runs `nvidia-smi` and reads its GPUs; a missing binary is "not found", not an error.
pub async fn probe(timeout: Duration) -> (Vec<Gpu>, SourceNote) {
    let mut command = tokio::process::Command::new(SOURCE);
    command
        .args([QUERY, "--format=csv,noheader,nounits"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(timeout, command.output()).await {
        Err(_) => {
            return (
                Vec::new(),
                SourceNote::failed(
                    SOURCE,
                    format!("no answer within {} ms", timeout.as_millis()),
                ),
            );
        }
        Ok(Err(err)) if err.kind() == ErrorKind::NotFound => {
            return (
                Vec::new(),
                SourceNote::not_found(SOURCE, "no NVIDIA GPU found (`nvidia-smi` is not on PATH)"),
            );
        }
        Ok(Err(err)) => return (Vec::new(), SourceNote::failed(SOURCE, err.to_string())),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // A driver without a device (a laptop whose NVIDIA GPU is off, a container without one) says so.
        if stdout.contains("No devices were found") || stderr.contains("No devices were found") {
            return (
                Vec::new(),
                SourceNote::not_found(SOURCE, "`nvidia-smi` found no NVIDIA GPU"),
            );
        }
        let first = stderr.lines().next().unwrap_or("").trim();
        return (
            Vec::new(),
            SourceNote::failed(SOURCE, format!("exited with {}: {first}", output.status)),
        );
    }
    let gpus = parse(&String::from_utf8_lossy(&output.stdout));
    if gpus.is_empty() {
        (
            gpus,
            SourceNote::not_found(SOURCE, "`nvidia-smi` listed no GPU"),
        )
    } else {
        (gpus, SourceNote::found(SOURCE))
    }
}

/// Reads `nvidia-smi --format=csv,noheader,nounits` lines: index, name, total, used, free (MiB), driver.
#[must_use]
pub fn parse(text: &str) -> Vec<Gpu> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [_index, name, total, _used, free, driver] = fields.as_slice() else {
                return None;
            };
            let mib = |field: &str| field.parse::<u64>().ok().map(|value| value * MIB);
            Some(Gpu {
                vendor: Vendor::Nvidia,
                name: (*name).to_owned(),
                memory_total_bytes: mib(total),
                memory_free_bytes: mib(free),
                integrated: false,
                driver: Some((*driver).to_owned()).filter(|d| !d.is_empty() && !d.starts_with('[')),
                source: SOURCE,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_gpu_and_tolerates_unknown_values() {
        let text = "0, NVIDIA GeForce RTX 4090, 24564, 1200, 23030, 550.54.14\n\
                    1, NVIDIA GeForce RTX 3090, 24576, 0, 24257, 550.54.14\n\
                    2, NVIDIA GB10, [N/A], [N/A], [N/A], 580.95.05\n\
                    garbage line\n";
        let gpus = parse(text);
        assert_eq!(gpus.len(), 3);
        assert_eq!(gpus[0].name, "NVIDIA GeForce RTX 4090");
        assert_eq!(gpus[0].memory_total_bytes, Some(24564 * MIB));
        assert_eq!(gpus[0].memory_free_bytes, Some(23030 * MIB));
        assert_eq!(gpus[0].driver.as_deref(), Some("550.54.14"));
        assert_eq!(gpus[1].memory_free_bytes, Some(24257 * MIB));
        assert_eq!(gpus[2].memory_total_bytes, None);
    }
}
