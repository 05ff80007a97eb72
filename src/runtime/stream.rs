//! Reading streamed answers line by line: NDJSON (Ollama's pull and create) and server-sent events (Responses).
//! A line longer than [`MAX_LINE`] stops the read, and a stream can be given a deadline for progress.

use std::time::Duration;

use reqwest::Response;
use tokio::time::Instant;

/// The longest line (an NDJSON object, an SSE event line) a runtime may send.
pub const MAX_LINE: usize = 1 << 20;

/// Why a stream stopped before its end.
#[derive(Debug)]
pub enum Stop<E> {
    /// What the caller's handler returned.
    Handler(E),
    /// A line was longer than [`MAX_LINE`].
    LineTooLong,
    /// No progress within the deadline.
    Stalled(Duration),
    /// The transport failed.
    Transport(reqwest::Error),
}

/// Splits a byte stream into lines without holding more than one partial line, and never more than [`MAX_LINE`].
#[derive(Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Feeds a chunk and calls `each` for every complete line (without its newline).
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (line, after) = rest.split_at(end);
            rest = &after[1..];
            if self.partial.len() + line.len() > MAX_LINE {
                return Err(Stop::LineTooLong);
            }
            if self.partial.is_empty() {
                each(String::from_utf8_lossy(line).trim_end_matches('\r'))
                    .map_err(Stop::Handler)?;
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                each(String::from_utf8_lossy(&whole).trim_end_matches('\r'))
                    .map_err(Stop::Handler)?;
            }
        }
        if self.partial.len() + rest.len() > MAX_LINE {
            return Err(Stop::LineTooLong);
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// Calls `each` for a last line that had no newline.
    pub fn finish<E>(&mut self, mut each: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        if self.partial.is_empty() {
            return Ok(());
        }
        let whole = std::mem::take(&mut self.partial);
        each(String::from_utf8_lossy(&whole).trim_end_matches('\r'))
    }
}

/// Reads a response to its end, line by line. `each` says whether a line was progress; with a `stall` deadline,
/// the read stops when no line was progress for that long (repeated lines, blank lines and silence alike).
pub async fn each_line<E>(
    response: &mut Response,
    stall: Option<Duration>,
    mut each: impl FnMut(&str) -> Result<bool, E>,
) -> Result<(), Stop<E>> {
    let mut lines = Lines::default();
    let mut last_progress = Instant::now();
    loop {
        let chunk = match stall {
            Some(stall) => {
                match tokio::time::timeout_at(last_progress + stall, response.chunk()).await {
                    Ok(chunk) => chunk,
                    Err(_) => return Err(Stop::Stalled(stall)),
                }
            }
            None => response.chunk().await,
        };
        match chunk {
            Ok(Some(chunk)) => {
                let mut progressed = false;
                lines.feed(&chunk, |line| {
                    progressed |= each(line)?;
                    Ok(())
                })?;
                if progressed {
                    last_progress = Instant::now();
                }
            }
            Ok(None) => {
                return lines
                    .finish(|line| each(line).map(|_| ()))
                    .map_err(Stop::Handler);
            }
            Err(err) => return Err(Stop::Transport(err)),
        }
        if let Some(stall) = stall
            && last_progress.elapsed() >= stall
        {
            return Err(Stop::Stalled(stall));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_lines_split_across_chunks() {
        let mut lines = Lines::default();
        let mut seen = Vec::new();
        for chunk in [&b"{\"a\":1}\n{\"b\""[..], b":2}\r\n", b"\n{\"c\":3}"] {
            lines
                .feed::<()>(chunk, |line| {
                    seen.push(line.to_owned());
                    Ok(())
                })
                .expect("no error");
        }
        lines
            .finish::<()>(|line| {
                seen.push(line.to_owned());
                Ok(())
            })
            .expect("no error");
        assert_eq!(seen, ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"]);
    }

    #[test]
    fn a_line_without_end_stops_at_the_limit() {
        let mut lines = Lines::default();
        let chunk = vec![b'x'; 64 << 10];
        let mut fed = 0;
        let stopped = loop {
            match lines.feed::<()>(&chunk, |_| Ok(())) {
                Ok(()) => fed += chunk.len(),
                Err(stop) => break stop,
            }
            assert!(fed <= MAX_LINE, "kept more than the limit");
        };
        assert!(matches!(stopped, Stop::LineTooLong));
    }
}
