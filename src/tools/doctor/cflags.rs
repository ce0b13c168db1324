//! What puts preprocessor options on a tree's IR-input compile: `KCFLAGS`
//! and the `subdir-ccflags-y` of directories with Rust code.

use super::rules::logical_lines;
use super::{Findings, Level};
use std::path::{Path, PathBuf};

/// The options of `words` that the shim drops from IR-input compiles, as
/// (the words, the rule): `-I x` stays together.
fn ir_drops(words: &[&str]) -> Vec<(String, &'static str)> {
    let args: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
    crate::cc::ir_drops(&args)
        .into_iter()
        .map(|(span, rule)| (words[span].join(" "), rule))
        .collect()
}

/// Directories of `src` (relative) holding `.rs` files that kbuild compiles
/// with the Rust object rule: `scripts/` (host programs) and `tools/` (not
/// kbuild) are left out, and so are hidden directories and symlinks.
fn rust_dirs(src: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(src.join(&rel)) else {
            continue;
        };
        let mut has_rs = false;
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                let top_skip = rel.as_os_str().is_empty()
                    && matches!(name.as_ref(), "scripts" | "tools" | "Documentation");
                if !name.starts_with('.') && !top_skip {
                    stack.push(rel.join(name.as_ref()));
                }
            } else if ft.is_file() && name.ends_with(".rs") {
                has_rs = true;
            }
        }
        if has_rs {
            out.push(rel);
        }
    }
    out.sort();
    out
}

/// `subdir-ccflags-y` (or `-$(CONFIG_…)`) values of a kbuild makefile.
fn subdir_ccflags(text: &str) -> Vec<String> {
    logical_lines(text)
        .into_iter()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix("subdir-ccflags-")?;
            let (var, value) = rest.split_once('=')?;
            let var = var.trim_end().trim_end_matches([':', '+', '?']).trim_end();
            (var == "y" || var.starts_with("$(CONFIG_")).then(|| value.trim().to_string())
        })
        .collect()
}

/// What in the tree puts preprocessor options on the IR-input compile:
/// `KCFLAGS` and the `subdir-ccflags-y` of directories with Rust code
/// (and their parents, since it applies below) — docs/kbuild-pipeline.md §8.
pub fn check_cflags_sources(r: &mut Findings, src: &Path) {
    if let Some(kcflags) = std::env::var_os("KCFLAGS") {
        let kcflags = kcflags.to_string_lossy().into_owned();
        let words: Vec<&str> = kcflags.split_whitespace().collect();
        for (opt, rule) in ir_drops(&words) {
            r.say(
                Level::Warn,
                format!(
                    "KCFLAGS has {opt}: KBUILD_CFLAGS += $(KCFLAGS) puts it on every Rust object's \
                     IR-input compile (argument unused during compilation): handled by rule {rule}"
                ),
            );
        }
    }
    let rust = rust_dirs(src);
    let mut dirs: Vec<PathBuf> = rust
        .iter()
        .flat_map(|d| d.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        // kbuild reads Kbuild in preference to Makefile.
        let Some((file, text)) = ["Kbuild", "Makefile"].iter().find_map(|f| {
            let p = dir.join(f);
            std::fs::read_to_string(src.join(&p)).ok().map(|t| (p, t))
        }) else {
            continue;
        };
        let below: Vec<String> = rust
            .iter()
            .filter(|d| d.starts_with(&dir))
            .map(|d| d.display().to_string())
            .collect();
        for value in subdir_ccflags(&text) {
            let words: Vec<&str> = value.split_whitespace().collect();
            for (opt, rule) in ir_drops(&words) {
                r.say(
                    Level::Warn,
                    format!(
                        "{}: subdir-ccflags-y has {opt}: it reaches the IR-input compile of the \
                         Rust objects in {} (argument unused during compilation in RUSTC steps): \
                         handled by rule {rule}",
                        file.display(),
                        below.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdir_ccflags_assignments() {
        let mk = "subdir-ccflags-y += -I$(src) \\\n -DX\nsubdir-ccflags-$(CONFIG_Y) := -Ua\nccflags-y += -Ib\nsubdir-asflags-y += -Ic\n";
        assert_eq!(subdir_ccflags(mk), ["-I$(src)   -DX", "-Ua"]);
        let words = ["-I", "x", "-DX", "-include", "h.h", "-Iy"];
        assert_eq!(
            ir_drops(&words),
            [
                ("-I x".to_string(), "ir-drop-I"),
                ("-include h.h".to_string(), "ir-drop-include"),
                ("-Iy".to_string(), "ir-drop-I")
            ]
        );
    }
}
