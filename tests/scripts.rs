//! The shell scripts users and packagers run are shellcheck-clean: POSIX sh,
//! except kbuild-compare and the CI scripts (bash).

mod common;

use common::*;
use std::path::Path;

#[test]
fn shell_scripts_are_shellcheck_clean() {
    let shellcheck = real_tool("shellcheck");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let posix = [
        "wrapper-scripts/install-toolchain",
        "wrapper-scripts/mkshimdir",
        "wrapper-scripts/kbuild-shim-cc",
        "wrapper-scripts/kbuild-shim-ld",
        "examples/minikbuild/check-inline.sh",
        "tools/gen-clang-arity",
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
    // bash: associative arrays and process substitution keep kbuild-compare short
    for script in ["wrapper-scripts/kbuild-compare", ".ci/kernel-compare"] {
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
    let o = run_in(root, &shellcheck, &[".ci/run"]);
    check(
        &o,
        &format!("shellcheck .ci/run: {}", String::from_utf8_lossy(&o.stdout)),
    );
}
