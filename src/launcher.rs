//! `KBUILD_SHIM_LAUNCHER`: run the final command as `<launcher…> <real tool>
//! <args…>`, like CMake's `<LANG>_COMPILER_LAUNCHER` or ccache's
//! `CCACHE_PREFIX`. The shim distributes and caches nothing itself; ccache,
//! distcc, icecc or sccache do, and see the command after the rewrite.

use crate::invocation::{find_tool, shim_at, Invocation, Mode, Role, SelfId};
use crate::settings::{Settings, ENV_LAUNCHER};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The resolved launcher: what to exec in front of the real tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launcher {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// `PATH` for the launcher with the shim's masquerade directories left
    /// out, so a launcher that searches `PATH` (or masquerades itself) cannot
    /// reach the shim again; `None` when nothing had to be left out.
    pub path: Option<OsString>,
}

/// Resolves `words` (non-empty) for a command of `tool`: the first word in
/// `PATH`, skipping the shim as the real tool lookup does.
pub fn resolve(words: &[OsString], tool: &OsStr) -> anyhow::Result<Launcher> {
    let path = std::env::var_os("PATH");
    let in_path = Settings {
        search_path: path.clone(),
        search_path_var: "PATH",
        ..Settings::default()
    };
    let first = Invocation {
        mode: Mode::Prefix,
        tool: words[0].clone(),
        role: Role::Other,
        args: Vec::new(),
    };
    let program = find_tool(&first, &in_path).map_err(|e| e.context(ENV_LAUNCHER))?;
    let names = [
        Path::new(tool).file_name().unwrap_or(tool),
        Path::new(&words[0]).file_name().unwrap_or(&words[0]),
    ];
    Ok(Launcher {
        program,
        args: words[1..].to_vec(),
        path: path.and_then(|p| without_shim_dirs(&p, &names)),
    })
}

/// `path` without the directories in which one of `names` is the shim
/// itself; `None` if there are none.
fn without_shim_dirs(path: &OsStr, names: &[&OsStr]) -> Option<OsString> {
    let me = SelfId::current()?;
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut dropped = false;
    for dir in path.as_bytes().split(|&b| b == b':') {
        let d = Path::new(OsStr::from_bytes(if dir.is_empty() { b"." } else { dir }));
        let is_shim_dir = names.iter().any(|n| shim_at(d, n, &me));
        if is_shim_dir {
            dropped = true;
        } else {
            kept.push(dir);
        }
    }
    dropped.then(|| OsStr::from_bytes(&kept.join(&b':')).to_owned())
}
