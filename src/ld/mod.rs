//! The ld side: gate kbuild's single-object `ld -r` step for Rust objects.
//!
//! `cmd_ld_single` is `$(LD) $(ld_flags) -r -o dir/.tmp_foo.o dir/foo.o; mv …`.
//! With helper inlining off, the v2 patch still runs it for Rust objects; the
//! shim instead writes `.tmp_foo.o` as an exact copy of `foo.o`. Anything that
//! is not exactly that shape, a C object, inlining on or an unknown state:
//! the real linker runs, unchanged.

pub mod options;
pub mod rsp;

use crate::kconfig::{self, Inline};
use crate::object::is_rust_file;
use crate::settings::Settings;
use crate::{Action, Fired, Plan};
use std::borrow::Cow;
use std::ffi::OsString;
use std::path::Path;

pub use options::{single_object, SingleObject, LD_SEPARATE};

pub const RULE_COPY: &str = "ld-single-copy";

/// The plan for an ld command; relative paths are relative to `cwd`
/// (`None`: the process's working directory).
pub fn plan(args: Vec<OsString>, settings: &Settings, cwd: Option<&Path>) -> anyhow::Result<Plan> {
    let Some(single) = single_object(&args, cwd)? else {
        return Ok(Plan::passthrough(
            args,
            "not the single-object ld -r step".into(),
        ));
    };
    let (state, source) = kconfig::inline_state(settings, cwd)?;
    match state {
        Inline::On => {
            return Ok(Plan::passthrough(
                args,
                format!("inlining on ({source})").into(),
            ))
        }
        Inline::Unknown => {
            return Ok(Plan::passthrough(
                args,
                format!("inlining state unknown ({source})").into(),
            ))
        }
        Inline::Off => {}
    }
    let input = match cwd {
        Some(c) => c.join(&single.input),
        None => single.input.clone(),
    };
    let rust = match is_rust_file(&input) {
        Ok(r) => r,
        // Let the linker report a missing or unreadable input in its own words.
        Err(_) => {
            return Ok(Plan::passthrough(
                args,
                "input unreadable: the linker reports it".into(),
            ))
        }
    };
    if !rust {
        return Ok(Plan::passthrough(
            args,
            "not a Rust object (C objects are never touched)".into(),
        ));
    }
    let mut fired = Fired::new(RULE_COPY);
    fired.note = format!("Rust object, inlining off ({source}): copy instead of ld -r");
    Ok(Plan {
        action: Action::Copy {
            from: single.input,
            to: single.output,
        },
        fired: vec![fired],
        why: Cow::Borrowed("single-object ld -r of a Rust object with inlining off"),
    })
}
