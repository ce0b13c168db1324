//! How the shim was invoked: prefix or masquerade mode, the tool's role, and
//! every option of the shim's own (`--explain`, `--demo`, `--doctor`,
//! `--report`, …). The one place own options are parsed, but for the many
//! of `--compare`, handed on as they are; the tools behind them are in
//! [`crate::tools`], which this module does not import.

use crate::{code, fail};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub const SHIM_NAME: &str = "kbuild-shim";

/// What the tool's name says about how to treat its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `clang`, `clang-22`, `aarch64-linux-gnu-clang[-22]`.
    Cc,
    /// `ld`, `ld.lld`, `ld.bfd`, `ld.gold`, with `<triple>-` and `-N`.
    Ld,
    /// Anything else: pure passthrough.
    Other,
}

impl Role {
    pub fn of(tool: &OsStr) -> Role {
        let name = Path::new(tool)
            .file_name()
            .map_or(&b""[..], |n| n.as_bytes());
        let name = strip_version(name);
        // `<triple>-` prefixes: what follows the last '-' is the tool itself.
        let base = name.rsplit(|&b| b == b'-').next().unwrap_or(name);
        match base {
            b"clang" => Role::Cc,
            b"ld" | b"ld.lld" | b"ld.bfd" | b"ld.gold" => Role::Ld,
            _ => Role::Other,
        }
    }
}

/// The links of an installed masquerade directory, `N` standing for the LLVM
/// major (`LLVM_VER`): the names kbuild calls with `LLVM=1` and `LLVM=-N`,
/// and plain `ld`. Each is a name [`Role::of`] gives a role. The Makefile,
/// the .deb's assets, .ci/packaging, mkshimdir and tests/install.rs spell the
/// list out; `tests/scripts.rs` checks each against this one.
pub const MASQUERADE_LINKS: [&str; 5] = ["clang", "clang-N", "ld.lld", "ld.lld-N", "ld"];

/// `clang-22` → `clang`, `ld.lld-22.1` → `ld.lld`; other names unchanged.
fn strip_version(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'-') {
        Some(p)
            if p + 1 < name.len()
                && name[p + 1].is_ascii_digit()
                && name[p + 1..]
                    .iter()
                    .all(|&b| b.is_ascii_digit() || b == b'.') =>
        {
            &name[..p]
        }
        _ => name,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `kbuild-shim clang …`, like `ccache clang`.
    Prefix,
    /// The binary is named after the tool (symlink, hard link or copy).
    Masquerade,
}

/// One command for the real tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub mode: Mode,
    /// As given: a name to look up, or (prefix mode) a path.
    pub tool: OsString,
    pub role: Role,
    /// argv[1..] for the real tool.
    pub args: Vec<OsString>,
    /// Prefix mode: a compiler launcher given before the tool
    /// (`kbuild-shim ccache clang-22 …`), kept in front of the real tool.
    pub launcher: Option<OsString>,
    /// A one-line warning for the user (an unknown first word before clang/ld).
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Run(Invocation),
    Explain(Invocation),
    Help,
    Version,
    /// One of the tools in [`crate::tools`]; never on the hot path.
    Tool(ToolRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolRequest {
    /// `kbuild-shim --demo [--keep DIR]`: build the embedded mini tree.
    Demo { keep: Option<PathBuf> },
    /// `kbuild-shim --doctor [--kernel DIR]`: check the toolchain and tree.
    Doctor { kernel: Option<PathBuf> },
    /// `kbuild-shim --report FILE`: summarise a `KBUILD_SHIM_REPORT` file.
    Report { file: PathBuf },
    /// `kbuild-shim --compare …`: the arguments after `--compare`, parsed by
    /// `tools::compare` (kbuild-compare's options are many, and off the hot path).
    Compare { args: Vec<OsString> },
}

pub const USAGE: &str = "usage: kbuild-shim [--explain] <tool> [args...]; see kbuild-shim --help";
const REPORT_USAGE: &str = "usage: kbuild-shim --report FILE";
const DEMO_USAGE: &str = "usage: kbuild-shim --demo [--keep DIR]";
const DOCTOR_USAGE: &str = "usage: kbuild-shim --doctor [--kernel DIR]";

/// Decides the mode from argv[0] before any option parsing, so the
/// masquerade path never pays for (or misreads) the shim's own options.
pub fn parse(mut argv: Vec<OsString>) -> anyhow::Result<Request> {
    if argv.is_empty() {
        return Err(fail(code::USAGE, USAGE));
    }
    let argv0 = argv.remove(0);
    let name = Path::new(&argv0).file_name().unwrap_or(&argv0).to_owned();
    if name != SHIM_NAME {
        return Ok(Request::Run(Invocation {
            mode: Mode::Masquerade,
            role: Role::of(&name),
            tool: name,
            args: argv,
            launcher: None,
            warning: None,
        }));
    }
    if argv.first().is_some_and(|a| a == "--demo") {
        return parse_demo(&argv[1..]);
    }
    if argv.first().is_some_and(|a| a == "--doctor") {
        return parse_doctor(&argv[1..]);
    }
    if argv.first().is_some_and(|a| a == "--compare") {
        return Ok(Request::Tool(ToolRequest::Compare {
            args: argv.split_off(1),
        }));
    }
    if argv.first().is_some_and(|a| a == "--report") {
        return match &argv[1..] {
            [f] if !f.is_empty() => Ok(Request::Tool(ToolRequest::Report { file: f.into() })),
            _ => Err(fail(
                code::USAGE,
                format!("--report needs one FILE ({REPORT_USAGE})"),
            )),
        };
    }
    let mut explain = false;
    let mut rest = argv.into_iter();
    let tool = loop {
        let Some(a) = rest.next() else {
            return Err(fail(code::USAGE, format!("no tool given ({USAGE})")));
        };
        match a.to_str() {
            Some("--help" | "-h") => return Ok(Request::Help),
            Some("--version" | "-V") => return Ok(Request::Version),
            Some("--explain") => explain = true,
            Some("--demo") => {
                return Err(fail(
                    code::USAGE,
                    format!("--demo must be the first option ({DEMO_USAGE})"),
                ))
            }
            Some("--report") => {
                return Err(fail(
                    code::USAGE,
                    format!("--report must be the first option ({REPORT_USAGE})"),
                ))
            }
            Some("--doctor") => {
                return Err(fail(
                    code::USAGE,
                    format!("--doctor must be the first option ({DOCTOR_USAGE})"),
                ))
            }
            Some("--compare") => {
                return Err(fail(
                    code::USAGE,
                    "--compare must be the first option (usage: kbuild-shim --compare [options] SRC [TARGET|VAR=VALUE...])",
                ))
            }
            Some("--") => match rest.next() {
                Some(t) => break t,
                None => return Err(fail(code::USAGE, format!("no tool given ({USAGE})"))),
            },
            _ if a.as_bytes().starts_with(b"-") => {
                return Err(fail(
                    code::USAGE,
                    format!(
                        "unknown option '{}': own options come before the tool ({USAGE})",
                        a.to_string_lossy()
                    ),
                ))
            }
            _ => break a,
        }
    };
    let mut args: Vec<OsString> = rest.collect();
    // The word after the tool, if it names a program (`ccache -s` does not).
    let next_role = args
        .first()
        .filter(|a| !a.as_bytes().starts_with(b"-"))
        .map(|a| Role::of(a));
    let (tool, launcher, warning) = match next_role {
        // `kbuild-shim ccache clang-22 …`: the role is the next word's, and
        // the launcher stays in front of the real tool.
        Some(_) if is_launcher(&tool) => (args.remove(0), Some(tool), None),
        Some(Role::Cc | Role::Ld) if Role::of(&tool) == Role::Other => {
            let warning = format!(
                "warning: '{}' is neither clang nor ld, so no rule applies to this command; \
                 to run a wrapper in front of '{}', set KBUILD_SHIM_LAUNCHER='{0}' instead",
                tool.to_string_lossy(),
                args[0].to_string_lossy()
            );
            (tool, None, Some(warning))
        }
        _ => (tool, None, None),
    };
    let inv = Invocation {
        mode: Mode::Prefix,
        role: Role::of(&tool),
        tool,
        args,
        launcher,
        warning,
    };
    Ok(if explain {
        Request::Explain(inv)
    } else {
        Request::Run(inv)
    })
}

/// Compiler launchers users put before the compiler (`CC="ccache clang"`);
/// by base name.
const LAUNCHERS: [&str; 4] = ["ccache", "sccache", "distcc", "icecc"];

fn is_launcher(word: &OsStr) -> bool {
    let name = Path::new(word).file_name().unwrap_or(word);
    LAUNCHERS.iter().any(|l| name == *l)
}

/// The options after `--demo`: nothing, or `--keep DIR` (or `--keep=DIR`).
fn parse_demo(rest: &[OsString]) -> anyhow::Result<Request> {
    let keep = dir_option(rest, "--demo", "--keep", DEMO_USAGE)?;
    Ok(Request::Tool(ToolRequest::Demo { keep }))
}

/// The options after `--doctor`: nothing, or `--kernel DIR` (or `--kernel=DIR`).
fn parse_doctor(rest: &[OsString]) -> anyhow::Result<Request> {
    let kernel = dir_option(rest, "--doctor", "--kernel", DOCTOR_USAGE)?;
    Ok(Request::Tool(ToolRequest::Doctor { kernel }))
}

/// Nothing, or `OPT DIR` / `OPT=DIR` with a non-empty DIR: the one form of
/// the tools' own options.
fn dir_option(
    rest: &[OsString],
    tool: &str,
    opt: &str,
    usage: &str,
) -> anyhow::Result<Option<PathBuf>> {
    let err = |what: String| fail(code::USAGE, format!("{what} ({usage})"));
    let dir: &[u8] = match rest {
        [] => return Ok(None),
        [k] if k == opt => b"",
        [k, dir] if k == opt => dir.as_bytes(),
        [k] if k.as_bytes().starts_with(format!("{opt}=").as_bytes()) => {
            &k.as_bytes()[opt.len() + 1..]
        }
        _ => {
            let args: Vec<_> = rest.iter().map(|a| a.to_string_lossy()).collect();
            return Err(err(format!(
                "unexpected argument(s) after {tool}: '{}'",
                args.join(" ")
            )));
        }
    };
    match dir {
        [] => Err(err(format!("{opt} needs a DIR"))),
        dir => Ok(Some(PathBuf::from(OsStr::from_bytes(dir)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::words;
    use ToolRequest::{Demo, Doctor};

    #[test]
    fn roles() {
        for (n, r) in [
            ("clang", Role::Cc),
            ("clang-22", Role::Cc),
            ("/usr/lib/llvm-22/bin/clang", Role::Cc),
            ("aarch64-linux-gnu-clang", Role::Cc),
            ("aarch64-linux-gnu-clang-22", Role::Cc),
            ("ld", Role::Ld),
            ("ld.lld", Role::Ld),
            ("ld.lld-22", Role::Ld),
            ("ld.bfd", Role::Ld),
            ("ld.gold", Role::Ld),
            ("aarch64-linux-gnu-ld", Role::Ld),
            ("x86_64-linux-gnu-ld.bfd", Role::Ld),
            ("clang++", Role::Other),
            ("clang-cl", Role::Other),
            ("clang-format-22", Role::Other),
            ("gcc", Role::Other),
            ("llvm-link-22", Role::Other),
            ("ld64.lld", Role::Other),
            ("lld", Role::Other),
        ] {
            assert_eq!(Role::of(OsStr::new(n)), r, "{n}");
        }
    }

    #[test]
    fn prefix_and_masquerade() {
        let r = parse(words(&["/usr/bin/kbuild-shim", "clang-22", "-c", "x.bc"])).unwrap();
        let Request::Run(inv) = r else { panic!() };
        assert_eq!((inv.mode, inv.role), (Mode::Prefix, Role::Cc));
        assert_eq!(inv.args, words(&["-c", "x.bc"]));

        let r = parse(words(&["/shim/ld.lld", "--version"])).unwrap();
        let Request::Run(inv) = r else { panic!() };
        assert_eq!(
            (inv.mode, inv.role, inv.tool.to_str()),
            (Mode::Masquerade, Role::Ld, Some("ld.lld"))
        );
        assert_eq!(inv.args, words(&["--version"]));

        assert!(matches!(
            parse(words(&["kbuild-shim", "--explain", "clang", "-c"])).unwrap(),
            Request::Explain(_)
        ));
        assert!(matches!(
            parse(words(&["kbuild-shim", "--help"])).unwrap(),
            Request::Help
        ));
        // Own options stop at the tool: `--help` after it belongs to clang.
        let Request::Run(inv) = parse(words(&["kbuild-shim", "clang", "--help"])).unwrap() else {
            panic!()
        };
        assert_eq!(inv.args, words(&["--help"]));
        let e = parse(words(&["kbuild-shim"])).unwrap_err();
        assert_eq!(crate::exit_code_of(&e), code::USAGE);
        let e = parse(words(&["kbuild-shim", "--frobnicate", "clang"])).unwrap_err();
        assert!(e.to_string().contains("unknown option '--frobnicate'"));
    }

    #[test]
    fn demo_options() {
        let demo = |a: &[&str]| parse(words(&[&["kbuild-shim"], a].concat()));
        assert_eq!(
            demo(&["--demo"]).unwrap(),
            Request::Tool(Demo { keep: None })
        );
        for a in [&["--demo", "--keep", "out"][..], &["--demo", "--keep=out"]] {
            assert_eq!(
                demo(a).unwrap(),
                Request::Tool(Demo {
                    keep: Some(PathBuf::from("out"))
                })
            );
        }
        for (a, want) in [
            (&["--demo", "--keep"][..], "--keep needs a DIR"),
            (&["--demo", "--keep="], "--keep needs a DIR"),
            (&["--demo", "--keep", ""], "--keep needs a DIR"),
            (&["--demo", "x"], "unexpected argument(s) after --demo: 'x'"),
            (&["--demo", "--keep", "d", "x"], "unexpected argument"),
            (&["--explain", "--demo"], "--demo must be the first option"),
        ] {
            let e = demo(a).unwrap_err();
            assert!(e.to_string().starts_with(want), "{a:?}: {e}");
            assert_eq!(crate::exit_code_of(&e), code::USAGE);
        }
        // Masquerade mode and after the tool: `--demo` belongs to the tool.
        let Request::Run(inv) = parse(words(&["/shim/clang", "--demo"])).unwrap() else {
            panic!()
        };
        assert_eq!(inv.args, words(&["--demo"]));
        let Request::Run(inv) = parse(words(&["kbuild-shim", "clang", "--demo"])).unwrap() else {
            panic!()
        };
        assert_eq!(inv.args, words(&["--demo"]));
    }

    #[test]
    fn doctor_options() {
        let doc = |a: &[&str]| parse(words(&[&["kbuild-shim", "--doctor"], a].concat()));
        assert_eq!(doc(&[]).unwrap(), Request::Tool(Doctor { kernel: None }));
        let want = Request::Tool(Doctor {
            kernel: Some(PathBuf::from("k")),
        });
        assert_eq!(doc(&["--kernel", "k"]).unwrap(), want);
        assert_eq!(doc(&["--kernel=k"]).unwrap(), want);
        for bad in [&["--kernel"][..], &["--kernel="], &["--kernel", ""], &["x"]] {
            let e = doc(bad).unwrap_err();
            assert_eq!(crate::exit_code_of(&e), code::USAGE, "{bad:?}");
        }
    }

    #[test]
    fn a_launcher_before_the_tool() {
        let Request::Run(inv) =
            parse(words(&["kbuild-shim", "ccache", "clang-22", "-c", "a.bc"])).unwrap()
        else {
            panic!()
        };
        assert_eq!((inv.role, inv.tool.to_str()), (Role::Cc, Some("clang-22")));
        assert_eq!(inv.launcher.as_deref(), Some(OsStr::new("ccache")));
        assert_eq!(inv.args, words(&["-c", "a.bc"]));
        let Request::Run(inv) =
            parse(words(&["kbuild-shim", "/usr/bin/sccache", "ld.lld", "-r"])).unwrap()
        else {
            panic!()
        };
        assert_eq!((inv.role, inv.launcher.is_some()), (Role::Ld, true));
        // A launcher alone is just a tool of role Other.
        let Request::Run(inv) = parse(words(&["kbuild-shim", "ccache", "-s"])).unwrap() else {
            panic!()
        };
        assert_eq!(
            (inv.role, inv.launcher, inv.args),
            (Role::Other, None, words(&["-s"]))
        );
        // Any other wrapper before clang: passthrough, with a warning.
        let Request::Run(inv) = parse(words(&["kbuild-shim", "mywrap", "clang", "-c"])).unwrap()
        else {
            panic!()
        };
        assert_eq!((inv.role, inv.launcher), (Role::Other, None));
        assert!(inv
            .warning
            .unwrap()
            .contains("KBUILD_SHIM_LAUNCHER='mywrap'"));
        let Request::Run(inv) = parse(words(&["kbuild-shim", "clang", "ld.lld"])).unwrap() else {
            panic!()
        };
        assert_eq!((inv.role, inv.warning), (Role::Cc, None));
    }
}
