//! The configurations `--demo` builds and what each must show.

use std::fmt::Write as _;

/// What a row adds to the plain tree build; each puts something on the Rust
/// IR compile that x86_64's flags alone do not (docs/kbuild-pipeline.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// `SUBDIR=1`: fs/foo, whose Kbuild says `subdir-ccflags-y += -I$(src)/include`.
    Subdir,
    /// `M=extmod`: an out-of-tree module whose Kbuild adds `-I…` and `-include …`.
    Extmod,
    /// `KCFLAGS=`[`KCFLAGS`] on the make command line.
    Kcflags,
}

/// What packagers pass for reproducible builds (Debian, Yocto): the debug
/// map is used on an IR compile, the macro map is not.
const KCFLAGS: &str = "-fdebug-prefix-map=/usr/src/linux=. -fmacro-prefix-map=/usr/src/linux=.";

impl Extra {
    pub fn text(self) -> &'static str {
        match self {
            Extra::None => "-",
            Extra::Subdir => "subdir-ccflags-y",
            Extra::Extmod => "M=extmod",
            Extra::Kcflags => "KCFLAGS",
        }
    }
    pub fn make_arg(self) -> Option<String> {
        match self {
            Extra::None => None,
            Extra::Subdir => Some("SUBDIR=1".into()),
            Extra::Extmod => Some("M=extmod".into()),
            Extra::Kcflags => Some(format!("KCFLAGS={KCFLAGS}")),
        }
    }
    /// The Rust object whose single-object `ld -r` step the row reports.
    pub fn rust_object(self) -> &'static str {
        match self {
            Extra::Subdir => "fs/foo/foo_rs.o",
            Extra::Extmod => "extmod/extmod_rs.o",
            Extra::None | Extra::Kcflags => "rust/foo.o",
        }
    }
}

/// One configuration of the mini tree, built with and without the shim.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub arch: &'static str,
    /// `RULES=`: "merged" (7.2+; the gating of the ld step is 7.1's) or "v2"
    /// (as posted, here on a 7.x tree: x86_64's ld lines carry 7.2's
    /// `--fatal-warnings`).
    pub rules: &'static str,
    pub extra: Extra,
    pub inline: bool,
    pub lto: bool,
}

impl Row {
    /// How the row is named in the verdict.
    pub fn label(&self) -> String {
        let mut s = self.arch.to_owned();
        if self.extra != Extra::None {
            let _ = write!(s, " {}", self.extra.text());
        }
        if !self.inline {
            let _ = write!(s, " {} INLINE=0", self.rules);
        }
        s
    }
    pub fn dir_name(&self, how: &str) -> String {
        let extra = match self.extra {
            Extra::None => "",
            Extra::Subdir => "-subdir",
            Extra::Extmod => "-extmod",
            Extra::Kcflags => "-kcflags",
        };
        format!(
            "{}-{}-inline{}-lto{}{extra}-{how}",
            self.arch,
            self.rules,
            u8::from(self.inline),
            u8::from(self.lto)
        )
    }
    /// What the shim build must show: inlining iff INLINE=1. With LTO the
    /// Rust object's `ld -r` runs iff INLINE=1; with INLINE=0, v2 still runs
    /// the step (the shim makes it a copy) and merged does not run it at all.
    pub fn expected_ld(&self) -> LdStep {
        match (self.lto, self.inline, self.rules) {
            (false, _, _) => LdStep::None,
            (true, true, _) => LdStep::Ran,
            (true, false, "v2") => LdStep::Copied,
            (true, false, _) => LdStep::None,
        }
    }
}

const fn row(arch: &'static str, extra: Extra) -> Row {
    Row {
        arch,
        rules: "merged",
        extra,
        inline: true,
        lto: true,
    }
}

/// Every ARCH with inlining on; x86_64 with what reaches the IR compile from
/// a directory, an external module and the make command line; and the ld
/// gate: inlining off under both rule sets.
pub const ROWS: [Row; 11] = [
    row("x86_64", Extra::None),
    row("arm", Extra::None),
    row("um", Extra::None),
    row("arm64", Extra::None),
    row("riscv", Extra::None),
    row("loongarch", Extra::None),
    row("x86_64", Extra::Subdir),
    row("x86_64", Extra::Extmod),
    row("x86_64", Extra::Kcflags),
    Row {
        arch: "x86_64",
        rules: "v2",
        extra: Extra::None,
        inline: false,
        lto: true,
    },
    Row {
        arch: "x86_64",
        rules: "merged",
        extra: Extra::None,
        inline: false,
        lto: true,
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdStep {
    Ran,
    Copied,
    None,
}

impl LdStep {
    pub fn text(self) -> &'static str {
        match self {
            LdStep::Ran => "ran",
            LdStep::Copied => "skipped-copy",
            LdStep::None => "not run",
        }
    }
}

pub struct Outcome {
    /// `Err(first error line, how many more error lines)`.
    pub plain: Result<(), (String, usize)>,
    pub shim: Result<(), (String, usize)>,
    /// `None` when the shim build failed; else verify-inline's verdict and
    /// its first FAIL line.
    pub inlined: Option<(bool, String)>,
    pub ld: LdStep,
}

impl Outcome {
    /// What went wrong in `row`, one line each; empty when the row behaved
    /// (the one check behind both the problem list and the verdict).
    pub fn problems(&self, row: &Row) -> Vec<String> {
        let what = row.label();
        let mut problems = Vec::new();
        if let Err((line, _)) = &self.shim {
            problems.push(format!("{what}: the shim build failed: {line}"));
        }
        if let Some((inlined, fail_line)) = &self.inlined {
            if *inlined != row.inline {
                let why = if *inlined {
                    "inlined, unexpectedly"
                } else {
                    fail_line
                };
                problems.push(format!("{what}: verify-inline: {why}"));
            }
        }
        if self.shim.is_ok() && self.ld != row.expected_ld() {
            problems.push(format!(
                "{what}: ld step for {}: {} (expected {})",
                row.extra.rust_object(),
                self.ld.text(),
                row.expected_ld().text()
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--help` lists the demo's arches; [`ROWS`] is where they are decided.
    #[test]
    fn help_names_the_demo_arches() {
        let help = include_str!("../../help.txt");
        let list = help.split("(ARCH=").nth(1).unwrap();
        let list: String = list[..list.find(';').unwrap()].split_whitespace().collect();
        let in_help: Vec<&str> = list.split(',').collect();
        let mut seen = Vec::new();
        for a in ROWS.iter().map(|r| r.arch) {
            if !seen.contains(&a) {
                seen.push(a);
            }
        }
        assert_eq!(in_help, seen);
    }
}
