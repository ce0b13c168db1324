//! Carrying out a plan: `exec` the real tool (so exit status, signals,
//! stdin and coloured diagnostics are its own) or do the gated copy; and the
//! `--explain` rendering of the same plan.

use crate::launcher::Launcher;
use crate::settings::ENV_DEPTH;
use crate::{code, fail, ld_gate, Action, Plan};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

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
    let mut cmd = match launcher {
        None => Command::new(program),
        Some(l) => {
            let mut c = Command::new(&l.program);
            c.args(&l.args).arg(program);
            if let Some(p) = &l.path {
                c.env("PATH", p);
            }
            c
        }
    };
    let err = cmd
        .args(args)
        .env(ENV_DEPTH, (depth + 1).to_string())
        .exec();
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        code::NOT_FOUND
    } else {
        code::CANNOT_EXEC
    };
    let shown = launcher.map_or(program, |l| &l.program);
    fail(code, format!("cannot execute '{}': {err}", shown.display()))
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
        Action::Copy { from, to } => ld_gate::copy_atomically(from, to).map_err(|e| {
            fail(
                1,
                format!("{e:#} (the input '{}' is untouched)", from.display()),
            )
        }),
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
