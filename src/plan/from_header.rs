//! A catalog entry for a model the catalog does not know, from its own GGUF header: the same numbers the estimate
//! uses for catalog models, read from the keys llama.cpp writes for each architecture.
//!
//! - Attention layers: those with key/value heads (`<arch>.attention.head_count_kv`, a number or one per layer: a
//!   0 is a recurrent layer), or one in `<arch>.full_attention_interval` (Qwen3-Next, Qwen3.5/3.6).
//! - A sliding window (`<arch>.attention.sliding_window`) applies to every layer but each
//!   `<arch>.attention.sliding_window_pattern`-th (Gemma), or every other layer (gpt-oss); for other architectures
//!   the layers are counted as full, which can only over-estimate.
//! - Multi-head latent attention (`<arch>.attention.kv_lora_rank`) caches the latent and its rotary part.
//! - Recurrent layers keep `<arch>.ssm.inner_size` × `<arch>.ssm.state_size` f32 values each.
//! - Parameters in all and active per token come from the tensor entries (routed experts are `*_exps`).

use super::catalog::{KvShape, Model};
use crate::facts::gguf::{Header, Value};

/// The entry for `name`, whose model file is `model_bytes` (plus a vision projector of `projector_bytes`).
pub fn model_from(
    name: &str,
    header: &Header,
    model_bytes: u64,
    projector_bytes: u64,
    tools: bool,
) -> Result<Model, String> {
    let layers = header
        .number("block_count")
        .ok_or_else(|| format!("`{}.block_count` is missing", header.architecture))?;
    let kv = kv_shape(header, layers)?;
    // The shape must be one the estimate can use, as for a catalog entry: nothing read from a file can make the
    // arithmetic wrap round to a small cache.
    super::catalog::check_kv(&kv)
        .map_err(|why| format!("its header gives a KV cache no model has: {why}"))?;
    #[expect(clippy::cast_precision_loss, reason = "parameter counts")]
    let total = header.params_total as f64 / 1e9;
    let active = match (
        header.number("expert_count"),
        header.number("expert_used_count"),
    ) {
        (Some(count), Some(used)) if count > 0 && header.params_experts > 0 => {
            #[expect(clippy::cast_precision_loss, reason = "parameter counts")]
            let experts = header.params_experts as f64 / 1e9;
            #[expect(clippy::cast_precision_loss, reason = "expert counts")]
            let share = used as f64 / count as f64;
            total - experts + experts * share
        }
        _ => total,
    };
    Ok(Model {
        id: name.to_owned(),
        name: header
            .text("general.name")
            .unwrap_or(name)
            .chars()
            .take(80)
            .collect(),
        ollama: Some(name.to_owned()),
        lmstudio: None,
        size_bytes: model_bytes.saturating_add(projector_bytes),
        size_exact: true,
        params_total_b: total.max(0.001),
        params_active_b: active.clamp(0.001, total.max(0.001)),
        context_trained: header.number("context_length").unwrap_or(4096),
        released: None,
        tools,
        thinking: false,
        score: None,
        score_benchmark: None,
        score_harness: None,
        score_vendor: None,
        score_source: None,
        license: header.text("general.license").unwrap_or("").to_owned(),
        notes: Some(format!(
            "not in the catalog: sized from its GGUF header ({} architecture)",
            header.architecture
        )),
        kv,
    })
}

/// The KV cache's shape from the header.
fn kv_shape(header: &Header, layers: u64) -> Result<KvShape, String> {
    let heads = header
        .per_layer("attention.head_count", layers)
        .unwrap_or_default();
    let kv_heads = header
        .per_layer("attention.head_count_kv", layers)
        .unwrap_or_else(|| heads.clone());
    let attention = kv_heads.iter().filter(|h| **h > 0).count() as u64;
    let heads_kv = kv_heads.iter().copied().max().unwrap_or(0);
    if attention == 0 || heads_kv == 0 {
        return Err("the header names no attention heads".to_owned());
    }
    let head_width = header
        .number("embedding_length")
        .zip(heads.iter().copied().max().filter(|h| *h > 0))
        .map(|(width, heads)| width / heads);
    let key = header
        .number("attention.key_length")
        .or(head_width)
        .unwrap_or(128);
    let value = header.number("attention.value_length").unwrap_or(key);
    // Hybrids that name their attention layers by an interval (Qwen3-Next, Qwen3.5/3.6).
    let interval = header.number("full_attention_interval").filter(|i| *i > 1);
    let attention_layers = interval.map_or(attention, |i| attention.min(layers / i));
    // Falcon-H1 runs attention and a state-space block side by side in every layer.
    let recurrent = if header.architecture == "falcon-h1" {
        layers
    } else {
        layers.saturating_sub(attention_layers)
    };
    let state_bytes = recurrent
        .saturating_mul(header.number("ssm.inner_size").unwrap_or(0))
        .saturating_mul(header.number("ssm.state_size").unwrap_or(0))
        .saturating_mul(4);
    if let Some(rank) = header.number("attention.kv_lora_rank") {
        // The latent and its rotary part, one "head".
        let rope = header.number("rope.dimension_count").unwrap_or(64);
        let latent = (attention_layers, 1, rank.saturating_add(rope), 0);
        return Ok(uniform(latent, state_bytes));
    }
    let window = sliding_window(header);
    let slides = sliding_mask(header, layers);
    // Per attention layer: whether it slides, and its key/value heads.
    let attending: Vec<(bool, u64)> = kv_heads
        .iter()
        .enumerate()
        .filter(|(_, h)| **h > 0)
        .map(|(i, h)| (window > 0 && slides.get(i).copied().unwrap_or(false), *h))
        .collect();
    if interval.is_some() || !attending.iter().any(|(s, _)| *s) {
        return Ok(uniform(
            (attention_layers, heads_kv, key, value),
            state_bytes,
        ));
    }
    Ok(with_sliding(
        header,
        &attending,
        (heads_kv, key, value),
        window,
        state_bytes,
    ))
}

/// A cache whose attention layers are all alike: (layers, key/value heads, key length, value length).
fn uniform((layers, heads, key, value): (u64, u64, u64, u64), state_bytes: u64) -> KvShape {
    KvShape {
        full_layers: layers,
        kv_heads: heads,
        key_length: key,
        value_length: value,
        sliding_layers: 0,
        sliding_window: 0,
        state_bytes,
        sliding_kv_heads: None,
        sliding_key_length: None,
        sliding_value_length: None,
    }
}

/// A cache of full and sliding layers, each kind with its own heads (the most of its layers) and, for the sliding
/// ones, the `_swa` key and value lengths.
fn with_sliding(
    header: &Header,
    attending: &[(bool, u64)],
    (heads_kv, key, value): (u64, u64, u64),
    window: u64,
    state_bytes: u64,
) -> KvShape {
    let most = |sliding: bool| {
        attending
            .iter()
            .filter(|(s, _)| *s == sliding)
            .map(|(_, h)| *h)
            .max()
    };
    let sliding = attending.iter().filter(|(s, _)| *s).count() as u64;
    let full_heads = most(false).unwrap_or(heads_kv);
    let sliding_heads = most(true).unwrap_or(heads_kv);
    let sliding_key = header.number("attention.key_length_swa").unwrap_or(key);
    let sliding_value =
        header
            .number("attention.value_length_swa")
            .unwrap_or(if sliding_key == key {
                value
            } else {
                sliding_key
            });
    let differs = |a: u64, b: u64| (a != b).then_some(a);
    KvShape {
        full_layers: attending.len() as u64 - sliding,
        kv_heads: full_heads,
        key_length: key,
        value_length: value,
        sliding_layers: sliding,
        sliding_window: window,
        state_bytes,
        sliding_kv_heads: differs(sliding_heads, full_heads),
        sliding_key_length: differs(sliding_key, key),
        sliding_value_length: differs(sliding_value, value),
    }
}

/// The sliding window in tokens: the header's, else the one llama.cpp builds in (Llama 4's chunks of 8,192).
fn sliding_window(header: &Header) -> u64 {
    match header.number("attention.sliding_window") {
        Some(window) => window,
        None if header.architecture == "llama4" => 8_192,
        None => 0,
    }
}

/// Which layers slide, as llama.cpp decides: the header's `sliding_window_pattern`, one flag per layer (repeated
/// when shorter) or a period N (layer i slides when i % N < N - 1; 0: every layer), else the period llama.cpp
/// builds in for the architecture. Layers of architectures with none are counted as full, which can only
/// over-estimate.
fn sliding_mask(header: &Header, layers: u64) -> Vec<bool> {
    let count = usize::try_from(layers).unwrap_or(0);
    let key = format!("{}.attention.sliding_window_pattern", header.architecture);
    if let Some(Value::Numbers(flags)) = header.metadata.get(&key)
        && !flags.is_empty()
    {
        return (0..count).map(|i| flags[i % flags.len()] != 0).collect();
    }
    let period =
        header
            .number("attention.sliding_window_pattern")
            .or(match header.architecture.as_str() {
                "gemma2" | "gpt-oss" => Some(2),
                "gemma3" => Some(6),
                "gemma3n" => Some(5),
                "cohere2" | "llama4" => Some(4),
                _ => None,
            });
    (0..layers)
        .map(|i| match period {
            Some(0) => true,
            Some(n) => i % n < n - 1,
            None => false,
        })
        .collect()
}

/// A number on which the catalog and a model's own file disagree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    pub field: &'static str,
    pub catalog: serde_json::Value,
    pub header: serde_json::Value,
}

/// The largest share by which parameter counts may differ: a model card rounds them, and a header counts the
/// tensors as they were quantized.
const PARAMS_TOLERANCE: f64 = 0.1;
/// The same for a size the catalog has only rounded.
const SIZE_TOLERANCE: f64 = 0.03;

/// Where a catalog entry and the model sized from its own GGUF header disagree on what the estimate uses: size,
/// trained context, tools, the KV cache's shape, and parameters (within a tolerance).
#[must_use]
pub fn differences(catalog: &Model, header: &Model) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut exact = |field, a: u64, b: u64| {
        if a != b {
            found.push(Difference {
                field,
                catalog: a.into(),
                header: b.into(),
            });
        }
    };
    exact(
        "context_trained",
        catalog.context_trained,
        header.context_trained,
    );
    let (a, b) = (&catalog.kv, &header.kv);
    exact("kv.full_layers", a.full_layers, b.full_layers);
    exact("kv.kv_heads", a.kv_heads, b.kv_heads);
    exact("kv.key_length", a.key_length, b.key_length);
    exact("kv.value_length", a.value_length, b.value_length);
    exact("kv.sliding_layers", a.sliding_layers, b.sliding_layers);
    exact("kv.sliding_window", a.sliding_window, b.sliding_window);
    exact("kv.state_bytes", a.state_bytes, b.state_bytes);
    if catalog.size_exact {
        exact("size_bytes", catalog.size_bytes, header.size_bytes);
    }
    let mut near = |field, a: f64, b: f64, tolerance: f64| {
        if (a - b).abs() > a.abs().max(b.abs()) * tolerance {
            found.push(Difference {
                field,
                catalog: a.into(),
                header: ((b * 10.0).round() / 10.0).into(),
            });
        }
    };
    #[expect(clippy::cast_precision_loss, reason = "sizes compared by share")]
    let sizes = (catalog.size_bytes as f64, header.size_bytes as f64);
    if !catalog.size_exact {
        near("size_bytes", sizes.0, sizes.1, SIZE_TOLERANCE);
    }
    let (a, b) = (catalog.params_total_b, header.params_total_b);
    near("params_total_b", a, b, PARAMS_TOLERANCE);
    let (a, b) = (catalog.params_active_b, header.params_active_b);
    near("params_active_b", a, b, PARAMS_TOLERANCE);
    if catalog.tools != header.tools {
        found.push(Difference {
            field: "tools",
            catalog: catalog.tools.into(),
            header: header.tools.into(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::gguf::{self, tests::Writer};

    /// The KV cache's shape of a 1 GB model with the header `writer` writes.
    fn kv_of(writer: &Writer) -> KvShape {
        let header = gguf::parse(&writer.bytes()).expect("a header");
        model_from("m", &header, 1_000_000_000, 0, true)
            .expect("a model")
            .kv
    }

    #[test]
    fn a_qwen3_coder_header_gives_the_catalogs_shape() {
        // Qwen3-Coder 30B-A3B: 48 layers, 4 KV heads of 128, 128 experts with 8 used.
        let mut writer = Writer::default()
            .string("general.architecture", "qwen3moe")
            .u32("qwen3moe.block_count", 48)
            .u32("qwen3moe.context_length", 262_144)
            .u32("qwen3moe.attention.head_count", 32)
            .u32("qwen3moe.attention.head_count_kv", 4)
            .u32("qwen3moe.attention.key_length", 128)
            .u32("qwen3moe.attention.value_length", 128)
            .u32("qwen3moe.expert_count", 128)
            .u32("qwen3moe.expert_used_count", 8)
            .tensor("token_embd.weight", &[2048, 151_936]);
        for layer in 0..48 {
            writer = writer
                .tensor(&format!("blk.{layer}.attn_q.weight"), &[2048, 4096])
                .tensor(
                    &format!("blk.{layer}.ffn_up_exps.weight"),
                    &[2048, 768, 128],
                );
        }
        let header = gguf::parse(&writer.bytes()).expect("a header");
        let model =
            model_from("qwen3-coder:30b", &header, 18_556_700_761, 0, true).expect("a model");
        assert_eq!(model.kv.full_layers, 48);
        assert_eq!(model.kv.kv_heads, 4);
        assert_eq!(model.kv.key_length, 128);
        assert_eq!(model.context_trained, 262_144);
        assert!(
            model.params_active_b < model.params_total_b / 5.0,
            "{model:?}"
        );
    }

    #[test]
    fn sliding_layers_are_read_as_llama_cpp_reads_them() {
        // Gemma 4 31B as its converter writes it: a flag per layer (every sixth global), 16 KV heads of 256 on the
        // sliding layers and 4 of 512 on the global ones: the catalog's own shape.
        let flags: Vec<bool> = (0..60).map(|i| i % 6 != 5).collect();
        let heads: Vec<u32> = flags.iter().map(|s| if *s { 16 } else { 4 }).collect();
        let kv = kv_of(
            &Writer::default()
                .string("general.architecture", "gemma4")
                .u32("gemma4.block_count", 60)
                .u32("gemma4.attention.head_count", 32)
                .u32s("gemma4.attention.head_count_kv", &heads)
                .u32("gemma4.attention.key_length", 512)
                .u32("gemma4.attention.value_length", 512)
                .u32("gemma4.attention.key_length_swa", 256)
                .u32("gemma4.attention.value_length_swa", 256)
                .u32("gemma4.attention.sliding_window", 1024)
                .bools("gemma4.attention.sliding_window_pattern", &flags)
                .tensor("x", &[10]),
        );
        let catalog = crate::plan::catalog::builtin().expect("catalog");
        let gemma = catalog.find("gemma4-31b").expect("gemma4-31b");
        assert_eq!(kv, gemma.kv);

        // Gemma 3 writes no pattern: llama.cpp's own (five sliding, one global) applies.
        let kv = kv_of(
            &Writer::default()
                .string("general.architecture", "gemma3")
                .u32("gemma3.block_count", 12)
                .u32("gemma3.attention.head_count", 8)
                .u32("gemma3.attention.head_count_kv", 4)
                .u32("gemma3.attention.key_length", 256)
                .u32("gemma3.attention.sliding_window", 1024)
                .tensor("x", &[10]),
        );
        assert_eq!(
            (kv.full_layers, kv.sliding_layers, kv.sliding_window),
            (2, 10, 1024)
        );
    }

    #[test]
    fn hybrid_sliding_and_latent_layouts_are_read() {
        // Nemotron-H style: a per-layer array where 0 is a Mamba layer.
        let kv = kv_of(
            &Writer::default()
                .string("general.architecture", "nemotron_h")
                .u32("nemotron_h.block_count", 6)
                .u32("nemotron_h.attention.head_count", 32)
                .u32s("nemotron_h.attention.head_count_kv", &[0, 2, 0, 0, 2, 0])
                .u32("nemotron_h.attention.key_length", 128)
                .u32("nemotron_h.ssm.inner_size", 4096)
                .u32("nemotron_h.ssm.state_size", 128)
                .tensor("x", &[10]),
        );
        assert_eq!((kv.full_layers, kv.kv_heads), (2, 2));
        assert_eq!(kv.state_bytes, 4 * 4096 * 128 * 4);

        // gpt-oss: half the layers slide.
        let kv = kv_of(
            &Writer::default()
                .string("general.architecture", "gpt-oss")
                .u32("gpt-oss.block_count", 24)
                .u32("gpt-oss.attention.head_count", 64)
                .u32("gpt-oss.attention.head_count_kv", 8)
                .u32("gpt-oss.attention.key_length", 64)
                .u32("gpt-oss.attention.sliding_window", 128)
                .tensor("x", &[10]),
        );
        assert_eq!(
            (kv.full_layers, kv.sliding_layers, kv.sliding_window),
            (12, 12, 128)
        );

        // Multi-head latent attention caches the latent.
        let kv = kv_of(
            &Writer::default()
                .string("general.architecture", "deepseek2")
                .u32("deepseek2.block_count", 47)
                .u32("deepseek2.attention.head_count", 20)
                .u32("deepseek2.attention.kv_lora_rank", 512)
                .u32("deepseek2.rope.dimension_count", 64)
                .tensor("x", &[10]),
        );
        assert_eq!(
            (kv.full_layers, kv.kv_heads, kv.key_length, kv.value_length),
            (47, 1, 576, 0)
        );
    }

    #[test]
    fn differences_name_each_field_that_disagrees() {
        let header = gguf::parse(
            &Writer::default()
                .string("general.architecture", "qwen3moe")
                .u32("qwen3moe.block_count", 48)
                .u32("qwen3moe.context_length", 262_144)
                .u32("qwen3moe.attention.head_count", 32)
                .u32("qwen3moe.attention.head_count_kv", 4)
                .u32("qwen3moe.attention.key_length", 128)
                .tensor("token_embd.weight", &[2048, 151_936])
                .bytes(),
        )
        .expect("a header");
        let from_file = model_from("x", &header, 1000, 0, true).expect("a model");
        let mut catalog = from_file.clone();
        assert!(differences(&catalog, &from_file).is_empty());
        catalog.kv.kv_heads = 8;
        catalog.size_bytes = 1001;
        catalog.params_total_b = from_file.params_total_b * 1.05;
        let found: Vec<&str> = differences(&catalog, &from_file)
            .iter()
            .map(|d| d.field)
            .collect();
        assert_eq!(
            found,
            ["kv.kv_heads", "size_bytes"],
            "5% off in parameters is within the rounding"
        );
        catalog.size_exact = false;
        catalog.params_active_b = from_file.params_active_b * 2.0;
        let found: Vec<&str> = differences(&catalog, &from_file)
            .iter()
            .map(|d| d.field)
            .collect();
        assert_eq!(found, ["kv.kv_heads", "params_active_b"]);
    }
}
