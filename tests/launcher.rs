//! KBUILD_SHIM_LAUNCHER: the final command runs as `<launcher…> <real tool>
//! <args…>`. Recording fakes for the argv and loop safety; the real ccache,
//! distcc (with a distccd the test starts on 127.0.0.1) and icecream (with an
//! icecc-scheduler and two iceccds on 127.0.0.1) for the rest.

use crate::common;

use common::*;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IR_FLAGS: [&str; 5] = [
    "-Werror=unused-command-line-argument",
    "-Uarm",
    "-I./include",
    "-Wp,-MMD,dep.d",
    "-c",
];

/// A recording launcher: writes its argv to `$LAUNCHER_RECORD` and its PATH
/// to `$LAUNCHER_RECORD.path`, then runs `$@` (or `body` instead).
fn launcher(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    write_exe(
        &p,
        &format!(
            "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > \"$LAUNCHER_RECORD\"\n\
             printf '%s' \"$PATH\" > \"$LAUNCHER_RECORD.path\"\n{body}\n"
        ),
    );
    p
}

#[test]
fn launcher_words_come_first_and_the_tool_is_an_absolute_path() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let l = launcher(fakes.path(), "mylauncher", "shift 2; exec \"$@\"");
    let rec = work.path().join("tool.rec");
    let lrec = work.path().join("launcher.rec");
    let o = shim()
        .arg("clang-22")
        .args(IR_FLAGS)
        .args(["x.bc", "-o", "x.o"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "mylauncher --opt 'two words'")
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .env("LAUNCHER_RECORD", &lrec)
        .output()
        .unwrap();
    check(&o, "shim with launcher");
    let tool = fakes.path().join("clang-22");
    let mut want = vec![l.into_os_string(), "--opt".into(), "two words".into()];
    want.push(tool.clone().into_os_string());
    let rewritten = words(&[
        "-Werror=unused-command-line-argument",
        "-c",
        "x.bc",
        "-o",
        "x.o",
        "-Wno-override-module",
        "-Wno-unused-command-line-argument",
    ]);
    want.extend(rewritten.iter().cloned());
    assert_eq!(read_record(&lrec).unwrap(), want);
    let mut tool_argv = vec![tool.into_os_string()];
    tool_argv.extend(rewritten);
    assert_eq!(read_record(&rec).unwrap(), tool_argv);

    // --explain shows the same command, launcher included, and runs nothing.
    std::fs::remove_file(&lrec).unwrap();
    let o = shim()
        .args(["--explain", "clang-22"])
        .args(IR_FLAGS)
        .args(["x.bc", "-o", "x.o"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "mylauncher --opt 'two words'")
        .output()
        .unwrap();
    check(&o, "explain with launcher");
    let first = stdout(&o).lines().next().unwrap().to_owned();
    assert!(
        first.contains("/mylauncher --opt 'two words' /")
            && first.ends_with("-Wno-unused-command-line-argument"),
        "{first}"
    );
    assert!(!lrec.exists());
}

#[test]
fn ld_commands_run_without_the_launcher() {
    let fakes = fake_tools(&["ld.lld-22"]);
    let work = tempfile::tempdir().unwrap();
    launcher(fakes.path(), "mylauncher", "exec \"$@\"");
    let rec = work.path().join("tool.rec");
    let lrec = work.path().join("launcher.rec");
    let o = shim()
        .args(["ld.lld-22", "-r", "-o", "a.o", "b.o", "c.o"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "mylauncher")
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .env("LAUNCHER_RECORD", &lrec)
        .output()
        .unwrap();
    check(&o, "ld with a launcher set");
    assert_eq!(
        read_record(&rec).unwrap()[1..],
        words(&["-r", "-o", "a.o", "b.o", "c.o"])
    );
    assert!(!lrec.exists(), "the launcher ran for ld");
}

#[test]
fn a_launcher_that_searches_path_does_not_reach_the_shim_again() {
    // The launcher drops the absolute path and looks the tool up by name, as
    // a masquerading wrapper does. The shim's directory is first in PATH.
    let fakes = fake_tools(&["clang-22"]);
    let bin = shim_dir(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    launcher(
        fakes.path(),
        "bylauncher",
        "n=$(basename \"$1\"); shift; exec \"$n\" \"$@\"",
    );
    let rec = work.path().join("tool.rec");
    let lrec = work.path().join("launcher.rec");
    let start = Instant::now();
    let o = Command::new(bin.path().join("clang-22"))
        .args(IR_FLAGS)
        .args(["x.bc", "-o", "x.o"])
        .env("PATH", path_with(&[bin.path(), fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "bylauncher")
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .env("LAUNCHER_RECORD", &lrec)
        .env_remove("KBUILD_SHIM_DEPTH")
        .output()
        .unwrap();
    check(&o, "masquerade with a PATH-searching launcher");
    assert!(start.elapsed() < Duration::from_secs(5));
    let argv = read_record(&rec).unwrap();
    assert_eq!(argv[0], fakes.path().join("clang-22").into_os_string());
    assert_eq!(argv.last().unwrap(), "-Wno-unused-command-line-argument");
    let lpath = std::fs::read_to_string(format!("{}.path", lrec.display())).unwrap();
    assert!(
        !lpath.split(':').any(|d| Path::new(d) == bin.path()),
        "launcher PATH still has the shim dir: {lpath}"
    );
    assert!(lpath.split(':').any(|d| Path::new(d) == fakes.path()));
}

#[test]
fn a_launcher_that_calls_the_shim_by_path_is_stopped_by_the_depth_counter() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    launcher(fakes.path(), "evil", &format!("exec '{SHIM}' \"$@\""));
    let start = Instant::now();
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "evil")
        .env("KBUILD_SHIM_TEST_RECORD", work.path().join("r"))
        .env("LAUNCHER_RECORD", work.path().join("l"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("loop: kbuild-shim was entered 9 times"),
        "{}",
        stderr(&o)
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(!work.path().join("r").exists());
}

#[test]
fn launcher_errors_name_the_variable() {
    let fakes = fake_tools(&["clang-22"]);
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "no-such-launcher-xyz")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        "kbuild-shim: KBUILD_SHIM_LAUNCHER: cannot find 'no-such-launcher-xyz' in PATH\n"
    );
    let o = shim()
        .args(["clang-22", "-c", "x.c"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_LAUNCHER", "ccache 'unclosed")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .starts_with("kbuild-shim: KBUILD_SHIM_LAUNCHER='ccache \\'unclosed' is not valid"),
        "{}",
        stderr(&o)
    );
}

/// A work dir with `x.c` and its bitcode `x.bc` (from the real clang-22).
fn sources() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("x.c"),
        "int f(int a) { return a * 7 + 1; }\n",
    )
    .unwrap();
    let o = run_in(
        work.path(),
        real_tool("clang-22"),
        &["-c", "-emit-llvm", "x.c", "-o", "x.bc"],
    );
    check(&o, "bitcode");
    work
}

fn ccache_stat(dir: &Path, key: &str) -> u64 {
    let o = Command::new(real_tool("ccache"))
        .arg("--print-stats")
        .env("CCACHE_DIR", dir)
        .output()
        .unwrap();
    check(&o, "ccache --print-stats");
    stdout(&o)
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t')?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in ccache --print-stats"))
}

#[test]
fn ccache_as_launcher_caches_c_compiles_and_runs_ir_compiles_correctly() {
    let ccache = real_tool("ccache");
    real_tool("clang-22");
    let work = sources();
    let cache = work.path().join("ccache");
    let through_shim = |args: &[&str]| {
        let o = shim()
            .current_dir(work.path())
            .arg("clang-22")
            .args(args)
            .env("KBUILD_SHIM_LAUNCHER", &ccache)
            .env("CCACHE_DIR", &cache)
            .env_remove("CCACHE_DISABLE")
            .output()
            .unwrap();
        check(&o, &format!("ccache via shim {args:?}"));
    };
    for out in ["c1.o", "c2.o"] {
        through_shim(&["-O2", "-c", "x.c", "-o", out]);
    }
    assert_eq!(ccache_stat(&cache, "direct_cache_hit"), 1);
    assert_eq!(ccache_stat(&cache, "cache_miss"), 1);
    assert_eq!(
        std::fs::read(work.path().join("c1.o")).unwrap(),
        std::fs::read(work.path().join("c2.o")).unwrap()
    );

    // IR input: the rewritten command reaches clang through ccache and
    // succeeds. ccache 4.7 does not cache IR ("unsupported source language"),
    // so this is counted, not hit.
    for out in ["i1.o", "i2.o"] {
        let mut a: Vec<&str> = IR_FLAGS.to_vec();
        a.extend(["x.bc", "-o", out]);
        through_shim(&a);
    }
    assert_eq!(ccache_stat(&cache, "unsupported_source_language"), 2);
    let plain = run_in(
        work.path(),
        real_tool("clang-22"),
        &["-c", "x.bc", "-o", "plain.o", "-Wno-override-module"],
    );
    check(&plain, "plain IR compile");
    for out in ["i1.o", "i2.o"] {
        assert_eq!(
            std::fs::read(work.path().join(out)).unwrap(),
            std::fs::read(work.path().join("plain.o")).unwrap(),
            "{out}"
        );
    }
}

/// A distccd on 127.0.0.1, stopped when dropped.
struct Distccd {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Distccd {
    fn start(dir: &Path) -> Distccd {
        let distccd = real_tool("distccd");
        // Bind to port 0 for a free port, then hand it over.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("distccd.log");
        std::fs::write(&log, "").unwrap();
        // As root distccd drops to --user; that user must reach the log.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
        let child = Command::new(distccd)
            // Its own process group, so Drop can stop the pre-forked workers too.
            .process_group(0)
            .args([
                "--daemon",
                "--no-detach",
                "--allow",
                "127.0.0.1",
                "--listen",
                "127.0.0.1",
            ])
            .args(["--user", "nobody", "--verbose", "--port"])
            .arg(port.to_string())
            .arg("--log-file")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "distccd did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Distccd { child, port, log }
    }

    fn log(&self) -> String {
        let mut s = String::new();
        std::fs::File::open(&self.log)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }
}

impl Drop for Distccd {
    fn drop(&mut self) {
        // SIGTERM to the group: the daemon and the workers it forked.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn distcc_as_launcher_sends_c_compiles_to_the_daemon_and_runs_ir_compiles_locally() {
    let distcc = real_tool("distcc");
    let clang = real_tool("clang-22");
    let work = sources();
    let daemon = Distccd::start(work.path());
    let distcc_dir = work.path().join("distcc-state");
    std::fs::create_dir(&distcc_dir).unwrap();
    let through_shim = |args: &[&str]| {
        let o = shim()
            .current_dir(work.path())
            .arg("clang-22")
            .args(args)
            .env("KBUILD_SHIM_LAUNCHER", &distcc)
            .env("DISTCC_HOSTS", format!("127.0.0.1:{}", daemon.port))
            .env("DISTCC_DIR", &distcc_dir)
            // A failed remote compile must fail the test, not run locally.
            .env("DISTCC_FALLBACK", "0")
            .output()
            .unwrap();
        check(&o, &format!("distcc via shim {args:?}"));
    };
    through_shim(&["-O2", "-c", "x.c", "-o", "remote.o"]);
    // distccd logs the job summary after answering the client: wait for it.
    let served = "COMPILE_OK exit:0 sig:0 core:0 ret:0";
    let job = format!("{} x.c", clang.display());
    let start = Instant::now();
    let log = loop {
        let log = daemon.log();
        if log.lines().any(|l| l.contains(served) && l.contains(&job)) {
            break log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "distccd log has no job for x.c:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = run_in(work.path(), &clang, &["-O2", "-c", "x.c", "-o", "local.o"]);
    check(&o, "local compile");
    // Same code; the remote object differs only in where it was compiled.
    let text = |f: &str| {
        let o = run_in(work.path(), real_tool("llvm-objdump-22"), &["-d", f]);
        check(&o, "objdump");
        stdout(&o).replace(f, "X")
    };
    assert_eq!(text("remote.o"), text("local.o"));

    let jobs_before = log.matches("COMPILE_OK").count();
    let mut a: Vec<&str> = IR_FLAGS.to_vec();
    a.extend(["x.bc", "-o", "ir.o"]);
    through_shim(&a);
    assert!(work.path().join("ir.o").exists());
    // distcc only distributes C-family sources: the IR compile ran locally.
    assert_eq!(daemon.log().matches("COMPILE_OK").count(), jobs_before);
}

/// Debian's ccache masquerade directory, as update-ccache-symlinks makes it
/// for the installed compilers (the test sets it up if the trigger has not).
fn ccache_masquerade_dir() -> PathBuf {
    let dir = PathBuf::from("/usr/lib/ccache");
    real_tool("ccache");
    if !dir.join("clang-22").exists() {
        let o = Command::new("update-ccache-symlinks").output();
        assert!(
            o.is_ok_and(|o| o.status.success()),
            "update-ccache-symlinks failed"
        );
    }
    let link = std::fs::read_link(dir.join("clang-22")).expect("/usr/lib/ccache/clang-22");
    assert!(link.ends_with("ccache"), "{}", link.display());
    dir
}

/// Issue 12.1: ccache's masquerade directory and the shim's, both in PATH in
/// either order, used the way make uses them (execvp of `clang-22`). Each
/// picks the first `clang-22` that is not itself; the shim then searches only
/// after its own directory (as distcc does), so the chain ends at the real
/// clang instead of looping, and ccache still caches.
#[test]
fn ccache_and_shim_masquerade_dirs_chain_in_either_order() {
    let ccache_dir = ccache_masquerade_dir();
    let shims = shim_dir(&["clang-22"]);
    let work = sources();
    let plain = run_in(
        work.path(),
        real_tool("clang-22"),
        &["-c", "x.bc", "-o", "plain.o", "-Wno-override-module"],
    );
    check(&plain, "plain IR compile");
    for (order, first, second) in [
        ("shim first", shims.path(), ccache_dir.as_path()),
        ("ccache first", ccache_dir.as_path(), shims.path()),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([first, second, Path::new("/usr/bin"), Path::new("/bin")])
            .unwrap();
        let make_runs = |args: &[&str]| {
            let o = Command::new("/bin/sh")
                .current_dir(work.path())
                .args(["-c", "exec clang-22 \"$@\"", "clang-22"])
                .args(args)
                .env("PATH", &path)
                .env("CCACHE_DIR", cache.path())
                .env_remove("CCACHE_DISABLE")
                .output()
                .unwrap();
            check(&o, &format!("{order}: clang-22 {args:?}"));
        };
        for out in ["c1.o", "c2.o"] {
            make_runs(&["-O2", "-c", "x.c", "-o", out]);
        }
        assert_eq!(ccache_stat(cache.path(), "direct_cache_hit"), 1, "{order}");
        assert_eq!(ccache_stat(cache.path(), "cache_miss"), 1, "{order}");
        // The IR compile fails plainly (-Uarm, -I, -Wp with -Werror=unused…):
        // it succeeds only if the shim rewrote it on the way.
        let mut a: Vec<&str> = IR_FLAGS.to_vec();
        a.extend(["x.bc", "-o", "ir.o"]);
        make_runs(&a);
        assert_eq!(
            std::fs::read(work.path().join("ir.o")).unwrap(),
            std::fs::read(work.path().join("plain.o")).unwrap(),
            "{order}"
        );
        assert_eq!(
            ccache_stat(cache.path(), "unsupported_source_language"),
            1,
            "{order}"
        );
    }
}

/// Issue 12.9: `CC="kbuild-shim ccache clang-22"` keeps ccache in front and
/// still applies the rules; another wrapper before clang gets a warning.
#[test]
fn a_launcher_written_before_the_tool_stays_in_front() {
    let ccache = real_tool("ccache");
    let work = sources();
    let cache = work.path().join("ccache");
    let run = |args: &[&str]| {
        let o = shim()
            .current_dir(work.path())
            .arg(&ccache)
            .arg("clang-22")
            .args(args)
            .env("CCACHE_DIR", &cache)
            .env_remove("CCACHE_DISABLE")
            .output()
            .unwrap();
        check(&o, &format!("kbuild-shim ccache clang-22 {args:?}"));
    };
    for out in ["c1.o", "c2.o"] {
        run(&["-O2", "-c", "x.c", "-o", out]);
    }
    assert_eq!(ccache_stat(&cache, "direct_cache_hit"), 1);
    let mut a: Vec<&str> = IR_FLAGS.to_vec();
    a.extend(["x.bc", "-o", "ir.o"]);
    run(&a); // fails unless rewritten
    assert_eq!(ccache_stat(&cache, "unsupported_source_language"), 1);

    let fakes = fake_tools(&["clang-22"]);
    launcher(fakes.path(), "mywrap", "shift 0; exec \"$@\"");
    let o = shim()
        .args(["mywrap", "clang-22", "-c", "x.bc"])
        .env("PATH", path_with(&[fakes.path()]))
        .env("LAUNCHER_RECORD", work.path().join("l.rec"))
        .env("KBUILD_SHIM_TEST_RECORD", work.path().join("t.rec"))
        .output()
        .unwrap();
    check(&o, "an unknown wrapper before clang");
    assert_eq!(
        stderr(&o),
        "kbuild-shim: warning: 'mywrap' is neither clang nor ld, so no rule applies to this \
         command; to run a wrapper in front of 'clang-22', set KBUILD_SHIM_LAUNCHER='mywrap' \
         instead\n"
    );
    // Passed through unchanged.
    let got = read_record(&work.path().join("t.rec")).unwrap();
    assert_eq!(got[1..], words(&["-c", "x.bc"])[..]);
}

/// A free TCP port on 127.0.0.1 (bind to port 0, then hand it over).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An icecream network on 127.0.0.1, stopped when dropped: one
/// `icecc-scheduler` and two `iceccd`s, as icecream's own test suite runs
/// them. The client talks to `local` (`--no-remote`, its own unix socket);
/// `remote` accepts jobs on its own TCP port. A unique netname and
/// `ICECC_TESTS=1` (broadcast on loopback only) keep it apart from any other
/// icecream on the machine.
struct Icecream {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Icecream {
    const REMOTE: &'static str = "kbuild-shim-remote";

    fn start(dir: &Path) -> Icecream {
        let scheduler = real_tool("icecc-scheduler");
        let iceccd = real_tool("iceccd");
        // As root both drop to the icecc user, which must write logs,
        // sockets and environments here.
        let dir = dir.join("icecream");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let sched_port = free_port();
        let bcast_port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let netname = format!("kbuildshim{}", std::process::id());
        // argv[0] is the program; its stderr goes to NAME.stderr.
        let spawn = |argv: Vec<String>, name: &str, socket: Option<&str>| {
            let mut c = Command::new(&argv[0]);
            // Its own process group, so Drop stops the forked children too.
            c.process_group(0)
                .args(&argv[1..])
                .env("ICECC_TESTS", "1")
                // An uncompressed environment: packing clang-22 costs far
                // less CPU (about 6 s instead of 11 s here).
                .env("ICECC_ENV_COMPRESSION", "none")
                .env(
                    "ICECC_TEST_SCHEDULER_PORTS",
                    format!("{sched_port}:{bcast_port}"),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap());
            if let Some(s) = socket {
                c.env("ICECC_TEST_SOCKET", dir.join(s));
            }
            c.spawn().unwrap()
        };
        let d = |f: &str| dir.join(f).display().to_string();
        let mut ice = Icecream {
            children: Vec::new(),
            dir: dir.clone(),
        };
        let mut argv = vec![scheduler.display().to_string()];
        argv.extend([
            "-p".into(),
            sched_port.to_string(),
            "-n".into(),
            netname.clone(),
        ]);
        argv.extend(["-l".into(), d("scheduler.log"), "-vvv".into()]);
        ice.children.push(spawn(argv, "scheduler", None));
        let daemon = |name: &str, extra: &[String]| {
            let mut a: Vec<String> = vec![
                iceccd.display().to_string(),
                "-s".into(),
                format!("127.0.0.1:{sched_port}"),
                "-n".into(),
                netname.clone(),
                "-N".into(),
                name.into(),
                "-b".into(),
                d(&format!("envs-{name}")),
                "-l".into(),
                d(&format!("{name}.log")),
                "-m".into(),
                "2".into(),
                "-vvv".into(),
            ];
            a.extend_from_slice(extra);
            a
        };
        let local = daemon("kbuild-shim-local", &["--no-remote".into()]);
        ice.children
            .push(spawn(local, "local", Some("socket-local")));
        // iceccd takes no jobs while the machine's CPU is less than 10% idle
        // (it reports load 1000, and the scheduler waits for a better one),
        // which on a busy test machine means never. The remote daemon reads
        // a frozen copy of /proc/stat, so it always counts as idle; the
        // compile it runs is real.
        let stat = dir.join("proc-stat");
        std::fs::write(&stat, std::fs::read("/proc/stat").unwrap()).unwrap();
        let mut argv: Vec<String> = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
            .map(String::from)
            .to_vec();
        argv.push("mount --bind \"$0\" /proc/stat && exec \"$@\"".into());
        argv.push(stat.display().to_string());
        argv.extend(daemon(
            Self::REMOTE,
            &["-p".into(), free_port().to_string()],
        ));
        ice.children
            .push(spawn(argv, "remote", Some("socket-remote")));
        // The daemons retry the scheduler every few seconds.
        let start = Instant::now();
        loop {
            let log = ice.log("scheduler.log");
            if ["kbuild-shim-local", Self::REMOTE]
                .iter()
                .all(|n| log.contains(&format!("login {n} protocol version")))
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the iceccds did not log in to the scheduler:\n{log}\nlocal: {}\nremote: {}",
                ice.log("local.stderr"),
                ice.log("remote.stderr")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let remote = ice.log(&format!("{}.log", Self::REMOTE));
        assert!(
            !remote.contains("Cannot use chroot"),
            "iceccd cannot chroot, so it takes no remote jobs: run this test as root\n{remote}"
        );
        ice
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// The client's debug log, one entry per icecc run.
    fn client_jobs(&self) -> Vec<String> {
        let log = self.log("icecc.log");
        let mut jobs: Vec<String> = log.split("invoked as: ").map(str::to_owned).collect();
        jobs.remove(0); // before the first run
        jobs
    }

    /// The client's settings: the local daemon's socket; the job goes to the
    /// remote daemon even though it is on this machine (icecream's own test
    /// hook: otherwise a job placed on 127.0.0.1 runs locally); a debug log.
    fn client_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("ICECC_TEST_SOCKET", self.dir.join("socket-local")),
            ("ICECC_TEST_REMOTEBUILD", "1".into()),
            ("ICECC_PREFERRED_HOST", Self::REMOTE.into()),
            ("ICECC_DEBUG", "debug".into()),
            ("ICECC_LOGFILE", self.dir.join("icecc.log")),
        ]
    }
}

impl Drop for Icecream {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", c.id())])
                .status();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

#[test]
fn icecc_as_launcher_sends_c_compiles_to_the_remote_daemon_and_runs_ir_compiles_locally() {
    let icecc = real_tool("icecc");
    let clang = real_tool("clang-22");
    let work = sources();
    let ice = Icecream::start(work.path());
    let through_shim = |args: &[&str]| {
        let mut c = shim();
        c.current_dir(work.path())
            .arg("clang-22")
            .args(args)
            .env("KBUILD_SHIM_LAUNCHER", &icecc);
        for (k, v) in ice.client_env() {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        check(&o, &format!("icecc via shim {args:?}"));
    };
    through_shim(&["-O2", "-c", "x.c", "-o", "remote.o"]);
    // icecc falls back to a local build on any remote failure and still
    // exits 0, so only the logs tell: the client used the remote daemon,
    // which compiled x.c in its chroot from the environment icecc sent it.
    let jobs = ice.client_jobs();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let want = format!("{} -O2 -c x.c -o remote.o\n", clang.display());
    assert!(jobs[0].contains(&want), "{}", jobs[0]);
    assert!(
        jobs[0].contains("Have to use host 127.0.0.1:"),
        "{}",
        jobs[0]
    );
    assert!(!jobs[0].contains("<building_local>"), "{}", jobs[0]);
    // The daemon's log may trail the client's exit a little: wait for it.
    let start = Instant::now();
    let remote = loop {
        let remote = ice.log(&format!("{}.log", Icecream::REMOTE));
        if remote.contains("remote compile for file x.c")
            && remote.contains("Remote compilation completed with exit code 0")
        {
            break remote;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the remote iceccd log has no job for x.c:\n{remote}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = run_in(work.path(), &clang, &["-O2", "-c", "x.c", "-o", "local.o"]);
    check(&o, "local compile");
    assert_eq!(
        std::fs::read(work.path().join("remote.o")).unwrap(),
        std::fs::read(work.path().join("local.o")).unwrap()
    );

    // IR input: icecc builds it locally ("unknown extension bc"), and the
    // rewritten command gives plain clang's object.
    let jobs_before = remote.matches("Remote compilation completed").count();
    let mut a: Vec<&str> = IR_FLAGS.to_vec();
    a.extend(["x.bc", "-o", "ir.o"]);
    through_shim(&a);
    let jobs = ice.client_jobs();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs[1].contains("x.bc -o ir.o"), "{}", jobs[1]);
    assert!(jobs[1].contains("unknown extension bc"), "{}", jobs[1]);
    assert!(jobs[1].contains("</building_local"), "{}", jobs[1]);
    let plain = run_in(
        work.path(),
        &clang,
        &["-c", "x.bc", "-o", "plain.o", "-Wno-override-module"],
    );
    check(&plain, "plain IR compile");
    assert_eq!(
        std::fs::read(work.path().join("ir.o")).unwrap(),
        std::fs::read(work.path().join("plain.o")).unwrap()
    );
    let remote = ice.log(&format!("{}.log", Icecream::REMOTE));
    assert_eq!(
        remote.matches("Remote compilation completed").count(),
        jobs_before
    );
}

/// What `readelf -p .comment` says linked `prog`: LLD writes "Linker: LLD …".
fn linked_by_lld(prog: &Path) -> bool {
    let o = Command::new(real_tool("readelf"))
        .args(["-p", ".comment"])
        .arg(prog)
        .output()
        .unwrap();
    check(&o, "readelf -p .comment");
    stdout(&o).contains("Linker: ") && stdout(&o).contains("LLD")
}

/// Issue 18.3: in masquerade mode the tool gets `PATH` minus only the shim's
/// own directories, so a directory before the shim's still wins for what
/// clang looks up in PATH. With `~/bin/ld -> ld.lld-22` first, `clang-22 -o
/// prog m.c` links with LLD without the shim, and now also through it (it
/// linked with BFD's /usr/bin/ld). The same holds with ccache's masquerade
/// directory before or after the shim's, and ccache still caches and the IR
/// compile is still rewritten in both orders.
#[test]
fn masquerade_keeps_the_path_before_the_shim_dir_with_and_without_ccache() {
    let ccache_dir = ccache_masquerade_dir();
    real_tool("ld.lld-22");
    // As mkshimdir makes it: `ld` is the shim too, and must not be what clang runs.
    let shims = shim_dir(&["clang-22", "ld"]);
    let home = tempfile::tempdir().unwrap();
    let home_bin = home.path().join("bin");
    std::fs::create_dir(&home_bin).unwrap();
    std::os::unix::fs::symlink(real_tool("ld.lld-22"), home_bin.join("ld")).unwrap();
    let work = sources();
    std::fs::write(work.path().join("m.c"), "int main(void) { return 0; }\n").unwrap();
    let plain = run_in(
        work.path(),
        real_tool("clang-22"),
        &["-c", "x.bc", "-o", "plain.o", "-Wno-override-module"],
    );
    check(&plain, "plain IR compile");
    let usr = [Path::new("/usr/bin"), Path::new("/bin")];
    let runs = |dirs: &[&Path], cache: &Path, args: &[&str], what: &str| {
        let o = Command::new("/bin/sh")
            .current_dir(work.path())
            .args(["-c", "exec clang-22 \"$@\"", "clang-22"])
            .args(args)
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("CCACHE_DIR", cache)
            .env_remove("CCACHE_DISABLE")
            .output()
            .unwrap();
        check(&o, &format!("{what}: clang-22 {args:?}"));
    };
    // Without the shim, clang-22 finds ~/bin/ld: LLD.
    let cache = tempfile::tempdir().unwrap();
    runs(
        &[&home_bin, usr[0], usr[1]],
        cache.path(),
        &["-o", "plain-prog", "m.c"],
        "plain",
    );
    assert!(
        linked_by_lld(&work.path().join("plain-prog")),
        "the scenario needs ~/bin/ld"
    );
    for (order, between) in [
        ("shim only", vec![shims.path()]),
        ("shim first", vec![shims.path(), ccache_dir.as_path()]),
        ("ccache first", vec![ccache_dir.as_path(), shims.path()]),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let mut dirs: Vec<&Path> = vec![&home_bin];
        dirs.extend(&between);
        dirs.extend(usr);
        let prog = format!("prog-{}", order.replace(' ', "-"));
        runs(&dirs, cache.path(), &["-o", &prog, "m.c"], order);
        assert!(
            linked_by_lld(&work.path().join(&prog)),
            "{order}: not linked by ~/bin/ld (LLD): the tool lost the PATH before the shim's directory"
        );
        let mut ir: Vec<&str> = IR_FLAGS.to_vec();
        ir.extend(["x.bc", "-o", "ir.o"]);
        runs(&dirs, cache.path(), &ir, order);
        assert_eq!(
            std::fs::read(work.path().join("ir.o")).unwrap(),
            std::fs::read(work.path().join("plain.o")).unwrap(),
            "{order}"
        );
        if order != "shim only" {
            for out in ["c1.o", "c2.o"] {
                runs(&dirs, cache.path(), &["-O2", "-c", "x.c", "-o", out], order);
            }
            assert_eq!(ccache_stat(cache.path(), "direct_cache_hit"), 1, "{order}");
            assert_eq!(ccache_stat(cache.path(), "cache_miss"), 1, "{order}");
        }
    }
}

/// Issue 18.3, exactly: the PATH the tool gets is the shim's PATH with only
/// the directories in which the name is the shim left out (both of them
/// here), every other entry kept in order. With KBUILD_SHIM_PATH the search
/// list is not PATH, and PATH reaches the tool untouched.
#[test]
fn masquerade_hands_on_path_minus_only_the_shim_dirs() {
    let shim1 = shim_dir(&["clang-22"]);
    let shim2 = shim_dir(&["clang-22"]);
    let [a, b, c] = [(); 3].map(|_| tempfile::tempdir().unwrap());
    let rec = c.path().join("rec");
    write_exe(
        &c.path().join("clang-22"),
        "#!/bin/sh\nprintf '%s' \"$PATH\" > \"$REC\"\n",
    );
    let dirs = [a.path(), shim1.path(), b.path(), shim2.path(), c.path()];
    let path = std::env::join_paths(dirs).unwrap();
    let o = Command::new("/bin/sh")
        .args(["-c", "exec clang-22 -c x.c"])
        .env("PATH", &path)
        .env("REC", &rec)
        .output()
        .unwrap();
    check(&o, "masquerade clang-22");
    let want = std::env::join_paths([a.path(), b.path(), c.path()]).unwrap();
    assert_eq!(std::fs::read(&rec).unwrap(), want.as_encoded_bytes());
    let o = Command::new(shim1.path().join("clang-22"))
        .args(["-c", "x.c"])
        .env("PATH", &path)
        .env(
            "KBUILD_SHIM_PATH",
            std::env::join_paths([shim1.path(), c.path()]).unwrap(),
        )
        .env("REC", &rec)
        .output()
        .unwrap();
    check(&o, "masquerade clang-22 with KBUILD_SHIM_PATH");
    assert_eq!(std::fs::read(&rec).unwrap(), path.as_encoded_bytes());
}
