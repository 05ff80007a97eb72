//! How Codex reaches the chosen runtime: Codex's reserved provider id, or a custom one with its own table; and the
//! name of the variant model that carries a context.

use serde::Serialize;

use super::fit;
use crate::facts::runtime::RuntimeKind;

/// How Codex reaches the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    /// `ollama`, `lmstudio`, or a custom id such as `codex-local-ollama`.
    pub id: String,
    /// For a custom provider: the `base_url` written to `[model_providers.<id>]`.
    pub base_url: Option<String>,
    /// For a custom provider: the environment variable Codex reads a bearer token from.
    pub env_key: Option<String>,
}

/// The reserved provider applies where Codex's built-in points: the runtime's default local address, or the
/// address `CODEX_OSS_BASE_URL` moves it to. A runtime with its authentication on needs a custom provider, since
/// the built-in one sends no token.
#[must_use]
pub fn provider_for(
    runtime: RuntimeKind,
    url: &str,
    oss_base_url: Option<&str>,
    token: bool,
) -> Provider {
    let info = runtime.info();
    let api = format!("{}v1", ensure_slash(url));
    let token_var = info.token_var.filter(|_| token);
    let at_default = url::Url::parse(url).is_ok_and(|u| {
        matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            && u.port_or_known_default() == Some(info.default_port)
            && u.path() == "/"
    });
    let moved_here = oss_base_url.is_some_and(|oss| oss.trim_end_matches('/') == api);
    if (at_default || moved_here) && token_var.is_none() {
        Provider {
            id: runtime.id().to_owned(),
            base_url: None,
            env_key: None,
        }
    } else {
        Provider {
            id: format!("codex-local-{}", runtime.id()),
            base_url: Some(api),
            env_key: token_var.map(str::to_owned),
        }
    }
}

fn ensure_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// The predictable name of an Ollama variant that carries a context: `qwen3-coder:30b` at 64k is
/// `qwen3-coder:30b-ctx64k`, `glm-4.7-flash` is `glm-4.7-flash:ctx64k`.
#[must_use]
pub fn variant_name(base: &str, context: u64) -> String {
    let suffix = format!("ctx{}", fit::context_label(context).replace(" tokens", ""));
    let last = base.rsplit('/').next().unwrap_or(base);
    if last.contains(':') && !base.ends_with(":latest") {
        format!("{base}-{suffix}")
    } else {
        format!("{}:{suffix}", base.trim_end_matches(":latest"))
    }
}

/// The base model and context of a name [`variant_name`] made (`qwen3-coder:30b-ctx64k` gives `qwen3-coder:30b`
/// and 65,536), so that a variant that was removed can be made again; `None` for any other name.
#[must_use]
pub fn variant_parts(name: &str) -> Option<(String, u64)> {
    let (base, label) = name
        .rsplit_once("-ctx")
        .filter(|(base, _)| {
            base.rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'))
        })
        .or_else(|| name.rsplit_once(":ctx"))?;
    let context = match label.strip_suffix('k') {
        Some(thousands) => thousands.parse::<u64>().ok()?.checked_mul(1024)?,
        None => label.parse().ok()?,
    };
    (!base.is_empty() && context > 0 && variant_name(base, context) == name)
        .then(|| (base.to_owned(), context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_name_gives_back_its_base_and_context() {
        for (base, context) in [
            ("qwen3-coder:30b", 65_536),
            ("glm-4.7-flash", 65_536),
            ("hf.co/org/repo:Q4_K_M", 32_768),
            ("devstral", 30_000),
        ] {
            let name = variant_name(base, context);
            assert_eq!(
                variant_parts(&name),
                Some((base.to_owned(), context)),
                "{name}"
            );
        }
        for other in [
            "qwen3-coder:30b",
            "glm-4.7-flash:latest-ctx64k",
            "x:ctx",
            "x:ctxk",
            "x:ctx0",
            "a-ctx64k",
            ":ctx64k",
            "m:ctx99999999999999999999k",
        ] {
            assert_eq!(variant_parts(other), None, "{other}");
        }
    }
}
