//! `kbuild-shim --doctor`: each FAIL path with fake tools in PATH, and the
//! all-ok path with the real toolchain and a kernel tree's auto.conf.

mod common;

use common::*;
use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

/// Fake tools answering `--version` / `-vV` like the real ones.
fn toolchain(dir: &Path, rustc_llvm: &str, clang: &str) {
    let say = |name: &str, text: &str| {
        write_exe(&dir.join(name), &format!("#!/bin/sh\nprintf '{text}\\n'\n"));
    };
    say(
        "rustc",
        &format!("rustc 1.95.0\\nbinary: rustc\\nrelease: 1.95.0\\nLLVM version: {rustc_llvm}"),
    );
    say(
        "clang-22",
        &format!("Debian clang version {clang} (1)\\nTarget: x86_64"),
    );
    say(
        "ld.lld-22",
        "Debian LLD 22.1.8 (compatible with GNU linkers)",
    );
    say(
        "llvm-link-22",
        "LLVM (http://llvm.org/):\\n  Debian LLVM version 22.1.8",
    );
}

fn doctor(path: OsString, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let cwd = tempfile::tempdir().unwrap();
    let mut c = shim();
    c.arg("--doctor")
        .args(args)
        .current_dir(cwd.path())
        .env("PATH", path);
    for (k, v) in env {
        c.env(k, v);
    }
    let o: Output = c.output().unwrap();
    assert_eq!(stderr(&o), "", "--doctor writes only to stdout");
    (o.status.code(), stdout(&o))
}

fn fails(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("FAIL ")).collect()
}

#[test]
fn all_ok_with_the_real_toolchain_and_an_arm_tree() {
    real_tool("clang-22");
    real_tool("rustc");
    let k = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(k.path().join("include/config")).unwrap();
    std::fs::write(
        k.path().join("include/config/auto.conf"),
        "CONFIG_RUST=y\nCONFIG_ARM=y\nCONFIG_LTO_CLANG=y\nCONFIG_RUST_INLINE_HELPERS=y\n",
    )
    .unwrap();
    let path = std::env::var_os("PATH").unwrap();
    let (code, out) = doctor(path, &["--kernel", k.path().to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(fails(&out).is_empty(), "{out}");
    for want in [
        "ok   clang-22: ",
        "ok   ld.lld-22: ",
        "ok   llvm-link-22: ",
        "ok   RUSTC_CLANG_LLVM_COMPATIBLE: clang and rustc are both LLVM 22",
        "ok   CONFIG_RUST=y",
        "ok   CONFIG_RUST_INLINE_HELPERS=y",
        "ok   CONFIG_LTO_CLANG=y",
        "ok   ARCH=arm: arch/arm/Makefile's -Uarm is unused",
        "handled by rule ir-drop-U",
        "handled by rule ir-add-no-override-module",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn clang_llvm_major_mismatch_fails_naming_both_versions() {
    let d = tempfile::tempdir().unwrap();
    toolchain(d.path(), "22.1.2", "21.1.0");
    let (code, out) = doctor(d.path().into(), &[], &[]);
    assert_eq!(code, Some(1), "{out}");
    let f = fails(&out);
    assert_eq!(f.len(), 1, "{out}");
    assert!(
        f[0].starts_with("FAIL clang: LLVM major differs from rustc 1.95.0's LLVM 22.1.2")
            && f[0].contains("clang-22 is 21.1.0")
            && f[0].contains("RUSTC_CLANG_LLVM_COMPATIBLE would be n"),
        "{out}"
    );
    assert!(out.contains("warn clang-22: "), "{out}");
}

#[test]
fn missing_tools_and_rustc_fail() {
    let d = tempfile::tempdir().unwrap();
    toolchain(d.path(), "22.1.2", "22.1.8");
    std::fs::remove_file(d.path().join("ld.lld-22")).unwrap();
    let (code, out) = doctor(d.path().into(), &[], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        fails(&out),
        ["FAIL ld.lld: none of ld.lld-22, ld.lld in PATH"],
        "{out}"
    );

    std::fs::remove_file(d.path().join("rustc")).unwrap();
    let (code, out) = doctor(d.path().into(), &[], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL rustc: not in PATH"), "{out}");
}

#[test]
fn a_path_where_only_the_shim_answers_is_not_installed() {
    let d = tempfile::tempdir().unwrap();
    toolchain(d.path(), "22.1.2", "22.1.8");
    std::fs::remove_file(d.path().join("clang-22")).unwrap();
    let bin = tempfile::tempdir().unwrap();
    for n in ["clang-22", "ld.lld-22"] {
        std::os::unix::fs::symlink(SHIM, bin.path().join(n)).unwrap();
    }
    let path = std::env::join_paths([bin.path(), d.path()]).unwrap();
    let (code, out) = doctor(path, &[], &[]);
    assert_eq!(code, Some(1), "{out}");
    let f = fails(&out);
    // Only the shim answers to clang-22: not installed (issue 12.11), not a loop.
    assert_eq!(f, ["FAIL clang: none of clang-22, clang in PATH"], "{out}");
    assert!(!out.contains("loop"), "{out}");
    // ld.lld-22 has a real tool after the shim's directory: fine, and said so.
    let shown = format!("(the shim in {} passes to it)", bin.path().display());
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok   ld.lld-22: ") && l.ends_with(&shown)),
        "{out}"
    );
}

#[test]
fn a_kernel_dir_without_auto_conf_and_bad_settings_fail() {
    real_tool("clang-22");
    let path = std::env::var_os("PATH").unwrap();
    let k = tempfile::tempdir().unwrap();
    let (code, out) = doctor(path.clone(), &["--kernel", k.path().to_str().unwrap()], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(fails(&out).len(), 1, "{out}");
    assert!(
        fails(&out)[0].starts_with("FAIL no kernel object tree: cannot read "),
        "{out}"
    );
    // Without --kernel, a missing tree in the cwd is only a warning.
    let (code, out) = doctor(path.clone(), &[], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("warn no kernel object tree"), "{out}");

    let (code, out) = doctor(path, &[], &[("KBUILD_SHIM_STRICT", "yes please")]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        fails(&out),
        ["FAIL KBUILD_SHIM_STRICT='yes please' is not valid: use 1 or 0"],
        "{out}"
    );
}

#[test]
fn usage_errors() {
    for args in [
        &["--doctor", "--kernel"][..],
        &["--doctor", "x"],
        &["--explain", "--doctor"],
    ] {
        let o = shim().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).starts_with("kbuild-shim: "), "{}", stderr(&o));
    }
}
