//! `kbuild-shim --doctor [--kernel DIR]`: one line per check, `ok`, `warn`
//! or `FAIL`, about the tools the shim would run (found exactly as the shim
//! finds them), rustc's LLVM against clang's, PATH loops, and the kernel
//! object tree's configuration. Exit 0 only when nothing FAILs.

use super::toolchain::{find_in, major_of, rustc_versions, version_with_path};
use crate::kconfig::{self, Inline, AUTO_CONF};
use crate::path_search::{Search, SelfId};
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
/// x86_64 also sets `CONFIG_X86_64`).
const ARCHES: [(&str, &str); 4] = [
    ("CONFIG_UML", "um"),
    ("CONFIG_ARM64", "arm64"),
    ("CONFIG_ARM", "arm"),
    ("CONFIG_X86_64", "x86_64"),
];

/// Known problems per ARCH (docs/kbuild-pipeline.md §2) and the rule that handles each.
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
];

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
    let rustc = check_rustc(&mut r);
    for base in TOOLS {
        check_tool(&mut r, base, rustc.as_ref(), &settings);
    }
    check_llvm_var(&mut r);
    check_kernel(&mut r, kernel, &settings);
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

/// rustc and its LLVM version; returns (release, LLVM version, major).
fn check_rustc(r: &mut Findings) -> Option<(String, String, u32)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let me = SelfId::current();
    let Some(rustc) = find_in(&path, "rustc", me.as_ref()) else {
        r.say(
            Level::Fail,
            "rustc: not in PATH (CONFIG_RUST needs it; install Rust, e.g. with rustup)",
        );
        return None;
    };
    match rustc_versions(&rustc) {
        Ok((release, llvm)) => {
            r.say(
                Level::Ok,
                format!("rustc: {} ({release}, LLVM {llvm})", rustc.display()),
            );
            let major = major_of(&llvm)?;
            Some((release, llvm, major))
        }
        Err(e) => {
            r.say(Level::Fail, format!("rustc: {e:#}"));
            None
        }
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
        // The shim runs ccache with PATH cut after its own directory; ccache
        // then runs the first `name` in that PATH that is not ccache.
        let after_ccache = Search {
            dirs: split_after(path.as_deref(), &tool),
            var: "PATH",
            me: None,
            base: None,
            after: None,
        }
        .find(name_os)
        .tool;
        let real = after_ccache.map_or("nothing".into(), |p| p.display().to_string());
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

/// The directories of `path` after the one holding `tool`.
fn split_after<'a>(path: Option<&'a OsStr>, tool: &Path) -> Vec<&'a OsStr> {
    let dirs = path.map_or_else(Vec::new, crate::path_search::split_dirs);
    let dir = tool.parent().map(Path::as_os_str);
    match dirs.iter().position(|d| Some(*d) == dir) {
        Some(i) => dirs[i + 1..].to_vec(),
        None => dirs,
    }
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

fn check_kernel(r: &mut Findings, kernel: Option<&Path>, settings: &Settings) {
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
    r.say(
        Level::Ok,
        format!(
            "CONFIG_RUST_INLINE_HELPERS={inline}{why}: {}",
            match gate_on {
                true => "IR-input compiles run; the shim rewrites them",
                false => "the shim copies instead of the single-object ld -r of Rust objects",
            }
        ),
    );
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
            "ARCH: none of CONFIG_UML, CONFIG_ARM64, CONFIG_ARM, CONFIG_X86_64 is set",
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
