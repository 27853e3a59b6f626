//! The layering rules of docs/architecture.md, checked on the source: no import circle
//! between the modules of a crate, no route module importing another, and no route doing a
//! use case's work (transactions, storage rows, audit, outbox).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const CRATES: &[&str] = &["domain", "storage", "blobs", "app", "dispatch", "stripe", "http", "server"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/routes/clients.rs` → `routes::clients`; `src/auth/mod.rs` → `auth`; `src/lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("file under src").with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts.join("::")
}

/// The source without comments, so that prose naming a path is not an import.
fn code_of(text: &str) -> String {
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Every `crate::a::b::…` path the code names, including those inside `use crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at + "crate::".len()..];
        if tail.starts_with('{') {
            let end = tail.find('}').unwrap_or(tail.len());
            for item in tail[1..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    paths.push(item.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        } else {
            let end = tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
            paths.push(tail[..end].trim_end_matches(':').to_owned());
        }
        rest = &rest[at + "crate::".len()..];
    }
    paths
}

/// The longest known module a path starts with.
fn target_module(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains(m))
}

struct Crate {
    modules: BTreeMap<String, String>,
}

fn load(name: &str) -> Crate {
    let src = workspace().join("crates").join(name).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules =
        files.iter().map(|f| (module_of(&src, f), code_of(&fs::read_to_string(f).expect("readable")))).collect();
    Crate { modules }
}

fn edges(krate: &Crate) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<String> = krate.modules.keys().cloned().collect();
    krate
        .modules
        .iter()
        .map(|(module, code)| {
            let targets = crate_paths(code)
                .iter()
                .filter_map(|p| target_module(p, &known))
                // A module naming its parent (`crate::routes::utc`) or itself is not an import circle.
                .filter(|t| t != module && !module.starts_with(&format!("{t}::")) && !t.is_empty())
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_circle() {
    let circles: Vec<String> = CRATES
        .iter()
        .filter_map(|name| find_cycle(&edges(&load(name))).map(|c| format!("{name}: {}", c.join(" → "))))
        .collect();
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

#[test]
fn no_route_module_imports_another() {
    let http = load("http");
    let graph = edges(&http);
    let offending: Vec<String> = graph
        .iter()
        .filter(|(module, _)| module.starts_with("routes::"))
        .flat_map(|(module, targets)| {
            targets.iter().filter(|t| t.starts_with("routes::")).map(move |t| format!("{module} imports {t}"))
        })
        .collect();
    assert!(offending.is_empty(), "route modules importing route modules:\n{}", offending.join("\n"));
}

#[test]
fn routes_leave_the_work_to_the_use_cases() {
    let http = load("http");
    let forbidden = ["write_tx", "outbox::", "audit::record", "db::run("];
    let mut offending = Vec::new();
    for (module, code) in http.modules.iter().filter(|(m, _)| m.starts_with("routes::")) {
        for word in forbidden {
            if code.contains(word) {
                offending.push(format!("{module} uses {word}"));
            }
        }
        if let Some(row) = code.split_whitespace().find(|w| w.ends_with("Row") && code.contains(&format!("{w} {{"))) {
            offending.push(format!("{module} builds a storage row ({row} {{ … }})"));
        }
    }
    assert!(offending.is_empty(), "route modules doing a use case's work:\n{}", offending.join("\n"));
}
