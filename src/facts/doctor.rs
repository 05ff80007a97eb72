//! What `codex doctor --json` says about loading a configuration: it loads, Codex would ignore some of its keys,
//! or Codex cannot load it. Read from `checks["config.load"]`, not from the exit code (which is 1 whenever any
//! check fails, a server that is down included).

use serde_json::Value;

/// Codex's verdict on a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doctor {
    /// It loads; `notes` are Codex's other startup warnings (deprecations), which do not stop anything.
    Loads { notes: Vec<String> },
    /// It loads, but Codex ignores these keys.
    Ignores { keys: Vec<String> },
    /// Codex cannot load it, for this reason.
    Refuses { error: String },
}

/// The verdict and Codex's version from `codex doctor --json`'s output; `Err` when it is not that document.
pub fn read(output: &[u8]) -> Result<(Doctor, Option<String>), String> {
    let doc: Value = serde_json::from_slice(output)
        .map_err(|err| format!("its output is not a JSON document ({err})"))?;
    let version = doc["codexVersion"].as_str().map(clean);
    let load = &doc["checks"]["config.load"];
    let Some(status) = load["status"].as_str() else {
        return Err("its report has no `config.load` check".to_owned());
    };
    let details = &load["details"];
    if status == "fail" {
        let error = details["error"]
            .as_str()
            .or_else(|| load["summary"].as_str())
            .unwrap_or("no reason given");
        return Ok((
            Doctor::Refuses {
                error: clean(error),
            },
            version,
        ));
    }
    let warnings: Vec<&str> = match &details["startup warning"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let keys: Vec<String> = warnings
        .iter()
        .flat_map(|warning| warning.lines())
        .filter_map(ignored_key)
        .collect();
    if !keys.is_empty() {
        return Ok((Doctor::Ignores { keys }, version));
    }
    let notes = warnings
        .iter()
        .filter(|w| !w.contains("is ignored"))
        .map(|w| clean(w))
        .collect();
    Ok((Doctor::Loads { notes }, version))
}

/// The key in a line such as "user (…/config.toml): `features.bogus` is ignored."
fn ignored_key(line: &str) -> Option<String> {
    let before = line.trim_end().strip_suffix("is ignored.")?.trim_end();
    let key = before.strip_suffix('`')?;
    let start = key.rfind('`')?;
    Some(clean(&key[start + 1..]))
}

/// Codex's text, made safe to print on one line and kept short.
fn clean(text: &str) -> String {
    crate::text::sanitize(&text.chars().take(300).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doctor(load: &Value) -> Doctor {
        let doc = serde_json::json!({"schemaVersion": 1, "codexVersion": "0.171.0", "checks": {"config.load": load}});
        let (verdict, version) = read(doc.to_string().as_bytes()).expect("a report");
        assert_eq!(version.as_deref(), Some("0.171.0"));
        verdict
    }

    #[test]
    fn ignored_keys_are_named_from_one_warning_or_several() {
        let one = serde_json::json!({"status": "warning", "details": {"startup warning":
            "Codex is ignoring 2 unrecognized configuration settings. Check for typos or deprecated settings.\n  user (/h/config.toml): `features.bogus_feature` is ignored.\n  user (/h/config.toml): `some_unknown_key` is ignored."}});
        assert_eq!(
            doctor(&one),
            Doctor::Ignores {
                keys: vec!["features.bogus_feature".into(), "some_unknown_key".into()]
            }
        );
        let several = serde_json::json!({"status": "warning", "details": {"startup warning": [
            "`[features].multi_agent` is deprecated.",
            "Codex is ignoring 1 unrecognized configuration setting.\n  user (/h/config.toml): `bogus` is ignored."]}});
        assert_eq!(
            doctor(&several),
            Doctor::Ignores {
                keys: vec!["bogus".into()]
            }
        );
    }

    #[test]
    fn a_load_failure_and_a_clean_load_are_told_apart() {
        let fail = serde_json::json!({"status": "fail", "summary": "config could not be loaded", "details": {"error": "invalid data"}});
        assert_eq!(
            doctor(&fail),
            Doctor::Refuses {
                error: "invalid data".into()
            }
        );
        let ok = serde_json::json!({"status": "ok", "details": {"model": "m"}});
        assert_eq!(doctor(&ok), Doctor::Loads { notes: vec![] });
        let deprecated = serde_json::json!({"status": "warning", "details": {"startup warning": "`x` is deprecated.\nuse y"}});
        assert_eq!(
            doctor(&deprecated),
            Doctor::Loads {
                notes: vec!["`x` is deprecated. use y".into()]
            }
        );
    }

    #[test]
    fn anything_else_is_not_a_report() {
        for output in [
            &b"Usage: codex [OPTIONS]"[..],
            b"{}",
            b"[1]",
            b"{\"checks\": {}}",
        ] {
            assert!(read(output).is_err(), "{}", String::from_utf8_lossy(output));
        }
    }
}
