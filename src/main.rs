//! kbuild-shim: see README.md. Turns argc/argv into a call of the library.
//!
//! `no_main`: this C `main` skips Rust's runtime set-up (stack-guard probing
//! through /proc/self/maps, a signal stack, SIGPIPE juggling), about ten
//! syscalls per call that a wrapper exec'ing the real tool never needs.
#![no_main]

use kbuild_shim::{host::OsHost, shim, tools};
use std::ffi::{c_char, c_int, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;

#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // argv from main itself: std::env::args reads a copy that only glibc
    // hands over (to .init_array); built for musl it would be empty.
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C runtime passes argc valid NUL-terminated strings.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsStr::from_bytes(arg.to_bytes()).to_owned()
        })
        .collect();
    let code = match shim::main(&OsHost, args) {
        shim::Exit::Code(c) => c,
        shim::Exit::Tool(t) => tools::run(t),
    };
    // Without Rust's runtime nobody flushes stdout at exit.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    c_int::from(code)
}
