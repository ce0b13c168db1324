//! Property tests over a grammar of realistic kbuild command lines.
//!
//! Volume runs at the library level (`cc::plan`, `ld::single_object`);
//! a few hundred cases also go through the real binary and a recording fake tool.
//! `KBUILD_SHIM_PROPTEST_CASES` sets the library-level case count (default 2,000;
//! docs/reliability.md has the 100,000-case release run).

use crate::common;

use common::{fake_tools, read_record, rust_object, shim};
use kbuild_shim::cc;
use kbuild_shim::cc::options::{Meaning, CC_OPTIONS};
use kbuild_shim::{ld, Action};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

const NO_OVERRIDE: &str = "-Wno-override-module";
const NO_UNUSED: &str = "-Wno-unused-command-line-argument";

fn cases() -> u32 {
    std::env::var("KBUILD_SHIM_PROPTEST_CASES")
        .ok()
        .map(|v| v.parse().expect("KBUILD_SHIM_PROPTEST_CASES is a number"))
        .unwrap_or(2_000)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn os(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

/// A file-name-ish word: kbuild paths, spaces, quotes, shell metacharacters,
/// UTF-8 and bytes that are not UTF-8 (never NUL: argv cannot hold it).
fn name() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => select(vec![
            &b"drivers/x/foo"[..], b"rust/kernel", b"./include", b"arch/arm", b"a", b"core.m",
            b"helpers", b".tmp_x", b"dir with space/f", b"it's", b"say \"hi\"", b"$HOME",
            b"caf\xc3\xa9", b"\xe4\xb8\xad", b"back\\slash", b"tab\there", b"x=y", b"-dash",
            b"@at", b"*?[", b"\n",
        ]).prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(1u8..=255, 1..6),
    ];
    prop::collection::vec(piece, 1..4).prop_map(|v| v.concat())
}

/// A word that is read as an input (not an option, not `@file`).
fn input_name() -> impl Strategy<Value = Vec<u8>> {
    name().prop_map(|mut n| {
        if matches!(n.first(), Some(b'-' | b'@')) {
            n.insert(0, b'f');
        }
        n
    })
}

/// One unit of a command line: an option with its value(s), or an input.
#[derive(Debug, Clone)]
enum Group {
    /// Kept by any rewrite.
    Keep(Vec<Vec<u8>>),
    /// An `IrDrop` table option (dropped from IR compiles only).
    Drop(Vec<Vec<u8>>),
    /// `-x LANG`, spelled in one of clang's ways.
    Lang(Vec<Vec<u8>>, &'static str),
    Compile(&'static str),
    Input(Vec<u8>),
    Stdin,
    Rsp(Vec<u8>),
}

/// A joined value that cannot extend the option into a longer table name
/// (`-I` + `-` would be `-I-`, `-include` + `-pch` would be `-include-pch`).
fn joined_value() -> impl Strategy<Value = Vec<u8>> {
    name().prop_map(|n| [&b"./"[..], &n].concat())
}

fn drop_group() -> impl Strategy<Value = Group> {
    let drops: Vec<&'static cc::CcOption> = CC_OPTIONS
        .iter()
        .filter(|o| matches!(o.meaning, Meaning::IrDrop(_)))
        .collect();
    (select(drops), joined_value(), name(), any::<bool>()).prop_map(|(o, jv, sv, joined)| {
        use cc::Form::*;
        let n = o.name.as_bytes();
        Group::Drop(match o.form {
            Flag => vec![n.to_vec()],
            Joined => vec![[n, &jv].concat()],
            Separate => vec![n.to_vec(), sv],
            JoinedOrSeparate if joined => vec![[n, &jv].concat()],
            EqOrSeparate if joined => vec![[n, b"=", &jv].concat()],
            JoinedOrSeparate | EqOrSeparate => vec![n.to_vec(), sv],
        })
    })
}

fn keep_group() -> impl Strategy<Value = Group> {
    let flags = select(vec![
        "-O2",
        "-Wall",
        "-Werror",
        "-Werror=unused-command-line-argument",
        "-Wunused-command-line-argument",
        "-Wno-error=unused-command-line-argument",
        NO_UNUSED,
        NO_OVERRIDE,
        "-Werror=unknown-warning-option",
        "-mcmodel=kernel",
        "--target=aarch64-linux-gnu",
        "-flto=thin",
        "-fno-PIE",
        "-ffile-prefix-map=./=",
        "-Wa,--fatal-warnings",
        "-g",
        "-g0",
        "-std=gnu11",
        "-nostdinc",
        "-undef",
        "-D__KERNEL__",
        "-DMODULE",
        "-H",
        "-P",
        "-dD",
        "-fsanitize=kcfi",
        "-Wl,--as-needed",
        "-shared",
    ])
    .prop_map(|f| Group::Keep(vec![f.as_bytes().to_vec()]));
    let with_value = (
        select(vec![
            "-o",
            "-D",
            "-MJ",
            "-include-pch",
            "-Xclang",
            "-mllvm",
            "-target",
            "--param",
            "-arch",
        ]),
        name(),
    )
        .prop_map(|(o, v)| Group::Keep(vec![o.as_bytes().to_vec(), v]));
    prop_oneof![3 => flags, 2 => with_value]
}

fn lang(l: &'static str) -> impl Strategy<Value = Group> {
    select(vec![0, 1, 2]).prop_map(move |k| {
        let words = match k {
            0 => vec![b"-x".to_vec(), l.as_bytes().to_vec()],
            1 => vec![format!("-x{l}").into_bytes()],
            _ => vec![format!("--language={l}").into_bytes()],
        };
        Group::Lang(words, l)
    })
}

/// Assembles groups into argv. Inputs are forced to the family's kind:
/// with `ir`, an input that `-x` does not declare as IR gets `.bc`; without,
/// an input that would be IR by its name gets `.c` unless `-x c` is active.
fn assemble(groups: &[Group], ir: bool) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut lang: Option<&str> = None;
    for g in groups {
        match g {
            Group::Keep(w) | Group::Drop(w) => out.extend(w.iter().map(|w| os(w))),
            Group::Lang(w, l) => {
                lang = (*l != "none").then_some(*l);
                out.extend(w.iter().map(|w| os(w)));
            }
            Group::Compile(c) => out.push(c.into()),
            Group::Input(n) => {
                let by_name = n.ends_with(b".bc") || n.ends_with(b".ll");
                let n = match (ir, lang) {
                    (true, Some("ir")) => n.clone(),
                    (true, _) if by_name => n.clone(),
                    (true, _) => [n, &b".bc"[..]].concat(),
                    (false, None) if by_name => [n, &b".c"[..]].concat(),
                    (false, _) => n.clone(),
                };
                out.push(os(&n));
            }
            Group::Stdin => out.push("-".into()),
            Group::Rsp(n) => out.push(os(&[&b"@"[..], n].concat())),
        }
    }
    out
}

/// Command lines with no IR input: every input is C/asm/object by name or
/// by a non-IR `-x`, or stdin, or a response file, or there is none at all.
/// `.bc` names appear as option values and after `-x c`, to tempt a false rewrite.
fn non_ir_argv() -> impl Strategy<Value = Vec<OsString>> {
    let ext = select(vec![
        ".c", ".S", ".o", ".h", ".s", "", ".bc.c", ".BC", ".llx", ".bc",
    ]);
    let group = prop_oneof![
        4 => keep_group(),
        3 => drop_group(),
        1 => prop_oneof![lang("c"), lang("assembler-with-cpp"), lang("none"), lang("c-header")],
        2 => select(vec!["-c", "-S", "-E", "-M", "-MM", "-fsyntax-only"]).prop_map(Group::Compile),
        3 => (input_name(), ext).prop_map(|(n, e)| Group::Input([&n[..], e.as_bytes()].concat())),
        1 => Just(Group::Stdin),
        1 => input_name().prop_map(Group::Rsp),
    ];
    prop::collection::vec(group, 0..24).prop_map(|g| assemble(&g, false))
}

/// IR-input compiles with the expected result computed from the grammar,
/// not from the shim's parser: the Keep/Lang/Compile/Input words in order.
fn ir_compile() -> impl Strategy<Value = (Vec<OsString>, Vec<OsString>)> {
    let group = prop_oneof![
        4 => keep_group(),
        4 => drop_group(),
        1 => lang("ir"),
        2 => input_name().prop_map(Group::Input),
    ];
    (
        prop::collection::vec(group, 0..20),
        select(vec!["-c", "-S"]),
        input_name(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut groups, c, first, at)| {
            // At least one compile switch and one IR input, somewhere.
            let i = at.index(groups.len() + 1);
            groups.insert(i, Group::Compile(c));
            groups.push(Group::Input(first));
            let kept: Vec<Group> = groups
                .iter()
                .filter(|g| !matches!(g, Group::Drop(_)))
                .cloned()
                .collect();
            (assemble(&groups, true), assemble(&kept, true))
        })
}

/// What the shim must add to the kept words (docs/kbuild-pipeline.md §3).
fn expected_rewrite(mut kept: Vec<OsString>, strict: bool) -> Vec<OsString> {
    if !kept.iter().any(|a| a == NO_OVERRIDE) {
        kept.push(NO_OVERRIDE.into());
    }
    let last_word = kept.iter().rev().find(|a| {
        [
            "-Wunused-command-line-argument",
            NO_UNUSED,
            "-Werror=unused-command-line-argument",
            "-Wno-error=unused-command-line-argument",
        ]
        .iter()
        .any(|w| a == w)
    });
    if !strict && last_word.is_none_or(|w| w != NO_UNUSED) {
        kept.push(NO_UNUSED.into());
    }
    kept
}

fn exec_args(p: &kbuild_shim::Plan) -> &[OsString] {
    match &p.action {
        Action::Exec { args } => args,
        other => panic!("clang plans never copy: {other:?}"),
    }
}

#[test]
fn argv_without_an_ir_input_is_passed_through_byte_identical() {
    runner(cases())
        .run(&(non_ir_argv(), any::<bool>()), |(args, strict)| {
            let p = cc::plan(args.clone(), strict);
            prop_assert_eq!(exec_args(&p), &args[..]);
            prop_assert!(p.fired.is_empty(), "{:?}", p.fired);
            Ok(())
        })
        .unwrap();
}

#[test]
fn ir_compile_drops_exactly_the_table_options_and_is_idempotent() {
    runner(cases())
        .run(&(ir_compile(), any::<bool>()), |((args, kept), strict)| {
            let want = expected_rewrite(kept, strict);
            let once = cc::plan(args.clone(), strict);
            prop_assert_eq!(exec_args(&once), &want[..], "input {:?}", args);
            // Wrappers chain: a second shim changes nothing.
            let twice = cc::plan(want.clone(), strict);
            prop_assert_eq!(exec_args(&twice), &want[..]);
            prop_assert!(twice.fired.is_empty(), "{:?}", twice.fired);
            Ok(())
        })
        .unwrap();
}

/// `$(ld_flags)` groups as kbuild and distros write them, none of them an input.
fn ld_flag() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let w = |s: &[&str]| s.iter().map(|w| w.as_bytes().to_vec()).collect::<Vec<_>>();
    select(vec![
        w(&["-m", "elf_x86_64"]),
        w(&["-melf_x86_64"]),
        w(&["-z", "noexecstack"]),
        w(&["-z", "max-page-size=0x200000"]),
        w(&["-mllvm", "-import-instr-limit=5"]),
        w(&["--thinlto-cache-dir=cache dir"]),
        w(&["-EL"]),
        w(&["-plugin-opt=O2"]),
        w(&["--lto-O2"]),
        w(&["-O2"]),
        // 7.2+ with CONFIG_WERROR=y (docs/kbuild-pipeline.md §9).
        w(&["--fatal-warnings"]),
    ])
}

#[derive(Debug, Clone, Copy)]
enum Break {
    None,
    NoRelocatable,
    SecondInput,
    OtherDir,
    OtherName,
    JoinedOutput,
    Library,
    Stdin,
    NoOutput,
    ValueEatsR,
    /// A word outside the gate's allow-list (issue 12, item 3).
    NotAllowed,
}

/// `cmd_ld_single` with random flags around it, intact or broken in one way.
fn ld_line() -> impl Strategy<Value = (Vec<OsString>, Break, Vec<u8>, Vec<u8>)> {
    let brk = select(vec![
        Break::None,
        Break::None,
        Break::None,
        Break::NoRelocatable,
        Break::SecondInput,
        Break::OtherDir,
        Break::OtherName,
        Break::JoinedOutput,
        Break::Library,
        Break::Stdin,
        Break::NoOutput,
        Break::ValueEatsR,
        Break::NotAllowed,
    ]);
    (
        prop::collection::vec(ld_flag(), 0..6),
        input_name(),
        select(vec!["", "drivers/x/", "./", "/abs/dir/", "a b/"]),
        brk,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(flags, base, dir, brk, r_at, o_at)| {
            let base: Vec<u8> = base.into_iter().filter(|&b| b != b'/').collect();
            let base = if base.is_empty() || base == b"." || base == b".." {
                b"x.o".to_vec()
            } else {
                base
            };
            let input = [dir.as_bytes(), &base].concat();
            let output = [dir.as_bytes(), b".tmp_", &base].concat();
            let mut words: Vec<Vec<Vec<u8>>> = flags;
            let r = vec![b"-r".to_vec()];
            let o = match brk {
                Break::JoinedOutput => vec![[&b"-o"[..], &output].concat()],
                Break::OtherDir => vec![b"-o".to_vec(), [b"elsewhere/.tmp_", &base[..]].concat()],
                Break::OtherName => vec![b"-o".to_vec(), [&output[..], b".x"].concat()],
                _ => vec![b"-o".to_vec(), output.clone()],
            };
            if !matches!(brk, Break::NoRelocatable) {
                let at = r_at.index(words.len() + 1);
                words.insert(at, r);
            }
            if !matches!(brk, Break::NoOutput) {
                let at = o_at.index(words.len() + 1);
                words.insert(at, o);
            }
            words.push(vec![input.clone()]);
            match brk {
                Break::SecondInput => words.push(vec![b"other.o".to_vec()]),
                Break::Library => words.push(vec![b"-lc".to_vec()]),
                Break::Stdin => words.push(vec![b"-".to_vec()]),
                Break::NotAllowed => {
                    let bad: &[&[&str]] = &[
                        &["--thinlto-cache-dir", "c"],
                        &["-u"],
                        &["--"],
                        &["-T", "s.lds"],
                        &["--chroot=/"],
                        &["-m", "elf_bogus"],
                        // 7.3 with compressed debug info: not a copy's bytes.
                        &["--compress-debug-sections=zstd"],
                    ];
                    let pick = bad[base.len() % bad.len()];
                    let at = r_at.index(words.len() + 1);
                    words.insert(at, pick.iter().map(|w| w.as_bytes().to_vec()).collect());
                }
                // `-m` takes the next word: here that word is `-r`.
                Break::ValueEatsR => {
                    words.retain(|g| g[0] != b"-r");
                    words.insert(0, vec![b"-m".to_vec(), b"-r".to_vec()]);
                }
                _ => {}
            }
            let args = words.concat().iter().map(|w| os(w)).collect();
            (args, brk, input, output)
        })
}

#[test]
fn ld_gates_only_the_exact_cmd_ld_single_shape() {
    runner(cases())
        .run(&ld_line(), |(args, brk, input, output)| {
            let got = ld::single_object(&args, None).unwrap();
            match brk {
                Break::None => {
                    let s = got.expect("the exact shape is recognised");
                    prop_assert_eq!(s.input.as_os_str().as_bytes(), &input[..]);
                    prop_assert_eq!(s.output.as_os_str().as_bytes(), &output[..]);
                }
                _ => prop_assert_eq!(got, None, "{:?} gated {:?}", brk, args),
            }
            Ok(())
        })
        .unwrap();
}

/// Through the binary: passthrough argv reach the (fake) tool byte for byte,
/// IR compiles reach it as the library plan says.
#[test]
fn the_binary_executes_what_the_plan_says() {
    let tools = fake_tools(&["clang-22"]);
    let run = |args: &[OsString]| common::run_recorded(tools.path(), "clang-22", args);
    runner(200)
        .run(&non_ir_argv(), |args| {
            prop_assert_eq!(run(&args), args);
            Ok(())
        })
        .unwrap();
    runner(100)
        .run(&ir_compile(), |(args, kept)| {
            prop_assert_eq!(run(&args), expected_rewrite(kept, false));
            Ok(())
        })
        .unwrap();
}

/// Through the binary: every broken ld shape runs the (fake) linker with the
/// argv unchanged even for a real Rust object with inlining off; the intact
/// shape is a copy and the linker never runs.
#[test]
fn the_binary_gates_only_the_exact_ld_shape() {
    let tools = fake_tools(&["ld.lld"]);
    let rec = tools.path().join("rec");
    let work = tempfile::tempdir().unwrap();
    let obj = std::fs::read(rust_object(work.path(), "fixture.o")).unwrap();
    runner(100)
        .run(&ld_line(), |(args, brk, input, output)| {
            let d = tempfile::tempdir_in(work.path()).unwrap();
            let (inp, out) = (d.path().join(os(&input)), d.path().join(os(&output)));
            if !input.starts_with(b"/") {
                std::fs::create_dir_all(inp.parent().unwrap()).unwrap();
                std::fs::write(&inp, &obj).unwrap();
            }
            let _ = std::fs::remove_file(&rec);
            let o = shim()
                .arg("ld.lld")
                .args(&args)
                .current_dir(d.path())
                .env("PATH", tools.path())
                .env("KBUILD_SHIM_INLINE_HELPERS", "n")
                .env("KBUILD_SHIM_TEST_RECORD", &rec)
                .output()
                .unwrap();
            prop_assert!(o.status.success(), "{:?}", o);
            match (brk, input.starts_with(b"/")) {
                (Break::None, false) => {
                    prop_assert!(read_record(&rec).is_none(), "the linker ran");
                    prop_assert_eq!(std::fs::read(&out).unwrap(), obj.clone());
                }
                _ => {
                    let mut got = read_record(&rec).expect("the linker ran");
                    got.remove(0);
                    prop_assert_eq!(got, args);
                }
            }
            Ok(())
        })
        .unwrap();
}
