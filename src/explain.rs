//! `--explain` and the info log: a plan as one copy-pasteable shell line,
//! then one `# rule NAME: …` comment per rule that fired (or
//! `# passthrough: WHY`), so the whole is a valid script.

use crate::launcher::Launcher;
use crate::{Action, Plan};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn quote(out: &mut Vec<u8>, word: &[u8]) {
    // shlex only fails on NUL, which argv cannot contain.
    match shlex::bytes::try_quote(word) {
        Ok(q) => out.extend_from_slice(&q),
        Err(_) => out.extend_from_slice(b"''"),
    }
}

/// The plan as one copy-pasteable shell line (`cd DIR && [PATH=… LAUNCHER…]
/// TOOL ARGS…`, or the shell equivalent of the gated copy).
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
        // What `copy::copy_atomically` does: a temporary in the output's
        // directory, the input's mode (not its mtime: the output is new, as
        // after a link), rename over the output (`-T`: never into a directory
        // of that name), and the temporary removed on failure.
        Action::Copy { from, to } => out.extend_from_slice(&copy_command(from, to)),
    }
    out
}

/// The shell equivalent of the gated copy of `from` to `to`.
pub fn copy_command(from: &Path, to: &Path) -> Vec<u8> {
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut out = b"t=$(mktemp -p ".to_vec();
    quote(&mut out, dir.as_os_str().as_bytes());
    out.extend_from_slice(b" .kbuild-shim.XXXXXX.tmp) && { cp --preserve=mode -- ");
    quote(&mut out, from.as_os_str().as_bytes());
    out.extend_from_slice(b" \"$t\" && mv -fT -- \"$t\" ");
    quote(&mut out, to.as_os_str().as_bytes());
    out.extend_from_slice(b" || { rm -f -- \"$t\"; false; }; }");
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
