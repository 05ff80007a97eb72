//! Ollama's model names (`types/model/name.go`): `[host/][namespace/]model[:tag]`, host `registry.ollama.ai`,
//! namespace `library`, tag `latest`.

/// The default registry.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";

/// A model name, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub host: String,
    pub namespace: String,
    pub model: String,
    pub tag: String,
}

impl Reference {
    /// Reads `[host/][namespace/]model[:tag]`; `None` when it is not a model name at all.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let (path, tag) = match name.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, tag),
            _ => (name, "latest"),
        };
        let parts: Vec<&str> = path.split('/').collect();
        let (host, namespace, model) = match parts.as_slice() {
            [model] => (DEFAULT_HOST, "library", *model),
            [namespace, model] => (DEFAULT_HOST, *namespace, *model),
            [host, namespace, model] => (*host, *namespace, *model),
            _ => return None,
        };
        let fine = |part: &str| {
            !part.is_empty()
                && part.len() <= 128
                && !part.chars().all(|c| c == '.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (fine(host) && fine(namespace) && fine(model) && fine(tag)).then(|| Self {
            host: host.to_ascii_lowercase(),
            namespace: namespace.to_owned(),
            model: model.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// The shortest name Ollama knows it by (`model:tag` in the `library` namespace), as `ollama list` shows it.
    #[must_use]
    pub fn short(&self) -> String {
        if self.host == DEFAULT_HOST && self.namespace == "library" {
            format!("{}:{}", self.model, self.tag)
        } else {
            self.display()
        }
    }

    /// `namespace/model:tag`, or with the host when it is not Ollama's.
    #[must_use]
    pub fn display(&self) -> String {
        let short = format!("{}/{}:{}", self.namespace, self.model, self.tag);
        if self.host == DEFAULT_HOST {
            short
        } else {
            format!("{}/{short}", self.host)
        }
    }
}
