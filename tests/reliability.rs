//! Faults and bad input through the real binary: concurrent gated copies,
//! full or read-only file systems, signals, loops, a hostile environment,
//! argv near ARG_MAX. Every test also checks that no `.kbuild-shim.*.tmp`
//! survives. The guarantees each test proves are listed in docs/reliability.md.

use crate::common;

use common::{check, fake_tools, read_record, real_tool, rust_object, shim, stderr, write_exe};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Every `.kbuild-shim.*` file under `dir` (there must be none).
fn stray_temps(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            } else if e.file_name().as_bytes().starts_with(b".kbuild-shim.") {
                found.push(p);
            }
        }
    }
    found
}

/// A fake `ld.lld` that records its argv if it ever runs, and a Rust object.
struct LdFixture {
    tools: tempfile::TempDir,
    work: tempfile::TempDir,
    obj: Vec<u8>,
}

impl LdFixture {
    fn new() -> Self {
        let tools = fake_tools(&["ld.lld"]);
        let work = tempfile::tempdir().unwrap();
        let obj = std::fs::read(rust_object(work.path(), "fixture.o")).unwrap();
        LdFixture { tools, work, obj }
    }

    fn record(&self) -> PathBuf {
        self.tools.path().join("rec")
    }

    /// `kbuild-shim ld.lld -r -o DIR/.tmp_foo.o DIR/foo.o`, inlining off.
    fn gated(&self, dir: &Path) -> Command {
        let mut c = shim();
        c.arg("ld.lld")
            .args(["-m", "elf_x86_64", "-r", "-o"])
            .arg(dir.join(".tmp_foo.o"))
            .arg(dir.join("foo.o"))
            .env("PATH", self.tools.path())
            .env("KBUILD_SHIM_INLINE_HELPERS", "n")
            .env("KBUILD_SHIM_TEST_RECORD", self.record())
            .stdin(Stdio::null());
        c
    }

    fn linker_ran(&self) -> bool {
        read_record(&self.record()).is_some()
    }
}

/// One line on stderr, starting with `kbuild-shim:`.
fn one_line_error(o: &Output) -> String {
    let e = stderr(o);
    assert!(e.starts_with("kbuild-shim: "), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    e
}

const STORM: usize = 200;

#[test]
fn storm_of_gated_ld_steps_on_distinct_outputs() {
    let f = LdFixture::new();
    let dirs: Vec<PathBuf> = (0..STORM)
        .map(|i| {
            let d = f.work.path().join(format!("d{i}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("foo.o"), &f.obj).unwrap();
            d
        })
        .collect();
    let children: Vec<_> = dirs
        .iter()
        .map(|d| f.gated(d).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for c in children {
        check(&c.wait_with_output().unwrap(), "gated copy in the storm");
    }
    for d in &dirs {
        assert_eq!(std::fs::read(d.join(".tmp_foo.o")).unwrap(), f.obj, "{d:?}");
        assert_eq!(std::fs::read(d.join("foo.o")).unwrap(), f.obj);
    }
    assert!(!f.linker_ran());
    assert_eq!(stray_temps(f.work.path()), Vec::<PathBuf>::new());
}

#[test]
fn storm_of_gated_ld_steps_on_the_same_output_is_never_torn() {
    let f = LdFixture::new();
    let d = f.work.path().join("same");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("foo.o"), &f.obj).unwrap();
    // A complete previous output: every read must see it or the new one whole.
    let old: Vec<u8> = f.obj.iter().rev().copied().collect();
    let out = d.join(".tmp_foo.o");
    std::fs::write(&out, &old).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut reads = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let got = std::fs::read(&out).expect("the output never goes missing");
                assert!(
                    got == f.obj || got == old,
                    "torn read of {} bytes",
                    got.len()
                );
                reads += 1;
            }
            reads
        });
        let children: Vec<_> = (0..STORM)
            .map(|_| f.gated(&d).stderr(Stdio::piped()).spawn().unwrap())
            .collect();
        for c in children {
            check(
                &c.wait_with_output().unwrap(),
                "gated copy to a shared output",
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    assert_eq!(std::fs::read(&out).unwrap(), f.obj);
    assert!(!f.linker_ran());
    assert_eq!(stray_temps(f.work.path()), Vec::<PathBuf>::new());
}

/// Runs `script` in new user and mount namespaces (`unshare -rm`), so it can
/// mount a tmpfs or a read-only bind as any user and the mounts vanish with it.
fn in_mount_namespace(script: &str, env: &[(&str, &OsStr)]) -> Output {
    real_tool("unshare");
    let mut c = Command::new("unshare");
    c.args(["-rm", "sh", "-ec", script]);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(
        !stderr(&o).contains("unshare:"),
        "unshare -rm is needed for this test (unprivileged user namespaces): {}",
        stderr(&o)
    );
    o
}

#[test]
fn disk_full_is_a_clean_error_and_leaves_input_and_old_output_alone() {
    let f = LdFixture::new();
    let mnt = f.work.path().join("tiny");
    std::fs::create_dir(&mnt).unwrap();
    std::fs::write(f.work.path().join("saved.o"), &f.obj).unwrap();
    // In a 64 KiB tmpfs: the input, an old output, then filler until ENOSPC.
    let script = r#"
        mount -t tmpfs -o size=64k tmpfs "$MNT"
        cp "$WORK/saved.o" "$MNT/foo.o"
        printf OLD > "$MNT/.tmp_foo.o"
        dd if=/dev/zero of="$MNT/filler" bs=1k 2>/dev/null || true
        set +e
        "$SHIM" ld.lld -r -o "$MNT/.tmp_foo.o" "$MNT/foo.o" 2> "$WORK/err"
        echo $? > "$WORK/rc"
        cmp -s "$MNT/foo.o" "$WORK/saved.o" && echo input-intact > "$WORK/state"
        [ "$(cat "$MNT/.tmp_foo.o")" = OLD ] && echo old-output-intact >> "$WORK/state"
        ls -A "$MNT" > "$WORK/ls"
    "#;
    let o = in_mount_namespace(
        script,
        &[
            ("MNT", mnt.as_os_str()),
            ("WORK", f.work.path().as_os_str()),
            ("SHIM", OsStr::new(common::SHIM)),
            ("PATH", &common::path_with(&[f.tools.path()])),
            ("KBUILD_SHIM_INLINE_HELPERS", OsStr::new("n")),
            ("KBUILD_SHIM_TEST_RECORD", f.record().as_os_str()),
        ],
    );
    check(&o, "tmpfs script");
    let read = |n: &str| std::fs::read_to_string(f.work.path().join(n)).unwrap();
    assert_eq!(read("rc"), "1\n");
    let err = read("err");
    assert!(
        err.starts_with("kbuild-shim: cannot write ") && err.contains("No space left on device"),
        "{err}"
    );
    assert!(
        err.ends_with("is untouched)\n") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(read("state"), "input-intact\nold-output-intact\n");
    assert_eq!(
        read("ls"),
        ".tmp_foo.o\nfiller\nfoo.o\n",
        "no temp file left"
    );
    assert!(!f.linker_ran());
}

#[test]
fn read_only_output_dir_is_a_clean_error() {
    let f = LdFixture::new();
    let d = f.work.path().join("ro");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("foo.o"), &f.obj).unwrap();
    std::fs::write(d.join(".tmp_foo.o"), "OLD").unwrap();
    let script = r#"
        mount --bind "$D" "$D"
        mount -o remount,bind,ro "$D"
        set +e
        "$SHIM" ld.lld -r -o "$D/.tmp_foo.o" "$D/foo.o" 2> "$WORK/err"
        echo $? > "$WORK/rc"
    "#;
    let o = in_mount_namespace(
        script,
        &[
            ("D", d.as_os_str()),
            ("WORK", f.work.path().as_os_str()),
            ("SHIM", OsStr::new(common::SHIM)),
            ("PATH", &common::path_with(&[f.tools.path()])),
            ("KBUILD_SHIM_INLINE_HELPERS", OsStr::new("n")),
            ("KBUILD_SHIM_TEST_RECORD", f.record().as_os_str()),
        ],
    );
    check(&o, "read-only bind script");
    let read = |n: &str| std::fs::read_to_string(f.work.path().join(n)).unwrap();
    assert_eq!(read("rc"), "1\n");
    let err = read("err");
    assert!(
        err.starts_with("kbuild-shim: cannot create a temporary file in ")
            && err.contains("Read-only file system")
            && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("foo.o")).unwrap(), f.obj);
    assert_eq!(std::fs::read(d.join(".tmp_foo.o")).unwrap(), b"OLD");
    assert_eq!(stray_temps(&d), Vec::<PathBuf>::new());
    assert!(!f.linker_ran());
}

#[test]
fn output_path_that_is_a_directory_is_a_clean_error() {
    // Works without root or namespaces: rename(2) cannot replace a non-empty directory.
    let f = LdFixture::new();
    let d = f.work.path().join("x");
    std::fs::create_dir_all(d.join(".tmp_foo.o/keep")).unwrap();
    std::fs::write(d.join("foo.o"), &f.obj).unwrap();
    let o = f.gated(&d).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = one_line_error(&o);
    assert!(
        e.contains("cannot write ") && e.ends_with("is untouched)\n"),
        "{e}"
    );
    assert!(d.join(".tmp_foo.o/keep").is_dir());
    assert_eq!(std::fs::read(d.join("foo.o")).unwrap(), f.obj);
    assert_eq!(stray_temps(f.work.path()), Vec::<PathBuf>::new());
    assert!(!f.linker_ran());
}

/// `ulimit -f 0` (RLIMIT_FSIZE): any write to a file fails with EFBIG.
/// With SIGXFSZ ignored (`trap '' XFSZ`) the write returns an error; with the
/// default disposition the kernel raises SIGXFSZ, which the shim ignores
/// during the copy so that it can clean up (a regression test for that fix).
#[test]
fn file_size_limit_is_a_clean_error_with_no_temp_left() {
    let f = LdFixture::new();
    for (i, trap) in ["trap '' XFSZ;", ""].into_iter().enumerate() {
        let d = f.work.path().join(format!("fsize{i}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("foo.o"), &f.obj).unwrap();
        std::fs::write(d.join(".tmp_foo.o"), "OLD").unwrap();
        let script = format!("{trap} ulimit -f 0; exec \"$@\"");
        let o = Command::new(real_tool("sh"))
            .args(["-c", &script, "sh", common::SHIM, "ld.lld", "-r", "-o"])
            .args([d.join(".tmp_foo.o"), d.join("foo.o")])
            .env("PATH", f.tools.path())
            .env("KBUILD_SHIM_INLINE_HELPERS", "n")
            .env("KBUILD_SHIM_TEST_RECORD", f.record())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{trap}: {o:?}");
        let e = one_line_error(&o);
        assert!(e.contains("File too large"), "{e}");
        assert_eq!(std::fs::read(d.join("foo.o")).unwrap(), f.obj);
        assert_eq!(std::fs::read(d.join(".tmp_foo.o")).unwrap(), b"OLD");
        assert_eq!(stray_temps(&d), Vec::<PathBuf>::new(), "{trap}");
    }
    assert!(!f.linker_ran());
}

/// SIGINT/SIGTERM while the shim itself is copying (the gated path, which
/// does not exec): the shim still dies of the signal, as an interrupted
/// `ld -r` would, but only after the copy is complete and renamed, so no
/// temporary survives and the output is whole. A 64 MiB input (a real Rust
/// object padded with a hole) keeps the copy running long enough to hit it.
#[test]
fn a_signal_during_the_gated_copy_leaves_no_temporary() {
    let f = LdFixture::new();
    for sig in ["-INT", "-TERM"] {
        let d = f.work.path().join(format!("sig{sig}"));
        std::fs::create_dir(&d).unwrap();
        let input = std::fs::File::create(d.join("foo.o")).unwrap();
        std::io::Write::write_all(&mut &input, &f.obj).unwrap();
        input.set_len(64 << 20).unwrap();
        let mut child = f.gated(&d).spawn().unwrap();
        let start = Instant::now();
        while stray_temps(&d).is_empty() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the copy ended before the test saw its temporary"
            );
            assert!(start.elapsed() < Duration::from_secs(10));
        }
        let k = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(k.success());
        let status = child.wait().unwrap();
        let want = if sig == "-INT" { 2 } else { 15 };
        assert_eq!(status.signal(), Some(want), "{sig}: {status:?}");
        assert_eq!(stray_temps(&d), Vec::<PathBuf>::new(), "{sig}");
        let out = std::fs::read(d.join(".tmp_foo.o")).unwrap();
        assert!(
            out == std::fs::read(d.join("foo.o")).unwrap(),
            "{sig}: torn output"
        );
    }
    assert!(!f.linker_ran());
}

/// Waits until `pid` has exec'd `exe` (the shim has handed over).
fn wait_for_exec(pid: u32, exe: &Path) {
    let start = Instant::now();
    while std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .as_deref()
        != Some(exe)
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no exec of {exe:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn signals_reach_the_real_tool_and_its_status_reaches_the_parent() {
    // The tool is a real binary (a copy of sleep named clang-22), so the
    // moment of the exec is visible in /proc/PID/exe.
    let tools = tempfile::tempdir().unwrap();
    let tool = tools.path().join("clang-22");
    std::fs::copy(real_tool("sleep"), &tool).unwrap();
    let status = |through_shim: bool, sig: &str| {
        let mut c = if through_shim {
            let mut c = shim();
            c.arg("clang-22").env("PATH", tools.path());
            c
        } else {
            Command::new(&tool)
        };
        let mut child = c.arg("30").spawn().unwrap();
        wait_for_exec(child.id(), &tool);
        let k = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(k.success());
        child.wait().unwrap()
    };
    for (sig, num) in [("-INT", 2), ("-TERM", 15)] {
        let plain = status(false, sig);
        let shimmed = status(true, sig);
        assert_eq!(plain.signal(), Some(num));
        assert_eq!(shimmed.into_raw(), plain.into_raw(), "{sig}");
    }
    // A tool that catches the signal and exits with its own code.
    let ready = tools.path().join("ready");
    write_exe(
        &tools.path().join("clang"),
        "#!/bin/sh\ntrap 'exit 7' INT TERM\n: > \"$READY\"\nwhile :; do sleep 0.01; done\n",
    );
    for sig in ["-INT", "-TERM"] {
        let mut codes = Vec::new();
        for through_shim in [false, true] {
            let _ = std::fs::remove_file(&ready);
            let mut c = if through_shim {
                let mut c = shim();
                c.arg("clang");
                c
            } else {
                Command::new(tools.path().join("clang"))
            };
            let mut child = c
                .env("PATH", common::path_with(&[tools.path()]))
                .env("READY", &ready)
                .spawn()
                .unwrap();
            let start = Instant::now();
            while !ready.exists() {
                assert!(start.elapsed() < Duration::from_secs(5));
                std::thread::sleep(Duration::from_millis(2));
            }
            Command::new("kill")
                .args([sig, &child.id().to_string()])
                .status()
                .unwrap();
            codes.push(child.wait().unwrap().into_raw());
        }
        assert_eq!(codes[0], codes[1], "{sig}");
        assert_eq!(codes[0], 7 << 8, "{sig}: the trap's exit 7");
    }
}

/// A directory with the shim linked as each of `names`.
fn shim_dir(names: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for n in names {
        std::os::unix::fs::symlink(common::SHIM, d.path().join(n)).unwrap();
    }
    d
}

#[test]
fn two_masquerade_dirs_and_no_real_tool_is_not_installed_within_a_second() {
    // tests/cli.rs covers one masquerade dir, prefix mode, and a wrapper
    // that calls the shim again (the depth counter). The shim searches after
    // its own directory and skips itself there too: the tool is not
    // installed (127, issue 12.11), and nothing loops.
    let (a, b) = (
        shim_dir(&["clang", "ld.lld"]),
        shim_dir(&["clang", "ld.lld"]),
    );
    for tool in ["clang", "ld.lld"] {
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        let start = Instant::now();
        let o = Command::new(a.path().join(tool))
            .args(["-c", "x.bc"])
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(start.elapsed() < Duration::from_secs(1), "{tool}");
        assert_eq!(o.status.code(), Some(127), "{tool}");
        assert_eq!(
            one_line_error(&o),
            format!(
                "kbuild-shim: cannot find '{tool}' in PATH after kbuild-shim's own directory \
                 '{}' (skipped {}: kbuild-shim itself)\n",
                a.path().display(),
                b.path().display()
            )
        );
    }
    // The same with relative PATH entries: identity is by inode, not by name.
    let parent = a.path().parent().unwrap();
    let rel = |d: &tempfile::TempDir| d.path().strip_prefix(parent).unwrap().to_owned();
    let path = std::env::join_paths([rel(&a), rel(&b)]).unwrap();
    let o = Command::new(a.path().join("clang"))
        .env("PATH", &path)
        .current_dir(parent)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(one_line_error(&o).starts_with("kbuild-shim: cannot find 'clang' in PATH after"));
}

#[test]
fn empty_unset_and_relative_path() {
    let empty = tempfile::tempdir().unwrap();
    // An empty PATH is one empty entry, the working directory (execvp).
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .current_dir(empty.path())
        .env("PATH", "")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        one_line_error(&o),
        "kbuild-shim: cannot find 'clang-22' in PATH\n"
    );
    // An unset PATH is the default search path (issue 12.5): Debian's
    // /usr/bin/clang-22 runs and reports the missing file itself.
    real_tool("clang-22");
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .current_dir(empty.path())
        .env_remove("PATH")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("clang-22: error: no such file or directory: 'x.c'"),
        "{}",
        stderr(&o)
    );
    // A relative entry is searched from the working directory, like execvp.
    let tools = fake_tools(&["clang-22"]);
    let rec = tools.path().join("rec");
    let parent = tools.path().parent().unwrap();
    let rel = tools.path().strip_prefix(parent).unwrap();
    let o = shim()
        .args(["clang-22", "-Uarm", "-c", "x.c"])
        .current_dir(parent)
        .env("PATH", rel)
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .output()
        .unwrap();
    check(&o, "relative PATH");
    let got = read_record(&rec).unwrap();
    assert_eq!(got[0], rel.join("clang-22").as_os_str());
    assert_eq!(&got[1..], common::words(&["-Uarm", "-c", "x.c"]));
}

#[test]
fn garbage_in_kbuild_shim_variables_is_an_error_naming_the_variable() {
    let tools = fake_tools(&["clang-22"]);
    let rec = tools.path().join("rec");
    let cases: [(&str, OsString, &str); 7] = [
        (
            "KBUILD_SHIM_INLINE_HELPERS",
            "maybe".into(),
            "KBUILD_SHIM_INLINE_HELPERS='maybe' is not valid: use y or n",
        ),
        (
            "KBUILD_SHIM_STRICT",
            "2".into(),
            "KBUILD_SHIM_STRICT='2' is not valid: use 1 or 0",
        ),
        (
            "KBUILD_SHIM_LOG",
            "loud\n".into(),
            "KBUILD_SHIM_LOG='loud\\n' is not valid",
        ),
        (
            "KBUILD_SHIM_DEPTH",
            "x".into(),
            "KBUILD_SHIM_DEPTH='x' is not valid",
        ),
        (
            "KBUILD_SHIM_DEPTH",
            "-1".into(),
            "KBUILD_SHIM_DEPTH='-1' is not valid",
        ),
        (
            "KBUILD_SHIM_STRICT",
            OsString::from_vec(b"\xff".to_vec()),
            "KBUILD_SHIM_STRICT is not valid UTF-8",
        ),
        // Numeric but absurd: the loop error, not an overflow panic (regression).
        (
            "KBUILD_SHIM_DEPTH",
            "4294967295".into(),
            "loop: kbuild-shim was entered 4294967295 times",
        ),
    ];
    for (var, value, want) in cases {
        let _ = std::fs::remove_file(&rec);
        let o = shim()
            .args(["clang-22", "-Uarm", "-c", "x.bc"])
            .env("PATH", tools.path())
            .env("KBUILD_SHIM_TEST_RECORD", &rec)
            .env(var, &value)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{var}={value:?}: {}", stderr(&o));
        let e = one_line_error(&o);
        assert!(e.starts_with(&format!("kbuild-shim: {want}")), "{e}");
        assert!(e.contains(var), "{e}");
        assert!(read_record(&rec).is_none(), "the tool ran despite {var}");
    }
}

#[test]
fn unreadable_auto_conf_is_an_error_and_a_dangling_one_is_unknown() {
    let f = LdFixture::new();
    let run = |d: &Path| {
        let _ = std::fs::remove_file(f.record());
        let mut c = f.gated(Path::new("x"));
        c.current_dir(d).env_remove("KBUILD_SHIM_INLINE_HELPERS");
        c.output().unwrap()
    };
    let setup = |name: &str| {
        let d = f.work.path().join(name);
        std::fs::create_dir_all(d.join("x")).unwrap();
        std::fs::create_dir_all(d.join("include/config")).unwrap();
        std::fs::write(d.join("x/foo.o"), &f.obj).unwrap();
        d
    };
    // auto.conf is a directory, or a symlink loop: exit 2, nothing written, no linker.
    let dir = setup("isdir");
    std::fs::create_dir(dir.join("include/config/auto.conf")).unwrap();
    let looped = setup("loop");
    let cfg = looped.join("include/config");
    std::os::unix::fs::symlink("auto.conf.b", cfg.join("auto.conf")).unwrap();
    std::os::unix::fs::symlink("auto.conf", cfg.join("auto.conf.b")).unwrap();
    for (d, why) in [
        (&dir, "Is a directory"),
        (&looped, "Too many levels of symbolic links"),
    ] {
        let o = run(d);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = one_line_error(&o);
        assert!(
            e.starts_with("kbuild-shim: cannot read include/config/auto.conf: ")
                && e.contains(why)
                && e.contains("set KBUILD_SHIM_INLINE_HELPERS=y|n"),
            "{e}"
        );
        assert!(!f.linker_ran());
        assert!(!d.join("x/.tmp_foo.o").exists());
    }
    // A dangling symlink is a missing file: state unknown, the linker runs unchanged.
    let dangling = setup("dangling");
    std::os::unix::fs::symlink("nowhere", dangling.join("include/config/auto.conf")).unwrap();
    check(&run(&dangling), "dangling auto.conf");
    assert!(f.linker_ran());
    assert_eq!(stray_temps(f.work.path()), Vec::<PathBuf>::new());
}

/// `getconf ARG_MAX` minus this process's environment and a margin for the
/// shim's own additions (its name, the tool path, `KBUILD_SHIM_DEPTH`).
fn arg_budget() -> usize {
    let o = Command::new(real_tool("getconf"))
        .arg("ARG_MAX")
        .output()
        .unwrap();
    let max: usize = String::from_utf8(o.stdout).unwrap().trim().parse().unwrap();
    let env: usize = std::env::vars_os()
        .map(|(k, v)| k.len() + v.len() + 2 + 8)
        .sum();
    max - env - 16 * 1024
}

/// Words of 1000 bytes (argv[] pointer included) filling `budget`.
fn big_args(budget: usize, make: impl Fn(usize) -> Vec<u8>) -> Vec<OsString> {
    (0..budget / (1000 + 1 + 8))
        .map(|i| {
            let mut w = make(i);
            w.resize(1000, b'x');
            OsString::from_vec(w)
        })
        .collect()
}

#[test]
fn argv_near_arg_max_passes_through_and_rewrites() {
    let tools = fake_tools(&["clang-22"]);
    let budget = arg_budget() - 100;
    let run = |args: &[OsString]| common::run_recorded(tools.path(), "clang-22", args);
    // Passthrough: a C compile whose options include odd bytes.
    let mut args = common::words(&["-Uarm", "-c", "x.c"]);
    args.extend(big_args(budget, |i| {
        [format!("-DM{i}=").as_bytes(), b"\xff "].concat()
    }));
    assert!(args.iter().map(|a| a.len() + 9).sum::<usize>() > budget - 2000);
    assert_eq!(run(&args), args);
    // Rewrite: the same, but an IR compile: `-Uarm` goes, two flags come.
    args[2] = "x.bc".into();
    let mut want = args[1..].to_vec();
    want.push("-Wno-override-module".into());
    want.push("-Wno-unused-command-line-argument".into());
    assert_eq!(run(&args), want);
}

/// The fuzz seeds (fuzz/seeds/elf_reader: 32/64-bit, little/big-endian, after
/// `ld -r`, bitcode) are classified by their names, and every truncation of
/// each is read without a panic, in memory and from a file alike.
#[test]
fn elf_reader_on_the_fuzz_seeds_and_all_their_truncations() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/elf_reader");
    let work = tempfile::tempdir().unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(&seeds).unwrap() {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            kbuild_shim::object::is_rust_object(&data),
            name.starts_with("rust"),
            "{name}"
        );
        for len in 0..data.len() {
            let cut = work.path().join("cut");
            std::fs::write(&cut, &data[..len]).unwrap();
            assert_eq!(
                kbuild_shim::object::is_rust_object(&data[..len]),
                kbuild_shim::object::is_rust_file(&cut).unwrap(),
                "{name} cut at {len}"
            );
        }
        n += 1;
    }
    assert!(n >= 9, "seeds missing from {}", seeds.display());
}
