//! `kbuild-shim --demo [--keep DIR]`: builds the embedded mini kbuild tree
//! (examples/minikbuild) for each ARCH and for what else reaches the Rust IR
//! compile (subdir-ccflags-y, an `M=` module, KCFLAGS), once with plain clang
//! and once through this binary, and shows in a table what the shim fixes:
//! the IR-compile errors, helper inlining, and the single-object `ld -r`
//! under v2 as posted and the merged rules (the mini tree's default,
//! RULES=merged, is the 7.2+ text: docs/kbuild-rules.md).

use super::toolchain::{find_in, major_of, rustc_versions, version_of, Tool};
use crate::path_search::SelfId;
use crate::{code, explain, fail, ld};
use anyhow::Context;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The mini tree, one entry per line of examples/minikbuild/FILES:
/// (path, mode, contents). A unit test keeps the two lists equal.
const TREE: &[(&str, u32, &[u8])] = &[
    (
        "Makefile",
        0o644,
        include_bytes!("../../examples/minikbuild/Makefile"),
    ),
    (
        "helpers.c",
        0o644,
        include_bytes!("../../examples/minikbuild/helpers.c"),
    ),
    (
        "cfile.c",
        0o644,
        include_bytes!("../../examples/minikbuild/cfile.c"),
    ),
    (
        "rust/foo.rs",
        0o644,
        include_bytes!("../../examples/minikbuild/rust/foo.rs"),
    ),
    (
        "include/compiler-stub.h",
        0o644,
        include_bytes!("../../examples/minikbuild/include/compiler-stub.h"),
    ),
    (
        "check-inline.sh",
        0o755,
        include_bytes!("../../examples/minikbuild/check-inline.sh"),
    ),
    (
        "fs/foo/Kbuild",
        0o644,
        include_bytes!("../../examples/minikbuild/fs/foo/Kbuild"),
    ),
    (
        "fs/foo/include/foo.h",
        0o644,
        include_bytes!("../../examples/minikbuild/fs/foo/include/foo.h"),
    ),
    (
        "fs/foo/foo_rs.rs",
        0o644,
        include_bytes!("../../examples/minikbuild/fs/foo/foo_rs.rs"),
    ),
    (
        "fs/foo/foo_super.c",
        0o644,
        include_bytes!("../../examples/minikbuild/fs/foo/foo_super.c"),
    ),
    (
        "extmod/Kbuild",
        0o644,
        include_bytes!("../../examples/minikbuild/extmod/Kbuild"),
    ),
    (
        "extmod/include/extmod.h",
        0o644,
        include_bytes!("../../examples/minikbuild/extmod/include/extmod.h"),
    ),
    (
        "extmod/include/extmod-config.h",
        0o644,
        include_bytes!("../../examples/minikbuild/extmod/include/extmod-config.h"),
    ),
    (
        "extmod/extmod_rs.rs",
        0o644,
        include_bytes!("../../examples/minikbuild/extmod/extmod_rs.rs"),
    ),
    (
        "extmod/extmod_c.c",
        0o644,
        include_bytes!("../../examples/minikbuild/extmod/extmod_c.c"),
    ),
];

/// Marks a directory as written by `--demo`, so `--keep` may replace it.
const MARKER: &str = ".kbuild-shim-demo";

/// The LLVM tools the tree uses (base name, make variable, Debian package prefix).
const LLVM_TOOLS: [(&str, &str, &str); 5] = [
    ("clang", "CC", "clang"),
    ("ld.lld", "LD", "lld"),
    ("llvm-link", "LLVM_LINK", "llvm"),
    ("llvm-objdump", "LLVM_OBJDUMP", "llvm"),
    ("llvm-nm", "LLVM_NM", "llvm"),
];

/// What the demo builds with: rustc, and LLVM tools of rustc's LLVM major
/// (`RUSTC_CLANG_LLVM_COMPATIBLE`), in [`LLVM_TOOLS`] order.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub rustc: Tool,
    pub rustc_llvm: String,
    pub major: u32,
    pub llvm: Vec<Tool>,
    pub make: PathBuf,
}

/// Finds rustc, make and the LLVM tools in `search` (a PATH value).
pub fn discover(search: &OsStr) -> anyhow::Result<Toolchain> {
    let me = SelfId::current();
    let me = me.as_ref();
    let Some(rustc) = find_in(search, "rustc", me) else {
        return Err(fail(
            code::NOT_FOUND,
            "--demo needs rustc, which is not in PATH: install Rust (e.g. with rustup); \
             its LLVM version decides which clang-N, lld-N and llvm-N packages to install",
        ));
    };
    let (release, rustc_llvm) = rustc_versions(&rustc)?;
    let Some(major) = major_of(&rustc_llvm) else {
        return Err(fail(
            code::USAGE,
            format!("cannot read rustc's LLVM version '{rustc_llvm}'"),
        ));
    };
    let mut llvm = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut packages: Vec<String> = Vec::new();
    for (base, _, pkg) in LLVM_TOOLS {
        let versioned = format!("{base}-{major}");
        // The versioned name first, as LLVM=-N would; an unversioned tool
        // only if it is the same LLVM major.
        let found = [versioned.as_str(), base].into_iter().find_map(|name| {
            let path = find_in(search, name, me)?;
            let version = version_of(&path)?;
            (major_of(&version) == Some(major)).then_some(Tool { path, version })
        });
        match found {
            Some(t) => llvm.push(t),
            None => {
                missing.push(versioned);
                let pkg = format!("{pkg}-{major}");
                if !packages.contains(&pkg) {
                    packages.push(pkg);
                }
            }
        }
    }
    let make = find_in(search, "make", me);
    if make.is_none() {
        missing.push("make".into());
        packages.push("make".into());
    }
    if let (Some(make), true) = (make, missing.is_empty()) {
        return Ok(Toolchain {
            rustc: Tool {
                path: rustc,
                version: release,
            },
            rustc_llvm,
            major,
            llvm,
            make,
        });
    }
    Err(fail(
        code::NOT_FOUND,
        format!(
            "--demo needs LLVM {major} tools to match rustc {release} (LLVM {rustc_llvm}); \
             not found in PATH: {}\ninstall them with: apt-get install -y {}",
            missing.join(", "),
            packages.join(" ")
        ),
    ))
}

impl Toolchain {
    /// One line: which tools, where, which versions.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "toolchain: rustc {} (LLVM {}) at {}; ",
            self.rustc.version,
            self.rustc_llvm,
            self.rustc.path.display()
        );
        let dirs: Vec<_> = self.llvm.iter().map(|t| t.path.parent()).collect();
        let same_dir = dirs.iter().all(|d| *d == dirs[0]);
        let same_version = self.llvm.iter().all(|t| t.version == self.llvm[0].version);
        let names: Vec<String> = self
            .llvm
            .iter()
            .map(|t| {
                let shown = if same_dir {
                    t.path.file_name().unwrap_or_default().to_string_lossy()
                } else {
                    t.path.to_string_lossy()
                };
                if same_version {
                    shown.into_owned()
                } else {
                    format!("{shown} ({})", t.version)
                }
            })
            .collect();
        if same_version {
            let _ = write!(s, "LLVM {} tools: ", self.llvm[0].version);
        }
        match dirs[0] {
            Some(d) if same_dir => {
                let _ = write!(s, "{}/{{{}}}", d.display(), names.join(","));
            }
            _ => s.push_str(&names.join(" ")),
        }
        s
    }
}

/// What a row adds to the plain tree build; each puts something on the Rust
/// IR compile that x86_64's flags alone do not (docs/kbuild-pipeline.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
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
    fn text(self) -> &'static str {
        match self {
            Extra::None => "-",
            Extra::Subdir => "subdir-ccflags-y",
            Extra::Extmod => "M=extmod",
            Extra::Kcflags => "KCFLAGS",
        }
    }
    fn make_arg(self) -> Option<String> {
        match self {
            Extra::None => None,
            Extra::Subdir => Some("SUBDIR=1".into()),
            Extra::Extmod => Some("M=extmod".into()),
            Extra::Kcflags => Some(format!("KCFLAGS={KCFLAGS}")),
        }
    }
    /// The Rust object whose single-object `ld -r` step the row reports.
    fn rust_object(self) -> &'static str {
        match self {
            Extra::Subdir => "fs/foo/foo_rs.o",
            Extra::Extmod => "extmod/extmod_rs.o",
            Extra::None | Extra::Kcflags => "rust/foo.o",
        }
    }
}

/// One configuration of the mini tree, built with and without the shim.
#[derive(Debug, Clone, Copy)]
struct Row {
    arch: &'static str,
    /// `RULES=`: "merged" (7.2+; the gating of the ld step is 7.1's) or "v2"
    /// (as posted, here on a 7.x tree: x86_64's ld lines carry 7.2's
    /// `--fatal-warnings`).
    rules: &'static str,
    extra: Extra,
    inline: bool,
    lto: bool,
}

impl Row {
    /// How the row is named in the verdict.
    fn label(&self) -> String {
        let mut s = self.arch.to_owned();
        if self.extra != Extra::None {
            let _ = write!(s, " {}", self.extra.text());
        }
        if !self.inline {
            let _ = write!(s, " {} INLINE=0", self.rules);
        }
        s
    }
    fn dir_name(&self, how: &str) -> String {
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
    fn expected_ld(&self) -> LdStep {
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
const ROWS: [Row; 11] = [
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
enum LdStep {
    Ran,
    Copied,
    None,
}

impl LdStep {
    fn text(self) -> &'static str {
        match self {
            LdStep::Ran => "ran",
            LdStep::Copied => "skipped-copy",
            LdStep::None => "not run",
        }
    }
}

struct Outcome {
    /// `Err(first error line, how many more error lines)`.
    plain: Result<(), (String, usize)>,
    shim: Result<(), (String, usize)>,
    /// `None` when the shim build failed; else verify-inline's verdict and
    /// its first FAIL line.
    inlined: Option<(bool, String)>,
    ld: LdStep,
}

impl Outcome {
    fn as_expected(&self, row: &Row) -> bool {
        self.shim.is_ok()
            && self.inlined.as_ref().map(|i| i.0) == Some(row.inline)
            && self.ld == row.expected_ld()
    }
}

/// The first compiler/linker error line of a failed build, and how many more.
fn first_error(out: &Output) -> (String, usize) {
    let text = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(": error: ")).collect();
    if let Some(first) = errors.first() {
        return (first.trim().to_owned(), errors.len() - 1);
    }
    let other = text
        .lines()
        .find(|l| l.starts_with("kbuild-shim: "))
        .or_else(|| text.lines().rfind(|l| !l.trim().is_empty()));
    let line = other.map_or_else(|| format!("failed: {}", out.status), str::to_owned);
    (line, 0)
}

/// What plain clang broke on, for the verdict: the quoted argument of an
/// "argument unused" error, else the shortened error line.
fn broke_on(line: &str) -> String {
    const UNUSED: &str = "argument unused during compilation: '";
    line.find(UNUSED)
        .map(|p| &line[p + UNUSED.len()..])
        .and_then(|rest| rest.find('\'').map(|q| format!("'{}'", &rest[..q])))
        .unwrap_or_else(|| cell(line, 0))
}

/// What the shim's own log (KBUILD_SHIM_LOG=info) says about the Rust
/// object `obj`'s single-object step: the gate's copy, the real linker, or
/// neither (kbuild did not run it).
fn ld_step(stderr: &[u8], obj: &str) -> LdStep {
    let text = String::from_utf8_lossy(stderr);
    let tmp = match obj.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.tmp_{name}"),
        None => format!("./.tmp_{obj}"),
    };
    // The line the shim logs for its copy (the same renderer as --explain).
    let copy = explain::copy_command(Path::new(obj), Path::new(&tmp));
    let copy = String::from_utf8_lossy(&copy);
    let copy_rule = format!("# rule {}:", ld::RULE_COPY);
    // Lines, not pairs of lines: with make -j2 another shim's log lines may
    // come between the copy and its rule line.
    let lines: Vec<&str> = text.lines().collect();
    let copied =
        lines.iter().any(|l| l.ends_with(&*copy)) && lines.iter().any(|l| l.contains(&copy_rule));
    if copied {
        return LdStep::Copied;
    }
    let ran = lines
        .iter()
        .any(|l| l.starts_with("kbuild-shim[INFO]: cd ") && l.contains(&format!(" -o {tmp} ")));
    if ran {
        LdStep::Ran
    } else {
        LdStep::None
    }
}

fn quote(p: &Path) -> String {
    let s = p.to_string_lossy();
    shlex::try_quote(&s).map_or_else(|_| s.to_string(), |q| q.into_owned())
}

fn write_tree(dir: &Path) -> anyhow::Result<()> {
    for (path, mode, data) in TREE {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create '{}'", parent.display()))?;
        }
        std::fs::write(&p, data).with_context(|| format!("cannot write '{}'", p.display()))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode))
            .with_context(|| format!("cannot chmod '{}'", p.display()))?;
    }
    std::fs::write(dir.join(MARKER), b"written by kbuild-shim --demo\n")
        .with_context(|| format!("cannot write in '{}'", dir.display()))
}

struct Builder<'a> {
    tools: &'a Toolchain,
    shim: PathBuf,
}

impl Builder<'_> {
    /// `make -C dir VARS… targets`, hermetic: none of the caller's make or
    /// kbuild-shim settings leak in; the shim logs only when `log` is set.
    fn make(
        &self,
        dir: &Path,
        row: &Row,
        shim: bool,
        log: bool,
        target: &str,
    ) -> anyhow::Result<Output> {
        let mut cmd = Command::new(&self.tools.make);
        for (k, _) in std::env::vars_os() {
            let k_str = k.to_string_lossy();
            if k_str.starts_with("KBUILD_SHIM_")
                || [
                    "MAKEFLAGS",
                    "MFLAGS",
                    "MAKELEVEL",
                    "MAKEFILES",
                    "GNUMAKEFLAGS",
                ]
                .contains(&k_str.as_ref())
            {
                cmd.env_remove(&k);
            }
        }
        if log {
            cmd.env(crate::settings::ENV_LOG, "info");
        }
        cmd.arg("-C")
            .arg(dir)
            .args(["-j2", "--no-print-directory"])
            .arg(format!("ARCH={}", row.arch))
            .arg(format!("RULES={}", row.rules))
            .arg(format!("INLINE={}", u8::from(row.inline)))
            .arg(format!("LTO={}", u8::from(row.lto)))
            .args(row.extra.make_arg())
            .arg(format!("RUSTC={}", quote(&self.tools.rustc.path)));
        for ((_, var, _), tool) in LLVM_TOOLS.iter().zip(&self.tools.llvm) {
            // verify-inline puts these two in single quotes itself.
            let value = match *var {
                "LLVM_OBJDUMP" | "LLVM_NM" => tool.path.to_string_lossy().into_owned(),
                _ => quote(&tool.path),
            };
            let value = match (*var, shim) {
                ("CC" | "LD", true) => format!("{} {value}", quote(&self.shim)),
                _ => value,
            };
            cmd.arg(format!("{var}={value}"));
        }
        cmd.arg(target).stdin(Stdio::null());
        cmd.output()
            .with_context(|| format!("cannot run '{}'", self.tools.make.display()))
    }

    fn row(&self, top: &Path, row: &Row) -> anyhow::Result<Outcome> {
        let plain_dir = top.join(row.dir_name("plain"));
        write_tree(&plain_dir)?;
        let out = self.make(&plain_dir, row, false, false, "all")?;
        let plain = if out.status.success() {
            Ok(())
        } else {
            Err(first_error(&out))
        };
        let shim_dir = top.join(row.dir_name("shim"));
        write_tree(&shim_dir)?;
        let out = self.make(&shim_dir, row, true, true, "all")?;
        let ld = ld_step(&out.stderr, row.extra.rust_object());
        if !out.status.success() {
            return Ok(Outcome {
                plain,
                shim: Err(first_error(&out)),
                inlined: None,
                ld,
            });
        }
        let v = self.make(&shim_dir, row, true, false, "verify-inline")?;
        let stdout = String::from_utf8_lossy(&v.stdout);
        let first_fail = stdout
            .lines()
            .find(|l| l.starts_with("FAIL"))
            .map_or_else(|| first_error(&v).0, str::to_owned);
        Ok(Outcome {
            plain,
            shim: Ok(()),
            inlined: Some((v.status.success(), first_fail)),
            ld,
        })
    }
}

/// Where the trees go: a temporary directory removed at the end, or
/// `--keep DIR` (subdirectories left by an earlier `--demo` are replaced;
/// anything else there is an error, never deleted).
enum Place {
    Temp(tempfile::TempDir),
    Keep(PathBuf),
}

impl Place {
    fn new(keep: Option<&Path>) -> anyhow::Result<Place> {
        let Some(dir) = keep else {
            let t = tempfile::Builder::new()
                .prefix("kbuild-shim-demo.")
                .tempdir()
                .context("cannot create a temporary directory")?;
            return Ok(Place::Temp(t));
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            fail(
                code::USAGE,
                format!("--keep: cannot create '{}': {e}", dir.display()),
            )
        })?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("--keep: cannot resolve '{}'", dir.display()))?;
        let subdirs: Vec<PathBuf> = ROWS
            .iter()
            .flat_map(|r| [r.dir_name("plain"), r.dir_name("shim")])
            .map(|n| dir.join(n))
            .collect();
        if let Some(foreign) = subdirs
            .iter()
            .find(|d| d.symlink_metadata().is_ok() && !d.join(MARKER).is_file())
        {
            return Err(fail(
                code::USAGE,
                format!(
                    "--keep: '{}' exists and was not written by --demo; \
                     choose another DIR",
                    foreign.display()
                ),
            ));
        }
        for d in subdirs.iter().filter(|d| d.exists()) {
            std::fs::remove_dir_all(d)
                .with_context(|| format!("--keep: cannot replace '{}'", d.display()))?;
        }
        Ok(Place::Keep(dir))
    }

    fn path(&self) -> &Path {
        match self {
            Place::Temp(t) => t.path(),
            Place::Keep(p) => p,
        }
    }
}

/// Shortens a clang error line for a table cell: the `[-Werror,…]` tail goes
/// first, then the middle of anything still too long.
fn cell(line: &str, more: usize) -> String {
    const MAX: usize = 90;
    let mut s = line.to_owned();
    if s.chars().count() > MAX {
        if let Some(p) = s.rfind(" [-W") {
            s.truncate(p);
        }
    }
    if s.chars().count() > MAX {
        s = s.chars().take(MAX - 1).collect::<String>() + "…";
    }
    if more > 0 {
        let _ = write!(s, " (+{more} more)");
    }
    s
}

fn table(rows: &[(Row, Outcome)]) -> String {
    const HEAD: [&str; 9] = [
        "arch",
        "rules",
        "extra",
        "INLINE",
        "LTO",
        "shim",
        "inlined",
        "Rust ld -r",
        "plain clang",
    ];
    let mut lines: Vec<[String; 9]> = vec![HEAD.map(str::to_owned)];
    // Plain clang's first errors go below the table, so it fits 100 columns.
    let mut notes = Vec::new();
    for (row, o) in rows {
        let shim = if o.shim.is_ok() { "ok" } else { "FAILED" };
        let inlined = match &o.inlined {
            None => "-",
            Some((true, _)) => "yes",
            Some((false, _)) => "no",
        };
        let plain = match &o.plain {
            Ok(()) => "ok".to_owned(),
            Err((line, more)) => {
                notes.push(cell(line, *more));
                format!("FAILED [{}]", notes.len())
            }
        };
        lines.push([
            row.arch.into(),
            row.rules.into(),
            row.extra.text().into(),
            u8::from(row.inline).to_string(),
            u8::from(row.lto).to_string(),
            shim.into(),
            inlined.into(),
            o.ld.text().into(),
            plain,
        ]);
    }
    let mut width = [0usize; 9];
    for l in &lines {
        for (w, c) in width.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let mut line = String::new();
        for (c, w) in l.iter().zip(width) {
            let _ = write!(line, "{c:<w$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("\nplain clang's first error:\n");
        for (i, n) in notes.iter().enumerate() {
            let _ = writeln!(out, "[{}] {n}", i + 1);
        }
    }
    out
}

/// `text` in lines of at most `width` columns, continuation lines indented.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = "  ".to_owned();
        }
        if !line.is_empty() && line != "  " {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Builds every row, two at a time (each make runs `-j2`): the rows are
/// independent trees, and most of a row's time is spent waiting on rustc.
fn build_rows(builder: &Builder<'_>, top: &Path) -> anyhow::Result<Vec<(Row, Outcome)>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, anyhow::Result<Outcome>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(row) = ROWS.get(i) else { break };
                        mine.push((i, builder.row(top, row)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a --demo build thread panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter()
        .map(|(i, o)| o.map(|o| (ROWS[i], o)))
        .collect()
}

/// The verdict when every row behaved: what plain clang broke on, where it
/// passed, and what the shim proved.
fn verdict_ok(results: &[(Row, Outcome)]) -> String {
    let mut broke = Vec::new();
    let mut passed = Vec::new();
    for (row, o) in results {
        match &o.plain {
            Err((line, _)) => broke.push(format!("{} ({})", row.label(), broke_on(line))),
            Ok(()) => passed.push(row.label()),
        }
    }
    let plain = match (broke.is_empty(), passed.is_empty()) {
        (true, _) => "plain clang passed everywhere".to_owned(),
        (false, true) => format!("plain clang broke on {}", broke.join(", ")),
        (false, false) => format!(
            "plain clang broke on {} and passed on {}",
            broke.join(", "),
            passed.join(", ")
        ),
    };
    format!(
        "verdict: OK: {plain}; with the shim all {} builds pass, inlining is proven in every \
         INLINE=1 build, and with INLINE=0 the Rust ld -r is a copy under RULES=v2 and not run \
         under merged",
        results.len()
    )
}

/// Runs the demo; the exit code says whether the shim did its job everywhere.
pub fn run(keep: Option<&Path>) -> anyhow::Result<u8> {
    let tools = discover(&std::env::var_os("PATH").unwrap_or_default())?;
    let shim = std::env::current_exe().context("cannot find the kbuild-shim binary itself")?;
    let place = Place::new(keep)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", tools.describe())?;
    writeln!(
        stdout,
        "building examples/minikbuild {} ways, each with plain clang-{} and through {} ...",
        ROWS.len(),
        tools.major,
        shim.display()
    )?;
    stdout.flush()?;
    let builder = Builder {
        tools: &tools,
        shim,
    };
    let results = build_rows(&builder, place.path())?;
    writeln!(stdout)?;
    write!(stdout, "{}", table(&results))?;
    writeln!(stdout)?;
    let mut problems = Vec::new();
    for (row, o) in &results {
        let what = row.label();
        if let Err((line, _)) = &o.shim {
            problems.push(format!("{what}: the shim build failed: {line}"));
        }
        if let Some((inlined, fail_line)) = &o.inlined {
            if *inlined != row.inline {
                let why = if *inlined {
                    "inlined, unexpectedly"
                } else {
                    fail_line
                };
                problems.push(format!("{what}: verify-inline: {why}"));
            }
        }
        if o.shim.is_ok() && o.ld != row.expected_ld() {
            problems.push(format!(
                "{what}: ld step for {}: {} (expected {})",
                row.extra.rust_object(),
                o.ld.text(),
                row.expected_ld().text()
            ));
        }
    }
    let ok = results.iter().all(|(r, o)| o.as_expected(r));
    if ok {
        write!(stdout, "{}", wrap(&verdict_ok(&results), 100))?;
    } else {
        for p in &problems {
            writeln!(stdout, "  {p}")?;
        }
        writeln!(
            stdout,
            "verdict: FAILED: {} of {} configurations did not behave as expected",
            results.iter().filter(|(r, o)| !o.as_expected(r)).count(),
            results.len()
        )?;
    }
    match &place {
        Place::Keep(dir) => writeln!(
            stdout,
            "trees kept in {} (ARCH-RULES-inlineI-ltoL[-extra]-plain|shim)",
            dir.display()
        )?,
        Place::Temp(_) if !ok => writeln!(
            stdout,
            "(rerun with --demo --keep DIR to inspect the build trees)"
        )?,
        Place::Temp(_) => {}
    }
    Ok(if ok { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tree_matches_files_list() {
        let listed: Vec<&str> = include_str!("../../examples/minikbuild/FILES")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let embedded: Vec<&str> = TREE.iter().map(|t| t.0).collect();
        assert_eq!(embedded, listed);
        // The modes follow the files in the repository (check-inline.sh is executable).
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minikbuild");
        for (path, mode, data) in TREE {
            let meta = std::fs::metadata(root.join(path)).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o111 != 0,
                mode & 0o111 != 0,
                "{path}"
            );
            assert_eq!(std::fs::read(root.join(path)).unwrap(), *data, "{path}");
        }
    }

    #[test]
    fn table_cells() {
        let arm = "clang-22: error: argument unused during compilation: '-U arm' \
                   [-Werror,-Wunused-command-line-argument]";
        assert_eq!(
            cell(arm, 0),
            "clang-22: error: argument unused during compilation: '-U arm'"
        );
        assert_eq!(cell("short", 2), "short (+2 more)");
        assert_eq!(cell(&"x".repeat(200), 0).chars().count(), 90);
    }

    fn fake(dir: &Path, name: &str, stdout: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\nprintf '%s\\n' '{stdout}'\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Discovery against fake tools (scripts that print a version). All in
    /// one test: writing and then running scripts from parallel tests can
    /// hit ETXTBSY.
    #[test]
    fn discovery() {
        let d = tempfile::tempdir().unwrap();
        let search = d.path().as_os_str();
        let err = discover(search).unwrap_err();
        assert_eq!(crate::exit_code_of(&err), code::NOT_FOUND);
        assert!(err.to_string().contains("needs rustc"), "{err}");

        fake(
            d.path(),
            "rustc",
            "rustc 1.95.0\nrelease: 1.95.0\nLLVM version: 22.1.2",
        );
        let err = discover(search).unwrap_err().to_string();
        assert!(
            err.ends_with("install them with: apt-get install -y clang-22 lld-22 llvm-22 make"),
            "{err}"
        );
        assert!(err.contains("clang-22, ld.lld-22, llvm-link-22"), "{err}");

        // Versioned names, and unversioned ones only with the same major.
        fake(d.path(), "clang-22", "Debian clang version 22.1.8 (x)");
        fake(
            d.path(),
            "ld.lld",
            "Debian LLD 22.1.0 (compatible with GNU linkers)",
        );
        fake(d.path(), "llvm-link", "LLVM version 21.1.0");
        fake(d.path(), "llvm-objdump-22", "LLVM version 22.1.8");
        fake(d.path(), "llvm-nm-22", "LLVM version 22.1.8");
        fake(d.path(), "make", "GNU Make 4.3");
        let err = discover(search).unwrap_err();
        assert_eq!(crate::exit_code_of(&err), code::NOT_FOUND);
        let err = err.to_string();
        assert!(err.contains("not found in PATH: llvm-link-22\n"), "{err}");
        assert!(err.ends_with("apt-get install -y llvm-22"), "{err}");

        fake(d.path(), "llvm-link-22", "LLVM version 22.1.8");
        let t = discover(search).unwrap();
        assert_eq!(t.major, 22);
        let names: Vec<_> = t.llvm.iter().map(|t| t.path.file_name().unwrap()).collect();
        assert_eq!(
            names,
            [
                "clang-22",
                "ld.lld",
                "llvm-link-22",
                "llvm-objdump-22",
                "llvm-nm-22"
            ]
        );
        let line = t.describe();
        assert!(line.contains("ld.lld (22.1.0)"), "{line}");
        assert!(line.contains("1.95.0 (LLVM 22.1.2)"), "{line}");
    }

    #[test]
    fn ld_step_from_log() {
        let line = String::from_utf8(explain::copy_command(
            Path::new("rust/foo.o"),
            Path::new("rust/.tmp_foo.o"),
        ))
        .unwrap();
        let copy = format!(
            "kbuild-shim[INFO]: cd /t && {line}\n\
             kbuild-shim[INFO]: # rule ld-single-copy: Rust object\n"
        );
        let copy = copy.as_bytes();
        assert_eq!(ld_step(copy, "rust/foo.o"), LdStep::Copied);
        let interleaved = format!(
            "kbuild-shim[INFO]: cd /t && {line}\n\
             kbuild-shim[INFO]: cd /t && /usr/bin/clang-22 -c -o cfile.o cfile.c\n\
             kbuild-shim[INFO]: # rule ld-single-copy: Rust object\n\
             kbuild-shim[INFO]: # passthrough: an input is not LLVM IR\n"
        );
        assert_eq!(
            ld_step(interleaved.as_bytes(), "rust/foo.o"),
            LdStep::Copied
        );
        // Another Rust object's copy says nothing about this one.
        assert_eq!(ld_step(copy, "fs/foo/foo_rs.o"), LdStep::None);
        let ran =
            b"kbuild-shim[INFO]: cd /t && /usr/bin/ld.lld-22 -r -o rust/.tmp_foo.o rust/foo.o\n";
        assert_eq!(ld_step(ran, "rust/foo.o"), LdStep::Ran);
        let c_only =
            b"kbuild-shim[INFO]: cd /t && /usr/bin/ld.lld-22 -r -o ./.tmp_cfile.o cfile.o\n";
        assert_eq!(ld_step(c_only, "rust/foo.o"), LdStep::None);
        let sub = b"kbuild-shim[INFO]: cd /t && /usr/bin/ld.lld-22 -z noexecstack -r \
            -o extmod/.tmp_extmod_rs.o extmod/extmod_rs.o\n";
        assert_eq!(ld_step(sub, "extmod/extmod_rs.o"), LdStep::Ran);
    }

    #[test]
    fn verdict_names_what_plain_clang_broke_on() {
        let arm = "clang-22: error: argument unused during compilation: '-U arm' \
                   [-Werror,-Wunused-command-line-argument]";
        assert_eq!(broke_on(arm), "'-U arm'");
        assert_eq!(broke_on("ld.lld: error: x"), "ld.lld: error: x");
        let text = wrap(&"word ".repeat(60), 100);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("  word")),
            "{text}"
        );
    }
}
