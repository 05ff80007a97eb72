//! What decides a GPU's speed with a local model: memory bandwidth (reading the weights for every token written) and
//! FP32 compute (reading a prompt), from the makers' published specifications. A probed GPU is found here by its
//! name (`NVIDIA GeForce RTX 4090`, `Apple M3 Max`); `--gpu "RTX 4090"` describes one by its product name.
//!
//! Sources: NVIDIA's product pages and data sheets (GeForce RTX 20/30/40/50, RTX A-series, RTX Ada, RTX PRO
//! Blackwell, A100, H100, H200, B200, DGX Spark), Apple's newsroom and technical specifications (unified memory
//! bandwidth per chip and GPU core count; FP32 figures as published for M1 and M2, and for later chips the per-core
//! rate times the cores, an estimate), AMD's and Intel's product specification pages. Where a chip comes with
//! fewer GPU cores at a lower bandwidth, the name alone means the smaller one; `40c` after the name picks another.

use super::hardware::Vendor;

/// One product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuSpec {
    /// The product name, as `--gpu` takes it.
    pub name: &'static str,
    pub vendor: Vendor,
    /// Dedicated memory in GiB (Apple: the most the chip takes; the GPU's share comes from RAM).
    pub memory_gib: u32,
    /// Memory bandwidth in GB/s.
    pub bandwidth_gb_s: u32,
    /// FP32 compute in GFLOPS (without sparsity or tensor cores).
    pub fp32_gflops: u32,
    /// The GPU shares system memory (Apple Silicon, DGX Spark, Ryzen AI Max).
    pub unified: bool,
}

const fn nv(name: &'static str, memory_gib: u32, bandwidth_gb_s: u32, fp32_gflops: u32) -> GpuSpec {
    GpuSpec {
        name,
        vendor: Vendor::Nvidia,
        memory_gib,
        bandwidth_gb_s,
        fp32_gflops,
        unified: false,
    }
}

const fn amd(
    name: &'static str,
    memory_gib: u32,
    bandwidth_gb_s: u32,
    fp32_gflops: u32,
) -> GpuSpec {
    GpuSpec {
        name,
        vendor: Vendor::Amd,
        memory_gib,
        bandwidth_gb_s,
        fp32_gflops,
        unified: false,
    }
}

const fn intel(
    name: &'static str,
    memory_gib: u32,
    bandwidth_gb_s: u32,
    fp32_gflops: u32,
) -> GpuSpec {
    GpuSpec {
        name,
        vendor: Vendor::Intel,
        memory_gib,
        bandwidth_gb_s,
        fp32_gflops,
        unified: false,
    }
}

const fn apple(
    name: &'static str,
    memory_gib: u32,
    bandwidth_gb_s: u32,
    fp32_gflops: u32,
) -> GpuSpec {
    GpuSpec {
        name,
        vendor: Vendor::Apple,
        memory_gib,
        bandwidth_gb_s,
        fp32_gflops,
        unified: true,
    }
}

/// Every product known, the more specific names (`RTX 4070 Ti Super`) before those they contain (`RTX 4070`) is not
/// needed: the longest name that matches wins.
pub const GPUS: &[GpuSpec] = &[
    // NVIDIA GeForce RTX 20
    nv("RTX 2060", 6, 336, 6_450),
    nv("RTX 2060 Super", 8, 448, 7_180),
    nv("RTX 2070", 8, 448, 7_460),
    nv("RTX 2070 Super", 8, 448, 9_060),
    nv("RTX 2080", 8, 448, 10_070),
    nv("RTX 2080 Super", 8, 496, 11_150),
    nv("RTX 2080 Ti", 11, 616, 13_450),
    // NVIDIA GeForce RTX 30
    nv("RTX 3050", 8, 224, 9_100),
    nv("RTX 3060", 12, 360, 12_740),
    nv("RTX 3060 8GB", 8, 240, 12_740),
    nv("RTX 3060 Ti", 8, 448, 16_200),
    nv("RTX 3070", 8, 448, 20_310),
    nv("RTX 3070 Ti", 8, 608, 21_750),
    nv("RTX 3080", 10, 760, 29_770),
    nv("RTX 3080 12GB", 12, 912, 30_640),
    nv("RTX 3080 Ti", 12, 912, 34_100),
    nv("RTX 3090", 24, 936, 35_580),
    nv("RTX 3090 Ti", 24, 1_008, 40_000),
    // NVIDIA GeForce RTX 40
    nv("RTX 4060", 8, 272, 15_110),
    nv("RTX 4060 Ti", 8, 288, 22_060),
    nv("RTX 4060 Ti 16GB", 16, 288, 22_060),
    nv("RTX 4070", 12, 504, 29_150),
    nv("RTX 4070 Super", 12, 504, 35_480),
    nv("RTX 4070 Ti", 12, 504, 40_090),
    nv("RTX 4070 Ti Super", 16, 672, 44_100),
    nv("RTX 4080", 16, 717, 48_740),
    nv("RTX 4080 Super", 16, 736, 52_220),
    nv("RTX 4090", 24, 1_008, 82_580),
    // NVIDIA GeForce RTX 50
    nv("RTX 5060", 8, 448, 19_180),
    nv("RTX 5060 Ti", 16, 448, 23_700),
    nv("RTX 5070", 12, 672, 30_870),
    nv("RTX 5070 Ti", 16, 896, 43_940),
    nv("RTX 5080", 16, 960, 56_280),
    nv("RTX 5090", 32, 1_792, 104_800),
    // NVIDIA RTX workstation: Ampere A-series, Ada, PRO Blackwell
    nv("RTX A2000", 6, 288, 7_990),
    nv("RTX A4000", 16, 448, 19_170),
    nv("RTX A4500", 20, 640, 23_650),
    nv("RTX A5000", 24, 768, 27_770),
    nv("RTX A6000", 48, 768, 38_710),
    nv("RTX 2000 Ada", 16, 224, 12_000),
    nv("RTX 4000 Ada", 20, 360, 26_700),
    nv("RTX 4500 Ada", 24, 432, 39_600),
    nv("RTX 5000 Ada", 32, 576, 65_300),
    nv("RTX 6000 Ada", 48, 960, 91_100),
    nv("RTX PRO 4000 Blackwell", 24, 672, 46_900),
    nv("RTX PRO 4500 Blackwell", 32, 896, 54_900),
    nv("RTX PRO 5000 Blackwell", 48, 1_344, 73_700),
    nv("RTX PRO 6000 Blackwell", 96, 1_792, 125_000),
    // NVIDIA data centre and DGX Spark
    nv("A100", 40, 1_555, 19_500),
    nv("A100 80GB", 80, 1_935, 19_500),
    nv("A100 SXM4 80GB", 80, 2_039, 19_500),
    nv("H100", 80, 2_000, 51_200),
    nv("H100 80GB HBM3", 80, 3_350, 66_900),
    nv("H100 SXM", 80, 3_350, 66_900),
    nv("H100 NVL", 94, 3_900, 60_000),
    nv("H200", 141, 4_800, 66_900),
    nv("B200", 180, 8_000, 80_000),
    GpuSpec {
        name: "GB10",
        vendor: Vendor::Nvidia,
        memory_gib: 128,
        bandwidth_gb_s: 273,
        fp32_gflops: 31_000,
        unified: true,
    },
    GpuSpec {
        name: "DGX Spark",
        vendor: Vendor::Nvidia,
        memory_gib: 128,
        bandwidth_gb_s: 273,
        fp32_gflops: 31_000,
        unified: true,
    },
    // Apple Silicon (GPU cores; bandwidth of the unified memory)
    apple("Apple M1", 16, 68, 2_290),
    apple("Apple M1 8c", 16, 68, 2_600),
    apple("Apple M1 Pro", 32, 200, 4_500),
    apple("Apple M1 Pro 16c", 32, 200, 5_200),
    apple("Apple M1 Max", 64, 400, 7_800),
    apple("Apple M1 Max 32c", 64, 400, 10_400),
    apple("Apple M1 Ultra", 128, 800, 15_900),
    apple("Apple M1 Ultra 64c", 128, 800, 21_200),
    apple("Apple M2", 24, 100, 2_900),
    apple("Apple M2 10c", 24, 100, 3_600),
    apple("Apple M2 Pro", 32, 200, 5_700),
    apple("Apple M2 Pro 19c", 32, 200, 6_800),
    apple("Apple M2 Max", 96, 400, 10_700),
    apple("Apple M2 Max 38c", 96, 400, 13_600),
    apple("Apple M2 Ultra", 192, 800, 21_400),
    apple("Apple M2 Ultra 76c", 192, 800, 27_200),
    apple("Apple M3", 24, 100, 3_300),
    apple("Apple M3 10c", 24, 100, 4_100),
    apple("Apple M3 Pro", 36, 150, 5_700),
    apple("Apple M3 Pro 18c", 36, 150, 7_400),
    apple("Apple M3 Max", 96, 300, 12_300),
    apple("Apple M3 Max 40c", 128, 400, 16_400),
    apple("Apple M3 Ultra", 256, 819, 24_600),
    apple("Apple M3 Ultra 80c", 512, 819, 32_800),
    apple("Apple M4", 32, 120, 3_400),
    apple("Apple M4 10c", 32, 120, 4_300),
    apple("Apple M4 Pro", 64, 273, 6_900),
    apple("Apple M4 Pro 20c", 64, 273, 8_600),
    apple("Apple M4 Max", 36, 410, 13_800),
    apple("Apple M4 Max 40c", 128, 546, 17_200),
    apple("Apple M5", 32, 153, 4_500),
    apple("Apple M5 Pro", 64, 307, 9_000),
    apple("Apple M5 Max", 128, 614, 18_000),
    // AMD Radeon RX 6000, 7000, 9000, and Ryzen AI Max (Strix Halo)
    amd("RX 6600", 8, 224, 8_930),
    amd("RX 6600 XT", 8, 256, 10_600),
    amd("RX 6700 XT", 12, 384, 13_210),
    amd("RX 6800", 16, 512, 16_170),
    amd("RX 6800 XT", 16, 512, 20_740),
    amd("RX 6900 XT", 16, 512, 23_040),
    amd("RX 6950 XT", 16, 576, 23_650),
    amd("RX 7600", 8, 288, 21_750),
    amd("RX 7600 XT", 16, 288, 22_570),
    amd("RX 7700 XT", 12, 432, 35_170),
    amd("RX 7800 XT", 16, 624, 37_320),
    amd("RX 7900 GRE", 16, 576, 45_980),
    amd("RX 7900 XT", 20, 800, 51_610),
    amd("RX 7900 XTX", 24, 960, 61_390),
    amd("RX 9060 XT", 16, 320, 25_640),
    amd("RX 9070", 16, 640, 36_130),
    amd("RX 9070 XT", 16, 640, 48_660),
    GpuSpec {
        name: "Ryzen AI Max+ 395",
        vendor: Vendor::Amd,
        memory_gib: 128,
        bandwidth_gb_s: 256,
        fp32_gflops: 29_700,
        unified: true,
    },
    GpuSpec {
        name: "Ryzen AI Max 390",
        vendor: Vendor::Amd,
        memory_gib: 128,
        bandwidth_gb_s: 256,
        fp32_gflops: 23_800,
        unified: true,
    },
    // Intel Arc
    intel("Arc A380", 6, 186, 4_200),
    intel("Arc A580", 8, 512, 12_300),
    intel("Arc A750", 8, 512, 17_200),
    intel("Arc A770", 16, 560, 19_700),
    intel("Arc B570", 10, 380, 11_500),
    intel("Arc B580", 12, 456, 13_670),
];

/// Lower case, words only: `NVIDIA GeForce RTX 4090` gives `nvidia geforce rtx 4090`.
fn words(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let plain = lower
        .replace("(r)", " ")
        .replace("(tm)", " ")
        .replace(['®', '™'], " ");
    let spaced: String = plain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '+' {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    // `40-core` and `40 core` are `40c`.
    spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" cores", "c")
        .replace(" core", "c")
}

/// `name` holds `key` as whole words.
fn holds(name: &str, key: &str) -> bool {
    format!(" {name} ").contains(&format!(" {key} "))
}

/// Words that name another product of a line (`RTX 4070` against `RTX 4070 Ti`, `RX 9070` against `RX 9070 GRE`):
/// a name that holds one beyond the product found is a product the table does not have.
const VARIANT_WORDS: [&str; 6] = ["ti", "super", "xt", "xtx", "gre", "d"];
/// Words a name may hold besides the product's own: the makers' and the kinds'.
const FILLER_WORDS: [&str; 13] = [
    "nvidia",
    "geforce",
    "amd",
    "radeon",
    "apple",
    "intel",
    "arc",
    "graphics",
    "gpu",
    "generation",
    "edition",
    "workstation",
    "silicon",
];

/// The longest table name `name` holds as whole words (`Apple` may be left out), with the words left over.
fn matching(name: &str) -> Option<(&'static GpuSpec, Vec<String>)> {
    // A laptop's GPU shares the desktop's name but not its memory bus or clocks: it is not the desktop card.
    if is_laptop(name) {
        return None;
    }
    let name = words(name);
    let spec = GPUS
        .iter()
        .filter(|spec| {
            let key = words(spec.name);
            holds(&name, &key)
                || key
                    .strip_prefix("apple ")
                    .is_some_and(|short| holds(&name, short))
        })
        .max_by_key(|spec| words(spec.name).len())?;
    let key = words(spec.name);
    let key_words: Vec<&str> = key.split(' ').collect();
    let rest = name
        .split(' ')
        .filter(|word| !key_words.contains(word))
        .map(str::to_owned)
        .collect();
    Some((spec, rest))
}

/// The product a probed GPU's name stands for: other words (a memory size, a form factor) are allowed, but not one
/// that names another product of the line.
#[must_use]
pub fn find(name: &str) -> Option<&'static GpuSpec> {
    let (spec, rest) = matching(name)?;
    (!rest
        .iter()
        .any(|word| VARIANT_WORDS.contains(&word.as_str())))
    .then_some(spec)
}

/// The product `--gpu NAME` stands for: every word must belong to it (besides the makers' names), so that a typo
/// or an unknown variant is an error rather than another card.
#[must_use]
pub fn find_exact(name: &str) -> Option<&'static GpuSpec> {
    let (spec, rest) = matching(name)?;
    rest.iter()
        .all(|word| FILLER_WORDS.contains(&word.as_str()))
        .then_some(spec)
}

/// A laptop or mobile GPU (`NVIDIA GeForce RTX 3080 Laptop GPU`). Max-Q alone is not one: the RTX PRO 6000
/// Blackwell Max-Q is a desktop card.
#[must_use]
pub fn is_laptop(name: &str) -> bool {
    let name = words(name);
    ["laptop", "mobile"].iter().any(|word| holds(&name, word))
}

/// Up to three table names close to `name`, for a usage error.
#[must_use]
pub fn close_to(name: &str) -> Vec<&'static str> {
    let wanted = words(name);
    let mut scored: Vec<(usize, &'static str)> = GPUS
        .iter()
        .map(|spec| (distance(&wanted, &words(spec.name)), spec.name))
        .collect();
    scored.sort_unstable();
    let best = scored.first().map_or(0, |(d, _)| *d);
    scored
        .into_iter()
        .take_while(|(d, _)| *d <= best + 2)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

/// Edit distance, a swap of neighbours counting as one edit (`4900` is one from `4090`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probed_names_find_their_product() {
        for (probed, product) in [
            ("NVIDIA GeForce RTX 4090", "RTX 4090"),
            ("NVIDIA GeForce RTX 4070 Ti SUPER", "RTX 4070 Ti Super"),
            ("NVIDIA GeForce RTX 4070", "RTX 4070"),
            ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada"),
            ("NVIDIA RTX A6000", "RTX A6000"),
            ("NVIDIA H200", "H200"),
            ("NVIDIA H100 80GB HBM3", "H100 80GB HBM3"),
            ("NVIDIA H100 PCIe", "H100"),
            ("NVIDIA A100-PCIE-40GB", "A100"),
            ("NVIDIA GB10", "GB10"),
            ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB"),
            ("Apple M3 Max", "Apple M3 Max"),
            ("Apple M4 Pro", "Apple M4 Pro"),
            ("AMD Radeon RX 7900 XTX", "RX 7900 XTX"),
            ("Intel(R) Arc(TM) A770 Graphics", "Arc A770"),
            ("M2 Ultra 76-core", "Apple M2 Ultra 76c"),
            ("Apple M3 Max (40 cores)", "Apple M3 Max 40c"),
        ] {
            assert_eq!(find(probed).map(|s| s.name), Some(product), "{probed}");
        }
        assert!(find("NVIDIA GeForce GT 710").is_none());
        assert!(
            find("NVIDIA GeForce RTX 3080 Laptop GPU").is_none(),
            "a laptop's GPU is not the desktop card"
        );
        assert_eq!(
            find("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition").map(|s| s.name),
            Some("RTX PRO 6000 Blackwell"),
            "Max-Q alone is a desktop card"
        );
        assert!(find("AMD Radeon RX 9070 GRE").is_none(), "not the RX 9070");
        assert_eq!(find("NVIDIA A100-SXM4-40GB").map(|s| s.name), Some("A100"));
        assert!(find("rtx").is_none());
    }

    #[test]
    fn a_described_name_must_be_the_product_whole() {
        assert_eq!(
            find_exact("RTX 4060 Ti 16GB").map(|s| s.memory_gib),
            Some(16)
        );
        assert_eq!(
            find_exact("NVIDIA GeForce RTX 4090").map(|s| s.name),
            Some("RTX 4090")
        );
        assert_eq!(
            find_exact("Apple M3 Max").map(|s| s.name),
            Some("Apple M3 Max")
        );
        for wrong in [
            "RTX 4090 RTX 3090",
            "RTX 4090 extra",
            "RX 9070 GRE",
            "RTX 3060 16GB",
        ] {
            assert!(find_exact(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn a_misspelt_name_gets_close_names() {
        assert!(close_to("RTX 4900").contains(&"RTX 4090"));
        assert!(close_to("Apple M3 Maxx").contains(&"Apple M3 Max"));
    }

    #[test]
    fn every_entry_is_plausible() {
        for spec in GPUS {
            assert!(
                spec.bandwidth_gb_s >= 60 && spec.bandwidth_gb_s <= 8_000,
                "{}",
                spec.name
            );
            assert!(spec.fp32_gflops >= 2_000, "{}", spec.name);
            assert!(spec.memory_gib >= 6, "{}", spec.name);
            assert_eq!(
                find(spec.name).map(|s| s.name),
                Some(spec.name),
                "its own name finds it"
            );
        }
    }
}
