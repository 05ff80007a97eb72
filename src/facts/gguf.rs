//! A GGUF file's header, read for what the memory and speed estimates need, without trusting any count in it.
//!
//! Layout (ggml-org/llama.cpp `ggml/include/gguf.h`, `gguf-py/gguf/constants.py`): little-endian; magic `GGUF`, u32
//! version, u64 tensor count, u64 key/value count, the key/value pairs (a key is a u64 length and bytes; a value is
//! a u32 type and its data; an array is a u32 element type, a u64 count and the elements), then one entry per tensor
//! (name, u32 dimension count, u64 dimensions, u32 type, u64 offset). The reader works on the bytes it has: when they
//! end too early it says how many more it needs at least, so the caller can fetch a longer range. Arrays (the
//! tokenizer's 150k strings) are skipped without being stored; every count is checked against the bytes there are
//! and against limits no real model comes near.

use std::collections::BTreeMap;

use thiserror::Error;

/// Versions this reader knows.
const VERSIONS: [u32; 2] = [2, 3];
/// Limits no real file comes near; anything above is refused, never allocated.
const MAX_KV: u64 = 100_000;
const MAX_TENSORS: u64 = 1_000_000;
const MAX_KEY: u64 = 1 << 16;
const MAX_STRING: u64 = 1 << 26;
const MAX_DIMS: u32 = 8;
const MAX_LAYERS: u64 = 4_096;
/// The most array numbers kept in all (a model has a few per-layer arrays); further arrays are only counted, so
/// that a header of many small arrays cannot make the reader hold eight bytes for each of its bytes.
const MAX_KEPT_NUMBERS: u64 = 16 * MAX_LAYERS;

/// Why a header cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GgufError {
    /// The bytes end before the header does: at least this many are needed in all.
    #[error("the header is longer than the {have} bytes read (at least {need} are needed)")]
    NeedMore { have: usize, need: usize },
    #[error("this is not a GGUF file (it does not start with `GGUF`)")]
    NotGguf,
    #[error("GGUF version {0} is not one codex-local reads (2 or 3)")]
    Version(u32),
    #[error("`{field}` = {value} is not a value any model has")]
    Absurd { field: String, value: u64 },
    #[error("value type {0} is not a GGUF type")]
    BadType(u32),
    #[error("`{0}` is missing from the header")]
    Missing(String),
    #[error("`{field}` = {value} is not a whole number of the kind a model has")]
    Invalid { field: String, value: String },
}

/// A metadata value, kept only for numbers and short strings; arrays keep their numbers (per-layer counts) when
/// short, and are otherwise only counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Numbers(Vec<u64>),
    /// An array of something else, or too long to keep: its element count.
    Array(u64),
}

/// What the header says, as the estimates use it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    pub version: u32,
    pub architecture: String,
    /// Every key with a number, short string or per-layer array.
    pub metadata: BTreeMap<String, Value>,
    /// Parameters in all, and those of the routed experts (tensors named `*_exps`), from the tensor entries.
    pub params_total: u64,
    pub params_experts: u64,
    /// How many bytes the header took (the tensor data starts after it, aligned).
    pub length: usize,
    /// Whether the file's chat template (`tokenizer.chat_template`) offers tools; `None` without one.
    pub template_tools: Option<bool>,
}

impl Header {
    /// A number under `<architecture>.<key>`.
    #[must_use]
    pub fn number(&self, key: &str) -> Option<u64> {
        match self.metadata.get(&format!("{}.{key}", self.architecture))? {
            Value::Uint(v) => Some(*v),
            Value::Int(v) => u64::try_from(*v).ok(),
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "whole numbers stored as floats"
            )]
            Value::Float(v) if *v >= 0.0 => Some(*v as u64),
            _ => None,
        }
    }

    /// A number, or a per-layer array of numbers, under `<architecture>.<key>`: one value per layer.
    #[must_use]
    pub fn per_layer(&self, key: &str, layers: u64) -> Option<Vec<u64>> {
        match self.metadata.get(&format!("{}.{key}", self.architecture))? {
            Value::Numbers(values) => Some(values.clone()),
            Value::Uint(_) | Value::Int(_) | Value::Float(_) => {
                let one = self.number(key)?;
                Some(vec![one; usize::try_from(layers).ok()?])
            }
            _ => None,
        }
    }

    /// A string under a full key.
    #[must_use]
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.metadata.get(key)? {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// A cursor over the bytes read so far.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Array numbers kept so far, up to [`MAX_KEPT_NUMBERS`].
    kept: u64,
}

impl Reader<'_> {
    fn take(&mut self, n: u64) -> Result<&[u8], GgufError> {
        let n = usize::try_from(n).map_err(|_| self.more(usize::MAX))?;
        let end = self
            .at
            .checked_add(n)
            .ok_or_else(|| self.more(usize::MAX))?;
        if end > self.bytes.len() {
            return Err(self.more(end));
        }
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn more(&self, need: usize) -> GgufError {
        GgufError::NeedMore {
            have: self.bytes.len(),
            need,
        }
    }

    fn u8(&mut self) -> Result<u8, GgufError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        let bytes = self.take(8)?;
        let mut array = [0_u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    fn string(&mut self, limit: u64, field: &str) -> Result<String, GgufError> {
        let length = self.u64()?;
        if length > limit {
            return Err(absurd(field, length));
        }
        Ok(String::from_utf8_lossy(self.take(length)?).into_owned())
    }

    /// Skips a string without keeping it.
    fn skip_string(&mut self) -> Result<(), GgufError> {
        let length = self.u64()?;
        if length > MAX_STRING {
            return Err(absurd("a string's length", length));
        }
        self.take(length).map(|_| ())
    }
}

fn absurd(field: &str, value: u64) -> GgufError {
    GgufError::Absurd {
        field: field.to_owned(),
        value,
    }
}

/// The size in bytes of a scalar of GGUF type `kind`; `None` for strings and arrays.
fn scalar_size(kind: u32) -> Result<Option<u64>, GgufError> {
    Ok(match kind {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        8 | 9 => None,
        other => return Err(GgufError::BadType(other)),
    })
}

/// Reads one scalar of type `kind`.
fn scalar(reader: &mut Reader<'_>, kind: u32) -> Result<Value, GgufError> {
    Ok(match kind {
        0 => Value::Uint(u64::from(reader.u8()?)),
        1 => Value::Int(i64::from(reader.u8()?.cast_signed())),
        2 => {
            let b = reader.take(2)?;
            Value::Uint(u64::from(u16::from_le_bytes([b[0], b[1]])))
        }
        3 => {
            let b = reader.take(2)?;
            Value::Int(i64::from(i16::from_le_bytes([b[0], b[1]])))
        }
        4 => Value::Uint(u64::from(reader.u32()?)),
        5 => Value::Int(i64::from(reader.u32()?.cast_signed())),
        6 => Value::Float(f64::from(f32::from_bits(reader.u32()?))),
        7 => Value::Bool(reader.u8()? != 0),
        10 => Value::Uint(reader.u64()?),
        11 => Value::Int(reader.u64()?.cast_signed()),
        12 => Value::Float(f64::from_bits(reader.u64()?)),
        other => return Err(GgufError::BadType(other)),
    })
}

/// Reads a value of type `kind` (a string, an array or a scalar).
fn value(reader: &mut Reader<'_>, kind: u32, key: &str) -> Result<Value, GgufError> {
    match kind {
        8 => {
            let length = reader.u64()?;
            if length > MAX_STRING {
                return Err(absurd(key, length));
            }
            let bytes = reader.take(length)?;
            // Only short strings are kept (names, not chat templates), without control characters: they may be
            // shown.
            Ok(Value::Text(crate::text::sanitize(
                &String::from_utf8_lossy(&bytes[..bytes.len().min(256)]),
            )))
        }
        9 => array(reader, key),
        kind => scalar(reader, kind),
    }
}

/// Reads an array: numbers kept when there are few (per-layer values), anything else skipped.
fn array(reader: &mut Reader<'_>, key: &str) -> Result<Value, GgufError> {
    let kind = reader.u32()?;
    let count = reader.u64()?;
    if count > MAX_STRING {
        return Err(absurd(key, count));
    }
    match scalar_size(kind)? {
        Some(size) => {
            let bytes = count.checked_mul(size).ok_or_else(|| absurd(key, count))?;
            if count <= MAX_LAYERS
                && kind != 6
                && kind != 12
                && reader.kept + count <= MAX_KEPT_NUMBERS
            {
                reader.kept += count;
                let mut numbers = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
                for _ in 0..count {
                    numbers.push(match scalar(reader, kind)? {
                        Value::Uint(v) => v,
                        Value::Int(v) => u64::try_from(v).unwrap_or(0),
                        Value::Bool(v) => u64::from(v),
                        _ => 0,
                    });
                }
                Ok(Value::Numbers(numbers))
            } else {
                reader.take(bytes)?;
                Ok(Value::Array(count))
            }
        }
        None if kind == 8 => {
            for _ in 0..count {
                reader.skip_string()?;
            }
            Ok(Value::Array(count))
        }
        // Arrays of arrays do not occur in model files.
        None => Err(GgufError::BadType(kind)),
    }
}

/// Reads the header from the bytes at the start of a GGUF file.
pub fn parse(bytes: &[u8]) -> Result<Header, GgufError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        kept: 0,
    };
    if reader.take(4)? != b"GGUF" {
        return Err(GgufError::NotGguf);
    }
    let version = reader.u32()?;
    if !VERSIONS.contains(&version) {
        return Err(GgufError::Version(version));
    }
    let tensors = reader.u64()?;
    if tensors > MAX_TENSORS {
        return Err(absurd("tensor count", tensors));
    }
    let pairs = reader.u64()?;
    if pairs > MAX_KV {
        return Err(absurd("metadata count", pairs));
    }
    let mut metadata = BTreeMap::new();
    let mut template_tools = None;
    for _ in 0..pairs {
        let key = reader.string(MAX_KEY, "a key's length")?;
        let kind = reader.u32()?;
        if key == "tokenizer.chat_template" && kind == 8 {
            // Read whole (it can be long), only to see whether it offers tools.
            let length = reader.u64()?;
            if length > MAX_STRING {
                return Err(absurd(&key, length));
            }
            let template = reader.take(length)?;
            template_tools = Some(template.windows(5).any(|w| w == b"tools"));
            continue;
        }
        let value = value(&mut reader, kind, &key)?;
        metadata.insert(key, value);
    }
    let (params_total, params_experts) = tensor_params(&mut reader, tensors)?;
    let architecture = match metadata.get("general.architecture") {
        Some(Value::Text(name)) => name.clone(),
        _ => return Err(GgufError::Missing("general.architecture".to_owned())),
    };
    let header = Header {
        version,
        architecture,
        metadata,
        params_total,
        params_experts,
        length: reader.at,
        template_tools,
    };
    check(&header)?;
    Ok(header)
}

/// Counts the parameters of the tensor entries: all of them, and the routed experts'.
fn tensor_params(reader: &mut Reader<'_>, tensors: u64) -> Result<(u64, u64), GgufError> {
    let mut total = 0_u64;
    let mut experts = 0_u64;
    for _ in 0..tensors {
        let name = reader.string(MAX_KEY, "a tensor name's length")?;
        let dims = reader.u32()?;
        if dims > MAX_DIMS {
            return Err(absurd(&format!("{name}: dimensions"), u64::from(dims)));
        }
        let mut elements = 1_u64;
        for _ in 0..dims {
            let size = reader.u64()?;
            elements = elements
                .checked_mul(size)
                .ok_or_else(|| absurd(&format!("{name}: size"), size))?;
        }
        reader.u32()?;
        reader.u64()?;
        total = total.saturating_add(elements);
        if name.contains("_exps") {
            experts = experts.saturating_add(elements);
        }
    }
    Ok((total, experts))
}

/// The numbers the estimate uses, within what any model has.
/// A scalar read as a whole number: `None` when absent (or an array, read per layer); an error for a negative,
/// fractional or infinite number, or something else.
fn whole(value: Option<&Value>, field: &str) -> Result<Option<u64>, GgufError> {
    let invalid = |value: String| GgufError::Invalid {
        field: field.to_owned(),
        value,
    };
    match value {
        None | Some(Value::Numbers(_)) => Ok(None),
        Some(Value::Uint(v)) => Ok(Some(*v)),
        Some(Value::Int(v)) => u64::try_from(*v)
            .map(Some)
            .map_err(|_| invalid(v.to_string())),
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a whole, finite, non-negative float below 2^53"
        )]
        Some(Value::Float(v)) if v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v < 9.0e15 => {
            Ok(Some(*v as u64))
        }
        Some(other) => Err(invalid(format!("{other:?}"))),
    }
}

fn check(header: &Header) -> Result<(), GgufError> {
    let arch = &header.architecture;
    let layers = header
        .number("block_count")
        .ok_or_else(|| GgufError::Missing(format!("{arch}.block_count")))?;
    if layers == 0 || layers > MAX_LAYERS {
        return Err(absurd(&format!("{arch}.block_count"), layers));
    }
    // Every number the estimate reads: a whole number within what any model has (a negative, fractional or
    // infinite one is refused, never read as another).
    for (key, least, most) in [
        ("context_length", 1, 1 << 24),
        ("attention.head_count", 0, 4_096),
        ("attention.head_count_kv", 0, 4_096),
        ("attention.key_length", 1, 65_536),
        ("attention.value_length", 0, 65_536),
        ("attention.key_length_swa", 1, 65_536),
        ("attention.value_length_swa", 0, 65_536),
        ("embedding_length", 1, 1 << 20),
        ("expert_count", 0, 100_000),
        ("expert_used_count", 0, 100_000),
        ("attention.sliding_window", 0, 1 << 24),
        ("attention.sliding_window_pattern", 0, MAX_LAYERS),
        ("full_attention_interval", 0, MAX_LAYERS),
        ("attention.kv_lora_rank", 1, 65_536),
        ("rope.dimension_count", 0, 65_536),
        ("ssm.inner_size", 0, 1 << 20),
        ("ssm.state_size", 0, 1 << 16),
    ] {
        let field = format!("{arch}.{key}");
        let Some(value) = whole(header.metadata.get(&field), &field)? else {
            continue;
        };
        if value < least || value > most {
            return Err(absurd(&field, value));
        }
    }
    if let (Some(count), Some(used)) = (
        header.number("expert_count"),
        header.number("expert_used_count"),
    ) && used > count
    {
        return Err(absurd(&format!("{arch}.expert_used_count"), used));
    }
    // A per-layer array has one value for each layer, each within what any model has.
    for key in ["attention.head_count", "attention.head_count_kv"] {
        let field = format!("{arch}.{key}");
        if let Some(Value::Numbers(values)) = header.metadata.get(&field) {
            if values.len() as u64 != layers {
                return Err(absurd(
                    &format!("{field} (values for {layers} layers)"),
                    values.len() as u64,
                ));
            }
            if let Some(&value) = values.iter().find(|v| **v > 4_096) {
                return Err(absurd(&field, value));
            }
        }
    }
    Ok(())
}

/// The tests' GGUF writer, shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/common/gguf.rs"]
pub mod test_writer;

#[cfg(test)]
pub mod tests {
    pub use super::test_writer::Gguf as Writer;
    use super::*;

    fn model() -> Writer {
        Writer::default()
            .string("general.architecture", "llama")
            .strings("tokenizer.ggml.tokens", 1000)
            .u32("llama.block_count", 4)
            .u32("llama.context_length", 32_768)
            .u32("llama.attention.head_count", 8)
            .u32s("llama.attention.head_count_kv", &[2, 0, 2, 2])
            .u32("llama.attention.key_length", 128)
            .tensor("blk.0.attn_q.weight", &[1024, 1024])
            .tensor("blk.0.ffn_up_exps.weight", &[1024, 512, 8])
    }

    #[test]
    fn reads_what_the_estimate_needs_and_skips_the_vocabulary() {
        let bytes = model().bytes();
        let header = parse(&bytes).expect("a header");
        assert_eq!(header.architecture, "llama");
        assert_eq!(header.number("block_count"), Some(4));
        assert_eq!(
            header.per_layer("attention.head_count_kv", 4),
            Some(vec![2, 0, 2, 2])
        );
        assert_eq!(
            header.per_layer("attention.head_count", 4),
            Some(vec![8; 4])
        );
        assert_eq!(header.params_total, 1024 * 1024 + 1024 * 512 * 8);
        assert_eq!(header.params_experts, 1024 * 512 * 8);
        assert_eq!(header.length, bytes.len());
        assert!(matches!(
            header.metadata.get("tokenizer.ggml.tokens"),
            Some(Value::Array(1000))
        ));
    }

    #[test]
    fn many_small_arrays_are_counted_not_kept() {
        let mut writer = model();
        for n in 0..40 {
            writer = writer.u32s(&format!("junk.{n}"), &[7; 4096]);
        }
        let header = parse(&writer.bytes()).expect("a header");
        let kept: usize = header
            .metadata
            .values()
            .map(|value| match value {
                Value::Numbers(numbers) => numbers.len(),
                _ => 0,
            })
            .sum();
        // The model's own per-layer array came first and is kept.
        assert_eq!(kept as u64, 4 + 15 * 4096, "up to {MAX_KEPT_NUMBERS}");
        assert!(matches!(
            header.metadata.get("llama.attention.head_count_kv"),
            Some(Value::Numbers(_))
        ));
        assert!(matches!(
            header.metadata.get("junk.39"),
            Some(Value::Array(4096))
        ));
    }

    #[test]
    fn a_short_read_says_how_much_more_it_needs() {
        let bytes = model().bytes();
        for cut in [3, 20, 200, bytes.len() - 1] {
            match parse(&bytes[..cut]) {
                Err(GgufError::NeedMore { have, need }) => {
                    assert_eq!(have, cut);
                    assert!(need > cut && need <= bytes.len(), "{cut}: {need}");
                }
                other => panic!("{cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_field_named_and_nothing_allocated() {
        assert_eq!(parse(b"PK\x03\x04 not a gguf"), Err(GgufError::NotGguf));
        let mut old = model().bytes();
        old[4] = 1;
        assert_eq!(parse(&old), Err(GgufError::Version(1)));
        let huge = Writer::default()
            .string("general.architecture", "llama")
            .u32("llama.block_count", 1_000_000_000)
            .bytes();
        assert!(
            matches!(parse(&huge), Err(GgufError::Absurd { field, .. }) if field == "llama.block_count")
        );
        // A metadata count of 2^60 is refused before anything is read or allocated for it.
        let mut lying = model().bytes();
        lying[16..24].copy_from_slice(&(1_u64 << 60).to_le_bytes());
        assert!(matches!(parse(&lying), Err(GgufError::Absurd { .. })));
        // A string that claims 2^40 bytes.
        let mut long = b"GGUF".to_vec();
        long.extend_from_slice(&3_u32.to_le_bytes());
        long.extend_from_slice(&0_u64.to_le_bytes());
        long.extend_from_slice(&1_u64.to_le_bytes());
        long.extend_from_slice(&(1_u64 << 40).to_le_bytes());
        assert!(matches!(parse(&long), Err(GgufError::Absurd { .. })));
        let unnamed = Writer::default().u32("llama.block_count", 4).bytes();
        assert_eq!(
            parse(&unnamed),
            Err(GgufError::Missing("general.architecture".to_owned()))
        );
    }

    #[test]
    fn every_number_the_estimate_reads_is_whole_and_within_what_a_model_has() {
        let base = || {
            Writer::default()
                .string("general.architecture", "llama")
                .u32("llama.block_count", 4)
        };
        let field_of = |bytes: Vec<u8>| match parse(&bytes) {
            Err(GgufError::Absurd { field, .. } | GgufError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        // A negative count (i32), a NaN and an infinity (f32), a fraction (f64).
        let negative = base().scalar("llama.attention.head_count_kv", 5, &(-4_i32).to_le_bytes());
        assert_eq!(field_of(negative.bytes()), "llama.attention.head_count_kv");
        let nan = base().scalar("llama.ssm.inner_size", 6, &f32::NAN.to_le_bytes());
        assert_eq!(field_of(nan.bytes()), "llama.ssm.inner_size");
        let inf = base().scalar("llama.ssm.state_size", 6, &f32::INFINITY.to_le_bytes());
        assert_eq!(field_of(inf.bytes()), "llama.ssm.state_size");
        let half = base().scalar("llama.context_length", 12, &2.5_f64.to_le_bytes());
        assert_eq!(field_of(half.bytes()), "llama.context_length");
        // Sizes that would wrap the arithmetic round, a context of 0, more experts used than there are.
        assert_eq!(
            field_of(base().u32("llama.ssm.inner_size", u32::MAX).bytes()),
            "llama.ssm.inner_size"
        );
        let rank = base().scalar("llama.attention.kv_lora_rank", 10, &u64::MAX.to_le_bytes());
        assert_eq!(field_of(rank.bytes()), "llama.attention.kv_lora_rank");
        assert_eq!(
            field_of(base().u32("llama.context_length", 0).bytes()),
            "llama.context_length"
        );
        let experts = base()
            .u32("llama.expert_count", 8)
            .u32("llama.expert_used_count", 9);
        assert_eq!(field_of(experts.bytes()), "llama.expert_used_count");
        // A per-layer array for 3 of 4 layers.
        let short = base().u32s("llama.attention.head_count_kv", &[8, 8, 8]);
        assert!(field_of(short.bytes()).starts_with("llama.attention.head_count_kv"));
    }
}
