//! Golden tests: argv in → argv executed (or the gated copy), with the rules
//! that fired. Cases are in tests/golden/cases.txt; the expected results,
//! read like a spec, in tests/golden/expected.txt. Regenerate with:
//!
//!     KBUILD_SHIM_BLESS=1 cargo test --test golden
//!
//! Each case runs the real binary twice against recording fake tools: once
//! with `--explain` (what the golden file shows) and once for real, and the
//! test checks the two agree: the argv the fake tool recorded is exactly the
//! explained command, and "unchanged" means byte-identical to the input.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const TOOLS: &[&str] = &[
    "clang",
    "clang-22",
    "aarch64-linux-gnu-clang",
    "ld",
    "ld.lld",
    "ld.lld-22",
    "llvm-link-22",
];

#[derive(Default, Debug)]
struct Case {
    name: String,
    cwd: String,
    env: Vec<(String, String)>,
    masquerade: bool,
    files: Vec<(String, String)>,
    run: Vec<String>,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, val) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("cases.txt:{}: no 'key:'", n + 1));
        let val = val.trim();
        let words =
            || shlex::split(val).unwrap_or_else(|| panic!("cases.txt:{}: bad quoting", n + 1));
        if key == "case" {
            assert!(!cases.iter().any(|c| c.name == val), "duplicate case {val}");
            cases.push(Case {
                name: val.to_string(),
                cwd: ".".into(),
                ..Case::default()
            });
            continue;
        }
        let c = cases
            .last_mut()
            .unwrap_or_else(|| panic!("cases.txt:{}: before any case", n + 1));
        match key {
            "cwd" => c.cwd = val.to_string(),
            "env" => {
                for w in words() {
                    let (k, v) = w.split_once('=').expect("env: K=V");
                    c.env.push((k.into(), v.into()));
                }
            }
            "via" => c.masquerade = val == "masquerade",
            "file" => {
                let (path, content) = val.split_once(' ').unwrap_or((val, ""));
                c.files.push((path.into(), content.replace("\\n", "\n")));
            }
            "run" => c.run = words(),
            _ => panic!("cases.txt:{}: unknown key '{key}'", n + 1),
        }
    }
    cases
}

fn quoted(args: &[OsString]) -> String {
    args.iter()
        .map(|a| {
            String::from_utf8_lossy(&shlex::bytes::try_quote(a.as_bytes()).unwrap()).into_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Object fixtures shared by every case: a Rust object and a C object.
fn fixtures() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let rust = rust_object(d.path(), "rust.o");
    let c = c_object(d.path(), "c.o");
    (d, rust, c)
}

fn run_case(case: &Case, tools: &Path, rust_obj: &Path, c_obj: &Path) -> String {
    let work = tempfile::Builder::new()
        .prefix("golden.")
        .tempdir()
        .unwrap();
    let root = work.path();
    for (dst, src) in [("rust/foo.o", rust_obj), ("c/bar.o", c_obj)] {
        std::fs::create_dir_all(root.join(dst).parent().unwrap()).unwrap();
        std::fs::copy(src, root.join(dst)).unwrap();
    }
    for (path, content) in &case.files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let cwd = if case.cwd == "." {
        root.to_path_buf()
    } else {
        root.join(&case.cwd)
    };
    let record = root.join("record");
    let shimdir = root.join("shimbin");
    std::fs::create_dir_all(&shimdir).unwrap();
    let path = if case.masquerade {
        std::os::unix::fs::symlink(SHIM, shimdir.join(&case.run[0])).unwrap();
        std::env::join_paths([&shimdir, tools]).unwrap()
    } else {
        std::env::join_paths([tools]).unwrap()
    };
    let input: Vec<OsString> = case.run[1..].iter().map(OsString::from).collect();
    let command = |explain: bool| {
        let mut c = if case.masquerade {
            let mut c = std::process::Command::new(shimdir.join(&case.run[0]));
            c.env_clear();
            c
        } else {
            let mut c = shim();
            c.env_clear();
            if explain {
                c.arg("--explain");
            }
            c.arg(&case.run[0]);
            c
        };
        c.args(&input)
            .current_dir(&cwd)
            .env("PATH", &path)
            .env("KBUILD_SHIM_TEST_RECORD", &record);
        for (k, v) in &case.env {
            c.env(k, v);
        }
        c.output().unwrap()
    };

    let mut out = format!("== {}\n$ ", case.name);
    for (k, v) in &case.env {
        out += &format!("{k}={v} ");
    }
    if !case.masquerade {
        out += "kbuild-shim ";
    }
    out += &quoted(&case.run.iter().map(OsString::from).collect::<Vec<_>>());
    if case.masquerade {
        out += "    [masquerade: the shim is named ";
        out += &case.run[0];
        out += " in a PATH dir]";
    }
    out.push('\n');

    // Explain is only reachable in prefix mode; masquerade cases are checked
    // against the equivalent prefix-mode explanation.
    let explained = if case.masquerade {
        let mut c = shim();
        c.env_clear()
            .arg("--explain")
            .arg(&case.run[0])
            .args(&input)
            .current_dir(&cwd)
            .env("PATH", std::env::join_paths([tools]).unwrap());
        for (k, v) in &case.env {
            c.env(k, v);
        }
        c.output().unwrap()
    } else {
        command(true)
    };
    check(&explained, &format!("{}: --explain", case.name));
    let explained = String::from_utf8(explained.stdout).unwrap();
    let real = command(false);
    check(&real, &format!("{}: run", case.name));
    let recorded = read_record(&record);

    let first = explained.lines().next().unwrap().to_string();
    let tool_path = tools.join(&case.run[0]);
    match recorded {
        Some(argv) => {
            assert_eq!(
                argv[0],
                tool_path.as_os_str(),
                "{}: ran the wrong tool",
                case.name
            );
            let want = format!(
                "cd {} && {} {}",
                String::from_utf8_lossy(
                    &shlex::bytes::try_quote(cwd.as_os_str().as_bytes()).unwrap()
                ),
                tool_path.display(),
                quoted(&argv[1..])
            );
            assert_eq!(
                first.trim_end(),
                want.trim_end(),
                "{}: --explain disagrees with what ran",
                case.name
            );
            let verdict = if argv[1..] == input[..] {
                "unchanged (byte-identical)"
            } else {
                "REWRITTEN"
            };
            out += &format!("result: exec, argv {verdict}\n");
        }
        None => {
            assert!(
                first.contains(" && cp -p "),
                "{}: nothing ran but no copy explained",
                case.name
            );
            let from = root.join("rust/foo.o");
            let to = root.join("rust/.tmp_foo.o");
            assert_eq!(
                std::fs::read(&from).unwrap(),
                std::fs::read(&to).unwrap(),
                "{}: copy differs",
                case.name
            );
            out += "result: linker NOT run; .tmp_ output is an exact copy\n";
        }
    }
    let root_s = root.to_str().unwrap();
    let tools_s = tools.to_str().unwrap();
    out += &explained
        .replace(tools_s, "$TOOLS")
        .replace(root_s, "$WORK");
    out.push('\n');
    out
}

#[test]
fn golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let cases = parse_cases(&std::fs::read_to_string(dir.join("cases.txt")).unwrap());
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let tools = fake_tools(TOOLS);
    let (_fx, rust_obj, c_obj) = fixtures();
    let mut got = String::from(
        "# @generated by `KBUILD_SHIM_BLESS=1 cargo test --test golden` from cases.txt.\n\
         # Review changes to this file like changes to a spec.\n\n",
    );
    for c in &cases {
        got += &run_case(c, tools.path(), &rust_obj, &c_obj);
    }
    let expected_path = dir.join("expected.txt");
    if std::env::var_os("KBUILD_SHIM_BLESS").is_some() {
        std::fs::write(&expected_path, &got).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if got != expected {
        let diff: Vec<String> = expected
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| format!("line {}:\n  expected: {a}\n  got:      {b}", i + 1))
            .collect();
        panic!(
            "golden output differs ({} vs {} lines); first differences:\n{}\n\
             If the change is intended: KBUILD_SHIM_BLESS=1 cargo test --test golden",
            expected.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}
