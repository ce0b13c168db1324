//! The tools the shim would run, found as the shim finds them, and how make
//! reaches them (ccache's masquerade directory before or after the shim's).

use super::{Findings, Level};
use crate::path_search::{split_dirs, SelfId};
use crate::settings::Settings;
use crate::tools::toolchain::{major_of, version_with_path};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `base-N` (N = rustc's LLVM major, as `LLVM=-N` asks for) and `base`, each
/// resolved as the shim in a masquerade directory would resolve it.
pub fn check_tool(
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
    let name_os = OsStr::new(name);
    let mut cut = settings.search(me.as_ref(), None);
    // As the shim in a masquerade directory: search after its own directory
    // (if it is in the list under this name) and hand the cut PATH on.
    let path = cut.cut_after_shim_dir(name_os);
    let shim_dir = cut.after.map(|d| d.to_string_lossy().into_owned());
    let tool = cut.tool(name_os).ok()?;
    let mut note = String::new();
    // What make finds first: ccache's masquerade link before the shim's?
    let first = settings.search(None, None).find(name_os).tool;
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
pub fn check_llvm_var(r: &mut Findings) {
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
