//! object::is_rust_object (the ELF/bitcode reader) on arbitrary bytes, and
//! the file-based reader on the same bytes: no panic, bounded memory, and
//! both readers agree.
#![no_main]

use kbuild_shim::object;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let in_memory = object::is_rust_object(data);
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let from_file = object::is_rust_file(f.path()).unwrap();
    assert_eq!(in_memory, from_file);
});
