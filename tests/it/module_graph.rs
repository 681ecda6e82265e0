//! The library's modules form a layered graph: no import loop, and nothing imports back up
//! through the crate root's re-exports (`crate::Name`, `use crate::{…}`). Read from the `crate::`
//! and `super::` paths of `src/` (comments and doc comments aside), the same reading a reviewer
//! does. A module and its children are one unit (a child may name its parents' items); between
//! siblings, and everywhere else, every reference is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`ops::cite`) -> the source of its file, comments removed.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel == "lib" {
                continue;
            }
            let name = rel.trim_end_matches("/mod").replace('/', "::");
            let text = std::fs::read_to_string(&path).unwrap();
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
    out
}

/// The paths a module's code names, from the crate root: `crate::a::b`, and `super::b` (or
/// `super::super::b`) resolved against the module's own path `name`.
fn references(name: &str, code: &str) -> Vec<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        out.push(code[at + 7..].chars().take_while(|c| ident(*c)).collect());
    }
    let own: Vec<&str> = name.split("::").collect();
    for (at, _) in code.match_indices("super::") {
        // Only the first `super::` of a run: `super::super::x` is one reference.
        if code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            rest = r;
            up += 1;
        }
        let Some(base) = own.len().checked_sub(up) else {
            continue;
        };
        let tail: String = rest.chars().take_while(|c| ident(*c)).collect();
        let mut path = own[..base].join("::");
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&tail);
        out.push(path);
    }
    out
}

/// Module -> the other modules it names through `crate::` or `super::`, and its child modules (a parent
/// re-exports and uses them, so a child that imports the parent's importers closes a loop).
fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut g = BTreeMap::new();
    for (name, code) in modules {
        let mut deps = BTreeSet::new();
        for path in references(name, code) {
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            // The longest prefix that is a module.
            let target = (1..=parts.len())
                .rev()
                .map(|i| parts[..i].join("::"))
                .find(|m| modules.contains_key(m));
            if let Some(target) = target {
                // A module with its children is one unit: the parent names its children (and
                // re-exports them), a child may name the items of its parents. Siblings and
                // everything else are edges.
                let child = target.starts_with(&format!("{name}::"));
                let parent = name.starts_with(&format!("{target}::"));
                if target != *name && !child && !parent {
                    deps.insert(target);
                }
            }
        }
        for child in modules.keys() {
            if child
                .strip_prefix(&format!("{name}::"))
                .is_some_and(|rest| !rest.contains("::"))
            {
                deps.insert(child.clone());
            }
        }
        g.insert(name.clone(), deps);
    }
    g
}

#[test]
fn super_paths_are_followed() {
    let g = graph(&modules());
    // `use super::pool::{Http1, Key, Pool};` in transport/direct.rs.
    assert!(g["transport::direct"].contains("transport::pool"));
    // `super::super::x` from a module two deep names a root module.
    let refs = references("a::b", "use super::super::sse::Decoder;");
    assert_eq!(refs[0], "sse::Decoder");
}

#[test]
fn no_import_loop() {
    let g = graph(&modules());
    assert!(g.contains_key("transport::shared") && g.contains_key("ops::call"));
    // Depth-first search for a back edge.
    fn visit<'a>(
        node: &'a str,
        g: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Result<(), String> {
        if let Some(i) = path.iter().position(|p| *p == node) {
            return Err(format!("{} -> {node}", path[i..].join(" -> ")));
        }
        if !done.insert(node) {
            return Ok(());
        }
        path.push(node);
        for dep in &g[node] {
            visit(dep, g, path, done)?;
        }
        path.pop();
        Ok(())
    }
    let mut done = BTreeSet::new();
    for node in g.keys() {
        let mut path = Vec::new();
        if let Err(cycle) = visit(node, &g, &mut path, &mut done) {
            panic!("import loop: {cycle}");
        }
    }
}

#[test]
fn nothing_imports_back_up_through_the_root() {
    for (name, code) in modules() {
        for (at, _) in code.match_indices("crate::") {
            let next = code[at + 7..].chars().next().unwrap_or(' ');
            assert!(
                next.is_ascii_lowercase() || next == '_',
                "{name} names a re-export of the crate root: `{}`",
                &code[at..(at + 40).min(code.len())]
            );
        }
    }
}

#[test]
fn the_transport_and_the_layers_below_it_do_not_know_the_client() {
    let g = graph(&modules());
    for low in [
        "sse",
        "error",
        "retry",
        "event",
        "stream",
        "transport",
        "transport::direct",
        "transport::pool",
        "transport::shared",
        "transport::stats",
        "transport::response",
    ] {
        let deps = &g[low];
        for high in ["client", "ops::call", "blocking", "types"] {
            assert!(!deps.contains(high), "{low} imports {high}");
        }
    }
}
