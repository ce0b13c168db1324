//! `kbuild-shim --demo` end to end with the real toolchain, and its
//! missing-tool hints with a PATH built to lack clang (or rustc).

use crate::common;

use common::*;
use std::ffi::OsStr;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

const UNUSED: &str = "clang-22: error: argument unused during compilation: ";

fn demo(args: &[&OsStr], env: &[(&str, &OsStr)]) -> Output {
    let mut c = shim();
    c.arg("--demo").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

/// The table's rows as columns (cells are separated by two or more spaces).
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip_while(|l| !l.starts_with("arch "))
        .take_while(|l| !l.is_empty())
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The lines under "plain clang's first error:".
fn notes(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| *l != "plain clang's first error:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// The verdict, its continuation lines joined.
fn verdict(out: &str) -> String {
    let mut lines = out.lines().skip_while(|l| !l.starts_with("verdict: "));
    let mut v = lines.next().expect("a verdict line").to_owned();
    for l in lines.take_while(|l| l.starts_with("  ")) {
        v.push(' ');
        v.push_str(l.trim_start());
    }
    v
}

/// What every successful demo prints, row by row.
fn assert_table(out: &str) {
    let ok = |arch: &str, rules: &str, extra: &str, inline: &str, ld: &str, plain: &str| {
        let inlined = if inline == "1" { "yes" } else { "no" };
        [arch, rules, extra, inline, "1", "ok", inlined, ld, plain]
            .map(str::to_owned)
            .to_vec()
    };
    let want = [
        [
            "arch",
            "rules",
            "extra",
            "INLINE",
            "LTO",
            "shim",
            "inlined",
            "Rust ld -r",
            "plain clang",
        ]
        .map(str::to_owned)
        .to_vec(),
        ok("x86_64", "merged", "-", "1", "ran", "ok"),
        ok("arm", "merged", "-", "1", "ran", "FAILED [1]"),
        ok("um", "merged", "-", "1", "ran", "FAILED [2]"),
        ok("arm64", "merged", "-", "1", "ran", "ok"),
        ok("riscv", "merged", "-", "1", "ran", "ok"),
        ok("loongarch", "merged", "-", "1", "ran", "ok"),
        ok(
            "x86_64",
            "merged",
            "subdir-ccflags-y",
            "1",
            "ran",
            "FAILED [3]",
        ),
        ok("x86_64", "merged", "M=extmod", "1", "ran", "FAILED [4]"),
        ok("x86_64", "merged", "KCFLAGS", "1", "ran", "FAILED [5]"),
        ok("x86_64", "v2", "-", "0", "skipped-copy", "ok"),
        ok("x86_64", "merged", "-", "0", "not run", "ok"),
    ];
    assert_eq!(rows(out), want, "\n{out}");
    let want_notes = [
        format!("[1] {UNUSED}'-U arm'"),
        format!("[2] {UNUSED}'-I ./arch/um/include/shared' (+2 more)"),
        format!("[3] {UNUSED}'-I fs/foo/include'"),
        format!("[4] {UNUSED}'-I extmod/include' (+1 more)"),
        format!("[5] {UNUSED}'-fmacro-prefix-map=/usr/src/linux=.'"),
    ];
    assert_eq!(notes(out), want_notes, "\n{out}");
    assert_eq!(
        verdict(out),
        "verdict: OK: plain clang broke on arm ('-U arm'), um ('-I ./arch/um/include/shared'), \
         x86_64 subdir-ccflags-y ('-I fs/foo/include'), x86_64 M=extmod ('-I extmod/include'), \
         x86_64 KCFLAGS ('-fmacro-prefix-map=/usr/src/linux=.') and passed on x86_64, arm64, \
         riscv, loongarch, x86_64 v2 INLINE=0, x86_64 merged INLINE=0; with the shim all 11 \
         builds pass, inlining is proven in every INLINE=1 build, and with INLINE=0 the Rust \
         ld -r is a copy under RULES=v2 and not run under merged",
        "\n{out}"
    );
    // Readable in 100 columns (the first two lines and --keep's name paths).
    for l in out
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with("trees kept in "))
    {
        assert!(l.chars().count() <= 100, "wider than 100 columns: {l}");
    }
    let tools = out.lines().next().unwrap();
    assert!(tools.starts_with("toolchain: rustc "), "{tools}");
    assert!(tools.contains("clang-22"), "{tools}");
}

#[test]
fn demo_passes_and_cleans_up() {
    need_minikbuild_tools();
    let tmp = tempfile::tempdir().unwrap();
    let o = demo(&[], &[("TMPDIR", tmp.path().as_os_str())]);
    check(&o, "kbuild-shim --demo");
    assert_table(&stdout(&o));
    assert!(!stdout(&o).contains("kept"), "{}", stdout(&o));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary trees left: {left:?}");
}

/// `--keep DIR` leaves the trees; a rerun replaces them; a directory the
/// demo did not write is refused, not deleted. The rerun has a mkshimdir
/// directory first in PATH, which must not pass for plain clang-22.
#[test]
fn demo_keep_leaves_trees() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let keep = t.path().join("out");
    let o = demo(&[OsStr::new("--keep"), keep.as_os_str()], &[]);
    check(&o, "kbuild-shim --demo --keep");
    let out = stdout(&o);
    assert_table(&out);
    let keep = keep.canonicalize().unwrap();
    assert!(
        out.contains(&format!("trees kept in {}", keep.display())),
        "{out}"
    );
    let mut dirs: Vec<String> = std::fs::read_dir(&keep)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        [
            "arm-merged-inline1-lto1-plain",
            "arm-merged-inline1-lto1-shim",
            "arm64-merged-inline1-lto1-plain",
            "arm64-merged-inline1-lto1-shim",
            "loongarch-merged-inline1-lto1-plain",
            "loongarch-merged-inline1-lto1-shim",
            "riscv-merged-inline1-lto1-plain",
            "riscv-merged-inline1-lto1-shim",
            "um-merged-inline1-lto1-plain",
            "um-merged-inline1-lto1-shim",
            "x86_64-merged-inline0-lto1-plain",
            "x86_64-merged-inline0-lto1-shim",
            "x86_64-merged-inline1-lto1-extmod-plain",
            "x86_64-merged-inline1-lto1-extmod-shim",
            "x86_64-merged-inline1-lto1-kcflags-plain",
            "x86_64-merged-inline1-lto1-kcflags-shim",
            "x86_64-merged-inline1-lto1-plain",
            "x86_64-merged-inline1-lto1-shim",
            "x86_64-merged-inline1-lto1-subdir-plain",
            "x86_64-merged-inline1-lto1-subdir-shim",
            "x86_64-v2-inline0-lto1-plain",
            "x86_64-v2-inline0-lto1-shim",
        ]
    );
    let arm = keep.join("arm-merged-inline1-lto1-shim");
    assert!(is_elf(&arm.join("rust/foo.o")));
    assert!(!keep
        .join("arm-merged-inline1-lto1-plain/rust/foo.o")
        .exists());
    let mode = std::fs::metadata(arm.join("check-inline.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "check-inline.sh stays executable");

    let shimdir = t.path().join("shimdir");
    std::fs::create_dir(&shimdir).unwrap();
    symlink(SHIM, shimdir.join("clang-22")).unwrap();
    symlink(SHIM, shimdir.join("ld.lld-22")).unwrap();
    let path = path_with(&[&shimdir]);
    let o = demo(
        &[OsStr::new("--keep"), keep.as_os_str()],
        &[("PATH", path.as_os_str())],
    );
    check(&o, "kbuild-shim --demo --keep, again");
    assert_table(&stdout(&o));
    assert!(!stdout(&o).contains(&shimdir.display().to_string()));

    let foreign = keep.join("um-merged-inline1-lto1-plain");
    std::fs::remove_file(foreign.join(".kbuild-shim-demo")).unwrap();
    let o = demo(&[OsStr::new("--keep"), keep.as_os_str()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was not written by --demo"),
        "{}",
        stderr(&o)
    );
    assert!(foreign.join("Makefile").exists(), "left alone");
}

/// rustc's LLVM major, as the demo reads it.
fn rustc_llvm_major(rustc: &Path) -> String {
    let o = run_in(Path::new("."), rustc, &["-vV"]);
    check(&o, "rustc -vV");
    let text = stdout(&o);
    let v = text
        .lines()
        .find_map(|l| l.strip_prefix("LLVM version: "))
        .expect("rustc -vV names its LLVM");
    v.split('.').next().unwrap().to_owned()
}

/// A directory with only `tools` (symlinks to the real ones): the PATH a
/// machine without the others would have.
fn path_of(dir: &Path, tools: &[(&str, PathBuf)]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for (name, target) in tools {
        symlink(target, bin.join(name)).unwrap();
    }
    bin
}

#[test]
fn demo_without_clang_names_packages() {
    need_minikbuild_tools();
    // The toolchain's own rustc, not a rustup proxy that needs more of PATH.
    let o = run_in(Path::new("."), "rustc", &["--print", "sysroot"]);
    check(&o, "rustc --print sysroot");
    let rustc = PathBuf::from(stdout(&o).trim()).join("bin/rustc");
    let n = rustc_llvm_major(&rustc);
    let t = tempfile::tempdir().unwrap();
    let bin = path_of(
        t.path(),
        &[
            ("rustc", rustc),
            ("make", real_tool("make")),
            ("sh", real_tool("sh")),
        ],
    );
    assert!(!bin.join(format!("clang-{n}")).exists());
    let o = demo(&[], &[("PATH", bin.as_os_str())]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("to match rustc ") && err.contains(&format!("(LLVM {n}.")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "not found in PATH: clang-{n}, ld.lld-{n}, llvm-link-{n}, llvm-objdump-{n}, llvm-nm-{n}\n"
        )),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with(&format!(
            "install them with: apt-get install -y clang-{n} lld-{n} llvm-{n}"
        )),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "no table: {}", stdout(&o));
}

#[test]
fn demo_without_rustc_says_so() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let bin = path_of(
        t.path(),
        &[
            ("make", real_tool("make")),
            ("clang-22", real_tool("clang-22")),
        ],
    );
    let o = demo(&[], &[("PATH", bin.as_os_str())]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--demo needs rustc, which is not in PATH"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}
