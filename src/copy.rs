//! The gated copy: `to` as an exact copy of `from`, written atomically, with
//! the signals that could leave a temporary file behind held off.

use crate::{code, fail};
use anyhow::Context;
use std::path::Path;

/// Carries out the gated copy with the signal set-up below; a failure is the
/// shim's exit code 1, as a failed link would be.
pub fn gated_copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let old_mask = signals::prepare();
    let copied = copy_atomically(from, to);
    signals::restore(&old_mask);
    copied.map_err(|e| {
        fail(
            code::FAILED,
            format!("{e:#} (the input '{}' is untouched)", from.display()),
        )
    })
}

/// Writes `to` as an exact copy of `from`, atomically: a temporary file in
/// the same directory, the source's permissions, then `rename`. On any error
/// the temporary is removed and `to` is left as it was.
pub fn copy_atomically(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut src =
        std::fs::File::open(from).with_context(|| format!("cannot read '{}'", from.display()))?;
    let perms = src
        .metadata()
        .with_context(|| format!("cannot stat '{}'", from.display()))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".kbuild-shim.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in '{}'", dir.display()))?;
    std::io::copy(&mut src, tmp.as_file_mut())
        .and_then(|_| tmp.as_file().set_permissions(perms))
        .with_context(|| format!("cannot write '{}'", to.display()))?;
    tmp.persist(to)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write '{}'", to.display()))?;
    Ok(())
}

/// Two things could kill the shim between creating its temporary file and
/// renaming or removing it, leaving the file behind: SIGXFSZ over `ulimit -f`
/// (default action: terminate), and an interrupt. So SIGXFSZ is ignored
/// (write(2) then fails with EFBIG and the copy cleans up), and
/// SIGHUP/SIGINT/SIGQUIT/SIGTERM are held until the copy is done, then
/// delivered with their usual effect: make sees the same signal death as
/// from an interrupted `ld`. The copy path never execs, so no tool inherits
/// any of this. libc's constants: signal numbers differ on mips and sparc.
mod signals {
    const HELD: [libc::c_int; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

    /// Ignores SIGXFSZ, holds the interrupts; returns the mask to restore.
    pub fn prepare() -> libc::sigset_t {
        // SAFETY: libc calls on local, initialised sets; SIG_IGN runs no
        // code; the calling thread's mask only.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            libc::sigemptyset(&mut set);
            for s in HELD {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            old
        }
    }

    /// Restores the mask: a signal held during the copy is delivered now.
    pub fn restore(old: &libc::sigset_t) {
        // SAFETY: as in `prepare`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
    }
}
