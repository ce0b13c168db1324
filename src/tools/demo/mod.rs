//! `kbuild-shim --demo [--keep DIR]`: builds the embedded mini kbuild tree
//! (examples/minikbuild) for each ARCH and for what else reaches the Rust IR
//! compile (subdir-ccflags-y, an `M=` module, KCFLAGS), once with plain clang
//! and once through this binary, and shows in a table what the shim fixes:
//! the IR-compile errors, helper inlining, and the single-object `ld -r`
//! under v2 as posted and the merged rules (the mini tree's default,
//! RULES=merged, is the 7.2+ text: docs/kbuild-rules.md).
//!
//! One file per concern: `tree` (the embedded mini tree), `rows` (the
//! configurations and the one check of a row's outcome), `build` (make,
//! plain and through the shim), `table` (the table and the verdict). The
//! toolchain discovery is `tools::toolchain`, shared with `--doctor`.

mod build;
mod rows;
mod table;
mod tree;

use super::toolchain::discover;
use crate::{code, fail};
use anyhow::Context;
use build::{build_rows, Builder};
use rows::ROWS;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use table::{table, verdict_ok, wrap};
use tree::MARKER;

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
    let problems: Vec<Vec<String>> = results.iter().map(|(r, o)| o.problems(r)).collect();
    let failed = problems.iter().filter(|p| !p.is_empty()).count();
    let ok = failed == 0;
    if ok {
        write!(stdout, "{}", wrap(&verdict_ok(&results), 100))?;
    } else {
        for p in problems.iter().flatten() {
            writeln!(stdout, "  {p}")?;
        }
        writeln!(
            stdout,
            "verdict: FAILED: {failed} of {} configurations did not behave as expected",
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
