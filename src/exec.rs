//! Handing over to the real tool with `execv`, so exit status, signals,
//! stdin and coloured diagnostics are its own.

use crate::launcher::Launcher;
use crate::settings::ENV_DEPTH;
use crate::{code, fail};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What to exec for `program args…`: the program and its argv (argv[0] is
/// the resolved path, which keeps clang's name-derived behaviour such as
/// `aarch64-linux-gnu-clang` → target, since the base name is unchanged), or
/// `launcher… program args…`; and the environment to set on top: the depth
/// counter (which also passes through a launcher) and the launcher's PATH.
pub struct Command<'a> {
    pub program: &'a Path,
    pub argv: Vec<&'a OsStr>,
    pub env: Vec<(&'static str, OsString)>,
}

/// `path`: the `PATH` the tool gets (masquerade mode's cut list), if changed.
pub fn command<'a>(
    program: &'a Path,
    args: &'a [OsString],
    depth: u32,
    launcher: Option<&'a Launcher>,
    path: Option<OsString>,
) -> Command<'a> {
    let mut env = vec![(ENV_DEPTH, depth.saturating_add(1).to_string().into())];
    let tail = args.iter().map(OsString::as_os_str);
    match launcher {
        None => {
            env.extend(path.map(|p| ("PATH", p)));
            Command {
                program,
                argv: std::iter::once(program.as_os_str()).chain(tail).collect(),
                env,
            }
        }
        Some(l) => {
            // The launcher's PATH was derived from `path` already.
            if let Some(p) = l.path.clone().or(path) {
                env.push(("PATH", p));
            }
            let argv = std::iter::once(l.program.as_os_str())
                .chain(l.args.iter().map(OsString::as_os_str))
                .chain([program.as_os_str()])
                .chain(tail)
                .collect();
            Command {
                program: &l.program,
                argv,
                env,
            }
        }
    }
}

/// The shim's error for a failed exec: 127 when the file is missing, else 126.
pub fn exec_failed(program: &Path, err: &std::io::Error) -> anyhow::Error {
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        code::NOT_FOUND
    } else {
        code::CANNOT_EXEC
    };
    fail(
        code,
        format!("cannot execute '{}': {err}", program.display()),
    )
}

/// `execv(2)` itself, not `std::process::Command::exec`: std resets SIGPIPE
/// to its default and clears the blocked-signal mask before exec, and a
/// wrapper must hand the real tool the signal state make gave it. `argv`
/// includes argv[0]. Returns only on failure.
pub fn execv(program: &Path, argv: &[&OsStr]) -> std::io::Error {
    use std::ffi::{c_char, CString};
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| std::io::ErrorKind::InvalidInput);
    let Ok(path) = cstr(program.as_os_str().as_bytes()) else {
        return std::io::ErrorKind::InvalidInput.into();
    };
    let mut owned = Vec::with_capacity(argv.len());
    for a in argv {
        match cstr(a.as_bytes()) {
            Ok(c) => owned.push(c),
            Err(e) => return e.into(),
        }
    }
    let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `path` and every `ptrs` entry are NUL-terminated and outlive
    // the call; `ptrs` ends with a null pointer. execv returns only on error.
    unsafe { libc::execv(path.as_ptr(), ptrs.as_ptr()) };
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::ENOEXEC) {
        return err;
    }
    // A script without `#!`: as execvp (and shells) do, run it with /bin/sh,
    // argv `/bin/sh FILE ARGS…`.
    let sh = c"/bin/sh";
    ptrs[0] = path.as_ptr();
    ptrs.insert(0, sh.as_ptr());
    // SAFETY: as above; `sh` is a static C string.
    unsafe { libc::execv(sh.as_ptr(), ptrs.as_ptr()) };
    std::io::Error::last_os_error()
}
