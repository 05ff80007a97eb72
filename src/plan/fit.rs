//! Memory fit, a pure function: how much memory a model needs at a context, whether that fits this machine's GPUs
//! and RAM, and which catalog model is the best that fits.
//!
//! `need = weights + KV cache(context) + compute buffer + a reserve per GPU used`, where
//! - the weights take their download size;
//! - the KV cache is `context × (key + value length) × KV heads × 2 bytes` (f16) for each layer that caches the whole
//!   context; a sliding-window layer caches only its window plus one batch (rounded up to 256 cells, as llama.cpp
//!   does), and recurrent layers keep a fixed state;
//! - the compute buffer follows Ollama's batch surcharge: 512 MiB up to 4k tokens, 768 MiB up to 32k, 2 GiB above;
//! - Ollama keeps 457 MiB free on each GPU (512 MiB on Apple's Metal).
//!
//! Verdicts: `gpu` when everything fits in GPU memory (one GPU if it can, else spread over all), `split` when the
//! rest fits in RAM (much slower), `cpu` when there is no usable GPU and it fits in RAM, `no` otherwise.

use std::fmt::Write as _;

use serde::Serialize;

use super::catalog::{CLEAR_MARGIN, KvShape, Model, RANKING_BENCHMARK};
use crate::facts::gpu_specs;
use crate::facts::hardware::{Gpu, Hardware, Vendor, gpu_share};
use crate::size::human_bytes;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// What Ollama keeps free on each CUDA/ROCm/Vulkan GPU.
pub const GPU_RESERVE: u64 = 457 * MIB;
/// What Ollama keeps free on Apple's Metal.
pub const METAL_RESERVE: u64 = 512 * MIB;
/// RAM left for the system, Codex and the editor.
pub const RAM_HEADROOM: u64 = 2 * GIB;
/// The context Codex works best with.
pub const PREFERRED_CONTEXT: u64 = 65_536;
/// The least context codex-local chooses by itself.
pub const MIN_CONTEXT: u64 = 32_768;
/// Below this Codex cannot work at all: its first request is about 10k tokens.
pub const CODEX_FLOOR: u64 = 16_384;

/// Where a model would run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    Gpu,
    Split,
    Cpu,
    No,
}

impl Fit {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gpu => "gpu",
            Self::Split => "split",
            Self::Cpu => "cpu",
            Self::No => "no",
        }
    }
}

/// The memory a model may use on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Free memory of each usable GPU, largest first.
    pub gpus: Vec<u64>,
    /// What the runtime keeps free on each GPU.
    pub reserve: u64,
    /// RAM available for model layers that do not fit on a GPU.
    pub ram: u64,
    /// GPU memory is carved out of RAM (Apple Silicon).
    pub unified: bool,
}

impl Budget {
    /// The budget of a machine. Integrated GPUs other than Apple's share RAM through slow paths and count as none.
    #[must_use]
    pub fn from_hardware(hardware: &Hardware) -> Self {
        let ram = hardware.ram_available_bytes.saturating_sub(RAM_HEADROOM);
        let mut gpus: Vec<u64> = usable_gpus(hardware)
            .into_iter()
            .map(|(free, _)| free)
            .collect();
        gpus.sort_unstable_by(|a, b| b.cmp(a));
        let unified = hardware.unified || hardware.gpus.iter().any(shares_ram);
        Self {
            gpus,
            reserve: if unified { METAL_RESERVE } else { GPU_RESERVE },
            ram,
            unified,
        }
    }

    /// Free GPU memory in all.
    #[must_use]
    pub fn gpu_total(&self) -> u64 {
        self.gpus.iter().sum()
    }

    /// A short description: `GPU 23.5 GiB free (1 GPU), RAM 58.0 GiB available`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut text = String::new();
        match self.gpus.len() {
            0 => text.push_str("no usable GPU"),
            1 => {
                let _ = write!(text, "GPU {} free", human_bytes(self.gpus[0]));
            }
            n => {
                let _ = write!(
                    text,
                    "GPUs {} free on {n} GPUs",
                    human_bytes(self.gpu_total())
                );
            }
        }
        let _ = write!(text, ", RAM {} available", human_bytes(self.ram));
        text
    }
}

/// A chip built to share RAM with a fast GPU (Apple Silicon, DGX Spark, Ryzen AI Max).
fn shares_ram(gpu: &Gpu) -> bool {
    gpu.vendor == Vendor::Apple || gpu_specs::find(&gpu.name).is_some_and(|spec| spec.unified)
}

/// The GPUs a model can use and the memory each has free, most first: dedicated GPUs, and chips that share RAM
/// (at most what RAM has free; a probed GB10 reports no size). Other integrated GPUs share RAM through slow paths
/// and do not count.
#[must_use]
pub fn usable_gpus(hardware: &Hardware) -> Vec<(u64, &Gpu)> {
    let ram = hardware.ram_available_bytes.saturating_sub(RAM_HEADROOM);
    let mut gpus: Vec<(u64, &Gpu)> = hardware
        .gpus
        .iter()
        .filter(|gpu| !gpu.integrated || shares_ram(gpu))
        .filter_map(|gpu| {
            let free = if shares_ram(gpu) {
                let free = gpu
                    .memory_free_bytes
                    .or(gpu.memory_total_bytes)
                    .unwrap_or_else(|| gpu_share(hardware.ram_available_bytes, 0));
                free.min(ram)
            } else {
                gpu.memory_free_bytes.or(gpu.memory_total_bytes)?
            };
            (free > 0).then_some((free, gpu))
        })
        .collect();
    gpus.sort_by_key(|gpu| std::cmp::Reverse(gpu.0));
    gpus
}

/// llama.cpp's batch: Ollama (0.30 and later) raises it with the context.
#[must_use]
pub fn ubatch(context: u64) -> u64 {
    match context {
        0..=4096 => 512,
        4097..=32_768 => 1024,
        _ => 2048,
    }
}

/// The compute buffer Ollama budgets for that batch.
#[must_use]
pub fn compute_overhead(context: u64) -> u64 {
    match context {
        0..=4096 => 512 * MIB,
        4097..=32_768 => 768 * MIB,
        _ => 2 * GIB,
    }
}

/// KV cache bytes at `context` tokens (f16).
#[must_use]
pub fn kv_bytes(kv: &KvShape, context: u64) -> u64 {
    // The catalog bounds every number; saturating keeps a wrong one from wrapping round to a small cache.
    let full = kv
        .full_layers
        .saturating_mul(context)
        .saturating_mul(kv.full_bytes_per_token());
    let sliding = if kv.sliding_layers == 0 {
        0
    } else {
        let cells = context
            .min(kv.sliding_window + ubatch(context))
            .div_ceil(256)
            * 256;
        kv.sliding_layers
            .saturating_mul(cells)
            .saturating_mul(kv.sliding_bytes_per_token())
    };
    full.saturating_add(sliding).saturating_add(kv.state_bytes)
}

/// A model's memory need at one context, and where it would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub context_length: u64,
    pub weights_bytes: u64,
    pub kv_bytes: u64,
    pub compute_bytes: u64,
    pub reserve_bytes: u64,
    pub need_bytes: u64,
    pub fit: Fit,
    /// How much would sit on GPUs, and how much in RAM.
    pub gpu_bytes: u64,
    pub cpu_bytes: u64,
    /// GPUs used.
    pub gpu_count: usize,
}

impl Estimate {
    /// The share of the model that runs on the CPU, in percent.
    #[must_use]
    pub fn cpu_percent(&self) -> u64 {
        (self.cpu_bytes * 100)
            .checked_div(self.gpu_bytes + self.cpu_bytes)
            .unwrap_or(0)
    }

    /// Where it runs, in a few words: `on the GPU at 64k`.
    #[must_use]
    pub fn explain_short(&self) -> String {
        let place = match self.fit {
            Fit::Gpu => "on the GPU",
            Fit::Split => "split between GPU and CPU",
            Fit::Cpu => "on the CPU",
            Fit::No => "nowhere",
        };
        format!("fits {place} at {}", context_label(self.context_length))
    }

    /// Plain words for the verdict.
    #[must_use]
    pub fn explain(&self, budget: &Budget) -> String {
        let need = human_bytes(self.need_bytes);
        let context = context_label(self.context_length);
        match self.fit {
            Fit::Gpu if self.gpu_count > 1 => {
                format!(
                    "needs {need} at {context}: fits across {} GPUs",
                    self.gpu_count
                )
            }
            Fit::Gpu => format!("needs {need} at {context}: fits on the GPU"),
            Fit::Split => format!(
                "needs {need} at {context}, more than the GPU's {} free: {}% would run on the CPU, several times \
                 slower",
                human_bytes(budget.gpu_total()),
                self.cpu_percent()
            ),
            Fit::Cpu => format!(
                "needs {need} at {context}: runs on the CPU from RAM (no usable GPU), slowly"
            ),
            Fit::No => format!(
                "needs {need} at {context}: more than this machine has ({})",
                budget.describe()
            ),
        }
    }
}

/// `64k` for 65536 tokens.
#[must_use]
pub fn context_label(context: u64) -> String {
    if context.is_multiple_of(1024) {
        format!("{}k", context / 1024)
    } else {
        format!("{context} tokens")
    }
}

/// Estimates `model` at `context` tokens on `budget`.
#[must_use]
pub fn estimate(model: &Model, context: u64, budget: &Budget) -> Estimate {
    let weights = model.size_bytes;
    let kv = kv_bytes(&model.kv, context);
    let compute = compute_overhead(context);
    let core = weights + kv + compute;
    let mut result = Estimate {
        context_length: context,
        weights_bytes: weights,
        kv_bytes: kv,
        compute_bytes: compute,
        reserve_bytes: 0,
        need_bytes: core,
        fit: Fit::No,
        gpu_bytes: 0,
        cpu_bytes: core,
        gpu_count: 0,
    };
    if budget.gpus.is_empty() {
        if core <= budget.ram {
            result.fit = Fit::Cpu;
        }
        return result;
    }
    // One GPU when the largest can hold it all, as Ollama prefers; else every GPU, each keeping its reserve.
    let count = if core + budget.reserve <= budget.gpus[0] {
        1
    } else {
        budget.gpus.len()
    };
    let reserve = budget.reserve * count as u64;
    let room: u64 = budget.gpus[..count]
        .iter()
        .sum::<u64>()
        .saturating_sub(reserve);
    result.reserve_bytes = reserve;
    result.need_bytes = core + reserve;
    result.gpu_count = count;
    if core <= room {
        result.fit = Fit::Gpu;
        result.gpu_bytes = core;
        result.cpu_bytes = 0;
        return result;
    }
    result.gpu_bytes = room;
    result.cpu_bytes = core - room;
    // On unified memory the GPU's part comes out of the same RAM.
    let ram = if budget.unified {
        budget.ram.saturating_sub(room)
    } else {
        budget.ram
    };
    if result.cpu_bytes <= ram {
        result.fit = Fit::Split;
    }
    result
}

/// A model passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassedOver {
    pub id: String,
    pub reason: String,
}

/// The chosen model.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice<'a> {
    pub model: &'a Model,
    pub estimate: Estimate,
    /// Better-ranked models that were not chosen, best first.
    pub passed_over: Vec<PassedOver>,
    /// What was traded between quality and context, when anything was.
    pub traded: Option<String>,
}

/// Why no model could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoFit {
    pub budget: String,
    pub reasons: Vec<PassedOver>,
    /// The model that needs least, and what it needs.
    pub smallest: Option<PassedOver>,
}

/// The step between the contexts tried below 64k.
pub const CONTEXT_STEP: u64 = 4096;

/// The contexts to try, longest first: the one asked for, else 64k down to 32k in 4k steps.
#[must_use]
pub fn contexts(requested: Option<u64>) -> Vec<u64> {
    match requested {
        Some(context) => vec![context],
        None => (0..=(PREFERRED_CONTEXT - MIN_CONTEXT) / CONTEXT_STEP)
            .map(|step| PREFERRED_CONTEXT - step * CONTEXT_STEP)
            .collect(),
    }
}

/// The longest of `contexts` (longest first) at which `model` runs with the verdict `accept`.
#[must_use]
pub fn longest_at(
    model: &Model,
    contexts: &[u64],
    budget: &Budget,
    accept: Fit,
) -> Option<Estimate> {
    contexts
        .iter()
        .filter(|&&context| model.context_trained >= context)
        .map(|&context| estimate(model, context, budget))
        .find(|estimate| estimate.fit == accept)
}

/// The best place a model runs, at the longest context there: on the GPU, else split, else on the CPU; `None`
/// when it does not fit at any of `contexts`.
#[must_use]
pub fn best_fit(model: &Model, contexts: &[u64], budget: &Budget) -> Option<Estimate> {
    [Fit::Gpu, Fit::Split, Fit::Cpu]
        .into_iter()
        .find_map(|accept| longest_at(model, contexts, budget, accept))
}

/// `a` is clearly better than `b`: at least [`CLEAR_MARGIN`] points more on the ranking benchmark, or a score
/// there where `b` has none.
fn clearly_better(a: &Model, b: &Model) -> bool {
    match (a.ranking_score(), b.ranking_score()) {
        (Some(x), Some(y)) => x - y >= CLEAR_MARGIN,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The margin between two models on the ranking benchmark, in words.
fn margin(a: &Model, b: &Model) -> String {
    match (a.ranking_score(), b.ranking_score()) {
        (Some(x), Some(y)) => format!(
            "{:.1} points on {RANKING_BENCHMARK} ({x} against {y})",
            x - y
        ),
        (Some(x), None) => format!("{x} on {RANKING_BENCHMARK}, where `{}` has no score", b.id),
        _ => "no comparable score".to_owned(),
    }
}

/// The usable speed: a model that writes more slowly is passed over when a faster one fits.
pub struct Floor<'s> {
    /// A model's estimated writing speed where it would run, in tokens/s (`None` when unknown).
    pub rate: &'s dyn Fn(&Model, &Estimate) -> Option<f64>,
    /// The least tokens/s.
    pub min: f64,
}

impl Floor<'_> {
    fn too_slow(&self, model: &Model, estimate: &Estimate) -> bool {
        (self.rate)(model, estimate).is_some_and(|tps| tps < self.min)
    }

    fn reason(&self, model: &Model, estimate: &Estimate) -> String {
        let tps = (self.rate)(model, estimate).unwrap_or(0.0);
        format!(
            "{}, but writes only about {tps:.1} tokens/s there, below the usable {} (`--min-speed`)",
            estimate.explain_short(),
            self.min
        )
    }
}

/// A model that fits: its rank, itself, and its estimate at the longest context it fits.
type Fitting<'a> = (usize, &'a Model, Estimate);

/// Quality before context among the models that fit (best first): the best, unless one that fits the `full`
/// context is within [`CLEAR_MARGIN`] of it; with what was traded, in words.
fn pick<'f, 'a>(
    fitting: &'f [Fitting<'a>],
    full: u64,
) -> Option<(&'f Fitting<'a>, Option<String>)> {
    let best = fitting.first()?;
    let Some(other) = fitting
        .iter()
        .find(|(rank, _, e)| e.context_length == full && *rank != best.0)
        .filter(|_| best.2.context_length < full)
    else {
        return Some((best, None));
    };
    if clearly_better(best.1, other.1) {
        let note = format!(
            "`{}` at {} rather than `{}` at {}: better by {}",
            best.1.id,
            context_label(best.2.context_length),
            other.1.id,
            context_label(full),
            margin(best.1, other.1)
        );
        return Some((best, Some(note)));
    }
    let why = if best.1.ranking_score().is_some() {
        format!(
            "that one is better by only {}, less than the {CLEAR_MARGIN} points worth a shorter context",
            margin(best.1, other.1)
        )
    } else {
        format!(
            "neither has a {RANKING_BENCHMARK} score to show that one is clearly better, so the longer context wins"
        )
    };
    let note = format!(
        "`{}` at {} rather than `{}` at {}: {why}",
        other.1.id,
        context_label(full),
        best.1.id,
        context_label(best.2.context_length),
    );
    Some((other, Some(note)))
}

/// Where a model runs best here: at the longest of `contexts` at which it fits (on the GPU, split or on the CPU,
/// whichever the estimate gives there) and writes fast enough for `floor`; when no context is fast enough, where
/// it fits best anyway; `None` when it fits nowhere.
#[must_use]
pub fn placement(
    model: &Model,
    contexts: &[u64],
    budget: &Budget,
    floor: Option<&Floor<'_>>,
) -> Option<Estimate> {
    contexts
        .iter()
        .filter(|&&context| model.context_trained >= context)
        .map(|&context| estimate(model, context, budget))
        .find(|e| e.fit != Fit::No && floor.is_none_or(|f| !f.too_slow(model, e)))
        .or_else(|| best_fit(model, contexts, budget))
}

/// Chooses among `models` (best first), each where it runs best (see [`placement`]). Models that write below the
/// floor are passed over when one above it fits; among the rest, quality before context: the best-ranked, at the
/// longest context it fits, unless a model that fits the full context is within [`CLEAR_MARGIN`] of it. When
/// nothing is fast enough, the fastest. `requested` fixes the context.
pub fn choose<'a>(
    models: &[&'a Model],
    budget: &Budget,
    requested: Option<u64>,
    floor: Option<&Floor<'_>>,
) -> Result<Choice<'a>, NoFit> {
    let contexts = contexts(requested);
    let full = contexts[0];
    let placed: Vec<Fitting<'a>> = models
        .iter()
        .enumerate()
        .filter_map(|(rank, model)| {
            placement(model, &contexts, budget, floor).map(|e| (rank, *model, e))
        })
        .collect();
    let slow = |f: &Fitting<'_>| floor.is_some_and(|floor| floor.too_slow(f.1, &f.2));
    let usable: Vec<Fitting<'a>> = placed.iter().filter(|f| !slow(f)).cloned().collect();
    let (chosen, traded) = if let Some((chosen, traded)) = pick(&usable, full) {
        (chosen.clone(), traded)
    } else {
        // Nothing is fast enough: the fastest, which the plan warns about.
        let rate = |f: &Fitting<'_>| {
            floor
                .and_then(|floor| (floor.rate)(f.1, &f.2))
                .unwrap_or(0.0)
        };
        let fastest = placed
            .iter()
            .max_by(|a, b| rate(a).total_cmp(&rate(b)).then(b.0.cmp(&a.0)))
            .ok_or_else(|| no_fit(models, &contexts, budget))?;
        (fastest.clone(), None)
    };
    let best = usable.first().map(|f| f.1.id.clone());
    let passed_over = models[..chosen.0]
        .iter()
        .map(|better| {
            let slow_here = placed
                .iter()
                .find(|f| f.1.id == better.id)
                .filter(|f| slow(f))
                .and_then(|f| floor.map(|floor| floor.reason(f.1, &f.2)));
            let reason = match (slow_here, &traded) {
                (Some(reason), _) => reason,
                (None, Some(traded)) if best.as_deref() == Some(better.id.as_str()) => {
                    traded.clone()
                }
                _ => why_not(better, &contexts, budget),
            };
            PassedOver {
                id: better.id.clone(),
                reason,
            }
        })
        .collect();
    Ok(Choice {
        model: chosen.1,
        estimate: chosen.2,
        passed_over,
        traded,
    })
}

/// Nothing fits: why not, for each, and what the model that needs least needs.
fn no_fit(models: &[&Model], contexts: &[u64], budget: &Budget) -> NoFit {
    let shortest = contexts.last().copied().unwrap_or(PREFERRED_CONTEXT);
    let smallest = models
        .iter()
        .filter(|model| model.context_trained >= shortest)
        .min_by_key(|model| estimate(model, shortest, budget).need_bytes)
        .map(|model| PassedOver {
            id: model.id.clone(),
            reason: why_not(model, contexts, budget),
        });
    NoFit {
        budget: budget.describe(),
        reasons: models
            .iter()
            .map(|model| PassedOver {
                id: model.id.clone(),
                reason: why_not(model, contexts, budget),
            })
            .collect(),
        smallest,
    }
}

/// Why a better model was not chosen: where it would run, or its verdict at the shortest context tried.
fn why_not(model: &Model, contexts: &[u64], budget: &Budget) -> String {
    let Some(&shortest) = contexts.last() else {
        return String::new();
    };
    if model.context_trained < shortest {
        return format!(
            "trained for only {} tokens, less than {}",
            model.context_trained,
            context_label(shortest)
        );
    }
    // On the GPU somewhere: say where; else what it needs at the least context, the strongest reason.
    match longest_at(model, contexts, budget, Fit::Gpu) {
        Some(estimate) => estimate.explain(budget),
        None => estimate(model, shortest, budget).explain(budget),
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog;
    use super::*;
    use crate::facts::described::Described;

    fn budget(ram: &str, gpus: &[&str], unified: bool) -> Budget {
        let gpus: Vec<String> = gpus.iter().map(|g| (*g).to_owned()).collect();
        let described = Described::from_args(Some(ram), &gpus, unified)
            .expect("valid")
            .expect("described");
        Budget::from_hardware(&described.hardware())
    }

    fn model(id: &str) -> Model {
        catalog::builtin()
            .expect("catalog")
            .models
            .into_iter()
            .find(|m| m.id == id)
            .expect("a catalog model")
    }

    #[test]
    fn kv_cache_matches_the_published_arithmetic() {
        // qwen3-coder 30B: 96 KiB per token, 6 GiB at 64k (design notes).
        assert_eq!(kv_bytes(&model("qwen3-coder-30b").kv, 65_536), 6 * GIB);
        // Devstral: 160 KiB per token, 10 GiB at 64k.
        assert_eq!(kv_bytes(&model("devstral-24b").kv, 65_536), 10 * GIB);
        // gpt-oss-20b: 24 KiB per token on 12 full layers, plus 12 windowed layers of 2304 cells at batch 2048.
        assert_eq!(
            kv_bytes(&model("gpt-oss-20b").kv, 65_536),
            65_536 * 24_576 + 12 * 2304 * 2048
        );
        // At 4k the window plus a 512 batch is 640 cells, padded to 768.
        assert_eq!(
            kv_bytes(&model("gpt-oss-20b").kv, 4096),
            4096 * 24_576 + 12 * 768 * 2048
        );
        // Recurrent state does not grow with the context.
        let qwen36 = model("qwen3.6-35b-a3b");
        assert_eq!(
            kv_bytes(&qwen36.kv, 65_536) - kv_bytes(&qwen36.kv, 32_768),
            32_768 * 20_480
        );
    }

    #[test]
    fn verdicts_follow_the_memory() {
        let qwen = model("qwen3-coder-30b");
        // (machine, verdict at 32k, verdict at 64k)
        let table = [
            (
                budget("64GiB", &["nvidia:24GiB"], false),
                Fit::Gpu,
                Fit::Split,
            ),
            (
                budget("64GiB", &["nvidia:48GiB"], false),
                Fit::Gpu,
                Fit::Gpu,
            ),
            (
                budget("64GiB", &["nvidia:16GiB", "nvidia:16GiB"], false),
                Fit::Gpu,
                Fit::Gpu,
            ),
            (budget("64GiB", &[], false), Fit::Cpu, Fit::Cpu),
            (budget("16GiB", &[], false), Fit::No, Fit::No),
            (budget("64GiB", &[], true), Fit::Gpu, Fit::Gpu),
            (budget("32GiB", &[], true), Fit::Split, Fit::Split),
        ];
        for (budget, at_32k, at_64k) in &table {
            assert_eq!(
                estimate(&qwen, 32_768, budget).fit,
                *at_32k,
                "32k on {budget:?}"
            );
            assert_eq!(
                estimate(&qwen, 65_536, budget).fit,
                *at_64k,
                "64k on {budget:?}"
            );
        }
        let two = estimate(&qwen, 65_536, &table[2].0);
        assert_eq!(two.gpu_count, 2);
        assert_eq!(two.reserve_bytes, 2 * GPU_RESERVE);
        let split = estimate(&qwen, 65_536, &table[0].0);
        assert!(
            split.cpu_percent() > 0 && split.cpu_percent() < 50,
            "{split:?}"
        );
    }

    /// Chooses among `models` on a described machine, with the default speed floor.
    fn choose_on<'a>(models: &[&'a Model], ram: &str, gpus: &[&str]) -> Result<Choice<'a>, NoFit> {
        let gpus: Vec<String> = gpus.iter().map(|g| (*g).to_owned()).collect();
        let hardware = Described::from_args(Some(ram), &gpus, false)
            .expect("valid")
            .expect("described")
            .hardware();
        let machine = super::super::speed::Throughput::of(&hardware);
        let rate = |model: &Model, estimate: &Estimate| {
            super::super::speed::estimate(model, estimate, &machine).map(|s| s.decode_tps)
        };
        let floor = Floor {
            rate: &rate,
            min: 10.0,
        };
        choose(
            models,
            &Budget::from_hardware(&hardware),
            None,
            Some(&floor),
        )
    }

    #[test]
    fn chooses_the_best_model_that_runs_fast_enough() {
        let catalog = catalog::builtin().expect("catalog");
        let models: Vec<&Model> = catalog.models.iter().collect();

        let choice = choose_on(&models, "64GiB", &["nvidia:24GiB"]).expect("a model");
        assert_eq!(choice.model.id, "qwen3.6-27b");
        assert_eq!(choice.estimate.context_length, 65_536);
        assert_eq!(choice.estimate.fit, Fit::Gpu);
        assert!(choice.passed_over.is_empty());
        assert_eq!(choice.traded, None);

        // 18 GiB: the dense 27B would run partly on the CPU, too slowly; the mixture of experts split between GPU
        // and CPU still writes fast enough, and is better than anything that fits the GPU alone.
        let choice = choose_on(&models, "64GiB", &["nvidia:18GiB"]).expect("a model");
        assert_eq!(choice.model.id, "qwen3.6-35b-a3b");
        assert_eq!(choice.estimate.fit, Fit::Split);
        assert_eq!(choice.passed_over.len(), 1);
        assert!(
            choice.passed_over[0]
                .reason
                .contains("below the usable 10 (`--min-speed`)"),
            "{:?}",
            choice.passed_over
        );

        // Without RAM to spare, nothing can be split: the best that fits the GPU alone.
        let choice = choose_on(&models, "2GiB", &["nvidia:18GiB"]).expect("a model");
        assert_eq!(choice.model.id, "gpt-oss-20b");
        assert_eq!(choice.estimate.context_length, 65_536);
        let big_one = choice
            .passed_over
            .iter()
            .find(|p| p.id == "gpt-oss-120b")
            .expect("passed over");
        assert!(
            big_one.reason.contains("more than this machine has"),
            "{big_one:?}"
        );

        let big = choose_on(&models, "256GiB", &["nvidia:80GiB", "nvidia:80GiB"]).expect("a model");
        assert_eq!(big.model.id, "qwen3.6-27b");
        assert!(big.passed_over.is_empty());

        // An 8 GiB GPU: the scored mixture of experts, split, fast enough at 64k.
        let laptop = choose_on(&models, "16GiB", &["nvidia:8GiB"]).expect("a model");
        assert_eq!(laptop.model.id, "gpt-oss-20b", "{:?}", laptop.passed_over);

        let cpu_only = choose_on(&models, "64GiB", &[]).expect("a model");
        assert_eq!(cpu_only.estimate.fit, Fit::Cpu);

        // 8 GiB of RAM and no GPU still gets a model, at 32k.
        let small = choose_on(&models, "8GiB", &[]).expect("a model");
        assert_eq!(small.model.id, "qwen3.5-4b");
        assert_eq!(small.estimate.context_length, 32_768);

        let tiny = choose_on(&models, "4GiB", &[]).expect_err("nothing fits");
        assert_eq!(tiny.reasons.len(), models.len());
        let smallest = tiny.smallest.expect("the smallest");
        assert_eq!(smallest.id, "qwen3.5-4b");
        assert!(
            smallest.reason.contains("needs 5.0 GiB at 32k"),
            "{smallest:?}"
        );
    }

    #[test]
    fn a_slow_model_is_given_a_shorter_context_when_that_makes_it_fast_enough() {
        let catalog = catalog::builtin().expect("catalog");
        let models: Vec<&Model> = catalog.models.iter().collect();
        // No GPU: at 64k the best mixture of experts writes just below 10 tokens/s, at a shorter context above.
        let choice = choose_on(&models, "64GiB", &[]).expect("a model");
        assert_eq!(choice.model.id, "qwen3.6-35b-a3b");
        assert!(choice.estimate.context_length < PREFERRED_CONTEXT);
    }

    #[test]
    fn a_clearly_better_model_at_a_shorter_context_beats_a_weaker_one_at_64k() {
        let catalog = catalog::builtin().expect("catalog");
        let models: Vec<&Model> = catalog
            .models
            .iter()
            .filter(|m| ["qwen3.6-27b", "gpt-oss-20b"].contains(&m.id.as_str()))
            .collect();
        // 20 GiB and no RAM to split into: Qwen3.6 27B fits the GPU only below 64k; gpt-oss-20b fits 64k, 16.5
        // points lower.
        let choice = choose_on(&models, "2GiB", &["nvidia:20GiB"]).expect("a model");
        assert_eq!(choice.model.id, "qwen3.6-27b");
        assert_eq!(choice.estimate.fit, Fit::Gpu);
        let context = choice.estimate.context_length;
        assert!(
            (MIN_CONTEXT..PREFERRED_CONTEXT).contains(&context),
            "{context}"
        );
        assert_eq!(context % CONTEXT_STEP, 0);
        // The largest that fits: 4k more would not.
        assert_ne!(
            estimate(
                choice.model,
                context + CONTEXT_STEP,
                &budget("2GiB", &["nvidia:20GiB"], false)
            )
            .fit,
            Fit::Gpu
        );
        let traded = choice.traded.expect("what was traded");
        assert!(
            traded.contains("rather than `gpt-oss-20b` at 64k: better by 16.5 points on SWE-bench Verified (77.2 against 60.7)"),
            "{traded}"
        );
    }

    #[test]
    fn a_model_only_slightly_better_does_not_cost_the_full_context() {
        let catalog = catalog::builtin().expect("catalog");
        let weaker = catalog
            .models
            .iter()
            .find(|m| m.id == "gpt-oss-20b")
            .expect("gpt-oss-20b")
            .clone();
        // A model 3.3 points better whose cache is four times larger: it fits the 18 GiB GPU only below 64k, and
        // there is no RAM to split it into.
        let mut slightly = weaker.clone();
        slightly.id = "slightly-better".to_owned();
        slightly.score = Some(64.0);
        slightly.kv.full_layers = 48;
        let models = [&slightly, &weaker];
        let room = budget("2GiB", &["nvidia:18GiB"], false);
        assert_ne!(estimate(&slightly, 65_536, &room).fit, Fit::Gpu);
        assert!(best_fit(&slightly, &contexts(None), &room).is_some_and(|e| e.fit == Fit::Gpu));

        let choice = choose_on(&models, "2GiB", &["nvidia:18GiB"]).expect("a model");
        assert_eq!(choice.model.id, "gpt-oss-20b");
        assert_eq!(choice.estimate.context_length, 65_536);
        let traded = choice.traded.expect("what was traded");
        assert!(
            traded.contains(
                "better by only 3.3 points on SWE-bench Verified (64 against 60.7), less than the 5"
            ),
            "{traded}"
        );
        assert_eq!(choice.passed_over[0].reason, traded);
    }

    #[test]
    fn a_requested_context_is_the_only_one_tried() {
        let catalog = catalog::builtin().expect("catalog");
        let models: Vec<&Model> = catalog.models.iter().collect();
        let choice = choose(
            &models,
            &budget("64GiB", &["nvidia:24GiB"], false),
            Some(131_072),
            None,
        )
        .expect("a model");
        assert_eq!(choice.estimate.context_length, 131_072);
        assert!(choice.model.context_trained >= 131_072);
    }
}
