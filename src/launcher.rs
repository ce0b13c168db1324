//! `KBUILD_SHIM_LAUNCHER`: run the final command as `<launcher…> <real tool>
//! <args…>`, like CMake's `<LANG>_COMPILER_LAUNCHER` or ccache's
//! `CCACHE_PREFIX`. The shim distributes and caches nothing itself; ccache,
//! distcc, icecc or sccache do, and see the command after the rewrite.

use crate::path_search::{split_dirs, Search, SelfId};
use crate::settings::ENV_LAUNCHER;
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
/// `path`, skipping the shim as the real tool's search does.
pub fn resolve(
    words: &[OsString],
    tool: &OsStr,
    path: Option<&OsStr>,
    me: Option<&SelfId>,
    base: Option<&Path>,
) -> anyhow::Result<Launcher> {
    let search = Search::new(path.map_or_else(Vec::new, split_dirs), "PATH", me, base);
    let program = search
        .tool(&words[0])
        .map_err(|e| e.context(ENV_LAUNCHER))?;
    let names = [
        Path::new(tool).file_name().unwrap_or(tool),
        Path::new(&words[0]).file_name().unwrap_or(&words[0]),
    ];
    let shim_dirs: Vec<&OsStr> = names.iter().flat_map(|n| search.shim_dirs(n)).collect();
    let path = (!shim_dirs.is_empty()).then(|| {
        let kept: Vec<&[u8]> = search
            .dirs
            .iter()
            .filter(|d| !shim_dirs.contains(d))
            .map(|d| d.as_bytes())
            .collect();
        OsStr::from_bytes(&kept.join(&b':')).to_owned()
    });
    Ok(Launcher {
        program,
        args: words[1..].to_vec(),
        path,
    })
}
