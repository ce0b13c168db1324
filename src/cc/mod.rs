//! The clang side: which commands are IR-input compiles, and how they are
//! rewritten. [`options::CC_OPTIONS`] says what each relevant option means;
//! [`tokens`] is the one walk over a command line that everything here (and
//! the build report) reads.

pub mod arity;
pub mod ir_unused;
pub mod options;
pub mod tokens;

use crate::{Fired, Plan};
use options::Meaning;
use std::ffi::{OsStr, OsString};
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use tokens::{tokens, Token};

pub use options::{lookup, separate_values, CcOption, Form, CC_OPTIONS};

pub const RULE_ADD_NO_OVERRIDE_MODULE: &str = "ir-add-no-override-module";
pub const RULE_ADD_NO_UNUSED_ARG: &str = "ir-add-no-unused-argument";
/// The rule of `-I DIR` (and `--include-directory`), the one drop that
/// clang-22 still checks on IR input (see [`MissingIncludeDirs`]).
const RULE_DROP_I: &str = "ir-drop-I";
const NO_OVERRIDE_MODULE: &str = "-Wno-override-module";
const NO_UNUSED_ARG: &str = "-Wno-unused-command-line-argument";

/// What kind of clang command this is, as far as the shim cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcClass {
    /// A compile whose every input is LLVM IR: the one thing we rewrite.
    IrCompile,
    /// Anything else, with the reason (for logs and `--explain`).
    Other(&'static str),
}

/// One walk's result: the class, and for an IR compile the words to drop.
struct Scan<'a> {
    class: CcClass,
    /// `IrDrop` options, in order.
    drops: Vec<IrDrop<'a>>,
    /// Is `-Wmissing-include-dirs` in effect?
    missing_dirs: MissingIncludeDirs,
}

/// One `IrDrop` option: its span (with its separate values), its rule, and
/// for `-I DIR` the directory.
struct IrDrop<'a> {
    span: Range<usize>,
    rule: &'static str,
    dir: Option<&'a [u8]>,
}

/// Whether clang-22 would check that `-I` directories exist (and warn, or
/// fail under `-Werror`), from the warning switches. clang does this check
/// in its driver, for IR input too: the only dropped option whose drop
/// could change clang's verdict. Checked against clang-22 by
/// `real_clang::missing_include_dirs_gives_upstreams_exit_status`.
///
/// As clang's `ProcessWarningOptions`: the switches apply in order;
/// `-Wfoo`/`-Werror=foo` enable, `-Wno-foo` disables; `-Weverything` enables
/// only what no switch has set yet, `-Wno-everything` disables everything
/// so far; `-Wno-error=foo` enables nothing; `-w` anywhere disables all.
#[derive(Debug, Default, Clone, Copy)]
pub struct MissingIncludeDirs {
    set: Option<bool>,
    everything: bool,
    no_warnings: bool,
}

impl MissingIncludeDirs {
    /// One warning switch: `-W` + `value`, or `-w`/`--no-warnings` (`None`).
    fn switch(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.no_warnings = true,
            Some(b"missing-include-dirs" | b"error=missing-include-dirs") => self.set = Some(true),
            Some(b"no-missing-include-dirs") => self.set = Some(false),
            Some(b"everything") => self.everything = true,
            Some(b"no-everything") => {
                self.everything = false;
                self.set = Some(false);
            }
            Some(_) => {}
        }
    }

    pub fn on(&self) -> bool {
        !self.no_warnings && self.set.unwrap_or(self.everything)
    }
}

fn scan(args: &[OsString]) -> Scan<'_> {
    let other = |why| Scan {
        class: CcClass::Other(why),
        drops: Vec::new(),
        missing_dirs: MissingIncludeDirs::default(),
    };
    let mut compile = false;
    let mut ir_inputs = 0usize;
    let mut lang_ir: Option<bool> = None; // None: by extension (`-x none` or no -x)
    let mut drops = Vec::new();
    let mut missing_dirs = MissingIncludeDirs::default();
    for t in tokens(args) {
        if !t.complete(args.len()) {
            // The last option lacks its value: clang rejects the command, and
            // a rewrite would append a flag that it then takes as that value
            // (`-o` + `-Wno-override-module` = an output file named like a flag).
            return other("the last option lacks its value");
        }
        match t.token {
            // Everything after `--` is an input, where an appended flag would
            // be read as a file name. Kbuild never passes it.
            Token::DoubleDash => return other("'--' ends the options"),
            Token::ResponseFile => return other("response file (kbuild passes none to clang)"),
            Token::Other => {}
            Token::Opt { opt, value } => match opt.meaning {
                Meaning::Compile => compile = true,
                Meaning::NoCompile => return other("preprocessing or dependency output only"),
                Meaning::Language => {
                    lang_ir = match value {
                        Some(b"none") | None => None,
                        Some(v) => Some(v == b"ir"),
                    }
                }
                Meaning::IrDrop(rule) => {
                    let dir = (rule == RULE_DROP_I).then_some(value).flatten();
                    drops.push(IrDrop {
                        span: t.start..t.end,
                        rule,
                        dir,
                    });
                }
                Meaning::Warning => missing_dirs.switch(value),
                Meaning::Output | Meaning::Keep | Meaning::Unrelated => {}
            },
            Token::Input(a) => {
                let is_ir = lang_ir.unwrap_or_else(|| a.ends_with(b".bc") || a.ends_with(b".ll"));
                if !is_ir || a == b"-" && lang_ir.is_none() {
                    return other("an input is not LLVM IR");
                }
                ir_inputs += 1;
            }
        }
    }
    match (compile, ir_inputs) {
        (false, _) => other("not a compile (no -c or -S)"),
        (true, 0) => other("no inputs"),
        (true, _) => Scan {
            class: CcClass::IrCompile,
            drops,
            missing_dirs,
        },
    }
}

/// Classifies a clang command line (argv[1..]).
pub fn classify(args: &[OsString]) -> CcClass {
    scan(args).class
}

/// The options among `args` that an IR-input compile loses, each as (its
/// words' span, the rule), whatever the rest of the line: for flag lists
/// such as `KCFLAGS`, which `--doctor` checks without walking tokens itself.
pub fn ir_drops(args: &[OsString]) -> Vec<(Range<usize>, &'static str)> {
    tokens(args)
        .filter_map(|t| match t.token {
            Token::Opt {
                opt:
                    CcOption {
                        meaning: Meaning::IrDrop(rule),
                        ..
                    },
                ..
            } => Some((t.start..t.end.min(args.len()), *rule)),
            _ => None,
        })
        .collect()
}

/// The plan for a clang command: the IR-input rewrite or a byte-identical
/// passthrough. Relative `-I` directories are looked up in the process's
/// working directory (see [`plan_in`]).
pub fn plan(args: Vec<OsString>, strict: bool) -> Plan {
    plan_in(args, strict, None)
}

/// [`plan`], with relative `-I` directories looked up in `cwd` when given
/// (the in-process host's directory).
///
/// When `-Wmissing-include-dirs` is in effect, a `-I DIR` whose `DIR` does
/// not exist is kept: clang-22 then reports it (a warning, or an error under
/// `-Werror`) exactly as for the command without the shim, and does not
/// count it as unused, so strict mode stays correct. Only then is anything
/// looked up on disk.
pub fn plan_in(args: Vec<OsString>, strict: bool, cwd: Option<&Path>) -> Plan {
    let Scan {
        class,
        mut drops,
        missing_dirs,
    } = scan(&args);
    if class == CcClass::IrCompile && missing_dirs.on() {
        drops.retain(|d| d.dir.is_none_or(|dir| dir_exists(dir, cwd)));
    }
    let drops: Vec<(Range<usize>, &'static str)> =
        drops.into_iter().map(|d| (d.span, d.rule)).collect();
    match class {
        CcClass::Other(why) => Plan::passthrough(args, why.into()),
        CcClass::IrCompile => rewrite(args, &drops, strict),
    }
}

/// Does `dir` exist, as clang's check sees it (any file type; an empty name
/// never exists)?
fn dir_exists(dir: &[u8], cwd: Option<&Path>) -> bool {
    let p = Path::new(OsStr::from_bytes(dir));
    !dir.is_empty()
        && match cwd {
            Some(c) if p.is_relative() => c.join(p).exists(),
            _ => p.exists(),
        }
}

/// Rewrites an IR-input compile: drops every `IrDrop` option (with its
/// separate value), adds `-Wno-override-module` if absent and, unless
/// `strict`, ends with `-Wno-unused-command-line-argument`. Idempotent.
/// Arguments are moved, never copied.
fn rewrite(args: Vec<OsString>, drops: &[(Range<usize>, &'static str)], strict: bool) -> Plan {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 2);
    let mut fired: Vec<Fired> = Vec::new();
    let mut next = drops.iter().peekable();
    for (i, arg) in args.into_iter().enumerate() {
        let Some((span, rule)) = next.peek().filter(|(span, _)| span.contains(&i)) else {
            out.push(arg);
            continue;
        };
        let p = match fired.iter().position(|f| f.rule == *rule) {
            Some(p) => p,
            None => {
                fired.push(Fired::new(rule));
                fired.len() - 1
            }
        };
        fired[p].removed.push(arg);
        if i + 1 == span.end {
            next.next();
        }
    }
    if !out.iter().any(|a| a == NO_OVERRIDE_MODULE) {
        out.push(NO_OVERRIDE_MODULE.into());
        let mut f = Fired::new(RULE_ADD_NO_OVERRIDE_MODULE);
        f.added.push(NO_OVERRIDE_MODULE.into());
        fired.push(f);
    }
    if !strict && !unused_arg_already_off(&out) {
        out.push(NO_UNUSED_ARG.into());
        let mut f = Fired::new(RULE_ADD_NO_UNUSED_ARG);
        f.added.push(NO_UNUSED_ARG.into());
        fired.push(f);
    }
    let why = if fired.is_empty() {
        "IR-input compile with nothing to change"
    } else {
        "IR-input compile"
    };
    Plan {
        action: crate::Action::Exec { args: out },
        fired,
        why: why.into(),
    }
}

/// The output of a compile: the last `-o FILE`, `-oFILE` or `--output=FILE`.
pub fn output_of(args: &[OsString]) -> Option<&[u8]> {
    tokens(args)
        .filter_map(|t| match t.token {
            Token::Opt { opt, value } if opt.meaning == Meaning::Output => value,
            _ => None,
        })
        .last()
}

/// True when the last word on `-Wunused-command-line-argument` is "off"
/// (the last of -W/-Wno-/-Werror= wins, so only the last one matters).
fn unused_arg_already_off(args: &[OsString]) -> bool {
    let last = args.iter().rev().find(|a| {
        let a = a.as_bytes();
        a.ends_with(b"unused-command-line-argument")
            && matches!(
                &a[..a.len() - b"unused-command-line-argument".len()],
                b"-W" | b"-Wno-" | b"-Werror=" | b"-Wno-error="
            )
    });
    last.is_some_and(|a| a == NO_UNUSED_ARG)
}

/// Convenience for tests and benches: `&str` words to argv.
pub fn words(s: &[&str]) -> Vec<OsString> {
    s.iter().map(OsString::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;

    fn exec_args(p: &Plan) -> Vec<String> {
        match &p.action {
            Action::Exec { args } => args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            other => panic!("expected exec, got {other:?}"),
        }
    }

    #[test]
    fn arm_line_is_rewritten() {
        let p = plan(
            words(&[
                "-Werror=unused-command-line-argument",
                "-Uarm",
                "-O2",
                "-Wno-override-module",
                "-c",
                "foo.m.bc",
                "-o",
                "foo.o",
            ]),
            false,
        );
        assert_eq!(
            exec_args(&p),
            [
                "-Werror=unused-command-line-argument",
                "-O2",
                "-Wno-override-module",
                "-c",
                "foo.m.bc",
                "-o",
                "foo.o",
                NO_UNUSED_ARG
            ]
        );
        assert_eq!(
            p.fired.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["ir-drop-U", RULE_ADD_NO_UNUSED_ARG]
        );
    }

    #[test]
    fn separated_values_go_with_their_option() {
        let p = plan(
            words(&[
                "-I", "inc", "-include", "x.h", "-D", "X", "-c", "-x", "ir", "in", "-o", "o",
            ]),
            true,
        );
        assert_eq!(
            exec_args(&p),
            [
                "-D",
                "X",
                "-c",
                "-x",
                "ir",
                "in",
                "-o",
                "o",
                NO_OVERRIDE_MODULE
            ]
        );
        assert_eq!(p.fired[0].removed, words(&["-I", "inc"]));
        assert_eq!(p.fired[1].removed, words(&["-include", "x.h"]));
    }

    #[test]
    fn classification() {
        let c = |s: &[&str]| classify(&words(s));
        assert_eq!(c(&["-c", "a.bc", "b.ll", "-o", "x.o"]), CcClass::IrCompile);
        assert_eq!(c(&["-S", "a.bc"]), CcClass::IrCompile);
        assert_eq!(c(&["-c", "-x", "ir", "a.o.tmp"]), CcClass::IrCompile);
        assert_eq!(c(&["-c", "-xir", "-"]), CcClass::IrCompile);
        assert_eq!(c(&["-c", "--language=ir", "-"]), CcClass::IrCompile);
        assert!(matches!(c(&["-c", "-"]), CcClass::Other(_)));
        assert!(matches!(c(&["-c", "a.bc", "b.c"]), CcClass::Other(_)));
        assert!(matches!(c(&["-c", "-x", "c", "a.bc"]), CcClass::Other(_)));
        assert!(matches!(
            c(&["-c", "-x", "ir", "a", "-x", "none", "b.c"]),
            CcClass::Other(_)
        ));
        assert!(matches!(c(&["-E", "a.bc"]), CcClass::Other(_)));
        assert!(matches!(c(&["-c", "-M", "a.bc"]), CcClass::Other(_)));
        assert!(matches!(c(&["a.bc", "-o", "a.out"]), CcClass::Other(_)));
        assert!(matches!(c(&["-c"]), CcClass::Other(_)));
        assert!(matches!(c(&["-c", "@rsp", "a.bc"]), CcClass::Other(_)));
        // `-o x.c` is a value, not an input; `-MF dep.c` too.
        assert_eq!(
            c(&["-c", "a.bc", "-o", "x.c", "-MF", "dep.c"]),
            CcClass::IrCompile
        );
        // After `--` everything is an input: an appended flag would be too.
        assert!(matches!(
            c(&["-c", "a.bc", "-o", "a.o", "--"]),
            CcClass::Other(_)
        ));
        assert!(matches!(c(&["-c", "--", "a.bc"]), CcClass::Other(_)));
        // `-Xclang` consumes its value: `-Xclang foo.c` is not an input.
        assert_eq!(c(&["-c", "a.bc", "-Xclang", "foo.c"]), CcClass::IrCompile);
        // Found in review: a trailing option without its value is not
        // rewritten, or `-o` would take the appended flag as the file name.
        for tail in [
            "-o",
            "-I",
            "-Xclang",
            "-x",
            "-include",
            "-MF",
            "-Xpreprocessor",
        ] {
            assert_eq!(
                c(&["-c", "a.bc", tail]),
                CcClass::Other("the last option lacks its value"),
                "{tail}"
            );
        }
    }

    #[test]
    fn idempotent_and_no_duplicate_flags() {
        let once = plan(
            words(&[
                "-Werror=unused-command-line-argument",
                "-I",
                "x",
                "-c",
                "a.bc",
            ]),
            false,
        );
        let twice = plan(exec_args(&once).iter().map(OsString::from).collect(), false);
        assert_eq!(exec_args(&once), exec_args(&twice));
        assert!(twice.fired.is_empty(), "{:?}", twice.fired);
    }

    #[test]
    fn a_later_werror_reenables_the_warning() {
        let p = plan(
            words(&[
                "-Wno-unused-command-line-argument",
                "-Werror=unused-command-line-argument",
                "-c",
                "a.bc",
            ]),
            false,
        );
        assert_eq!(exec_args(&p).last().unwrap(), NO_UNUSED_ARG);
    }

    /// Issue 18.4: with `-Wmissing-include-dirs` in effect a missing `-I`
    /// directory is kept (clang-22 checks it on IR input); an existing one,
    /// and any when the warning is off, is dropped as before.
    #[test]
    fn missing_include_dirs_keep_only_missing_i_directories() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("inc")).unwrap();
        let run = |pre: &[&str]| {
            let mut a = words(pre);
            a.extend(words(&[
                "-I",
                "inc",
                "-Inodir",
                "--include-directory=nodir2",
                "-I",
                "",
                "-isystem",
                "nodir3",
                "-c",
                "a.bc",
            ]));
            exec_args(&plan_in(a, true, Some(d.path())))
        };
        let kept = ["-Inodir", "--include-directory=nodir2", "-I", ""];
        let tail = ["-c", "a.bc", NO_OVERRIDE_MODULE];
        let with = |pre: &[&str], dirs: &[&str]| -> Vec<String> {
            pre.iter()
                .chain(dirs)
                .chain(&tail)
                .map(|s| s.to_string())
                .collect()
        };
        for pre in [
            &["-Wmissing-include-dirs"][..],
            &["-Werror=missing-include-dirs"],
            &["-Weverything"],
            &["-Wno-everything", "-Wmissing-include-dirs"],
            &["-Wno-missing-include-dirs", "-Wmissing-include-dirs"],
            &["-Wmissing-include-dirs", "-Wno-error=missing-include-dirs"],
        ] {
            assert_eq!(run(pre), with(pre, &kept), "{pre:?}");
        }
        for pre in [
            &[][..],
            &["-Wall", "-Wextra", "-Werror"],
            &["-Wno-error=missing-include-dirs"],
            &["-Wmissing-include-dirs", "-Wno-missing-include-dirs"],
            &["-Wmissing-include-dirs", "-Wno-everything"],
            &["-Wno-missing-include-dirs", "-Weverything"],
            &["-Wmissing-include-dirs", "-w"],
            &["-w", "-Wmissing-include-dirs"],
            &["--no-warnings", "-Wmissing-include-dirs"],
        ] {
            assert_eq!(run(pre), with(pre, &[]), "{pre:?}");
        }
    }

    #[test]
    fn output_forms() {
        assert_eq!(output_of(&words(&["-o", "a", "-ob"])), Some(&b"b"[..]));
        assert_eq!(output_of(&words(&["-c", "x"])), None);
        assert_eq!(output_of(&words(&["--output=a.o"])), Some(&b"a.o"[..]));
        assert_eq!(output_of(&words(&["--output", "b.o"])), Some(&b"b.o"[..]));
    }
}
