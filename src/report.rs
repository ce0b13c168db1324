//! `KBUILD_SHIM_REPORT=FILE`: one JSON line per invocation in which a rule
//! fired, appended with a single `write` on an `O_APPEND` file so lines from
//! `make -j` never interleave. (`kbuild-shim --report FILE`, the summary, is
//! in `tools::report_summary`.)
//!
//! Strings are bytes (paths and arguments need not be UTF-8). Valid UTF-8 is
//! written as is, with `"`, `\` and control characters escaped; each byte
//! that is not part of valid UTF-8 is written as `\u00XX`, its Latin-1 value
//! (so such a byte reads back as the character U+00XX).

use crate::cli::Role;
use crate::settings::ENV_REPORT;
use crate::{code, fail, Action, Plan};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Appends `bytes` to `out` as a JSON string.
pub fn json_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\u{b:04x}");
        }
    }
    out.push(b'"');
}

fn json_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]>) {
    out.push(b'[');
    for (i, it) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(out, it);
    }
    out.push(b']');
}

/// The JSON line (with its newline) for one invocation.
pub fn line(plan: &Plan, role: Role, cwd: &Path, unix_time: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let _ = write!(out, "{{\"time\":{unix_time:.3},\"cwd\":");
    json_str(&mut out, cwd.as_os_str().as_bytes());
    let role = match role {
        Role::Cc => "cc",
        Role::Ld => "ld",
        Role::Other => "other",
    };
    let _ = write!(out, ",\"role\":\"{role}\",\"output\":");
    let (output, input) = match &plan.action {
        Action::Exec { args } => (crate::cc::output_of(args), None),
        Action::Copy { from, to } => (
            Some(to.as_os_str().as_bytes()),
            Some(from.as_os_str().as_bytes()),
        ),
    };
    match output {
        Some(o) => json_str(&mut out, o),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"rules\":");
    json_list(&mut out, plan.fired.iter().map(|f| f.rule.as_bytes()));
    out.extend_from_slice(b",\"removed\":");
    let removed = plan.fired.iter().flat_map(|f| &f.removed);
    json_list(&mut out, removed.map(|a| a.as_bytes()));
    out.extend_from_slice(b",\"added\":");
    json_list(
        &mut out,
        plan.fired
            .iter()
            .flat_map(|f| &f.added)
            .map(|a| a.as_bytes()),
    );
    // The ld gate's decision: copy `input` to `output` instead of `ld -r`.
    out.extend_from_slice(b",\"gate\":");
    match input {
        Some(i) => {
            out.extend_from_slice(b"{\"decision\":\"copy\",\"input\":");
            json_str(&mut out, i);
            out.extend_from_slice(b",\"why\":");
            let why = plan
                .fired
                .iter()
                .map(|f| f.note.as_str())
                .collect::<Vec<_>>();
            json_str(&mut out, why.join("; ").as_bytes());
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    out
}

/// Appends `line` to `path` with one `write` (O_APPEND makes each write land
/// whole at the end, even with many writers).
///
/// The file may be a FIFO someone watches the build through. It is opened
/// with `O_NONBLOCK`, so a FIFO without a reader fails at once (ENXIO)
/// instead of blocking every compile in `open`; the flag is then cleared, so
/// with a reader the write waits for room in the pipe rather than failing.
pub fn append(path: &Path, line: &[u8]) -> anyhow::Result<()> {
    let err = |e: std::io::Error| {
        let why = match e.raw_os_error() {
            Some(libc::ENXIO) if is_fifo(path) => {
                format!("it is a FIFO with no reader ({e}); keep a reader open for the whole build")
            }
            _ => e.to_string(),
        };
        fail(
            code::USAGE,
            format!("{ENV_REPORT}: cannot append to '{}': {why}", path.display()),
        )
    };
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(err)?;
    clear_nonblock(&f).map_err(err)?;
    match write_once(&f, line) {
        Ok(n) if n == line.len() => Ok(()),
        Ok(n) => Err(err(std::io::Error::other(format!(
            "short write ({n} of {} bytes)",
            line.len()
        )))),
        Err(e) => Err(err(e)),
    }
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

fn clear_nonblock(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// One `write(2)` with SIGPIPE ignored, so a reader that goes away between
/// our open and our write is an EPIPE error (one line, exit 2), not a silent
/// death of the compile. The previous disposition is restored afterwards:
/// an ignored SIGPIPE would survive the exec into the real tool.
pub fn write_once(f: &std::fs::File, line: &[u8]) -> std::io::Result<usize> {
    // SAFETY: sigaction with a zeroed (then filled) struct and a valid out
    // pointer; SIG_IGN needs no handler code.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    let mut ign: libc::sigaction = unsafe { std::mem::zeroed() };
    ign.sa_sigaction = libc::SIG_IGN;
    let set = unsafe { libc::sigaction(libc::SIGPIPE, &ign, &mut old) } == 0;
    let r = (&*f).write(line);
    if set {
        // SAFETY: restores exactly what the kernel gave us above.
        unsafe { libc::sigaction(libc::SIGPIPE, &old, std::ptr::null_mut()) };
    }
    r
}

/// Called when a rule fired and `KBUILD_SHIM_REPORT` is set.
pub fn record(path: &Path, plan: &Plan, role: Role, cwd: &Path) -> anyhow::Result<()> {
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    append(path, &line(plan, role, cwd, time))
}

/// `bytes` as a JSON string, quotes included.
pub fn escaped(bytes: &[u8]) -> String {
    let mut v = Vec::new();
    json_str(&mut v, bytes);
    String::from_utf8(v).expect("json_str writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigpipe_action() -> libc::sighandler_t {
        // SAFETY: a query only (null new action).
        let mut cur: libc::sigaction = unsafe { std::mem::zeroed() };
        unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut cur) };
        cur.sa_sigaction
    }

    /// Issue 18.1: a reader that closed its end before our write is EPIPE,
    /// not death by SIGPIPE (make runs the shim with SIGPIPE at its default),
    /// and the disposition the tool would inherit is unchanged afterwards.
    #[test]
    fn a_reader_gone_before_the_write_is_epipe_not_sigpipe() {
        let mut fds = [0; 2];
        // SAFETY: pipe fills two fds we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        use std::os::fd::FromRawFd;
        let (r, w) = unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        drop(r);
        // SAFETY: setting the default disposition, as make leaves it.
        let prev = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let e = write_once(&w, b"x\n").unwrap_err();
        let after = sigpipe_action();
        unsafe { libc::signal(libc::SIGPIPE, prev) };
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
        assert_eq!(after, libc::SIG_DFL);
    }
}
