//! The last speed measured for each model (`<codex home>/codex-local/measured.json`), written by init and verify
//! after a verification request, read by `status`. A state file of codex-local's own, private, written atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::edit::ConfigError;
use super::state;
use crate::runtime::Measured;

/// How many models' measurements are kept.
const KEEP: usize = 20;

/// One measurement, with the estimate made before the pull when there was one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub runtime: String,
    pub url: String,
    /// The name Codex uses.
    pub model: String,
    /// When, in UTC (`20261202T051500Z`).
    pub at: String,
    pub ttft_ms: Option<u64>,
    pub decode_tps: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub estimated_decode_tps: Option<f64>,
    pub estimated_prefill_tps: Option<f64>,
}

impl Measurement {
    /// A measurement now.
    #[must_use]
    pub fn now(runtime: &str, url: &str, model: &str, measured: &Measured) -> Self {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            runtime: runtime.to_owned(),
            url: url.to_owned(),
            model: model.to_owned(),
            at: super::edit::utc_stamp(seconds),
            ttft_ms: measured.ttft_ms,
            decode_tps: measured.decode_tps.map(round1),
            prefill_tps: measured.prefill_tps.map(round1),
            estimated_decode_tps: None,
            estimated_prefill_tps: None,
        }
    }

    /// `measured 38 tokens/s written (estimated 42), first token after 850 ms`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tps) = self.decode_tps {
            let estimate = self
                .estimated_decode_tps
                .map_or_else(String::new, |e| format!(" (estimated {e})"));
            parts.push(format!("{tps} tokens/s written{estimate}"));
        }
        if let Some(tps) = self.prefill_tps {
            parts.push(format!("{tps} read"));
        }
        if let Some(ms) = self.ttft_ms {
            parts.push(format!("first token after {ms} ms"));
        }
        if parts.is_empty() {
            "the stream was too short to measure".to_owned()
        } else {
            format!("measured {}", parts.join(", "))
        }
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Every model's last measurement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub measurements: Vec<Measurement>,
}

/// `<codex home>/codex-local/measured.json`.
#[must_use]
pub fn path(home: &Path) -> PathBuf {
    home.join("codex-local").join("measured.json")
}

/// The measurements kept; none when the file is missing or cannot be read.
#[must_use]
pub fn load(home: &Path) -> Measurements {
    state::load(&path(home)).unwrap_or_default()
}

/// The last measurement of `model`.
#[must_use]
pub fn last_of(home: &Path, model: &str) -> Option<Measurement> {
    load(home)
        .measurements
        .into_iter()
        .rev()
        .find(|m| m.model == model)
}

/// Keeps `measurement` as the model's last, with the earlier estimate when this one has none.
pub fn record(home: &Path, mut measurement: Measurement) -> Result<(), ConfigError> {
    let mut all = load(home);
    let same = |m: &Measurement| {
        m.model == measurement.model && m.runtime == measurement.runtime && m.url == measurement.url
    };
    if measurement.estimated_decode_tps.is_none()
        && let Some(earlier) = all.measurements.iter().rev().find(|m| same(m))
    {
        measurement.estimated_decode_tps = earlier.estimated_decode_tps;
        measurement.estimated_prefill_tps = earlier.estimated_prefill_tps;
    }
    all.measurements.retain(|m| !same(m));
    all.measurements.push(measurement);
    let excess = all.measurements.len().saturating_sub(KEEP);
    all.measurements.drain(..excess);
    state::save(&path(home), &all)
}
