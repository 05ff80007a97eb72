//! Text styles for a terminal: plain text when colour is off.

/// Text styles for a terminal; plain text when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Styles that colour only when `enabled`.
    #[must_use]
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    #[must_use]
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    #[must_use]
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    #[must_use]
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }

    #[must_use]
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    #[must_use]
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_when_enabled() {
        assert_eq!(Style::new(false).bad("x"), "x");
        assert_eq!(Style::new(true).bad("x"), "\x1b[31mx\x1b[0m");
    }
}
