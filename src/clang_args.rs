//! The clang side: which commands are IR-input compiles, and how they are rewritten.
//!
//! [`CC_OPTIONS`] is the one table that says what each relevant option means
//! (in the spirit of ccache's `compopt.cpp`). Everything not in it is kept
//! as is; [`crate::clang_arity`] (generated from clang itself) only tells
//! option values apart from inputs.

use crate::{clang_arity, Fired, Plan};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// How an option is spelled (LLVM OptTable's kinds, the ones we need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The whole argument: `-MD`.
    Flag,
    /// A prefix with the value attached: `-Wp,-MMD,x.d`, `-fmacro-prefix-map=a=b`.
    Joined,
    /// The name, then the value as the next argument: `-Xpreprocessor X`.
    Separate,
    /// Either `-Ifoo` or `-I foo`.
    JoinedOrSeparate,
    /// A long option: `--include-directory=dir` or `--include-directory dir`
    /// (clang does not accept `--include-directorydir`).
    EqOrSeparate,
}

/// What an option means to the shim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Only the preprocessor uses it, so clang-22 reports it as "argument
    /// unused during compilation" for IR input. Dropped from IR-input
    /// compiles under this rule name.
    PreprocessorOnly(&'static str),
    /// Asks for a compile: `-c`, `-S`.
    Compile,
    /// Stops at preprocessing or dependency output: `-E`, `-M`, `-MM`.
    PreprocessOnly,
    /// `-x LANG`: the language of the inputs that follow.
    Language,
    /// Looks like a preprocessor option but clang-22 does not report it for
    /// IR input; listed so that it is kept and so the longest match wins
    /// (`-include-pch` is not `-include`).
    Keep,
}

#[derive(Debug)]
pub struct CcOption {
    pub name: &'static str,
    pub form: Form,
    pub meaning: Meaning,
}

const fn opt(name: &'static str, form: Form, meaning: Meaning) -> CcOption {
    CcOption {
        name,
        form,
        meaning,
    }
}

use Form::{EqOrSeparate as EqS, Flag, Joined, JoinedOrSeparate as JoS, Separate};
use Meaning::{Compile, Keep, Language, PreprocessOnly, PreprocessorOnly as Drop};

/// Every option the shim acts on or deliberately keeps, sorted by name (byte
/// order; a unit test checks). Each `Drop` entry is checked against real
/// clang-22 by `tests/real_clang.rs`: plain clang rejects it on an IR compile
/// with `-Werror=unused-command-line-argument`, the shim's rewrite accepts it.
/// Source: shared/docs/pipeline.md §3, extended by sweeping clang-22's option
/// list for what it reports unused on `.bc` input but uses on `.c` input.
#[rustfmt::skip]
pub const CC_OPTIONS: &[CcOption] = &[
    opt("--assemble",                      Flag,     Compile),
    opt("--assert",                        EqS,      Drop("ir-drop-A")),
    opt("--comments",                      Flag,     Drop("ir-drop-C")),
    opt("--comments-in-macros",            Flag,     Drop("ir-drop-CC")),
    opt("--compile",                       Flag,     Compile),
    opt("--define-macro",                  EqS,      Keep),
    opt("--dependencies",                  Flag,     PreprocessOnly),
    opt("--embed-dir=",                    Joined,   Drop("ir-drop-embed-dir")),
    opt("--imacros",                       EqS,      Drop("ir-drop-imacros")),
    opt("--include",                       EqS,      Drop("ir-drop-include")),
    opt("--include-directory",             EqS,      Drop("ir-drop-I")),
    opt("--include-directory-after",       EqS,      Drop("ir-drop-idirafter")),
    opt("--include-prefix",                EqS,      Drop("ir-drop-iprefix")),
    opt("--include-with-prefix",           EqS,      Drop("ir-drop-iwithprefix")),
    opt("--include-with-prefix-after",     EqS,      Drop("ir-drop-iwithprefix")),
    opt("--include-with-prefix-before",    EqS,      Drop("ir-drop-iwithprefixbefore")),
    opt("--language",                      EqS,      Language),
    opt("--preprocess",                    Flag,     PreprocessOnly),
    opt("--print-missing-file-dependencies", Flag,   Drop("ir-drop-MG")),
    opt("--undefine-macro",                EqS,      Drop("ir-drop-U")),
    opt("--user-dependencies",             Flag,     PreprocessOnly),
    opt("--write-dependencies",            Flag,     Drop("ir-drop-MD")),
    opt("--write-user-dependencies",       Flag,     Drop("ir-drop-MMD")),
    opt("-A",                              JoS,      Drop("ir-drop-A")),
    opt("-C",                              Flag,     Drop("ir-drop-C")),
    opt("-CC",                             Flag,     Drop("ir-drop-CC")),
    opt("-D",                              JoS,      Keep),
    opt("-E",                              Flag,     PreprocessOnly),
    opt("-F",                              JoS,      Drop("ir-drop-F")),
    opt("-H",                              Flag,     Keep),
    opt("-I",                              JoS,      Drop("ir-drop-I")),
    opt("-I-",                             Flag,     Drop("ir-drop-I-")),
    opt("-M",                              Flag,     PreprocessOnly),
    opt("-MD",                             Flag,     Drop("ir-drop-MD")),
    opt("-MF",                             JoS,      Drop("ir-drop-MF")),
    opt("-MG",                             Flag,     Drop("ir-drop-MG")),
    opt("-MJ",                             JoS,      Keep),
    opt("-MM",                             Flag,     PreprocessOnly),
    opt("-MMD",                            Flag,     Drop("ir-drop-MMD")),
    opt("-MP",                             Flag,     Drop("ir-drop-MP")),
    opt("-MQ",                             JoS,      Drop("ir-drop-MQ")),
    opt("-MT",                             JoS,      Drop("ir-drop-MT")),
    opt("-MV",                             Flag,     Drop("ir-drop-MV")),
    opt("-P",                              Flag,     Keep),
    opt("-S",                              Flag,     Compile),
    opt("-U",                              JoS,      Drop("ir-drop-U")),
    opt("-Wp,",                            Joined,   Drop("ir-drop-Wp")),
    opt("-Xpreprocessor",                  Separate, Drop("ir-drop-Xpreprocessor")),
    opt("-c",                              Flag,     Compile),
    opt("-cxx-isystem",                    JoS,      Drop("ir-drop-cxx-isystem")),
    opt("-dD",                             Flag,     Keep),
    opt("-dE",                             Flag,     Drop("ir-drop-dE")),
    opt("-fdefine-target-os-macros",       Flag,     Drop("ir-drop-fdefine-target-os-macros")),
    opt("-ffile-reproducible",             Flag,     Drop("ir-drop-ffile-reproducible")),
    opt("-fmacro-prefix-map=",             Joined,   Drop("ir-drop-fmacro-prefix-map")),
    opt("-fno-define-target-os-macros",    Flag,     Drop("ir-drop-fdefine-target-os-macros")),
    opt("-fno-file-reproducible",          Flag,     Drop("ir-drop-ffile-reproducible")),
    opt("-ibuiltininc",                    Flag,     Drop("ir-drop-ibuiltininc")),
    opt("-idirafter",                      JoS,      Drop("ir-drop-idirafter")),
    opt("-iframework",                     JoS,      Drop("ir-drop-iframework")),
    opt("-iframeworkwithsysroot",          JoS,      Drop("ir-drop-iframework")),
    opt("-imacros",                        JoS,      Drop("ir-drop-imacros")),
    opt("-imultilib",                      Separate, Drop("ir-drop-imultilib")),
    opt("-include",                        JoS,      Drop("ir-drop-include")),
    opt("-include-pch",                    Separate, Keep),
    opt("-iprefix",                        JoS,      Drop("ir-drop-iprefix")),
    opt("-iquote",                         JoS,      Drop("ir-drop-iquote")),
    opt("-isysroot",                       JoS,      Drop("ir-drop-isysroot")),
    opt("-isystem",                        JoS,      Drop("ir-drop-isystem")),
    opt("-isystem-after",                  JoS,      Drop("ir-drop-isystem-after")),
    opt("-ivfsoverlay",                    JoS,      Drop("ir-drop-ivfsoverlay")),
    opt("-iwithprefix",                    JoS,      Drop("ir-drop-iwithprefix")),
    opt("-iwithprefixbefore",              JoS,      Drop("ir-drop-iwithprefixbefore")),
    opt("-iwithsysroot",                   JoS,      Drop("ir-drop-iwithsysroot")),
    opt("-nostdinc",                       Flag,     Keep),
    opt("-stdlib++-isystem",               JoS,      Drop("ir-drop-stdlib++-isystem")),
    opt("-undef",                          Flag,     Keep),
    opt("-x",                              JoS,      Language),
];

pub const RULE_ADD_NO_OVERRIDE_MODULE: &str = "ir-add-no-override-module";
pub const RULE_ADD_NO_UNUSED_ARG: &str = "ir-add-no-unused-argument";
const NO_OVERRIDE_MODULE: &str = "-Wno-override-module";
const NO_UNUSED_ARG: &str = "-Wno-unused-command-line-argument";

/// For each byte, the range of a sorted table whose names have it second
/// (`-I…` → `I`): every name starts with `-`, so a lookup only searches the
/// few names that can match instead of the whole table. Built at compile time.
const fn second_byte_index(names: &[&str]) -> [(u16, u16); 256] {
    let mut idx = [(0u16, 0u16); 256];
    let mut i = 0;
    while i < names.len() {
        let b = names[i].as_bytes()[1] as usize;
        if idx[b].1 == 0 {
            idx[b].0 = i as u16;
        }
        idx[b].1 = i as u16 + 1;
        i += 1;
    }
    idx
}

const fn cc_names() -> [&'static str; CC_OPTIONS.len()] {
    let mut out = [""; CC_OPTIONS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = CC_OPTIONS[i].name;
        i += 1;
    }
    out
}

const fn arity_names() -> [&'static str; clang_arity::EXACT.len()] {
    let mut out = [""; clang_arity::EXACT.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = clang_arity::EXACT[i].0;
        i += 1;
    }
    out
}

static CC_INDEX: [(u16, u16); 256] = second_byte_index(&cc_names());
static ARITY_INDEX: [(u16, u16); 256] = second_byte_index(&arity_names());

/// The table entry `arg` is spelled as, by clang's rule: the longest name
/// that matches (`-include-pch` beats `-include`, `-MMD` is not `-M`).
pub fn lookup(arg: &[u8]) -> Option<&'static CcOption> {
    if arg.len() < 2 || arg[0] != b'-' {
        return None;
    }
    let (lo, hi) = CC_INDEX[arg[1] as usize];
    let mut best: Option<&'static CcOption> = None;
    for o in &CC_OPTIONS[lo as usize..hi as usize] {
        let name = o.name.as_bytes();
        let matches = match o.form {
            Flag | Separate => name == arg,
            Joined | JoS => arg.starts_with(name),
            EqS => arg.starts_with(name) && matches!(arg.get(name.len()), None | Some(b'=')),
        };
        if matches && best.is_none_or(|b| name.len() > b.name.len()) {
            best = Some(o);
        }
    }
    best
}

/// How many following argv elements `arg` consumes as its value(s).
pub fn separate_values(arg: &[u8]) -> usize {
    if arg.len() < 2 || arg[0] != b'-' {
        return 0;
    }
    let (lo, hi) = ARITY_INDEX[arg[1] as usize];
    let bucket = &clang_arity::EXACT[lo as usize..hi as usize];
    if let Ok(i) = bucket.binary_search_by(|(n, _)| n.as_bytes().cmp(arg)) {
        return bucket[i].1 as usize;
    }
    clang_arity::JOINED_AND_SEPARATE
        .iter()
        .find(|(p, _)| arg.starts_with(p.as_bytes()) && arg.len() > p.len())
        .map_or(0, |&(_, n)| n as usize)
}

/// What kind of clang command this is, as far as the shim cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcClass {
    /// A compile whose every input is LLVM IR: the one thing we rewrite.
    IrCompile,
    /// Anything else, with the reason (for logs and `--explain`).
    Other(&'static str),
}

/// Classifies a clang command line (argv[1..]) without allocating.
pub fn classify(args: &[OsString]) -> CcClass {
    let mut compile = false;
    let mut ir_inputs = 0usize;
    let mut lang_ir: Option<bool> = None; // None: by extension (`-x none` or no -x)
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        i += 1;
        if a == b"--" {
            // Everything after `--` is an input, where an appended flag would
            // be read as a file name. Kbuild never passes it.
            return CcClass::Other("'--' ends the options");
        }
        if a.len() > 1 && a[0] == b'-' {
            let Some(o) = lookup(a) else {
                i += separate_values(a);
                continue;
            };
            let exact = o.name.len() == a.len();
            let value: Option<&[u8]> = match o.form {
                Flag => None,
                Separate => args.get(i).map(|v| v.as_bytes()),
                Joined => Some(&a[o.name.len()..]),
                JoS | EqS if exact => args.get(i).map(|v| v.as_bytes()),
                JoS => Some(&a[o.name.len()..]),
                EqS => Some(&a[o.name.len() + 1..]),
            };
            if exact && matches!(o.form, Separate | JoS | EqS) {
                i += 1;
            }
            match o.meaning {
                Compile => compile = true,
                PreprocessOnly => return CcClass::Other("preprocessing or dependency output only"),
                Language => {
                    lang_ir = match value {
                        Some(b"none") | None => None,
                        Some(v) => Some(v == b"ir"),
                    }
                }
                Meaning::PreprocessorOnly(_) | Keep => {}
            }
        } else if a.first() == Some(&b'@') {
            return CcClass::Other("response file (kbuild passes none to clang)");
        } else {
            let is_ir = lang_ir.unwrap_or_else(|| a.ends_with(b".bc") || a.ends_with(b".ll"));
            if !is_ir || a == b"-" && lang_ir.is_none() {
                return CcClass::Other("an input is not LLVM IR");
            }
            ir_inputs += 1;
        }
    }
    if i > args.len() {
        // The last option lacks its value: clang rejects the command, and a
        // rewrite would append a flag that it then takes as that value
        // (`-o` + `-Wno-override-module` = an output file named like a flag).
        return CcClass::Other("the last option lacks its value");
    }
    match (compile, ir_inputs) {
        (false, _) => CcClass::Other("not a compile (no -c or -S)"),
        (true, 0) => CcClass::Other("no inputs"),
        (true, _) => CcClass::IrCompile,
    }
}

/// The plan for a clang command: the IR-input rewrite or a byte-identical passthrough.
pub fn plan(args: Vec<OsString>, strict: bool) -> Plan {
    match classify(&args) {
        CcClass::Other(why) => Plan::passthrough(args, why.into()),
        CcClass::IrCompile => rewrite_ir(args, strict),
    }
}

/// Rewrites an IR-input compile: drops every `PreprocessorOnly` option (with
/// its separate value), adds `-Wno-override-module` if absent and, unless
/// `strict`, ends with `-Wno-unused-command-line-argument`. Idempotent.
/// Arguments are moved, never copied.
pub fn rewrite_ir(args: Vec<OsString>, strict: bool) -> Plan {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 2);
    let mut fired: Vec<Fired> = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let a = arg.as_bytes();
        let (rule, values) = match lookup(a) {
            Some(o) => {
                let takes_next = o.name.len() == a.len() && matches!(o.form, Separate | JoS | EqS);
                let rule = match o.meaning {
                    Meaning::PreprocessorOnly(rule) => Some(rule),
                    _ => None,
                };
                (rule, usize::from(takes_next))
            }
            // Not ours: keep the option and its values together, untouched.
            None => (None, separate_values(a)),
        };
        let dest = match rule {
            None => &mut out,
            Some(rule) => {
                let p = match fired.iter().position(|f| f.rule == rule) {
                    Some(p) => p,
                    None => {
                        fired.push(Fired::new(rule));
                        fired.len() - 1
                    }
                };
                &mut fired[p].removed
            }
        };
        dest.push(arg);
        dest.extend(it.by_ref().take(values));
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
    fn table_is_sorted_and_unique() {
        for w in CC_OPTIONS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn table_forms_agree_with_clang_arity() {
        // A Separate/JoinedOrSeparate entry must take one value in clang's own
        // parse; a Flag/Joined entry must take none.
        for o in CC_OPTIONS {
            let n = separate_values(o.name.as_bytes());
            let want = usize::from(matches!(o.form, Separate | JoS | EqS));
            // `--embed-dir=` and `-Wp,` are Joined; their bare spelling is not an option.
            assert_eq!(
                n, want,
                "{} ({:?}) takes {n} separate values per clang",
                o.name, o.form
            );
        }
    }

    #[test]
    fn arity_table_is_sorted() {
        for w in clang_arity::EXACT.windows(2) {
            assert!(w[0].0.as_bytes() < w[1].0.as_bytes());
        }
    }

    #[test]
    fn indexed_lookups_agree_with_a_full_scan() {
        let brute_lookup = |arg: &[u8]| {
            CC_OPTIONS
                .iter()
                .filter(|o| match o.form {
                    Flag | Separate => o.name.as_bytes() == arg,
                    Joined | JoS => arg.starts_with(o.name.as_bytes()),
                    EqS => {
                        arg == o.name.as_bytes()
                            || arg.starts_with(format!("{}=", o.name).as_bytes())
                    }
                })
                .max_by_key(|o| o.name.len())
                .map(|o| o.name)
        };
        let brute_arity = |arg: &[u8]| {
            clang_arity::EXACT
                .iter()
                .find(|(n, _)| n.as_bytes() == arg)
                .map_or_else(
                    || {
                        clang_arity::JOINED_AND_SEPARATE
                            .iter()
                            .find(|(p, _)| arg.starts_with(p.as_bytes()) && arg.len() > p.len())
                            .map_or(0, |&(_, n)| n as usize)
                    },
                    |&(_, n)| n as usize,
                )
        };
        let names = CC_OPTIONS
            .iter()
            .map(|o| o.name)
            .chain(clang_arity::EXACT.iter().map(|e| e.0));
        for name in names {
            for arg in [
                name.to_string(),
                format!("{name}x"),
                format!("{name}=v"),
                name[..name.len() - 1].to_string(),
            ] {
                let a = arg.as_bytes();
                assert_eq!(lookup(a).map(|o| o.name), brute_lookup(a), "lookup {arg}");
                assert_eq!(separate_values(a), brute_arity(a), "arity {arg}");
            }
        }
    }

    #[test]
    fn longest_match_wins() {
        assert_eq!(lookup(b"-include-pch").unwrap().meaning, Keep);
        assert_eq!(lookup(b"-includefoo.h").unwrap().name, "-include");
        assert_eq!(lookup(b"-isystem-after").unwrap().name, "-isystem-after");
        assert_eq!(lookup(b"-isystem/usr/include").unwrap().name, "-isystem");
        assert_eq!(
            lookup(b"-iwithprefixbefore").unwrap().name,
            "-iwithprefixbefore"
        );
        assert_eq!(lookup(b"-I-").unwrap().name, "-I-");
        assert_eq!(lookup(b"-I-foo").unwrap().name, "-I");
        assert!(lookup(b"-Mfoo").is_none());
        assert_eq!(lookup(b"-MMD").unwrap().name, "-MMD");
        assert_eq!(lookup(b"-MJx").unwrap().meaning, Keep);
        assert!(lookup(b"-c-foo").is_none());
        assert!(lookup(b"-fmacro-prefix-mapx").is_none());
        assert!(lookup(b"foo.bc").is_none());
        // Long options join only with '=' (clang rejects `--undefine-macroarm`).
        assert!(lookup(b"--undefine-macroarm").is_none());
        assert_eq!(
            lookup(b"--undefine-macro=arm").unwrap().name,
            "--undefine-macro"
        );
        assert_eq!(
            lookup(b"--include-directory=x").unwrap().name,
            "--include-directory"
        );
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
}
