//! Running the builds: each `make` in a process group of its own, so that
//! SIGINT/SIGTERM stop all of it within a second; stdin from /dev/null (a
//! config target that asks would otherwise wait for ever); output to a log,
//! with a progress line every 15 s; wall and CPU time measured.

use super::say;
use super::setup::Config;
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal (SIGINT or SIGTERM) that asked us to stop, or 0.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// From here on SIGINT and SIGTERM are noted, not fatal: the builds are
/// stopped and the work directory cleaned up before leaving.
pub fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The error for "stopped by a signal"; the exit code is 128 + the signal.
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by signal {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Fails with [`Interrupted`] once a signal has arrived.
pub fn check_signal() -> anyhow::Result<()> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => Ok(()),
        sig => Err(Interrupted(sig).into()),
    }
}

/// Runs `cmd` in a process group of its own and waits for it; on a signal,
/// stops the whole group (TERM, then KILL a second later). With `progress`,
/// prints `LABEL: N s, L lines of make output; last: …` every 15 s.
pub fn run(cmd: &mut Command, progress: Option<(&str, &Path)>) -> anyhow::Result<ExitStatus> {
    check_signal()?;
    let mut child = cmd.stdin(Stdio::null()).process_group(0).spawn()?;
    let pgid = child.id() as libc::pid_t;
    let t0 = Instant::now();
    let mut next_tick = Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if let Err(e) = check_signal() {
            // SAFETY: kill(2) on our child's own process group.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            std::thread::sleep(Duration::from_secs(1));
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            let _ = child.wait();
            return Err(e);
        }
        if let Some((label, log)) = progress {
            if t0.elapsed() >= next_tick {
                next_tick += Duration::from_secs(15);
                let text = std::fs::read(log).unwrap_or_default();
                let text = String::from_utf8_lossy(&text);
                let last = text.lines().last().unwrap_or_default();
                let last: String = last.split_whitespace().collect::<Vec<_>>().join(" ");
                say(&format!(
                    "{label}: {} s, {} lines of make output; last: {}",
                    t0.elapsed().as_secs(),
                    text.lines().count(),
                    last.chars().take(100).collect::<String>()
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
            std::fs::remove_dir_all(d)?;
        }
    }
    std::fs::create_dir(&obj)?;
    let log = c.work.join(format!("{name}.log"));
    File::create(&log)?;
    if let Config::File(f) = &c.config {
        std::fs::copy(f, obj.join(".config"))?;
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
        let out = File::options().append(true).open(&log)?;
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
    std::fs::rename(&obj, c.work.join(name))?;
    if c.module.is_some() {
        std::fs::rename(&module_copy, c.work.join(format!("{name}-mod")))?;
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

/// `cp -a` of a directory: files (mode and modification time kept),
/// symlinks as links, subdirectories.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ty = e.file_type()?;
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
            let mtime = std::fs::metadata(&src)?.modified()?;
            File::options()
                .write(true)
                .open(&dst)?
                .set_modified(mtime)?;
        }
    }
    let meta = std::fs::metadata(from)?;
    std::fs::set_permissions(to, meta.permissions())?;
    Ok(())
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

    #[test]
    fn copy_tree_keeps_links_modes_and_times() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::create_dir_all(a.join("sub")).unwrap();
        std::fs::write(a.join("sub/x.c"), "int x;").unwrap();
        std::fs::set_permissions(
            a.join("sub/x.c"),
            std::os::unix::fs::PermissionsExt::from_mode(0o751),
        )
        .unwrap();
        std::os::unix::fs::symlink("sub/x.c", a.join("l")).unwrap();
        copy_tree(&a, &t.path().join("b")).unwrap();
        let b = t.path().join("b");
        assert_eq!(
            std::fs::read_link(b.join("l")).unwrap(),
            Path::new("sub/x.c")
        );
        let (ma, mb) = (
            std::fs::metadata(a.join("sub/x.c")).unwrap(),
            std::fs::metadata(b.join("sub/x.c")).unwrap(),
        );
        assert_eq!(ma.modified().unwrap(), mb.modified().unwrap());
        assert_eq!(ma.permissions(), mb.permissions());
    }
}
