//! `kbuild-shim --doctor [--kernel DIR]`: one line per check, `ok`, `warn`
//! or `FAIL`, about the tools the shim would run (found exactly as the shim
//! finds them), the rustc kbuild would run and its LLVM against clang's, PATH
//! loops, and the kernel object tree's configuration: the rustc it was
//! configured with, its rule set, what reaches its IR compile. Exit 0 only
//! when nothing FAILs.
//!
//! One file per concern: `chain` (the tools the shim would run and how make
//! reaches them), `rustc` (the rustc kbuild runs against the one the tree
//! was configured with), `kernel` (the object tree's configuration and the
//! per-ARCH problems), `rules` (which Rust rules its Makefile.build has),
//! `cflags` (what puts preprocessor options on the IR compile).

mod cflags;
mod chain;
mod kernel;
mod rules;
mod rustc;

use crate::kconfig::AUTO_CONF;
use crate::settings::Settings;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The tools the shim runs or the kernel's Rust rules use, by base name.
/// All three read rustc's bitcode (IR compiles, llvm-link, LTO links), so
/// each needs rustc's LLVM major.
const TOOLS: [&str; 3] = ["clang", "ld.lld", "llvm-link"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// The checks' findings, in order.
pub struct Findings {
    lines: Vec<(Level, String)>,
}

impl Findings {
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.lines.push((level, text.into()));
    }
}

/// Runs every check, prints the lines, and returns the exit code (0 or 1).
pub fn run(kernel: Option<&Path>) -> anyhow::Result<u8> {
    let mut r = Findings { lines: Vec::new() };
    let settings = match Settings::from_lookup(|k| std::env::var_os(k)) {
        Ok(s) => s,
        Err(e) => {
            r.say(Level::Fail, format!("{e:#}"));
            // Go on with plain PATH so the remaining checks still say something.
            Settings::from_lookup(|k| (k == "PATH").then(|| std::env::var_os(k)).flatten())?
        }
    };
    let dir = kernel.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let recorded = rustc::Recorded::read(&dir.join(AUTO_CONF));
    let rustc = rustc::check_rustc(&mut r, &recorded);
    for base in TOOLS {
        chain::check_tool(&mut r, base, rustc.as_ref(), &settings);
    }
    chain::check_llvm_var(&mut r);
    kernel::check_kernel(&mut r, kernel, &settings, &recorded);
    let mut out = std::io::stdout().lock();
    for (level, text) in &r.lines {
        let tag = match level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        writeln!(out, "{tag} {text}")?;
    }
    Ok(u8::from(r.lines.iter().any(|(l, _)| *l == Level::Fail)))
}
