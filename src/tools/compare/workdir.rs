//! What the tool writes before building: the work directory (its own, a
//! physical path), the reference wrapper and the masquerade directory.

use super::usage_error;
use crate::cli::MASQUERADE_LINKS;
use anyhow::Context as _;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The work directory: ours alone (so no user file is ever touched), as a
/// physical path. Removed when dropped, unless kept.
pub struct WorkDir {
    pub path: PathBuf,
    pub keep: bool,
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Where `path` will be once created: its deepest existing ancestor
/// resolved, the rest as given.
fn future_physical(path: &Path) -> PathBuf {
    let abs = std::env::current_dir().unwrap_or_default().join(path);
    let mut rest = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(base) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                base = parent;
            }
            _ => return abs,
        }
    }
}

/// Creates the work directory: `--keep DIR` (new or empty), else a new one
/// in TMPDIR. Never inside one of `outside` (SRC, the M= directory): the
/// builds copy M= into it, and nothing may be written into the user's trees.
pub fn work_dir(keep: Option<&Path>, outside: &[(&str, &Path)]) -> anyhow::Result<WorkDir> {
    let refuse_inside = |dir: &Path| -> anyhow::Result<()> {
        for (what, tree) in outside {
            if dir.starts_with(tree) {
                return Err(usage_error(format!(
                    "the work directory would be '{}', inside {what} '{}'; give --keep (or TMPDIR) outside it",
                    dir.display(),
                    tree.display()
                )));
            }
        }
        Ok(())
    };
    let work = match keep {
        Some(k) => {
            // `missing/..` would pass every check below on the unresolved
            // path and then name an existing directory once created.
            if k.components().any(|c| c == std::path::Component::ParentDir) {
                return Err(usage_error(format!(
                    "--keep '{}' has a '..'; give the directory without it",
                    k.display()
                )));
            }
            refuse_inside(&future_physical(k))?;
            let occupied = k.exists()
                && (!k.is_dir() || std::fs::read_dir(k).map_or(true, |mut d| d.next().is_some()));
            if occupied {
                return Err(usage_error(format!(
                    "--keep '{}' exists and is not an empty directory",
                    k.display()
                )));
            }
            std::fs::create_dir_all(k).map_err(|e| {
                usage_error(format!(
                    "cannot create --keep directory '{}': {e}",
                    k.display()
                ))
            })?;
            let path = std::fs::canonicalize(k)?;
            // Checked again on what was created, links resolved: only an
            // empty directory outside the user's trees is ours.
            refuse_inside(&path)?;
            if std::fs::read_dir(&path).map_or(true, |mut d| d.next().is_some()) {
                return Err(usage_error(format!(
                    "--keep '{}' exists and is not an empty directory",
                    k.display()
                )));
            }
            WorkDir { path, keep: true }
        }
        None => {
            let tmp = std::env::var_os("TMPDIR")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "/tmp".into());
            let dir = std::fs::canonicalize(&tmp)
                .ok()
                .filter(|d| d.is_dir())
                .ok_or_else(|| {
                    usage_error(format!(
                        "TMPDIR '{}' is not a directory",
                        Path::new(&tmp).display()
                    ))
                })?;
            refuse_inside(&dir)?;
            let t = tempfile::Builder::new()
                .prefix("kbuild-compare.")
                .tempdir_in(&dir)
                .map_err(|e| {
                    usage_error(format!(
                        "cannot create a work directory in '{}': {e}",
                        dir.display()
                    ))
                })?;
            WorkDir {
                path: t.keep(),
                keep: false,
            }
        }
    };
    // A lossy path in CC= would make the reference build fail, and the
    // wrapper under test be blamed for it.
    super::setup::utf8(&work.path, "the work directory")?;
    if work
        .path
        .as_os_str()
        .as_bytes()
        .iter()
        .any(u8::is_ascii_whitespace)
    {
        return Err(usage_error(format!(
            "the work directory '{}' has a space, which kbuild cannot take",
            work.path.display()
        )));
    }
    Ok(work)
}

/// The reference: upstream's proposed fixes as a wrapper of its own, sharing
/// no code with the shim (docs/kernel-compare.md). Nathan Chancellor's:
/// `-Wno-unused-command-line-argument` appended to a clang command with a
/// `.bc` input (a word ending in `.bc` that is not `-o`'s value). Miguel
/// Ojeda's gate: with `CONFIG_RUST_INLINE_HELPERS` off in
/// `include/config/auto.conf`, the single-object `ld -r -o DIR/.tmp_NAME
/// DIR/NAME` of a Rust object (`rustc version` in it) is not run; the object
/// is copied, as kbuild's following `mv` leaves it unchanged.
pub const REFERENCE: &str = r#"#!/bin/sh
tool=$1
shift
case ${tool##*/} in
*clang*)
	prev='' ir=0
	for a in "$@"; do
		case $a in *.bc) [ "$prev" = -o ] || ir=1 ;; esac
		prev=$a
	done
	[ "$ir" = 0 ] || exec "$tool" "$@" -Wno-unused-command-line-argument ;;
*ld*)
	if [ -f include/config/auto.conf ] && ! grep -qx 'CONFIG_RUST_INLINE_HELPERS=y' include/config/auto.conf; then
		prev='' r=0 out='' n=0 in=''
		for a in "$@"; do
			if [ "$prev" = -o ]; then out=$a
			elif [ "$a" = -r ]; then r=1
			else case $a in -*) ;; *.o) n=$((n + 1)) in=$a ;; esac
			fi
			prev=$a
		done
		if [ "$r" = 1 ] && [ "$n" = 1 ] && [ "${out##*/}" = ".tmp_${in##*/}" ] &&
			[ "${out%/*}" = "${in%/*}" ] && grep -q 'rustc version' "$in"; then
			exec cp -- "$in" "$out"
		fi
	fi ;;
esac
exec "$tool" "$@"
"#;

/// Writes the reference wrapper as `work/ref/kbuild-compare-ref`.
pub fn write_reference(work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("ref");
    let path = dir.join("kbuild-compare-ref");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, REFERENCE))
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
        .with_context(|| format!("cannot write '{}'", path.display()))?;
    Ok(path)
}

/// A directory of tool-named links to the wrapper (what mkshimdir makes):
/// `clang`, `ld.lld`, `ld`, and the `-N` names for `--llvm -N`.
pub fn masquerade_dir(dir: &Path, exe: &Path, version: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create '{}'", dir.display()))?;
    for name in MASQUERADE_LINKS {
        let name = match (name.strip_suffix("-N"), version) {
            (Some(base), Some(v)) => format!("{base}-{v}"),
            (Some(_), None) => continue,
            (None, _) => name.to_owned(),
        };
        let link = dir.join(name);
        std::os::unix::fs::symlink(exe, &link)
            .with_context(|| format!("cannot create '{}'", link.display()))?;
    }
    Ok(())
}

/// `PATH` with `dir` first.
pub fn path_with_first(dir: &Path, path_env: &OsStr) -> OsString {
    let mut p = dir.as_os_str().to_owned();
    if !path_env.is_empty() {
        p.push(":");
        p.push(path_env);
    }
    p
}

/// `cp -a` of a directory: files (mode and modification time kept),
/// symlinks as links, FIFOs as new FIFOs (never opened: that would wait for
/// a writer), subdirectories. A socket or device is refused.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let err = |what: &str, p: &Path, e: std::io::Error| {
        anyhow::anyhow!("cannot {what} '{}': {e}", p.display())
    };
    std::fs::create_dir(to).map_err(|e| err("create", to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| err("read", from, e))? {
        let e = e.map_err(|e| err("read", from, e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ty = e.file_type().map_err(|e| err("read", &src, e))?;
        if ty.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| err("read", &src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| err("create", &dst, e))?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ty.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| err("copy to", &dst, e))?;
            let mtime = std::fs::metadata(&src)
                .and_then(|m| m.modified())
                .map_err(|e| err("read", &src, e))?;
            // futimens needs ownership, not write permission.
            File::open(&dst)
                .and_then(|f| f.set_modified(mtime))
                .map_err(|e| err("set the time of", &dst, e))?;
        } else if ty.is_fifo() {
            let c = std::ffi::CString::new(dst.as_os_str().as_encoded_bytes())?;
            // SAFETY: mkfifo with a NUL-terminated path.
            if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                return Err(err("create", &dst, std::io::Error::last_os_error()));
            }
            let mode = std::fs::symlink_metadata(&src).map_err(|e| err("read", &src, e))?;
            std::fs::set_permissions(&dst, mode.permissions())
                .map_err(|e| err("set the mode of", &dst, e))?;
        } else {
            return Err(super::usage_error(format!(
                "M=: '{}' is a socket or device, which a module directory should not hold",
                src.display()
            )));
        }
    }
    // u+w kept: the build writes into the copy, and the work directory
    // must be removable (a module from a read-only checkout is 0555).
    let mode = std::fs::metadata(from)
        .map_err(|e| err("read", from, e))?
        .permissions()
        .mode();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode | 0o200))
        .map_err(|e| err("set the mode of", to, e))?;
    Ok(())
}

/// Unpacks a `.tar.xz` of a kernel tree into `work/src`.
pub fn unpack(tarball: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    super::say(&format!("unpacking {}", tarball.display()));
    let t0 = std::time::Instant::now();
    let dir = work.join("src");
    std::fs::create_dir(&dir)?;
    // tar's output to a log: in a process group of its own it must not
    // write to the terminal (`stty tostop` would stop it there).
    let log = work.join("unpack.log");
    let out = std::fs::File::create(&log)?;
    let status = super::process::run(
        std::process::Command::new("tar")
            .arg("-xJf")
            .arg(tarball)
            .arg("-C")
            .arg(&dir)
            .arg("--strip-components=1")
            .stdout(out.try_clone()?)
            .stderr(out),
        None,
    )?;
    if !status.success() {
        let text = std::fs::read(&log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        return Err(usage_error(format!(
            "cannot unpack '{}': {}",
            tarball.display(),
            text.lines().next().unwrap_or("tar failed")
        )));
    }
    super::say(&format!("unpacked in {} s", t0.elapsed().as_secs()));
    if !dir.join("Makefile").is_file() {
        return Err(usage_error(format!(
            "'{}' does not hold a kernel source tree (no Makefile in its top directory)",
            tarball.display()
        )));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_keeps_links_modes_and_times() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::create_dir_all(a.join("sub")).unwrap();
        std::fs::write(a.join("sub/x.c"), "int x;").unwrap();
        std::fs::set_permissions(
            a.join("sub/x.c"),
            std::os::unix::fs::PermissionsExt::from_mode(0o751),
        )
        .unwrap();
        std::os::unix::fs::symlink("sub/x.c", a.join("l")).unwrap();
        // A FIFO is made anew, never opened (that would wait for a writer).
        let fifo =
            std::ffi::CString::new(a.join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o640) }, 0);
        copy_tree(&a, &t.path().join("b")).unwrap();
        let b = t.path().join("b");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(b.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(
            std::fs::read_link(b.join("l")).unwrap(),
            Path::new("sub/x.c")
        );
        let (ma, mb) = (
            std::fs::metadata(a.join("sub/x.c")).unwrap(),
            std::fs::metadata(b.join("sub/x.c")).unwrap(),
        );
        assert_eq!(ma.modified().unwrap(), mb.modified().unwrap());
        assert_eq!(ma.permissions(), mb.permissions());
    }

    #[test]
    fn the_masquerade_directory_has_the_installed_links() {
        let t = tempfile::tempdir().unwrap();
        masquerade_dir(
            &t.path().join("bin"),
            Path::new("/x/kbuild-shim"),
            Some("22"),
        )
        .unwrap();
        let mut names: Vec<_> = std::fs::read_dir(t.path().join("bin"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["clang", "clang-22", "ld", "ld.lld", "ld.lld-22"]);
        let link = std::fs::read_link(t.path().join("bin/ld")).unwrap();
        assert_eq!(link, Path::new("/x/kbuild-shim"));
    }
}
