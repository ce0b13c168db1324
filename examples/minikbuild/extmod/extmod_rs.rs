// SPDX-License-Identifier: GPL-2.0
//! The Rust object of the out-of-tree module extmod (see rust/foo.rs for
//! why `#![no_core]`). A module object: kbuild links it against
//! helpers_module.bc, the only one defining `rust_helper_module_only`.
#![feature(no_core, lang_items)]
#![no_core]
#![allow(internal_features)]

#[lang = "pointee_sized"]
pub trait PointeeSized {}
#[lang = "meta_sized"]
pub trait MetaSized: PointeeSized {}
#[lang = "sized"]
pub trait Sized: MetaSized {}
#[lang = "copy"]
pub trait Copy {}
impl Copy for u32 {}

extern "C" {
    fn rust_helper_add(a: u32, b: u32) -> u32;
    fn rust_helper_module_only(x: u32) -> u32;
    fn rust_helper_noinline_mix(x: u32) -> u32;
}

/// Calls always_inline helpers: must contain no call after inlining.
#[no_mangle]
pub extern "C" fn rust_uses_helper(a: u32, b: u32) -> u32 {
    unsafe { rust_helper_add(rust_helper_module_only(a), b) }
}

/// Calls the negative-control helper: the call must remain.
#[no_mangle]
pub extern "C" fn rust_uses_noinline_helper(x: u32) -> u32 {
    unsafe { rust_helper_noinline_mix(x) }
}
