//! The mini kbuild tree (examples/minikbuild) built with the real clang-22,
//! ld.lld-22 and rustc: plain clang reproduces the arm/um IR-compile errors,
//! the shim fixes them and the helpers are really inlined, and with LTO the
//! Rust object's single-object `ld -r` runs or is gated exactly as it should.
//! Also Makefile.example's mini-* targets and the one-word wrapper scripts.

use crate::common;

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

/// The always_inline helpers each Rust object of the tree calls.
fn helpers_called(obj: &Path) -> &'static [&'static str] {
    if obj.ends_with("rust/foo.o") {
        &[
            "rust_helper_add",
            "rust_helper_rotl",
            "rust_helper_mul_wide",
        ]
    } else {
        // Module objects; rust_helper_module_only is only in helpers_module.bc.
        &["rust_helper_add", "rust_helper_module_only"]
    }
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
    for h in helpers_called(obj) {
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

/// verify-inline's report for every object in `rust_objs`, and nothing else.
fn assert_verified(out: &str, what: &str, rust_objs: &[&str]) {
    for want in [
        "PASS: rust_uses_helper: no call to rust_helper_* in its disassembly",
        "PASS: no always_inline rust_helper_* symbol is global or undefined",
        "PASS: negative control: rust_uses_noinline_helper still calls rust_helper_noinline_mix",
    ] {
        assert_eq!(
            out.lines().filter(|l| *l == want).count(),
            rust_objs.len(),
            "{what}: '{want}' per object in:\n{out}"
        );
    }
    let checked: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("inline check: "))
        .collect();
    let want: Vec<String> = rust_objs
        .iter()
        .map(|o| format!("inline check: OK ({o})"))
        .collect();
    assert_eq!(checked, want, "{what}:\n{out}");
}

/// One build of the mini tree with INLINE=1 LTO=0 plus `extra` make
/// arguments: plain clang-22 (failing with exactly `plain_errors`, or
/// passing), then through the shim, with verify-inline proving that every
/// Rust object in `rust_objs` (all the build has) inlined its helpers.
/// Returns the temporary directory, the shim's tree and its build output.
fn variant_case(
    arch: &str,
    extra: &[&str],
    plain_errors: &[String],
    rust_objs: &[&str],
) -> (tempfile::TempDir, PathBuf, Output) {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let mut v = vars(arch, 1, 0);
    v.extend(extra.iter().map(|s| s.to_string()));
    let what = format!("{arch} {extra:?}");

    let plain = mini_tree(t.path(), "plain");
    let mut args = v.clone();
    args.extend(["CC=clang-22".into(), "LD=ld.lld-22".into()]);
    let o = make_s(&plain, &args, &[]);
    let last = rust_objs.last().unwrap();
    if plain_errors.is_empty() {
        check(&o, &format!("plain {what} build"));
        for obj in rust_objs {
            assert!(is_elf(&plain.join(obj)), "{what}: {obj}");
        }
    } else {
        assert!(
            !o.status.success(),
            "plain {what} must fail:\n{}",
            stderr(&o)
        );
        assert_eq!(error_lines(&o), plain_errors, "plain {what}");
        assert!(!plain.join(last).exists(), "{what}: {last}");
    }

    let shim = mini_tree(t.path(), "shim");
    let mut args = v;
    args.extend(shim_tools());
    let built = make_s(&shim, &args, &[]);
    check(&built, &format!("shim {what} build"));
    args.push("verify-inline".into());
    let o = make_s(&shim, &args, &[]);
    check(&o, &format!("shim {what} verify-inline"));
    assert_verified(&stdout(&o), &what, rust_objs);
    for obj in rust_objs {
        assert_symbols(&shim.join(obj), true);
    }
    (t, shim, built)
}

fn arch_case(arch: &str, plain_errors: &[String]) {
    variant_case(arch, &[], plain_errors, &["rust/foo.o"]);
}

#[test]
fn x86_64_plain_passes_shim_inlines() {
    arch_case("x86_64", &[]);
}

#[test]
fn arm64_plain_passes_shim_inlines() {
    arch_case("arm64", &[]);
}

/// riscv and loongarch pass with plain clang-22 too: their 6.12 flags put
/// nothing preprocessor-only on the IR compile, and the merged rule's
/// -Wno-override-module covers rustc's other triple.
#[test]
fn riscv_plain_passes_shim_inlines() {
    arch_case("riscv", &[]);
}

#[test]
fn loongarch_plain_passes_shim_inlines() {
    arch_case("loongarch", &[]);
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

/// What a packager passes for reproducible builds: clang uses the debug
/// map on an IR compile and reports the macro map as unused.
const KCFLAGS: &str =
    "KCFLAGS=-fdebug-prefix-map=/usr/src/linux=. -fmacro-prefix-map=/usr/src/linux=.";

/// A directory whose Kbuild says `subdir-ccflags-y += -I$(src)/include`
/// (the fs/bcachefs shape, docs/kbuild-pipeline.md §8) breaks its Rust
/// object on x86_64, where the arch flags alone pass. Its module object is
/// linked against helpers_module.bc (part-of-module), the built-in
/// rust/foo.o against helpers.bc.
#[test]
fn subdir_ccflags_break_plain_clang_shim_inlines() {
    let (_t, shim, built) = variant_case(
        "x86_64",
        &["SUBDIR=1"],
        &[unused("-I fs/foo/include")],
        &["rust/foo.o", "fs/foo/foo_rs.o"],
    );
    let log = stdout(&built);
    for link in [
        "llvm-link-22 --internalize --suppress-warnings rust/foo.bc helpers.bc -o rust/foo.m.bc",
        "llvm-link-22 --internalize --suppress-warnings fs/foo/foo_rs.bc helpers_module.bc \
         -o fs/foo/foo_rs.m.bc",
    ] {
        assert!(log.contains(link), "no '{link}' in:\n{log}");
    }
    assert!(
        log.contains("-DMODULE") && log.contains("-emit-llvm -o helpers_module.bc"),
        "{log}"
    );
    assert!(is_elf(&shim.join("fs/foo/foo_super.o")), "the C object");
}

/// `make M=extmod`: an out-of-tree module whose Kbuild adds `-I…` and
/// `-include …`; only its objects are built, against helpers_module.bc.
/// Then the same with an absolute M= and LTO=1 (the gate's `.tmp_` path
/// is absolute too).
#[test]
fn extmod_kbuild_flags_break_plain_clang_shim_inlines() {
    let (t, shim, built) = variant_case(
        "x86_64",
        &["M=extmod"],
        &[
            unused("-I extmod/include"),
            unused("-include extmod/include/extmod-config.h"),
        ],
        &["extmod/extmod_rs.o"],
    );
    assert!(is_elf(&shim.join("extmod/extmod_c.o")), "the C object");
    assert!(
        !shim.join("rust/foo.o").exists(),
        "only the module is built"
    );
    assert!(
        stdout(&built).contains("extmod/extmod_rs.bc helpers_module.bc -o"),
        "{}",
        stdout(&built)
    );

    let tree = mini_tree(t.path(), "abs");
    let m = tree.join("extmod");
    let mut args = vars("x86_64", 1, 1);
    args.push(format!("M={}", m.display()));
    args.extend(shim_tools());
    args.push("verify-inline".into());
    let o = make_s(&tree, &args, &[]);
    check(&o, "absolute M= with LTO=1");
    let obj = m.join("extmod_rs.o");
    assert_verified(&stdout(&o), "absolute M=", &[&obj.display().to_string()]);
    assert!(is_elf(&obj));
}

/// `KCFLAGS=` from the make command line reaches the IR compile: the
/// macro map breaks plain clang, the debug map alone does not.
#[test]
fn kcflags_break_plain_clang_shim_inlines() {
    let (t, _shim, _) = variant_case(
        "x86_64",
        &[KCFLAGS],
        &[unused("-fmacro-prefix-map=/usr/src/linux=.")],
        &["rust/foo.o"],
    );
    let tree = mini_tree(t.path(), "debug-map-only");
    let mut args = vars("x86_64", 1, 0);
    args.extend([
        "KCFLAGS=-fdebug-prefix-map=/usr/src/linux=.".into(),
        "CC=clang-22".into(),
        "LD=ld.lld-22".into(),
    ]);
    check(&make_s(&tree, &args, &[]), "plain clang, debug map only");
}

/// RULES=merged (the default) runs no `ld -r` on a Rust object with
/// inlining off, even without the shim: cmd_ld_single is inside the gate.
/// Only cfile.o is linked, and rust/foo.o is rustc's own output.
#[test]
fn merged_lto_inline_off_never_runs_rust_ld_r() {
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
    args.extend(["CC=clang-22".into(), "LD=ld.lld-22".into()]);
    let o = make_s(&tree, &args, &[("PATH", path.as_os_str())]);
    check(&o, "merged LTO=1 INLINE=0 build");
    let lines = spy_lines(&log);
    assert_eq!(lines.len(), 1, "only cfile.o is linked: {lines:?}");
    assert!(
        lines[0].ends_with("-r -o ./.tmp_cfile.o cfile.o"),
        "{lines:?}"
    );
    assert_eq!(
        std::fs::read(tree.join("rust/foo.o")).unwrap(),
        std::fs::read(reference.join("rust/foo.o")).unwrap(),
        "rust/foo.o must be rustc's output, untouched"
    );

    let mut bad = vars("x86_64", 1, 0);
    bad.push("RULES=v3".into());
    let o = make_s(&tree, &bad, &[]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("minikbuild: RULES must be merged, v7.1 or v2"),
        "{}",
        stderr(&o)
    );
}

/// `KBUILD_SHIM_STRICT=1` (only the table's precise removals, no blanket
/// `-Wno-unused-command-line-argument`) passes every IR compile of `arch`:
/// the tree with fs/foo and KCFLAGS, then the out-of-tree module, LTO=1.
fn strict_case(arch: &str) {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    let tree = mini_tree(t.path(), "tree");
    let env = [
        ("KBUILD_SHIM_STRICT", OsStr::new("1")),
        ("KBUILD_SHIM_LOG", OsStr::new("info")),
    ];
    let builds: [(&[&str], &[&str]); 2] = [
        (&["SUBDIR=1", KCFLAGS], &["rust/foo.o", "fs/foo/foo_rs.o"]),
        (&["M=extmod"], &["extmod/extmod_rs.o"]),
    ];
    for (extra, rust_objs) in builds {
        let what = format!("strict {arch} {extra:?}");
        let mut args = vars(arch, 1, 1);
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(shim_tools());
        args.push("verify-inline".into());
        let o = make_s(&tree, &args, &env);
        check(&o, &what);
        assert_verified(&stdout(&o), &what, rust_objs);
        let err = stderr(&o);
        let ir: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("kbuild-shim[INFO]: cd ") && l.contains(".m.bc"))
            .collect();
        assert_eq!(ir.len(), rust_objs.len(), "{what}: IR compiles:\n{err}");
        for l in ir {
            assert!(!l.contains("-Wno-unused-command-line-argument"), "{l}");
            // Every preprocessor-only option the variants add is gone.
            let kept: Vec<&str> = l
                .split_whitespace()
                .map(|w| w.trim_matches('\''))
                .filter(|w| {
                    ["-I", "-U", "-include", "-fmacro-prefix-map="]
                        .iter()
                        .any(|p| w.starts_with(p))
                })
                .collect();
            assert!(kept.is_empty(), "{what}: {kept:?} survived in: {l}");
        }
    }
}

#[test]
fn strict_x86_64() {
    strict_case("x86_64");
}

#[test]
fn strict_arm() {
    strict_case("arm");
}

#[test]
fn strict_um() {
    strict_case("um");
}

#[test]
fn strict_arm64() {
    strict_case("arm64");
}

#[test]
fn strict_riscv() {
    strict_case("riscv");
}

#[test]
fn strict_loongarch() {
    strict_case("loongarch");
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
    // ld.kinds next to the log: each call's last word and what it holds.
    let kinds = dir.join("ld.kinds");
    write_exe(
        &bin.join("ld.lld-22"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n\
             for last; do :; done\n\
             case $(head -c 2 \"$last\" 2>/dev/null) in BC) k=bitcode;; *) k=other;; esac\n\
             printf '%s %s\\n' \"$last\" $k >> '{}'\n\
             exec '{}' \"$@\"\n",
            log.display(),
            kinds.display(),
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

/// LTO=1, INLINE=1: the real `ld.lld -r` (seen by the spy, reached through
/// the shim) runs on the Rust object and leaves ELF. What it gets differs by
/// rule set: the 7.2+ IR compile drops `$(CC_FLAGS_LTO)` and writes ELF
/// (docs/kbuild-pipeline.md §9); v7.1's keeps `-flto=thin` and writes
/// bitcode, which only the link turns into ELF. C objects are bitcode in both.
#[test]
fn lto_inline_on_runs_real_ld_r() {
    need_minikbuild_tools();
    for (arch, rules, rust_kind) in [
        ("x86_64", "merged", "other"),
        ("arm", "merged", "other"),
        ("x86_64", "v7.1", "bitcode"),
    ] {
        let t = tempfile::tempdir().unwrap();
        let (bin, log) = ld_spy(t.path());
        let path = path_with(&[&bin]);
        let tree = mini_tree(t.path(), "tree");
        let mut args = vars(arch, 1, 1);
        args.push(format!("RULES={rules}"));
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
        let kinds = std::fs::read_to_string(t.path().join("ld.kinds")).unwrap();
        let mut kinds: Vec<&str> = kinds.lines().collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["cfile.o bitcode", &format!("rust/foo.o {rust_kind}")],
            "{arch} {rules}: what ld -r was given"
        );
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

/// RULES=v2, LTO=1, INLINE=0: kbuild runs the Rust object's `ld -r`, and
/// the shim makes it an exact copy (the final rust/foo.o is byte-for-byte
/// what rustc wrote, as in an LTO=0 build where no ld step exists), while
/// cfile.o still goes through the real linker.
#[test]
fn v2_lto_inline_off_copies_rust_object_links_c_object() {
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
    args.push("RULES=v2".into());
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
