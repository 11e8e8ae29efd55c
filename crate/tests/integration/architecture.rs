//! The layering docs/architecture.md declares, checked against the sources: every module
//! of `crate/src` is in its table, imports only from lower layers (so there is no cycle),
//! and no source file of the library or the CLI is over 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

const MAX_LINES: usize = 600;

/// Module name to layer, from the table's rows `| N | `a`, `b` | ... |`.
fn layers(doc: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(layer), Some(modules)) = (cells.get(1).and_then(|c| c.parse::<usize>().ok()), cells.get(2)) else { continue };
        for name in modules.split('`').skip(1).step_by(2) {
            out.insert(name.to_string(), layer);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module each `crate::x` in non-test, non-comment code of `src` names. Root
/// re-exports (`crate::Upscaler`) count as the module they come from.
fn imports(src: &str, reexports: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in src.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]") && !l.trim_start().starts_with("#[cfg(all(test")) {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + 7..];
            // `crate::{A, b::C}` names several.
            let names = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').map(str::trim).collect(),
                None => vec![rest],
            };
            for name in names {
                let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.insert(reexports.get(&name).cloned().unwrap_or(name));
            }
        }
    }
    out
}

#[test]
fn every_module_imports_only_from_lower_layers_and_no_file_is_too_long() {
    let repo = common::repo();
    let layers = layers(&std::fs::read_to_string(repo.join("docs/architecture.md")).unwrap());
    let lib = std::fs::read_to_string(repo.join("crate/src/lib.rs")).unwrap();
    let modules: Vec<String> = lib.lines().filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';').map(String::from)).collect();
    assert!(modules.len() >= 15, "{modules:?}");
    let missing: Vec<&String> = modules.iter().filter(|m| !layers.contains_key(*m)).collect();
    assert!(missing.is_empty(), "modules not placed in docs/architecture.md's table: {missing:?}");
    let mut reexports = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_matches(|c| "{};".contains(c)).split(',') {
            reexports.insert(name.trim().to_string(), module.to_string());
        }
    }
    let src = repo.join("crate/src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    sources(&repo.join("cli/src"), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        assert!(lines <= MAX_LINES, "{} has {lines} lines, more than {MAX_LINES}", file.display());
        let Ok(rel) = file.strip_prefix(&src) else { continue };
        let module = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some(&own) = layers.get(&module) else { continue };
        for import in imports(&text, &reexports) {
            match layers.get(&import) {
                Some(&layer) if import == module || layer < own => {}
                Some(&layer) => wrong.push(format!("{} (layer {own}) imports crate::{import} (layer {layer})", rel.display())),
                None => wrong.push(format!("{} imports crate::{import}, which the table does not place", rel.display())),
            }
        }
    }
    assert!(files.len() > 60, "{} files", files.len());
    assert!(wrong.is_empty(), "imports against docs/architecture.md:\n{}", wrong.join("\n"));
}
