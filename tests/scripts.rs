//! The shell scripts users and packagers run are shellcheck-clean: POSIX sh,
//! except the kernel CI scripts (bash).

use crate::common;

use common::*;
use std::path::Path;

#[test]
fn shell_scripts_are_shellcheck_clean() {
    let shellcheck = real_tool("shellcheck");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let posix = [
        "wrapper-scripts/install-toolchain",
        "wrapper-scripts/install-rust-kernel",
        "wrapper-scripts/mkshimdir",
        "wrapper-scripts/kbuild-shim-cc",
        "wrapper-scripts/kbuild-shim-ld",
        "wrapper-scripts/kbuild-compare",
        "examples/minikbuild/check-inline.sh",
        "generators/gen-clang-arity",
        ".ci/clang-tables",
    ];
    for script in posix {
        let first = std::fs::read_to_string(root.join(script)).unwrap();
        assert!(
            first.starts_with("#!/bin/sh"),
            "{script} is not a POSIX sh script"
        );
        let o = run_in(root, &shellcheck, &["-s", "sh", script]);
        check(
            &o,
            &format!(
                "shellcheck -s sh {script}: {}",
                String::from_utf8_lossy(&o.stdout)
            ),
        );
    }
    for script in [".ci/run", ".ci/packaging", "packaging/build-rpm"] {
        let o = run_in(root, &shellcheck, &[script]);
        check(
            &o,
            &format!(
                "shellcheck {script}: {}",
                String::from_utf8_lossy(&o.stdout)
            ),
        );
    }
    // bash: arrays keep the kernel CI scripts short
    for script in [".ci/kernel-compare", ".ci/kernel-rust"] {
        let first = std::fs::read_to_string(root.join(script)).unwrap();
        assert!(
            first.starts_with("#!/usr/bin/env bash\n"),
            "{script} is not a bash script"
        );
        let o = run_in(root, &shellcheck, &["-s", "bash", script]);
        check(
            &o,
            &format!(
                "shellcheck -s bash {script}: {}",
                String::from_utf8_lossy(&o.stdout)
            ),
        );
    }
}

/// generators/gen-clang-ir-unused is python3 (value synthesis and the per-form
/// probes read better there than in sh): it must at least parse.
#[test]
fn python_tools_parse() {
    let python = real_tool("python3");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = "generators/gen-clang-ir-unused";
    let text = std::fs::read_to_string(root.join(script)).unwrap();
    assert!(
        text.starts_with("#!/usr/bin/env python3"),
        "{script} is not a python3 script"
    );
    let code = format!("import ast; ast.parse(open({script:?}).read(), {script:?})");
    check(
        &run_in(root, &python, &["-c", &code]),
        &format!("python3 parses {script}"),
    );
}

/// install-rust-kernel's own arguments: --help describes it, anything else is
/// a one-line error before anything is installed or fetched.
#[test]
fn install_rust_kernel_arguments() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("wrapper-scripts/install-rust-kernel");
    let o = run_in(root, &script, &["--help"]);
    check(&o, "install-rust-kernel --help");
    let help = String::from_utf8_lossy(&o.stdout);
    for word in [
        "rustc-web",
        "bindgen-cli",
        "linux-source-7.3",
        "--print-env",
    ] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
    let o = run_in(root, &script, &["--bogus"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "install-rust-kernel: error: unknown argument '--bogus' (try --help)\n"
    );
}

/// The masquerade links are listed once, `cli::MASQUERADE_LINKS`; each file
/// that must spell them out (make, the .deb, its CI check, mkshimdir, the
/// install test) spells the same names.
#[test]
fn masquerade_link_names_agree_with_the_one_list() {
    use kbuild_shim::cli::MASQUERADE_LINKS;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let want = sorted(MASQUERADE_LINKS.map(|n| n.replace("-N", "-22")).to_vec());
    let words = |line: &str| -> Vec<String> {
        line.split_whitespace()
            .map(|w| w.replace("$(LLVM_VER)", "22").replace("$v", "22"))
            .collect()
    };
    let line_after = |text: &str, start: &str, end: &str| -> String {
        let l = text.lines().find_map(|l| l.trim().strip_prefix(start));
        let l = l.unwrap_or_else(|| panic!("no line starting '{start}'"));
        l[..l.find(end).unwrap_or(l.len())].to_owned()
    };

    let make = read("Makefile");
    assert_eq!(
        sorted(words(&line_after(&make, "links = ", "#"))),
        want,
        "Makefile"
    );

    let deb: Vec<String> = read("Cargo.toml")
        .lines()
        .filter_map(|l| l.split("dest = \"usr/lib/kbuild-shim/bin/").nth(1))
        .map(|r| r[..r.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(
        sorted(deb),
        want,
        "Cargo.toml [package.metadata.deb] assets"
    );

    let ci = read(".ci/packaging");
    assert_eq!(
        sorted(words(&line_after(&ci, "for n in ", ";"))),
        want,
        ".ci/packaging"
    );

    let mk = read("wrapper-scripts/mkshimdir");
    let mut names = words(&line_after(&mk, "names='", "'"));
    names.extend(words(&line_after(
        &mk,
        "for v in $versions; do names=\"$names ",
        "\"",
    )));
    assert_eq!(sorted(names), want, "mkshimdir --version 22");

    let install = read("tests/install.rs");
    let list = line_after(&install, "const LINKS: [&str; 5] = [", "]");
    let names = list
        .split(',')
        .map(|w| w.trim().trim_matches('"').to_owned())
        .collect();
    assert_eq!(sorted(names), want, "tests/install.rs");
}
