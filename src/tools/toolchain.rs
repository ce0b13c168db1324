//! Finding the toolchain and its versions: shared by `--demo` and `--doctor`.

use crate::path_search::{split_dirs, Search, SelfId};
use crate::{code, fail};
use anyhow::Context;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, Clone)]
pub struct Tool {
    pub path: PathBuf,
    pub version: String,
}

/// The first `X.Y[.Z]` word in a `--version` output ("Debian clang version
/// 22.1.8 (…)", "Debian LLD 22.1.8 (…)", "LLVM version 22.1.8").
pub fn version_in(text: &str) -> Option<&str> {
    text.split_whitespace().find(|w| {
        w.contains('.')
            && w.starts_with(|c: char| c.is_ascii_digit())
            && w.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

pub fn major_of(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// The first executable `name` in `search` that is not this binary (a
/// mkshimdir directory in PATH must not pass for the plain tool).
pub fn find_in(search: &OsStr, name: &str, me: Option<&SelfId>) -> Option<PathBuf> {
    let search = Search {
        dirs: split_dirs(search),
        var: "PATH",
        me,
        base: None,
        after: None,
    };
    search.find(OsStr::new(name)).tool
}

pub fn version_of(path: &Path) -> Option<String> {
    version_with_path(path, None)
}

/// `path --version`'s version, run with `PATH=path_env` when given (as the
/// shim would run it).
pub fn version_with_path(path: &Path, path_env: Option<&OsStr>) -> Option<String> {
    let mut cmd = Command::new(path);
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let out = cmd
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    out.status
        .success()
        .then(|| version_in(&text).map(str::to_owned))
        .flatten()
}

/// rustc's release and LLVM version, from `rustc -vV`.
pub fn rustc_versions(rustc: &Path) -> anyhow::Result<(String, String)> {
    let out = Command::new(rustc)
        .arg("-vV")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run '{} -vV'", rustc.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
    };
    match (field("release:"), field("LLVM version:")) {
        (Some(release), Some(llvm)) => Ok((release, llvm)),
        _ => Err(fail(
            code::USAGE,
            format!(
                "'{} -vV' does not say 'release:' and 'LLVM version:'",
                rustc.display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            version_in("Debian clang version 22.1.8 (1~deb12u1)\nTarget: x"),
            Some("22.1.8")
        );
        assert_eq!(
            version_in("Debian LLD 22.1.8 (compatible with GNU linkers)"),
            Some("22.1.8")
        );
        assert_eq!(
            version_in("\nllvm-nm, compatible with GNU nm\nDebian LLVM version 22.1.8\n"),
            Some("22.1.8")
        );
        assert_eq!(version_in("no version here 22"), None);
        assert_eq!(major_of("22.1.2"), Some(22));
    }
}
