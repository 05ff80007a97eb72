//! Runtime addresses: `OLLAMA_HOST`-style values parsed by Ollama's own rules, and the URL a client dials.
//!
//! Ollama reads `OLLAMA_HOST` leniently: no scheme means `http` on the runtime's default port, `http://` without a
//! port means 80 and `https://` 443, a path after the host is a reverse-proxy prefix, IPv6 may come with or without
//! brackets, an invalid port falls back to the default and an empty value means `127.0.0.1`. A client must then
//! turn a bind-all address (`0.0.0.0`, `[::]`, or no host at all) into loopback before dialling it.

use std::fmt;
use std::net::IpAddr;

use reqwest::Url;
use thiserror::Error;

/// An address read by Ollama's rules, before it is made dialable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    pub scheme: String,
    /// The host without brackets; empty when the value named only a port.
    pub host: String,
    pub port: u16,
    /// The reverse-proxy prefix, without leading or trailing slashes.
    pub path: String,
    /// A user and password given in the address (`user:pw@host`), kept apart from it so that no message shows them.
    pub credentials: Option<Credentials>,
    /// The port as written, when one was: Ollama falls back to the default for one it cannot read, a client does not.
    port_text: Option<String>,
}

/// A user and password from an address. Printing it never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `raw` with any secret it may carry replaced by `***` (the password of a `user:password@` part, a user alone, a
/// `?query` or a `#fragment`), so that it can be shown.
#[must_use]
pub fn redact(raw: &str) -> String {
    let cut = raw.find(['?', '#']).unwrap_or(raw.len());
    let hidden = if cut < raw.len() {
        format!("{}***", &raw[cut..=cut])
    } else {
        String::new()
    };
    let shown = redact_userinfo(&raw[..cut]);
    format!("{shown}{hidden}")
}

fn redact_userinfo(raw: &str) -> String {
    let (scheme, rest) = raw.split_once("://").map_or(("", raw), |(s, r)| (s, r));
    let end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return raw.to_owned();
    };
    // A user alone may itself be a token: then nothing of it is shown.
    let shown = match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    let prefix = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{prefix}{shown}@{}", &rest[at + 1..])
}

/// An address that cannot be turned into a URL.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("`{value}` is not a usable address: {reason}")]
pub struct HostError {
    pub value: String,
    pub reason: String,
}

impl HostError {
    /// The next thing to try.
    #[must_use]
    #[expect(
        clippy::unused_self,
        reason = "every error type answers `hint()` the same way"
    )]
    pub fn hint(&self) -> &'static str {
        "give an address such as `127.0.0.1:11434`, `http://gpu-box:11434` or `https://example.com/ollama`"
    }
}

/// Reads an address the way Ollama reads `OLLAMA_HOST`, with `default_port` for a value without a scheme.
#[must_use]
pub fn parse_host(raw: &str, default_port: u16) -> HostAddr {
    let value = raw.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    let (scheme, rest, default_port) = match value.split_once("://") {
        None => ("http".to_owned(), value, default_port),
        Some(("http", rest)) => ("http".to_owned(), rest, 80),
        Some(("https", rest)) => ("https".to_owned(), rest, 443),
        Some((scheme, rest)) => (scheme.to_owned(), rest, default_port),
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (credentials, hostport) = match hostport.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let (user, password) = userinfo
                .split_once(':')
                .map_or((userinfo, None), |(u, p)| (u, Some(p.to_owned())));
            let credentials = Credentials {
                user: user.to_owned(),
                password,
            };
            (Some(credentials), hostport)
        }
        None => (None, hostport),
    };
    let (host, port) = if let Some((host, port)) = split_host_port(hostport) {
        (host, port)
    } else {
        let bare = hostport.trim_start_matches('[').trim_end_matches(']');
        let host = if let Ok(ip) = bare.parse::<IpAddr>() {
            ip.to_string()
        } else if hostport.is_empty() {
            "127.0.0.1".to_owned()
        } else {
            hostport.to_owned()
        };
        (host, String::new())
    };
    let port_text = (!port.is_empty() || hostport.ends_with(':')).then(|| port.clone());
    HostAddr {
        scheme,
        host,
        port: port.parse::<u16>().unwrap_or(default_port),
        path: path.trim_matches('/').to_owned(),
        credentials,
        port_text,
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; `None` when there is no port or too many colons.
fn split_host_port(hostport: &str) -> Option<(String, String)> {
    if let Some(inner) = hostport.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host.to_owned(), port.to_owned()));
    }
    let (host, port) = hostport.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_owned(), port.to_owned()))
}

impl HostAddr {
    /// The host a client should dial: a bind-all or missing host becomes loopback.
    #[must_use]
    pub fn dial_host(&self) -> &str {
        match self.host.as_str() {
            "" | "0.0.0.0" => "127.0.0.1",
            "::" => "::1",
            other => other,
        }
    }

    /// The base URL a client uses, always ending in `/` so that API paths can be joined to it. Unlike Ollama, a
    /// client refuses a port it cannot read instead of dialling another one.
    pub fn client_url(&self) -> Result<Url, HostError> {
        if let Some(text) = &self.port_text {
            let digits =
                !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
            let port = digits.then(|| text.parse::<u32>().ok()).flatten();
            let reason = match port {
                None if text.is_empty() => Some("the port after `:` is missing".to_owned()),
                None => Some(format!("the port `{text}` is not a number")),
                Some(0) => Some("port 0 cannot be dialled".to_owned()),
                Some(65_536..) => Some(format!("the port {text} is out of range (1 to 65535)")),
                Some(_) => None,
            };
            if let Some(reason) = reason {
                return Err(HostError {
                    value: self.to_string(),
                    reason,
                });
            }
        }
        let host = self.dial_host();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let path = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        let text = format!("{}://{host}:{}/{path}", self.scheme, self.port);
        let url = Url::parse(&text).map_err(|err| HostError {
            value: text.clone(),
            reason: err.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HostError {
                value: text,
                reason: format!("the scheme `{}` is neither http nor https", url.scheme()),
            });
        }
        Ok(url)
    }
}

impl fmt::Display for HostAddr {
    /// The form Ollama's own tests expect, e.g. `http://[::1]:11434` or `https://example.com:443/ollama`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}://{host}:{}", self.scheme, self.port)?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}

/// Reads an address by Ollama's rules and returns the URL to dial.
pub fn client_url(raw: &str, default_port: u16) -> Result<Url, HostError> {
    client_address(raw, default_port).map(|(url, _)| url)
}

/// Reads an address by Ollama's rules and returns the URL to dial, and any user and password it carried apart.
pub fn client_address(
    raw: &str,
    default_port: u16,
) -> Result<(Url, Option<Credentials>), HostError> {
    let value = raw.trim();
    if value.contains('[') && !value.contains(']') {
        return Err(HostError {
            value: redact(value),
            reason: "the `[` of an IPv6 address is not closed".to_owned(),
        });
    }
    let refused = |reason: &str| HostError {
        value: redact(value),
        reason: reason.to_owned(),
    };
    if value.contains(['?', '#']) {
        return Err(refused(
            "an address takes no `?query` or `#fragment` (a token there would be written into Codex's configuration)",
        ));
    }
    let addr = parse_host(raw, default_port);
    // A bare number is a port to Ollama's readers, but a URL parser reads it as an IPv4 address (`18008` is
    // 0.0.70.88): refuse it rather than dial somewhere else.
    if !addr.host.is_empty() && addr.host.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused(&format!(
            "`{}` is a number, not a host: for a port on this machine write `:{}`",
            addr.host, addr.host
        )));
    }
    let url = addr.client_url().map_err(|err| refused(&err.reason))?;
    Ok((url, addr.credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ollama's own table (`envconfig/config_test.go`, `TestHost`), with a host that names only a port shown
    /// as Ollama shows it: empty.
    #[test]
    fn reads_values_as_ollama_does() {
        let cases = [
            ("empty", "", "http://127.0.0.1:11434"),
            ("only address", "1.2.3.4", "http://1.2.3.4:11434"),
            ("only port", ":1234", "http://:1234"),
            ("address and port", "1.2.3.4:1234", "http://1.2.3.4:1234"),
            ("hostname", "example.com", "http://example.com:11434"),
            (
                "hostname and port",
                "example.com:1234",
                "http://example.com:1234",
            ),
            ("zero port", ":0", "http://:0"),
            ("too large port", ":66000", "http://:11434"),
            ("too small port", ":-1", "http://:11434"),
            ("ipv6 localhost", "[::1]", "http://[::1]:11434"),
            ("ipv6 world open", "[::]", "http://[::]:11434"),
            ("ipv6 no brackets", "::1", "http://[::1]:11434"),
            ("ipv6 + port", "[::1]:1337", "http://[::1]:1337"),
            ("extra space", " 1.2.3.4 ", "http://1.2.3.4:11434"),
            ("extra quotes", "\"1.2.3.4\"", "http://1.2.3.4:11434"),
            (
                "extra space+quotes",
                " \" 1.2.3.4 \" ",
                "http://1.2.3.4:11434",
            ),
            ("extra single quotes", "'1.2.3.4'", "http://1.2.3.4:11434"),
            ("http", "http://1.2.3.4", "http://1.2.3.4:80"),
            ("http port", "http://1.2.3.4:4321", "http://1.2.3.4:4321"),
            ("https", "https://1.2.3.4", "https://1.2.3.4:443"),
            ("https port", "https://1.2.3.4:4321", "https://1.2.3.4:4321"),
            (
                "proxy path",
                "https://example.com/ollama",
                "https://example.com:443/ollama",
            ),
        ];
        for (name, value, expected) in cases {
            assert_eq!(parse_host(value, 11434).to_string(), expected, "{name}");
        }
    }

    #[test]
    fn clients_dial_loopback_for_bind_all_addresses() {
        let cases = [
            ("", "http://127.0.0.1:11434/"),
            ("0.0.0.0", "http://127.0.0.1:11434/"),
            ("0.0.0.0:8080", "http://127.0.0.1:8080/"),
            ("[::]", "http://[::1]:11434/"),
            ("[::]:9999", "http://[::1]:9999/"),
            (":1234", "http://127.0.0.1:1234/"),
            ("localhost", "http://localhost:11434/"),
            ("http://gpu-box", "http://gpu-box/"),
            ("https://example.com/ollama", "https://example.com/ollama/"),
            ("https://example.com/a/b/", "https://example.com/a/b/"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                client_url(value, 11434).map(|url| url.to_string()),
                Ok(expected.to_owned()),
                "{value}"
            );
        }
    }

    #[test]
    fn lm_studio_values_default_to_its_own_port() {
        assert_eq!(parse_host("", 1234).to_string(), "http://127.0.0.1:1234");
        assert_eq!(
            parse_host("studio-box", 1234).to_string(),
            "http://studio-box:1234"
        );
        assert_eq!(
            parse_host("http://studio-box", 1234).to_string(),
            "http://studio-box:80"
        );
    }

    #[test]
    fn joins_api_paths_under_a_proxy_prefix() {
        let base = client_url("https://example.com/ollama", 11434).expect("a valid address");
        assert_eq!(
            base.join("api/tags").map(|url| url.to_string()),
            Ok("https://example.com/ollama/api/tags".to_owned())
        );
    }

    #[test]
    fn a_client_refuses_a_port_it_cannot_read() {
        for value in [
            "http://127.0.0.1:65536",
            ":abc",
            "http://[::1",
            "box:",
            "127.0.0.1:0",
            "http://127.0.0.1:+18008",
            "http://127.0.0.1:018008",
            "http://127.0.0.1:11434/?token=x",
            "http://127.0.0.1:11434/#x",
            "18008",
        ] {
            let err = client_url(value, 11434).expect_err(value);
            assert!(!err.reason.is_empty(), "{value}: {err}");
        }
        assert_eq!(
            client_url("127.0.0.1:65535", 11434).map(|url| url.to_string()),
            Ok("http://127.0.0.1:65535/".to_owned())
        );
    }

    #[test]
    fn credentials_are_kept_apart_and_never_shown() {
        let (url, credentials) =
            client_address("http://user:s3cret@gpu-box:8080", 11434).expect("an address");
        assert_eq!(url.as_str(), "http://gpu-box:8080/");
        let credentials = credentials.expect("credentials");
        assert_eq!(credentials.user, "user");
        assert_eq!(credentials.password.as_deref(), Some("s3cret"));
        assert!(!format!("{credentials:?}").contains("s3cret"));
        assert_eq!(redact("http://t0ken@gpu-box"), "http://***@gpu-box");
        assert_eq!(redact("http://gpu-box/?token=x#y"), "http://gpu-box/?***");
        assert_eq!(
            redact("http://user:s3cret@gpu-box:8080/x"),
            "http://user:***@gpu-box:8080/x"
        );
        let err = client_url("http://user:s3cret@gpu-box:99999", 11434).expect_err("port");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn refuses_schemes_a_client_cannot_speak() {
        let err = client_url("ftp://example.com", 11434).expect_err("ftp is not http");
        assert!(err.to_string().contains("ftp"), "{err}");
        assert!(client_url("http://exa mple.com", 11434).is_err());
    }
}
