//! The shell scripts users and packagers run are shellcheck-clean: POSIX sh,
//! except kbuild-compare and the CI scripts (bash).

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
    // bash: associative arrays and process substitution keep kbuild-compare short
    for script in [
        "wrapper-scripts/kbuild-compare",
        ".ci/kernel-compare",
        ".ci/kernel-rust",
    ] {
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
