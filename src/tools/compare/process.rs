//! Running a child (make, tar) in a process group of its own, so that a
//! signal stops all of it within a second; stdin from /dev/null (a config
//! target that asks would otherwise wait for ever); a progress line every
//! 15 s from its log.

use super::say;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// The signal (SIGINT, SIGTERM, SIGHUP or SIGPIPE) that asked us to stop, or 0.
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

/// The signal that arrived, if one did.
pub fn pending() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Dies of `sig` with its default action (after the cleanup is done).
pub fn die_of(sig: i32) {
    // SAFETY: restoring the default action and raising a signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

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
    // Should this process die without cleaning up (SIGKILL), make gets
    // SIGTERM and starts nothing new (the jobs it runs finish on their own).
    // The getppid check closes the window before prctl.
    // SAFETY: getpid, prctl, getppid and _exit are async-signal-safe.
    let parent = unsafe { libc::getpid() };
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
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
