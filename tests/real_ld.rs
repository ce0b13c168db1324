//! The ld gate against real objects (rustc, clang-22) and the real ld.lld-22,
//! with a PATH spy proving when the linker runs and when it does not.

use crate::common;

use common::*;
use kbuild_shim::ld::allow::{EMULATIONS, LD_SINGLE_ALLOWED, LLVM_OPTIONS, Z_KEYWORDS};
use kbuild_shim::object::{inspect_file, is_rust_object, Kind};
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

impl Gate {
    /// `ld.lld-22 ARGS` through the shim, inlining off, with the spy in PATH.
    fn shim_run(&self, args: &[&str]) -> std::process::Output {
        shim()
            .arg(LLD)
            .args(args)
            .env("KBUILD_SHIM_INLINE_HELPERS", "n")
            .env("PATH", path_with(&[self.spy.path()]))
            .current_dir(self.work.path())
            .output()
            .unwrap()
    }

    /// Plain `ld.lld-22 ARGS`, no shim.
    fn plain_run(&self, args: &[&str]) -> std::process::Output {
        run_in(self.work.path(), real_tool(LLD), args)
    }

    fn linker_ran(&self) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|l| !l.is_empty())
    }

    fn tmp_exists(&self) -> bool {
        self.work.path().join("rust/.tmp_foo.o").exists()
    }
}

/// `ld.lld-22 WORDS` must succeed silently on `input`: the spelling, its
/// value and its arity are what lld-22 accepts, with nothing to say.
fn lld_accepts_silently(dir: &Path, words: &[&str], input: &str) {
    let mut args: Vec<&str> = words.to_vec();
    args.extend(["-r", "-o", "out.o", input]);
    let o = run_in(dir, real_tool(LLD), &args);
    check(&o, &format!("ld.lld-22 {args:?}"));
    assert_eq!(stderr(&o), "", "ld.lld-22 {args:?} is not silent");
}

/// Every allow-list entry, `-z` keyword, LLVM option and emulation is one
/// ld.lld-22 accepts silently in the form the table allows, each emulation
/// on a clang-22 object of its target, whose ELF header the table matches.
#[test]
fn allow_list_matches_ld_lld_22() {
    let objs = Objects::new();
    let d = objs.dir.path();
    for a in LD_SINGLE_ALLOWED {
        lld_accepts_silently(d, a.example, "rust.o");
    }
    for z in Z_KEYWORDS {
        lld_accepts_silently(d, &["-z", z], "rust.o");
    }
    lld_accepts_silently(d, &["-z", "max-page-size=0x200000"], "rust.o");
    lld_accepts_silently(d, &["-z", "max-page-size=4096"], "rust.o");
    for opt in LLVM_OPTIONS {
        let v = opt.replace("=", "=5").replace("=5+", "=+");
        let v = if opt.ends_with('=') {
            v
        } else {
            opt.to_string()
        };
        lld_accepts_silently(d, &["-mllvm", &v], "rust.o");
        lld_accepts_silently(d, &[&format!("-plugin-opt={v}")], "rust.o");
    }
    for level in ["O0", "O1", "O2", "O3"] {
        lld_accepts_silently(d, &[&format!("--plugin-opt={level}")], "rust.o");
    }
    let clang = real_tool(CLANG);
    for &(emu, machine, wide, le) in EMULATIONS {
        let target = match emu {
            "aarch64elf" | "aarch64linux" => "aarch64-linux-gnu",
            "aarch64elfb" | "aarch64linuxb" => "aarch64_be-linux-gnu",
            "armelf" | "armelf_linux_eabi" => "armv7a-linux-gnueabi",
            "armelfb" | "armelfb_linux_eabi" => "armebv7a-linux-gnueabi",
            "elf32loongarch" => "loongarch32-unknown-elf",
            "elf64loongarch" => "loongarch64-linux-gnu",
            "elf32lriscv" => "riscv32-linux-gnu",
            "elf64lriscv" => "riscv64-linux-gnu",
            "elf_i386" => "i386-linux-gnu",
            "elf_x86_64" => "x86_64-linux-gnu",
            _ => panic!("no target for emulation {emu}"),
        };
        let obj = format!("{emu}.o");
        check(
            &run_in(
                d,
                &clang,
                &[&format!("--target={target}"), "-c", "c.c", "-o", &obj],
            ),
            &format!("clang-22 --target {target}"),
        );
        let (kind, _) = inspect_file(&d.join(&obj)).unwrap();
        assert_eq!(
            kind,
            Kind::Elf {
                etype: 1,
                machine,
                wide,
                le
            },
            "{emu}"
        );
        lld_accepts_silently(d, &["-m", emu], &obj);
        lld_accepts_silently(d, &[&format!("-m{emu}")], &obj);
    }
}

/// Issue 12, item 3: lines ld.lld-22 rejects (or that hold an option outside
/// the allow-list) are not copied. Through the shim the linker runs and the
/// result is plain ld.lld-22's: exit code, stderr, and no `.tmp_` on failure.
#[test]
fn ld_lines_ld_lld_rejects_run_the_linker() {
    let objs = Objects::new();
    let out = ["-r", "-o", "rust/.tmp_foo.o"];
    // (words before `-r -o rust/.tmp_foo.o`, words after, response file, plain lld fails)
    type Case<'a> = (&'a [&'a str], &'a [&'a str], Option<&'a [u8]>, bool);
    let cases: &[Case] = &[
        (
            &["--thinlto-cache-dir", ".thinlto-cache"],
            &["rust/foo.o"],
            None,
            true,
        ),
        (&[], &["rust/foo.o", "-u"], None, true),
        (&[], &["--", "rust/foo.o"], None, true),
        (
            &["--rsp-quoting=windows", "@rust/foo.rsp"],
            &[],
            Some(b"-m elf_x86_64 'rust/foo.o'"),
            true,
        ),
        (
            &["@rust/foo.rsp"],
            &[],
            Some(b"-m\x0celf_x86_64 rust/foo.o"),
            true,
        ),
        (&["--chroot=/"], &["rust/foo.o"], None, true),
        (&["--mips-got-size=4"], &["rust/foo.o"], None, false),
        (&["--no-warn-rwx-segments"], &["rust/foo.o"], None, true),
        // 7.3's ThinLTO ld-option: lld-22 rejects it, so kbuild never passes it.
        (
            &[
                "--lto-whole-program-visibility",
                "-mllvm",
                "-always-rename-promoted-locals=false",
            ],
            &["rust/foo.o"],
            None,
            true,
        ),
        (&["-m", "elf_i386"], &["rust/foo.o"], None, true),
        (&["-maarch64elf"], &["rust/foo.o"], None, true),
        (&["-z", "max-page-size=3"], &["rust/foo.o"], None, true),
        (&["-mllvm", "-bogus"], &["rust/foo.o"], None, true),
        (
            &["-plugin-opt=-stack-alignment=8"],
            &["rust/foo.o"],
            None,
            true,
        ),
    ];
    for &(before, after, rsp, fails) in cases {
        let args: Vec<&str> = [before, &out[..], after].concat();
        let g = Gate::new(&objs.path("rust.o"), None);
        if let Some(text) = rsp {
            std::fs::write(g.work.path().join("rust/foo.rsp"), text).unwrap();
        }
        let plain = g.plain_run(&args);
        assert_eq!(!plain.status.success(), fails, "plain {args:?}: {plain:?}");
        let _ = std::fs::remove_file(g.work.path().join("rust/.tmp_foo.o"));
        let shimmed = g.shim_run(&args);
        assert!(g.linker_ran(), "{args:?}: the linker did not run");
        assert_eq!(shimmed.status.code(), plain.status.code(), "{args:?}");
        assert_eq!(stderr(&shimmed), stderr(&plain), "{args:?}");
        assert_eq!(g.tmp_exists(), !fails, "{args:?}: .tmp_ output");
    }
}

/// Issue 12, item 4: a Rust object that is LLVM bitcode (`rustc
/// -Clinker-plugin-lto`, or Rust IR through `clang -flto`) is linked: the
/// step exists to turn IR into ELF, and a copy would leave bitcode.
#[test]
fn bitcode_rust_objects_run_the_linker() {
    let objs = Objects::new();
    let d = objs.dir.path();
    let o = Command::new("rustc")
        .args([
            "--crate-type=lib",
            "-Cpanic=abort",
            "-O",
            "-Clinker-plugin-lto",
            "--emit=obj",
            "-o",
            "rust-plugin-lto.o",
            "lib.rs",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    check(&o, "rustc -Clinker-plugin-lto");
    for obj in ["rust-plugin-lto.o", "rust-lto.o"] {
        let (kind, rust) = inspect_file(&objs.path(obj)).unwrap();
        assert_eq!((kind, rust), (Kind::Bitcode, true), "{obj}");
        let g = Gate::new(&objs.path(obj), None);
        assert!(
            g.ld_single(&[("KBUILD_SHIM_INLINE_HELPERS", "n")]),
            "{obj}: no link"
        );
        assert!(
            g.read("rust/.tmp_foo.o").starts_with(b"\x7fELF"),
            "{obj}: the output is not ELF"
        );
    }
}

/// Issue 12, item 7: a response file the shim cannot read (missing, a loop)
/// is the linker's to report, gated shape or not: lld's exit code and words.
#[test]
fn unreadable_response_files_are_the_linkers_error() {
    let objs = Objects::new();
    let g = Gate::new(&objs.path("rust.o"), None);
    std::fs::write(g.work.path().join("rust/loop.rsp"), "@rust/loop.rsp\n").unwrap();
    for args in [
        &["-r", "@/nonexistent/foo.mod"][..],
        &["-m", "elf_x86_64", "@rust/missing.rsp"],
        &["-r", "-o", "rust/.tmp_foo.o", "@rust/loop.rsp"],
    ] {
        let plain = g.plain_run(args);
        assert_eq!(plain.status.code(), Some(1), "plain {args:?}");
        let shimmed = g.shim_run(args);
        assert!(g.linker_ran(), "{args:?}: the linker did not run");
        assert_eq!(shimmed.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&shimmed), stderr(&plain), "{args:?}");
        assert!(!stderr(&shimmed).contains("kbuild-shim"), "{args:?}");
    }
}

/// Issue 12, item 8: `--explain`'s line for the gated copy does what the
/// shim does: same bytes and mode, a new mtime (not the input's), the output
/// replaced (a symlink there is replaced, not written through), no temporary.
#[test]
fn explained_copy_line_does_what_the_shim_does() {
    let objs = Objects::new();
    let args = [
        "-m",
        "elf_x86_64",
        "-r",
        "-o",
        "rust/.tmp_foo.o",
        "rust/foo.o",
    ];
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    let mut results = Vec::new();
    for explained in [false, true] {
        let g = Gate::new(&objs.path("rust.o"), None);
        let w = g.work.path();
        let f = std::fs::File::options()
            .append(true)
            .open(w.join("rust/foo.o"))
            .unwrap();
        f.set_modified(old).unwrap();
        std::fs::write(w.join("victim"), "old").unwrap();
        std::os::unix::fs::symlink(w.join("victim"), w.join("rust/.tmp_foo.o")).unwrap();
        let o = if explained {
            let e = shim()
                .args(["--explain", LLD])
                .args(args)
                .env("KBUILD_SHIM_INLINE_HELPERS", "n")
                .env("PATH", path_with(&[g.spy.path()]))
                .current_dir(w)
                .output()
                .unwrap();
            check(&e, "--explain");
            let line = stdout(&e).lines().next().unwrap().to_owned();
            assert!(line.contains("cp --preserve=mode -- "), "{line}");
            run_in(w, "sh", &["-c", &line])
        } else {
            g.shim_run(&args)
        };
        check(
            &o,
            if explained {
                "the explained line"
            } else {
                "the shim"
            },
        );
        assert!(!g.linker_ran());
        let meta = std::fs::symlink_metadata(w.join("rust/.tmp_foo.o")).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the symlink was written through"
        );
        assert_eq!(std::fs::read_to_string(w.join("victim")).unwrap(), "old");
        assert_eq!(g.read("rust/.tmp_foo.o"), g.read("rust/foo.o"));
        assert_ne!(meta.modified().unwrap(), old, "the input's mtime was kept");
        assert!(
            g.stray_temp_files().is_empty(),
            "{:?}",
            g.stray_temp_files()
        );
        results.push(meta.permissions().mode() & 0o7777);
    }
    assert_eq!(results, [0o640, 0o640]);
}

/// Issue 16, 5(a): since 7.2, `CONFIG_WERROR=y` (x86_64's defconfig) puts
/// `--fatal-warnings` on every `ld -r` line (scripts/Makefile.warn). On a
/// single ELF Rust object ld.lld-22 is silent, so the flag cannot fail the
/// step, and it writes the same bytes as without it: what the gate's copy
/// stands for is unchanged, and the line is copied. `--compress-debug-sections`
/// (CONFIG_DEBUG_INFO_COMPRESSED_*) changes what ld -r writes, so it stays out.
#[test]
fn fatal_warnings_of_7x_werror_changes_nothing_and_is_copied() {
    let objs = Objects::new();
    let d = objs.dir.path();
    let o = Command::new("rustc")
        .args([
            "--crate-type=lib",
            "-Cpanic=abort",
            "-O",
            "-g",
            "--emit=obj",
            "-o",
            "rust-debug.o",
            "lib.rs",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    check(&o, "rustc -g");
    let base = ["-m", "elf_x86_64", "-z", "noexecstack"];
    let link = |extra: &[&str], input: &str, out: &str| {
        let args: Vec<&str> = [&base[..], extra, &["-r", "-o", out, input]].concat();
        let o = run_in(d, real_tool(LLD), &args);
        check(&o, &format!("ld.lld-22 {args:?}"));
        assert_eq!(stderr(&o), "", "ld.lld-22 {args:?} is not silent");
        std::fs::read(d.join(out)).unwrap()
    };
    // rust-via-clang.o is what the 7.2+ IR step writes (ELF, LTO filtered out).
    for input in ["rust.o", "rust-via-clang.o", "rust-debug.o"] {
        assert_eq!(
            link(&["--fatal-warnings"], input, "fatal.o"),
            link(&[], input, "plain.o"),
            "{input}: --fatal-warnings changed the output"
        );
    }
    assert_ne!(
        link(&["--compress-debug-sections=zlib"], "rust-debug.o", "z.o"),
        link(&[], "rust-debug.o", "plain.o"),
        "--compress-debug-sections=zlib should change the output"
    );

    let line = [
        &base[..],
        &[
            "--fatal-warnings",
            "-r",
            "-o",
            "rust/.tmp_foo.o",
            "rust/foo.o",
        ],
    ]
    .concat();
    for input in ["rust.o", "rust-via-clang.o"] {
        let g = Gate::new(&objs.path(input), None);
        check(&g.shim_run(&line), "the 7.x WERROR line through the shim");
        assert!(!g.linker_ran(), "{input}: the linker ran");
        assert_eq!(g.read("rust/.tmp_foo.o"), g.read("rust/foo.o"), "{input}");
    }
    let debug_line = [&base[..], &["--compress-debug-sections=zlib"], &line[4..]].concat();
    let g = Gate::new(&objs.path("rust-debug.o"), None);
    check(&g.shim_run(&debug_line), "--compress-debug-sections line");
    assert!(g.linker_ran(), "--compress-debug-sections was copied");
}
