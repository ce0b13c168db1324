//! Shared helpers for the integration tests: the built binary, a recording
//! fake tool, real-tool lookup that fails (never skips) when a tool is missing.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SHIM: &str = env!("CARGO_BIN_EXE_kbuild-shim");

/// The real tool `name` from PATH. A missing tool fails the test with the
/// command that installs it: these tests are never skipped.
pub fn real_tool(name: &str) -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    let hint = match name {
        "make" | "ccache" | "distcc" | "shellcheck" => format!("apt-get install -y {name}"),
        "distccd" => "apt-get install -y distcc".to_owned(),
        "icecc" | "iceccd" | "icecc-scheduler" => "apt-get install -y icecc".to_owned(),
        "groff" => "apt-get install -y groff-base".to_owned(),
        "python3" => "apt-get install -y python3".to_owned(),
        "rustc" => "install Rust with rustup (rustc 1.95, LLVM 22)".to_owned(),
        _ => {
            // clang-22 → clang-22, ld.lld-22 → lld-22, llvm-nm-22 → llvm-22
            let v = name.rsplit_once('-').map_or("22", |(_, v)| v);
            let pkg = match name {
                n if n.starts_with("clang") => format!("clang-{v}"),
                n if n.starts_with("ld.lld") => format!("lld-{v}"),
                _ => format!("llvm-{v}"),
            };
            format!("apt-get install -y {pkg}, or run wrapper-scripts/install-toolchain")
        }
    };
    panic!("'{name}' is not installed: {hint}");
}

/// Fails the test (naming the Debian packages) unless every tool the mini
/// kbuild tree uses is installed.
pub fn need_minikbuild_tools() {
    for t in [
        "clang-22",
        "ld.lld-22",
        "llvm-link-22",
        "llvm-objdump-22",
        "llvm-nm-22",
        "make",
        "rustc",
    ] {
        real_tool(t);
    }
}

pub const MINI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/minikbuild");

/// A fresh copy of examples/minikbuild (the files its FILES lists, modes kept).
pub fn mini_tree(parent: &Path, name: &str) -> PathBuf {
    let dest = parent.join(name);
    let list = std::fs::read_to_string(Path::new(MINI).join("FILES")).unwrap();
    for f in list.lines().filter(|l| !l.trim().is_empty()) {
        let to = dest.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(MINI).join(f), &to).unwrap();
    }
    dest
}

/// `make -C dir ARGS…` with none of the caller's make or kbuild-shim settings.
pub fn make(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut c = Command::new("make");
    c.arg("-C").arg(dir).arg("--no-print-directory").args(args);
    for (k, _) in std::env::vars_os() {
        let b = k.as_bytes();
        if b.starts_with(b"KBUILD_SHIM_")
            || [&b"MAKEFLAGS"[..], b"MFLAGS", b"MAKELEVEL", b"GNUMAKEFLAGS"].contains(&b)
        {
            c.env_remove(&k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

/// `CC=… LD=…` for the mini tree through the shim (prefix mode).
pub fn shim_tools() -> [String; 2] {
    [
        format!("CC={SHIM} clang-22"),
        format!("LD={SHIM} ld.lld-22"),
    ]
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lines of a build's stderr that are compiler/linker errors.
pub fn error_lines(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.contains(": error: "))
        .map(str::to_owned)
        .collect()
}

pub fn is_elf(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(b"\x7fELF")
}

/// A fresh directory of recording fake tools: each writes its argv (NUL
/// separated, argv[0] first) to `$KBUILD_SHIM_TEST_RECORD` and exits 0.
pub fn fake_tools(names: &[&str]) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("fake-tools.")
        .tempdir()
        .unwrap();
    for n in names {
        write_exe(
            &d.path().join(n),
            "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > \"$KBUILD_SHIM_TEST_RECORD\"\n",
        );
    }
    d
}

pub fn write_exe(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Reads what a fake tool recorded: argv[0], then the arguments.
pub fn read_record(path: &Path) -> Option<Vec<OsString>> {
    let data = std::fs::read(path).ok()?;
    let mut v: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|s| OsString::from_vec(s.to_vec()))
        .collect();
    v.pop(); // after the last NUL
    Some(v)
}

/// Runs `kbuild-shim <tool> args…` against the recording fake tools in
/// `tools` (see [`fake_tools`]); checks it succeeded and that the fake
/// `tool` ran, and returns the arguments it received (argv[1..]).
pub fn run_recorded(tools: &Path, tool: &str, args: &[OsString]) -> Vec<OsString> {
    let rec = tools.join(format!("{tool}.record"));
    let _ = std::fs::remove_file(&rec);
    let o = shim()
        .arg(tool)
        .args(args)
        .env("PATH", tools)
        .env("KBUILD_SHIM_TEST_RECORD", &rec)
        .output()
        .unwrap();
    check(&o, &format!("kbuild-shim {tool} ({} args)", args.len()));
    let mut got = read_record(&rec).unwrap_or_else(|| panic!("the fake {tool} did not run"));
    assert_eq!(
        got.remove(0),
        tools.join(tool).as_os_str(),
        "ran the wrong {tool}"
    );
    got
}

/// A masquerade dir: `names` as symlinks to the built shim.
pub fn shim_dir(names: &[&str]) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("shimbin.")
        .tempdir()
        .unwrap();
    for n in names {
        std::os::unix::fs::symlink(SHIM, d.path().join(n)).unwrap();
    }
    d
}

/// PATH with `first` in front of the test process's own PATH.
pub fn path_with(first: &[&Path]) -> OsString {
    let mut dirs: Vec<PathBuf> = first.iter().map(|p| p.to_path_buf()).collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// A `Command` for the shim with none of the caller's `KBUILD_SHIM_*` settings.
pub fn shim() -> Command {
    let mut c = Command::new(SHIM);
    for (k, _) in std::env::vars_os() {
        if k.as_bytes().starts_with(b"KBUILD_SHIM_") {
            c.env_remove(k);
        }
    }
    c
}

pub fn words(s: &[&str]) -> Vec<OsString> {
    s.iter().map(OsString::from).collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn check(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// Runs `cmd` (a program and arguments) in `dir`, returning its output.
pub fn run_in(dir: &Path, program: impl AsRef<OsStr>, args: &[impl AsRef<OsStr>]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Builds a Rust object with the real rustc (rustc records `rustc version`
/// in `.comment`), a host `#![no_std]` library with one function.
pub fn rust_object(dir: &Path, name: &str) -> PathBuf {
    let src = dir.join("fixture_lib.rs");
    std::fs::write(&src, "#![no_std]\n#[no_mangle]\npub extern \"C\" fn fixture_fn(x: u32) -> u32 { x.wrapping_mul(3) }\n").unwrap();
    let out = dir.join(name);
    let o = Command::new("rustc")
        .args([
            "--crate-type=lib",
            "--emit=obj",
            "-Cpanic=abort",
            "-Copt-level=2",
            "-o",
        ])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    check(&o, "rustc fixture");
    out
}

/// Builds a C object with `cc` (the machine's gcc): no `rustc version` in it.
pub fn c_object(dir: &Path, name: &str) -> PathBuf {
    let src = dir.join("fixture_c.c");
    std::fs::write(&src, "int fixture_c(int x) { return x * 3; }\n").unwrap();
    let out = dir.join(name);
    let o = Command::new("cc")
        .args(["-c", "-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    check(&o, "cc fixture");
    out
}
