//! The clang option table: what each option the shim cares about means
//! (in the spirit of ccache's `compopt.cpp`), and how many argv elements any
//! clang option consumes ([`super::arity`], generated from clang itself).
//! Everything not in [`CC_OPTIONS`] is kept as is.

use super::arity;

/// How an option is spelled (LLVM OptTable's kinds, the ones we need).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// clang-22 reports it as "argument unused during compilation" for IR
    /// input (only the preprocessor uses it). Dropped from IR-input compiles
    /// under this rule name.
    IrDrop(&'static str),
    /// Asks for a compile: `-c`, `-S`.
    Compile,
    /// Stops before compiling (preprocessing or dependency output only):
    /// `-E`, `-M`, `-MM`.
    NoCompile,
    /// `-o FILE`: the output (for the build report).
    Output,
    /// A clang option that merely starts like a table name (`-object-file-name`
    /// vs `-o`): listed so the longest match finds it; means nothing to us.
    Unrelated,
    /// `-x LANG`: the language of the inputs that follow.
    Language,
    /// Looks like a preprocessor option but clang-22 does not report it for
    /// IR input; listed so that it is kept and so the longest match wins
    /// (`-include-pch` is not `-include`).
    Keep,
    /// A warning switch (`-Wfoo`, `-w`): kept. The shim reads it for one
    /// warning only, `-Wmissing-include-dirs`, which clang-22 still checks
    /// for `-I` on IR input (see `cc::MissingIncludeDirs`).
    Warning,
}

#[derive(Debug, PartialEq, Eq)]
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
use Meaning::{Compile, IrDrop, Keep, Language, NoCompile, Output, Unrelated, Warning};

/// Every option the shim acts on or deliberately keeps, sorted by name (byte
/// order; a unit test checks). The `IrDrop` rows are exactly the spellings of
/// [`super::ir_unused::IR_UNUSED`], which `generators/gen-clang-ir-unused` derives
/// from clang-22 (used for `.c`, reported unused for IR); a unit test checks
/// the two agree, so only the rule names here are hand-kept. Each row is also
/// checked against real clang-22 by `tests/real_clang.rs`.
#[rustfmt::skip]
pub const CC_OPTIONS: &[CcOption] = &[
    opt("--assemble",                      Flag,     Compile),
    opt("--comments",                      Flag,     IrDrop("ir-drop-C")),
    opt("--comments-in-macros",            Flag,     IrDrop("ir-drop-CC")),
    opt("--compile",                       Flag,     Compile),
    opt("--define-macro",                  EqS,      Keep),
    opt("--dependencies",                  Flag,     NoCompile),
    opt("--embed-dir=",                    Joined,   IrDrop("ir-drop-embed-dir")),
    // `--imacros`/`--include` are `-imacros`/`-include` with clang's `--`
    // prefix (so they also glue: `--includex.h`); `=` is a separate alias.
    opt("--imacros",                       JoS,      IrDrop("ir-drop-imacros")),
    opt("--imacros=",                      Joined,   IrDrop("ir-drop-imacros")),
    opt("--include",                       JoS,      IrDrop("ir-drop-include")),
    opt("--include-barrier",               Flag,     IrDrop("ir-drop-I-")),
    opt("--include-directory",             EqS,      IrDrop("ir-drop-I")),
    opt("--include-directory-after",       EqS,      IrDrop("ir-drop-idirafter")),
    opt("--include-prefix",                EqS,      IrDrop("ir-drop-iprefix")),
    opt("--include-with-prefix",           EqS,      IrDrop("ir-drop-iwithprefix")),
    opt("--include-with-prefix-after",     EqS,      IrDrop("ir-drop-iwithprefix")),
    opt("--include-with-prefix-before",    EqS,      IrDrop("ir-drop-iwithprefixbefore")),
    opt("--include=",                      Joined,   IrDrop("ir-drop-include")),
    opt("--language",                      EqS,      Language),
    opt("--no-offload-inc",                Flag,     IrDrop("ir-drop-offload-inc")),
    opt("--no-system-header-prefix",       EqS,      IrDrop("ir-drop-system-header-prefix")),
    opt("--no-warnings",                   Flag,     Warning),
    opt("--offload-inc",                   Flag,     IrDrop("ir-drop-offload-inc")),
    opt("--output",                        EqS,      Output),
    opt("--preprocess",                    Flag,     NoCompile),
    opt("--print-missing-file-dependencies", Flag,   IrDrop("ir-drop-MG")),
    opt("--system-header-prefix",          EqS,      IrDrop("ir-drop-system-header-prefix")),
    opt("--undefine-macro",                EqS,      IrDrop("ir-drop-U")),
    opt("--user-dependencies",             Flag,     NoCompile),
    opt("--write-dependencies",            Flag,     IrDrop("ir-drop-MD")),
    opt("--write-user-dependencies",       Flag,     IrDrop("ir-drop-MMD")),
    opt("-C",                              Flag,     IrDrop("ir-drop-C")),
    opt("-CC",                             Flag,     IrDrop("ir-drop-CC")),
    opt("-D",                              JoS,      Keep),
    opt("-E",                              Flag,     NoCompile),
    opt("-F",                              JoS,      IrDrop("ir-drop-F")),
    opt("-H",                              Flag,     Keep),
    opt("-I",                              JoS,      IrDrop("ir-drop-I")),
    opt("-I-",                             Flag,     IrDrop("ir-drop-I-")),
    opt("-M",                              Flag,     NoCompile),
    opt("-MD",                             Flag,     IrDrop("ir-drop-MD")),
    opt("-MF",                             JoS,      IrDrop("ir-drop-MF")),
    opt("-MG",                             Flag,     IrDrop("ir-drop-MG")),
    opt("-MJ",                             JoS,      Keep),
    opt("-MM",                             Flag,     NoCompile),
    opt("-MMD",                            Flag,     IrDrop("ir-drop-MMD")),
    opt("-MP",                             Flag,     IrDrop("ir-drop-MP")),
    opt("-MQ",                             JoS,      IrDrop("ir-drop-MQ")),
    opt("-MT",                             JoS,      IrDrop("ir-drop-MT")),
    opt("-MV",                             Flag,     IrDrop("ir-drop-MV")),
    opt("-P",                              Flag,     Keep),
    opt("-S",                              Flag,     Compile),
    opt("-U",                              JoS,      IrDrop("ir-drop-U")),
    // Every `-W…` (longest match leaves `-Wp,` its own row).
    opt("-W",                              Joined,   Warning),
    opt("-Wp,",                            Joined,   IrDrop("ir-drop-Wp")),
    opt("-Xpreprocessor",                  Separate, IrDrop("ir-drop-Xpreprocessor")),
    opt("-c",                              Flag,     Compile),
    opt("-cxx-isystem",                    JoS,      IrDrop("ir-drop-cxx-isystem")),
    opt("-dD",                             Flag,     Keep),
    opt("-fcoverage-prefix-map=",          Joined,   IrDrop("ir-drop-fcoverage-prefix-map")),
    opt("-fdefine-target-os-macros",       Flag,     IrDrop("ir-drop-fdefine-target-os-macros")),
    opt("-ffile-reproducible",             Flag,     IrDrop("ir-drop-ffile-reproducible")),
    opt("-fmacro-prefix-map=",             Joined,   IrDrop("ir-drop-fmacro-prefix-map")),
    opt("-fmodule-file-deps",              Flag,     IrDrop("ir-drop-fmodule-file-deps")),
    opt("-fno-define-target-os-macros",    Flag,     IrDrop("ir-drop-fdefine-target-os-macros")),
    opt("-fno-file-reproducible",          Flag,     IrDrop("ir-drop-ffile-reproducible")),
    opt("-iapinotes-modules",              JoS,      IrDrop("ir-drop-iapinotes-modules")),
    opt("-idirafter",                      JoS,      IrDrop("ir-drop-idirafter")),
    opt("-iframework",                     JoS,      IrDrop("ir-drop-iframework")),
    opt("-iframeworkwithsysroot",          JoS,      IrDrop("ir-drop-iframework")),
    opt("-imacros",                        JoS,      IrDrop("ir-drop-imacros")),
    opt("-include",                        JoS,      IrDrop("ir-drop-include")),
    opt("-include-pch",                    Separate, Keep),
    opt("-iprefix",                        JoS,      IrDrop("ir-drop-iprefix")),
    opt("-iquote",                         JoS,      IrDrop("ir-drop-iquote")),
    opt("-isysroot",                       JoS,      IrDrop("ir-drop-isysroot")),
    opt("-isystem",                        JoS,      IrDrop("ir-drop-isystem")),
    // clang ignores it for C too (so kbuild cannot pass it); listed so the
    // longest match does not read it as `-isystem` with value `-after`.
    opt("-isystem-after",                  JoS,      Unrelated),
    opt("-ivfsoverlay",                    JoS,      IrDrop("ir-drop-ivfsoverlay")),
    opt("-iwithprefix",                    JoS,      IrDrop("ir-drop-iwithprefix")),
    opt("-iwithprefixbefore",              JoS,      IrDrop("ir-drop-iwithprefixbefore")),
    opt("-iwithsysroot",                   JoS,      IrDrop("ir-drop-iwithsysroot")),
    opt("-nocudainc",                      Flag,     IrDrop("ir-drop-offload-inc")),
    opt("-nogpuinc",                       Flag,     IrDrop("ir-drop-offload-inc")),
    opt("-nostdinc",                       Flag,     Keep),
    opt("-o",                              JoS,      Output),
    // Longer than `-o`, so the longest match must find them (clang's own rule).
    opt("-object-file-name",               Separate, Unrelated),
    opt("-object-file-name=",              Joined,   Unrelated),
    opt("-undef",                          Flag,     Keep),
    opt("-w",                              Flag,     Warning),
    opt("-x",                              JoS,      Language),
];

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

const fn arity_names() -> [&'static str; arity::EXACT.len()] {
    let mut out = [""; arity::EXACT.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = arity::EXACT[i].0;
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
    let bucket = &arity::EXACT[lo as usize..hi as usize];
    if let Ok(i) = bucket.binary_search_by(|(n, _)| n.as_bytes().cmp(arg)) {
        return bucket[i].1 as usize;
    }
    arity::JOINED_AND_SEPARATE
        .iter()
        .find(|(p, _)| arg.starts_with(p.as_bytes()) && arg.len() > p.len())
        .map_or(0, |&(_, n)| n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The clang spellings (as `ir_unused.rs` writes them) a row stands for.
    fn clang_spellings(o: &CcOption) -> Vec<(String, Form)> {
        match o.form {
            // `--foo=x` and `--foo x` are two clang options, Joined and Separate.
            EqS => vec![
                (o.name.to_string(), Separate),
                (format!("{}=", o.name), Joined),
            ],
            f => vec![(o.name.to_string(), f)],
        }
    }

    #[test]
    fn ir_drop_rows_are_exactly_the_generated_set() {
        use std::collections::BTreeSet;
        let table: BTreeSet<(String, Form)> = CC_OPTIONS
            .iter()
            .filter(|o| matches!(o.meaning, IrDrop(_)))
            .flat_map(clang_spellings)
            .collect();
        let generated: BTreeSet<(String, Form)> = super::super::ir_unused::IR_UNUSED
            .iter()
            .map(|&(n, f)| (n.to_string(), f))
            .collect();
        let missing: Vec<_> = generated.difference(&table).collect();
        let extra: Vec<_> = table.difference(&generated).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "IrDrop rows differ from src/cc/ir_unused.rs: add rows (with a rule name) for {missing:?}; \
             clang-22 does not report {extra:?} unused for IR (or ignores it for C too)"
        );
        for w in super::super::ir_unused::IR_UNUSED.windows(2) {
            assert!(w[0].0.as_bytes() < w[1].0.as_bytes());
        }
    }

    #[test]
    fn arity_table_is_sorted() {
        for w in arity::EXACT.windows(2) {
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
            arity::EXACT
                .iter()
                .find(|(n, _)| n.as_bytes() == arg)
                .map_or_else(
                    || {
                        arity::JOINED_AND_SEPARATE
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
            .chain(arity::EXACT.iter().map(|e| e.0));
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
}
