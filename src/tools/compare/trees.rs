//! Comparing two build trees: every regular file and symlink, byte for
//! byte; `.cmd` files with each build's wrapper words removed (kbuild
//! records `$(CC)`, so the reference's name its wrapper and, in prefix mode,
//! the shim's name the shim).

use super::content::{modes, same_bytes, stripped};
use super::process::check_signal;
use std::collections::BTreeMap;
use std::fs::FileType;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// How the `.cmd` files of one side are read: `words` (a wrapper's words and
/// the space after them) removed wherever they occur.
pub struct Side<'a> {
    pub root: &'a Path,
    pub words: Option<&'a [u8]>,
}

/// The result of comparing two trees.
#[derive(Debug, Default)]
pub struct Comparison {
    /// What differs, as shown on `differs:` lines (`lib/sort.s`,
    /// `init/.main.o.cmd (command line)`, `x (only in the shim build)`).
    pub differing: Vec<String>,
    /// Files and symlinks of the reference tree, by kind (`.o`, `.cmd`,
    /// `(no suffix)`).
    pub kinds: BTreeMap<String, usize>,
}

impl Comparison {
    pub fn files(&self) -> usize {
        self.kinds.values().sum()
    }

    /// Adds another pair of trees' results (the module's to the tree's).
    pub fn add(&mut self, other: Comparison) {
        self.differing.extend(other.differing);
        for (k, n) in other.kinds {
            *self.kinds.entry(k).or_default() += n;
        }
    }
}

/// Compares every file under `a` (the reference) and `b` (the shim build);
/// `label` goes before each path (`M=: ` for the module). With `skip_cmd`,
/// `.cmd` files are left out (the plain build against the reference).
pub fn compare(a: &Side, b: &Side, label: &str, skip_cmd: bool) -> anyhow::Result<Comparison> {
    let mut c = Comparison::default();
    walk(a, b, Path::new(""), label, skip_cmd, &mut c)?;
    Ok(c)
}

fn entries(dir: &Path) -> anyhow::Result<BTreeMap<Vec<u8>, FileType>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        m.insert(e.file_name().as_bytes().to_vec(), e.file_type()?);
    }
    Ok(m)
}

fn is_cmd(name: &[u8]) -> bool {
    name.ends_with(b".cmd")
}

fn walk(
    a: &Side,
    b: &Side,
    rel: &Path,
    label: &str,
    skip_cmd: bool,
    c: &mut Comparison,
) -> anyhow::Result<()> {
    check_signal()?;
    let (ea, eb) = match (entries(&a.root.join(rel)), entries(&b.root.join(rel))) {
        (Ok(ea), Ok(eb)) => (ea, eb),
        (Err(e), _) | (_, Err(e)) => {
            let shown = if rel.as_os_str().is_empty() {
                Path::new(".")
            } else {
                rel
            };
            c.differing
                .push(format!("{label}{} (unreadable: {e:#})", shown.display()));
            return Ok(());
        }
    };
    let mut names: Vec<&Vec<u8>> = ea.keys().chain(eb.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        if skip_cmd && is_cmd(name) {
            continue;
        }
        let r = rel.join(std::ffi::OsStr::from_bytes(name));
        let shown = format!("{label}{}", r.display());
        let (ta, tb) = (ea.get(name), eb.get(name));
        // Directories in both trees are counted as they are walked.
        if let Some(t) = ta.filter(|t| !(t.is_dir() && tb.is_some_and(FileType::is_dir))) {
            count(&a.root.join(&r), *t, name, c)?;
        }
        match (ta, tb) {
            (Some(_), None) => c
                .differing
                .push(format!("{shown} (only in the reference build)")),
            (None, Some(_)) => c
                .differing
                .push(format!("{shown} (only in the shim build)")),
            (Some(ta), Some(tb)) if ta.is_dir() && tb.is_dir() => {
                walk(a, b, &r, label, skip_cmd, c)?
            }
            (Some(ta), Some(tb)) if ta.is_symlink() && tb.is_symlink() => {
                let (la, lb) = (
                    std::fs::read_link(a.root.join(&r)),
                    std::fs::read_link(b.root.join(&r)),
                );
                match (la, lb) {
                    (Ok(la), Ok(lb)) if la == lb => {}
                    (Ok(_), Ok(_)) => c.differing.push(shown),
                    (Err(e), _) | (_, Err(e)) => {
                        c.differing.push(format!("{shown} (unreadable: {e})"))
                    }
                }
            }
            (Some(ta), Some(tb)) if ta.is_file() && tb.is_file() => {
                let (pa, pb) = (a.root.join(&r), b.root.join(&r));
                let cmd = is_cmd(name) && (a.words.is_some() || b.words.is_some());
                let same = if cmd {
                    stripped(&pa, a.words).and_then(|x| Ok(x == stripped(&pb, b.words)?))
                } else {
                    same_bytes(&pa, &pb)
                };
                match same {
                    Ok(true) => {}
                    Ok(false) if cmd => c.differing.push(format!("{shown} (command line)")),
                    Ok(false) => c.differing.push(shown.clone()),
                    // A file a build left unreadable differs: never exit 2 for a wrapper's doing.
                    Err(e) => c.differing.push(format!("{shown} (unreadable: {e:#})")),
                }
                if let Some(modes) = modes(&pa, &pb) {
                    c.differing.push(format!("{shown} ({modes})"));
                }
            }
            (Some(ta), Some(tb)) if kind_of(ta) == kind_of(tb) => {}
            (Some(ta), Some(tb)) => c.differing.push(format!(
                "{shown} (a {} in the reference build, a {} in the shim build)",
                kind_of(ta),
                kind_of(tb)
            )),
            (None, None) => unreachable!("a name from neither tree"),
        }
    }
    Ok(())
}

fn kind_of(t: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symlink"
    } else if t.is_file() {
        "file"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() {
        "block device"
    } else {
        "character device"
    }
}

/// Counts the reference's files and symlinks (a directory only in the
/// reference counts with everything under it).
fn count(path: &Path, t: FileType, name: &[u8], c: &mut Comparison) -> anyhow::Result<()> {
    if t.is_dir() {
        // Unreadable: nothing to count (and the directory differs, as walk reports).
        for (n, t) in entries(path).unwrap_or_default() {
            count(&path.join(std::ffi::OsStr::from_bytes(&n)), t, &n, c)?;
        }
    } else if t.is_file() || t.is_symlink() {
        *c.kinds.entry(kind(name)).or_default() += 1;
    }
    Ok(())
}

/// A file's kind for the summary: `.cmd` for kbuild's `.NAME.cmd` files,
/// `(no suffix)`, else the last suffix (`.o`, `.config`).
pub fn kind(name: &[u8]) -> String {
    if name.starts_with(b".") && name.ends_with(b".cmd") {
        return ".cmd".into();
    }
    match name.iter().rposition(|&b| b == b'.') {
        None => "(no suffix)".into(),
        Some(p) => String::from_utf8_lossy(&name[p..]).into_owned(),
    }
}

/// How many `.cmd` files under the roots contain `words`: each build ran
/// its wrapper, or the comparison proves nothing.
pub fn naming(roots: &[PathBuf], words: &[u8]) -> anyhow::Result<usize> {
    fn walk(dir: &Path, words: &[u8], n: &mut usize) -> anyhow::Result<()> {
        for (name, t) in entries(dir).unwrap_or_default() {
            let p = dir.join(std::ffi::OsStr::from_bytes(&name));
            if t.is_dir() {
                walk(&p, words, n)?;
            } else if t.is_file() && is_cmd(&name) {
                // An unreadable one names nothing (and differs, above).
                let data = std::fs::read(&p).unwrap_or_default();
                if data.windows(words.len()).any(|w| w == words) {
                    *n += 1;
                }
            }
        }
        Ok(())
    }
    let mut n = 0;
    for r in roots {
        walk(r, words, &mut n)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(b".main.o.cmd"), ".cmd");
        assert_eq!(kind(b"auto.conf.cmd"), ".cmd");
        assert_eq!(kind(b".config"), ".config");
        assert_eq!(kind(b"Kbuild"), "(no suffix)");
        assert_eq!(kind(b"vmlinux.o"), ".o");
    }

    #[test]
    fn every_file_is_compared_and_cmd_files_less_the_words() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        for (rel, ta, tb) in [
            ("init/main.o", "same", "same"),
            ("lib/sort.s", "mov", "add"),
            (
                "init/.main.o.cmd",
                "savedcmd := /r/ref clang -c x\n",
                "savedcmd := shim clang -c x\n",
            ),
            (
                "lib/.sort.o.cmd",
                "savedcmd := /r/ref clang -c y\n",
                "savedcmd := shim clang -O1 -c y\n",
            ),
            (
                "big",
                &"x".repeat(200_000),
                &format!("{}y", "x".repeat(199_999)),
            ),
        ] {
            write(&a, rel, ta);
            write(&b, rel, tb);
        }
        write(&a, "only/ref.h", "");
        write(&a, "only/deep/er.h", "");
        write(&b, "extra.txt", "");
        std::os::unix::fs::symlink("x", a.join("ln")).unwrap();
        write(&a, "script", "same");
        write(&b, "script", "same");
        std::fs::set_permissions(
            a.join("script"),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
        std::fs::set_permissions(
            b.join("script"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        std::os::unix::fs::symlink("y", b.join("ln")).unwrap();
        let c = compare(
            &Side {
                root: &a,
                words: Some(b"/r/ref "),
            },
            &Side {
                root: &b,
                words: Some(b"shim "),
            },
            "",
            false,
        )
        .unwrap();
        assert_eq!(
            c.differing,
            [
                "big",
                "extra.txt (only in the shim build)",
                "lib/.sort.o.cmd (command line)",
                "lib/sort.s",
                "ln",
                "only (only in the reference build)",
                "script (mode 0644 in the reference build, 0755 in the shim build)",
            ]
        );
        assert_eq!(c.files(), 9);
        assert_eq!(c.kinds[".cmd"], 2);
        assert_eq!(c.kinds[".h"], 2);
        let plain = compare(
            &Side {
                root: &a,
                words: None,
            },
            &Side {
                root: &b,
                words: None,
            },
            "M=: ",
            true,
        )
        .unwrap();
        assert!(
            plain.differing.iter().all(|d| !d.contains(".cmd")),
            "{:?}",
            plain.differing
        );
        assert!(plain.differing.contains(&"M=: lib/sort.s".to_owned()));
        assert_eq!(naming(std::slice::from_ref(&a), b"/r/ref ").unwrap(), 2);
        assert_eq!(naming(&[a, b], b"shim ").unwrap(), 2);
    }
}
