//! The one PATH search of the crate: what "the shim itself" is, and where the
//! real tool (or a launcher, or a tool `--doctor`/`--demo` look for) is.
//!
//! A valid candidate for `name` in a search list (as ccache's
//! `find_executable_in_path` numbers its exclusions):
//! 1. is `dir/name` for a directory of the list, in order; an empty entry is
//!    the current directory, as for `execvp`;
//! 2. is a regular file with an execute bit;
//! 3. is not the shim itself: not the same inode (symlink, hard link) and not
//!    a byte-identical copy ([`SelfId`]).
//!
//! Relative directories are resolved against [`Search::base`] when set (the
//! in-process golden tests), else against the process's working directory.

use crate::{code, fail};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Identifies a file as "the shim itself": same inode, or a byte-identical copy.
#[derive(Debug, Clone)]
pub struct SelfId {
    dev: u64,
    ino: u64,
    len: u64,
    path: PathBuf,
}

impl SelfId {
    /// The running binary: the file the kernel was asked to execute
    /// (`AT_EXECFN`; for a masquerade link, the link, whose stat is the shim),
    /// else the kernel's link to our image. One stat per call: the executed
    /// path costs about 4 µs less to stat than /proc/self/exe
    /// (docs/benchmarks.md), and it is all there is without /proc (a chroot,
    /// a minimal container).
    pub fn current() -> Option<SelfId> {
        exec_fn()
            .and_then(|p| Self::of(&p))
            .or_else(|| Self::of(Path::new("/proc/self/exe")))
    }

    /// The binary at `path` (tests and the in-process host name their own).
    pub fn of(path: &Path) -> Option<SelfId> {
        let m = std::fs::metadata(path).ok()?;
        Some(SelfId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            path: path.to_path_buf(),
        })
    }

    /// Cheap for every real tool: only a file of exactly our size is read.
    pub fn is(&self, candidate: &Path, meta: &std::fs::Metadata) -> bool {
        if meta.dev() == self.dev && meta.ino() == self.ino {
            return true;
        }
        meta.len() == self.len
            && matches!(
                (std::fs::read(candidate), std::fs::read(&self.path)),
                (Ok(a), Ok(b)) if a == b
            )
    }
}

/// The path the kernel was asked to execute, from the auxiliary vector.
fn exec_fn() -> Option<PathBuf> {
    use std::ffi::CStr;
    // SAFETY: getauxval has no preconditions; a non-zero AT_EXECFN is a
    // NUL-terminated string the kernel put on our stack, valid for the
    // process's life.
    let p = unsafe { libc::getauxval(libc::AT_EXECFN) } as *const std::ffi::c_char;
    if p.is_null() {
        return None;
    }
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Some(PathBuf::from(OsStr::from_bytes(bytes)))
}

/// The search path `execvp` uses when `PATH` is unset (`confstr(_CS_PATH)`,
/// "/bin:/usr/bin" with glibc).
pub fn default_path() -> std::ffi::OsString {
    let mut buf = vec![0u8; 256];
    // SAFETY: buf is writable for its length; confstr writes at most that
    // many bytes, NUL included, and returns the length it needs.
    let n = unsafe { libc::confstr(libc::_CS_PATH, buf.as_mut_ptr().cast(), buf.len()) };
    if n == 0 || n > buf.len() {
        return "/bin:/usr/bin".into();
    }
    buf.truncate(n - 1);
    std::ffi::OsString::from(OsStr::from_bytes(&buf))
}

/// A `PATH` value as directories; an empty entry means the current
/// directory, as for `execvp`.
pub fn split_dirs(path: &OsStr) -> Vec<&OsStr> {
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|d| match d {
            b"" => OsStr::new("."),
            d => OsStr::from_bytes(d),
        })
        .collect()
}

/// Where to search, and how to talk about it in errors.
pub struct Search<'a> {
    pub dirs: Vec<&'a OsStr>,
    /// The variable the list came from (`PATH`, `KBUILD_SHIM_PATH`).
    pub var: &'a str,
    /// The shim's identity; `None` if it cannot be told (then nothing is skipped).
    pub me: Option<&'a SelfId>,
    /// Directory that relative entries are relative to; `None` = the process's.
    pub base: Option<&'a Path>,
    /// The shim's own directory the list was cut after (masquerade mode), for errors.
    pub after: Option<&'a OsStr>,
}

impl<'a> Search<'a> {
    /// The one way to build a search (the shim's, a launcher's, the tools'):
    /// `dirs` from the variable `var` (named in errors), skipping the shim
    /// `me`, relative entries against `base` (`None`: the process's cwd).
    pub fn new(
        dirs: Vec<&'a OsStr>,
        var: &'a str,
        me: Option<&'a SelfId>,
        base: Option<&'a Path>,
    ) -> Search<'a> {
        Search {
            dirs,
            var,
            me,
            base,
            after: None,
        }
    }
}

/// What a search found: the first valid candidate, and the directories in
/// which `name` was the shim itself.
pub struct Found<'a> {
    pub tool: Option<PathBuf>,
    pub skipped: Vec<&'a OsStr>,
}

fn is_executable_file(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

impl<'a> Search<'a> {
    fn stat(&self, p: &Path) -> Option<std::fs::Metadata> {
        match self.base {
            Some(b) if p.is_relative() => std::fs::metadata(b.join(p)).ok(),
            _ => std::fs::metadata(p).ok(),
        }
    }

    fn is_me(&self, p: &Path, m: &std::fs::Metadata) -> bool {
        self.me.is_some_and(|me| match self.base {
            Some(b) if p.is_relative() => me.is(&b.join(p), m),
            _ => me.is(p, m),
        })
    }

    /// The first valid candidate for `name` (see the module comment).
    pub fn find(&self, name: &OsStr) -> Found<'a> {
        let mut skipped = Vec::new();
        for &dir in &self.dirs {
            let cand = Path::new(dir).join(name);
            let Some(meta) = self.stat(&cand) else {
                continue;
            };
            if !is_executable_file(&meta) {
                continue;
            }
            if self.is_me(&cand, &meta) {
                skipped.push(dir);
                continue;
            }
            return Found {
                tool: Some(cand),
                skipped,
            };
        }
        Found {
            tool: None,
            skipped,
        }
    }

    /// The directories in which `name` is the shim itself.
    pub fn shim_dirs(&self, name: &OsStr) -> Vec<&'a OsStr> {
        self.dirs
            .iter()
            .copied()
            .filter(|d| {
                let p = Path::new(d).join(name);
                self.stat(&p).is_some_and(|m| self.is_me(&p, &m))
            })
            .collect()
    }

    /// The real tool for `tool`: a path (it has a `/`) is used as is unless it
    /// is the shim; a name is the first valid candidate. A name that only the
    /// shim answers to is not installed (127), as without the shim.
    pub fn tool(&self, tool: &OsStr) -> anyhow::Result<PathBuf> {
        if tool.as_bytes().contains(&b'/') {
            let p = PathBuf::from(tool);
            return match self.stat(&p) {
                Some(m) if self.is_me(&p, &m) => Err(fail(
                    code::USAGE,
                    format!(
                        "loop: '{}' is kbuild-shim itself; give the real tool, or its name",
                        p.display()
                    ),
                )),
                Some(_) => Ok(p),
                None => Err(fail(
                    code::NOT_FOUND,
                    format!("cannot find '{}'", p.display()),
                )),
            };
        }
        let Found {
            tool: found,
            skipped,
        } = self.find(tool);
        if let Some(found) = found {
            return Ok(found);
        }
        let mut msg = format!("cannot find '{}' in {}", tool.to_string_lossy(), self.var);
        if let Some(dir) = self.after {
            msg += &format!(
                " after kbuild-shim's own directory '{}'",
                dir.to_string_lossy()
            );
        }
        if !skipped.is_empty() {
            let skipped: Vec<_> = skipped.iter().map(|d| d.to_string_lossy()).collect();
            msg += &format!(" (skipped {}: kbuild-shim itself)", skipped.join(", "));
        }
        Err(fail(code::NOT_FOUND, msg))
    }

    /// Masquerade mode, as distcc's masquerade directory: search only after
    /// the directory the shim was found through, so that two masquerading
    /// wrappers (ccache's /usr/lib/ccache and the shim's) chain in either
    /// order instead of calling each other.
    ///
    /// Returns the `PATH` to give the tool when the list is `PATH` and the
    /// shim is in it: the whole list minus only the directories in which
    /// `name` is the shim. Those must go, or a wrapper after the shim that
    /// searches `PATH` (ccache) finds the shim again. Everything else stays,
    /// in order, including the directories before the shim's: clang looks up
    /// `ld`, `as` and `ld.lld` in `PATH`, and must find the ones it finds
    /// without the shim (a `~/bin/ld` before the shim's directory).
    pub fn cut_after_shim_dir(&mut self, name: &'a OsStr) -> Option<std::ffi::OsString> {
        let shim: Vec<bool> = self
            .dirs
            .iter()
            .map(|d| {
                let p = Path::new(d).join(name);
                self.stat(&p).is_some_and(|m| self.is_me(&p, &m))
            })
            .collect();
        let i = shim.iter().position(|&s| s)?;
        self.after = Some(self.dirs[i]);
        let handed = (self.var == "PATH").then(|| {
            let kept: Vec<&[u8]> = self
                .dirs
                .iter()
                .zip(&shim)
                .filter(|(_, &s)| !s)
                .map(|(d, _)| d.as_bytes())
                .collect();
            OsStr::from_bytes(&kept.join(&b':')).to_owned()
        });
        self.dirs.drain(..=i);
        handed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_entries_are_the_current_directory() {
        assert_eq!(split_dirs(OsStr::new("/a::/b")), vec!["/a", ".", "/b"]);
        assert_eq!(split_dirs(OsStr::new("")), vec!["."]);
    }

    #[test]
    fn finds_relative_entries_against_the_base() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("bin")).unwrap();
        let exe = d.path().join("bin/tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = Search {
            dirs: vec![OsStr::new("bin")],
            var: "PATH",
            me: None,
            base: Some(d.path()),
            after: None,
        };
        assert_eq!(
            s.find(OsStr::new("tool")).tool,
            Some(PathBuf::from("bin/tool"))
        );
        let me = SelfId::of(&exe).unwrap();
        let s = Search { me: Some(&me), ..s };
        assert!(s.find(OsStr::new("tool")).tool.is_none());
        assert_eq!(s.shim_dirs(OsStr::new("tool")), vec![OsStr::new("bin")]);
        let e = s.tool(OsStr::new("tool")).unwrap_err();
        assert_eq!(crate::exit_code_of(&e), code::NOT_FOUND);
        assert_eq!(
            e.to_string(),
            "cannot find 'tool' in PATH (skipped bin: kbuild-shim itself)"
        );
        // Masquerade: the search is cut after the shim's own directory; the
        // PATH handed on only loses the shim's directories (issue 18.3).
        let mut s = Search {
            dirs: vec![
                OsStr::new("x"),
                OsStr::new("bin"),
                OsStr::new("y"),
                OsStr::new("bin"),
                OsStr::new("z"),
            ],
            ..s
        };
        assert_eq!(
            s.cut_after_shim_dir(OsStr::new("tool")),
            Some("x:y:z".into())
        );
        assert_eq!(s.dirs, ["y", "bin", "z"]);
        let e = s.tool(OsStr::new("tool")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot find 'tool' in PATH after kbuild-shim's own directory 'bin' \
             (skipped bin: kbuild-shim itself)"
        );
    }
}
