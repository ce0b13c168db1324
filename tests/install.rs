//! `make install` / `make uninstall` into a temporary DESTDIR, the installed
//! masquerade directory against the real clang-22, installing a pre-built
//! binary with no cargo in PATH (as `sudo make install` does), and the man page.

use crate::common;

use common::*;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const LINKS: [&str; 5] = ["clang", "clang-22", "ld.lld", "ld.lld-22", "ld"];

fn make_in_root(args: &[&str]) {
    let o = make_in_root_with(args, &[]);
    check(&o, &format!("make {args:?}"));
}

/// `make -C ROOT args…` with `env` set. CARGO (cargo test sets it to its own
/// path, and the Makefile honours it) and CARGO_TARGET_DIR are unset unless given.
fn make_in_root_with(args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut c = Command::new(real_tool("make"));
    c.arg("-C")
        .arg(ROOT)
        .arg("--no-print-directory")
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("CARGO")
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// The test's PATH with no `cargo` in it, as root's PATH under sudo when Rust
/// came from rustup. A directory holding cargo is replaced by a mirror of it
/// without cargo, not dropped: cargo may share a directory with make and the
/// shell tools (Debian's /usr/bin/cargo from cargo-web), wherever it lives.
/// The mirror lives as long as the returned directory.
fn path_without_cargo() -> (tempfile::TempDir, OsString) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mirrors = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .enumerate()
        .map(|(i, d)| {
            if !d.join("cargo").exists() {
                return d;
            }
            let m = mirrors.path().join(i.to_string());
            std::fs::create_dir(&m).unwrap();
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_name() != "cargo" {
                    std::os::unix::fs::symlink(e.path(), m.join(e.file_name())).unwrap();
                }
            }
            m
        })
        .collect();
    assert!(
        dirs.iter().any(|d| d.join("make").is_file()),
        "no make in PATH"
    );
    assert!(!dirs.iter().any(|d| d.join("cargo").exists()), "{dirs:?}");
    (mirrors, std::env::join_paths(dirs).unwrap())
}

/// `path` written relative to ROOT (with `..` up to `/`), as a packager's
/// `BIN=../build/kbuild-shim` would be.
fn relative_to_root(path: &Path) -> String {
    let root = Path::new(ROOT).canonicalize().unwrap();
    let path = path.canonicalize().unwrap();
    let ups = "../".repeat(root.components().count() - 1);
    format!("{ups}{}", path.strip_prefix("/").unwrap().display())
}

/// A copy of the binary under test, standing in for a pre-built release binary.
fn prebuilt(dir: &Path) -> PathBuf {
    let bin = dir.join("prebuilt-kbuild-shim");
    std::fs::copy(SHIM, &bin).unwrap();
    bin
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
    make_in_root(&["install", "PREFIX=/usr", &destdir, &format!("BIN={SHIM}")]);

    let usr = dest.path().join("usr");
    let want = installed_files();
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
fn install_takes_a_prebuilt_relative_bin_with_no_cargo_in_path() {
    let dest = tempfile::tempdir().unwrap();
    let bin = prebuilt(dest.path());
    let rel = relative_to_root(&bin);
    assert!(!rel.starts_with('/'));
    let (_mirrors, path) = path_without_cargo();
    let o = make_in_root_with(
        &[
            "install",
            "PREFIX=/usr",
            &format!("DESTDIR={}", dest.path().display()),
            &format!("BIN={rel}"),
        ],
        &[("PATH", &path)],
    );
    check(&o, "make install BIN=relative without cargo");
    assert!(!stdout(&o).contains("cargo"), "{}", stdout(&o));
    let installed = dest.path().join("usr/bin/kbuild-shim");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&bin).unwrap()
    );
    let o = Command::new(&installed).arg("--version").output().unwrap();
    check(&o, "installed --version");
}

#[test]
fn uninstall_removes_the_links_of_any_llvm_ver() {
    let dest = tempfile::tempdir().unwrap();
    let bin = prebuilt(dest.path());
    let destdir = format!("DESTDIR={}", dest.path().display());
    let bin = format!("BIN={}", bin.display());
    make_in_root(&["install", "PREFIX=/usr", &destdir, &bin, "LLVM_VER=21"]);
    let shimdir = dest.path().join("usr/lib/kbuild-shim/bin");
    for n in ["clang-21", "ld.lld-21"] {
        assert!(shimdir.join(n).is_symlink(), "{n}");
    }
    // Without LLVM_VER (so 22): the -21 links must go too.
    make_in_root(&["uninstall", "PREFIX=/usr", &destdir]);
    assert_eq!(files(&dest.path().join("usr")), Vec::<PathBuf>::new());
    assert!(!dest.path().join("usr/lib/kbuild-shim").exists());

    // A file of the user's in the masquerade directory is kept, and so is the directory.
    make_in_root(&["install", "PREFIX=/usr", &destdir, &bin, "LLVM_VER=21"]);
    std::os::unix::fs::symlink("/usr/bin/clang-19", shimdir.join("clang-19")).unwrap();
    make_in_root(&["uninstall", "PREFIX=/usr", &destdir, "LLVM_VER=21"]);
    assert_eq!(
        files(&dest.path().join("usr")),
        vec![PathBuf::from("lib/kbuild-shim/bin/clang-19")]
    );
}

#[test]
fn a_missing_binary_with_no_cargo_is_a_one_line_error() {
    let dest = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let (_mirrors, path) = path_without_cargo();
    let destdir = format!("DESTDIR={}", dest.path().display());
    let o = make_in_root_with(
        &["install", "PREFIX=/usr", &destdir],
        &[
            ("PATH", &path),
            ("CARGO_TARGET_DIR", empty.path().as_os_str()),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let want = format!(
        " *** {}/release/kbuild-shim is missing and 'cargo' is not in PATH: \
         build it first (cargo build --release) or set BIN=/path/to/kbuild-shim.  Stop.\n",
        empty.path().display()
    );
    assert_one_line_error(&o, &want);
    assert_eq!(stdout(&o), "");

    let o = make_in_root_with(
        &[
            "install",
            "PREFIX=/usr",
            &destdir,
            "BIN=no/such/kbuild-shim",
        ],
        &[],
    );
    assert_one_line_error(&o, " *** BIN=no/such/kbuild-shim does not exist.  Stop.\n");
    assert_eq!(files(dest.path()), Vec::<PathBuf>::new());
}

/// make failed with exit 2 and one stderr line `Makefile:N:` + `tail`.
fn assert_one_line_error(o: &Output, tail: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let rest = err
        .strip_prefix("Makefile:")
        .unwrap_or_else(|| panic!("{err}"));
    let (line, rest) = rest.split_once(':').unwrap();
    assert!(line.parse::<u32>().is_ok(), "{err}");
    assert_eq!(rest, tail);
}

#[test]
fn a_missing_default_binary_is_built_with_cargo_when_cargo_is_there() {
    // A recording cargo that "builds" by copying the binary under test.
    let dest = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let target = dest.path().join("target");
    write_exe(
        &tools.path().join("cargo"),
        &format!(
            "#!/bin/sh\nmkdir -p \"$CARGO_TARGET_DIR/release\"\n\
             printf '%s\\n' \"$*\" > \"$CARGO_TARGET_DIR/cargo.args\"\n\
             cp '{SHIM}' \"$CARGO_TARGET_DIR/release/kbuild-shim\"\n"
        ),
    );
    let (_mirrors, without) = path_without_cargo();
    let mut dirs = vec![tools.path().to_path_buf()];
    dirs.extend(std::env::split_paths(&without));
    let path = std::env::join_paths(dirs).unwrap();
    let o = make_in_root_with(
        &[
            "install",
            "PREFIX=/usr",
            &format!("DESTDIR={}", dest.path().join("root").display()),
        ],
        &[("PATH", &path), ("CARGO_TARGET_DIR", target.as_os_str())],
    );
    check(&o, "make install with a missing default binary");
    assert_eq!(
        std::fs::read_to_string(target.join("cargo.args")).unwrap(),
        "build --release --locked\n"
    );
    assert!(dest.path().join("root/usr/bin/kbuild-shim").is_file());
    // Present now: a second install does not call cargo again.
    std::fs::remove_file(target.join("cargo.args")).unwrap();
    let o = make_in_root_with(
        &[
            "install",
            "PREFIX=/usr",
            &format!("DESTDIR={}", dest.path().join("root").display()),
        ],
        &[("PATH", &path), ("CARGO_TARGET_DIR", target.as_os_str())],
    );
    check(&o, "second make install");
    assert!(!target.join("cargo.args").exists());
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

/// Issue 18.2: `make install`/`uninstall` quote every path. A DESTDIR with a
/// space (as makepkg's and rpmbuild's build roots can have) used to be split:
/// install created the second word's directories inside the source checkout
/// and then failed, and uninstall ran `rm -f` on the split words (here a
/// decoy file named like the first word). PREFIX and BIN with a space and a
/// quote go through the same way, and a newline is refused before anything
/// is written.
#[test]
fn install_and_uninstall_quote_paths_with_spaces() {
    let tmp = tempfile::tempdir().unwrap();
    let split = format!("kbuild-shim-split-{}", std::process::id());
    let dest = tmp.path().join(format!("pkg {split}/dest"));
    let decoy = tmp.path().join("pkg");
    let bin = prebuilt(tmp.path());
    let in_root = Path::new(ROOT).join(&split);
    let cleanup = |what: &str| {
        if in_root.exists() {
            let _ = std::fs::remove_dir_all(&in_root);
            panic!(
                "{what} wrote {} inside the source checkout",
                in_root.display()
            );
        }
    };
    for prefix in ["/usr", "/opt/kbuild shim's"] {
        let destdir = format!("DESTDIR={}", dest.display());
        let prefix_arg = format!("PREFIX={prefix}");
        let o = make_in_root_with(
            &[
                "install",
                &prefix_arg,
                &destdir,
                &format!("BIN={}", bin.display()),
            ],
            &[],
        );
        cleanup("make install");
        check(&o, &format!("make install {prefix_arg} {destdir}"));
        let root = dest.join(prefix.trim_start_matches('/'));
        let want = installed_files();
        assert_eq!(files(&root), want, "{prefix}");
        assert_eq!(
            std::fs::read(root.join("bin/kbuild-shim")).unwrap(),
            std::fs::read(&bin).unwrap()
        );
        for n in LINKS {
            assert_eq!(
                std::fs::canonicalize(root.join("lib/kbuild-shim/bin").join(n)).unwrap(),
                std::fs::canonicalize(root.join("bin/kbuild-shim")).unwrap(),
                "{prefix}: {n}"
            );
        }

        std::fs::write(&decoy, "not the package's").unwrap();
        let o = make_in_root_with(&["uninstall", &prefix_arg, &destdir], &[]);
        cleanup("make uninstall");
        check(&o, &format!("make uninstall {prefix_arg} {destdir}"));
        assert_eq!(files(&root), Vec::<PathBuf>::new(), "{prefix}");
        assert!(!root.join("lib/kbuild-shim").exists());
        assert_eq!(
            std::fs::read_to_string(&decoy).unwrap(),
            "not the package's",
            "uninstall removed a file named like a split word"
        );
    }

    // BIN with a space and a quote is installed as it is.
    let bin_dir = tmp.path().join("my bin's");
    std::fs::create_dir(&bin_dir).unwrap();
    let spaced = bin_dir.join("kbuild shim");
    std::fs::copy(&bin, &spaced).unwrap();
    let d = tempfile::tempdir().unwrap();
    let o = make_in_root_with(
        &[
            "install",
            "PREFIX=/usr",
            &format!("DESTDIR={}", d.path().display()),
            &format!("BIN={}", spaced.display()),
        ],
        &[],
    );
    check(&o, "make install BIN='…/my bin's/kbuild shim'");
    assert!(d.path().join("usr/bin/kbuild-shim").is_file());

    // A newline cannot be quoted on a make recipe line: one line, nothing written.
    for var in ["DESTDIR", "PREFIX", "BIN"] {
        let d = tempfile::tempdir().unwrap();
        let mut args = vec![
            format!("DESTDIR={}", d.path().display()),
            "PREFIX=/usr".into(),
            format!("BIN={}", bin.display()),
        ];
        for a in &mut args {
            if a.starts_with(&format!("{var}=")) {
                a.push_str("\nx");
            }
        }
        for target in ["install", "uninstall"] {
            let mut all = vec![target];
            all.extend(args.iter().map(String::as_str));
            let o = make_in_root_with(&all, &[]);
            assert_one_line_error(
                &o,
                &format!(
                    " *** {var} contains a newline, which make cannot hand to the shell.  Stop.\n"
                ),
            );
            assert_eq!(files(d.path()), Vec::<PathBuf>::new(), "{var} {target}");
        }
    }
}

/// What `make install` puts under the prefix, sorted: the binary, the docs
/// and one masquerade link per name.
fn installed_files() -> Vec<PathBuf> {
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
    want
}
