//! Reading streamed answers line by line: NDJSON (Ollama's pull and create) and server-sent events (Responses).

use reqwest::Response;

/// Splits a byte stream into lines without holding more than one partial line.
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
    ) -> Result<(), E> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (line, after) = rest.split_at(end);
            rest = &after[1..];
            if self.partial.is_empty() {
                each(String::from_utf8_lossy(line).trim_end_matches('\r'))?;
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                each(String::from_utf8_lossy(&whole).trim_end_matches('\r'))?;
            }
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

/// Reads a response to its end, line by line; a transport error mid-body becomes `dropped(error)`.
pub async fn each_line<E>(
    response: &mut Response,
    mut each: impl FnMut(&str) -> Result<(), E>,
    dropped: impl Fn(&reqwest::Error) -> E,
) -> Result<(), E> {
    let mut lines = Lines::default();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => lines.feed(&chunk, &mut each)?,
            Ok(None) => return lines.finish(&mut each),
            Err(err) => return Err(dropped(&err)),
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
}
