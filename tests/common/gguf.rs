//! A GGUF header writer for tests, included by the header reader's unit tests (`src/facts/gguf.rs`) and by the
//! integration tests' fakes, so that both write headers the same way.

#![allow(
    dead_code,
    clippy::cast_possible_truncation,
    reason = "each test binary uses a different part of the writer; counts in tests are small"
)]

/// A GGUF header written as llama.cpp writes one (version 3, little-endian), for tests: the unit tests of the
/// header reader and the fake registry share it.
#[derive(Default)]
pub struct Gguf {
    pairs: Vec<Vec<u8>>,
    tensors: Vec<Vec<u8>>,
}

fn text(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    out.extend_from_slice(value.as_bytes());
}

impl Gguf {
    pub fn string(mut self, key: &str, value: &str) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&8_u32.to_le_bytes());
        text(&mut pair, value);
        self.pairs.push(pair);
        self
    }

    pub fn u32(mut self, key: &str, value: u32) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&4_u32.to_le_bytes());
        pair.extend_from_slice(&value.to_le_bytes());
        self.pairs.push(pair);
        self
    }

    /// A scalar of GGUF type `kind` with these little-endian bytes.
    pub fn scalar(mut self, key: &str, kind: u32, bytes: &[u8]) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&kind.to_le_bytes());
        pair.extend_from_slice(bytes);
        self.pairs.push(pair);
        self
    }

    pub fn bools(mut self, key: &str, values: &[bool]) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&9_u32.to_le_bytes());
        pair.extend_from_slice(&7_u32.to_le_bytes());
        pair.extend_from_slice(&(values.len() as u64).to_le_bytes());
        pair.extend(values.iter().map(|v| u8::from(*v)));
        self.pairs.push(pair);
        self
    }

    pub fn u32s(mut self, key: &str, values: &[u32]) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&9_u32.to_le_bytes());
        pair.extend_from_slice(&4_u32.to_le_bytes());
        pair.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for value in values {
            pair.extend_from_slice(&value.to_le_bytes());
        }
        self.pairs.push(pair);
        self
    }

    pub fn strings(mut self, key: &str, count: usize) -> Self {
        let mut pair = Vec::new();
        text(&mut pair, key);
        pair.extend_from_slice(&9_u32.to_le_bytes());
        pair.extend_from_slice(&8_u32.to_le_bytes());
        pair.extend_from_slice(&(count as u64).to_le_bytes());
        for i in 0..count {
            text(&mut pair, &format!("token-{i:06}"));
        }
        self.pairs.push(pair);
        self
    }

    /// A vocabulary of `count` strings, as the tokenizer's array.
    pub fn vocabulary(self, count: usize) -> Self {
        self.strings("tokenizer.ggml.tokens", count)
    }

    pub fn tensor(mut self, name: &str, dims: &[u64]) -> Self {
        let mut entry = Vec::new();
        text(&mut entry, name);
        entry.extend_from_slice(
            &u32::try_from(dims.len())
                .expect("a few dimensions")
                .to_le_bytes(),
        );
        for dim in dims {
            entry.extend_from_slice(&dim.to_le_bytes());
        }
        entry.extend_from_slice(&12_u32.to_le_bytes());
        entry.extend_from_slice(&0_u64.to_le_bytes());
        self.tensors.push(entry);
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&3_u32.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.pairs.len() as u64).to_le_bytes());
        for pair in &self.pairs {
            out.extend_from_slice(pair);
        }
        for tensor in &self.tensors {
            out.extend_from_slice(tensor);
        }
        out
    }
}
