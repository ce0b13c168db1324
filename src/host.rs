//! What a call of the shim needs from the world, as ChromiumOS's
//! compiler_wrapper `env`: the environment, the working directory, the shim's
//! identity, `exec` and stdout. [`OsHost`] is the real process; tests give
//! [`crate::shim::run`] a recording host and run the whole policy in-process.
//! Files (objects, `auto.conf`, response files) are read for real, relative
//! to [`Host::cwd`].

use crate::path_search::SelfId;
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::path::Path;

pub trait Host {
    fn var_os(&self, key: &str) -> Option<OsString>;
    /// The directory relative paths are relative to; `None` = the process's
    /// own, so the hot path never calls `getcwd`.
    fn cwd(&self) -> Option<&Path>;
    /// The working directory as a path to show (`--explain`, the report).
    fn cwd_for_display(&self) -> std::path::PathBuf {
        match self.cwd() {
            Some(c) => c.to_path_buf(),
            None => std::env::current_dir().unwrap_or_else(|_| ".".into()),
        }
    }
    /// The running shim, to skip it in PATH searches.
    fn self_id(&self) -> Option<SelfId>;
    /// Replaces the process with `program argv[1..]`, `env` set on top of the
    /// current environment. Returns only on failure, or (recording hosts)
    /// with the exit code the tool "had".
    fn exec(&self, program: &Path, argv: &[&OsStr], env: &[(&str, &OsStr)]) -> std::io::Result<u8>;
    fn write_stdout(&self, bytes: &[u8]) -> std::io::Result<()>;
}

/// `p` as the host sees it: joined to [`Host::cwd`] when relative.
pub fn at<'a>(host: &dyn Host, p: &'a Path) -> Cow<'a, Path> {
    match host.cwd() {
        Some(c) if p.is_relative() => Cow::Owned(c.join(p)),
        _ => Cow::Borrowed(p),
    }
}

/// The real process.
pub struct OsHost;

impl Host for OsHost {
    fn var_os(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }

    fn cwd(&self) -> Option<&Path> {
        None
    }

    fn self_id(&self) -> Option<SelfId> {
        SelfId::current()
    }

    fn exec(&self, program: &Path, argv: &[&OsStr], env: &[(&str, &OsStr)]) -> std::io::Result<u8> {
        // Set in our own environment, which execv passes on, rather than
        // building a new one (a kernel build's environment is large) on each
        // of ~30,000 calls. The shim is single-threaded, so this is sound.
        for (k, v) in env {
            std::env::set_var(k, v);
        }
        Err(crate::exec::execv(program, argv))
    }

    fn write_stdout(&self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        // Without Rust's runtime (no_main) nobody flushes stdout at exit.
        out.flush()
    }
}
