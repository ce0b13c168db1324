//! `kbuild-shim --doctor [--kernel DIR]`: one line per check, `ok`, `warn`
//! or `FAIL`, about the tools the shim would run (found exactly as the shim
//! finds them), the rustc kbuild would run and its LLVM against clang's, PATH
//! loops, and the kernel object tree's configuration: the rustc it was
//! configured with, its rule set, what reaches its IR compile. Exit 0 only
//! when nothing FAILs.

use super::toolchain::{find_in, major_of, rustc_versions, version_with_path};
use crate::kconfig::{self, Inline, AUTO_CONF};
use crate::path_search::{split_dirs, Search, SelfId};
use crate::settings::Settings;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The tools the shim runs or the kernel's Rust rules use, by base name.
/// All three read rustc's bitcode (IR compiles, llvm-link, LTO links), so
/// each needs rustc's LLVM major.
const TOOLS: [&str; 3] = ["clang", "ld.lld", "llvm-link"];

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

/// Which Rust rules a kernel tree's `scripts/Makefile.build` has
/// (docs/kbuild-rules.md, "The rule sets").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleSet {
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
    fn phrase(self) -> &'static str {
        match self {
            RuleSet::Merged72 => "the merged (7.2+) rules",
            RuleSet::Merged71 => "the merged (7.1) rules",
            RuleSet::V2 => "the v2-style rules",
            RuleSet::NoInlining => "no helper inlining",
        }
    }

    fn merged(self) -> bool {
        matches!(self, RuleSet::Merged72 | RuleSet::Merged71)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

/// The checks' findings, in order.
struct Findings {
    lines: Vec<(Level, String)>,
}

impl Findings {
    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.lines.push((level, text.into()));
    }
}

/// Runs every check, prints the lines, and returns the exit code (0 or 1).
pub fn run(kernel: Option<&Path>) -> anyhow::Result<u8> {
    let mut r = Findings { lines: Vec::new() };
    let settings = match Settings::from_lookup(|k| std::env::var_os(k)) {
        Ok(s) => s,
        Err(e) => {
            r.say(Level::Fail, format!("{e:#}"));
            // Go on with plain PATH so the remaining checks still say something.
            Settings::from_lookup(|k| (k == "PATH").then(|| std::env::var_os(k)).flatten())?
        }
    };
    let dir = kernel.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let recorded = Recorded::read(&dir.join(AUTO_CONF));
    let rustc = check_rustc(&mut r, &recorded);
    for base in TOOLS {
        check_tool(&mut r, base, rustc.as_ref(), &settings);
    }
    check_llvm_var(&mut r);
    check_kernel(&mut r, kernel, &settings, &recorded);
    let mut out = std::io::stdout().lock();
    for (level, text) in &r.lines {
        let tag = match level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        writeln!(out, "{tag} {text}")?;
    }
    Ok(u8::from(r.lines.iter().any(|(l, _)| *l == Level::Fail)))
}

/// The toolchain a kernel tree was configured with, as init/Kconfig records
/// it in `auto.conf` (int symbols; 0 or absent: unknown; docs/kbuild-pipeline.md §10).
#[derive(Debug, Default)]
struct Recorded {
    /// `CONFIG_RUSTC_VERSION`: rustc 1.96.0 is 109600 (scripts/rustc-version.sh).
    rustc: Option<u32>,
    /// `CONFIG_RUSTC_LLVM_VERSION`: LLVM 22.1.8 is 220108
    /// (scripts/rustc-llvm-version.sh).
    rustc_llvm: Option<u32>,
    /// `CONFIG_CLANG_VERSION`, numbered as LLVM's (0 when CC is not clang).
    clang: Option<u32>,
}

/// How kbuild numbers versions: `major * scale + minor * 100 + patch`
/// (scale 100000 for rustc, 10000 for LLVM and clang). "1.97.0-nightly"
/// counts as 1.97.0.
fn version_number(version: &str, scale: u32) -> Option<u32> {
    let mut parts = version.split('.').map(|p| {
        let digits = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
        p[..digits].parse::<u32>().ok()
    });
    let major = parts.next().flatten()?;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(major * scale + minor * 100 + patch)
}

const RUSTC_SCALE: u32 = 100_000;
const LLVM_SCALE: u32 = 10_000;

/// A kbuild version number as `X.Y.Z`.
fn show_version(n: u32, scale: u32) -> String {
    format!("{}.{}.{}", n / scale, n % scale / 100, n % 100)
}

impl Recorded {
    fn read(conf: &Path) -> Recorded {
        let Ok(text) = std::fs::read(conf) else {
            return Recorded::default();
        };
        let get = |key: &str| {
            kconfig::symbols(&text)
                .find(|(k, _)| *k == key.as_bytes())
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
                .filter(|&n| n != 0)
        };
        Recorded {
            rustc: get("CONFIG_RUSTC_VERSION"),
            rustc_llvm: get("CONFIG_RUSTC_LLVM_VERSION"),
            clang: get("CONFIG_CLANG_VERSION"),
        }
    }

    /// The recorded rustc, as `rustc 1.96.0, LLVM 22.1.8 (CONFIG_…=…)`.
    fn rustc_text(&self) -> String {
        let mut what = Vec::new();
        let mut syms = Vec::new();
        if let Some(n) = self.rustc {
            what.push(format!("rustc {}", show_version(n, RUSTC_SCALE)));
            syms.push(format!("CONFIG_RUSTC_VERSION={n}"));
        }
        if let Some(n) = self.rustc_llvm {
            what.push(format!("LLVM {}", show_version(n, LLVM_SCALE)));
            syms.push(format!("CONFIG_RUSTC_LLVM_VERSION={n}"));
        }
        format!("{} ({})", what.join(", "), syms.join(", "))
    }
}

/// The rustc kbuild runs, `$(RUSTC)`: `RUSTC` from the environment (a path,
/// or a name looked up in PATH), else `rustc` in PATH. Returns its path and
/// how it was chosen.
fn kbuild_rustc(path: &OsStr, me: Option<&SelfId>) -> (Option<PathBuf>, String) {
    match std::env::var_os("RUSTC").filter(|v| !v.is_empty()) {
        Some(v) => {
            let via = format!(" (RUSTC={})", v.to_string_lossy());
            let found = if Path::new(&v).components().count() > 1 {
                Some(PathBuf::from(&v)).filter(|p| p.is_file())
            } else {
                find_in(path, &v.to_string_lossy(), me)
            };
            (found, via)
        }
        None => (find_in(path, "rustc", me), String::new()),
    }
}

/// The rustc kbuild would run and its LLVM version, checked against the one
/// the tree was configured with; returns (release, LLVM version, major).
fn check_rustc(r: &mut Findings, recorded: &Recorded) -> Option<(String, String, u32)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let me = SelfId::current();
    let (found, via) = kbuild_rustc(&path, me.as_ref());
    let Some(rustc) = found else {
        r.say(
            Level::Fail,
            match via.is_empty() {
                true => "rustc: not in PATH (CONFIG_RUST needs it; install Rust, e.g. with rustup)"
                    .to_string(),
                false => format!("rustc{via}: no such executable"),
            },
        );
        return None;
    };
    let (release, llvm) = match rustc_versions(&rustc) {
        Ok(v) => v,
        Err(e) => {
            r.say(Level::Fail, format!("rustc{via}: {e:#}"));
            return None;
        }
    };
    r.say(
        Level::Ok,
        format!("rustc: {} ({release}, LLVM {llvm}){via}", rustc.display()),
    );
    let differs = |want: Option<u32>, have: &str, scale| {
        want.is_some_and(|w| version_number(have, scale) != Some(w))
    };
    if differs(recorded.rustc, &release, RUSTC_SCALE)
        || differs(recorded.rustc_llvm, &llvm, LLVM_SCALE)
    {
        // A rustc in PATH that is the recorded one, to name in the fix.
        let same = crate::path_search::split_dirs(&path)
            .into_iter()
            .filter_map(|d| find_in(d, "rustc", me.as_ref()))
            .find(|p| {
                rustc_versions(p).is_ok_and(|(rel, ll)| {
                    !differs(recorded.rustc, &rel, RUSTC_SCALE)
                        && !differs(recorded.rustc_llvm, &ll, LLVM_SCALE)
                })
            });
        let fix = match same {
            Some(p) => format!(
                "{p} is that rustc: make RUSTC={p} HOSTRUSTC={p} (and RUSTC={p} for --doctor)",
                p = p.display()
            ),
            None => "pass the rustc it was configured with as RUSTC= and HOSTRUSTC=".to_string(),
        };
        // kbuild notices the changed RUSTC_VERSION_TEXT and reconfigures with
        // this rustc; proc macros one rustc built do not load in another
        // (docs/kbuild-pipeline.md §9, §10).
        r.say(
            Level::Fail,
            format!(
                "rustc: the kernel tree was configured with {}, but kbuild would run {} \
                 ({release}, LLVM {llvm}){via} and reconfigure the tree with it: {fix}",
                recorded.rustc_text(),
                rustc.display()
            ),
        );
    } else if recorded.rustc.is_some() || recorded.rustc_llvm.is_some() {
        r.say(
            Level::Ok,
            format!(
                "rustc: the kernel tree was configured with this rustc: {}",
                recorded.rustc_text()
            ),
        );
    }
    let major = major_of(&llvm)?;
    Some((release, llvm, major))
}

/// `RUSTC_CLANG_LLVM_COMPATIBLE` as the tree's configuration decided it:
/// the recorded rustc LLVM major against the recorded clang's.
fn check_recorded_llvm(r: &mut Findings, recorded: &Recorded) {
    let (Some(rust), Some(clang)) = (recorded.rustc_llvm, recorded.clang) else {
        return;
    };
    let (rust_major, clang_major) = (rust / LLVM_SCALE, clang / LLVM_SCALE);
    let both = format!("CONFIG_RUSTC_LLVM_VERSION={rust}, CONFIG_CLANG_VERSION={clang}");
    if rust_major == clang_major {
        r.say(
            Level::Ok,
            format!(
                "RUSTC_CLANG_LLVM_COMPATIBLE: the tree's rustc and clang are both LLVM \
                 {rust_major} ({both})"
            ),
        );
    } else {
        r.say(
            Level::Fail,
            format!(
                "RUSTC_CLANG_LLVM_COMPATIBLE: the tree was configured with rustc's LLVM {} \
                 and clang {} ({both}): it is n, so CONFIG_RUST_INLINE_HELPERS cannot be \
                 set; configure with a rustc and a clang of one LLVM major",
                show_version(rust, LLVM_SCALE),
                show_version(clang, LLVM_SCALE)
            ),
        );
    }
}

/// `base-N` (N = rustc's LLVM major, as `LLVM=-N` asks for) and `base`, each
/// resolved as the shim in a masquerade directory would resolve it.
fn check_tool(
    r: &mut Findings,
    base: &str,
    rustc: Option<&(String, String, u32)>,
    settings: &Settings,
) {
    let var = settings.search_path_var;
    let mut names: Vec<String> = Vec::new();
    if let Some((_, _, major)) = rustc {
        names.push(format!("{base}-{major}"));
    }
    names.push(base.to_owned());
    let mut usable = false;
    let mut seen: Vec<String> = Vec::new();
    let me = SelfId::current();
    for name in &names {
        let Some(chain) = resolve_chain(settings, &me, name) else {
            // Not installed (also when only the shim's link answers to it).
            continue;
        };
        let path = chain.tool;
        let via = chain.note;
        let Some(version) = version_with_path(&path, chain.path.as_deref()) else {
            r.say(
                Level::Fail,
                format!("{name}: {} does not answer --version{via}", path.display()),
            );
            continue;
        };
        let matches = match rustc {
            Some((_, _, major)) => major_of(&version) == Some(*major),
            None => true,
        };
        usable |= matches;
        seen.push(format!("{name} is {version}"));
        let line = format!("{name}: {} ({version}){via}", path.display());
        match (matches, rustc) {
            (false, Some((_, llvm, major))) => r.say(
                Level::Warn,
                format!("{line}: not rustc's LLVM {llvm}; build with LLVM=-{major}"),
            ),
            _ => r.say(Level::Ok, line),
        }
    }
    match (rustc, usable, seen.is_empty()) {
        (_, _, true) => r.say(
            Level::Fail,
            format!("{base}: none of {} in {var}", names.join(", ")),
        ),
        (Some((release, llvm, major)), false, false) => r.say(
            Level::Fail,
            format!(
                "{base}: LLVM major differs from rustc {release}'s LLVM {llvm} \
                 ({}): RUSTC_CLANG_LLVM_COMPATIBLE would be n; install {base}-{major}",
                seen.join(", ")
            ),
        ),
        (Some((_, _, major)), true, false) if base == "clang" => r.say(
            Level::Ok,
            format!("RUSTC_CLANG_LLVM_COMPATIBLE: clang and rustc are both LLVM {major}"),
        ),
        _ => {}
    }
}

/// What running `name` through the shim ends at, as the shim itself decides.
struct Chain {
    /// The tool the shim executes.
    tool: PathBuf,
    /// The `PATH` the shim gives it (masquerade mode's cut list), if changed.
    path: Option<std::ffi::OsString>,
    /// How make gets there, when more than the tool is involved.
    note: String,
}

fn resolve_chain(settings: &Settings, me: &Option<SelfId>, name: &str) -> Option<Chain> {
    let full = Search {
        dirs: settings.search_dirs(),
        var: settings.search_path_var,
        me: me.as_ref(),
        base: None,
        after: None,
    };
    let name_os = OsStr::new(name);
    let mut cut = Search {
        dirs: full.dirs.clone(),
        ..full
    };
    // As the shim in a masquerade directory: search after its own directory
    // (if it is in the list under this name) and hand the cut PATH on.
    let path = cut.cut_after_shim_dir(name_os);
    let shim_dir = cut.after.map(|d| d.to_string_lossy().into_owned());
    let tool = cut.tool(name_os).ok()?;
    let mut note = String::new();
    // What make finds first: ccache's masquerade link before the shim's?
    let first = Search { me: None, ..full }.find(name_os).tool;
    if let (Some(first), Some(dir)) = (&first, &shim_dir) {
        if is_ccache(first) {
            note = format!(
                " (make runs ccache's {} first, ccache runs the shim in {dir}, \
                 and the shim runs this one)",
                first.display()
            );
        } else {
            note = format!(" (the shim in {dir} passes to it)");
        }
    }
    if is_ccache(&tool) {
        // The shim runs ccache with its own directories left out of PATH;
        // ccache then runs the first `name` in that PATH that is not ccache
        // (as ccache's find_executable_in_path skips itself).
        let dirs = path.as_deref().map_or_else(Vec::new, split_dirs);
        let real = dirs
            .iter()
            .map(|d| Path::new(d).join(name_os))
            .find(|c| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::metadata(c)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                    && !is_ccache(c)
            })
            .map_or("nothing".into(), |p| p.display().to_string());
        note +=
            &format!(" (ccache's masquerade link: the shim runs ccache, and ccache runs {real})");
    }
    Some(Chain { tool, path, note })
}

/// Is `p` a link to ccache (as in /usr/lib/ccache/clang-22)?
fn is_ccache(p: &Path) -> bool {
    std::fs::canonicalize(p)
        .ok()
        .is_some_and(|r| r.file_name() == Some(OsStr::new("ccache")))
}

/// `LLVM=<dir>/` makes kbuild call `<dir>/clang` by absolute path, which a
/// masquerade directory in PATH never sees.
fn check_llvm_var(r: &mut Findings) {
    let Some(llvm) = std::env::var_os("LLVM") else {
        return;
    };
    let v = llvm.to_string_lossy();
    if v.contains('/') {
        r.say(
            Level::Warn,
            format!(
                "LLVM={v}: kbuild runs {v}clang and {v}ld.lld by absolute path, so a masquerade \
                 directory in PATH is bypassed (no rule applies); use prefix mode: \
                 make LLVM={v} CC=\"kbuild-shim {v}clang\" LD=\"kbuild-shim {v}ld.lld\""
            ),
        );
    }
}

/// Backslash-continued make lines joined into one.
fn logical_lines(text: &str) -> Vec<String> {
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
fn rule_set(makefile_build: &str) -> RuleSet {
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
fn source_tree(obj: &Path) -> PathBuf {
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

/// The options of `words` that the shim drops from IR-input compiles, as
/// (the words, the rule): `-I x` stays together.
fn ir_drops(words: &[&str]) -> Vec<(String, &'static str)> {
    let args: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
    crate::cc::tokens::tokens(&args)
        .filter_map(|t| match t.token {
            crate::cc::tokens::Token::Opt {
                opt:
                    crate::cc::CcOption {
                        meaning: crate::cc::options::Meaning::IrDrop(rule),
                        ..
                    },
                ..
            } => Some((words[t.start..t.end.min(words.len())].join(" "), *rule)),
            _ => None,
        })
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
fn check_cflags_sources(r: &mut Findings, src: &Path) {
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

fn check_kernel(r: &mut Findings, kernel: Option<&Path>, settings: &Settings, recorded: &Recorded) {
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
    fn kbuild_version_numbers() {
        // scripts/rustc-version.sh and scripts/rustc-llvm-version.sh.
        assert_eq!(version_number("1.96.0", RUSTC_SCALE), Some(109_600));
        assert_eq!(version_number("1.97.0-nightly", RUSTC_SCALE), Some(109_700));
        assert_eq!(version_number("22.1.8", LLVM_SCALE), Some(220_108));
        assert_eq!(version_number("x", LLVM_SCALE), None);
        assert_eq!(show_version(109_600, RUSTC_SCALE), "1.96.0");
        assert_eq!(show_version(220_108, LLVM_SCALE), "22.1.8");
    }

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
}
