//! kbuild-shim: a clang/ld wrapper for Linux builds with `CONFIG_RUST_INLINE_HELPERS`.
//!
//! The binary classifies one command and then either `exec`s the real tool
//! (unchanged, or with an IR-input compile rewritten) or, for the gated
//! single-object `ld -r` step, copies the object. docs/architecture.md has
//! the layout and its one rule: the hot path never imports [`tools`].
//!
//! The hot path, in call order:
//! - [`shim`]: the policy of one call, behind a [`host::Host`];
//! - [`cli`]: argv[0] / prefix mode, the tool's role, every own option;
//! - [`settings`]: the `KBUILD_SHIM_*` environment, validated once;
//! - [`path_search`]: the shim's identity and the one PATH search;
//! - [`cc`]: the clang option table, the one tokenizer, the IR-input rewrite;
//! - [`ld`]: the ld option table, response files, the `cmd_ld_single` gate;
//! - [`object`]: is an ELF or bitcode object rustc's?;
//! - [`kconfig`]: whether helper inlining is on (env or `auto.conf`);
//! - [`launcher`]: `KBUILD_SHIM_LAUNCHER` (ccache, distcc, … in front of clang);
//! - [`explain`]: `--explain` and log rendering of a plan;
//! - [`report`]: `KBUILD_SHIM_REPORT` JSON lines;
//! - [`exec`] and [`copy`]: handing over with `execv`, or the atomic copy.
//!
//! Off the hot path: [`tools`] (`--demo`, `--doctor`, `--report` summary).

pub mod cc;
pub mod cli;
pub mod copy;
pub mod exec;
pub mod explain;
pub mod host;
pub mod kconfig;
pub mod launcher;
pub mod ld;
pub mod object;
pub mod path_search;
pub mod report;
pub mod settings;
pub mod shim;
pub mod tools;

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// Exit codes of the shim's own failures (the real tool's codes pass through `exec`).
pub mod code {
    /// The gated copy failed (as a failed link would).
    pub const FAILED: u8 = 1;
    /// Usage errors, bad input, loops: as `make` and shells use 2.
    pub const USAGE: u8 = 2;
    /// The real tool exists but could not be executed (shell convention).
    pub const CANNOT_EXEC: u8 = 126;
    /// The real tool was not found (shell convention).
    pub const NOT_FOUND: u8 = 127;
}

/// An error that carries the exit code the shim should leave with.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Builds an `anyhow::Error` that exits with `code`.
pub fn fail(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure {
        code,
        message: message.into(),
    })
}

/// The exit code for an error: the innermost [`Failure`]'s, else [`code::USAGE`].
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map_or(code::USAGE, |f| f.code)
}

/// Prints `kbuild-shim: ERROR` and returns the exit code the error carries.
pub fn print_error(e: &anyhow::Error) -> u8 {
    eprintln!("kbuild-shim: {e:#}");
    exit_code_of(e)
}

/// `text` with control characters escaped: a plan's reason is a `# …` line
/// of `--explain`'s shell script, and a newline in a file name must not end
/// it. Here, beside [`Plan`], because `ld` and `ld::options` both write reasons.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// One rule that fired, with what it did. `rule` is the stable name shown in
/// logs, `--explain` output and golden tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: &'static str,
    pub removed: Vec<OsString>,
    pub added: Vec<OsString>,
    /// Free-form detail (e.g. why the ld gate decided as it did).
    pub note: String,
}

impl Fired {
    pub fn new(rule: &'static str) -> Self {
        Fired {
            rule,
            removed: Vec::new(),
            added: Vec::new(),
            note: String::new(),
        }
    }
}

/// What the shim will do instead of (or as) the real command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run the real tool with these arguments (argv[1..]).
    Exec { args: Vec<OsString> },
    /// Produce `to` as an exact copy of `from`; the linker is not run.
    Copy { from: PathBuf, to: PathBuf },
}

/// The decision for one invocation: the action and the rules that fired.
/// An empty `fired` with `Action::Exec` means "byte-identical passthrough".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub action: Action,
    pub fired: Vec<Fired>,
    /// Why this plan (for logs and `--explain`), e.g. "an input is not LLVM IR".
    pub why: Cow<'static, str>,
}

impl Plan {
    pub fn passthrough(args: Vec<OsString>, why: Cow<'static, str>) -> Self {
        Plan {
            action: Action::Exec { args },
            fired: Vec::new(),
            why,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_stay_on_one_line() {
        assert_eq!(super::one_line("a 'b'\nc\td"), "a 'b'\\nc\\td");
    }
}
