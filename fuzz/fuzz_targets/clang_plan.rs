//! cc::plan on arbitrary argv: no panic, and the invariants of the
//! property tests (passthrough is byte-identical; a rewrite only removes
//! table options and appends the two flags; rewriting twice changes nothing).
#![no_main]

use kbuild_shim::{cc, Action};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

const ADDED: [&str; 2] = ["-Wno-override-module", "-Wno-unused-command-line-argument"];

fuzz_target!(|data: &[u8]| {
    // argv cannot contain NUL, so NUL separates the words; the first byte picks strict mode.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let args: Vec<OsString> = rest
        .split(|&b| b == 0)
        .map(|w| OsString::from_vec(w.to_vec()))
        .collect();
    let strict = mode & 1 == 1;
    let plan = cc::plan(args.clone(), strict);
    let Action::Exec { args: out } = &plan.action else {
        panic!("clang plans never copy");
    };
    if plan.fired.is_empty() {
        assert_eq!(out, &args, "an unchanged plan must be byte-identical");
        return;
    }
    // Removed words + kept words = input, order preserved.
    let removed: usize = plan.fired.iter().map(|f| f.removed.len()).sum();
    let added: usize = plan.fired.iter().map(|f| f.added.len()).sum();
    assert_eq!(out.len() + removed, args.len() + added);
    let kept = &out[..out.len() - added];
    let mut it = args.iter();
    for k in kept {
        assert!(it.any(|a| a == k), "kept words are an ordered subsequence");
    }
    // What is kept is a complete IR compile on its own: no option of it
    // takes an appended flag as its value.
    assert_eq!(cc::classify(kept), cc::CcClass::IrCompile, "{args:?}");
    for a in &out[out.len() - added..] {
        assert!(ADDED.iter().any(|x| a == x));
    }
    let again = cc::plan(out.clone(), strict);
    assert_eq!(&again.action, &plan.action, "not idempotent");
});
