//! The ld side: gate kbuild's single-object `ld -r` step for Rust objects.
//!
//! `cmd_ld_single` is `$(LD) $(ld_flags) -r -o dir/.tmp_foo.o dir/foo.o; mv …`.
//! With helper inlining off, the v2 patch still runs it for Rust objects; the
//! shim instead writes `.tmp_foo.o` as an exact copy of `foo.o`. Only when
//! the copy is what ld.lld would have made: every word understood
//! ([`allow`]), an ELF relocatable input of the `-m` machine. Anything else,
//! a C object, inlining on, an unknown state, or a command the shim cannot
//! classify: the real linker runs, unchanged, and says what it says.

pub mod allow;
pub mod options;
pub mod rsp;

use crate::kconfig::{self, Inline};
use crate::object::{inspect_file, Kind};
use crate::settings::Settings;
use crate::{Action, Fired, Plan};
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use options::{single_object, SingleObject};

pub const RULE_COPY: &str = "ld-single-copy";

/// Is `tool` (a name or a path) ld.lld? `ld.lld`, `ld.lld-22`,
/// `aarch64-linux-gnu-ld.lld`. kbuild runs `cmd_ld_single` only under
/// CONFIG_LTO_CLANG, which needs ld.lld; GNU ld (`ld`, `ld.bfd`) and gold
/// never get the copy, as the allow-list is lld-22's.
pub fn is_lld(tool: &OsStr) -> bool {
    let name = tool.as_bytes().rsplit(|&b| b == b'/').next().unwrap_or(b"");
    let stem = match name.iter().rposition(|&b| b == b'-') {
        Some(p) if name[p + 1..].iter().all(u8::is_ascii_digit) && p + 1 < name.len() => &name[..p],
        _ => name,
    };
    stem.ends_with(b"ld.lld")
}

/// The plan for an ld command run as `tool`; relative paths are relative to
/// `cwd` (`None`: the process's working directory).
pub fn plan(
    tool: &OsStr,
    args: Vec<OsString>,
    settings: &Settings,
    cwd: Option<&Path>,
) -> anyhow::Result<Plan> {
    let pass = |args, why: String| Ok(Plan::passthrough(args, why.into()));
    let single = match options::classify(&args, cwd) {
        Ok(Ok(s)) => s,
        Ok(Err(why)) => return pass(args, why),
        // An unreadable or looping @file: the linker reports it its own way.
        Err(e) => {
            let why = format!("cannot classify ({e:#}): the linker reports it");
            return pass(args, crate::one_line(&why));
        }
    };
    if !is_lld(tool) {
        return pass(args, "not ld.lld (the gate is for ld.lld only)".into());
    }
    let (state, source) = kconfig::inline_state(settings, cwd)?;
    match state {
        Inline::On => return pass(args, format!("inlining on ({source})")),
        Inline::Unknown => return pass(args, format!("inlining state unknown ({source})")),
        Inline::Off => {}
    }
    let input = match cwd {
        Some(c) => c.join(&single.input),
        None => single.input.clone(),
    };
    // Let the linker report a missing or unreadable input in its own words.
    let Ok((kind, rust)) = inspect_file(&input) else {
        return pass(args, "input unreadable: the linker reports it".into());
    };
    if !rust {
        return pass(
            args,
            "not a Rust object (C objects are never touched)".into(),
        );
    }
    match kind {
        Kind::Elf {
            etype: 1,
            machine,
            wide,
            le,
        } => {
            if single.emulation.is_some_and(|e| e != (machine, wide, le)) {
                return pass(
                    args,
                    "the input is not of the -m emulation: the linker reports it".into(),
                );
            }
        }
        // cmd_ld_single exists to turn IR into ELF for objtool and modpost.
        Kind::Bitcode => {
            return pass(args, "LLVM bitcode input: ld -r makes it ELF".into());
        }
        _ => return pass(args, "not an ELF relocatable object".into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lld_names() {
        for (name, lld) in [
            ("ld.lld", true),
            ("ld.lld-22", true),
            ("/usr/bin/ld.lld-22", true),
            ("aarch64-linux-gnu-ld.lld", true),
            ("ld", false),
            ("ld.bfd", false),
            ("ld.gold", false),
            ("x86_64-linux-gnu-ld", false),
            ("ld.lld-", false),
            ("ld.lld.sh", false),
        ] {
            assert_eq!(is_lld(OsStr::new(name)), lld, "{name}");
        }
    }
}
