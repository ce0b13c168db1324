//! Masquerade mode next to other masquerading wrappers and other tool
//! layouts (issue 12, items 1, 10, 11): what `--doctor` says about them, and
//! Makefile.example refusing the form that bypasses PATH.

use crate::common;

use common::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mkshimdir directory (links named clang, clang-22, ld.lld, ld.lld-22, ld).
fn mkshimdir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("shimbin.")
        .tempdir()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run_in(
        root,
        root.join("wrapper-scripts/mkshimdir"),
        &[
            OsString::from("--version"),
            "22".into(),
            d.path().into(),
            SHIM.into(),
        ],
    );
    check(&o, "mkshimdir");
    d
}

fn doctor(path: &OsString, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let cwd = tempfile::tempdir().unwrap();
    let mut c = shim();
    c.arg("--doctor")
        .current_dir(cwd.path())
        .env("PATH", path)
        .env_remove("LLVM");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert_eq!(stderr(&o), "", "--doctor writes only to stdout");
    (o.status.code(), stdout(&o))
}

fn dir_of(tool: &str) -> PathBuf {
    real_tool(tool).parent().unwrap().to_path_buf()
}

/// Issue 12.1: with ccache's masquerade directory and the shim's both in
/// PATH, the doctor follows the chain (and ccache answers --version through
/// it) instead of reporting a dead tool.
#[test]
fn doctor_follows_the_ccache_chain_in_either_order() {
    let ccache = PathBuf::from("/usr/lib/ccache");
    real_tool("ccache");
    real_tool("clang-22");
    if !ccache.join("clang-22").exists() {
        // ccache's dpkg trigger makes the links; set them up if it has not.
        let o = Command::new("update-ccache-symlinks").output();
        assert!(
            o.is_ok_and(|o| o.status.success()),
            "update-ccache-symlinks failed"
        );
    }
    assert!(
        ccache.join("clang-22").exists(),
        "/usr/lib/ccache/clang-22 is missing after update-ccache-symlinks"
    );
    let shims = mkshimdir();
    let rustc = dir_of("rustc");
    for (order, dirs) in [
        ("shim first", [shims.path(), ccache.as_path()]),
        ("ccache first", [ccache.as_path(), shims.path()]),
    ] {
        let path = std::env::join_paths(dirs.iter().map(|d| d.to_path_buf()).chain([
            rustc.clone(),
            "/usr/bin".into(),
            "/bin".into(),
        ]))
        .unwrap();
        let (code, out) = doctor(&path, &[]);
        assert!(
            !out.contains("does not answer --version"),
            "{order}:\n{out}"
        );
        assert!(!out.contains("loop"), "{order}:\n{out}");
        let line = out
            .lines()
            .find(|l| l.starts_with("ok   clang-22: "))
            .unwrap_or_else(|| panic!("{order}: no clang-22 line:\n{out}"));
        match order {
            "shim first" => assert!(
                line.contains("/usr/lib/ccache/clang-22")
                    && line.contains("the shim runs ccache, and ccache runs /usr/bin/clang-22"),
                "{line}"
            ),
            _ => assert!(
                line.starts_with("ok   clang-22: /usr/bin/clang-22 ")
                    && line.contains("make runs ccache's /usr/lib/ccache/clang-22 first"),
                "{line}"
            ),
        }
        assert_eq!(code, Some(0), "{order}:\n{out}");
    }
}

/// Issue 12.11: on a machine with only versioned tools, mkshimdir's unversioned
/// links have no real tool behind them: "not installed", as without the
/// directory, not a loop. Running such a link exits 127.
#[test]
fn an_unversioned_link_without_a_real_tool_is_not_installed() {
    let shims = mkshimdir();
    let tools = tempfile::tempdir().unwrap();
    for t in ["clang-22", "ld.lld-22", "llvm-link-22", "rustc"] {
        std::os::unix::fs::symlink(real_tool(t), tools.path().join(t)).unwrap();
    }
    let path = std::env::join_paths([shims.path(), tools.path()]).unwrap();
    let (code, out) = doctor(&path, &[]);
    assert!(!out.contains("loop"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("FAIL ")), "{out}");
    assert!(out.contains("ok   clang-22: "), "{out}");
    assert_eq!(code, Some(0), "{out}");
    let o = Command::new(shims.path().join("clang"))
        .arg("--version")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("kbuild-shim: cannot find 'clang' in PATH after"));
}

/// Issue 12.10: `LLVM=<dir>/` makes kbuild run `<dir>/clang` by its path;
/// the doctor says a masquerade directory is bypassed and how to use prefix
/// mode, and Makefile.example's PATH-dir target refuses it.
#[test]
fn llvm_dir_form_is_named_as_bypassing_masquerade_mode() {
    let path = std::env::join_paths([dir_of("rustc"), "/usr/bin".into(), "/bin".into()]).unwrap();
    let (_, out) = doctor(&path, &[("LLVM", "/usr/lib/llvm-22/bin/")]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("warn LLVM=/usr/lib/llvm-22/bin/: ")
                && l.contains("masquerade directory in PATH is bypassed")
                && l.contains("CC=\"kbuild-shim /usr/lib/llvm-22/bin/clang\"")),
        "{out}"
    );
    let (_, out) = doctor(&path, &[("LLVM", "-22")]);
    assert!(!out.contains("warn LLVM="), "{out}");

    let kernel = tempfile::tempdir().unwrap();
    std::fs::write(kernel.path().join("Makefile"), "all:\n").unwrap();
    let make = |llvm: &str| {
        Command::new(real_tool("make"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "-s",
                "-f",
                "Makefile.example",
                "kernel-shimdir",
                "DRY_RUN=1",
            ])
            .arg(format!("KERNEL_SRC={}", kernel.path().display()))
            .arg(format!("SHIMDIR={}", kernel.path().join("bin").display()))
            .arg(format!("LLVM={llvm}"))
            .output()
            .unwrap()
    };
    let o = make("/usr/lib/llvm-22/bin/");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("kernel-shimdir: LLVM=/usr/lib/llvm-22/bin/ makes kbuild run /usr/lib/llvm-22/bin/clang by its path"),
        "{}",
        stderr(&o)
    );
    check(&make("-22"), "kernel-shimdir LLVM=-22 DRY_RUN=1");
}
