//! Byte sizes: parsing what users type (`32GiB`, `16G`, `64000MB`) and printing sizes for people.

use thiserror::Error;

const KIB: f64 = 1024.0;

/// A size the user typed that could not be read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SizeError {
    #[error("`{0}` is not a size")]
    NotASize(String),
    #[error("`{0}` has no unit")]
    NoUnit(String),
    #[error("`{input}` has an unknown unit `{unit}`")]
    UnknownUnit { input: String, unit: String },
}

impl SizeError {
    /// The next thing to try.
    #[must_use]
    #[expect(
        clippy::unused_self,
        reason = "every error type answers `hint()` the same way"
    )]
    pub fn hint(&self) -> &'static str {
        "write a number and a unit, e.g. `32GiB`, `16G` or `64000MB` (G and GiB mean 2^30 bytes, GB means 10^9)"
    }
}

/// Parses a size such as `32GiB`, `16G`, `1.5T` or `64000MB`.
///
/// Binary units (`K`, `M`, `G`, `T` with or without `iB`) are powers of 1024; decimal units (`KB`, `MB`, `GB`,
/// `TB`) are powers of 1000; `B` is bytes. Case does not matter.
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let text = input.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| SizeError::NotASize(input.to_owned()))?;
    let unit = unit.trim();
    if unit.is_empty() {
        return Err(SizeError::NoUnit(input.to_owned()));
    }
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "k" | "kib" => KIB,
        "m" | "mib" => KIB * KIB,
        "g" | "gib" => KIB * KIB * KIB,
        "t" | "tib" => KIB * KIB * KIB * KIB,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => {
            return Err(SizeError::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            });
        }
    };
    let bytes = (number * multiplier).round();
    if !bytes.is_finite() || bytes < 0.0 || bytes > 2f64.powi(63) {
        return Err(SizeError::NotASize(input.to_owned()));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked above to be a finite, non-negative value below 2^63"
    )]
    Ok(bytes as u64)
}

/// Formats bytes for people, in binary units with one decimal: `17.3 GiB`, `512.0 MiB`, `900 B`.
#[must_use]
pub fn human_bytes(bytes: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a displayed size needs no more than 3 digits"
    )]
    let mut value = bytes as f64;
    if value < KIB {
        return format!("{bytes} B");
    }
    let mut unit = "B";
    for next in ["KiB", "MiB", "GiB", "TiB"] {
        if value < KIB {
            break;
        }
        value /= KIB;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_of_the_contract() {
        let gib = 1u64 << 30;
        let cases: &[(&str, u64)] = &[
            ("32GiB", 32 * gib),
            ("16G", 16 * gib),
            ("16g", 16 * gib),
            ("64000MB", 64_000_000_000),
            ("24 GiB", 24 * gib),
            ("1.5T", 3 * (1u64 << 39)),
            ("512M", 512 << 20),
            ("8GB", 8_000_000_000),
            ("100B", 100),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_size(input), Ok(*expected), "{input}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        assert_eq!(parse_size("32"), Err(SizeError::NoUnit("32".into())));
        assert_eq!(parse_size("GiB"), Err(SizeError::NotASize("GiB".into())));
        assert_eq!(
            parse_size("3 parsecs"),
            Err(SizeError::UnknownUnit {
                input: "3 parsecs".into(),
                unit: "parsecs".into()
            })
        );
        assert!(parse_size("1..2G").is_err());
    }

    #[test]
    fn formats_sizes_for_people() {
        assert_eq!(human_bytes(900), "900 B");
        assert_eq!(human_bytes(18_556_700_761), "17.3 GiB");
        assert_eq!(human_bytes(512 << 20), "512.0 MiB");
        assert_eq!(human_bytes(24 << 30), "24.0 GiB");
    }
}
