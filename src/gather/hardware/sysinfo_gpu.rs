//! GPUs from sysinfo's GPU API: AMD from sysfs, Intel and others from their drivers, NVIDIA through NVML.

use sysinfo::Gpus;

use crate::facts::hardware::{Gpu, SourceNote, Vendor};

const SOURCE: &str = "sysinfo";
/// The name of this source in the hardware notes (sysinfo's RAM reading has its own).
const NOTE: &str = "sysinfo gpu";
/// An AMD device with this little dedicated memory is an integrated GPU that borrows system RAM.
const INTEGRATED_VRAM_LIMIT: u64 = 4 << 30;

/// Lists the GPUs sysinfo can see.
#[must_use]
pub fn probe() -> (Vec<Gpu>, SourceNote) {
    let Ok(list) = Gpus::new_with_refreshed_list() else {
        return (
            Vec::new(),
            SourceNote::not_found(NOTE, "GPU listing is not supported on this system"),
        );
    };
    let gpus: Vec<Gpu> = list
        .iter()
        .map(|gpu| {
            classify(
                gpu.vendor().unwrap_or(""),
                gpu.model(),
                gpu.total_memory(),
                gpu.used_memory(),
            )
        })
        .collect();
    if gpus.is_empty() {
        (gpus, SourceNote::not_found(NOTE, "no GPU listed"))
    } else {
        (gpus, SourceNote::found(NOTE))
    }
}

/// Turns one sysinfo GPU into ours: vendor from the PCI vendor name, integrated GPUs marked.
#[must_use]
pub fn classify(
    vendor_name: &str,
    model: Option<&str>,
    total: Option<u64>,
    used: Option<u64>,
) -> Gpu {
    let lower = vendor_name.to_ascii_lowercase();
    let vendor = if lower.contains("nvidia") {
        Vendor::Nvidia
    } else if lower.contains("amd") || lower.contains("advanced micro devices") {
        Vendor::Amd
    } else if lower.contains("intel") {
        Vendor::Intel
    } else if lower.contains("apple") {
        Vendor::Apple
    } else {
        Vendor::Other
    };
    let total = total.filter(|bytes| *bytes > 0);
    let integrated = match vendor {
        Vendor::Amd => total.is_none_or(|bytes| bytes <= INTEGRATED_VRAM_LIMIT),
        Vendor::Intel => total.is_none(),
        Vendor::Apple => true,
        Vendor::Nvidia | Vendor::Other => false,
    };
    let name = model.map_or_else(|| format!("{vendor} GPU"), str::to_owned);
    Gpu {
        vendor,
        name,
        memory_total_bytes: total,
        memory_free_bytes: total
            .zip(used)
            .map(|(total, used)| total.saturating_sub(used)),
        integrated,
        driver: None,
        source: SOURCE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn marks_small_amd_and_memoryless_intel_as_integrated() {
        let discrete = classify(
            "Advanced Micro Devices, Inc. [AMD/ATI]",
            Some("Navi 31"),
            Some(24 * GIB),
            Some(GIB),
        );
        assert_eq!(discrete.vendor, Vendor::Amd);
        assert!(!discrete.integrated);
        assert_eq!(discrete.memory_free_bytes, Some(23 * GIB));

        let apu = classify(
            "Advanced Micro Devices, Inc. [AMD/ATI]",
            None,
            Some(512 << 20),
            None,
        );
        assert!(apu.integrated);
        assert_eq!(apu.name, "AMD GPU");

        let igpu = classify("Intel Corporation", Some("UHD Graphics 770"), None, None);
        assert_eq!(igpu.vendor, Vendor::Intel);
        assert!(igpu.integrated);

        let arc = classify(
            "Intel Corporation",
            Some("Arc A770"),
            Some(16 * GIB),
            Some(0),
        );
        assert!(!arc.integrated);

        assert_eq!(
            classify("NVIDIA Corporation", None, None, None).vendor,
            Vendor::Nvidia
        );
    }
}
