//! The mini kbuild tree (examples/minikbuild) built with the real clang-22,
//! ld.lld-22 and rustc: plain clang reproduces the arm/um IR-compile errors,
//! the shim fixes them and the helpers are really inlined, and with LTO the
//! Rust object's single-object `ld -r` runs or is gated exactly as it should.
//! Also Makefile.example's mini-* targets and the one-word wrapper scripts.

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

const UNUSED: &str = "clang-22: error: argument unused during compilation: ";
const WERROR: &str = " [-Werror,-Wunused-command-line-argument]";

fn unused(arg: &str) -> String {
    format!("{UNUSED}'{arg}'{WERROR}")
}

fn vars(arch: &str, inline: u8, lto: u8) -> Vec<String> {
    vec![
        format!("ARCH={arch}"),
        format!("INLINE={inline}"),
        format!("LTO={lto}"),
    ]
}

fn make_s(dir: &Path, args: &[String], env: &[(&str, &OsStr)]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    make(dir, &args, env)
}

fn nm(obj: &Path) -> String {
    let o = run_in(Path::new("."), real_tool("llvm-nm-22"), &[obj]);
    check(&o, "llvm-nm-22");
    stdout(&o)
}

/// Independent of check-inline.sh: the symbol table of the final object.
/// Linked in (`llvm-link --internalize`), an inlined helper vanishes while
/// the never-inlined control stays as a local function; not linked in,
/// every helper is an undefined reference.
fn assert_symbols(obj: &Path, inlined: bool) {
    let syms = nm(obj);
    let has = |kind: &str, name: &str| {
        syms.lines()
            .any(|l| l.split_whitespace().rev().take(2).eq([name, kind]))
    };
    for h in [
        "rust_helper_add",
        "rust_helper_rotl",
        "rust_helper_mul_wide",
    ] {
        let mentioned = syms.contains(h);
        assert_eq!(mentioned, !inlined, "{h} in {}:\n{syms}", obj.display());
        assert_eq!(has("U", h), !inlined, "{h} in {}:\n{syms}", obj.display());
    }
    let control = if inlined { "t" } else { "U" };
    assert!(
        has(control, "rust_helper_noinline_mix"),
        "the negative control must stay a call ({control}):\n{syms}"
    );
}

/// One ARCH with INLINE=1 LTO=0: plain clang-22 (failing with exactly
/// `plain_errors`, or passing), then through the shim with verify-inline.
fn arch_case(arch: &str, plain_errors: &[String]) {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let v = vars(arch, 1, 0);

    let plain = mini_tree(t.path(), "plain");
    let mut args = v.clone();
    args.extend(["CC=clang-22".into(), "LD=ld.lld-22".into()]);
    let o = make_s(&plain, &args, &[]);
    if plain_errors.is_empty() {
        check(&o, &format!("plain {arch} build"));
        assert!(is_elf(&plain.join("rust/foo.o")));
    } else {
        assert!(
            !o.status.success(),
            "plain {arch} must fail:\n{}",
            stderr(&o)
        );
        assert_eq!(error_lines(&o), plain_errors, "plain {arch}");
        assert!(!plain.join("rust/foo.o").exists());
    }

    let shim = mini_tree(t.path(), "shim");
    let mut args = v;
    args.extend(shim_tools());
    check(&make_s(&shim, &args, &[]), &format!("shim {arch} build"));
    args.push("verify-inline".into());
    let o = make_s(&shim, &args, &[]);
    check(&o, &format!("shim {arch} verify-inline"));
    let out = stdout(&o);
    for want in [
        "PASS: rust_uses_helper: no call to rust_helper_* in its disassembly",
        "PASS: no always_inline rust_helper_* symbol is global or undefined",
        "PASS: negative control: rust_uses_noinline_helper still calls rust_helper_noinline_mix",
        "inline check: OK (rust/foo.o)",
    ] {
        assert!(
            out.lines().any(|l| l == want),
            "{arch}: no '{want}' in:\n{out}"
        );
    }
    assert_symbols(&shim.join("rust/foo.o"), true);
}

#[test]
fn x86_64_plain_passes_shim_inlines() {
    arch_case("x86_64", &[]);
}

#[test]
fn arm64_plain_passes_shim_inlines() {
    arch_case("arm64", &[]);
}

#[test]
fn arm_plain_fails_on_unused_u_arm_shim_inlines() {
    arch_case("arm", &[unused("-U arm")]);
}

#[test]
fn um_plain_fails_on_unused_includes_shim_inlines() {
    arch_case(
        "um",
        &[
            unused("-I ./arch/um/include/shared"),
            unused("-I ./arch/x86/um/shared"),
            unused("-I ./arch/um/include/shared/skas"),
        ],
    );
}

/// Negative control: with INLINE=0 nothing is inlined, and verify-inline
/// must say so (it is not a check that always passes).
#[test]
fn inline_off_fails_verify_inline() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let tree = mini_tree(t.path(), "tree");
    let mut args = vars("arm64", 0, 0);
    args.extend(shim_tools());
    check(&make_s(&tree, &args, &[]), "INLINE=0 build");
    args.push("verify-inline".into());
    let o = make_s(&tree, &args, &[]);
    assert!(
        !o.status.success(),
        "verify-inline must fail:\n{}",
        stdout(&o)
    );
    let out = stdout(&o);
    for want in [
        "FAIL: rust_uses_helper still references a helper",
        "FAIL: global/undefined rust_helper_* symbols: U rust_helper_add;",
        "PASS: negative control",
        "inline check: 2 FAILED (rust/foo.o)",
    ] {
        assert!(out.contains(want), "no '{want}' in:\n{out}");
    }
    assert_symbols(&tree.join("rust/foo.o"), false);
}

/// A directory whose `ld.lld-22` logs its arguments, then runs the real one.
fn ld_spy(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("spy-bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.join("ld.log");
    write_exe(
        &bin.join("ld.lld-22"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_tool("ld.lld-22").display()
        ),
    );
    (bin, log)
}

fn spy_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// LTO=1, INLINE=1: clang writes bitcode into rust/foo.o, and the real
/// `ld.lld -r` (seen by the spy, reached through the shim) turns it into ELF.
#[test]
fn lto_inline_on_runs_real_ld_r() {
    need_minikbuild_tools();
    for arch in ["x86_64", "arm"] {
        let t = tempfile::tempdir().unwrap();
        let (bin, log) = ld_spy(t.path());
        let path = path_with(&[&bin]);
        let tree = mini_tree(t.path(), "tree");
        let mut args = vars(arch, 1, 1);
        args.extend(shim_tools());
        let env = [("PATH", path.as_os_str())];
        check(&make_s(&tree, &args, &env), &format!("{arch} LTO build"));
        let lines = spy_lines(&log);
        for out in [
            "-r -o rust/.tmp_foo.o rust/foo.o",
            "-r -o ./.tmp_cfile.o cfile.o",
        ] {
            assert_eq!(
                lines.iter().filter(|l| l.ends_with(out)).count(),
                1,
                "{arch}: ld.lld-22 '{out}' once, in {lines:?}"
            );
        }
        assert!(is_elf(&tree.join("rust/foo.o")), "{arch}: rust/foo.o");
        assert!(is_elf(&tree.join("cfile.o")), "{arch}: cfile.o");
        assert!(!tree.join("rust/.tmp_foo.o").exists());
        args.push("verify-inline".into());
        check(
            &make_s(&tree, &args, &env),
            &format!("{arch} verify-inline"),
        );
    }
}

/// LTO=1, INLINE=0: the Rust object's `ld -r` is an exact copy (the final
/// rust/foo.o is byte-for-byte what rustc wrote, as in an LTO=0 build where
/// no ld step exists), while cfile.o still goes through the real linker.
#[test]
fn lto_inline_off_copies_rust_object_links_c_object() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let (bin, log) = ld_spy(t.path());
    let path = path_with(&[&bin]);

    let reference = mini_tree(t.path(), "reference");
    check(
        &make_s(&reference, &vars("x86_64", 0, 0), &[]),
        "LTO=0 reference build",
    );

    let tree = mini_tree(t.path(), "tree");
    let mut args = vars("x86_64", 0, 1);
    args.extend(shim_tools());
    let env = [
        ("PATH", path.as_os_str()),
        ("KBUILD_SHIM_LOG", OsStr::new("info")),
    ];
    let o = make_s(&tree, &args, &env);
    check(&o, "LTO=1 INLINE=0 build");
    assert!(
        stderr(&o).contains("# rule ld-single-copy:"),
        "the shim's log names the gate:\n{}",
        stderr(&o)
    );

    let lines = spy_lines(&log);
    assert_eq!(lines.len(), 1, "only cfile.o is linked: {lines:?}");
    assert!(
        lines[0].ends_with("-r -o ./.tmp_cfile.o cfile.o"),
        "{lines:?}"
    );
    assert!(
        is_elf(&tree.join("cfile.o")),
        "cfile.o was linked from bitcode"
    );

    let rust = tree.join("rust/foo.o");
    assert_eq!(
        std::fs::read(&rust).unwrap(),
        std::fs::read(reference.join("rust/foo.o")).unwrap(),
        "rust/foo.o must be rustc's output, untouched"
    );
    let o = run_in(
        Path::new("."),
        real_tool("llvm-readelf-22"),
        &[OsStr::new("-p"), OsStr::new(".comment"), rust.as_os_str()],
    );
    check(&o, "llvm-readelf-22");
    let comment = stdout(&o);
    assert!(comment.contains("rustc version "), "{comment}");
    assert!(!comment.contains("clang version"), "{comment}");
    assert!(!tree.join("rust/.tmp_foo.o").exists());
}

/// `make -f Makefile.example TARGET ARCH=arm` with the built binary; the
/// scratch trees go to a private TMPDIR, which a passing target leaves empty.
fn example(target: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    need_minikbuild_tools();
    let tmp = tempfile::tempdir().unwrap();
    let shim = format!("SHIM={SHIM}");
    let mut args = vec!["-f", "Makefile.example", target, "ARCH=arm", &shim];
    args.extend(extra);
    let o = make(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &args,
        &[("TMPDIR", tmp.path().as_os_str())],
    );
    (o, tmp)
}

fn is_empty_dir(d: &Path) -> bool {
    std::fs::read_dir(d).unwrap().next().is_none()
}

#[test]
fn example_mini_plain_arm_fails() {
    let (o, tmp) = example("mini-plain", &[]);
    assert!(!o.status.success(), "{}", stdout(&o));
    assert_eq!(error_lines(&o), [unused("-U arm")]);
    assert!(
        stdout(&o).contains("== mini-plain: FAILED"),
        "{}",
        stdout(&o)
    );
    assert!(!is_empty_dir(tmp.path()), "a failed scratch tree is kept");
}

#[test]
fn example_mini_shim_arm_passes() {
    let (o, tmp) = example("mini-shim", &["VERIFY=1", "LTO=1"]);
    check(&o, "mini-shim");
    let out = stdout(&o);
    assert!(out.contains("inline check: OK (rust/foo.o)"), "{out}");
    assert!(
        out.contains("== mini-shim: OK (ARCH=arm LTO=1 INLINE=1)"),
        "{out}"
    );
    assert!(is_empty_dir(tmp.path()));
}

#[test]
fn example_mini_shimdir_arm_passes() {
    let (o, tmp) = example("mini-shimdir", &["VERIFY=1"]);
    check(&o, "mini-shimdir");
    let out = stdout(&o);
    assert!(out.contains("inline check: OK (rust/foo.o)"), "{out}");
    assert!(
        out.contains("== mini-shimdir: OK (ARCH=arm LTO=0 INLINE=1)"),
        "{out}"
    );
    assert!(is_empty_dir(tmp.path()));
}

/// `CC=kbuild-shim-cc LD=kbuild-shim-ld` (wrapper-scripts/, symlinked next
/// to the shim as an install would) on um, which plain clang cannot build.
#[test]
fn wrapper_scripts_build_um() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("wrapper-scripts");
    std::os::unix::fs::symlink(SHIM, bin.join("kbuild-shim")).unwrap();
    for s in ["kbuild-shim-cc", "kbuild-shim-ld"] {
        std::os::unix::fs::symlink(scripts.join(s), bin.join(s)).unwrap();
    }
    let tree = mini_tree(t.path(), "tree");
    let path = path_with(&[&bin]);
    let env = [
        ("PATH", path.as_os_str()),
        ("KBUILD_SHIM_CC", OsStr::new("clang-22")),
        ("KBUILD_SHIM_LD", OsStr::new("ld.lld-22")),
        ("KBUILD_SHIM_LOG", OsStr::new("info")),
    ];
    let mut args = vars("um", 1, 1);
    args.extend(["CC=kbuild-shim-cc".into(), "LD=kbuild-shim-ld".into()]);
    let o = make_s(&tree, &args, &env);
    check(&o, "um via wrapper scripts");
    let err = stderr(&o);
    assert!(
        err.contains("# rule "),
        "the shim rewrote the IR compile:\n{err}"
    );
    assert!(err.contains("-o rust/.tmp_foo.o rust/foo.o"), "{err}");
    args.push("verify-inline".into());
    check(&make_s(&tree, &args, &env), "verify-inline");
}
