//! `make install` / `make uninstall` into a temporary DESTDIR, the installed
//! masquerade directory against the real clang-22, and the man page.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LINKS: [&str; 5] = ["clang", "clang-22", "ld.lld", "ld.lld-22", "ld"];

fn make_in_root(args: &[&str]) {
    let o = Command::new(real_tool("make"))
        .arg("-C")
        .arg(ROOT)
        .arg("--no-print-directory")
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .unwrap();
    check(&o, &format!("make {args:?}"));
}

/// Every file and symlink under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn make_install_and_uninstall_into_destdir() {
    let clang = real_tool("clang-22");
    let dest = tempfile::tempdir().unwrap();
    let destdir = format!("DESTDIR={}", dest.path().display());
    make_in_root(&["install", "PREFIX=/usr", &destdir]);

    let usr = dest.path().join("usr");
    let mut want: Vec<PathBuf> = vec![
        "bin/kbuild-shim".into(),
        "share/doc/kbuild-shim/README.md".into(),
        "share/man/man1/kbuild-shim.1".into(),
    ];
    want.extend(
        LINKS
            .iter()
            .map(|n| PathBuf::from("lib/kbuild-shim/bin").join(n)),
    );
    want.sort();
    assert_eq!(files(&usr), want);
    for n in LINKS {
        let link = usr.join("lib/kbuild-shim/bin").join(n);
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new("../../../bin/kbuild-shim"),
            "{n}"
        );
    }
    let installed = usr.join("bin/kbuild-shim");
    let o = Command::new(&installed).arg("--version").output().unwrap();
    check(&o, "installed --version");
    assert_eq!(
        stdout(&o),
        format!("kbuild-shim {}\n", env!("CARGO_PKG_VERSION"))
    );

    // The installed masquerade directory, first in PATH, reaches the real clang.
    let bin = usr.join("lib/kbuild-shim/bin");
    let o = Command::new(bin.join("clang-22"))
        .arg("--version")
        .env("PATH", path_with(&[&bin, clang.parent().unwrap()]))
        .env_remove("KBUILD_SHIM_DEPTH")
        .output()
        .unwrap();
    check(&o, "installed clang-22 link");
    assert!(stdout(&o).contains("clang version 22"), "{}", stdout(&o));

    make_in_root(&["uninstall", "PREFIX=/usr", &destdir]);
    assert_eq!(files(&usr), Vec::<PathBuf>::new());
    assert!(!usr.join("lib/kbuild-shim").exists());
}

#[test]
fn the_man_page_renders_cleanly_and_covers_every_option_and_variable() {
    let page = Path::new(ROOT).join("kbuild-shim.1");
    let o = Command::new(real_tool("groff"))
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    check(&o, "groff");
    assert_eq!(stderr(&o), "", "groff warnings");
    let o = Command::new(real_tool("groff"))
        .args(["-man", "-Tascii", "-P", "-cbou"])
        .arg(&page)
        .output()
        .unwrap();
    check(&o, "groff -Tascii");
    let text = stdout(&o);
    let help = std::fs::read_to_string(Path::new(ROOT).join("src/help.txt")).unwrap();
    let settings = std::fs::read_to_string(Path::new(ROOT).join("src/settings.rs")).unwrap();
    let vars: Vec<&str> = settings
        .lines()
        .filter_map(|l| l.strip_prefix("pub const ENV_")?.split('"').nth(1))
        .collect();
    assert!(vars.len() >= 7, "{vars:?}");
    for word in [
        "--explain",
        "--doctor",
        "--kernel",
        "--report",
        "--demo",
        "--keep",
        "--help",
        "--version",
    ]
    .iter()
    .chain(&vars)
    {
        assert!(text.contains(word), "man page lacks {word}");
        assert!(help.contains(word), "--help lacks {word}");
    }
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "ENVIRONMENT",
        "EXIT STATUS",
    ] {
        assert!(text.lines().any(|l| l == section), "no section {section}");
    }
}
