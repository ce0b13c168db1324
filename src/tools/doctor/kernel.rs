//! The kernel object tree: its configuration, what the ld gate will do with
//! it, and the known problems of its ARCH.

use super::cflags::check_cflags_sources;
use super::rules::{rule_set, source_tree, RuleSet};
use super::rustc::{check_recorded_llvm, Recorded};
use super::{Findings, Level};
use crate::kconfig::{self, Inline, AUTO_CONF};
use crate::settings::Settings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `auto.conf` symbols that name the ARCH, most specific first (UML on
/// x86_64 also sets `CONFIG_X86_64`): every arch that builds kernel Rust.
const ARCHES: [(&str, &str); 6] = [
    ("CONFIG_UML", "um"),
    ("CONFIG_ARM64", "arm64"),
    ("CONFIG_ARM", "arm"),
    ("CONFIG_X86_64", "x86_64"),
    ("CONFIG_RISCV", "riscv"),
    ("CONFIG_LOONGARCH", "loongarch"),
];

/// Known problems per ARCH and the rule that handles each: what each
/// `arch/*/Makefile` of Linux 6.12 puts into `KBUILD_CFLAGS` unconditionally
/// (the `cc-option` ones a clang build filters out), compiled for IR by
/// clang-22, and rustc's target against clang's (docs/kbuild-rules.md).
/// riscv's and x86_64's KBUILD_CFLAGS have nothing clang-22 reports for IR.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "arm",
        "arch/arm/Makefile's -Uarm is unused on IR-input compiles (fatal with -Werror=unused-command-line-argument)",
        "ir-drop-U",
    ),
    (
        "arm",
        "rustc's target triple differs from clang's --target (-Woverride-module)",
        "ir-add-no-override-module",
    ),
    (
        "arm64",
        "rustc's aarch64-unknown-none triple differs from clang's --target (-Woverride-module)",
        "ir-add-no-override-module",
    ),
    (
        "um",
        "arch/um/Makefile's -I./arch/um/include/shared ... are unused on IR-input compiles",
        "ir-drop-I",
    ),
    (
        "riscv",
        "rustc's riscv64imac-unknown-none-elf triple differs from clang's --target (-Woverride-module)",
        "ir-add-no-override-module",
    ),
    (
        "loongarch",
        "arch/loongarch/Makefile's -isystem $(shell $(CC) -print-file-name=include) is unused on IR-input compiles",
        "ir-drop-isystem",
    ),
    (
        "loongarch",
        "rustc's loongarch64-unknown-none-softfloat triple differs from clang's --target (-Woverride-module)",
        "ir-add-no-override-module",
    ),
];

/// Configurations that put an ld option outside the gate's allow-list on
/// every `ld -r` line (Linux 7.3's Makefiles, docs/kbuild-pipeline.md §10): with
/// one of them the single-object step runs the real linker, copy or not.
/// (symbol, also needed, the option, where kbuild adds it)
const LD_FLAGS_NOT_GATED: &[(&str, Option<&str>, &str, &str)] = &[
    (
        "CONFIG_DEBUG_INFO_COMPRESSED_ZLIB",
        None,
        "--compress-debug-sections=zlib",
        "scripts/Makefile.debug",
    ),
    (
        "CONFIG_DEBUG_INFO_COMPRESSED_ZSTD",
        None,
        "--compress-debug-sections=zstd",
        "scripts/Makefile.debug",
    ),
    (
        "CONFIG_AUTOFDO_CLANG",
        Some("CONFIG_LTO_CLANG_THIN"),
        "--mllvm=-enable-fs-discriminator=true",
        "scripts/Makefile.autofdo",
    ),
    (
        "CONFIG_PROPELLER_CLANG",
        Some("CONFIG_LTO_CLANG_THIN"),
        "--lto-basic-block-address-map",
        "scripts/Makefile.propeller",
    ),
];

pub fn check_kernel(
    r: &mut Findings,
    kernel: Option<&Path>,
    settings: &Settings,
    recorded: &Recorded,
) {
    let dir = kernel.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let conf = dir.join(AUTO_CONF);
    let text = match std::fs::read(&conf) {
        Ok(t) => t,
        Err(e) => {
            let what = format!("no kernel object tree: cannot read {}: {e}", conf.display());
            match kernel {
                Some(_) => r.say(
                    Level::Fail,
                    format!("{what} (give the object tree, after make LLVM=1 olddefconfig)"),
                ),
                None => r.say(Level::Warn, format!("{what} (use --kernel DIR)")),
            }
            return;
        }
    };
    let config: HashMap<&[u8], &[u8]> = kconfig::symbols(&text).collect();
    let on = |k: &str| config.get(k.as_bytes()) == Some(&&b"y"[..]);
    let state = |k: &str| if on(k) { "y" } else { "not set" };
    r.say(Level::Ok, format!("kernel: {}", conf.display()));
    let level = if on("CONFIG_RUST") {
        Level::Ok
    } else {
        Level::Warn
    };
    r.say(level, format!("CONFIG_RUST={}", state("CONFIG_RUST")));
    check_recorded_llvm(r, recorded);
    let src = source_tree(&dir);
    let build = src.join("scripts/Makefile.build");
    let rules = match std::fs::read_to_string(&build) {
        Ok(text) => {
            let rules = rule_set(&text);
            const GATED: &str = "llvm-link, the IR-input compile and cmd_ld_single run only \
                                 with CONFIG_RUST_INLINE_HELPERS";
            let what = match rules {
                RuleSet::Merged72 => format!(
                    "{GATED}; the IR-input compile leaves out $(CC_FLAGS_LTO), so it writes ELF \
                     even with CONFIG_LTO_CLANG, and passes $(CC_FLAGS_RUST_INLINE_HELPERS)' \
                     -mllvm pairs, which the shim keeps"
                ),
                RuleSet::Merged71 => format!(
                    "{GATED}; with CONFIG_LTO_CLANG the IR-input compile writes bitcode, which \
                     cmd_ld_single's ld -r, where it runs, links into ELF"
                ),
                RuleSet::V2 => format!(
                    "cmd_ld_single runs for Rust objects even with CONFIG_RUST_INLINE_HELPERS \
                     off: handled by rule {}",
                    crate::ld::RULE_COPY
                ),
                RuleSet::NoInlining => "no llvm-link step in cmd_rustc_o_rs: rustc writes the \
                                        objects, the shim has nothing to fix"
                    .to_string(),
            };
            r.say(
                Level::Ok,
                format!("rules: {} has {}: {what}", build.display(), rules.phrase()),
            );
            Some(rules)
        }
        Err(e) => {
            r.say(
                Level::Warn,
                format!(
                    "rules: cannot read {}: {e}: rule set unknown (no source tree at {})",
                    build.display(),
                    src.display()
                ),
            );
            None
        }
    };
    let inline = state("CONFIG_RUST_INLINE_HELPERS");
    let lto = state("CONFIG_LTO_CLANG");
    // What the ld gate will act on, decided as the gate decides it.
    let gate_on = matches!(
        kconfig::inline_state(settings, Some(&dir)),
        Ok((Inline::On, _))
    );
    let why = match settings.inline_helpers {
        Some(v) => format!(
            " (KBUILD_SHIM_INLINE_HELPERS={} overrides it)",
            if v { "y" } else { "n" }
        ),
        None => String::new(),
    };
    let not_gated: Vec<String> = LD_FLAGS_NOT_GATED
        .iter()
        .filter(|(sym, also, _, _)| on(sym) && also.is_none_or(on))
        .map(|(sym, _, opt, file)| format!("{sym}=y puts {opt} on it ({file})"))
        .collect();
    let (level, what) = match (gate_on, rules) {
        (_, Some(RuleSet::NoInlining)) => (Level::Ok, "this tree has no helper inlining".into()),
        (true, _) => (
            Level::Ok,
            "IR-input compiles run; the shim rewrites them".into(),
        ),
        (false, Some(rules)) if rules.merged() => (
            Level::Ok,
            "kbuild runs no IR-input compile and no single-object ld -r for Rust objects: the \
             ld gate has nothing to do"
                .into(),
        ),
        (false, _) if !not_gated.is_empty() => (
            Level::Warn,
            format!(
                "the single-object ld -r of Rust objects runs the real linker, not a copy: {}, \
                 which is not in the gate's allow-list",
                not_gated.join(", ")
            ),
        ),
        (false, _) => (
            Level::Ok,
            "the shim copies instead of the single-object ld -r of Rust objects".into(),
        ),
    };
    r.say(
        level,
        format!("CONFIG_RUST_INLINE_HELPERS={inline}{why}: {what}"),
    );
    if rules != Some(RuleSet::NoInlining) {
        check_cflags_sources(r, &src);
    }
    r.say(
        Level::Ok,
        format!(
            "CONFIG_LTO_CLANG={lto}: {}",
            match on("CONFIG_LTO_CLANG") {
                true => "cmd_ld_single runs ld -r for single objects",
                false => "no single-object ld -r step",
            }
        ),
    );
    let Some((_, arch)) = ARCHES.iter().find(|(sym, _)| on(sym)) else {
        r.say(
            Level::Warn,
            format!(
                "ARCH: none of {} is set",
                ARCHES.map(|(sym, _)| sym).join(", ")
            ),
        );
        return;
    };
    let known: Vec<_> = KNOWN.iter().filter(|(a, _, _)| a == arch).collect();
    if known.is_empty() {
        r.say(
            Level::Ok,
            format!("ARCH={arch}: no known IR-compile problems"),
        );
    }
    for (_, problem, rule) in known {
        r.say(
            Level::Ok,
            format!("ARCH={arch}: {problem}: handled by rule {rule}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ld_flags_not_gated_are_outside_the_allow_list() {
        for (_, _, opt, _) in LD_FLAGS_NOT_GATED {
            assert!(
                crate::ld::allow::allowed(&[opt.as_bytes()]).is_none(),
                "{opt}"
            );
        }
    }

    #[test]
    fn every_known_problem_names_a_real_rule_and_arch() {
        for (arch, _, rule) in KNOWN {
            assert!(ARCHES.iter().any(|(_, a)| a == arch), "{arch}");
            assert!(
                crate::cc::CC_OPTIONS.iter().any(
                    |o| matches!(o.meaning, crate::cc::options::Meaning::IrDrop(r) if r == *rule)
                ) || *rule == crate::cc::RULE_ADD_NO_OVERRIDE_MODULE,
                "{rule}"
            );
        }
    }

    /// [`KNOWN`] is the one table of per-ARCH problems; the failure classes
    /// of docs/kbuild-rules.md must name the same (ARCH, rule) pairs. A row
    /// there is per-ARCH unless its arches column says "every" arch.
    #[test]
    fn known_problems_match_the_failure_classes_in_the_docs() {
        use std::collections::BTreeSet;
        let doc = include_str!("../../../docs/kbuild-rules.md");
        let start = doc
            .find("| class | flag |")
            .expect("the failure-class table");
        let mut in_doc = BTreeSet::new();
        for line in doc[start..].lines().take_while(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.split(" | ").collect();
            let (arches, rule) = (cells[3], cells[5]);
            if arches.starts_with("every") {
                continue;
            }
            let Some(rule) = rule.split('`').nth(1) else {
                continue;
            };
            for word in arches.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                if ARCHES.iter().any(|(_, a)| *a == word) {
                    in_doc.insert((word, rule));
                }
            }
        }
        let in_table: BTreeSet<_> = KNOWN.iter().map(|(a, _, r)| (*a, *r)).collect();
        assert_eq!(in_table, in_doc);
    }
}
