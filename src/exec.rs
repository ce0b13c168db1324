//! Carrying out a plan: `exec` the real tool (so exit status, signals,
//! stdin and coloured diagnostics are its own) or do the gated copy; and the
//! `--explain` rendering of the same plan.

use crate::settings::ENV_DEPTH;
use crate::{code, fail, ld_gate, Action, Plan};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Replaces this process with `program args…`. Returns only on failure.
/// argv[0] is the resolved path, which keeps clang's name-derived behaviour
/// (`aarch64-linux-gnu-clang` → target) since the base name is unchanged.
pub fn exec(program: &Path, args: &[OsString], depth: u32) -> anyhow::Error {
    let err = Command::new(program)
        .args(args)
        .env(ENV_DEPTH, (depth + 1).to_string())
        .exec();
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

/// Carries out `plan`. For `Exec` this does not return on success.
pub fn run(plan: &Plan, program: &Path, depth: u32) -> anyhow::Result<()> {
    match &plan.action {
        Action::Exec { args } => Err(exec(program, args, depth)),
        Action::Copy { from, to } => {
            ignore_sigxfsz();
            ld_gate::copy_atomically(from, to).map_err(|e| {
                fail(
                    1,
                    format!("{e:#} (the input '{}' is untouched)", from.display()),
                )
            })
        }
    }
}

/// Over `ulimit -f` (RLIMIT_FSIZE) the kernel raises SIGXFSZ, whose default
/// action kills the shim mid-copy and leaves its temporary file behind.
/// Ignored, write(2) fails with EFBIG and the copy cleans up and reports it.
/// Only the copy path does this: it never execs, so no tool inherits it.
fn ignore_sigxfsz() {
    // The generic Linux numbering (x86, arm, arm64, riscv, powerpc, s390,
    // loongarch); elsewhere the default stays.
    #[cfg(any(
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "arm",
        target_arch = "aarch64",
        target_arch = "riscv32",
        target_arch = "riscv64",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    ))]
    {
        const SIGXFSZ: std::ffi::c_int = 25;
        const SIG_IGN: usize = 1;
        extern "C" {
            fn signal(signum: std::ffi::c_int, handler: usize) -> usize;
        }
        // SAFETY: installs SIG_IGN (no handler code runs); the process is
        // single-threaded here and exits right after the copy.
        unsafe { signal(SIGXFSZ, SIG_IGN) };
    }
}

fn quote(out: &mut Vec<u8>, word: &[u8]) {
    // shlex only fails on NUL, which argv cannot contain.
    match shlex::bytes::try_quote(word) {
        Ok(q) => out.extend_from_slice(&q),
        Err(_) => out.extend_from_slice(b"''"),
    }
}

/// The plan as one copy-pasteable shell line (`cd DIR && TOOL ARGS…`, or the
/// `cp -p` equivalent of the gated copy).
pub fn shell_line(plan: &Plan, program: &Path, cwd: &Path) -> Vec<u8> {
    let mut out = b"cd ".to_vec();
    quote(&mut out, cwd.as_os_str().as_bytes());
    out.extend_from_slice(b" && ");
    match &plan.action {
        Action::Exec { args } => {
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
pub fn explain(plan: &Plan, program: &Path, cwd: &Path) -> Vec<u8> {
    let mut out = shell_line(plan, program, cwd);
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
