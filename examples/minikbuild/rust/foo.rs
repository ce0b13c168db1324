// SPDX-License-Identifier: GPL-2.0
//! Mini Rust object calling C helpers. `#![no_core]`: no prebuilt `core`
//! exists for the cross targets here, so the few lang items are defined below.
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
impl Copy for u64 {}

extern "C" {
    fn rust_helper_add(a: u32, b: u32) -> u32;
    fn rust_helper_rotl(x: u32, n: u32) -> u32;
    fn rust_helper_mul_wide(a: u32, b: u32) -> u64;
    fn rust_helper_noinline_mix(x: u32) -> u32;
}

/// Calls an always_inline helper: must contain no call after inlining.
#[no_mangle]
pub extern "C" fn rust_uses_helper(a: u32, b: u32) -> u32 {
    unsafe { rust_helper_add(a, b) }
}

#[no_mangle]
pub extern "C" fn rust_uses_helpers2(x: u32, n: u32) -> u64 {
    unsafe { rust_helper_mul_wide(rust_helper_rotl(x, n), n) }
}

/// Calls the negative-control helper: the call must remain.
#[no_mangle]
pub extern "C" fn rust_uses_noinline_helper(x: u32) -> u32 {
    unsafe { rust_helper_noinline_mix(x) }
}
