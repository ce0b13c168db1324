//! The clang side against the real clang-22: the bug reproduces without the
//! shim, disappears with it, the objects are identical to the blanket
//! workaround's, probes keep their verdicts, and every row of the option
//! table is what clang-22 says it is.

use crate::common;

use common::*;
use kbuild_shim::cc::ir_unused::IR_UNUSED;
use kbuild_shim::cc::options::{Form, Meaning, CC_OPTIONS};
use kbuild_shim::cc::tokens::{tokens, Token};
use kbuild_shim::cc::{classify, CcClass};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

const CLANG: &str = "clang-22";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A work dir with `x86.bc`, `arm.bc` (C compiled to bitcode per target)
    /// and `aarch64-none.bc` (a module whose triple differs from clang's).
    fn new() -> Fixture {
        let clang = real_tool(CLANG);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("x.c"), "int helper(int a) { return a * 7 + 1; }\n").unwrap();
        for (target, out) in [
            ("x86_64-linux-gnu", "x86.bc"),
            ("arm-linux-gnueabi", "arm.bc"),
            ("aarch64-unknown-none", "aarch64-none.bc"),
        ] {
            let o = run_in(
                d,
                &clang,
                &[
                    "-O2",
                    "-c",
                    "-emit-llvm",
                    &format!("--target={target}"),
                    "x.c",
                    "-o",
                    out,
                ],
            );
            check(&o, "making bitcode");
        }
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn plain(&self, args: &[&str]) -> Output {
        run_in(self.path(), real_tool(CLANG), args)
    }

    fn shim(&self, args: &[&str]) -> Output {
        shim()
            .arg(CLANG)
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

const WERROR_UNUSED: &str = "-Werror=unused-command-line-argument";

fn arm_flags() -> Vec<&'static str> {
    vec![
        "--target=arm-linux-gnueabi",
        "-fintegrated-as",
        "-Werror=unknown-warning-option",
        "-Werror=ignored-optimization-argument",
        "-Werror=option-ignored",
        WERROR_UNUSED,
        "-D__KERNEL__",
        "-mlittle-endian",
        "-Wall",
        "-fno-strict-aliasing",
        "-fno-common",
        "-fshort-wchar",
        "-fno-PIE",
        "-std=gnu11",
        "-mabi=aapcs-linux",
        "-mfpu=vfp",
        "-marm",
        "-march=armv7-a",
        "-msoft-float",
        "-Uarm",
        "-O2",
        "-Wno-override-module",
    ]
}

fn um_flags() -> Vec<&'static str> {
    vec![
        "--target=x86_64-linux-gnu",
        WERROR_UNUSED,
        "-D__KERNEL__",
        "-fno-PIE",
        "-m64",
        "-I./arch/um/include/shared",
        "-I./arch/x86/um/shared",
        "-I./arch/um/include/shared/skas",
        "-O2",
        "-Wno-override-module",
    ]
}

/// Plain clang fails with exactly `errors`; the shim's command succeeds and
/// writes the same object as plain clang with the blanket flag appended.
fn fixed_by_shim(fx: &Fixture, flags: &[&str], input: &str, errors: &[&str]) {
    let mut plain = flags.to_vec();
    plain.extend(["-c", input, "-o", "plain.o"]);
    let o = fx.plain(&plain);
    assert!(!o.status.success(), "plain clang should fail: {plain:?}");
    let got: Vec<String> = stderr(&o).lines().map(String::from).collect();
    let want: Vec<String> = errors
        .iter()
        .map(|e| format!("clang-22: error: argument unused during compilation: '{e}' [-Werror,-Wunused-command-line-argument]"))
        .collect();
    assert_eq!(got, want, "plain clang's errors");

    let mut blanket = flags.to_vec();
    blanket.extend([
        "-c",
        input,
        "-o",
        "blanket.o",
        "-Wno-unused-command-line-argument",
    ]);
    check(&fx.plain(&blanket), "plain clang with the blanket flag");

    let mut via = flags.to_vec();
    via.extend(["-c", input, "-o", "shim.o"]);
    let o = fx.shim(&via);
    check(&o, "clang through the shim");
    assert!(
        o.stderr.is_empty(),
        "the shim prints nothing of its own: {}",
        stderr(&o)
    );
    assert_eq!(
        fx.read("shim.o"),
        fx.read("blanket.o"),
        "object differs from the blanket workaround's"
    );

    // Strict mode: only the precise removals, and it is enough on its own.
    let o = shim()
        .env("KBUILD_SHIM_STRICT", "1")
        .arg(CLANG)
        .args(flags)
        .args(["-c", input, "-o", "strict.o"])
        .current_dir(fx.path())
        .output()
        .unwrap();
    check(&o, "strict mode");
    assert_eq!(
        fx.read("strict.o"),
        fx.read("blanket.o"),
        "strict object differs"
    );
}

#[test]
fn arm_uarm_fails_plain_and_passes_through_the_shim() {
    let fx = Fixture::new();
    fixed_by_shim(&fx, &arm_flags(), "arm.bc", &["-U arm"]);
}

#[test]
fn um_includes_fail_plain_and_pass_through_the_shim() {
    let fx = Fixture::new();
    fixed_by_shim(
        &fx,
        &um_flags(),
        "x86.bc",
        &[
            "-I ./arch/um/include/shared",
            "-I ./arch/x86/um/shared",
            "-I ./arch/um/include/shared/skas",
        ],
    );
}

#[test]
fn c_flags_style_options_on_an_ir_compile() {
    let fx = Fixture::new();
    let flags = [
        "--target=x86_64-linux-gnu",
        WERROR_UNUSED,
        "-Wp,-MMD,rust/.kernel.o.d",
        "-nostdinc",
        "-I./include",
        "-include",
        "./include/linux/kconfig.h",
        "-D__KERNEL__",
        "-fmacro-prefix-map=./=",
        "-O2",
    ];
    fixed_by_shim(
        &fx,
        &flags,
        "x86.bc",
        &[
            "-MMD",
            "-MF rust/.kernel.o.d",
            "-I ./include",
            "-include ./include/linux/kconfig.h",
            "-fmacro-prefix-map=./=",
        ],
    );
}

#[test]
fn override_module_is_added_when_missing() {
    let fx = Fixture::new();
    let args = [
        "--target=aarch64-linux-gnu",
        "-Werror",
        "-c",
        "aarch64-none.bc",
        "-o",
        "a.o",
    ];
    let o = fx.plain(&args);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("overriding the module target triple"),
        "{}",
        stderr(&o)
    );
    check(&fx.shim(&args), "shim adds -Wno-override-module");
}

/// Probes decide on exit codes: through the shim they must fail (or pass)
/// exactly as they do without it, with the same diagnostics.
#[test]
fn cc_option_probes_keep_their_verdict() {
    let fx = Fixture::new();
    let probe = |flag: &str, target: &str| -> Vec<String> {
        let t = format!("--target={target}");
        vec![
            "-Werror",
            &t,
            "-D__KERNEL__",
            WERROR_UNUSED,
            flag,
            "-c",
            "-x",
            "c",
            "/dev/null",
            "-o",
            "probe.o",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    };
    let cases = [
        ("-Wl,--as-needed", "x86_64-linux-gnu", false),
        ("-shared", "x86_64-linux-gnu", false),
        ("-mthumb", "x86_64-linux-gnu", false),
        ("-Uarm", "x86_64-linux-gnu", true),
        ("-fno-PIE", "x86_64-linux-gnu", true),
        ("-mthumb", "arm-linux-gnueabi", true),
    ];
    for (flag, target, passes) in cases {
        let args = probe(flag, target);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let plain = fx.plain(&args);
        let via = fx.shim(&args);
        assert_eq!(
            plain.status.success(),
            passes,
            "plain verdict for {flag} on {target}: {}",
            stderr(&plain)
        );
        assert_eq!(
            via.status.code(),
            plain.status.code(),
            "shim changed the verdict for {flag}"
        );
        assert_eq!(
            stderr(&via),
            stderr(&plain),
            "shim changed the diagnostics for {flag}"
        );
    }
    // as-instr reads stdin; cc-version preprocesses stdin: both must pass through.
    let o = shim()
        .args([CLANG, "-E", "-P", "-x", "c", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"__clang_major__ __clang_minor__\n")?;
            c.wait_with_output()
        })
        .unwrap();
    check(&o, "cc-version through the shim");
    assert!(
        String::from_utf8_lossy(&o.stdout).trim().starts_with("22 "),
        "{:?}",
        o.stdout
    );
}

fn spellings(o: &kbuild_shim::cc::CcOption) -> Vec<Vec<String>> {
    let n = o.name.to_string();
    let val = if n.contains("include") || n == "-imacros" || n == "--imacros" {
        "x.h"
    } else {
        "x"
    };
    match o.form {
        Form::Flag => vec![vec![n]],
        Form::Separate => vec![vec![n, val.into()]],
        Form::Joined if n.ends_with(',') => vec![vec![format!("{n}-MD")]],
        Form::Joined => vec![vec![format!("{n}{val}")]],
        Form::EqOrSeparate => vec![vec![format!("{n}={val}")], vec![n, val.into()]],
        Form::JoinedOrSeparate => vec![vec![format!("{n}{val}")], vec![n, val.into()]],
    }
}

/// Every `Drop` row: plain clang-22 rejects it on an IR compile, the shim's
/// command accepts it. Every `Keep` row: plain clang-22 accepts it on IR.
#[test]
fn every_table_row_matches_clang_22() {
    let fx = Fixture::new();
    std::fs::write(fx.path().join("x.h"), "").unwrap();
    let mut checked = 0;
    for o in CC_OPTIONS {
        for sp in spellings(o) {
            let mut args: Vec<&str> = vec![WERROR_UNUSED, "-c", "x86.bc", "-o", "row.o"];
            args.extend(sp.iter().map(String::as_str));
            match o.meaning {
                Meaning::IrDrop(rule) => {
                    let plain = fx.plain(&args);
                    assert!(
                        stderr(&plain).contains("argument unused during compilation"),
                        "{rule}: clang-22 does not report {sp:?} as unused for IR: {}",
                        stderr(&plain)
                    );
                    // Strict: the removal alone must make clang accept it.
                    let via = shim()
                        .env("KBUILD_SHIM_STRICT", "1")
                        .arg(CLANG)
                        .args(&args)
                        .current_dir(fx.path())
                        .output()
                        .unwrap();
                    check(&via, &format!("{rule} {sp:?} through the shim"));
                }
                Meaning::Keep => check(&fx.plain(&args), &format!("keep row {sp:?} on IR")),
                _ => continue,
            }
            checked += 1;
        }
    }
    assert!(checked > 80, "only {checked} spellings checked");
}

/// src/cc/arity.rs and src/cc/ir_unused.rs are generated from clang-22
/// (`.ci/clang-tables`, a CI step: regenerating takes minutes). This is the
/// millisecond half: each table names the clang it came from, and that must
/// be the installed one, so a clang-22 update fails here until the tables
/// are regenerated (`.ci/clang-tables --write`).
#[test]
fn clang_tables_were_generated_by_the_installed_clang() {
    let clang = real_tool(CLANG);
    let o = std::process::Command::new(clang)
        .arg("--version")
        .output()
        .unwrap();
    check(&o, "clang-22 --version");
    let installed = stdout(&o).lines().next().unwrap_or_default().to_owned();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for (table, generator) in [
        ("src/cc/arity.rs", "generators/gen-clang-arity"),
        ("src/cc/ir_unused.rs", "generators/gen-clang-ir-unused"),
    ] {
        let text = std::fs::read_to_string(root.join(table)).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!("// @generated by {generator} from: {installed}"),
            "{table} was not generated by the installed clang-22: run `.ci/clang-tables --write`"
        );
    }
}

/// A value of the right shape for a generated option (as the generator
/// gives it): clang validates values it uses, so they must be real.
fn valid_value(fx: &Fixture, opt: &str) -> String {
    let name = opt.trim_end_matches(['=', ',']);
    match name {
        _ if name.contains("prefix-map") => "a=b".into(),
        "-Wp" => "-MD".into(),
        "-D" | "-U" => "X".into(),
        _ if name.ends_with("-macro") => "X".into(),
        "-include" | "--include" | "-imacros" | "--imacros" => {
            fx.path().join("x.h").display().to_string()
        }
        "-MF" | "-MT" | "-MQ" => "dep.d".into(),
        _ => fx.path().display().to_string(),
    }
}

/// Strict mode is complete: an IR compile carrying every generated drop
/// option in every form clang accepts (each with a valid value) fails with
/// plain clang-22 and passes through the shim without the blanket flag, and
/// the object equals the one clang makes without those options.
#[test]
fn strict_mode_drops_every_generated_option_at_once() {
    let fx = Fixture::new();
    std::fs::write(fx.path().join("x.h"), "").unwrap();
    let mut opts: Vec<String> = Vec::new();
    for &(n, form) in IR_UNUSED {
        let v = valid_value(&fx, n);
        match form {
            Form::Flag => opts.push(n.into()),
            Form::Joined => opts.push(format!("{n}{v}")),
            Form::Separate => opts.extend([n.to_string(), v]),
            Form::JoinedOrSeparate => opts.extend([format!("{n}{v}"), n.to_string(), v]),
            Form::EqOrSeparate => {
                unreachable!("clang has no such form; the generator never writes it")
            }
        }
    }
    let mut args: Vec<&str> = vec![WERROR_UNUSED, "-O2", "-c", "x86.bc", "-o", "all.o"];
    args.extend(opts.iter().map(String::as_str));

    let plain = fx.plain(&args);
    assert!(!plain.status.success(), "plain clang-22 accepts them all?");
    let reported = stderr(&plain)
        .lines()
        .filter(|l| l.contains("argument unused during compilation"))
        .count();
    // -Wp,-MD is reported as '-MD' and -C/-CC/... once each: at least one per option.
    assert!(
        reported >= IR_UNUSED.len(),
        "plain clang-22 reports only {reported} unused arguments for {} options:\n{}",
        IR_UNUSED.len(),
        stderr(&plain)
    );

    let o = shim()
        .env("KBUILD_SHIM_STRICT", "1")
        .arg(CLANG)
        .args(&args)
        .current_dir(fx.path())
        .output()
        .unwrap();
    check(&o, "every drop option through the strict shim");
    check(
        &fx.plain(&[
            WERROR_UNUSED,
            "-O2",
            "-c",
            "x86.bc",
            "-o",
            "none.o",
            "-Wno-override-module",
        ]),
        "the same compile without the options",
    );
    assert_eq!(fx.read("all.o"), fx.read("none.o"), "objects differ");
}

/// A clang command of tests/golden/cases.txt: name, cwd, argv[1..], files.
struct GoldenCase {
    name: String,
    cwd: String,
    args: Vec<String>,
    files: Vec<(String, String)>,
}

/// The clang commands of tests/golden/cases.txt that are IR-input compiles,
/// as (case name, cwd, argv[1..], files to create).
fn golden_ir_cases() -> Vec<GoldenCase> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/golden/cases.txt")).unwrap();
    let mut out = Vec::new();
    let (mut name, mut cwd, mut files) = (String::new(), ".".to_string(), Vec::new());
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim();
        match key {
            "case" => (name, cwd, files) = (val.to_string(), ".".into(), Vec::new()),
            "cwd" => cwd = val.to_string(),
            "file" => {
                let (p, c) = val.split_once(' ').unwrap_or((val, ""));
                files.push((p.to_string(), c.replace("\\n", "\n")));
            }
            "run" => {
                let words = shlex::split(val).expect("cases.txt quoting");
                let args: Vec<OsString> = words[1..].iter().map(OsString::from).collect();
                let is_clang = words[0].ends_with("clang") || words[0].starts_with("clang");
                if is_clang && classify(&args) == CcClass::IrCompile {
                    out.push(GoldenCase {
                        name: name.clone(),
                        cwd: cwd.clone(),
                        args: words[1..].to_vec(),
                        files: files.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// KBUILD_SHIM_STRICT=1 passes every golden IR case against the real
/// clang-22 exactly when the blanket workaround does, and never leaves an
/// unused argument behind.
#[test]
fn strict_mode_passes_every_golden_ir_case() {
    let clang = real_tool(CLANG);
    let cases = golden_ir_cases();
    assert!(
        cases.len() >= 10,
        "only {} golden IR cases found",
        cases.len()
    );
    let mut failed = Vec::new();
    for GoldenCase {
        name,
        cwd,
        args,
        files,
    } in &cases
    {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join(cwd);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("src.c"),
            "int helper(int a) { return a * 7 + 1; }\n",
        )
        .unwrap();
        // As tests/golden.rs: `file:` paths are relative to the work dir, not `cwd:`.
        for (p, c) in files {
            let p = work.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
        let target = args
            .iter()
            .find_map(|a| a.strip_prefix("--target="))
            .unwrap_or("x86_64-linux-gnu");
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        let mut stdin_bc: Option<Vec<u8>> = None;
        for t in tokens(&argv) {
            let input = match t.token {
                Token::Input(input) => input,
                Token::Opt {
                    opt,
                    value: Some(out),
                } if opt.meaning == Meaning::Output => {
                    let out = dir.join(String::from_utf8_lossy(out).as_ref());
                    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
                    continue;
                }
                _ => continue,
            };
            let input = String::from_utf8_lossy(input).into_owned();
            let (to, kind) = match input.as_str() {
                "-" => ("stdin.bc".to_string(), "-c"),
                i if i.ends_with(".ll") => (i.to_string(), "-S"),
                i => (i.to_string(), "-c"),
            };
            if let Some(parent) = dir.join(&to).parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            let t = format!("--target={target}");
            check(
                &run_in(&dir, &clang, &[kind, "-emit-llvm", &t, "src.c", "-o", &to]),
                &format!("{name}: making {to}"),
            );
            if input == "-" {
                stdin_bc = Some(std::fs::read(dir.join(&to)).unwrap());
            }
        }
        let run = |strict: &str| {
            let mut c = shim();
            c.env("KBUILD_SHIM_STRICT", strict)
                .arg(CLANG)
                .args(args)
                .current_dir(&dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            {
                use std::io::Write;
                let mut sin = child.stdin.take().unwrap();
                if let Some(bc) = &stdin_bc {
                    sin.write_all(bc).unwrap();
                }
            }
            child.wait_with_output().unwrap()
        };
        let blanket = run("0");
        let strict = run("1");
        assert!(
            !stderr(&strict).contains("argument unused during compilation"),
            "{name}: strict mode left an unused argument: {}",
            stderr(&strict)
        );
        assert_eq!(
            strict.status.code(),
            blanket.status.code(),
            "{name}: strict {} vs blanket {}",
            stderr(&strict),
            stderr(&blanket)
        );
        if !strict.status.success() {
            failed.push(name.as_str());
        }
    }
    // These fail the same way without strict mode, for reasons the shim
    // leaves alone: the integrated assembler rejects -Wa,-mno-warn-deprecated
    // (kbuild's as-option probe keeps it out of a clang build), and the
    // plugin.so that -Xclang -load names does not exist. And, as clang-22
    // rejects it for IR too, a missing -I directory under
    // -Wmissing-include-dirs -Werror (issue 18.4).
    assert_eq!(
        failed,
        [
            "arm-kbuild-ir-compile",
            "missing-include-dirs-keeps-missing-I",
            "clang-as-linker-driver-option"
        ],
        "golden IR cases that do not compile with clang-22"
    );
}

/// KBUILD_SHIM_STRICT=1 builds every IR compile of the mini kbuild tree on
/// every arch it has (inlining on; x86_64 also with LTO) with the precise
/// drops alone: the report shows the drops fired and the blanket never did,
/// and the helpers are still inlined.
#[test]
fn strict_mode_builds_the_mini_tree_on_every_arch() {
    need_minikbuild_tools();
    let t = tempfile::tempdir().unwrap();
    for (arch, lto, drop) in [
        ("x86_64", 0, None),
        ("x86_64", 1, None),
        ("arm64", 0, None),
        ("arm", 0, Some("ir-drop-U")),
        ("um", 0, Some("ir-drop-I")),
    ] {
        let tree = mini_tree(t.path(), &format!("{arch}-{lto}"));
        let report = tree.join("shim.jsonl");
        let mut args = vec![
            format!("ARCH={arch}"),
            "INLINE=1".to_string(),
            format!("LTO={lto}"),
        ];
        args.extend(shim_tools());
        args.push("all".into());
        args.push("verify-inline".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = [
            ("KBUILD_SHIM_STRICT", std::ffi::OsStr::new("1")),
            ("KBUILD_SHIM_REPORT", report.as_os_str()),
        ];
        let o = make(&tree, &args, &env);
        check(&o, &format!("strict {arch} LTO={lto} build"));
        assert!(
            stdout(&o)
                .lines()
                .any(|l| l == "inline check: OK (rust/foo.o)"),
            "{arch}: {}",
            stdout(&o)
        );
        let report = std::fs::read_to_string(&report).unwrap_or_default();
        assert!(
            !report.contains("ir-add-no-unused-argument"),
            "{arch}: the blanket flag was added in strict mode:\n{report}"
        );
        if let Some(rule) = drop {
            assert!(
                report.contains(&format!("\"{rule}\"")),
                "{arch}: {rule} did not fire:\n{report}"
            );
        }
    }
}

/// Issue 18.4: `-Wmissing-include-dirs` (with `-Werror`) makes clang-22 fail
/// on a missing `-I` directory for IR input too. Upstream's fix (the command
/// unchanged plus `-Wno-unused-command-line-argument`) keeps that error; the
/// shim dropped the `-I` and succeeded, in strict mode too. For every
/// sequence of up to two of the switches that matter, with kbuild's
/// `-Werror=unused-command-line-argument` before and after them, the shim's
/// command (normal and strict) has upstream's exit status and the same
/// "no such include directory" diagnostics. Only `-I` (all its spellings) is
/// checked by clang; `-isystem`, `-iquote`, `-idirafter` to missing
/// directories are not, so they stay dropped.
#[test]
fn missing_include_dirs_gives_upstreams_exit_status() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.path().join("inc")).unwrap();
    const SWITCHES: [&str; 9] = [
        "-Wmissing-include-dirs",
        "-Wno-missing-include-dirs",
        "-Werror=missing-include-dirs",
        "-Wno-error=missing-include-dirs",
        "-Weverything",
        "-Wno-everything",
        "-Werror",
        "-Wno-error",
        "-w",
    ];
    let mut seqs: Vec<Vec<&str>> = vec![vec![]];
    for a in SWITCHES {
        seqs.push(vec![a]);
        for b in SWITCHES {
            seqs.push(vec![a, b]);
        }
    }
    let dirs = [
        "-I",
        "inc",
        "-I",
        "nodir",
        "-Inodir2",
        "--include-directory=nodir3",
        "--include-directory",
        "nodir4",
        "-isystem",
        "nodir5",
        "-iquote",
        "nodir6",
        "-idirafter",
        "nodir7",
    ];
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for s in &seqs {
        for unused_last in [false, true] {
            let mut a: Vec<&str> = Vec::new();
            if !unused_last {
                a.push(WERROR_UNUSED);
            }
            a.extend(s);
            a.extend(dirs);
            a.extend(["-c", "x86.bc", "-o", "x.o", "-Wno-override-module"]);
            if unused_last {
                a.push(WERROR_UNUSED);
            }
            cases.push(a);
        }
    }
    let missing = |o: &Output| -> Vec<String> {
        let mut v: Vec<String> = stderr(o)
            .lines()
            .filter(|l| l.contains("no such include directory"))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let failing = std::sync::atomic::AtomicUsize::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(args) = cases.get(i) else { break };
                let out = format!("x{i}.o");
                let args: Vec<&str> = args
                    .iter()
                    .map(|a| if *a == "x.o" { out.as_str() } else { a })
                    .collect();
                let mut up = args.clone();
                up.push("-Wno-unused-command-line-argument");
                let upstream = fx.plain(&up);
                if !upstream.status.success() {
                    failing.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                for strict in [false, true] {
                    let mut c = shim();
                    if strict {
                        c.env("KBUILD_SHIM_STRICT", "1");
                    }
                    let via = c
                        .arg(CLANG)
                        .args(&args)
                        .current_dir(fx.path())
                        .output()
                        .unwrap();
                    assert_eq!(
                        via.status.code(),
                        upstream.status.code(),
                        "strict={strict} {args:?}\nupstream: {}\nshim: {}",
                        stderr(&upstream),
                        stderr(&via)
                    );
                    assert_eq!(
                        missing(&via),
                        missing(&upstream),
                        "strict={strict} {args:?}"
                    );
                }
            });
        }
    });
    // The grid has both verdicts (the missing directory fails upstream's
    // command under -Werror), so the comparison is not vacuous.
    let failing = failing.into_inner();
    assert!(
        failing > 20 && failing < cases.len() - 20,
        "{failing} of {}",
        cases.len()
    );
}
