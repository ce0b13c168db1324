//! The builds: configure, build the targets and the M= module into one
//! object path, then move the trees aside; each make through
//! [`process::run`](super::process::run); wall and CPU time measured.

use super::process::run;
use super::say;
use super::setup::Config;
use super::workdir::copy_tree;
use anyhow::Context as _;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// User + system time of every waited-for child and its descendants.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// What every build shares.
pub struct Common {
    pub work: PathBuf,
    /// `-C SRC O=OBJ ARCH= LLVM= [SUBARCH=x86]` and the user's `VAR=VALUE`s.
    pub make_vars: Vec<OsString>,
    pub config: Config,
    pub targets: Vec<String>,
    /// The user's module directory (copied to `work/mod` for each build).
    pub module: Option<PathBuf>,
    pub jobs: usize,
    /// For every make: the fixed build identity, KCONFIG_SEED; and the
    /// caller's KBUILD_SHIM_* removed.
    pub env: Vec<(OsString, Option<OsString>)>,
}

impl Common {
    pub fn obj(&self) -> PathBuf {
        self.work.join("obj")
    }
    pub fn mod_dir(&self) -> PathBuf {
        self.work.join("mod")
    }
}

pub struct Outcome {
    /// make's failure (`make exit 2`), or None when it built.
    pub failed: Option<String>,
    pub wall: Duration,
    pub cpu: Duration,
    pub log: PathBuf,
}

/// Configures and builds into `work/obj` (and the module copy in
/// `work/mod`), then moves them to `work/NAME` (and `NAME-mod`), so the next
/// build gets the same, empty, paths.
pub fn build(
    c: &Common,
    name: &str,
    env: &[(OsString, OsString)],
    mvars: &[String],
) -> anyhow::Result<Outcome> {
    let (obj, module_copy) = (c.obj(), c.mod_dir());
    for d in [&obj, &module_copy] {
        if d.exists() {
            std::fs::remove_dir_all(d)
                .with_context(|| format!("cannot remove '{}'", d.display()))?;
        }
    }
    std::fs::create_dir(&obj).with_context(|| format!("cannot create '{}'", obj.display()))?;
    let log = c.work.join(format!("{name}.log"));
    File::create(&log).with_context(|| format!("cannot create '{}'", log.display()))?;
    if let Config::File(f) = &c.config {
        std::fs::copy(f, obj.join(".config"))
            .with_context(|| format!("cannot copy '{}' into the object tree", f.display()))?;
    }
    if let Some(m) = &c.module {
        copy_tree(m, &module_copy)?;
    }
    let quoted: Vec<String> = mvars
        .iter()
        .map(|v| shlex::try_quote(v).map_or_else(|_| v.clone(), |q| q.into_owned()))
        .collect();
    let shown_vars: Vec<String> = c
        .make_vars
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    say(&format!(
        "{name} build: make {} {}{}, then -j{} {}{} (log: {})",
        shown_vars.join(" "),
        quoted.iter().map(|q| format!("{q} ")).collect::<String>(),
        c.config.target(),
        c.jobs,
        c.targets.join(" "),
        match &c.module {
            Some(_) => format!(", then M={}", module_copy.display()),
            None => String::new(),
        },
        log.display()
    ));
    let label = format!("{name} build");
    let make = |extra: &[OsString]| -> anyhow::Result<ExitStatus> {
        let out = File::options()
            .append(true)
            .open(&log)
            .with_context(|| format!("cannot open '{}'", log.display()))?;
        let mut cmd = Command::new("make");
        for (k, v) in &c.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .args(&c.make_vars)
            .args(mvars)
            .args(extra)
            .stdout(out.try_clone()?)
            .stderr(out);
        run(&mut cmd, Some((&label, &log)))
    };
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let jobs = OsString::from(format!("-j{}", c.jobs));
    let mut steps: Vec<Vec<OsString>> = vec![
        vec![c.config.target().into()],
        std::iter::once(jobs.clone())
            .chain(c.targets.iter().map(OsString::from))
            .collect(),
    ];
    if c.module.is_some() {
        let mut m = OsString::from("M=");
        m.push(&module_copy);
        steps.push(vec![jobs, m]);
    }
    let mut failed = None;
    for step in &steps {
        let status = make(step)?;
        if !status.success() {
            failed = Some(match (status.code(), status.signal()) {
                (Some(code), _) => format!("make exit {code}"),
                (None, Some(sig)) => format!("make killed by signal {sig}"),
                _ => "make failed".into(),
            });
            break;
        }
    }
    let wall = t0.elapsed();
    let cpu = children_cpu().saturating_sub(cpu0);
    let moved = |from: &Path, to: PathBuf| {
        std::fs::rename(from, &to)
            .with_context(|| format!("cannot move '{}' to '{}'", from.display(), to.display()))
    };
    moved(&obj, c.work.join(name))?;
    if c.module.is_some() {
        moved(&module_copy, c.work.join(format!("{name}-mod")))?;
    }
    match &failed {
        Some(why) => {
            say(&format!(
                "{name} build failed ({why}); the last lines of its output:"
            ));
            let text = std::fs::read(&log).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let lines: Vec<&str> = text.lines().collect();
            let mut err = std::io::stderr().lock();
            for l in &lines[lines.len().saturating_sub(25)..] {
                let _ = writeln!(err, "    {l}");
            }
        }
        None => say(&format!(
            "{name} build done in {} s ({} s CPU)",
            secs(wall),
            secs(cpu)
        )),
    }
    Ok(Outcome {
        failed,
        wall,
        cpu,
        log,
    })
}

/// Seconds with one decimal, truncated (`12.3`).
pub fn secs(d: Duration) -> String {
    format!("{}.{}", d.as_secs(), d.subsec_millis() / 100)
}

/// The first error line of a build log, for the table.
pub fn first_error(log: &Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let is_error = |l: &str| {
        ["error: ", "error:", "error ", "Error:", "Error "]
            .iter()
            .any(|p| l.contains(p))
            || l.contains("***")
    };
    text.lines()
        .find(|l| is_error(l))
        .map(|l| l.trim_start().chars().take(200).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_line() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("log");
        std::fs::write(
            &log,
            "  CC init/main.o\n   clang-22: error: argument unused during compilation: '-U arm'\nmake: *** [x] Error 1\n",
        )
        .unwrap();
        assert_eq!(
            first_error(&log),
            "clang-22: error: argument unused during compilation: '-U arm'"
        );
        std::fs::write(&log, "ok\nmake[1]: *** No rule to make target\n").unwrap();
        assert_eq!(first_error(&log), "make[1]: *** No rule to make target");
        std::fs::write(&log, "fine\n").unwrap();
        assert_eq!(first_error(&log), "");
    }
}
