//! The mini kbuild tree `--demo` builds, embedded in the binary, and
//! writing it out.

use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The mini tree, one entry per line of examples/minikbuild/FILES:
/// (path, mode, contents). A unit test keeps the two lists equal.
const TREE: &[(&str, u32, &[u8])] = &[
    (
        "Makefile",
        0o644,
        include_bytes!("../../../examples/minikbuild/Makefile"),
    ),
    (
        "helpers.c",
        0o644,
        include_bytes!("../../../examples/minikbuild/helpers.c"),
    ),
    (
        "cfile.c",
        0o644,
        include_bytes!("../../../examples/minikbuild/cfile.c"),
    ),
    (
        "rust/foo.rs",
        0o644,
        include_bytes!("../../../examples/minikbuild/rust/foo.rs"),
    ),
    (
        "include/compiler-stub.h",
        0o644,
        include_bytes!("../../../examples/minikbuild/include/compiler-stub.h"),
    ),
    (
        "check-inline.sh",
        0o755,
        include_bytes!("../../../examples/minikbuild/check-inline.sh"),
    ),
    (
        "fs/foo/Kbuild",
        0o644,
        include_bytes!("../../../examples/minikbuild/fs/foo/Kbuild"),
    ),
    (
        "fs/foo/include/foo.h",
        0o644,
        include_bytes!("../../../examples/minikbuild/fs/foo/include/foo.h"),
    ),
    (
        "fs/foo/foo_rs.rs",
        0o644,
        include_bytes!("../../../examples/minikbuild/fs/foo/foo_rs.rs"),
    ),
    (
        "fs/foo/foo_super.c",
        0o644,
        include_bytes!("../../../examples/minikbuild/fs/foo/foo_super.c"),
    ),
    (
        "extmod/Kbuild",
        0o644,
        include_bytes!("../../../examples/minikbuild/extmod/Kbuild"),
    ),
    (
        "extmod/include/extmod.h",
        0o644,
        include_bytes!("../../../examples/minikbuild/extmod/include/extmod.h"),
    ),
    (
        "extmod/include/extmod-config.h",
        0o644,
        include_bytes!("../../../examples/minikbuild/extmod/include/extmod-config.h"),
    ),
    (
        "extmod/extmod_rs.rs",
        0o644,
        include_bytes!("../../../examples/minikbuild/extmod/extmod_rs.rs"),
    ),
    (
        "extmod/extmod_c.c",
        0o644,
        include_bytes!("../../../examples/minikbuild/extmod/extmod_c.c"),
    ),
];

/// Marks a directory as written by `--demo`, so `--keep` may replace it.
pub const MARKER: &str = ".kbuild-shim-demo";

pub fn write_tree(dir: &Path) -> anyhow::Result<()> {
    for (path, mode, data) in TREE {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create '{}'", parent.display()))?;
        }
        std::fs::write(&p, data).with_context(|| format!("cannot write '{}'", p.display()))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode))
            .with_context(|| format!("cannot chmod '{}'", p.display()))?;
    }
    std::fs::write(dir.join(MARKER), b"written by kbuild-shim --demo\n")
        .with_context(|| format!("cannot write in '{}'", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tree_matches_files_list() {
        let listed: Vec<&str> = include_str!("../../../examples/minikbuild/FILES")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let embedded: Vec<&str> = TREE.iter().map(|t| t.0).collect();
        assert_eq!(embedded, listed);
        // The modes follow the files in the repository (check-inline.sh is executable).
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minikbuild");
        for (path, mode, data) in TREE {
            let meta = std::fs::metadata(root.join(path)).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o111 != 0,
                mode & 0o111 != 0,
                "{path}"
            );
            assert_eq!(std::fs::read(root.join(path)).unwrap(), *data, "{path}");
        }
    }
}
