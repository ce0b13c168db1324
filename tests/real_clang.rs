//! The clang side against the real clang-22: the bug reproduces without the
//! shim, disappears with it, the objects are identical to the blanket
//! workaround's, probes keep their verdicts, and every row of the option
//! table is what clang-22 says it is.

mod common;

use common::*;
use kbuild_shim::cc::options::{Form, Meaning, CC_OPTIONS};
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
        Form::Joined if n.ends_with(',') => vec![vec![format!("{n}-foo")]],
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

/// src/cc/arity.rs is generated from clang-22 itself; regenerate and
/// compare, so a clang-22 update that changes option arities is noticed.
#[test]
fn arity_table_is_current() {
    real_tool(CLANG);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new(root.join("tools/gen-clang-arity"))
        .arg(CLANG)
        .output()
        .unwrap();
    check(&o, "tools/gen-clang-arity");
    let committed = std::fs::read_to_string(root.join("src/cc/arity.rs")).unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout) == committed,
        "src/cc/arity.rs is stale for this clang-22: run `tools/gen-clang-arity > src/cc/arity.rs`"
    );
}
