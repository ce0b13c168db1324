//! Building one row of the mini tree with plain clang and through the shim,
//! and reading what happened from make's output and the shim's log.

use super::rows::{LdStep, Outcome, Row, ROWS};
use super::tree::write_tree;
use crate::tools::toolchain::{Toolchain, LLVM_TOOLS};
use crate::{explain, ld};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Builder<'a> {
    pub tools: &'a Toolchain,
    pub shim: PathBuf,
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

/// Builds every row, two at a time (each make runs `-j2`): the rows are
/// independent trees, and most of a row's time is spent waiting on rustc.
pub fn build_rows(builder: &Builder<'_>, top: &Path) -> anyhow::Result<Vec<(Row, Outcome)>> {
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

/// The first compiler/linker error line of a failed build, and how many more.
pub fn first_error(out: &Output) -> (String, usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
