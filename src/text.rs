//! Text for people: server text made safe to print, padding, and paths shown under `~`.

/// Removes control characters from text that came from a server, so it cannot move the cursor or recolour.
#[must_use]
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            // A server's line break must not start a line of ours.
            '\n' | '\r' => ' ',
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '?',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

/// Text for a terminal whatever it holds: line breaks and tabs stay (codex-local's own messages have them), every
/// other control character and direction mark becomes `?`, so that a name read from a file or a server cannot
/// retitle, clear or recolour the terminal.
#[must_use]
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || (c.is_control() && c != '\n' && c != '\t')
    };
    if text.contains(bad) {
        text.chars()
            .map(|c| if bad(c) { '?' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Shows a path as `~/…` when it lies under the user's home.
#[must_use]
pub fn display_path(path: &std::path::Path, home: Option<&std::path::Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) if !rest.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Pads `text` on the right to `width` characters.
#[must_use]
pub fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len >= width {
        text.to_owned()
    } else {
        format!("{text}{}", " ".repeat(width - len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_control_characters_from_server_text() {
        assert_eq!(sanitize("ok\x1b[31mred"), "ok?[31mred");
        assert_eq!(sanitize("bad\r\nfake: ok\u{202e}"), "bad  fake: ok?");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(
            printable("a\x1b]0;PWNED\x07\r\nb\tc\u{202e}"),
            "a?]0;PWNED??\nb\tc?"
        );
    }
}
