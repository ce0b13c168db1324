//! Which Rust rules a kernel tree's `scripts/Makefile.build` has, and where
//! its source tree is.

use std::path::{Path, PathBuf};

/// Which Rust rules a kernel tree's `scripts/Makefile.build` has
/// (docs/kbuild-rules.md, "The rule sets").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSet {
    /// Since v7.2: as in 7.1, and the IR compile takes
    /// `$(filter-out $(CC_FLAGS_LTO),$(KBUILD_CFLAGS))` (so it writes ELF
    /// even with LTO) and `$(CC_FLAGS_RUST_INLINE_HELPERS)` (-mllvm pairs).
    Merged72,
    /// v7.1: llvm-link, the IR compile and `cmd_ld_single` all inside
    /// `$(if $(CONFIG_RUST_INLINE_HELPERS),…)`.
    Merged71,
    /// As posted in v2: `cmd_ld_single` outside the inlining gate, so it
    /// runs for Rust objects with inlining off too.
    V2,
    /// No llvm-link step: rustc writes the object itself (6.12 … 7.0).
    NoInlining,
}

impl RuleSet {
    /// What the doctor says a tree has, with the rule set's stable name.
    pub fn phrase(self) -> &'static str {
        match self {
            RuleSet::Merged72 => "the merged (7.2+) rules",
            RuleSet::Merged71 => "the merged (7.1) rules",
            RuleSet::V2 => "the v2-style rules",
            RuleSet::NoInlining => "no helper inlining",
        }
    }

    pub fn merged(self) -> bool {
        matches!(self, RuleSet::Merged72 | RuleSet::Merged71)
    }
}

/// Backslash-continued make lines joined into one.
pub fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The byte ranges of every `$(if …)` in `text`, each up to its own `)`.
fn if_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    for (start, _) in text.match_indices("$(if ") {
        let mut depth = 0usize;
        for (i, &c) in b.iter().enumerate().skip(start + 1) {
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        spans.push(start..i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    spans
}

/// The rule set of a `scripts/Makefile.build`, from its `cmd_rustc_o_rs`.
pub fn rule_set(makefile_build: &str) -> RuleSet {
    let lines = logical_lines(makefile_build);
    let Some(rule) = lines.iter().find(|l| {
        l.trim_start()
            .strip_prefix("cmd_rustc_o_rs")
            .is_some_and(|r| r.trim_start().starts_with('=') || r.trim_start().starts_with(":="))
    }) else {
        return RuleSet::NoInlining;
    };
    let links = |t: &str| t.contains("LLVM_LINK") || t.contains("llvm-link");
    if !links(rule) {
        return RuleSet::NoInlining;
    }
    // The inlining gate: the `$(if …)` that holds the llvm-link step.
    let gates: Vec<_> = if_spans(rule)
        .into_iter()
        .filter(|g| links(&rule[g.clone()]))
        .collect();
    let outside = rule
        .match_indices("cmd_ld_single")
        .any(|(at, _)| !gates.iter().any(|g| g.contains(&at)));
    // 7.2's IR compile (docs/kbuild-pipeline.md §9), inside the gate.
    let is_72 = gates.iter().any(|g| {
        let ir = &rule[g.clone()];
        ir.contains("$(filter-out $(CC_FLAGS_LTO),")
            && ir.contains("$(CC_FLAGS_RUST_INLINE_HELPERS)")
    });
    match (outside, is_72) {
        (true, _) => RuleSet::V2,
        (false, true) => RuleSet::Merged72,
        (false, false) => RuleSet::Merged71,
    }
}

/// The source tree of the object tree `obj`, found as kbuild finds it: an
/// `O=` build leaves a `source` symlink (and a Makefile that includes the
/// source tree's); an in-tree build is its own source tree.
pub fn source_tree(obj: &Path) -> PathBuf {
    let has_build = |d: &Path| d.join("scripts/Makefile.build").is_file();
    let link = obj.join("source");
    if has_build(&link) {
        return link;
    }
    if let Ok(text) = std::fs::read_to_string(obj.join("Makefile")) {
        for line in text.lines() {
            let Some(inc) = line.trim().strip_prefix("include ") else {
                continue;
            };
            if let Some(dir) = Path::new(inc.trim()).parent().filter(|d| has_build(d)) {
                return dir.to_path_buf();
            }
        }
    }
    obj.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sets_by_where_cmd_ld_single_sits() {
        let merged = "cmd_rustc_o_rs = $(rust_common_cmd) --emit=$(if $(CONFIG_RUST_INLINE_HELPERS),llvm-bc=$(patsubst %.o,%.bc,$@),obj=$@) $< \\\n\t$(if $(CONFIG_RUST_INLINE_HELPERS),;$(LLVM_LINK) a.bc -o $(patsubst %.o,%.m.bc,$@); $(CC) -c x $(cmd_ld_single)) \\\n\t$(cmd_objtool)\n";
        assert_eq!(rule_set(merged), RuleSet::Merged71);
        let ir72 = "$(CC) $(filter-out $(CC_FLAGS_LTO),$(KBUILD_CFLAGS)) \\\n\t$(CC_FLAGS_RUST_INLINE_HELPERS) -c x";
        let merged72 = merged.replace("$(CC) -c x", ir72);
        assert_eq!(rule_set(&merged72), RuleSet::Merged72);
        // One of the two is not 7.2's text; either outside the gate is not the IR compile.
        let half = merged.replace("$(CC) -c x", "$(CC) $(CC_FLAGS_RUST_INLINE_HELPERS) -c x");
        assert_eq!(rule_set(&half), RuleSet::Merged71);
        let outside = merged.replace(
            "$(cmd_objtool)",
            "$(filter-out $(CC_FLAGS_LTO),a) $(CC_FLAGS_RUST_INLINE_HELPERS) $(cmd_objtool)",
        );
        assert_eq!(rule_set(&outside), RuleSet::Merged71);
        assert_eq!(
            rule_set(&merged72.replace("$(cmd_ld_single))", ") $(cmd_ld_single)")),
            RuleSet::V2
        );
        let v2 = merged.replace("$(cmd_ld_single))", ") $(cmd_ld_single)");
        assert_eq!(rule_set(&v2), RuleSet::V2);
        // quiet_cmd_… is not the rule; the 6.12 rule has no llvm-link.
        let none = "quiet_cmd_rustc_o_rs = $(LLVM_LINK)\n  cmd_rustc_o_rs = $(rust_common_cmd) --emit=obj=$@ $<\n";
        assert_eq!(rule_set(none), RuleSet::NoInlining);
        assert_eq!(rule_set(""), RuleSet::NoInlining);
    }
}
