//! KBUILD_SHIM_REPORT: JSON lines from the real binary, under many concurrent
//! writers, with hostile bytes; checked by our reader and by python3's json.

use crate::common;

use common::*;
use kbuild_shim::tools::report_summary::{parse, Json};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::process::{Command, Stdio};

/// Every line of `report`, parsed by python3's json module (an independent
/// reader) and dumped back with ASCII escapes; returns the parsed count.
fn python_reads(report: &Path) -> usize {
    let o = Command::new(real_tool("python3"))
        .args([
            "-c",
            "import json,sys\nn=0\nfor l in open(sys.argv[1],'rb'):\n json.loads(l.decode('utf-8')); n+=1\nprint(n)",
        ])
        .arg(report)
        .output()
        .unwrap();
    check(&o, "python3 json.loads of every line");
    stdout(&o).trim().parse().unwrap()
}

fn lines(report: &Path) -> Vec<Json> {
    let text = std::fs::read_to_string(report).unwrap();
    text.lines()
        .map(|l| parse(l).unwrap_or_else(|| panic!("not a JSON line: {l:?}")))
        .collect()
}

#[test]
fn many_concurrent_writers_never_tear_a_line() {
    const THREADS: usize = 24;
    const RUNS: usize = 10;
    const FLAGS: usize = 150; // about 6 KB per line, above PIPE_BUF
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report.jsonl");
    let path = path_with(&[fakes.path()]);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (report, path, work) = (&report, &path, work.path());
            s.spawn(move || {
                for r in 0..RUNS {
                    let flags: Vec<String> = (0..FLAGS)
                        .map(|i| format!("-I/very/long/include/path/for/writer/{t}/{r}/{i}"))
                        .collect();
                    let o = shim()
                        .arg("clang-22")
                        .args(&flags)
                        .args(["-c", "x.bc", "-o", &format!("{t}-{r}.o")])
                        .env("PATH", path)
                        .env("KBUILD_SHIM_REPORT", report)
                        .env("KBUILD_SHIM_TEST_RECORD", work.join(format!("rec{t}")))
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    check(&o, "shim");
                    // Passthrough writes nothing.
                    let o = shim()
                        .args(["clang-22", "-c", "x.c", "-o", "y.o"])
                        .env("PATH", path)
                        .env("KBUILD_SHIM_REPORT", report)
                        .env("KBUILD_SHIM_TEST_RECORD", work.join(format!("rec{t}")))
                        .output()
                        .unwrap();
                    check(&o, "passthrough");
                }
            });
        }
    });
    let all = lines(&report);
    assert_eq!(all.len(), THREADS * RUNS);
    assert_eq!(python_reads(&report), THREADS * RUNS);
    let mut seen: Vec<String> = Vec::new();
    for v in &all {
        let out = v.get("output").and_then(Json::str).unwrap().to_owned();
        let (t, r) = out.trim_end_matches(".o").split_once('-').unwrap();
        let want: Vec<String> = (0..FLAGS)
            .map(|i| format!("-I/very/long/include/path/for/writer/{t}/{r}/{i}"))
            .collect();
        assert_eq!(v.get("removed").unwrap().strs(), want, "{out}");
        assert_eq!(v.get("role").and_then(Json::str), Some("cc"));
        seen.push(out);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), THREADS * RUNS);
}

#[test]
fn quotes_backslashes_control_bytes_and_non_utf8_are_escaped() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join(OsStr::from_bytes(b"cwd \xff\"q\\ \xc3(")); // invalid UTF-8
    std::fs::create_dir(&dir).unwrap();
    let report = work.path().join("r.jsonl");
    let hostile = OsString::from_vec(b"-Ia\"b\\c\nd\x01e\x7f\xfe\xe2\x82\xac".to_vec());
    let o = shim()
        .current_dir(&dir)
        .arg("clang-22")
        .arg(&hostile)
        .args(["-c", "x.bc", "-o"])
        .arg(OsStr::from_bytes(b"o\tut\x1b.o"))
        .env("PATH", path_with(&[fakes.path()]))
        .env("KBUILD_SHIM_REPORT", &report)
        .env("KBUILD_SHIM_TEST_RECORD", work.path().join("rec"))
        .output()
        .unwrap();
    check(&o, "shim");
    let raw = std::fs::read(&report).unwrap();
    assert_eq!(raw.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(std::str::from_utf8(&raw).is_ok(), "the report is UTF-8");
    let text = String::from_utf8(raw).unwrap();
    for want in [
        r#""cwd":""#,
        r#"cwd \u00ff\"q\\ \u00c3("#,
        r#""removed":["-Ia\"b\\c\nd\u0001e\u007f\u00fe€"]"#,
        r#""output":"o\tut\u001b.o""#,
    ] {
        assert!(text.contains(want), "{want} not in {text}");
    }
    assert_eq!(python_reads(&report), 1);
    let v = &lines(&report)[0];
    assert_eq!(
        v.get("removed").unwrap().strs(),
        ["-Ia\"b\\c\nd\u{1}e\u{7f}\u{fe}€"]
    );
    assert!(v
        .get("cwd")
        .and_then(Json::str)
        .unwrap()
        .ends_with("/cwd \u{ff}\"q\\ \u{c3}("));
}

#[test]
fn the_summary_counts_rules_skipped_ld_steps_and_removed_arguments() {
    let fakes = fake_tools(&["clang-22", "ld.lld-22"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let report = w.join("r.jsonl");
    rust_object(w, "foo.o");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = shim();
        c.current_dir(w)
            .args(args)
            .env("PATH", path_with(&[fakes.path()]))
            .env("KBUILD_SHIM_REPORT", &report)
            .env("KBUILD_SHIM_TEST_RECORD", w.join("rec"));
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        check(&o, &format!("{args:?}"));
    };
    for _ in 0..3 {
        run(
            &["clang-22", "-Uarm", "-I./inc", "-c", "a.bc", "-o", "a.o"],
            &[],
        );
    }
    run(
        &[
            "clang-22",
            "-I./inc",
            "-Wno-override-module",
            "-c",
            "b.bc",
            "-o",
            "b.o",
        ],
        &[],
    );
    run(
        &[
            "ld.lld-22",
            "-m",
            "elf_x86_64",
            "-r",
            "-o",
            "./.tmp_foo.o",
            "./foo.o",
        ],
        &[("KBUILD_SHIM_INLINE_HELPERS", "n")],
    );
    assert_eq!(
        std::fs::read(w.join(".tmp_foo.o")).unwrap(),
        std::fs::read(w.join("foo.o")).unwrap()
    );
    let all = lines(&report);
    assert_eq!(all.len(), 5);
    let gate = all[4].get("gate").unwrap();
    assert_eq!(gate.get("decision").and_then(Json::str), Some("copy"));
    assert_eq!(gate.get("input").and_then(Json::str), Some("./foo.o"));

    let o = shim().arg("--report").arg(&report).output().unwrap();
    check(&o, "--report");
    let root = w.display();
    assert_eq!(
        stdout(&o),
        format!(
            "5 invocations with a rule fired ({})\n\
             rules:\n\
             \x20      4  ir-add-no-unused-argument\n\
             \x20      4  ir-drop-I\n\
             \x20      3  ir-add-no-override-module\n\
             \x20      3  ir-drop-U\n\
             \x20      1  ld-single-copy\n\
             ld -r skipped (Rust object copied), 1 objects:\n\
             \x20         {root}/foo.o\n\
             most removed arguments:\n\
             \x20      4  -I./inc\n\
             \x20      3  -Uarm\n",
            report.display()
        )
    );
}

#[test]
fn report_errors() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let o = shim()
        .args(["clang-22", "-Uarm", "-c", "a.bc"])
        .env("PATH", path_with(&[fakes.path()]))
        .env(
            "KBUILD_SHIM_REPORT",
            work.path().join("no/such/dir/r.jsonl"),
        )
        .env("KBUILD_SHIM_TEST_RECORD", work.path().join("rec"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("kbuild-shim: KBUILD_SHIM_REPORT: cannot append to "),
        "{}",
        stderr(&o)
    );
    assert!(!work.path().join("rec").exists(), "nothing ran");

    let torn = work.path().join("torn.jsonl");
    std::fs::write(
        &torn,
        "{\"rules\":[\"ir-drop-U\"],\"removed\":[\"-Uarm\"]}\n{\"rules\":[\"ir-dr\n",
    )
    .unwrap();
    let o = shim().arg("--report").arg(&torn).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).ends_with("1 lines are not report lines (line 2)\n"),
        "{}",
        stdout(&o)
    );

    let o = shim()
        .args(["--report", "/nonexistent/r.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    for args in [
        &["--report"][..],
        &["--report", "a", "b"],
        &["--explain", "--report", "a"],
    ] {
        let o = shim().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

/// Waits for `child` at most `secs` seconds; kills it and fails the test if
/// it is still running (a report FIFO must never hang a compile).
fn wait_within(mut child: std::process::Child, secs: u64, what: &str) -> std::process::Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// The IR compile of issue 18.1, through a fake clang-22, reporting to `report`.
fn ir_compile_reporting_to(
    fakes: &Path,
    report: &Path,
    out: &str,
    rec: &Path,
    more: &[String],
) -> std::process::Child {
    shim()
        .args([
            "clang-22",
            "-Werror=unused-command-line-argument",
            "-I",
            "inc",
            "-c",
            "a.bc",
            "-o",
            out,
        ])
        .args(more)
        .env("PATH", path_with(&[fakes]))
        .env("KBUILD_SHIM_REPORT", report)
        .env("KBUILD_SHIM_TEST_RECORD", rec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Issue 18.1: a report FIFO with no reader used to block every IR compile
/// in open(2) forever. Now: exit 2 at once, one line naming the variable,
/// and the tool does not run (as for the other bad report paths).
#[test]
fn a_report_fifo_without_a_reader_fails_fast_naming_the_variable() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let fifo = work.path().join("p");
    mkfifo(&fifo);
    let rec = work.path().join("rec");
    let o = wait_within(
        ir_compile_reporting_to(fakes.path(), &fifo, "a.o", &rec, &[]),
        5,
        "IR compile reporting to a FIFO with no reader",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "kbuild-shim: KBUILD_SHIM_REPORT: cannot append to '{}': it is a FIFO with no reader \
             (No such device or address (os error 6)); keep a reader open for the whole build\n",
            fifo.display()
        )
    );
    assert!(!rec.exists(), "the tool ran");
}

/// Issue 18.1: `cat p &` exits when the first writer closes. The first
/// compile's line reaches it; the next compile then has no reader and fails
/// fast (it used to hang). Neither may hang.
#[test]
fn a_reader_that_exits_after_the_first_line_never_hangs_the_next_compile() {
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let fifo = work.path().join("p");
    mkfifo(&fifo);
    let cat = Command::new(real_tool("cat"))
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Open the FIFO for writing ourselves: that returns once cat has it open
    // for reading, so the first compile surely has a reader. Ours is closed
    // after that compile, so cat sees end-of-file when it would have anyway.
    let opened = std::sync::mpsc::channel();
    let fifo2 = fifo.clone();
    let opener = std::thread::spawn(move || {
        let w = std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo2)
            .unwrap();
        opened.0.send(()).unwrap();
        w
    });
    opened
        .1
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("cat never opened the FIFO");
    let ours = opener.join().unwrap();
    let rec = work.path().join("rec1");
    let first = wait_within(
        ir_compile_reporting_to(fakes.path(), &fifo, "one.o", &rec, &[]),
        5,
        "first IR compile with cat reading",
    );
    check(&first, "first IR compile with cat reading");
    assert!(rec.exists(), "the first compile's tool did not run");
    drop(ours);
    let cat = wait_within(cat, 5, "cat after the first writer closed");
    let text = String::from_utf8(cat.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let line = parse(text.trim_end()).expect("a report line");
    assert_eq!(line.get("output").and_then(Json::str), Some("one.o"));

    let rec = work.path().join("rec2");
    let second = wait_within(
        ir_compile_reporting_to(fakes.path(), &fifo, "two.o", &rec, &[]),
        5,
        "second IR compile after cat exited",
    );
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(stderr(&second).contains("KBUILD_SHIM_REPORT"));
    assert!(!rec.exists(), "the second compile's tool ran");
}

/// Issue 18.1: with a reader that keeps the FIFO open for the whole build
/// (`exec 3<>p`, here the test itself), every line of concurrent compiles
/// arrives whole and exactly once. Each line is about 3.8 KB, under PIPE_BUF
/// (4096 bytes), so each single write is atomic on a pipe. The reader starts
/// late, so the lines (180 KB in all) fill the pipe: the writers must wait
/// for room, not fail with EAGAIN.
#[test]
fn a_report_fifo_kept_open_by_its_reader_gets_every_line_of_concurrent_compiles() {
    use std::io::BufRead;
    const THREADS: usize = 8;
    const RUNS: usize = 6;
    const FLAGS: usize = 100;
    let flags = |t: usize, r: usize| -> Vec<String> {
        (0..FLAGS)
            .map(|i| format!("-I/watched/fifo/writer/{t:02}/{r:02}/{i:03}"))
            .collect()
    };
    let fakes = fake_tools(&["clang-22"]);
    let work = tempfile::tempdir().unwrap();
    let fifo = work.path().join("p");
    mkfifo(&fifo);
    // Read and write, as `exec 3<>p`: the reader never sees EOF between writers.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let reader = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(2));
        let mut got = Vec::new();
        let mut r = std::io::BufReader::new(held);
        while got.len() < THREADS * RUNS {
            let mut l = String::new();
            assert!(r.read_line(&mut l).unwrap() > 0);
            got.push(l);
        }
        got
    });
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (fifo, fakes, work) = (&fifo, fakes.path(), work.path());
            s.spawn(move || {
                for r in 0..RUNS {
                    let rec = work.join(format!("rec{t}-{r}"));
                    let o = wait_within(
                        ir_compile_reporting_to(
                            fakes,
                            fifo,
                            &format!("{t}-{r}.o"),
                            &rec,
                            &flags(t, r),
                        ),
                        30,
                        "IR compile reporting to a watched FIFO",
                    );
                    check(&o, "IR compile reporting to a watched FIFO");
                    assert!(rec.exists());
                }
            });
        }
    });
    let got = reader.join().unwrap();
    let total: usize = got.iter().map(String::len).sum();
    assert!(
        total > 128 * 1024,
        "only {total} bytes: the pipe never filled"
    );
    let mut outs: Vec<String> = got
        .iter()
        .map(|l| {
            assert!(l.len() < 4096, "{} bytes: over PIPE_BUF", l.len());
            let v = parse(l.trim_end()).unwrap_or_else(|| panic!("torn line {l:?}"));
            let out = v.get("output").and_then(Json::str).unwrap().to_owned();
            let (t, r) = out.trim_end_matches(".o").split_once('-').unwrap();
            let mut want = vec!["-I".to_string(), "inc".into()];
            want.extend(flags(t.parse().unwrap(), r.parse().unwrap()));
            assert_eq!(v.get("removed").unwrap().strs(), want, "{out}");
            out
        })
        .collect();
    outs.sort();
    outs.dedup();
    assert_eq!(outs.len(), THREADS * RUNS);
}

/// The seeds of the `report_reader` fuzz target (real report lines: the IR
/// rewrite, bytes that are not UTF-8, stdin, the ld gate) and every
/// truncation of them, through the summary: no panic, and exit 1 exactly
/// when some non-empty line is not a report line. A unit-speed version of
/// the fuzzer's first check.
#[test]
fn report_reader_on_the_fuzz_seeds_and_all_their_truncations() {
    use kbuild_shim::tools::report_summary::summarize;
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/report_reader");
    let mut n = 0;
    for e in std::fs::read_dir(&seeds).unwrap() {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let whole = String::from_utf8_lossy(&data);
        assert_eq!(
            summarize(&whole, &p, &mut Vec::new()).unwrap(),
            0,
            "{}",
            p.display()
        );
        for len in 0..data.len() {
            let text = String::from_utf8_lossy(&data[..len]);
            let bad = text
                .lines()
                .filter(|l| !l.is_empty())
                .any(|l| parse(l).filter(|v| v.get("rules").is_some()).is_none());
            let mut out = Vec::new();
            let code = summarize(&text, &p, &mut out).unwrap();
            assert_eq!(code, u8::from(bad), "{} cut at {len}", p.display());
            // A cut inside a line (not just before its newline) leaves it torn.
            if len > 0 && data[len - 1] != b'\n' && data[len] != b'\n' {
                assert_eq!(code, 1, "{} cut at {len}", p.display());
            }
        }
        n += data.iter().filter(|&&b| b == b'\n').count();
    }
    assert!(n >= 4, "seed lines missing from {}", seeds.display());
}
