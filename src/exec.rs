//! Carrying out a plan: `exec` the real tool (so exit status, signals,
//! stdin and coloured diagnostics are its own) or do the gated copy; and the
//! `--explain` rendering of the same plan.

use crate::launcher::Launcher;
use crate::settings::ENV_DEPTH;
use crate::{code, fail, ld_gate, Action, Plan};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Replaces this process with `program args…`, or `launcher… program args…`.
/// Returns only on failure. argv[0] is the resolved path, which keeps clang's
/// name-derived behaviour (`aarch64-linux-gnu-clang` → target) since the base
/// name is unchanged. The depth counter also passes through a launcher.
pub fn exec(
    program: &Path,
    args: &[OsString],
    depth: u32,
    launcher: Option<&Launcher>,
) -> anyhow::Error {
    // Set in our own environment, which execv passes on, rather than copying
    // every variable (a kernel build's environment is large) on each of
    // ~30,000 calls. The shim is single-threaded, so this is sound.
    std::env::set_var(ENV_DEPTH, depth.saturating_add(1).to_string());
    let err = match launcher {
        None => execv(program, args.iter().map(OsString::as_os_str)),
        Some(l) => {
            if let Some(p) = &l.path {
                std::env::set_var("PATH", p);
            }
            let argv = l.args.iter().map(OsString::as_os_str);
            execv(
                &l.program,
                argv.chain([program.as_os_str()])
                    .chain(args.iter().map(OsString::as_os_str)),
            )
        }
    };
    let shown = launcher.map_or(program, |l| l.program.as_path());
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        code::NOT_FOUND
    } else {
        code::CANNOT_EXEC
    };
    fail(code, format!("cannot execute '{}': {err}", shown.display()))
}

/// `execv(2)` itself, not `std::process::Command::exec`: std resets SIGPIPE
/// to its default and clears the blocked-signal mask before exec, and a
/// wrapper must hand the real tool the signal state make gave it.
fn execv<'a>(program: &Path, args: impl Iterator<Item = &'a std::ffi::OsStr>) -> std::io::Error {
    use std::ffi::{c_char, c_int, CString};
    extern "C" {
        fn execv(path: *const c_char, argv: *const *const c_char) -> c_int;
    }
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| std::io::ErrorKind::InvalidInput);
    let Ok(path) = cstr(program.as_os_str().as_bytes()) else {
        return std::io::ErrorKind::InvalidInput.into();
    };
    let mut owned = vec![path.clone()];
    for a in args {
        match cstr(a.as_bytes()) {
            Ok(c) => owned.push(c),
            Err(e) => return e.into(),
        }
    }
    let mut argv: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: `path` and every `argv` entry are NUL-terminated and outlive
    // the call; `argv` ends with a null pointer. execv returns only on error.
    unsafe { execv(path.as_ptr(), argv.as_ptr()) };
    std::io::Error::last_os_error()
}

/// Carries out `plan`. For `Exec` this does not return on success.
pub fn run(
    plan: &Plan,
    program: &Path,
    depth: u32,
    launcher: Option<&Launcher>,
) -> anyhow::Result<()> {
    match &plan.action {
        Action::Exec { args } => Err(exec(program, args, depth, launcher)),
        Action::Copy { from, to } => {
            let old_mask = copy_signals::prepare();
            let copied = ld_gate::copy_atomically(from, to);
            copy_signals::restore(old_mask);
            copied.map_err(|e| {
                fail(
                    code::FAILED,
                    format!("{e:#} (the input '{}' is untouched)", from.display()),
                )
            })
        }
    }
}

/// Signal set-up for the gated copy. Two things could kill the shim between
/// creating its temporary file and renaming or removing it, leaving the file
/// behind: SIGXFSZ over `ulimit -f` (default action: terminate), and an
/// interrupt. So SIGXFSZ is ignored (write(2) then fails with EFBIG and the
/// copy cleans up), and SIGHUP/SIGINT/SIGQUIT/SIGTERM are held until the
/// copy is done, then delivered with their usual effect: make sees the same
/// signal death as from an interrupted `ld`. The copy path never execs, so
/// no tool inherits any of this.
mod copy_signals {
    use std::ffi::c_int;

    /// The constants below are Linux's generic numbering; mips and sparc
    /// number these signals differently, and there the defaults stay.
    const GENERIC: bool = !cfg!(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "mips32r6",
        target_arch = "mips64r6",
        target_arch = "sparc",
        target_arch = "sparc64"
    ));
    const SIGXFSZ: c_int = 25;
    const HELD: [c_int; 4] = [1, 2, 3, 15]; // SIGHUP, SIGINT, SIGQUIT, SIGTERM
    const SIG_IGN: usize = 1;
    const SIG_BLOCK: c_int = 0;
    const SIG_SETMASK: c_int = 2;

    /// glibc's and musl's `sigset_t`: 1024 bits.
    #[repr(C)]
    pub struct SigSet([u64; 16]);

    extern "C" {
        fn signal(signum: c_int, handler: usize) -> usize;
        fn sigemptyset(set: *mut SigSet) -> c_int;
        fn sigaddset(set: *mut SigSet, signum: c_int) -> c_int;
        fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    }

    /// Ignores SIGXFSZ, holds the interrupts; returns the mask to restore.
    pub fn prepare() -> SigSet {
        let (mut set, mut old) = (SigSet([0; 16]), SigSet([0; 16]));
        if !GENERIC {
            return old;
        }
        // SAFETY: libc calls on local sets of the C size; SIG_IGN runs no
        // code; the process is single-threaded.
        unsafe {
            signal(SIGXFSZ, SIG_IGN);
            sigemptyset(&mut set);
            for s in HELD {
                sigaddset(&mut set, s);
            }
            sigprocmask(SIG_BLOCK, &set, &mut old);
        }
        old
    }

    /// Restores the mask: a signal held during the copy is delivered now.
    pub fn restore(old: SigSet) {
        if !GENERIC {
            return;
        }
        // SAFETY: as in `prepare`.
        unsafe { sigprocmask(SIG_SETMASK, &old, std::ptr::null_mut()) };
    }
}

fn quote(out: &mut Vec<u8>, word: &[u8]) {
    // shlex only fails on NUL, which argv cannot contain.
    match shlex::bytes::try_quote(word) {
        Ok(q) => out.extend_from_slice(&q),
        Err(_) => out.extend_from_slice(b"''"),
    }
}

/// The plan as one copy-pasteable shell line (`cd DIR && [PATH=… LAUNCHER…]
/// TOOL ARGS…`, or the `cp -p` equivalent of the gated copy).
pub fn shell_line(plan: &Plan, program: &Path, cwd: &Path, launcher: Option<&Launcher>) -> Vec<u8> {
    let mut out = b"cd ".to_vec();
    quote(&mut out, cwd.as_os_str().as_bytes());
    out.extend_from_slice(b" && ");
    match &plan.action {
        Action::Exec { args } => {
            if let Some(l) = launcher {
                if let Some(p) = &l.path {
                    let mut assign = b"PATH=".to_vec();
                    assign.extend_from_slice(p.as_bytes());
                    quote(&mut out, &assign);
                    out.push(b' ');
                }
                quote(&mut out, l.program.as_os_str().as_bytes());
                for a in &l.args {
                    out.push(b' ');
                    quote(&mut out, a.as_bytes());
                }
                out.push(b' ');
            }
            quote(&mut out, program.as_os_str().as_bytes());
            for a in args {
                out.push(b' ');
                quote(&mut out, a.as_bytes());
            }
        }
        Action::Copy { from, to } => {
            out.extend_from_slice(b"cp -p");
            for p in [from, to] {
                out.push(b' ');
                quote(&mut out, p.as_os_str().as_bytes());
            }
        }
    }
    out
}

/// `--explain` output: the shell line, then one `# rule NAME: …` comment per
/// rule that fired (or `# passthrough: WHY`), so the whole is a valid script.
pub fn explain(plan: &Plan, program: &Path, cwd: &Path, launcher: Option<&Launcher>) -> Vec<u8> {
    let mut out = shell_line(plan, program, cwd, launcher);
    out.push(b'\n');
    if plan.fired.is_empty() {
        let _ = writeln!(out, "# passthrough: {}", plan.why);
    }
    for f in &plan.fired {
        let _ = write!(out, "# rule {}:", f.rule);
        for (verb, list) in [("removed", &f.removed), ("added", &f.added)] {
            if !list.is_empty() {
                let _ = write!(out, " {verb}");
                for a in list {
                    out.push(b' ');
                    quote(&mut out, a.as_bytes());
                }
            }
        }
        if !f.note.is_empty() {
            let _ = write!(out, " {}", f.note);
        }
        out.push(b'\n');
    }
    out
}
