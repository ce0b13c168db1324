//! `kbuild-shim --compare` (and `wrapper-scripts/kbuild-compare`, which
//! forwards here): builds the same kernel targets, and an out-of-tree module
//! with `M=DIR`, in one object directory three times — plain, a reference
//! with upstream's proposed fixes (a generated sh wrapper sharing no code
//! with the shim), and through the wrapper under test — and passes only when
//! every file the reference and the wrapper build wrote is byte-identical
//! (`.cmd` files less the wrappers' words). docs/kernel-compare.md explains
//! the three builds. Exit 0: identical; 1: a difference, or only one of the
//! two built; 2: bad usage or input, or both failed.

/// A line on stdout. A write error (a reader gone from a pipe) is not a
/// panic: SIGPIPE is caught, and the run ends through the interrupted path,
/// which stops make and removes the work directory.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod build;
mod content;
mod fired;
mod options;
mod process;
mod setup;
mod table;
mod trees;
mod workdir;

use crate::{code, exit_code_of, fail};
use build::{first_error, Common};
use options::Parsed;
use setup::Config;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use trees::Side;

/// Runs the comparison; returns the exit code (errors printed as one line).
pub fn run(args: &[OsString]) -> u8 {
    match compare(args) {
        Ok(Exit::Code(code)) => code,
        Ok(Exit::Signal(sig)) => {
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            process::die_of(sig);
            128u8.saturating_add(sig as u8)
        }
        Err(e) => {
            say(&format!("{e:#}"));
            exit_code_of(&e)
        }
    }
}

/// A progress line on stderr (never a panic, as [`out`]).
fn say(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "kbuild-compare: {msg}");
}

fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    fail(code::USAGE, msg)
}

/// Fixed identity, so that the files that embed it agree between the builds.
const IDENTITY: [(&str, &str); 4] = [
    ("KBUILD_BUILD_TIMESTAMP", "Thu Jan  1 00:00:00 UTC 2026"),
    ("KBUILD_BUILD_USER", "kbuild-compare"),
    ("KBUILD_BUILD_HOST", "kbuild-compare"),
    ("KBUILD_BUILD_VERSION", "1"),
];

fn compare(args: &[OsString]) -> anyhow::Result<Exit> {
    let o = match options::parse(args)? {
        Parsed::Help => {
            print!("{}", options::USAGE);
            return Ok(Exit::Code(0));
        }
        Parsed::Run(o) => o,
    };
    let path_env = std::env::var_os("PATH").unwrap_or_default();
    let module = o.module.as_deref().map(setup::module).transpose()?;
    let source = setup::source(&o.src, &path_env)?;
    let config = Config::of(&o.config)?;
    let wrapper = setup::wrapper(&o, &path_env)?;
    let tools = setup::real_tools(&o, &path_env, &wrapper)?;

    // One configuration for every build: randconfig gets one KCONFIG_SEED.
    let mut env: Vec<(OsString, Option<OsString>)> = std::env::vars_os()
        .filter(|(k, _)| k.as_bytes().starts_with(b"KBUILD_SHIM_"))
        .map(|(k, _)| (k, None))
        .collect();
    env.extend(IDENTITY.iter().map(|(k, v)| (k.into(), Some(v.into()))));
    let mut seed = None;
    if config.target() == "randconfig" {
        let from_vars = o
            .vars
            .iter()
            .rev()
            .find_map(|v| v.strip_prefix("KCONFIG_SEED="));
        let s = from_vars
            .map(str::to_owned)
            .or_else(|| std::env::var("KCONFIG_SEED").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(random_seed);
        env.push(("KCONFIG_SEED".into(), Some(s.clone().into())));
        seed = Some(s);
    }

    process::catch_signals();
    let mut outside: Vec<(&str, &Path)> = Vec::new();
    if let setup::Source::Tree(src) = &source {
        outside.push(("SRC", src));
    }
    if let Some(m) = &module {
        outside.push(("M=", m));
    }
    let work = workdir::work_dir(o.keep.as_deref(), &outside)?;
    let ctx = Context {
        o: &o,
        module,
        source,
        config,
        wrapper,
        tools,
        env,
        seed,
    };
    let result = process::check_signal().and_then(|()| ctx.run(&work.path));
    // Interrupted is decided by the signal, not by the error it caused
    // (an EINTR from a copy is a signal's doing too).
    let Some(sig) = process::pending() else {
        if work.keep {
            say(&format!("kept {}", work.path.display()));
        }
        return result.map(Exit::Code);
    };
    if result.is_ok() {
        // The comparison ran to its end (the signal came while the table
        // was printed, e.g. `| head`): a kept directory is whole.
        if work.keep {
            say(&format!("kept {}", work.path.display()));
        }
        return Ok(Exit::Signal(sig));
    }
    say("interrupted; the builds were stopped");
    if work.keep {
        // Nothing a later look could take for a finished build.
        for d in ["obj", "mod"].into_iter().map(String::from).chain(
            BUILDS
                .iter()
                .flat_map(|b| [b.to_string(), format!("{b}-mod")]),
        ) {
            let _ = std::fs::remove_dir_all(work.path.join(d));
        }
        let _ = std::fs::write(
            work.path.join("INTERRUPTED"),
            "interrupted: the builds were removed\n",
        );
    }
    Ok(Exit::Signal(sig))
}

/// How the comparison ends: an exit code, or (after cleaning up) death by
/// the signal that stopped it, as make does, so that a calling shell script
/// stops too.
enum Exit {
    Code(u8),
    Signal(i32),
}

/// The three builds, in the order they run; each leaves `work/NAME` (and
/// `NAME-mod`).
const BUILDS: [&str; 3] = ["plain", "reference", "shim"];

fn random_seed() -> String {
    let mut b = [0u8; 4];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    u32::from_ne_bytes(b).to_string()
}

struct Context<'a> {
    o: &'a options::Options,
    module: Option<PathBuf>,
    source: setup::Source,
    config: Config,
    wrapper: setup::Wrapper,
    tools: setup::RealTools,
    env: Vec<(OsString, Option<OsString>)>,
    seed: Option<String>,
}

fn kv(k: &str, v: impl AsRef<OsStr>) -> OsString {
    let mut s = OsString::from(k);
    s.push("=");
    s.push(v);
    s
}

impl Context<'_> {
    fn run(self, work: &Path) -> anyhow::Result<u8> {
        let o = self.o;
        let src = match &self.source {
            setup::Source::Tree(s) => s.clone(),
            setup::Source::Tarball(t) => workdir::unpack(t, work)?,
        };
        let (cc, ld) = (&self.tools.cc, &self.tools.ld);
        let report = work.join("report.jsonl");
        let c = Common {
            work: work.to_owned(),
            make_vars: [
                "-C".into(),
                src.clone().into_os_string(),
                kv("O", work.join("obj")),
                kv("ARCH", &o.arch),
                kv("LLVM", &o.llvm),
            ]
            .into_iter()
            .chain((o.arch == "um").then(|| "SUBARCH=x86".into()))
            .chain(o.vars.iter().map(OsString::from))
            .collect(),
            config: self.config.clone(),
            targets: o.targets.clone(),
            module: self.module.clone(),
            jobs: std::thread::available_parallelism().map_or(2, usize::from),
            env: self.env.clone(),
        };
        let reference = workdir::write_reference(work)?;
        let ref_str = reference.display().to_string();
        let ref_make = vec![format!("CC={ref_str} {cc}"), format!("LD={ref_str} {ld}")];
        let shim_str = self.wrapper.text();
        let path_env = std::env::var_os("PATH").unwrap_or_default();
        let mut shim_env = vec![("KBUILD_SHIM_REPORT".into(), report.clone().into_os_string())];
        let (mode, shim_make) = if o.masquerade {
            let bin = work.join("bin");
            workdir::masquerade_dir(
                &bin,
                Path::new(&self.wrapper.words[0]),
                self.tools.version.as_deref(),
            )?;
            let path = workdir::path_with_first(&bin, &path_env);
            // A comparison in which the shim never ran would prove nothing.
            let found = crate::tools::toolchain::find_in(&path, cc, None);
            if found.as_deref() != Some(&bin.join(cc)) {
                return Err(usage_error(format!(
                    "with {} first in PATH, '{cc}' is '{}', not the shim",
                    bin.display(),
                    found.unwrap_or_default().display()
                )));
            }
            shim_env.push(("PATH".into(), path));
            (
                format!(
                    "masquerade mode ({} first in PATH -> {})",
                    bin.display(),
                    self.wrapper.words[0]
                ),
                Vec::new(),
            )
        } else {
            (
                format!("prefix mode (CC=\"{shim_str} {cc}\" LD=\"{shim_str} {ld}\")"),
                vec![format!("CC={shim_str} {cc}"), format!("LD={shim_str} {ld}")],
            )
        };

        let cc_shown = self.tools.cc_shown();
        say(&format!(
            "plain and reference builds run {cc_shown}; the shim build runs in {mode}"
        ));
        let plain = if o.plain {
            Some(build::build(&c, BUILDS[0], &[], &[])?)
        } else {
            None
        };
        let refb = build::build(&c, BUILDS[1], &[], &ref_make)?;
        let shim = build::build(&c, BUILDS[2], &shim_env, &shim_make)?;

        // --- compare ---
        let (r, s) = (work.join("reference"), work.join("shim"));
        let ref_words = format!("{ref_str} ");
        let shim_words = format!("{shim_str} ");
        // The trees (and, with M=, the module's), each named as `differs:` names it.
        let pairs = |x: &Path, y: &Path| {
            let mut v = vec![(x.to_owned(), y.to_owned(), "")];
            if self.module.is_some() {
                v.push((with_mod(x), with_mod(y), "M=: "));
            }
            v
        };
        let both = refb.failed.is_none() && shim.failed.is_none();
        let mut cmp = trees::Comparison::default();
        let (mut n_ref_wrapped, mut n_wrapped) = (0, 0);
        if both {
            let shim_side = (!o.masquerade).then_some(shim_words.as_bytes());
            for (a, b, label) in pairs(&r, &s) {
                let a = Side {
                    root: &a,
                    words: Some(ref_words.as_bytes()),
                };
                let b = Side {
                    root: &b,
                    words: shim_side,
                };
                cmp.add(trees::compare(&a, &b, label, false)?);
            }
            let (refs, shims): (Vec<_>, Vec<_>) =
                pairs(&r, &s).into_iter().map(|(a, b, _)| (a, b)).unzip();
            n_ref_wrapped = trees::naming(&refs, ref_words.as_bytes())?;
            if !o.masquerade {
                n_wrapped = trees::naming(&shims, shim_words.as_bytes())?;
            }
        }
        // The plain build, for information: its files against the
        // reference's, .cmd files aside (the reference's name its wrapper).
        let plain_state = match &plain {
            None => "not built (--no-plain)".to_owned(),
            Some(p) if p.failed.is_some() => format!("fails: {}", first_error(&p.log)),
            Some(_) if refb.failed.is_none() => {
                let mut n = 0;
                for (a, b, label) in pairs(&r, &work.join("plain")) {
                    let (a, b) = (
                        Side {
                            root: &a,
                            words: None,
                        },
                        Side {
                            root: &b,
                            words: None,
                        },
                    );
                    n += trees::compare(&a, &b, label, true)?.differing.len();
                }
                format!("builds; {n} files differ from the reference (.cmd files aside)")
            }
            Some(_) => "builds".to_owned(),
        };
        let fired = fired::read(&report, &work.join("obj"), &work.join("mod"));

        table::print(table::Results {
            o,
            config: &self.config,
            seed: self.seed.as_deref(),
            module: self.module.as_deref(),
            cc_shown,
            ref_str,
            cc,
            ld,
            mode,
            plain_state,
            plain,
            refb,
            shim,
            both,
            cmp,
            n_ref_wrapped,
            n_wrapped,
            fired,
            r,
            s,
        })
    }
}

/// `DIR` → `DIR-mod`, where a build's module copy is moved.
fn with_mod(p: &Path) -> PathBuf {
    let mut m = p.as_os_str().to_owned();
    m.push("-mod");
    m.into()
}
