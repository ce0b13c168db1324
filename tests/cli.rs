//! The binary as users meet it: masquerade directories, lookup, loops, exit
//! codes and signals, errors, logging. Real clang-22 where it matters.

use crate::common;

use common::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn masquerade(dir: &Path, name: &str, path: OsString) -> Command {
    let mut c = Command::new(dir.join(name));
    c.env("PATH", path);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KBUILD_SHIM_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn masquerade_symlink_runs_the_real_clang_and_rewrites_ir_compiles() {
    let clang = real_tool("clang-22");
    let bin = shim_dir(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("x.c"), "int f(int a) { return a + 1; }\n").unwrap();
    check(
        &run_in(
            work.path(),
            &clang,
            &["-c", "-emit-llvm", "x.c", "-o", "x.bc"],
        ),
        "bitcode",
    );
    let path = path_with(&[bin.path()]);

    let o = masquerade(bin.path(), "clang-22", path.clone())
        .arg("--version")
        .output()
        .unwrap();
    check(&o, "clang-22 --version via masquerade");
    assert!(String::from_utf8_lossy(&o.stdout).contains("clang version 22"));

    let o = masquerade(bin.path(), "clang-22", path.clone())
        .args([
            "-Werror=unused-command-line-argument",
            "-Uarm",
            "-c",
            "x.bc",
            "-o",
            "x.o",
        ])
        .current_dir(work.path())
        .output()
        .unwrap();
    check(&o, "IR compile via masquerade");

    // A plain `clang-22` found through PATH (how make runs it) also lands in the shim.
    let o = Command::new("sh")
        .args([
            "-c",
            "clang-22 -Werror=unused-command-line-argument -Uarm -c x.bc -o y.o",
        ])
        .env("PATH", &path)
        .current_dir(work.path())
        .output()
        .unwrap();
    check(&o, "IR compile via PATH lookup");
    assert!(work.path().join("y.o").is_file());
}

#[test]
fn hard_links_and_copies_of_the_shim_count_as_itself() {
    let tools = fake_tools(&["clang"]);
    // Next to the binary, so a hard link is possible (same filesystem).
    let a = tempfile::tempdir_in(Path::new(SHIM).parent().unwrap()).unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::hard_link(SHIM, a.path().join("clang")).unwrap();
    std::fs::copy(SHIM, b.path().join("clang")).unwrap();
    let record = a.path().join("record");
    let path = std::env::join_paths([a.path(), b.path(), tools.path()]).unwrap();
    let o = masquerade(a.path(), "clang", path)
        .env("KBUILD_SHIM_TEST_RECORD", &record)
        .arg("--version")
        .output()
        .unwrap();
    check(&o, "masquerade through two shim dirs");
    let argv = read_record(&record).expect("the real (fake) clang ran");
    assert_eq!(argv[0], tools.path().join("clang").as_os_str());
}

#[test]
fn masquerade_without_a_real_tool_is_not_installed_not_a_fork_bomb() {
    // Issue 12.11: a name only the shim answers to is simply not installed
    // (mkshimdir makes `clang` on machines that have only `clang-22`).
    let bin = shim_dir(&["clang"]);
    let start = Instant::now();
    let o = masquerade(bin.path(), "clang", bin.path().as_os_str().to_owned())
        .arg("-c")
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "kbuild-shim: cannot find 'clang' in PATH after kbuild-shim's own directory '{}'\n",
            bin.path().display()
        )
    );
}

#[test]
fn prefix_mode_skips_the_shim_dir_and_reports_it() {
    let bin = shim_dir(&["clang-22"]);
    let o = shim()
        .args(["clang-22", "-c", "x.bc"])
        .env("PATH", bin.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        format!(
            "kbuild-shim: cannot find 'clang-22' in PATH (skipped {}: kbuild-shim itself)\n",
            bin.path().display()
        )
    );
    // KBUILD_SHIM_PATH replaces PATH for the search.
    let tools = fake_tools(&["clang-22"]);
    let o = shim()
        .args(["clang-22", "--version"])
        .env("PATH", bin.path())
        .env("KBUILD_SHIM_PATH", tools.path())
        .env("KBUILD_SHIM_TEST_RECORD", tools.path().join("rec"))
        .output()
        .unwrap();
    check(&o, "KBUILD_SHIM_PATH");
    assert!(read_record(&tools.path().join("rec")).is_some());
}

#[test]
fn a_wrapper_that_calls_the_shim_again_is_stopped_by_the_depth_counter() {
    // `clang` after the shim is a wrapper that runs the shim's `clang` again
    // (by its path: the PATH it gets is cut after the shim's directory): a
    // loop that PATH search alone cannot see.
    let bin = shim_dir(&["clang"]);
    let wrap = tempfile::tempdir().unwrap();
    write_exe(
        &wrap.path().join("clang"),
        &format!("#!/bin/sh\nexec '{}/clang' \"$@\"\n", bin.path().display()),
    );
    let path = std::env::join_paths([
        bin.path(),
        wrap.path(),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .unwrap();
    let start = Instant::now();
    let o = masquerade(bin.path(), "clang", path)
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("kbuild-shim: loop: kbuild-shim was entered 9 times"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_tool_and_bad_usage() {
    let o = shim()
        .args(["clang-99-nonexistent", "-c"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(stderr(&o).starts_with("kbuild-shim: cannot find 'clang-99-nonexistent' in PATH"));

    let o = shim().output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("usage: kbuild-shim"));

    let o = shim().args(["/nonexistent/clang", "-c"]).output().unwrap();
    assert_eq!(o.status.code(), Some(127));

    let o = shim().args([SHIM, "-c"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("loop:"), "{}", stderr(&o));

    // An ld command the shim cannot read is the linker's to report (issue
    // 12.7; tests/real_ld.rs checks lld's own message): it runs unchanged.
    let tools = fake_tools(&["ld.lld"]);
    let rec = tools.path().join("rec");
    let o = shim()
        .args(["ld.lld", "-r", "@/nonexistent/foo.mod"])
        .env("PATH", tools.path())
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .output()
        .unwrap();
    check(&o, "ld.lld with an unreadable @file");
    assert_eq!(stderr(&o), "");
    assert_eq!(
        read_record(&rec).unwrap()[1..],
        words(&["-r", "@/nonexistent/foo.mod"])[..]
    );

    let o = shim()
        .args(["clang"])
        .env("KBUILD_SHIM_STRICT", "sometimes")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "kbuild-shim: KBUILD_SHIM_STRICT='sometimes' is not valid: use 1 or 0\n"
    );
}

#[test]
fn non_utf8_arguments_pass_through_byte_for_byte() {
    let tools = fake_tools(&["clang-22", "ld.lld"]);
    let rec = tools.path().join("rec");
    let weird = OsString::from_vec(b"caf\xe9 \xff'\"$x.c".to_vec());
    for (tool, args) in [
        (
            "clang-22",
            vec![OsString::from("-c"), weird.clone(), OsString::from("-Uarm")],
        ),
        (
            "clang-22",
            vec![
                OsString::from("-c"),
                OsString::from("x.bc"),
                OsString::from("-o"),
                weird.clone(),
            ],
        ),
        (
            "ld.lld",
            vec![
                OsString::from("-r"),
                OsString::from("-o"),
                weird.clone(),
                OsString::from("a.o"),
            ],
        ),
    ] {
        let o = shim()
            .arg(tool)
            .args(&args)
            .env("PATH", tools.path())
            .env("KBUILD_SHIM_TEST_RECORD", &rec)
            .output()
            .unwrap();
        check(&o, "non-UTF-8 argv");
        let got = read_record(&rec).unwrap();
        if args[1] == "x.bc" {
            // An IR compile: rewritten, but the odd bytes survive untouched.
            assert_eq!(got[4], weird);
        } else {
            assert_eq!(&got[1..], &args[..]);
        }
    }
}

#[test]
fn exit_codes_signals_and_stdin_are_the_real_tools() {
    let tools = tempfile::tempdir().unwrap();
    write_exe(&tools.path().join("clang"), "#!/bin/sh\ncase \"$1\" in\n  exit*) exit \"${1#exit}\" ;;\n  kill) kill -TERM $$ ;;\n  cat) exec cat ;;\nesac\n");
    let run = |arg: &str| {
        shim()
            .args(["clang", arg])
            .env("PATH", path_with(&[tools.path()]))
            .output()
            .unwrap()
    };
    assert_eq!(run("exit42").status.code(), Some(42));
    assert_eq!(run("exit0").status.code(), Some(0));
    assert_eq!(
        run("kill").status.signal(),
        Some(15),
        "the shim execs: the tool's signal is make's"
    );
    let o = shim()
        .args(["clang", "cat"])
        .env("PATH", path_with(&[tools.path()]))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"from stdin\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(o.stdout, b"from stdin\n");
}

#[test]
fn explain_runs_nothing_and_logging_is_opt_in() {
    let tools = fake_tools(&["clang-22"]);
    let rec = tools.path().join("rec");
    let o = shim()
        .args(["--explain", "clang-22", "-Uarm", "-c", "x.bc"])
        .env("PATH", tools.path())
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .output()
        .unwrap();
    check(&o, "--explain");
    assert!(read_record(&rec).is_none(), "--explain ran the tool");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.lines().any(|l| l == "# rule ir-drop-U: removed -Uarm"),
        "{out}"
    );

    let quiet = shim()
        .args(["clang-22", "-Uarm", "-c", "x.bc"])
        .env("PATH", tools.path())
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .output()
        .unwrap();
    assert!(
        quiet.stderr.is_empty(),
        "silent by default: {}",
        stderr(&quiet)
    );
    let loud = shim()
        .args(["clang-22", "-Uarm", "-c", "x.bc"])
        .env("PATH", tools.path())
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .env("KBUILD_SHIM_LOG", "info")
        .output()
        .unwrap();
    assert!(
        stderr(&loud).contains("kbuild-shim[INFO]: # rule ir-drop-U: removed -Uarm"),
        "{}",
        stderr(&loud)
    );
}

#[test]
fn help_and_version() {
    let o = shim().arg("--help").output().unwrap();
    check(&o, "--help");
    let h = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "CC=\"kbuild-shim clang\"",
        "KBUILD_SHIM_INLINE_HELPERS",
        "KBUILD_SHIM_PATH",
        "127",
    ] {
        assert!(h.contains(needle), "--help lacks {needle}");
    }
    let o = shim().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!("kbuild-shim {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn ignored_signals_and_the_signal_mask_reach_the_real_tool() {
    // make, or a CI harness, may start tools with SIGPIPE ignored: the tool
    // must see exactly the signal state it would see without the shim.
    let script = |prefix: &str| {
        format!("trap '' PIPE; exec {prefix} /bin/grep -E '^(SigIgn|SigBlk)' /proc/self/status")
    };
    let run = |prefix: &str| {
        let o = Command::new("bash")
            .args(["-c", &script(prefix)])
            .output()
            .unwrap();
        check(&o, &format!("grep via '{prefix}'"));
        String::from_utf8(o.stdout).unwrap()
    };
    let plain = run("");
    assert!(!plain.contains("SigIgn:\t0000000000000000"), "{plain}");
    assert_eq!(run(SHIM), plain);
}

/// Issue 12.2: without /proc (a chroot, a minimal container) the shim still
/// knows itself (from AT_EXECFN), so masquerade mode finds the real tool
/// instead of calling itself until the depth limit.
#[test]
fn masquerade_works_without_proc() {
    let unshare = real_tool("unshare");
    let mount = real_tool("mount");
    let bin = shim_dir(&["clang-22"]);
    let tools = fake_tools(&["clang-22"]);
    let record = tools.path().join("rec");
    let path = std::env::join_paths([bin.path(), tools.path()]).unwrap();
    let o = Command::new(unshare)
        // A private mount namespace (and user namespace, so no root is
        // needed) whose /proc is an empty tmpfs.
        .args([
            "-rm",
            "/bin/sh",
            "-c",
            "\"$0\" -t tmpfs none /proc && shift && exec \"$@\"",
        ])
        .arg(&mount)
        .arg("-")
        .arg(bin.path().join("clang-22"))
        .args(["-c", "x.bc"])
        .env("PATH", &path)
        .env("KBUILD_SHIM_TEST_RECORD", &record)
        .output()
        .unwrap();
    check(&o, "masquerade without /proc");
    let argv = read_record(&record).expect("the real (fake) clang-22 ran");
    assert_eq!(argv[0], tools.path().join("clang-22").as_os_str());
}

/// Issue 12.5: with PATH unset, the default search path (confstr's
/// `_CS_PATH`), as execvp and shells use; Debian's clang-22 is in /usr/bin.
#[test]
fn an_unset_path_means_the_default_search_path() {
    real_tool("clang-22");
    let o = shim()
        .env_clear()
        .args(["clang-22", "--version"])
        .output()
        .unwrap();
    check(&o, "env -i kbuild-shim clang-22 --version");
    assert!(stdout(&o).contains("clang version 22."), "{}", stdout(&o));
}

/// Issue 12.6: a tool that is a shell script without `#!` runs with /bin/sh,
/// as execvp runs it (execv alone fails with ENOEXEC).
#[test]
fn a_script_without_a_shebang_runs_with_bin_sh() {
    let tools = tempfile::tempdir().unwrap();
    let rec = tools.path().join("rec");
    write_exe(
        &tools.path().join("clang-22"),
        "printf '%s\\n' \"$0\" \"$@\" > \"$REC\"\nexit 3\n",
    );
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .env("PATH", tools.path())
        .env("REC", &rec)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let got = std::fs::read_to_string(&rec).unwrap();
    assert_eq!(
        got,
        format!("{}\n-c\nx.c\n", tools.path().join("clang-22").display())
    );
}
