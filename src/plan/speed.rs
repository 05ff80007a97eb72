//! Speed, estimated before the pull, a pure function of the model, where it runs and the machine.
//!
//! - Writing (decode): every token reads the active weights (all of a dense model, the routed experts of a mixture)
//!   and the KV cache at the context, so `tokens/s = efficiency × bandwidth / bytes per token`; a model split between
//!   GPU and CPU spends the time of each part in turn.
//! - Reading a prompt (prefill) is bound by compute: `tokens/s = factor × FP32 FLOPS / (2 × active parameters)`.
//!
//! Bandwidth and FP32 compute come from the product table (`facts::gpu_specs`); a GPU not in it gets a guess for
//! its vendor, and the CPU a documented default, both marked as guesses. The factors were fitted to published
//! llama.cpp measurements (see [`DECODE_EFFICIENCY`] and [`PREFILL_FACTOR`]).

#![expect(
    clippy::cast_precision_loss,
    reason = "byte counts, token counts and core counts, all well inside f64's range"
)]
use serde::Serialize;

use super::catalog::Model;
use super::fit::usable_gpus;
use super::fit::{Estimate, Fit, kv_bytes};
use crate::facts::gpu_specs;
use crate::facts::hardware::{Hardware, Vendor};

/// The share of the memory bandwidth a GPU reaches while writing. RTX 4090 (1,008 GB/s): llama 7B Q8_0, 6.67 GiB,
/// 98.1 tokens/s = 0.70 (ggml-org/llama.cpp PR #4766); Mac mini M4 (120 GB/s): llama 3.1 8B Q4_K_M, 4.58 GiB,
/// 20.9 tokens/s = 0.86 (brand-o/normiebench#3). The lower is taken.
pub const DECODE_EFFICIENCY: f64 = 0.7;
/// The same on the CPU: Core i9-13900K with DDR5-6400 (102.4 GB/s), llama 7B Q4_0, 3.56 GiB, 18.3 tokens/s = 0.68
/// (ggml-org/llama.cpp#34).
pub const CPU_DECODE_EFFICIENCY: f64 = 0.65;

/// Prompt tokens/s × 2 × parameters, divided by the FP32 rate. NVIDIA with tensor cores: RTX 4090 (82.6 TFLOPS),
/// llama 8B Q4_0, pp512 10,359 tokens/s = 2.0 (ggml-org/llama.cpp PR #7676). Apple: M2 Ultra 76-core
/// (27.2 TFLOPS), llama 7B Q4_0, pp512 1,164 tokens/s = 0.58 (PR #3084). AMD and Intel: Apple's factor, an
/// assumption (no measurement was at hand). The CPU: i9-13900K, pp512 55 tokens/s, against 32 FLOPs per cycle per
/// core at 3 GHz = 0.3 (llama.cpp#34).
#[must_use]
pub fn prefill_factor(vendor: Vendor) -> f64 {
    match vendor {
        Vendor::Nvidia => 2.0,
        _ => 0.58,
    }
}

/// The CPU's FP32 share of prefill, per core (see [`prefill_factor`]).
pub const PREFILL_FACTOR: f64 = 0.3;
/// FLOPs per cycle per core with two 256-bit FMA units, and a typical clock.
const CPU_FLOPS_PER_CORE: f64 = 32.0 * 3.0e9;
/// RAM bandwidth when nothing better is known: dual-channel DDR4-3200 (51.2 GB/s), the common laptop and desktop.
pub const CPU_BANDWIDTH_DEFAULT: f64 = 51.2e9;

/// PCIe 4.0 x16 in practice, for the weights of layers kept in RAM while a prompt is read.
const PCIE_BYTES_S: f64 = 25e9;

/// Codex's first request: about 10k tokens of instructions and tool schemas.
pub const FIRST_PROMPT_TOKENS: f64 = 10_000.0;

/// One processor's rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// Where the numbers come from: a product name, or what was guessed.
    pub basis: String,
    pub bandwidth_bytes_s: f64,
    pub fp32_flops: f64,
    /// The rate a prompt is read at, before the efficiency factor.
    pub matrix_flops: f64,
    pub vendor: Vendor,
    /// The numbers are a guess, not from the product table.
    pub guessed: bool,
}

/// The rates of a machine's GPUs (with the memory each has free, most first, as the memory estimate orders them)
/// and CPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    pub gpus: Vec<(u64, Rates)>,
    pub cpu: Rates,
}

/// What a GPU of a vendor is guessed to do when its product is unknown: a mid-range card of that vendor.
fn guess(vendor: Vendor) -> (f64, f64) {
    match vendor {
        Vendor::Apple => (200e9, 5.0e12),
        Vendor::Intel => (456e9, 13.7e12),
        _ => (500e9, 30.0e12),
    }
}

impl Throughput {
    /// The rates of `hardware`: its GPUs from the product table, else guessed by vendor.
    #[must_use]
    pub fn of(hardware: &Hardware) -> Self {
        let gpus: Vec<(u64, Rates)> = usable_gpus(hardware)
            .into_iter()
            .map(|(free, gpu)| (free, rates_of(&gpu.name, gpu.vendor)))
            .collect();
        Self {
            cpu: cpu_rates(hardware, gpus.first().map(|(_, rates)| rates)),
            gpus,
        }
    }
}

/// A GPU's rates from the product table, else a guess for its vendor.
fn rates_of(name: &str, vendor: Vendor) -> Rates {
    if let Some(spec) = gpu_specs::find(name) {
        // Only NVIDIA's and Apple's factors were fitted to measurements; the others' are assumed.
        let assumed = !matches!(spec.vendor, Vendor::Nvidia | Vendor::Apple);
        let note = if assumed {
            ", factors assumed for this maker"
        } else {
            ""
        };
        return Rates {
            basis: format!("{}: {} GB/s{note}", spec.name, spec.bandwidth_gb_s),
            bandwidth_bytes_s: f64::from(spec.bandwidth_gb_s) * 1e9,
            fp32_flops: f64::from(spec.fp32_gflops) * 1e9,
            matrix_flops: matrix_flops(spec),
            vendor: spec.vendor,
            guessed: assumed,
        };
    }
    let laptop = gpu_specs::is_laptop(name);
    let (bandwidth, flops) = if laptop {
        // A mid-range laptop GPU (an RTX 4060 Laptop GPU: 256 GB/s).
        (256e9, 15.0e12)
    } else {
        guess(vendor)
    };
    let what = if laptop { "a laptop" } else { "an unknown" };
    Rates {
        basis: format!(
            "a guessed {:.0} GB/s for {what} {vendor} GPU (name it with `--gpu \"<product>\"`)",
            bandwidth / 1e9
        ),
        bandwidth_bytes_s: bandwidth,
        fp32_flops: flops,
        matrix_flops: flops * prefill_factor(vendor),
        vendor,
        guessed: true,
    }
}

/// The rate at which a GPU multiplies matrices for a prompt. NVIDIA's tensor cores, FP16 with FP32 accumulation,
/// dense: GeForce RTX 30-50 run it at twice FP32 (the RTX 4090's 165 TFLOPS), RTX 20, the workstation cards and
/// DGX Spark at four times, the data-centre cards at their data sheets' figures. Others: FP32 times the factor
/// fitted on Apple.
fn matrix_flops(spec: &gpu_specs::GpuSpec) -> f64 {
    let fp32 = f64::from(spec.fp32_gflops) * 1e9;
    if spec.vendor != Vendor::Nvidia {
        return fp32 * prefill_factor(spec.vendor);
    }
    let tflops = match spec.name {
        "A100" | "A100 80GB" | "A100 SXM4 80GB" => 312.0,
        "H100" => 756.0,
        "H100 NVL" => 835.0,
        "H100 SXM" | "H100 80GB HBM3" | "H200" => 989.0,
        "B200" => 2_250.0,
        name if name.starts_with("RTX 20")
            || name.starts_with("RTX A")
            || name.contains("Ada")
            || name.contains("PRO")
            || name.contains("GB10")
            || name.contains("DGX") =>
        {
            return fp32 * 4.0;
        }
        _ => return fp32 * 2.0,
    };
    tflops * 1e12
}

/// The CPU: on unified memory the chip's own bandwidth, else the documented default; compute from its cores.
fn cpu_rates(hardware: &Hardware, gpu: Option<&Rates>) -> Rates {
    let cores = hardware.cpu.as_ref().map_or(4, |cpu| cpu.cores.max(1)) as f64;
    let fp32_flops = cores * CPU_FLOPS_PER_CORE;
    match gpu.filter(|_| hardware.unified) {
        Some(chip) if !chip.guessed => Rates {
            basis: format!("the CPU on {}", chip.basis),
            bandwidth_bytes_s: chip.bandwidth_bytes_s,
            fp32_flops,
            matrix_flops: fp32_flops * PREFILL_FACTOR,
            vendor: Vendor::Other,
            guessed: false,
        },
        _ => Rates {
            basis: format!(
                "the CPU: a guessed {:.1} GB/s (dual-channel DDR4-3200)",
                CPU_BANDWIDTH_DEFAULT / 1e9
            ),
            bandwidth_bytes_s: CPU_BANDWIDTH_DEFAULT,
            fp32_flops,
            matrix_flops: fp32_flops * PREFILL_FACTOR,
            vendor: Vendor::Other,
            guessed: true,
        },
    }
}

/// A speed estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Speed {
    /// Tokens written per second.
    pub decode_tps: f64,
    /// Prompt tokens read per second.
    pub prefill_tps: f64,
    /// Some number behind it was guessed.
    pub guessed: bool,
    /// Where the numbers come from.
    pub basis: String,
}

impl Speed {
    /// Seconds to read Codex's first prompt.
    #[must_use]
    pub fn first_prompt_seconds(&self) -> f64 {
        FIRST_PROMPT_TOKENS / self.prefill_tps
    }

    /// `~42 tokens/s written, ~1,900 read`, with `(a guess)` when guessed.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "about {} tokens/s written and {} read (Codex's first prompt: {}){}",
            rate(self.decode_tps),
            rate(self.prefill_tps),
            duration(self.first_prompt_seconds()),
            if self.guessed { ", partly guessed" } else { "" }
        )
    }
}

/// A rate for people: `42`, `4.2`, `1,900`.
#[must_use]
pub fn rate(value: f64) -> String {
    if value >= 1000.0 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a rounded display value"
        )]
        let whole = (value / 100.0).round() as u64 * 100;
        let text = whole.to_string();
        let mut out = String::new();
        for (i, c) in text.chars().enumerate() {
            if i > 0 && (text.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// `8 s`, `3 min`, `1.2 h`.
fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// The speed of `model` where `estimate` puts it; `None` when it does not fit.
#[must_use]
pub fn estimate(model: &Model, estimate: &Estimate, machine: &Throughput) -> Option<Speed> {
    if estimate.fit == Fit::No {
        return None;
    }
    let active_share = (model.params_active_b / model.params_total_b).clamp(0.0, 1.0);
    let weights = estimate.weights_bytes as f64 * active_share;
    let kv = kv_bytes(&model.kv, estimate.context_length) as f64;
    let per_token = weights + kv;
    let (gpu_part, cpu_part) = match estimate.fit {
        Fit::Gpu => (1.0, 0.0),
        Fit::Split => {
            let all = (estimate.gpu_bytes + estimate.cpu_bytes).max(1) as f64;
            (
                estimate.gpu_bytes as f64 / all,
                estimate.cpu_bytes as f64 / all,
            )
        }
        Fit::Cpu | Fit::No => (0.0, 1.0),
    };
    // The GPUs used hold the layers in proportion to their free memory; each token passes through all of them.
    let used: Vec<&(u64, Rates)> = machine.gpus.iter().take(estimate.gpu_count).collect();
    let room: f64 = used
        .iter()
        .map(|(free, _)| *free as f64)
        .sum::<f64>()
        .max(1.0);
    let cpu = &machine.cpu;
    let flops_per_token = 2.0 * model.params_active_b * 1e9;
    let mut seconds = cpu_part * per_token / (cpu.bandwidth_bytes_s * CPU_DECODE_EFFICIENCY);
    let mut prefill_seconds = 0.0;
    let mut basis = Vec::new();
    let mut guessed = false;
    if gpu_part > 0.0 {
        for (free, gpu) in &used {
            let share = gpu_part * *free as f64 / room;
            seconds += share * per_token / (gpu.bandwidth_bytes_s * DECODE_EFFICIENCY);
            prefill_seconds += share * flops_per_token / gpu.matrix_flops;
            if !basis.contains(&gpu.basis) {
                basis.push(gpu.basis.clone());
            }
            guessed |= gpu.guessed;
        }
        // llama.cpp sends a prompt's batches to the GPU even for the layers kept in RAM, copying their weights
        // over PCIe once per batch of 512 tokens.
        let all_weights = estimate.weights_bytes as f64;
        prefill_seconds += cpu_part * all_weights / (PCIE_BYTES_S * 512.0);
    } else {
        prefill_seconds = flops_per_token / cpu.matrix_flops;
    }
    if cpu_part > 0.0 {
        basis.push(cpu.basis.clone());
        guessed |= cpu.guessed;
    }
    Some(Speed {
        decode_tps: 1.0 / seconds,
        prefill_tps: 1.0 / prefill_seconds,
        guessed,
        basis: basis.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::super::catalog;
    use super::super::fit::{self, Budget};
    use super::*;
    use crate::facts::described::Described;

    fn machine(ram: &str, gpus: &[&str]) -> Hardware {
        let gpus: Vec<String> = gpus.iter().map(|g| (*g).to_owned()).collect();
        Described::from_args(Some(ram), &gpus, false)
            .expect("valid")
            .expect("described")
            .hardware()
    }

    fn speed_of(id: &str, hardware: &Hardware, context: u64) -> Speed {
        let catalog = catalog::builtin().expect("catalog");
        let model = catalog.models.iter().find(|m| m.id == id).expect("model");
        let budget = Budget::from_hardware(hardware);
        let estimate = fit::estimate(model, context, &budget);
        super::estimate(model, &estimate, &Throughput::of(hardware)).expect("it fits")
    }

    #[test]
    fn the_factors_reproduce_the_measurements_they_come_from() {
        // RTX 4090, 6.67 GiB read per token at 70 %: 98 tokens/s measured.
        let tps = 1_008e9 * DECODE_EFFICIENCY / (6.67 * f64::from(1u32 << 30));
        assert!((tps - 98.1).abs() < 1.0, "{tps}");
        // 82.6 TFLOPS × 2.0 over 2 × 8.03e9: 10,359 tokens/s measured.
        let pp = 82.58e12 * prefill_factor(Vendor::Nvidia) / (2.0 * 8.03e9);
        assert!((pp / 10_359.0 - 1.0).abs() < 0.02, "{pp}");
    }

    #[test]
    fn a_mixture_of_experts_writes_faster_than_a_dense_model_of_its_size() {
        let hardware = machine("64GiB", &["RTX 4090"]);
        let dense = speed_of("qwen3.6-27b", &hardware, 65_536);
        let moe = speed_of("gpt-oss-20b", &hardware, 65_536);
        assert!(!dense.guessed && !moe.guessed);
        assert!(moe.decode_tps > 2.0 * dense.decode_tps, "{moe:?} {dense:?}");
        assert!((15.0..40.0).contains(&dense.decode_tps), "{dense:?}");
        assert!(
            dense.basis.contains("RTX 4090: 1008 GB/s"),
            "{}",
            dense.basis
        );
    }

    #[test]
    fn the_cpu_and_unknown_gpus_are_guesses_and_slow() {
        let cpu = speed_of("qwen3.6-27b", &machine("64GiB", &[]), 65_536);
        assert!(cpu.guessed);
        assert!(cpu.decode_tps < 3.0, "{cpu:?}");
        assert!(cpu.first_prompt_seconds() > 600.0, "{cpu:?}");
        let unknown = speed_of("gpt-oss-20b", &machine("64GiB", &["nvidia:24GiB"]), 65_536);
        assert!(unknown.guessed);
        assert!(unknown.basis.contains("guessed"), "{}", unknown.basis);
    }

    #[test]
    fn rates_read_well() {
        assert_eq!(rate(1_934.0), "1,900");
        assert_eq!(rate(42.4), "42");
        assert_eq!(rate(4.24), "4.2");
        assert_eq!(rate(12_345.0), "12,300");
    }
}
