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
