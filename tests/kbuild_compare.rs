//! `wrapper-scripts/kbuild-compare` on a tiny kernel-like tree (a real kernel
//! takes minutes; `.ci/kernel-compare` runs it on Linux 6.12). The tree is
//! compiled with the real clang-22: through the real shim nothing differs, a
//! wrapper that appends `-O1` is caught and its objects named, an object that
//! differs where a rule fired is excused and listed, and bad usage is one line
//! and exit 2.

use crate::common;

use common::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/wrapper-scripts/kbuild-compare"
);

/// Honours O=, ARCH=, LLVM=, CC= and LD= as kbuild does; `defconfig` decides
/// its options with cc-option-style probes; objects are compiled in the object
/// directory and their command lines saved in `.NAME.o.cmd` as kbuild writes
/// them. `rust/` compiles a bitcode file, the IR-input compile the shim rewrites.
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

cc-option = $(shell $(CC) -Werror $(CFLAGS) $(1) -c -x c /dev/null -o $(obj)/.probe.o 2>/dev/null && echo y || echo n; rm -f $(obj)/.probe.o)

.PHONY: defconfig olddefconfig init/ lib/ rust/
defconfig:
	@mkdir -p $(obj)
	@{ echo 'CONFIG_ARCH="$(ARCH)"'; \
	   echo 'CONFIG_CC_VERSION_TEXT="$(shell $(CC) --version | head -n 1)"'; \
	   echo 'CONFIG_CC_HAS_STACKPROTECTOR_STRONG=$(call cc-option,-fstack-protector-strong)'; \
	   echo 'CONFIG_CC_HAS_NO_SUCH_FLAG=$(call cc-option,-fno-such-flag-at-all)'; \
	   echo 'CONFIG_CC_HAS_WL_AS_NEEDED=$(call cc-option,-Wl$(comma)--as-needed)'; } > $(obj)/.config
	@echo '# configuration written to .config'
comma := ,
olddefconfig:
	@test -f $(obj)/.config

# $(call save,TARGET,COMMAND): run COMMAND in the object tree, and record it.
save = cd $(obj) && $(2) && echo 'savedcmd_$(1) := $(2)' > $(dir $(1)).$(notdir $(1)).cmd

$(obj)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $*.o'
	@$(call save,$*.o,$(CC) $(CFLAGS) -c -o $*.o $(src)/$<)

init/: $(obj)/init/main.o $(obj)/init/version.o
	@echo '  LD      init/init.o'
	@$(call save,init/init.o,$(LD) -r -o init/init.o init/main.o init/version.o)
lib/: $(obj)/lib/sort.o
rust/:
	@mkdir -p $(obj)/rust
	@$(call save,rust/helpers.bc,$(CC) $(CFLAGS) -c -emit-llvm -o rust/helpers.bc $(src)/rust/helpers.c)
	@echo '  CC      rust/helpers.o'
	@$(call save,rust/helpers.o,$(CC) $(CFLAGS) -Wp$(comma)-MMD$(comma)rust/.helpers.o.d -c rust/helpers.bc -o rust/helpers.o)
"#;

const SOURCES: [(&str, &str); 4] = [
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
        "rust/helpers.c",
        "int rust_helper_add(int a, int b) { int c = a + b; return c; }\n",
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

/// Runs kbuild-compare without the caller's make or kbuild-shim settings,
/// with TMPDIR in `tmp` (so a left-behind work directory is seen).
fn compare(tmp: &Path, args: &[&OsStr]) -> Output {
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
    c.args(args)
        .env("TMPDIR", tmp)
        .env("PATH", path_with(&[bin.as_path()]));
    for (k, _) in std::env::vars_os() {
        let k8 = k.to_string_lossy();
        if k8.starts_with("KBUILD_SHIM_") || k8.starts_with("MAKE") || k8 == "MFLAGS" {
            c.env_remove(&k);
        }
    }
    c.stdin(std::process::Stdio::null()).output().unwrap()
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

fn assert_no_work_dirs(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("kbuild-compare."))
        .collect();
    assert!(left.is_empty(), "work directories left behind: {left:?}");
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
    assert_eq!(row(&out, ".config"), "identical", "{out}");
    // init/main.o, init/version.o, init/init.o (ld -r), lib/sort.o
    assert_eq!(row(&out, "objects compared"), "4", "{out}");
    assert_eq!(row(&out, "  identical"), "4", "{out}");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    assert_eq!(row(&out, ".cmd files compared"), "4", "{out}");
    assert_eq!(row(&out, "  run through the wrapper"), "4", "{out}");
    assert_eq!(row(&out, "rules fired"), "0 (the shim's report is empty)");
    // "W s wall, C s CPU": clang did run, so each build took some CPU time
    for build in ["build time plain", "build time shim"] {
        let cpu = row(&out, build)
            .strip_suffix(" s CPU")
            .and_then(|r| r.rsplit_once(", "))
            .map(|(_, c)| c.parse::<f64>().unwrap())
            .unwrap_or_else(|| panic!("'{build}' row:\n{out}"));
        assert!(cpu > 0.0, "{build}: no CPU time:\n{out}");
    }
    assert!(row(&out, "ratio shim/plain").starts_with("wall "), "{out}");
    assert!(out.contains("result: OK: no difference"), "{out}");
    // progress on stderr, and the source tree left as it was
    assert!(stderr(&o).contains("plain build"), "{}", stderr(&o));
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
    assert_eq!(row(&out, "objects compared"), "3", "{out}");
    assert_eq!(row(&out, "  identical"), "3", "{out}");
    // the kept directory: the unpacked tree, both builds, the masquerade links
    for p in ["src/Makefile", "plain/init/main.o", "shim/init/.main.o.cmd"] {
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

/// A wrapper that appends -O1 to every compile changes objects and must be
/// caught; its words are stripped from the cmd lines, so only objects differ.
#[test]
fn a_broken_wrapper_is_caught_and_its_objects_named() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let wrapper = tmp.path().join("add-O1");
    write_exe(
        &wrapper,
        "#!/bin/sh\ncase \" $* \" in *' -c '*) exec \"$@\" -O1 ;; esac\nexec \"$@\"\n",
    );
    let o = compare(
        tmp.path(),
        &[
            os("--shim"),
            wrapper.as_os_str(),
            os(&src),
            os("init/"),
            os("lib/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    // The probes still pass with -O1, so .config agrees; every object differs.
    assert_eq!(row(&out, ".config"), "identical", "{out}");
    assert_eq!(row(&out, "objects compared"), "4", "{out}");
    assert_eq!(row(&out, "  differing"), "4", "{out}");
    assert_eq!(row(&out, ".cmd files compared"), "4", "{out}");
    assert_eq!(row(&out, "  run through the wrapper"), "4", "{out}");
    assert_eq!(row(&out, "  differing where a rule fired"), "0", "{out}");
    let named: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("differs: "))
        .collect();
    assert_eq!(
        named,
        ["init/init.o", "init/main.o", "init/version.o", "lib/sort.o"],
        "{out}"
    );
    assert!(out.contains("result: DIFFERENT: 4 objects"), "{out}");
    assert_no_work_dirs(tmp.path());
}

/// The real shim rewrites the bitcode compile: the report names the object
/// and its rules, and the object stays byte-identical.
#[test]
fn the_real_shim_fires_on_the_ir_compile_and_the_report_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let o = compare(
        tmp.path(),
        &[os("--shim"), os(SHIM), os(&src), os("init/"), os("rust/")],
    );
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
    assert!(line.contains("ir-add-no-unused-argument"), "{line}");
    // dropping -Wp,-MMD and adding -Wno-… leaves the object byte-identical
    assert_eq!(row(&out, "  differing where a rule fired"), "0", "{out}");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    assert!(out.contains("result: OK: no difference"), "{out}");
}

/// An object that differs where the wrapper reports a rule fired is excused
/// and listed; the same change on a C object would not be.
#[test]
fn a_difference_where_a_rule_fired_is_listed_not_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let wrapper = tmp.path().join("ir-O1");
    // -O1 on IR compiles only, and a KBUILD_SHIM_REPORT line naming the output.
    write_exe(
        &wrapper,
        r#"#!/bin/sh
out='' prev='' ir=0
for a in "$@"; do
	[ "$prev" = -o ] && out=$a
	case $a in *.bc) [ "$prev" = -o ] || ir=1 ;; esac
	prev=$a
done
if [ "$ir" = 1 ]; then
	printf '{"time":1,"cwd":"%s","role":"cc","output":"%s","rules":["test-O1"],"removed":[],"added":["-O1"],"gate":null}\n' "$PWD" "$out" >>"$KBUILD_SHIM_REPORT"
	exec "$@" -O1
fi
exec "$@"
"#,
    );
    let o = compare(
        tmp.path(),
        &[
            os("--shim"),
            wrapper.as_os_str(),
            os(&src),
            os("lib/"),
            os("rust/"),
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert_eq!(row(&out, "  differing where a rule fired"), "1", "{out}");
    assert_eq!(row(&out, "  differing"), "0", "{out}");
    assert!(
        out.lines()
            .any(|l| l == "differs where a rule fired: rust/helpers.o (rules: test-O1)"),
        "{out}"
    );
    assert_eq!(
        row(&out, "rules fired"),
        "in 1 commands: test-O1 1",
        "{out}"
    );
    assert!(
        out.contains("result: OK: 1 objects differ, each where a shim rule fired"),
        "{out}"
    );
}

/// A build that fails only through the wrapper is a difference (exit 1);
/// a plain build that fails is bad input (exit 2): nothing to compare.
#[test]
fn a_failing_build_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fake_kernel(tmp.path(), "linux");
    let wrapper = tmp.path().join("fail-sort");
    write_exe(
        &wrapper,
        "#!/bin/sh\ncase \" $* \" in *sort.c*) echo 'wrapper: refused' >&2; exit 1 ;; esac\nexec \"$@\"\n",
    );
    let o = compare(tmp.path(), &[os("--shim"), wrapper.as_os_str(), os(&src)]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        row(&out, "shim build").starts_with("FAILED (make exit 2"),
        "{out}"
    );
    assert!(out.contains("result: DIFFERENT: the build through the shim failed"));
    assert!(stderr(&o).contains("wrapper: refused"), "{}", stderr(&o));

    std::fs::write(src.join("lib/sort.c"), "this is not C\n").unwrap();
    let o = compare(tmp.path(), &[os("--shim"), os(SHIM), os(&src)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let last = stderr(&o).lines().last().unwrap_or_default().to_owned();
    assert!(
        last.starts_with("kbuild-compare: the plain build failed (make exit 2)"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert_no_work_dirs(tmp.path());
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
        (vec![s(&src), "V=1".into()], "bad make target 'V=1'"),
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
    assert_no_work_dirs(tmp.path());
}
