//! Finding the toolchain and its versions: shared by `--demo` and `--doctor`.

use crate::path_search::{split_dirs, Search, SelfId};
use crate::{code, fail};
use anyhow::Context;
use std::ffi::OsStr;
use std::fmt::Write as _;
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
    Search::new(split_dirs(search), "PATH", me, None)
        .find(OsStr::new(name))
        .tool
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

/// The LLVM tools the tree uses (base name, make variable, Debian package prefix).
pub const LLVM_TOOLS: [(&str, &str, &str); 5] = [
    ("clang", "CC", "clang"),
    ("ld.lld", "LD", "lld"),
    ("llvm-link", "LLVM_LINK", "llvm"),
    ("llvm-objdump", "LLVM_OBJDUMP", "llvm"),
    ("llvm-nm", "LLVM_NM", "llvm"),
];

/// What the demo builds with: rustc, and LLVM tools of rustc's LLVM major
/// (`RUSTC_CLANG_LLVM_COMPATIBLE`), in [`LLVM_TOOLS`] order.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub rustc: Tool,
    pub rustc_llvm: String,
    pub major: u32,
    pub llvm: Vec<Tool>,
    pub make: PathBuf,
}

/// Finds rustc, make and the LLVM tools in `search` (a PATH value).
pub fn discover(search: &OsStr) -> anyhow::Result<Toolchain> {
    let me = SelfId::current();
    let me = me.as_ref();
    let Some(rustc) = find_in(search, "rustc", me) else {
        return Err(fail(
            code::NOT_FOUND,
            "--demo needs rustc, which is not in PATH: install Rust (e.g. with rustup); \
             its LLVM version decides which clang-N, lld-N and llvm-N packages to install",
        ));
    };
    let (release, rustc_llvm) = rustc_versions(&rustc)?;
    let Some(major) = major_of(&rustc_llvm) else {
        return Err(fail(
            code::USAGE,
            format!("cannot read rustc's LLVM version '{rustc_llvm}'"),
        ));
    };
    let mut llvm = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut packages: Vec<String> = Vec::new();
    for (base, _, pkg) in LLVM_TOOLS {
        let versioned = format!("{base}-{major}");
        // The versioned name first, as LLVM=-N would; an unversioned tool
        // only if it is the same LLVM major.
        let found = [versioned.as_str(), base].into_iter().find_map(|name| {
            let path = find_in(search, name, me)?;
            let version = version_of(&path)?;
            (major_of(&version) == Some(major)).then_some(Tool { path, version })
        });
        match found {
            Some(t) => llvm.push(t),
            None => {
                missing.push(versioned);
                let pkg = format!("{pkg}-{major}");
                if !packages.contains(&pkg) {
                    packages.push(pkg);
                }
            }
        }
    }
    let make = find_in(search, "make", me);
    if make.is_none() {
        missing.push("make".into());
        packages.push("make".into());
    }
    if let (Some(make), true) = (make, missing.is_empty()) {
        return Ok(Toolchain {
            rustc: Tool {
                path: rustc,
                version: release,
            },
            rustc_llvm,
            major,
            llvm,
            make,
        });
    }
    Err(fail(
        code::NOT_FOUND,
        format!(
            "--demo needs LLVM {major} tools to match rustc {release} (LLVM {rustc_llvm}); \
             not found in PATH: {}\ninstall them with: apt-get install -y {}",
            missing.join(", "),
            packages.join(" ")
        ),
    ))
}

impl Toolchain {
    /// One line: which tools, where, which versions.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "toolchain: rustc {} (LLVM {}) at {}; ",
            self.rustc.version,
            self.rustc_llvm,
            self.rustc.path.display()
        );
        let dirs: Vec<_> = self.llvm.iter().map(|t| t.path.parent()).collect();
        let same_dir = dirs.iter().all(|d| *d == dirs[0]);
        let same_version = self.llvm.iter().all(|t| t.version == self.llvm[0].version);
        let names: Vec<String> = self
            .llvm
            .iter()
            .map(|t| {
                let shown = if same_dir {
                    t.path.file_name().unwrap_or_default().to_string_lossy()
                } else {
                    t.path.to_string_lossy()
                };
                if same_version {
                    shown.into_owned()
                } else {
                    format!("{shown} ({})", t.version)
                }
            })
            .collect();
        if same_version {
            let _ = write!(s, "LLVM {} tools: ", self.llvm[0].version);
        }
        match dirs[0] {
            Some(d) if same_dir => {
                let _ = write!(s, "{}/{{{}}}", d.display(), names.join(","));
            }
            _ => s.push_str(&names.join(" ")),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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

    fn fake(dir: &Path, name: &str, stdout: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\nprintf '%s\\n' '{stdout}'\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Discovery against fake tools (scripts that print a version). All in
    /// one test: writing and then running scripts from parallel tests can
    /// hit ETXTBSY.
    #[test]
    fn discovery() {
        let d = tempfile::tempdir().unwrap();
        let search = d.path().as_os_str();
        let err = discover(search).unwrap_err();
        assert_eq!(crate::exit_code_of(&err), code::NOT_FOUND);
        assert!(err.to_string().contains("needs rustc"), "{err}");

        fake(
            d.path(),
            "rustc",
            "rustc 1.95.0\nrelease: 1.95.0\nLLVM version: 22.1.2",
        );
        let err = discover(search).unwrap_err().to_string();
        assert!(
            err.ends_with("install them with: apt-get install -y clang-22 lld-22 llvm-22 make"),
            "{err}"
        );
        assert!(err.contains("clang-22, ld.lld-22, llvm-link-22"), "{err}");

        // Versioned names, and unversioned ones only with the same major.
        fake(d.path(), "clang-22", "Debian clang version 22.1.8 (x)");
        fake(
            d.path(),
            "ld.lld",
            "Debian LLD 22.1.0 (compatible with GNU linkers)",
        );
        fake(d.path(), "llvm-link", "LLVM version 21.1.0");
        fake(d.path(), "llvm-objdump-22", "LLVM version 22.1.8");
        fake(d.path(), "llvm-nm-22", "LLVM version 22.1.8");
        fake(d.path(), "make", "GNU Make 4.3");
        let err = discover(search).unwrap_err();
        assert_eq!(crate::exit_code_of(&err), code::NOT_FOUND);
        let err = err.to_string();
        assert!(err.contains("not found in PATH: llvm-link-22\n"), "{err}");
        assert!(err.ends_with("apt-get install -y llvm-22"), "{err}");

        fake(d.path(), "llvm-link-22", "LLVM version 22.1.8");
        let t = discover(search).unwrap();
        assert_eq!(t.major, 22);
        let names: Vec<_> = t.llvm.iter().map(|t| t.path.file_name().unwrap()).collect();
        assert_eq!(
            names,
            [
                "clang-22",
                "ld.lld",
                "llvm-link-22",
                "llvm-objdump-22",
                "llvm-nm-22"
            ]
        );
        let line = t.describe();
        assert!(line.contains("ld.lld (22.1.0)"), "{line}");
        assert!(line.contains("1.95.0 (LLVM 22.1.2)"), "{line}");
    }
}
