//! The layout's rules (docs/architecture.md), checked on the sources:
//! no import cycle between modules, nothing outside `tools/` imports
//! `tools` and `tools/` imports neither `shim` nor `cc`'s internals, one way
//! to build a `Search`, no file in `src/tools/` over 400 lines, `main.rs`
//! stays thin, and argv never comes from std's glibc hook.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library module file: module path ("cc::options") → source text
/// without its `#[cfg(test)]` part (tests may import what they test).
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_stem().unwrap().to_str().unwrap().to_string();
            if p.is_dir() {
                walk(&p, &format!("{prefix}{name}::"), out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                if prefix.is_empty() && (name == "lib" || name == "main") {
                    continue;
                }
                let module = if name == "mod" {
                    prefix.trim_end_matches("::").to_string()
                } else {
                    format!("{prefix}{name}")
                };
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap();
                out.insert(module, without_comments(code));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), "", &mut out);
    out
}

/// `code` without `//` comments (doc links name modules too).
fn without_comments(code: &str) -> String {
    code.lines()
        .map(|l| match l.find("//") {
            // Not inside a string: good enough for this crate's sources.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` (of module `me`) refers to, at the granularity of
/// `known` modules: `crate::a::b::x` → the longest known prefix `a::b`;
/// `super::x` relative to `me`. The crate root (types in lib.rs) is left out.
fn imports(me: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_string())
    };
    // `super` of a mod.rs module is its parent too: a module's own file is
    // keyed by the module path in both layouts.
    for (i, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        let rest = &code[i..];
        let (base, tail) = if let Some(t) = rest.strip_prefix("crate::") {
            (String::new(), t)
        } else {
            (parent(me), &rest["super::".len()..])
        };
        let path: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        // `use crate::{a, b::c}` lists: take each item's first segment.
        if let Some(list) = tail.strip_prefix('{') {
            let inner: String = list.chars().take_while(|&c| c != '}').collect();
            for item in inner.split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                let cand = if base.is_empty() {
                    first.to_string()
                } else {
                    format!("{base}::{first}")
                };
                if known.contains(&cand) && cand != me {
                    out.insert(cand);
                }
            }
            continue;
        }
        while !segs.is_empty() {
            let cand = if base.is_empty() {
                segs.join("::")
            } else {
                format!("{base}::{}", segs.join("::"))
            };
            if known.contains(&cand) {
                if cand != me {
                    out.insert(cand);
                }
                break;
            }
            segs.pop();
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(m, code)| (m.clone(), imports(m, code, &known)))
        .collect()
}

/// A module's edges, with a submodule's imports of its own parent (its
/// `mod.rs`: re-exports, shared constants) left out: those are one module.
fn top(m: &str) -> &str {
    m.split("::").next().unwrap()
}

#[test]
fn the_parser_finds_the_known_edges() {
    // If the scan went blind, the rules below would pass vacuously.
    let g = graph();
    assert!(g["shim"].contains("cc"), "{:?}", g["shim"]);
    assert!(g["shim"].contains("settings"), "{:?}", g["shim"]);
    assert!(
        g["cc::tokens"].contains("cc::options"),
        "{:?}",
        g["cc::tokens"]
    );
    let kernel = &g["tools::doctor::kernel"];
    assert!(kernel.contains("kconfig"), "{kernel:?}");
    let cflags = &g["tools::doctor::cflags"];
    assert!(cflags.contains("cc"), "{cflags:?}");
    assert!(g.len() >= 20, "{} modules", g.len());
}

#[test]
fn no_import_cycles() {
    // Between top-level modules (a module and its submodules are one unit)…
    let g = graph();
    let mut tops: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, deps) in &g {
        let e = tops.entry(top(m)).or_default();
        for d in deps {
            if top(d) != top(m) {
                e.insert(top(d));
            }
        }
    }
    let cycle = find_cycle(&tops);
    assert!(cycle.is_none(), "import cycle between modules: {cycle:?}");
    // …and between the files inside one (cc::tokens ↔ cc::options, …).
    let mut files: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (m, deps) in &g {
        let e = files.entry(m.as_str()).or_default();
        for d in deps {
            if top(d) == top(m) && !m.starts_with(&format!("{d}::")) {
                e.insert(d.as_str());
            }
        }
    }
    let cycle = find_cycle(&files);
    assert!(cycle.is_none(), "import cycle between files: {cycle:?}");
}

fn find_cycle<'a>(g: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<Vec<&'a str>> {
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(i) = stack.iter().position(|&s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n);
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n);
        for &d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n);
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|&n| visit(n, g, &mut Vec::new(), &mut done))
}

#[test]
fn nothing_outside_tools_imports_tools() {
    for (m, deps) in graph() {
        if top(&m) == "tools" {
            continue;
        }
        let bad: Vec<_> = deps.iter().filter(|d| top(d) == "tools").collect();
        assert!(bad.is_empty(), "{m} imports {bad:?}: the hot path must not");
    }
}

/// The tools stand beside the hot path, not above it: they use it only
/// through named functions of `cc`, `ld`, `path_search`, `settings`, … and
/// never through `shim` (the policy of one call) or a tokenizer's internals.
#[test]
fn tools_do_not_import_shim_or_cc_internals() {
    for (m, deps) in graph() {
        if top(&m) != "tools" {
            continue;
        }
        let bad: Vec<_> = deps
            .iter()
            .filter(|d| *d == "shim" || d.starts_with("cc::"))
            .collect();
        assert!(bad.is_empty(), "{m} imports {bad:?}");
    }
}

/// One way to build a `Search` (`Search::new`, or `Settings::search`): a
/// struct literal elsewhere is the hand-assembled lookup this replaced.
#[test]
fn searches_are_built_in_one_place() {
    for (m, code) in modules() {
        if m != "path_search" {
            assert!(!code.contains("Search {"), "{m} builds a Search by hand");
        }
    }
}

/// The tools are split by concern; a file past this size is two concerns.
#[test]
fn no_file_in_src_tools_is_over_400_lines() {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, usize)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let n = std::fs::read_to_string(&p).unwrap().lines().count();
                out.push((p, n));
            }
        }
    }
    let mut files = Vec::new();
    walk(&src().join("tools"), &mut files);
    assert!(files.len() > 5, "{files:?}");
    let big: Vec<_> = files.iter().filter(|(_, n)| *n > 400).collect();
    assert!(big.is_empty(), "split by concern: {big:?}");
}

#[test]
fn main_is_thin() {
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    let n = main.lines().count();
    assert!(
        n < 40,
        "src/main.rs has {n} lines; the policy belongs in shim.rs"
    );
}

/// Built for musl, `std::env::args_os()` is empty under `no_main`: glibc
/// alone hands argv to std's `.init_array` hook. The binary must take argv
/// from `main`'s own argc/argv, so std's reader must not be linked in at all.
#[test]
fn argv_comes_from_main_not_from_the_glibc_hook() {
    for (m, code) in modules() {
        assert!(
            !code.contains("env::args"),
            "{m} reads std::env::args: argv comes from main's argc/argv"
        );
    }
    let main = without_comments(&std::fs::read_to_string(src().join("main.rs")).unwrap());
    assert!(!main.contains("env::args"), "main.rs reads std::env::args");
    // The test binary is built with symbols: std's argv reader is absent,
    // while the shim's own entry points are there (so the check can see).
    let nm = common::real_tool("llvm-nm-22");
    let out = std::process::Command::new(&nm)
        .args(["-C", common::SHIM])
        .output()
        .unwrap();
    common::check(&out, "nm kbuild-shim");
    let syms = String::from_utf8_lossy(&out.stdout);
    assert!(
        syms.contains("kbuild_shim::shim::main"),
        "no symbols to check in {}",
        common::SHIM
    );
    let readers: Vec<&str> = syms
        .lines()
        .filter(|l| l.contains("std::env::args"))
        .collect();
    assert!(
        readers.is_empty(),
        "std's argv reader is linked in: {readers:?}"
    );
    // And argv does arrive: the binary sees its arguments.
    let o = common::shim().arg("--version").output().unwrap();
    common::check(&o, "kbuild-shim --version");
    assert!(common::stdout(&o).starts_with("kbuild-shim "));
}
