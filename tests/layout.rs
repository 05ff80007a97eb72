//! The shape of `src/` that the README describes, checked: data flows one way (facts → plan → steps → report), no
//! top-level module imports one that imports it back, the plan is pure, runtime code never prints, and no command
//! imports another command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every top-level module and the top-level modules its files name (`crate::x`, or `super::x` from a file at the
/// top), test code left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let parts: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let mut named = names_after(code, "crate::");
            if parts.len() == 1 {
                named.extend(names_after(code, "super::"));
            }
            let top = parts[0].clone();
            named.remove(&top);
            graph.entry(top).or_default().extend(named);
        }
    }
    graph
}

/// The module names after `prefix` (`crate::x`, and every `x` of a group `crate::{x, y::z}`).
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let word = |text: &str| {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(inner.split(',').map(|part| word(part.trim())));
        } else {
            names.insert(word(rest));
        }
    }
    names.remove("");
    names
}

/// The external crates a top-level module names.
fn crates_of(module: &str) -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join(format!("{module}.rs"))];
    let dir = src.join(module);
    if dir.is_dir() {
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read a folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
    }
    let known = [
        "reqwest",
        "tokio",
        "fs_err",
        "indicatif",
        "sysinfo",
        "which",
        "tempfile",
        "clap",
        "serde",
        "serde_json",
        "thiserror",
        "toml_edit",
        "url",
        "anyhow",
        "sha2",
        "async_trait",
    ];
    let mut found = BTreeSet::new();
    for file in files.iter().filter(|f| f.exists()) {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for name in known {
            if code.contains(&format!("{name}::")) {
                found.insert(name.to_owned());
            }
        }
    }
    found
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(node) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(
        graph.contains_key("facts") && graph.contains_key("plan"),
        "{graph:?}"
    );
    for (module, named) in &graph {
        for other in named {
            assert!(
                !reaches(&graph, other, module),
                "`{module}` imports `{other}`, which leads back to `{module}`: {graph:#?}"
            );
        }
    }
}

#[test]
fn the_plan_is_pure_and_runtime_code_never_prints() {
    let graph = imports();
    let pure: BTreeSet<String> = ["facts", "size", "env_vars", "text"]
        .map(str::to_owned)
        .into();
    for module in ["plan", "facts"] {
        let named = &graph[module];
        assert!(named.is_subset(&pure), "`{module}` imports {named:?}");
    }
    let io = [
        "reqwest",
        "tokio",
        "fs_err",
        "indicatif",
        "sysinfo",
        "which",
        "tempfile",
    ];
    for module in ["plan", "facts"] {
        let crates = crates_of(module);
        assert!(
            crates.iter().all(|name| !io.contains(&name.as_str())),
            "`{module}` uses {crates:?}"
        );
    }
    for module in ["runtime", "codex", "gather", "facts", "plan"] {
        for forbidden in ["report", "commands", "steps"] {
            assert!(
                !graph[module].contains(forbidden),
                "`{module}` imports `{forbidden}`"
            );
        }
    }
}

#[test]
fn no_command_imports_another_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let commands: Vec<String> = std::fs::read_dir(&dir)
        .expect("read src/commands")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.file_name().is_some_and(|n| n != "mod.rs"))
        .map(|path| {
            path.file_stem()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(commands.len() >= 8, "{commands:?}");
    for command in &commands {
        let text = std::fs::read_to_string(dir.join(format!("{command}.rs"))).expect("read");
        for other in commands.iter().filter(|other| *other != command) {
            for path in [format!("super::{other}::"), format!("commands::{other}::")] {
                assert!(!text.contains(&path), "`{command}` imports `{other}`");
            }
        }
    }
}
