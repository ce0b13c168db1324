//! The rustc kbuild would run, against the one the tree was configured with
//! (`auto.conf`), and `RUSTC_CLANG_LLVM_COMPATIBLE` as configured.

use super::{Findings, Level};
use crate::kconfig;
use crate::path_search::SelfId;
use crate::tools::toolchain::{find_in, major_of, rustc_versions};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The toolchain a kernel tree was configured with, as init/Kconfig records
/// it in `auto.conf` (int symbols; 0 or absent: unknown; docs/kbuild-pipeline.md §10).
#[derive(Debug, Default)]
pub struct Recorded {
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
    pub fn read(conf: &Path) -> Recorded {
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
pub fn check_rustc(r: &mut Findings, recorded: &Recorded) -> Option<(String, String, u32)> {
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
pub fn check_recorded_llvm(r: &mut Findings, recorded: &Recorded) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
