//! Running the builds: each `make` in a process group of its own, so that
//! SIGINT/SIGTERM stop all of it within a second; stdin from /dev/null (a
//! config target that asks would otherwise wait for ever); output to a log,
//! with a progress line every 15 s; wall and CPU time measured.

use super::say;
use super::setup::Config;
use anyhow::Context as _;
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

/// From here on SIGINT, SIGTERM, SIGHUP and SIGPIPE are noted, not fatal:
/// the builds are stopped and the work directory removed before leaving
/// (a closed terminal or a reader gone from a pipe must not leave make
/// running).
pub fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
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
    // SAFETY: prctl is async-signal-safe. Should this process die without
    // cleaning up (SIGKILL), make is told to stop rather than build on.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = cmd.stdin(Stdio::null()).process_group(0).spawn()?;
    let pgid = child.id() as libc::pid_t;
    let t0 = Instant::now();
    let mut next_tick = Duration::from_secs(15);
    let mut tail = LogTail::default();
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
                tail.read(log);
                say(&format!(
                    "{label}: {} s, {} lines of make output; last: {}",
                    t0.elapsed().as_secs(),
                    tail.lines,
                    tail.last()
                ));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A growing log, read from where the last look stopped (a `V=1` kernel
/// log runs to hundreds of megabytes).
#[derive(Default)]
struct LogTail {
    pos: u64,
    lines: u64,
    /// The last complete line seen, and the start of the next one.
    last: Vec<u8>,
    partial: Vec<u8>,
}

impl LogTail {
    fn read(&mut self, log: &Path) {
        use std::io::{Seek, SeekFrom};
        let Ok(mut f) = File::open(log) else { return };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return;
        }
        let mut new = Vec::new();
        let Ok(n) = std::io::Read::read_to_end(&mut f, &mut new) else {
            return;
        };
        self.pos += n as u64;
        for &b in &new {
            if b == b'\n' {
                self.lines += 1;
                self.last = std::mem::take(&mut self.partial);
            } else {
                self.partial.push(b);
            }
        }
    }

    /// The last line, spaces squeezed, cut to 100 characters.
    fn last(&self) -> String {
        let text = String::from_utf8_lossy(&self.last);
        let squeezed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        squeezed.chars().take(100).collect()
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

/// `cp -a` of a directory: files (mode and modification time kept),
/// symlinks as links, FIFOs as new FIFOs (never opened: that would wait for
/// a writer), subdirectories. A socket or device is refused.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let err = |what: &str, p: &Path, e: std::io::Error| {
        anyhow::anyhow!("cannot {what} '{}': {e}", p.display())
    };
    std::fs::create_dir(to).map_err(|e| err("create", to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| err("read", from, e))? {
        let e = e.map_err(|e| err("read", from, e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ty = e.file_type().map_err(|e| err("read", &src, e))?;
        if ty.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| err("read", &src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| err("create", &dst, e))?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ty.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| err("copy to", &dst, e))?;
            let mtime = std::fs::metadata(&src)
                .and_then(|m| m.modified())
                .map_err(|e| err("read", &src, e))?;
            // futimens needs ownership, not write permission.
            File::open(&dst)
                .and_then(|f| f.set_modified(mtime))
                .map_err(|e| err("set the time of", &dst, e))?;
        } else if ty.is_fifo() {
            let c = std::ffi::CString::new(dst.as_os_str().as_encoded_bytes())?;
            // SAFETY: mkfifo with a NUL-terminated path.
            if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                return Err(err("create", &dst, std::io::Error::last_os_error()));
            }
            let mode = std::fs::symlink_metadata(&src).map_err(|e| err("read", &src, e))?;
            std::fs::set_permissions(&dst, mode.permissions())
                .map_err(|e| err("set the mode of", &dst, e))?;
        } else {
            return Err(super::usage_error(format!(
                "M=: '{}' is a socket or device, which a module directory should not hold",
                src.display()
            )));
        }
    }
    let meta = std::fs::metadata(from).map_err(|e| err("read", from, e))?;
    std::fs::set_permissions(to, meta.permissions()).map_err(|e| err("set the mode of", to, e))?;
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
        // A FIFO is made anew, never opened (that would wait for a writer).
        let fifo =
            std::ffi::CString::new(a.join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o640) }, 0);
        copy_tree(&a, &t.path().join("b")).unwrap();
        let b = t.path().join("b");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(b.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
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
