//! ld::single_object and ld::rsp::tokenize_gnu: no panic, no hang, and a gated
//! shape always names an output `.tmp_NAME` next to its input `NAME`.
#![no_main]

use kbuild_shim::ld;
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

fuzz_target!(|data: &[u8]| {
    // The tokenizer on the raw bytes (a response file's text).
    let words = ld::rsp::tokenize_gnu(data);
    assert!(words.len() <= data.len() / 2 + 1);
    // The shape match on NUL-separated words. `@file` would read the fuzzing
    // machine's files (even /dev/zero), so those words are neutralised here;
    // the expansion itself is the tokenizer above plus a unit-tested loop.
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|w| {
            let mut w = w.to_vec();
            if w.first() == Some(&b'@') {
                w[0] = b'%';
            }
            OsString::from_vec(w)
        })
        .collect();
    if let Some(s) = ld::single_object(&args, None).expect("no file is read") {
        let (i, o) = (s.input.file_name().unwrap(), s.output.file_name().unwrap());
        assert_eq!(s.output.parent(), s.input.parent());
        assert_eq!(o.as_bytes(), [b".tmp_", i.as_bytes()].concat());
        assert!(args
            .iter()
            .any(|a| a == "-r" || a == "--relocatable" || a == "-relocatable"));
    }
});
