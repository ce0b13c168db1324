//! `kbuild-compare`'s command line: options, `SRC`, targets and `VAR=VALUE`
//! words, checked as far as they can be without touching the disk. The
//! options are those of the bash script this replaced, so existing callers
//! keep working (`wrapper-scripts/kbuild-compare` forwards to `--compare`).

use super::usage_error;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: kbuild-compare [--arch ARCH] [--config TARGET|FILE] [--llvm SUFFIX] [--masquerade]
                      [--shim CMD] [--keep DIR] [--no-plain] SRC [TARGET|VAR=VALUE...]
   or: kbuild-shim --compare [the same options and arguments]

Builds TARGETs (default: init/ lib/, or modules_prepare with M=) of the kernel
source tree SRC (or a .tar.xz of one, unpacked into the work directory) in one
object directory three times: plain (LLVM=SUFFIX tools), reference (upstream's
proposed fixes, by a generated sh wrapper independent of the shim) and through
the shim. Every file the reference and the shim build wrote must be
byte-identical; .cmd files are compared without the wrappers' own words.
VAR=VALUE words (RUSTC=, HOSTRUSTC=, BINDGEN=, KCFLAGS=, ...) go to every make;
M=DIR also builds the out-of-tree module DIR (a copy of it) against the tree.
Prints a table on stdout and progress on stderr.

  --arch ARCH       kernel ARCH (default: the host's); ARCH=um gets SUBARCH=x86
  --config T|FILE   a config target such as defconfig or multi_v7_defconfig
                    (default: defconfig; randconfig gets one KCONFIG_SEED for
                    all builds; interactive targets are refused), or a .config
  --llvm SUFFIX     LLVM= value: -N (clang-N), 1 (clang) or /prefix/ (default: -22)
  --masquerade      the shim build puts a directory of tool-named links to the
                    shim first in PATH instead of CC=\"SHIM clang-N\" LD=\"SHIM ld.lld-N\"
  --shim CMD        the wrapper to compare (words; default: this kbuild-shim)
  --keep DIR        build in DIR (new or empty) and keep it; default: a
                    temporary directory, removed at the end
  --no-plain        skip the plain build (the verdict never depends on it)

Exit status: 0 the shim build equals the reference, 1 a difference (or only
one of them built), 2 bad usage or input, or both builds failed.
";

/// Make variables the tool sets itself.
const OWN_VARS: [&str; 6] = ["O", "ARCH", "SUBARCH", "LLVM", "CC", "LD"];

/// Config targets that ask questions on stdin.
pub const INTERACTIVE: [&str; 8] = [
    "config",
    "menuconfig",
    "nconfig",
    "xconfig",
    "gconfig",
    "oldconfig",
    "localmodconfig",
    "localyesconfig",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub arch: String,
    pub config: String,
    pub llvm: String,
    pub masquerade: bool,
    pub shim: Option<String>,
    pub keep: Option<PathBuf>,
    pub plain: bool,
    pub src: PathBuf,
    pub targets: Vec<String>,
    /// `VAR=VALUE` words for every make, in order (M= excluded).
    pub vars: Vec<String>,
    /// `M=DIR` as given.
    pub module: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Help,
    Run(Box<Options>),
}

pub fn parse(args: &[OsString]) -> anyhow::Result<Parsed> {
    let mut o = Options {
        arch: String::new(),
        config: "defconfig".into(),
        llvm: "-22".into(),
        masquerade: false,
        shim: None,
        keep: None,
        plain: true,
        src: PathBuf::new(),
        targets: Vec::new(),
        vars: Vec::new(),
        module: None,
    };
    // kbuild takes these words into make variables and command lines; a
    // lossy conversion would hand make another value.
    if let Some(bad) = args.iter().find(|a| a.to_str().is_none()) {
        return Err(usage_error(format!(
            "argument '{}' is not UTF-8, which this tool does not take",
            bad.to_string_lossy()
        )));
    }
    let mut words: Vec<OsString> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        let (opt, val) = match s.as_ref() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--masquerade" => {
                o.masquerade = true;
                continue;
            }
            "--no-plain" => {
                o.plain = false;
                continue;
            }
            "--" => {
                words.extend(it.by_ref().cloned());
                break;
            }
            "--arch" | "--config" | "--llvm" | "--shim" | "--keep" => match it.next() {
                Some(v) => (s.to_string(), v.clone()),
                None => return Err(usage_error(format!("{s} needs a value (see --help)"))),
            },
            _ => match s.split_once('=') {
                Some((k @ ("--arch" | "--config" | "--llvm" | "--shim" | "--keep"), _)) => (
                    k.to_owned(),
                    OsString::from(std::ffi::OsStr::from_bytes(&a.as_bytes()[k.len() + 1..])),
                ),
                _ if s.len() > 1 && s.starts_with('-') => {
                    return Err(usage_error(format!("unknown option '{s}' (see --help)")))
                }
                _ => {
                    words.push(a.clone());
                    continue;
                }
            },
        };
        if val.is_empty() {
            return Err(usage_error(format!("{opt} needs a non-empty value")));
        }
        let text = val.to_string_lossy().into_owned();
        match opt.as_str() {
            "--arch" => o.arch = text,
            "--config" => o.config = text,
            "--llvm" => o.llvm = text,
            "--shim" => o.shim = Some(text),
            _ => o.keep = Some(PathBuf::from(val)),
        }
    }
    let mut words = words.into_iter();
    o.src = match words.next() {
        Some(s) => PathBuf::from(s),
        None => {
            return Err(usage_error(
                "no kernel source given (usage: kbuild-compare [options] SRC [TARGET|VAR=VALUE...]; see --help)",
            ))
        }
    };
    for w in words {
        let t = w.to_string_lossy().into_owned();
        classify_word(&mut o, t)?;
    }
    if o.targets.is_empty() {
        o.targets = if o.module.is_some() {
            vec!["modules_prepare".into()]
        } else {
            vec!["init/".into(), "lib/".into()]
        };
    }
    if o.arch.is_empty() {
        o.arch = host_arch();
    }
    if o.arch.is_empty()
        || !o
            .arch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(usage_error(format!(
            "bad --arch '{}' (expected e.g. x86_64, arm, arm64, um)",
            o.arch
        )));
    }
    tools_of(&o.llvm)?;
    if o.masquerade && o.llvm.starts_with('/') {
        return Err(usage_error(format!(
            "--masquerade needs tools found in PATH (--llvm -N or 1), not the prefix '{}'",
            o.llvm
        )));
    }
    Ok(Parsed::Run(Box::new(o)))
}

/// A word after SRC: `VAR=VALUE` (for every make; `M=` builds a module) or a target.
fn classify_word(o: &mut Options, t: String) -> anyhow::Result<()> {
    if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        if let Some((name, value)) = t.split_once('=') {
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(usage_error(format!("bad make variable '{t}'")));
            }
            if OWN_VARS.contains(&name) {
                return Err(usage_error(format!(
                    "'{t}': kbuild-compare sets {name} itself (see --arch, --llvm, --shim)"
                )));
            }
            if name == "KCONFIG_SEED" && value.is_empty() {
                // conf would pick a random seed in each build.
                return Err(usage_error("'KCONFIG_SEED=' needs a value"));
            }
            if name == "M" {
                o.module = Some(PathBuf::from(value));
            } else {
                o.vars.push(t);
            }
            return Ok(());
        }
    }
    if t.is_empty() || t.starts_with('-') || t.contains('=') || t.contains(char::is_whitespace) {
        return Err(usage_error(format!(
            "bad make target '{t}' (give targets such as init/ or lib/string.o, or VAR=VALUE)"
        )));
    }
    o.targets.push(t);
    Ok(())
}

/// The kernel's ARCH for this machine, from `uname -m` as the kernel's
/// Makefile derives SUBARCH (not the architecture this binary was built for).
fn host_arch() -> String {
    // SAFETY: uname fills the struct it is given.
    let machine = unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return std::env::consts::ARCH.to_owned();
        }
        std::ffi::CStr::from_ptr(u.machine.as_ptr())
            .to_string_lossy()
            .into_owned()
    };
    let m = machine.as_str();
    match m {
        "x86_64" => "x86_64",
        "aarch64" | "arm64" => "arm64",
        _ if m.starts_with("arm") => "arm",
        "i386" | "i486" | "i586" | "i686" => "i386",
        "riscv64" | "riscv32" => "riscv",
        "loongarch64" => "loongarch",
        _ if m.starts_with("ppc") => "powerpc",
        "s390x" => "s390",
        "sparc64" => "sparc",
        _ if m.starts_with("mips") => "mips",
        _ => m,
    }
    .to_owned()
}

/// The tools `make LLVM=SUFFIX` runs, as the kernel's Makefile derives them:
/// (clang, ld.lld, the version for `-N`).
pub fn tools_of(llvm: &str) -> anyhow::Result<(String, String, Option<String>)> {
    let bad = || {
        usage_error(format!(
            "bad --llvm '{llvm}' (expected -N such as -22, 1, or /path/to/llvm/bin/)"
        ))
    };
    if llvm == "1" {
        return Ok(("clang".into(), "ld.lld".into(), None));
    }
    if let Some(v) = llvm.strip_prefix('-') {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        return Ok((
            format!("clang{llvm}"),
            format!("ld.lld{llvm}"),
            Some(v.into()),
        ));
    }
    if llvm.len() > 2 && llvm.starts_with('/') && llvm.ends_with('/') {
        return Ok((format!("{llvm}clang"), format!("{llvm}ld.lld"), None));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> anyhow::Result<Options> {
        let a: Vec<OsString> = args.iter().map(OsString::from).collect();
        match parse(&a)? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn words_after_src_are_targets_or_variables() {
        let o = run(&[
            "--arch=um",
            "src",
            "init/",
            "RUSTC=/r",
            "M=mod",
            "--no-plain",
            "lib/x.o",
        ])
        .unwrap();
        assert_eq!(o.arch, "um");
        assert_eq!(o.targets, ["init/", "lib/x.o"]);
        assert_eq!(o.vars, ["RUSTC=/r"]);
        assert_eq!(o.module, Some(PathBuf::from("mod")));
        assert!(!o.plain);
        let o = run(&["src", "M=mod"]).unwrap();
        assert_eq!(o.targets, ["modules_prepare"]);
        let o = run(&["--", "-odd-src", "init/"]).unwrap();
        assert_eq!(o.src, PathBuf::from("-odd-src"));
        assert_eq!(run(&["src"]).unwrap().targets, ["init/", "lib/"]);
    }

    #[test]
    fn bad_words_are_refused() {
        for (args, want) in [
            (&["src", "O=/x"][..], "'O=/x': kbuild-compare sets O itself"),
            (&["src", "CC=gcc"], "sets CC itself"),
            (&["src", "-j4"], "unknown option '-j4'"),
            (&["src", "a b"], "bad make target 'a b'"),
            (&["src", "FOO-BAR=1"], "bad make variable 'FOO-BAR=1'"),
            (&["--llvm", "22", "src"], "bad --llvm '22'"),
            (&["--llvm", "-x", "src"], "bad --llvm '-x'"),
            (&["--arch", "x/y", "src"], "bad --arch 'x/y'"),
            (&["--keep="], "--keep needs a non-empty value"),
            (&["--shim"], "--shim needs a value"),
            (
                &["--llvm", "/opt/llvm/", "--masquerade", "s"],
                "--masquerade needs tools found in PATH",
            ),
            (&[], "no kernel source given"),
            (&["src", "KCONFIG_SEED="], "'KCONFIG_SEED=' needs a value"),
        ] {
            let e = run(args).unwrap_err().to_string();
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }

    #[test]
    fn llvm_names_the_tools_as_kbuild_does() {
        assert_eq!(
            tools_of("-22").unwrap(),
            ("clang-22".into(), "ld.lld-22".into(), Some("22".into()))
        );
        assert_eq!(
            tools_of("1").unwrap(),
            ("clang".into(), "ld.lld".into(), None)
        );
        assert_eq!(
            tools_of("/usr/lib/llvm-22/bin/").unwrap().0,
            "/usr/lib/llvm-22/bin/clang"
        );
        assert!(tools_of("/usr/lib/llvm-22/bin").is_err());
    }
}
