//! The ld gate against real objects (rustc, clang-22) and the real ld.lld-22,
//! with a PATH spy proving when the linker runs and when it does not.

mod common;

use common::*;
use kbuild_shim::ld::LD_SEPARATE;
use kbuild_shim::object::is_rust_object;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const LLD: &str = "ld.lld-22";
const CLANG: &str = "clang-22";

/// Real objects of every kind the gate meets, built once per test.
struct Objects {
    dir: tempfile::TempDir,
}

impl Objects {
    fn new() -> Objects {
        let clang = real_tool(CLANG);
        let lld = real_tool(LLD);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        rust_object(d, "rust.o");
        std::fs::write(d.join("c.c"), "int c_fn(int x) { return x + 1; }\n").unwrap();
        check(
            &run_in(d, &clang, &["-O2", "-c", "c.c", "-o", "c.o"]),
            "clang C object",
        );
        check(
            &run_in(
                d,
                &clang,
                &["-O2", "-flto=thin", "-c", "c.c", "-o", "c-lto.o"],
            ),
            "clang C LTO object",
        );
        // Rust bitcode compiled by clang, as the inlining rule does: both idents.
        std::fs::write(
            d.join("lib.rs"),
            "#![no_std]\n#[no_mangle]\npub extern \"C\" fn r(x: u32) -> u32 { x ^ 5 }\n",
        )
        .unwrap();
        let o = Command::new("rustc")
            .args([
                "--crate-type=lib",
                "-Cpanic=abort",
                "-O",
                "--emit=llvm-bc=rust.bc",
                "lib.rs",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        check(&o, "rustc bitcode");
        check(
            &run_in(d, &clang, &["-c", "rust.bc", "-o", "rust-via-clang.o"]),
            "clang -c rust.bc",
        );
        check(
            &run_in(
                d,
                &clang,
                &["-flto=thin", "-c", "rust.bc", "-o", "rust-lto.o"],
            ),
            "clang -flto -c rust.bc",
        );
        check(
            &run_in(d, &lld, &["-r", "-o", "rust-relinked.o", "rust.o"]),
            "ld.lld -r rust.o",
        );
        Objects { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn rust_objects_are_recognised_by_their_ident() {
    let objs = Objects::new();
    for (name, rust) in [
        ("rust.o", true),
        ("rust-via-clang.o", true),
        ("rust-lto.o", true),
        ("rust-relinked.o", true),
        ("c.o", false),
        ("c-lto.o", false),
    ] {
        let data = std::fs::read(objs.path(name)).unwrap();
        assert_eq!(is_rust_object(&data), rust, "{name}");
    }
}

/// A directory with a spy `ld.lld-22` that logs each call, then runs the real one.
fn spy() -> (tempfile::TempDir, PathBuf) {
    let real = real_tool(LLD);
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("calls.log");
    write_exe(
        &d.path().join(LLD),
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        ),
    );
    (d, log)
}

struct Gate {
    work: tempfile::TempDir,
    spy: tempfile::TempDir,
    log: PathBuf,
}

impl Gate {
    /// A kbuild-like object tree holding `obj` as `rust/foo.o`, mode 0640.
    fn new(obj: &Path, auto_conf: Option<&str>) -> Gate {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("rust")).unwrap();
        let obj_path = work.path().join("rust/foo.o");
        std::fs::copy(obj, &obj_path).unwrap();
        std::fs::set_permissions(&obj_path, std::fs::Permissions::from_mode(0o640)).unwrap();
        if let Some(text) = auto_conf {
            std::fs::create_dir_all(work.path().join("include/config")).unwrap();
            std::fs::write(work.path().join("include/config/auto.conf"), text).unwrap();
        }
        let (spy, log) = spy();
        Gate { work, spy, log }
    }

    /// Runs kbuild's cmd_ld_single through the shim; returns whether the linker ran.
    fn ld_single(&self, env: &[(&str, &str)]) -> bool {
        let o = shim()
            .args([
                LLD,
                "-m",
                "elf_x86_64",
                "-z",
                "noexecstack",
                "-r",
                "-o",
                "rust/.tmp_foo.o",
                "rust/foo.o",
            ])
            .envs(env.iter().copied())
            .env("PATH", path_with(&[self.spy.path()]))
            .current_dir(self.work.path())
            .output()
            .unwrap();
        check(&o, "cmd_ld_single through the shim");
        assert!(
            self.work.path().join("rust/.tmp_foo.o").is_file(),
            "no .tmp_ output"
        );
        std::fs::read_to_string(&self.log).is_ok_and(|l| l.contains("rust/.tmp_foo.o"))
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.work.path().join(rel)).unwrap()
    }

    fn stray_temp_files(&self) -> Vec<String> {
        std::fs::read_dir(self.work.path().join("rust"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".kbuild-shim"))
            .collect()
    }
}

#[test]
fn rust_object_with_inlining_off_is_copied_and_the_linker_never_runs() {
    let objs = Objects::new();
    for (obj, env, conf) in [
        ("rust.o", Some("n"), None),
        ("rust.o", None, Some("CONFIG_RUST=y\nCONFIG_LTO_CLANG=y\n")),
        ("rust-lto.o", Some("n"), None),
        (
            "rust-via-clang.o",
            None,
            Some("CONFIG_RUST=y\n# CONFIG_RUST_INLINE_HELPERS is not set\n"),
        ),
    ] {
        let g = Gate::new(&objs.path(obj), conf);
        let env: Vec<(&str, &str)> = env
            .map(|v| ("KBUILD_SHIM_INLINE_HELPERS", v))
            .into_iter()
            .collect();
        assert!(!g.ld_single(&env), "{obj}: the linker ran");
        assert_eq!(
            g.read("rust/.tmp_foo.o"),
            g.read("rust/foo.o"),
            "{obj}: not an exact copy"
        );
        let mode = std::fs::metadata(g.work.path().join("rust/.tmp_foo.o"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o640, "{obj}: permissions not kept");
        assert!(
            g.stray_temp_files().is_empty(),
            "{obj}: {:?}",
            g.stray_temp_files()
        );
    }
}

#[test]
fn the_linker_runs_for_c_objects_inlining_on_and_unknown_state() {
    let objs = Objects::new();
    for (obj, env, conf, why) in [
        ("c.o", Some("n"), None, "C object"),
        (
            "c-lto.o",
            None,
            Some("CONFIG_LTO_CLANG=y\n"),
            "C LTO object",
        ),
        ("rust.o", Some("y"), None, "inlining on (env)"),
        (
            "rust-lto.o",
            None,
            Some("CONFIG_RUST_INLINE_HELPERS=y\n"),
            "inlining on (auto.conf)",
        ),
        ("rust.o", None, None, "unknown state"),
    ] {
        let g = Gate::new(&objs.path(obj), conf);
        let env: Vec<(&str, &str)> = env
            .map(|v| ("KBUILD_SHIM_INLINE_HELPERS", v))
            .into_iter()
            .collect();
        assert!(g.ld_single(&env), "{why}: the linker did not run");
        let out = g.read("rust/.tmp_foo.o");
        assert!(
            out.starts_with(b"\x7fELF"),
            "{why}: ld -r output is not ELF"
        );
    }
}

/// Every lld option in the table takes a separate value in ld.lld-22, and
/// every option ld.lld-22 lists that takes one is in the table.
#[test]
fn ld_option_table_matches_ld_lld_22() {
    let lld = real_tool(LLD);
    let missing = |opt: &str| {
        let o = Command::new(&lld).arg(opt).output().unwrap();
        stderr(&o).contains(&format!("{opt}: missing argument"))
    };
    // Not lld's: GNU ld's -plugin-opt, and a separated spelling some wrappers emit.
    let not_lld = ["-plugin-opt", "--thinlto-cache-dir"];
    for opt in LD_SEPARATE.iter().filter(|o| !not_lld.contains(o)) {
        assert!(
            missing(opt),
            "ld.lld-22 does not take a separate value for {opt}"
        );
    }
    let help = Command::new(&lld).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let mut seen = 0;
    for line in help.lines() {
        let Some(opt) = line.trim_start().split([' ', '=', '<']).next() else {
            continue;
        };
        if !line.starts_with("  -") || opt.len() < 2 {
            continue;
        }
        seen += 1;
        if missing(opt) {
            assert!(
                LD_SEPARATE.contains(&opt),
                "{opt} takes a value in ld.lld-22 but is not in LD_SEPARATE"
            );
        }
    }
    assert!(
        seen > 200,
        "parsed only {seen} options from ld.lld-22 --help"
    );
}
