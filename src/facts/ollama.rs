//! What is known about Ollama without asking it: the context it gives a model by default, which version has which
//! endpoint, and how it completes a model's name. The plan and the client both use these rules.

/// The first Ollama with `/v1/responses`, which Codex speaks.
pub const RESPONSES_API: (u64, u64, u64) = (0, 13, 4);

/// The context Ollama gives a model when nothing sets `num_ctx`: 4096 below 23 GiB of VRAM, 32768 up to 47 GiB,
/// 262144 above (0.15.5 and later); older servers use 2048 (before 0.6) or 4096. Capped at the trained maximum.
#[must_use]
pub fn default_context(version: &str, total_vram: u64, trained: Option<u64>) -> u64 {
    const GIB: u64 = 1 << 30;
    let default = if version_at_least(version, (0, 15, 5)) {
        if total_vram >= 47 * GIB {
            262_144
        } else if total_vram >= 23 * GIB {
            32_768
        } else {
            4096
        }
    } else if version_at_least(version, (0, 6, 0)) {
        4096
    } else {
        2048
    };
    trained.map_or(default, |trained| default.min(trained))
}

/// Whether a version such as `0.32.15` or `0.13.4-rc1` is at least `min`. Unknown versions count as new.
#[must_use]
pub fn version_at_least(version: &str, min: (u64, u64, u64)) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u64>().ok());
    match (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    ) {
        (Some(major), Some(minor), patch) => (major, minor, patch.unwrap_or(0)) >= min,
        _ => true,
    }
}

/// An Ollama name with its default tag made explicit: `glm-4.7-flash` is `glm-4.7-flash:latest`.
#[must_use]
pub fn full_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// Whether two names are one model to Ollama: the default host, namespace (`library`) and tag (`latest`) filled
/// in, and case ignored (Ollama's `getExistingName` matches each part without case).
#[must_use]
pub fn same_model(a: &str, b: &str) -> bool {
    use super::model_name::Reference;
    match (Reference::parse(a), Reference::parse(b)) {
        (Some(a), Some(b)) => {
            a.host.eq_ignore_ascii_case(&b.host)
                && a.namespace.eq_ignore_ascii_case(&b.namespace)
                && a.model.eq_ignore_ascii_case(&b.model)
                && a.tag.eq_ignore_ascii_case(&b.tag)
        }
        _ => full_name(a).eq_ignore_ascii_case(&full_name(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_model_by_every_spelling_ollama_takes() {
        assert!(same_model("coder:x", "library/coder:x"));
        assert!(same_model("coder:x", "registry.ollama.ai/library/coder:X"));
        assert!(same_model("Coder", "coder:latest"));
        assert!(!same_model("coder:x", "coder:y"));
        assert!(!same_model("someone/coder:x", "coder:x"));
    }

    #[test]
    fn the_default_context_follows_version_and_vram() {
        const GIB: u64 = 1 << 30;
        assert_eq!(default_context("0.32.15", 24 * GIB, Some(262_144)), 32_768);
        assert_eq!(default_context("0.32.15", 16 * GIB, Some(262_144)), 4096);
        assert_eq!(default_context("0.32.15", 80 * GIB, Some(131_072)), 131_072);
        assert_eq!(default_context("0.15.4", 80 * GIB, None), 4096);
        assert_eq!(default_context("0.5.7", 80 * GIB, None), 2048);
        assert!(version_at_least("0.13.4", (0, 13, 4)));
        assert!(!version_at_least("0.13.3", (0, 13, 4)));
        assert!(version_at_least("0.14.0-rc2", (0, 13, 4)));
    }
}
