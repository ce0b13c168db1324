//! Golden tests: argv in → argv executed (or the gated copy), with the rules
//! that fired. Cases are in tests/golden/cases.txt; the expected results,
//! read like a spec, in tests/golden/expected.txt. Regenerate with:
//!
//!     KBUILD_SHIM_BLESS=1 cargo test --test all golden::
//!
//! Run one case (or those whose name contains a word):
//!
//!     KBUILD_SHIM_GOLDEN_CASE=arm-kbuild-ir-compile cargo test --test all golden::
//!
//! Each case runs twice, with `--explain` (what the golden file shows) and
//! for real, and the test checks the two agree: the argv the tool received is
//! exactly the explained command, and "unchanged" means byte-identical to the
//! input. `golden_binary` runs the built binary against recording fake tools;
//! `golden_in_process` calls `shim::run` with a recording `Host` (as
//! ChromiumOS's compiler_wrapper runs `callCompiler` in its golden tests).
//! A failure names the case.

use crate::common;

use common::*;
use kbuild_shim::host::Host;
use kbuild_shim::path_search::SelfId;
use kbuild_shim::shim::{self, Exit};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
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

fn run_case(case: &Case, runner: Runner, tools: &Path, rust_obj: &Path, c_obj: &Path) -> String {
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
    if case.masquerade {
        std::os::unix::fs::symlink(SHIM, shimdir.join(&case.run[0])).unwrap();
    }
    let input: Vec<OsString> = case.run[1..].iter().map(OsString::from).collect();
    // One run: (succeeded, stdout, stderr) of the shim, and what the tool got.
    let run = |explain: bool, masquerade: bool, path: &OsStr| -> Ran {
        let _ = std::fs::remove_file(&record);
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), path.into()),
            ("KBUILD_SHIM_TEST_RECORD".into(), record.clone().into()),
        ];
        env.extend(case.env.iter().map(|(k, v)| (k.into(), v.into())));
        let mut argv: Vec<OsString> = if masquerade {
            vec![shimdir.join(&case.run[0]).into()]
        } else if explain {
            vec![
                "kbuild-shim".into(),
                "--explain".into(),
                (&case.run[0]).into(),
            ]
        } else {
            vec!["kbuild-shim".into(), (&case.run[0]).into()]
        };
        argv.extend(input.iter().cloned());
        match runner {
            Runner::Binary => {
                let mut c = std::process::Command::new(if masquerade {
                    Path::new(&argv[0])
                } else {
                    Path::new(SHIM)
                });
                c.env_clear().args(&argv[1..]).current_dir(&cwd).envs(env);
                let o = c.output().unwrap();
                Ran {
                    ok: o.status.success(),
                    stderr: stderr(&o),
                    stdout: o.stdout,
                    tool_argv: read_record(&record),
                }
            }
            Runner::InProcess => {
                let host = Recorder {
                    env: env
                        .into_iter()
                        .map(|(k, v)| (k.into_string().unwrap(), v))
                        .collect(),
                    cwd: cwd.clone(),
                    stdout: RefCell::new(Vec::new()),
                    exec: RefCell::new(None),
                };
                let exit = shim::run(&host, argv);
                let tool_argv = host.exec.borrow().clone();
                Ran {
                    ok: matches!(exit, Ok(Exit::Code(0))),
                    stdout: host.stdout.take(),
                    stderr: format!("{exit:?}"),
                    tool_argv,
                }
            }
        }
    };
    let tools_only = std::env::join_paths([tools]).unwrap();
    let path = if case.masquerade {
        std::env::join_paths([&shimdir, tools]).unwrap()
    } else {
        tools_only.clone()
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
    let explained = run(true, false, &tools_only);
    assert!(
        explained.ok,
        "{}: --explain failed: {}",
        case.name, explained.stderr
    );
    let explained = String::from_utf8(explained.stdout).unwrap();
    let real = run(false, case.masquerade, &path);
    assert!(real.ok, "{}: run failed: {}", case.name, real.stderr);
    let recorded = real.tool_argv;

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
                first.contains("cp --preserve=mode -- "),
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

#[derive(Clone, Copy, Debug)]
enum Runner {
    Binary,
    InProcess,
}

struct Ran {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
    /// The real tool's argv (argv[0] is the program), if a tool ran.
    tool_argv: Option<Vec<OsString>>,
}

/// The in-process host: the case's environment and directory; `exec`
/// records instead of replacing the test process.
struct Recorder {
    env: HashMap<String, OsString>,
    cwd: PathBuf,
    stdout: RefCell<Vec<u8>>,
    exec: RefCell<Option<Vec<OsString>>>,
}

impl Host for Recorder {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self.env.get(key).cloned()
    }
    fn cwd(&self) -> Option<&Path> {
        Some(&self.cwd)
    }
    fn self_id(&self) -> Option<SelfId> {
        SelfId::of(Path::new(SHIM))
    }
    fn exec(&self, program: &Path, argv: &[&OsStr], _: &[(&str, &OsStr)]) -> std::io::Result<u8> {
        assert_eq!(argv[0], program.as_os_str(), "argv[0] is the program");
        *self.exec.borrow_mut() = Some(argv.iter().map(|a| a.to_os_string()).collect());
        Ok(0)
    }
    fn write_stdout(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.stdout.borrow_mut().extend_from_slice(bytes);
        Ok(())
    }
}

const HEADER: &str =
    "# @generated by `KBUILD_SHIM_BLESS=1 cargo test --test all golden::` from cases.txt.\n\
                      # Review changes to this file like changes to a spec.\n\n";

/// expected.txt as (case name, block) in file order.
fn expected_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            blocks.push((name.to_string(), String::new()));
        }
        if let Some((_, b)) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    blocks
}

fn golden(runner: Runner) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let cases = parse_cases(&std::fs::read_to_string(dir.join("cases.txt")).unwrap());
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let only = std::env::var("KBUILD_SHIM_GOLDEN_CASE").ok();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| only.as_ref().is_none_or(|o| c.name.contains(o.as_str())))
        .collect();
    assert!(
        !selected.is_empty(),
        "no case matches KBUILD_SHIM_GOLDEN_CASE={only:?}"
    );
    let tools = fake_tools(TOOLS);
    let (_fx, rust_obj, c_obj) = fixtures();
    let got: Vec<(String, String)> = selected
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                run_case(c, runner, tools.path(), &rust_obj, &c_obj),
            )
        })
        .collect();
    let expected_path = dir.join("expected.txt");
    let expected = expected_blocks(&std::fs::read_to_string(&expected_path).unwrap_or_default());
    if std::env::var_os("KBUILD_SHIM_BLESS").is_some() {
        // Blessing a filtered run replaces only those cases' blocks.
        let mut all: Vec<(String, String)> = cases
            .iter()
            .map(|c| {
                let block = got
                    .iter()
                    .chain(&expected)
                    .find(|(n, _)| *n == c.name)
                    .map_or_else(String::new, |(_, b)| b.clone());
                (c.name.clone(), block)
            })
            .collect();
        all.retain(|(_, b)| !b.is_empty());
        let text = all.iter().fold(HEADER.to_string(), |t, (_, b)| t + b);
        std::fs::write(&expected_path, text.trim_end().to_string() + "\n").unwrap();
        return;
    }
    let mut failures = Vec::new();
    for (name, block) in &got {
        let want = expected
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str());
        let Some(want) = want else {
            failures.push(format!("case {name}: not in expected.txt"));
            continue;
        };
        if want.trim_end() != block.trim_end() {
            let (i, (a, b)) = want
                .lines()
                .zip(block.lines().chain(std::iter::repeat("<end>")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((want.lines().count(), ("<end>", "<more lines>")));
            failures.push(format!(
                "case {name} ({runner:?}), line {} of its block:\n  expected: {a}\n  got:      {b}",
                i + 1
            ));
        }
    }
    if only.is_none() {
        for (name, _) in &expected {
            if !cases.iter().any(|c| &c.name == name) {
                failures.push(format!("case {name}: in expected.txt but not in cases.txt"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden case(s) differ:\n{}\n\
         Run one: KBUILD_SHIM_GOLDEN_CASE=NAME cargo test --test all golden::\n\
         If the change is intended: KBUILD_SHIM_BLESS=1 cargo test --test all golden::",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_binary() {
    golden(Runner::Binary);
}

#[test]
fn golden_in_process() {
    golden(Runner::InProcess);
}
