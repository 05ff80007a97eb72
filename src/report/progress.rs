//! Download progress: one bar over all layers on a terminal, else a plain line per phase and per quarter.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::size::human_bytes;

/// Starts the progress of a download: a bar when `bars`, else lines unless `quiet`.
#[must_use]
pub fn start(what: &str, bars: bool, quiet: bool) -> Download {
    let bar = bars.then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(20));
        bar.set_style(spinner_style());
        bar.set_message(format!("{what}: pulling manifest"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    Download {
        what: what.to_owned(),
        bar,
        lines: !bars && !quiet,
        layers: HashMap::new(),
        status: String::new(),
        reported_quarter: 0,
        sized: false,
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
    )
    .map_or_else(
        |_| ProgressStyle::default_bar(),
        |style| style.progress_chars("=> "),
    )
}

/// A download in progress: bytes summed over every layer, the phase as the message.
pub struct Download {
    what: String,
    bar: Option<ProgressBar>,
    lines: bool,
    /// Per layer digest: (total, completed).
    layers: HashMap<String, (u64, u64)>,
    status: String,
    reported_quarter: u64,
    sized: bool,
}

impl Download {
    /// One progress report from the runtime.
    pub fn update(
        &mut self,
        status: &str,
        digest: Option<&str>,
        total: Option<u64>,
        completed: Option<u64>,
    ) {
        let mut sizes_changed = false;
        if let (Some(digest), Some(total)) = (digest, total) {
            let entry = self.layers.entry(digest.to_owned()).or_insert((0, 0));
            sizes_changed = entry.0 != total;
            *entry = (total, completed.unwrap_or(entry.1).min(total));
        } else if let (Some(total), None) = (total, digest) {
            // One aggregate line for the whole model.
            let entry = self.layers.entry(String::new()).or_insert((0, 0));
            sizes_changed = entry.0 != total;
            *entry = (total, completed.unwrap_or(entry.1).min(total));
        }
        let phase = phase_of(status);
        if phase != self.status {
            phase.clone_into(&mut self.status);
            if let Some(bar) = &self.bar {
                bar.set_message(format!("{}: {phase}", self.what));
            } else if self.lines {
                super::stderr(&format!("{}: {phase}\n", self.what));
            }
        }
        let (total, done) = self
            .layers
            .values()
            .fold((0, 0), |(t, d), (lt, ld)| (t + lt, d + ld));
        if total == 0 {
            return;
        }
        if let Some(bar) = &self.bar {
            if sizes_changed {
                bar.set_length(total);
            }
            if !self.sized && phase == "downloading" {
                self.sized = true;
                bar.set_style(bytes_style());
                bar.set_message(self.what.clone());
                bar.disable_steady_tick();
            }
            bar.set_position(done);
        } else if self.lines && phase == "downloading" {
            let quarter = done * 4 / total;
            if quarter > self.reported_quarter {
                self.reported_quarter = quarter;
                super::stderr(&format!(
                    "{}: {}% ({} of {})\n",
                    self.what,
                    quarter * 25,
                    human_bytes(done),
                    human_bytes(total)
                ));
            }
        }
    }

    /// Removes the bar (success or failure alike).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The phase a status line belongs to: `pulling 06c1097efce0` lines are all "downloading".
fn phase_of(status: &str) -> &str {
    if status.is_empty() || (status.starts_with("pulling ") && status != "pulling manifest") {
        "downloading"
    } else {
        status
    }
}
