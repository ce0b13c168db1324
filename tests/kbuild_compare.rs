//! `wrapper-scripts/kbuild-compare` on a tiny kernel-like tree (a real kernel
//! takes minutes; `.ci/kernel-compare` runs it on Linux 6.12). The tree is
//! compiled with the real clang-22 three times: plain, the reference (upstream's
//! proposed fixes) and through the wrapper under test. Through the real shim
//! every file equals the reference; a wrapper that changes anything (the IR
//! compile's `-mllvm` pairs, a `.s` target, a module's `.ko`, a gated copy) is
//! caught with the file named, even where a shim rule fired; the plain build
//! never runs through the wrapper; SIGTERM stops the build; bad usage is one
//! line and exit 2.

use crate::common;

use common::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/wrapper-scripts/kbuild-compare"
);

/// Honours O=, M=, ARCH=, LLVM=, CC= and LD= as kbuild does; `defconfig`
/// decides its options with cc-option-style probes, `randconfig` records
/// KCONFIG_SEED (random without it); objects are compiled in the object
/// directory and their command lines saved in `.NAME.o.cmd` as kbuild writes
/// them. `rust/` compiles a bitcode file with kbuild's `-mllvm` pairs (the
/// IR-input compile the shim rewrites; `-Werror` with WERROR=1, where plain
/// clang fails); `rustoff/` is a v2-rule tree's Rust object with inlining
/// off, whose single-object `ld -r` the shim gates; M= builds a module `.ko`.
const MAKEFILE: &str = r#"O ?= .
ARCH ?= x86_64
ifeq ($(LLVM),1)
CC = clang
LD = ld.lld
else
CC = clang$(LLVM)
LD = ld.lld$(LLVM)
endif
obj := $(abspath $(O))
src := $(CURDIR)
CFLAGS := -Wall -fno-asynchronous-unwind-tables
IRFLAGS := -mllvm -trap-unreachable -mllvm -no-trap-after-noreturn $(if $(WERROR),-Werror)

cc-option = $(shell $(CC) -Werror $(CFLAGS) $(1) -c -x c /dev/null -o $(obj)/.probe.o 2>/dev/null && echo y || echo n; rm -f $(obj)/.probe.o)

.PHONY: defconfig olddefconfig randconfig init/ lib/ rust/ rustoff/ modules_prepare modules
defconfig:
	@mkdir -p $(obj)
	@{ echo 'CONFIG_ARCH="$(ARCH)"'; \
	   echo 'CONFIG_CC_VERSION_TEXT="$(shell $(CC) --version | head -n 1)"'; \
	   echo 'CONFIG_CC_HAS_STACKPROTECTOR_STRONG=$(call cc-option,-fstack-protector-strong)'; \
	   echo 'CONFIG_CC_HAS_NO_SUCH_FLAG=$(call cc-option,-fno-such-flag-at-all)'; \
	   echo 'CONFIG_CC_HAS_WL_AS_NEEDED=$(call cc-option,-Wl$(comma)--as-needed)'; } > $(obj)/.config
	@echo '# configuration written to .config'
randconfig:
	@mkdir -p $(obj)
	@echo "CONFIG_SEED=$${KCONFIG_SEED:-$$(od -An -N4 -tu4 /dev/urandom)}" > $(obj)/.config
comma := ,
olddefconfig:
	@test -f $(obj)/.config

# $(call save,TARGET,COMMAND): run COMMAND in the object tree, and record it.
save = cd $(obj) && $(2) && echo 'savedcmd_$(1) := $(2)' > $(dir $(1)).$(notdir $(1)).cmd

$(obj)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $*.o'
	@$(call save,$*.o,$(CC) $(CFLAGS) -c -o $*.o $(src)/$<)
$(obj)/%.s: %.c
	@mkdir -p $(dir $@)
	@$(call save,$*.s,$(CC) $(CFLAGS) -S -o $*.s $(src)/$<)

init/: $(obj)/init/main.o $(obj)/init/version.o
	@echo '  LD      init/init.o'
	@$(call save,init/init.o,$(LD) -r -o init/init.o init/main.o init/version.o)
lib/: $(obj)/lib/sort.o $(obj)/lib/sort.s
rust/:
	@mkdir -p $(obj)/rust
	@$(call save,rust/helpers.bc,$(CC) $(CFLAGS) -c -emit-llvm -o rust/helpers.bc $(src)/rust/helpers.c)
	@echo '  CC      rust/helpers.o'
	@$(call save,rust/helpers.o,$(CC) $(CFLAGS) $(IRFLAGS) -Wp$(comma)-MMD$(comma)rust/.helpers.o.d -c rust/helpers.bc -o rust/helpers.o)
rustoff/: $(obj)/rustoff/mini.o
	@mkdir -p $(obj)/include/config
	@echo '# CONFIG_RUST_INLINE_HELPERS is not set' > $(obj)/include/config/auto.conf
	@cd $(obj) && $(LD) -r -o rustoff/.tmp_mini.o rustoff/mini.o && mv -f rustoff/.tmp_mini.o rustoff/mini.o
modules_prepare:
	@mkdir -p $(obj)/scripts
	@echo 'SECTIONS { }' > $(obj)/scripts/module.lds
ifdef M
.DEFAULT_GOAL := modules
modules:
	@$(call save,$(M)/hello.o,$(CC) $(CFLAGS) -c -o $(M)/hello.o $(M)/hello.c)
	@$(call save,$(M)/hello.ko,$(LD) -r -o $(M)/hello.ko $(M)/hello.o)
	@cd $(M) && $(CC) $(CFLAGS) -c -emit-llvm -o ir.bc hello.c && $(CC) $(CFLAGS) -Wp$(comma)-MMD$(comma).ir.o.d -c ir.bc -o ir.o
endif
"#;

const SOURCES: [(&str, &str); 5] = [
    (
        "init/main.c",
        "int start_kernel(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }\n",
    ),
    (
        "init/version.c",
        "const char linux_banner[] = \"fake\";\nint version_id(int x) { int y = x * 3; return y + 1; }\n",
    ),
    (
        "lib/sort.c",
        "void sort(int *a, int n) { for (int i = 1; i < n; i++) for (int j = i; j > 0 && a[j - 1] > a[j]; j--) { int t = a[j]; a[j] = a[j - 1]; a[j - 1] = t; } }\n",
    ),
    (
        // __builtin_unreachable: -mllvm -trap-unreachable changes its code
        "rust/helpers.c",
        "void g(void);\nint rust_helper_add(int a, int b) { int c = a + b; return c; }\nvoid rust_helper_die(void) { g(); __builtin_unreachable(); }\n",
    ),
    (
        // rustc records `rustc version` in .comment: so does this object
        "rustoff/mini.c",
        "__asm__(\".section .comment,\\\"MS\\\",@progbits,1\\n.asciz \\\"rustc version 1.96.0\\\"\\n.text\");\nint mini(int x) { return x * 5; }\n",
    ),
];

/// The fake tree in `parent/name`.
fn fake_kernel(parent: &Path, name: &str) -> PathBuf {
    let root = parent.join(name);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("Makefile"), MAKEFILE).unwrap();
    for (path, text) in SOURCES {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    root
}

/// An out-of-tree module directory in `parent/name`.
fn fake_module(parent: &Path, name: &str) -> PathBuf {
    let root = parent.join(name);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("Kbuild"), "obj-m := hello.o\n").unwrap();
    std::fs::write(
        root.join("hello.c"),
        "static int count;\nint hello_init(void) { return ++count; }\n",
    )
    .unwrap();
    root
}

/// Runs kbuild-compare without the caller's make or kbuild-shim settings,
/// with TMPDIR in `tmp` (so a left-behind work directory is seen).
fn compare(tmp: &Path, args: &[&OsStr]) -> Output {
    compare_cmd(tmp, args, None).output().unwrap()
}

fn compare_cmd(tmp: &Path, args: &[&OsStr], path: Option<&OsStr>) -> Command {
    for t in ["clang-22", "ld.lld-22", "make", "xz"] {
        real_tool(t);
    }
    // As a user runs it: kbuild-shim (the binary under test) in PATH, so the
    // default wrapper never depends on whether a release build happens to exist.
    let bin = tmp.join("bin");
    if !bin.join("kbuild-shim").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(SHIM, bin.join("kbuild-shim")).unwrap();
    }
    let mut c = Command::new(SCRIPT);
    c.args(args).env("TMPDIR", tmp).env(
        "PATH",
        path.map(OsStr::to_owned)
            .unwrap_or_else(|| path_with(&[bin.as_path()])),
    );
    for (k, _) in std::env::vars_os() {
        let k8 = k.to_string_lossy();
        if k8.starts_with("KBUILD_SHIM_") || k8.starts_with("MAKE") || k8 == "MFLAGS" {
            c.env_remove(&k);
        }
    }
    c.stdin(std::process::Stdio::null());
    c
}

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

/// The value of the table row `label` (two-space indented rows).
fn row<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| {
            let l = l.strip_prefix("  ")?;
            let rest = l.strip_prefix(label)?;
            rest.starts_with("  ").then(|| rest.trim())
        })
        .unwrap_or_else(|| panic!("no row '{label}' in:\n{out}"))
}

/// The files named on `differs:` lines.
fn differs(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.strip_prefix("differs: "))
        .collect()
}

fn assert_no_work_dirs(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("kbuild-compare."))
        .collect();
    assert!(left.is_empty(), "work directories left behind: {left:?}");
}

/// A wrapper script in `tmp`: `body` runs with the tool's command in "$@".
fn wrapper(tmp: &Path, name: &str, body: &str) -> PathBuf {
    let w = tmp.join(name);
    write_exe(&w, &format!("#!/bin/sh\n{body}"));
    w
}

#[test]
fn no_difference_through_the_real_shim() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let o = compare(
        tmp.path(),
        &[os("--arch"), os("x86_64"), os("--shim"), os(SHIM), os(&src)],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains("prefix mode"), "{out}");
    assert!(out.contains("plain and reference builds run /"), "{out}");
    // .config, init/{main,version,init}.o, lib/sort.{o,s} and their 5 .cmd files
    assert_eq!(row(&out, "files compared"), "11", "{out}");
    assert_eq!(row(&out, "  of kinds"), "5 .cmd, 1 .config, 4 .o, 1 .s");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    assert_eq!(row(&out, "  .cmd naming the wrapper"), "5", "{out}");
    assert_eq!(row(&out, "  .cmd naming the reference"), "5", "{out}");
    assert_eq!(
        row(&out, "plain build"),
        "builds; 0 files differ from the reference (.cmd files aside)"
    );
    assert_eq!(row(&out, "rules fired"), "0 (the shim's report is empty)");
    // "W s wall, C s CPU": clang did run, so each build took some CPU time
    for build in [
        "build time plain",
        "build time reference",
        "build time shim",
    ] {
        let cpu = row(&out, build)
            .strip_suffix(" s CPU")
            .and_then(|r| r.rsplit_once(", "))
            .map(|(_, c)| c.parse::<f64>().unwrap())
            .unwrap_or_else(|| panic!("'{build}' row:\n{out}"));
        assert!(cpu > 0.0, "{build}: no CPU time:\n{out}");
    }
    assert!(
        out.contains("result: OK: shim and reference agree: all 11 files identical"),
        "{out}"
    );
    assert!(stderr(&o).contains("reference build"), "{}", stderr(&o));
    assert!(!src.join(".config").exists());
    assert_no_work_dirs(tmp.path());
}

/// Masquerade mode (the cmd lines are compared as they are), with the
/// source as a .tar.xz unpacked into the kept work directory.
#[test]
fn no_difference_in_masquerade_mode_from_a_tarball() {
    let tmp = tempfile::tempdir().unwrap();
    fake_kernel(tmp.path(), "linux-source-0.1");
    let tarball = tmp.path().join("linux-source-0.1.tar.xz");
    let o = run_in(
        tmp.path(),
        "tar",
        &[os("-cJf"), tarball.as_os_str(), os("linux-source-0.1")],
    );
    check(&o, "tar -cJf");
    let keep = tmp.path().join("kept");
    let o = compare(
        tmp.path(),
        &[
            os("--masquerade"),
            os("--shim"),
            os(SHIM),
            os("--keep"),
            keep.as_os_str(),
            tarball.as_os_str(),
            os("init/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains("masquerade mode"), "{out}");
    assert_eq!(row(&out, "files compared"), "7", "{out}");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    // the kept directory: the unpacked tree, the builds, the masquerade links
    for p in [
        "src/Makefile",
        "plain/init/main.o",
        "reference/init/main.o",
        "shim/init/.main.o.cmd",
    ] {
        assert!(keep.join(p).is_file(), "{p} not kept");
    }
    let link = std::fs::read_link(keep.join("bin/clang-22")).unwrap();
    assert_eq!(link, Path::new(SHIM).canonicalize().unwrap());
    let cmd = std::fs::read_to_string(keep.join("shim/init/.main.o.cmd")).unwrap();
    assert!(
        cmd.starts_with("savedcmd_init/main.o := clang-22 "),
        "{cmd}"
    );
}

/// A wrapper that appends -O1 to every compile changes objects and the
/// assembly target, and must be caught; its words are stripped from the cmd
/// lines, so only those files differ.
#[test]
fn a_broken_wrapper_is_caught_and_its_files_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let w = wrapper(
        tmp.path(),
        "add-O1",
        "case \" $* \" in *' -c '*|*' -S '*) exec \"$@\" -O1 ;; esac\nexec \"$@\"\n",
    );
    let o = compare(
        tmp.path(),
        &[
            os("--shim"),
            w.as_os_str(),
            os(&src),
            os("init/"),
            os("lib/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert_eq!(
        differs(&out),
        [
            "init/init.o",
            "init/main.o",
            "init/version.o",
            "lib/sort.o",
            "lib/sort.s"
        ],
        "{out}"
    );
    assert_eq!(row(&out, "  .cmd naming the wrapper"), "5", "{out}");
    assert!(
        out.contains("result: DIFFERENT: 5 of 11 files differ from the reference"),
        "{out}"
    );
    assert_no_work_dirs(tmp.path());
}

/// The real shim rewrites the bitcode compile: the report names the object
/// and its rules, and every file equals the reference. TMPDIR behind a
/// symlink: the report's paths still match the (physical) object tree.
#[test]
fn the_real_shim_fires_on_the_ir_compile_and_equals_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let real = tmp.path().join("real-tmp");
    std::fs::create_dir(&real).unwrap();
    let link = tmp.path().join("tmp-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    compare(tmp.path(), &[]); // sets up tmp/bin
    let path = path_with(&[tmp.path().join("bin").as_path()]);
    let o = compare_cmd(
        &link,
        &[os("--shim"), os(SHIM), os(&src), os("init/"), os("rust/")],
        Some(&path),
    )
    .output()
    .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    let fired = row(&out, "rules fired");
    assert!(fired.starts_with("in 1 commands: "), "{out}");
    assert!(fired.contains("ir-add-no-unused-argument 1"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("rule fired: "))
        .unwrap_or_else(|| panic!("no 'rule fired' line:\n{out}"));
    assert!(line.starts_with("rule fired: rust/helpers.o: "), "{line}");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    assert!(
        out.contains("result: OK: shim and reference agree"),
        "{out}"
    );
    assert_no_work_dirs(&real);
}

/// A wrapper that runs the real shim (so its rules fire and are reported)
/// but drops the IR compile's `-mllvm` pairs: the object's code changes, and
/// no rule that fired excuses it.
#[test]
fn a_wrapper_that_drops_the_mllvm_pairs_is_caught_where_a_rule_fired() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let w = wrapper(
        tmp.path(),
        "drop-mllvm",
        &format!(
            "for a in \"$@\"; do shift; case $a in -mllvm|-trap-unreachable|-no-trap-after-noreturn) ;; *) set -- \"$@\" \"$a\" ;; esac; done\nexec {SHIM} \"$@\"\n"
        ),
    );
    let o = compare(
        tmp.path(),
        &[
            os("--shim"),
            w.as_os_str(),
            os(&src),
            os("lib/"),
            os("rust/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        row(&out, "rules fired").contains("ir-add-no-unused-argument 1"),
        "{out}"
    );
    assert_eq!(differs(&out), ["rust/helpers.o"], "{out}");
    assert!(out.contains("result: DIFFERENT: 1 of "), "{out}");
}

/// Only a `.s` target changes (-O1 with -S), and the wrapper writes a report
/// line without an output: the file is named, the line shown as such.
#[test]
fn a_wrapper_that_changes_only_an_assembly_target_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let w = wrapper(
        tmp.path(),
        "s-O1",
        "case \" $* \" in *' -S '*)\n\tprintf '{\"time\":1,\"cwd\":\"%s\",\"role\":\"cc\",\"rules\":[\"test-O1\"]}\\n' \"$PWD\" >>\"$KBUILD_SHIM_REPORT\"\n\texec \"$@\" -O1 ;;\nesac\nexec \"$@\"\n",
    );
    let o = compare(
        tmp.path(),
        &[os("--shim"), w.as_os_str(), os(&src), os("lib/")],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert_eq!(differs(&out), ["lib/sort.s"], "{out}");
    assert!(
        out.lines().any(|l| l == "rule fired: (no output): test-O1"),
        "{out}"
    );
}

/// M=: the module is built against each tree; the real shim equals the
/// reference, a wrapper that changes only the module's `.ko` is caught.
#[test]
fn an_out_of_tree_module_is_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let module = fake_module(tmp.path(), "hello");
    let m = format!("M={}", module.display());
    let o = compare(
        tmp.path(),
        &[os("--shim"), os(SHIM), os(&src), os(&m), os("FOO=bar")],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    // modules_prepare: .config, scripts/module.lds; M=: Kbuild, hello.{c,o,ko},
    // 2 .cmd, ir.bc and ir.o (an IR compile run in the module directory)
    assert_eq!(row(&out, "files compared"), "10", "{out}");
    assert_eq!(
        row(&out, "  of kinds"),
        "1 (no suffix), 1 .bc, 1 .c, 2 .cmd, 1 .config, 1 .ko, 1 .lds, 2 .o",
        "{out}"
    );
    // the report's output, relative to its cwd in the module copy
    assert!(
        out.lines()
            .any(|l| l.starts_with("rule fired: M=: ir.o: ") && l.contains("ir-drop-Wp")),
        "{out}"
    );
    assert!(out.lines().next().unwrap().contains(", FOO=bar"), "{out}");
    let w = wrapper(
        tmp.path(),
        "ko-byte",
        "case \" $* \" in *'.ko '*) \"$@\" || exit; for a; do case $a in *.ko) printf x >>\"$a\" ;; esac; done; exit 0 ;; esac\nexec \"$@\"\n",
    );
    let o = compare(tmp.path(), &[os("--shim"), w.as_os_str(), os(&src), os(&m)]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert_eq!(differs(&out), ["M=: hello.ko"], "{out}");
    // the module directory itself was never written to
    assert!(!module.join("hello.o").exists());
    assert_no_work_dirs(tmp.path());
}

/// With inlining off, the shim copies a Rust object instead of its
/// single-object `ld -r` (v2 rules), as upstream's gate skips it: equal to
/// the reference (the plain build, which links, is not). A wrapper that
/// makes the shim link anyway is caught.
#[test]
fn the_gated_copy_equals_the_reference_and_linking_instead_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let o = compare(
        tmp.path(),
        &[os("--shim"), os(SHIM), os(&src), os("rustoff/")],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(
        row(&out, "rules fired").contains("ld-single-copy 1"),
        "{out}"
    );
    assert!(
        row(&out, "plain build").starts_with("builds; 1 files differ"),
        "{out}"
    );
    let w = wrapper(
        tmp.path(),
        "link-anyway",
        &format!("KBUILD_SHIM_INLINE_HELPERS=y exec {SHIM} \"$@\"\n"),
    );
    let o = compare(
        tmp.path(),
        &[os("--shim"), w.as_os_str(), os(&src), os("rustoff/")],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert_eq!(differs(&out), ["rustoff/mini.o"], "{out}");
}

/// The wrapper's masquerade directory in the caller's PATH would run the
/// plain and reference builds through it: refused before any build.
#[test]
fn a_masquerade_directory_in_path_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    // Another kbuild-shim (an installed version), not the wrapper under
    // test, must not be the plain and reference builds' clang either.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::copy(SHIM, other.join("kbuild-shim")).unwrap();
    compare(tmp.path(), &[]); // sets up tmp/bin
    for (name, target) in [
        ("shimdir", PathBuf::from(SHIM)),
        ("otherdir", other.join("kbuild-shim")),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        for t in ["clang-22", "ld.lld-22"] {
            std::os::unix::fs::symlink(&target, dir.join(t)).unwrap();
        }
        let path = path_with(&[dir.as_path(), tmp.path().join("bin").as_path()]);
        let o = compare_cmd(tmp.path(), &[os("--shim"), os(SHIM), os(&src)], Some(&path))
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {}\n{err}", stdout(&o));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("PATH holds '{}'", dir.display())),
            "{err}"
        );
        assert!(stdout(&o).is_empty());
    }
    assert_no_work_dirs(tmp.path());
}

/// A wrapper that only makes an object executable changes no byte, and is
/// caught all the same.
#[test]
fn a_changed_file_mode_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let w = wrapper(
        tmp.path(),
        "chmod",
        "case \" $* \" in *' -c '*sort.c*) \"$@\" && chmod 755 lib/sort.o; exit ;; esac\nexec \"$@\"\n",
    );
    let o = compare(
        tmp.path(),
        &[
            os("--no-plain"),
            os("--shim"),
            w.as_os_str(),
            os(&src),
            os("lib/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    let d = differs(&out);
    assert_eq!(d.len(), 1, "{out}");
    assert!(d[0].starts_with("lib/sort.o (mode 0"), "{out}");
    assert!(d[0].ends_with(", 0755 in the shim build)"), "{out}");
}

/// A reader gone from stdout (`| head`): the run ends by SIGPIPE and no
/// work directory is left; with --keep, the finished builds stay.
#[test]
fn a_closed_stdout_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let keep = tmp.path().join("kept");
    for kept in [false, true] {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        unsafe { libc::close(fds[0]) };
        // SAFETY: fds[1] is ours; the Command takes it.
        let write_end =
            unsafe { <std::process::Stdio as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        let mut args = vec![
            os("--no-plain"),
            os("--shim"),
            os(SHIM),
            os(&src),
            os("init/"),
        ];
        if kept {
            args.extend([os("--keep"), keep.as_os_str()]);
        }
        let o = compare_cmd(tmp.path(), &args, None)
            .stdout(write_end)
            .output()
            .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&o.status),
            Some(libc::SIGPIPE),
            "{:?} {}",
            o.status,
            stderr(&o)
        );
    }
    assert_no_work_dirs(tmp.path());
    // The comparison had finished: the kept builds are whole.
    assert!(keep.join("shim/init/main.o").is_file());
    assert!(!keep.join("INTERRUPTED").exists());
}

/// A plain build that fails (clang's unused-argument error under -Werror)
/// is reported with its first error while shim and reference agree; a
/// build that fails only through the wrapper is a difference; both failing
/// is exit 2.
#[test]
fn failing_builds_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let o = compare(
        tmp.path(),
        &[
            os("--shim"),
            os(SHIM),
            os(&src),
            os("rust/"),
            os("WERROR=1"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    let plain = row(&out, "plain build");
    assert!(plain.starts_with("fails: "), "{out}");
    assert!(
        plain.contains("argument unused during compilation"),
        "{out}"
    );
    assert!(out.contains("result: OK: plain fails: "), "{out}");
    assert!(out.contains(" — shim and reference agree"), "{out}");

    let w = wrapper(
        tmp.path(),
        "fail-sort",
        "case \" $* \" in *sort.c*) echo 'wrapper: refused' >&2; exit 1 ;; esac\nexec \"$@\"\n",
    );
    let o = compare(tmp.path(), &[os("--shim"), w.as_os_str(), os(&src)]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(row(&out, "shim build").starts_with("FAILED: "), "{out}");
    assert!(out.contains("result: DIFFERENT: the build through the shim failed"));
    assert!(stderr(&o).contains("wrapper: refused"), "{}", stderr(&o));

    std::fs::write(src.join("lib/sort.c"), "this is not C\n").unwrap();
    let o = compare(tmp.path(), &[os("--shim"), os(SHIM), os(&src)]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("kbuild-compare: the reference and the shim build both failed"),
        "{err}"
    );
    assert!(last.contains("error:"), "{err}");
    assert_no_work_dirs(tmp.path());
}

/// randconfig: one KCONFIG_SEED for every build, so .config agrees.
#[test]
fn randconfig_gets_one_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let o = compare(
        tmp.path(),
        &[
            os("--config"),
            os("randconfig"),
            os("--no-plain"),
            os("--shim"),
            os(SHIM),
            os(&src),
            os("init/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains("config randconfig KCONFIG_SEED="), "{out}");
    assert_eq!(row(&out, "plain build"), "not built (--no-plain)", "{out}");
    assert!(!out.contains("build time plain"), "{out}");
}

/// SIGTERM (or SIGINT) during a build stops make and everything it started
/// within seconds; without --keep no work directory is left, with --keep
/// the builds are removed and an INTERRUPTED file says so.
#[test]
fn sigterm_stops_the_build() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let keep = tmp.path().join("kept");
    for (sig, kept) in [(libc::SIGTERM, false), (libc::SIGINT, true)] {
        let pidfile = tmp.path().join(format!("sleeper{sig}.pid"));
        let w = wrapper(
            tmp.path(),
            &format!("slow{sig}"),
            &format!(
                "case \" $* \" in *sort.c*) echo $$ >{0}.tmp; mv {0}.tmp {0}; exec sleep 60 ;; esac\nexec \"$@\"\n",
                pidfile.display()
            ),
        );
        let mut args = vec![os("--no-plain"), os("--shim"), w.as_os_str(), os(&src)];
        if kept {
            args.extend([os("--keep"), keep.as_os_str()]);
        }
        let mut child = compare_cmd(tmp.path(), &args, None)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !pidfile.exists() {
            assert!(
                t0.elapsed().as_secs() < 60,
                "the slow compile never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let sleeper: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let t1 = std::time::Instant::now();
        unsafe { libc::kill(child.id() as i32, sig) };
        let status = child.wait().unwrap();
        assert!(t1.elapsed().as_secs() < 10, "took {:?}", t1.elapsed());
        // Dead of the signal itself, as make dies, so a calling script stops too.
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(sig),
            "{status:?}"
        );
        // gone, or a zombie not yet reaped by init
        std::thread::sleep(std::time::Duration::from_millis(200));
        let state = std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default();
        let state = state
            .rsplit_once(") ")
            .map(|(_, r)| &r[..1])
            .unwrap_or("gone");
        assert!(
            state == "gone" || state == "Z",
            "the build's sleep {sleeper} still runs (state {state})"
        );
    }
    assert_no_work_dirs(tmp.path());
    assert!(keep.join("INTERRUPTED").is_file());
    for d in ["obj", "reference", "shim"] {
        assert!(!keep.join(d).exists(), "{d} left in the kept directory");
    }
}

/// `kbuild-shim --compare` is the tool itself (the script only forwards):
/// its help, and its errors as one `kbuild-compare:` line.
#[test]
fn kbuild_shim_compare_is_the_tool() {
    let o = shim().args(["--compare", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("or: kbuild-shim --compare"),
        "{}",
        stdout(&o)
    );
    let o = shim()
        .args(["--compare", "--llvm", "22", "src"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "kbuild-compare: bad --llvm '22' (expected -N such as -22, 1, or /path/to/llvm/bin/)\n"
    );
    let o = shim().args(["--explain", "--compare"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--compare must be the first option"),
        "{}",
        stderr(&o)
    );
}

/// Without make, nothing is built: one line, exit 2, at once. (The
/// comparison itself needs no cmp, diff or find: it is Rust.)
#[test]
fn a_missing_tool_is_found_before_building() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let bin = tmp.path().join("nomake");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(SHIM, bin.join("kbuild-shim")).unwrap();
    for dir in ["/usr/local/bin", "/usr/bin", "/bin"] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name();
            if name != "make" && !bin.join(&name).exists() {
                std::os::unix::fs::symlink(e.path(), bin.join(&name)).unwrap();
            }
        }
    }
    let o = compare_cmd(
        tmp.path(),
        &[os("--shim"), os(SHIM), os(&src)],
        Some(bin.as_os_str()),
    )
    .output()
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'make' not found"), "{err}");
    assert_no_work_dirs(tmp.path());
}

/// The script forwards to a kbuild-shim that has `--compare`: an older one
/// first in PATH is passed over for a newer one, and named when it is the
/// only one (one line, exit 2).
#[test]
fn the_script_forwards_to_a_shim_with_compare() {
    let tmp = tempfile::tempdir().unwrap();
    // A copy of the script away from any checkout's target/release.
    let ws = tmp.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    let script = ws.join("kbuild-compare");
    std::fs::copy(SCRIPT, &script).unwrap();
    let old = tmp.path().join("old");
    std::fs::create_dir(&old).unwrap();
    write_exe(
        &old.join("kbuild-shim"),
        "#!/bin/sh\necho \"kbuild-shim: unknown option '$1'\" >&2\nexit 2\n",
    );
    let run = |path: &OsStr| {
        Command::new(&script)
            .arg("--help")
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let o = run(&path_with(&[old.as_path()]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no kbuild-shim with --compare"), "{err}");
    assert!(
        err.contains(&format!("(too old: '{}/kbuild-shim')", old.display())),
        "{err}"
    );
    // With the new one in the checkout's place, it is used.
    let release = tmp.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::os::unix::fs::symlink(SHIM, release.join("kbuild-shim")).unwrap();
    let o = run(&path_with(&[old.as_path()]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("usage: kbuild-compare"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("mine.txt"), "keep me").unwrap();
    let configured = fake_kernel(tmp.path(), "configured");
    std::fs::write(configured.join(".config"), "CONFIG_X=y\n").unwrap();
    let not_tar = tmp.path().join("linux.zip");
    std::fs::write(&not_tar, "x").unwrap();
    let missing = tmp.path().join("nope");
    let module = fake_module(tmp.path(), "hello");
    let s = |p: &Path| p.as_os_str().to_owned();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (vec![], "no kernel source given"),
        (vec![s(&missing)], "does not exist"),
        (vec![s(&not_tar)], "is neither a directory nor a .tar.xz"),
        (
            vec![s(tmp.path())],
            "is not a kernel source tree (no Makefile)",
        ),
        (vec![s(&configured)], "is configured in place"),
        (
            vec!["--frobnicate".into(), s(&src)],
            "unknown option '--frobnicate'",
        ),
        (vec!["--arch".into()], "--arch needs a value"),
        (
            vec!["--config".into(), "bogus".into(), s(&src)],
            "--config 'bogus' is neither an existing file nor a config target",
        ),
        (
            vec!["--config".into(), "menuconfig".into(), s(&src)],
            "--config 'menuconfig' is interactive",
        ),
        (
            vec!["--llvm".into(), "22".into(), s(&src)],
            "bad --llvm '22'",
        ),
        (
            vec![
                "--llvm".into(),
                "/usr/lib/llvm-22/bin/".into(),
                "--masquerade".into(),
                s(&src),
            ],
            "--masquerade needs tools found in PATH",
        ),
        (
            vec!["--shim".into(), s(&missing), s(&src)],
            "is not an executable file",
        ),
        (
            vec![
                "--shim".into(),
                format!("{SHIM} --x").into(),
                "--masquerade".into(),
                s(&src),
            ],
            "has several words",
        ),
        (
            vec!["--keep".into(), s(&full), s(&src)],
            "exists and is not an empty directory",
        ),
        (vec![s(&src), "-j4".into()], "unknown option '-j4'"),
        (
            vec![s(&src), "O=/x".into()],
            "'O=/x': kbuild-compare sets O",
        ),
        (
            vec![s(&src), format!("M={}", missing.display()).into()],
            "is not a directory",
        ),
        (
            vec![s(&src), format!("M={}", full.display()).into()],
            "has no Makefile or Kbuild",
        ),
        (
            vec![
                "--keep".into(),
                s(&module.join("keep")),
                s(&src),
                format!("M={}", module.display()).into(),
            ],
            "inside M=",
        ),
        (
            vec![
                std::os::unix::ffi::OsStringExt::from_vec(b"lin\xffux".to_vec()),
                s(&src),
            ],
            "is not UTF-8",
        ),
        (
            vec![s(&src), "KCONFIG_SEED=".into()],
            "'KCONFIG_SEED=' needs a value",
        ),
        (
            vec![
                "--keep".into(),
                s(&tmp.path().join("nodir/../full")),
                s(&src),
            ],
            "has a '..'",
        ),
    ];
    for (args, want) in cases {
        let argv: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = compare(tmp.path(), &argv);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.starts_with("kbuild-compare: "), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want '{want}' in: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    assert_eq!(
        std::fs::read_to_string(full.join("mine.txt")).unwrap(),
        "keep me"
    );
    // The refused --keep inside the module was never created.
    assert!(!module.join("keep").exists());
    assert_no_work_dirs(tmp.path());
}
