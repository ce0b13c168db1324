//! `kbuild-shim --doctor`: each FAIL path with fake tools in PATH, and the
//! all-ok path with the real toolchain and a kernel tree's auto.conf.

use crate::common;

use common::*;
use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

/// A fake `rustc` in `dir` answering `-vV` like the real one.
fn fake_rustc(dir: &Path, release: &str, llvm: &str) {
    write_exe(
        &dir.join("rustc"),
        &format!(
            "#!/bin/sh\nprintf 'rustc {release}\\nbinary: rustc\\nrelease: {release}\\nLLVM version: {llvm}\\n'\n"
        ),
    );
}

/// Fake tools answering `--version` / `-vV` like the real ones.
fn toolchain(dir: &Path, rustc_llvm: &str, clang: &str) {
    let say = |name: &str, text: &str| {
        write_exe(&dir.join(name), &format!("#!/bin/sh\nprintf '{text}\\n'\n"));
    };
    fake_rustc(dir, "1.95.0", rustc_llvm);
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
        .env("PATH", path)
        .env_remove("RUSTC");
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

/// `scripts/Makefile.build`'s Rust rule in the four shapes kbuild has had:
/// Debian's linux-source-7.3 (7.3.4; 7.2.13 has the same), 7.1, v2, 6.12.
const MERGED_72_RULE: &str = "quiet_cmd_rustc_o_rs = $(RUSTC_OR_CLIPPY_QUIET) $(quiet_modtag) $@\n      cmd_rustc_o_rs = $(rust_common_cmd) --emit=$(if $(CONFIG_RUST_INLINE_HELPERS),llvm-bc=$(patsubst %.o,%.bc,$@),obj=$@) $< \\\n\t$(if $(CONFIG_RUST_INLINE_HELPERS),;$(LLVM_LINK) --internalize --suppress-warnings $(patsubst %.o,%.bc,$@) \\\n\t\t$(objtree)/rust/helpers/helpers$(if $(part-of-module),_module).bc -o $(patsubst %.o,%.m.bc,$@); \\\n\t\t$(CC) $(CLANG_FLAGS) $(filter-out $(CC_FLAGS_LTO),$(KBUILD_CFLAGS)) \\\n\t\t$(CC_FLAGS_RUST_INLINE_HELPERS) -Wno-override-module -c $(patsubst %.o,%.m.bc,$@) -o $@ \\\n\t\t$(cmd_ld_single)) \\\n\t$(cmd_objtool)\n";
const MERGED_RULE: &str = "cmd_rustc_o_rs = $(rust_common_cmd) --emit=$(if $(CONFIG_RUST_INLINE_HELPERS),llvm-bc=$(patsubst %.o,%.bc,$@),obj=$@) $< \\\n\t$(if $(CONFIG_RUST_INLINE_HELPERS),;$(LLVM_LINK) --internalize --suppress-warnings $(patsubst %.o,%.bc,$@) \\\n\t\t$(objtree)/rust/helpers/helpers$(if $(part-of-module),_module).bc -o $(patsubst %.o,%.m.bc,$@); \\\n\t\t$(CC) $(CLANG_FLAGS) $(KBUILD_CFLAGS) -Wno-override-module -c $(patsubst %.o,%.m.bc,$@) -o $@ \\\n\t\t$(cmd_ld_single)) \\\n\t$(cmd_objtool)\n";
const V2_RULE: &str = "cmd_rustc_o_rs = $(rust_common_cmd) --emit=$(if $(link_helper),llvm-bc=$(patsubst %.o,%.bc,$@),obj=$@) $< \\\n\t$(if $(link_helper),;$(LLVM_LINK) --internalize --suppress-warnings $(patsubst %.o,%.bc,$@) \\\n\t\t$(objtree)/rust/helpers/helpers.bc -o $(patsubst %.o,%.m.bc,$@); \\\n\t\t$(CC) $(CLANG_FLAGS) $(KBUILD_CFLAGS) -Wno-override-module -c $(patsubst %.o,%.m.bc,$@) -o $@) \\\n\t$(cmd_ld_single) $(cmd_objtool)\n";
const LINUX_6_12_RULE: &str = "quiet_cmd_rustc_o_rs = $(RUSTC_OR_CLIPPY_QUIET) $(quiet_modtag) $@\n      cmd_rustc_o_rs = $(rust_common_cmd) --emit=obj=$@ $< $(cmd_objtool)\n";

/// A kernel tree in `dir` (object tree = source tree): `auto.conf` with
/// `config`, `scripts/Makefile.build` with `rule`, and `files` (path, text).
fn kernel_tree(dir: &Path, config: &str, rule: Option<&str>, files: &[(&str, &str)]) {
    let write = |p: &str, text: &str| {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("include/config/auto.conf", config);
    if let Some(rule) = rule {
        write("scripts/Makefile.build", rule);
    }
    for (p, text) in files {
        write(p, text);
    }
}

/// `--doctor --kernel DIR` with fake tools that all agree (so only the tree speaks).
fn doctor_tree(kernel: &Path, env: &[(&str, &str)]) -> String {
    let d = tempfile::tempdir().unwrap();
    toolchain(d.path(), "22.1.2", "22.1.8");
    let (code, out) = doctor(
        d.path().into(),
        &["--kernel", kernel.to_str().unwrap()],
        env,
    );
    assert_eq!(code, Some(0), "{out}");
    out
}

const X86_LTO: &str = "CONFIG_RUST=y\nCONFIG_X86_64=y\nCONFIG_LTO_CLANG=y\n";

#[test]
fn merged_rules_with_inlining_off_leave_the_ld_gate_nothing_to_do() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(k.path(), X86_LTO, Some(MERGED_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("scripts/Makefile.build has the merged (7.1) rules: "),
        "{out}"
    );
    assert!(
        out.contains("ok   CONFIG_RUST_INLINE_HELPERS=not set: kbuild runs no IR-input compile and no single-object ld -r for Rust objects: the ld gate has nothing to do"),
        "{out}"
    );
}

#[test]
fn v2_style_rules_name_the_ld_gate_rule() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(k.path(), X86_LTO, Some(V2_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("has the v2-style rules: cmd_ld_single runs for Rust objects even with CONFIG_RUST_INLINE_HELPERS off: handled by rule ld-single-copy"),
        "{out}"
    );
    assert!(
        out.contains("the shim copies instead of the single-object ld -r"),
        "{out}"
    );
}

#[test]
fn a_tree_without_helper_inlining_is_named() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(
        k.path(),
        X86_LTO,
        Some(LINUX_6_12_RULE),
        // Without inlining no IR-input compile runs: nothing to warn about.
        &[
            ("fs/x/Makefile", "subdir-ccflags-y += -I$(src)\n"),
            ("fs/x/a.rs", ""),
        ],
    );
    let out = doctor_tree(k.path(), &[("KCFLAGS", "-I/opt/inc")]);
    assert!(
        out.contains("has no helper inlining: no llvm-link step in cmd_rustc_o_rs"),
        "{out}"
    );
    assert!(
        out.contains("CONFIG_RUST_INLINE_HELPERS=not set: this tree has no helper inlining"),
        "{out}"
    );
    assert!(!out.contains("warn"), "{out}");
}

#[test]
fn the_source_tree_is_found_from_an_o_object_tree() {
    let src = tempfile::tempdir().unwrap();
    kernel_tree(src.path(), "", Some(MERGED_RULE), &[]);
    let obj = tempfile::tempdir().unwrap();
    kernel_tree(obj.path(), X86_LTO, None, &[]);
    std::os::unix::fs::symlink(src.path(), obj.path().join("source")).unwrap();
    let out = doctor_tree(obj.path(), &[]);
    assert!(
        out.contains("/source/scripts/Makefile.build has the merged (7.1) rules"),
        "{out}"
    );

    // Without the symlink: the object tree's Makefile includes the source's.
    std::fs::remove_file(obj.path().join("source")).unwrap();
    std::fs::write(
        obj.path().join("Makefile"),
        format!(
            "# Automatically generated by kbuild\ninclude {}/Makefile\n",
            src.path().display()
        ),
    )
    .unwrap();
    let out = doctor_tree(obj.path(), &[]);
    let want = format!(
        "{}/scripts/Makefile.build has the merged (7.1) rules",
        src.path().display()
    );
    assert!(out.contains(&want), "{out}");

    // Neither: the rule set is unknown, and said so.
    std::fs::remove_file(obj.path().join("Makefile")).unwrap();
    let out = doctor_tree(obj.path(), &[]);
    assert!(out.contains("warn rules: cannot read "), "{out}");
}

#[test]
fn preprocessor_options_in_kcflags_warn_with_their_rule() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(k.path(), X86_LTO, Some(MERGED_RULE), &[]);
    let out = doctor_tree(
        k.path(),
        &[(
            "KCFLAGS",
            "-O2 -I/opt/inc -DKEEP -include /opt/x.h -fmacro-prefix-map=/a=/b -g",
        )],
    );
    let warns: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("warn KCFLAGS"))
        .collect();
    assert_eq!(warns.len(), 3, "{out}");
    for (opt, rule) in [
        ("-I/opt/inc", "ir-drop-I"),
        ("-include /opt/x.h", "ir-drop-include"),
        ("-fmacro-prefix-map=/a=/b", "ir-drop-fmacro-prefix-map"),
    ] {
        assert!(
            warns
                .iter()
                .any(|l| l.starts_with(&format!("warn KCFLAGS has {opt}: "))
                    && l.ends_with(&format!("handled by rule {rule}"))),
            "{opt} not named with {rule}:\n{out}"
        );
    }
}

#[test]
fn subdir_ccflags_of_rust_directories_warn_with_their_rule() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(
        k.path(),
        X86_LTO,
        Some(MERGED_RULE),
        &[
            // bcachefs-tools issues 782/922: -I$(obj) above the Rust code.
            (
                "fs/bcachefs/Makefile",
                "obj-y += bcachefs.o\nsubdir-ccflags-y += -I$(obj) \\\n\t-DKEEP\n",
            ),
            ("fs/bcachefs/rust/mod.rs", ""),
            // A Kbuild file wins over the Makefile next to it.
            (
                "drivers/r/Kbuild",
                "subdir-ccflags-$(CONFIG_R) := -include $(src)/r.h\n",
            ),
            ("drivers/r/Makefile", "subdir-ccflags-y += -Uignored\n"),
            ("drivers/r/a.rs", ""),
            // C only: no Rust object gets it.
            ("drivers/c/Makefile", "subdir-ccflags-y += -I$(src)/inc\n"),
            ("drivers/c/c.c", ""),
            // ccflags-y stays in c_flags and never reaches the IR compile.
            ("drivers/r/sub/Makefile", "ccflags-y += -I$(src)\n"),
        ],
    );
    let out = doctor_tree(k.path(), &[]);
    let warns: Vec<&str> = out.lines().filter(|l| l.starts_with("warn ")).collect();
    assert_eq!(
        warns,
        [
            "warn drivers/r/Kbuild: subdir-ccflags-y has -include $(src)/r.h: it reaches the IR-input compile of the Rust objects in drivers/r (argument unused during compilation in RUSTC steps): handled by rule ir-drop-include",
            "warn fs/bcachefs/Makefile: subdir-ccflags-y has -I$(obj): it reaches the IR-input compile of the Rust objects in fs/bcachefs/rust (argument unused during compilation in RUSTC steps): handled by rule ir-drop-I",
        ],
        "{out}"
    );
}

#[test]
fn riscv_and_loongarch_trees_list_their_problems() {
    for (sym, arch, wants) in [
        ("CONFIG_RISCV", "riscv", &["riscv64imac-unknown-none-elf triple differs from clang's --target (-Woverride-module): handled by rule ir-add-no-override-module"][..]),
        (
            "CONFIG_LOONGARCH",
            "loongarch",
            &[
                "arch/loongarch/Makefile's -isystem $(shell $(CC) -print-file-name=include) is unused on IR-input compiles: handled by rule ir-drop-isystem",
                "loongarch64-unknown-none-softfloat triple differs from clang's --target (-Woverride-module): handled by rule ir-add-no-override-module",
            ],
        ),
    ] {
        let k = tempfile::tempdir().unwrap();
        kernel_tree(k.path(), &format!("CONFIG_RUST=y\n{sym}=y\nCONFIG_64BIT=y\n"), Some(MERGED_RULE), &[]);
        let out = doctor_tree(k.path(), &[]);
        assert!(!out.contains("ARCH: none of"), "{out}");
        for want in wants {
            assert!(out.contains(&format!("ok   ARCH={arch}: ")) && out.contains(want), "{want}:\n{out}");
        }
    }
}

/// Issue 16, part 4: the 7.2+ text (Debian's linux-source-7.3) is its own
/// rule set, with what its IR compile means for the shim; 7.1's is named
/// apart from it.
#[test]
fn a_7_2_tree_is_named_merged_7_2_and_7_1_apart() {
    let k = tempfile::tempdir().unwrap();
    kernel_tree(k.path(), X86_LTO, Some(MERGED_72_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    let rules: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("ok   rules: "))
        .collect();
    assert_eq!(rules.len(), 1, "{out}");
    assert!(
        rules[0].contains("scripts/Makefile.build has the merged (7.2+) rules: ")
            && rules[0].contains(
                "leaves out $(CC_FLAGS_LTO), so it writes ELF even with CONFIG_LTO_CLANG"
            )
            && rules[0].contains("-mllvm pairs, which the shim keeps"),
        "{out}"
    );
    assert!(
        out.contains("ok   CONFIG_RUST_INLINE_HELPERS=not set: kbuild runs no IR-input compile and no single-object ld -r for Rust objects"),
        "{out}"
    );
    let inline_on = format!("{X86_LTO}CONFIG_RUST_INLINE_HELPERS=y\n");
    kernel_tree(k.path(), &inline_on, Some(MERGED_72_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("CONFIG_RUST_INLINE_HELPERS=y: IR-input compiles run; the shim rewrites them"),
        "{out}"
    );

    kernel_tree(k.path(), X86_LTO, Some(MERGED_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("has the merged (7.1) rules: ")
            && out.contains("with CONFIG_LTO_CLANG the IR-input compile writes bitcode"),
        "{out}"
    );
    assert!(!out.contains("7.2"), "{out}");
}

/// An auto.conf as kbuild writes it for a tree configured with Debian's
/// rustc-web 1.96 (LLVM 22.1.8) and clang-22 (init/Kconfig's int symbols).
const CONFIGURED_1_96: &str = "CONFIG_RUST=y\nCONFIG_X86_64=y\nCONFIG_CLANG_VERSION=220108\nCONFIG_RUSTC_VERSION=109600\nCONFIG_RUSTC_LLVM_VERSION=220108\nCONFIG_RUSTC_LLVM_MAJOR_VERSION=22\nCONFIG_RUSTC_CLANG_LLVM_COMPATIBLE=y\nCONFIG_RUSTC_VERSION_TEXT=rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)\n";

/// Issue 16, 5(b): a tree configured with /usr/bin/rustc 1.96 while PATH
/// starts with rustup's 1.95: the doctor names both, and the rustc in PATH
/// that is the configured one; with RUSTC= set to it, all is well.
#[test]
fn a_tree_configured_with_another_rustc_fails_naming_both() {
    let rustup = tempfile::tempdir().unwrap();
    toolchain(rustup.path(), "22.1.2", "22.1.8");
    let usr = tempfile::tempdir().unwrap();
    fake_rustc(usr.path(), "1.96.0", "22.1.8");
    let k = tempfile::tempdir().unwrap();
    kernel_tree(k.path(), CONFIGURED_1_96, Some(MERGED_72_RULE), &[]);
    let path = std::env::join_paths([rustup.path(), usr.path()]).unwrap();
    let kernel = ["--kernel", k.path().to_str().unwrap()];

    let (code, out) = doctor(path.clone(), &kernel, &[]);
    assert_eq!(code, Some(1), "{out}");
    let first = rustup.path().join("rustc");
    let configured = usr.path().join("rustc");
    assert_eq!(
        fails(&out),
        [format!(
            "FAIL rustc: the kernel tree was configured with rustc 1.96.0, LLVM 22.1.8 \
             (CONFIG_RUSTC_VERSION=109600, CONFIG_RUSTC_LLVM_VERSION=220108), but kbuild would run \
             {} (1.95.0, LLVM 22.1.2) and reconfigure the tree with it: {c} is that rustc: \
             make RUSTC={c} HOSTRUSTC={c} (and RUSTC={c} for --doctor)",
            first.display(),
            c = configured.display()
        )],
        "{out}"
    );

    let rustc_env = configured.to_str().unwrap();
    let (code, out) = doctor(path.clone(), &kernel, &[("RUSTC", rustc_env)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "ok   rustc: {rustc_env} (1.96.0, LLVM 22.1.8) (RUSTC={rustc_env})"
        )) && out.contains(
            "ok   rustc: the kernel tree was configured with this rustc: rustc 1.96.0, LLVM 22.1.8"
        ),
        "{out}"
    );

    // RUSTC names a rustc that is not the configured one: said the same way.
    let first_env = first.to_str().unwrap();
    let (code, out) = doctor(path.clone(), &kernel, &[("RUSTC", first_env)]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        fails(&out)[0].contains(&format!(
            "but kbuild would run {first_env} (1.95.0, LLVM 22.1.2) (RUSTC={first_env})"
        )),
        "{out}"
    );
    let (code, out) = doctor(path, &kernel, &[("RUSTC", "/nonexistent/rustc")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL rustc (RUSTC=/nonexistent/rustc): no such executable"),
        "{out}"
    );
}

/// Issue 16, 5(b): the tree's own record of rustc's LLVM against clang's
/// (what RUSTC_CLANG_LLVM_COMPATIBLE was computed from).
#[test]
fn the_recorded_rustc_llvm_major_is_compared_with_clangs() {
    let d = tempfile::tempdir().unwrap();
    toolchain(d.path(), "21.1.8", "22.1.8");
    fake_rustc(d.path(), "1.90.0", "21.1.8");
    let k = tempfile::tempdir().unwrap();
    let conf = CONFIGURED_1_96.replace("=109600", "=109000").replace(
        "CONFIG_RUSTC_LLVM_VERSION=220108",
        "CONFIG_RUSTC_LLVM_VERSION=210108",
    );
    kernel_tree(k.path(), &conf, Some(MERGED_72_RULE), &[]);
    let (code, out) = doctor(
        d.path().into(),
        &["--kernel", k.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "FAIL RUSTC_CLANG_LLVM_COMPATIBLE: the tree was configured with rustc's LLVM 21.1.8 \
             and clang 22.1.8 (CONFIG_RUSTC_LLVM_VERSION=210108, CONFIG_CLANG_VERSION=220108): \
             it is n, so CONFIG_RUST_INLINE_HELPERS cannot be set"
        ),
        "{out}"
    );
    kernel_tree(k.path(), CONFIGURED_1_96, Some(MERGED_72_RULE), &[]);
    fake_rustc(d.path(), "1.96.0", "22.1.8");
    let (code, out) = doctor(
        d.path().into(),
        &["--kernel", k.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("ok   RUSTC_CLANG_LLVM_COMPATIBLE: the tree's rustc and clang are both LLVM 22 (CONFIG_RUSTC_LLVM_VERSION=220108, CONFIG_CLANG_VERSION=220108)"),
        "{out}"
    );
}

/// Issue 16, 5(a): on a v2-shaped 7.x tree the doctor says the shim copies
/// only when the gate will: CONFIG_WERROR's --fatal-warnings is allowed, an
/// option outside the allow-list (compressed debug info) makes it say the
/// linker runs, and why.
#[test]
fn v2_style_rules_say_when_the_gate_cannot_copy() {
    let k = tempfile::tempdir().unwrap();
    let werror = format!("{X86_LTO}CONFIG_WERROR=y\n");
    kernel_tree(k.path(), &werror, Some(V2_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("ok   CONFIG_RUST_INLINE_HELPERS=not set: the shim copies instead of the single-object ld -r of Rust objects"),
        "{out}"
    );
    let zstd = format!("{werror}CONFIG_DEBUG_INFO=y\nCONFIG_DEBUG_INFO_COMPRESSED_ZSTD=y\n");
    kernel_tree(k.path(), &zstd, Some(V2_RULE), &[]);
    let out = doctor_tree(k.path(), &[]);
    assert!(
        out.contains("warn CONFIG_RUST_INLINE_HELPERS=not set: the single-object ld -r of Rust objects runs the real linker, not a copy: CONFIG_DEBUG_INFO_COMPRESSED_ZSTD=y puts --compress-debug-sections=zstd on it (scripts/Makefile.debug), which is not in the gate's allow-list"),
        "{out}"
    );
    // AutoFDO adds its ld options only with ThinLTO.
    let autofdo = format!("{werror}CONFIG_AUTOFDO_CLANG=y\n");
    kernel_tree(k.path(), &autofdo, Some(V2_RULE), &[]);
    assert!(doctor_tree(k.path(), &[])
        .contains("ok   CONFIG_RUST_INLINE_HELPERS=not set: the shim copies"));
    kernel_tree(
        k.path(),
        &format!("{autofdo}CONFIG_LTO_CLANG_THIN=y\n"),
        Some(V2_RULE),
        &[],
    );
    assert!(doctor_tree(k.path(), &[])
        .contains("CONFIG_AUTOFDO_CLANG=y puts --mllvm=-enable-fs-discriminator=true on it"));
}
