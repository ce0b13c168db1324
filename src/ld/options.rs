//! The ld command line: which options take a value, and the exact shape of
//! kbuild's single-object `cmd_ld_single` step.

use super::rsp::expand_response_files;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// ld options that take the next argument as their value, exactly as spelled
/// (sorted). From ld.lld-22 (`tests/real_ld.rs` checks each one still says
/// "missing argument" when given last), plus GNU ld's `-plugin-opt`, `-G`
/// and the separated `--thinlto-cache-dir` some wrappers emit. `-output`
/// is deliberately absent: lld reads it as `-o utput`.
#[rustfmt::skip]
pub const LD_SEPARATE: &[&str] = &[
    "--Map", "--Tbss", "--Tdata", "--Ttext", "--android-memtag-mode", "--auxiliary",
    "--call-graph-ordering-file", "--compress-debug-sections", "--compress-sections",
    "--default-script", "--defsym", "--dependency-file", "--dynamic-linker", "--dynamic-list",
    "--entry", "--error-handling-script", "--error-limit", "--exclude-libs",
    "--export-dynamic-symbol", "--export-dynamic-symbol-list", "--filter", "--fini", "--format",
    "--hash-style", "--image-base", "--in-implib", "--init", "--irpgo-profile", "--just-symbols",
    "--keep-unique", "--library", "--library-path", "--load-pass-plugin",
    "--lto-known-safe-vtables", "--mllvm", "--oformat", "--opt-remarks-filename",
    "--opt-remarks-format", "--opt-remarks-hotness-threshold", "--opt-remarks-passes",
    "--orphan-handling", "--out-implib", "--output", "--pack-dyn-relocs", "--plugin",
    "--print-symbol-order", "--remap-inputs", "--reproduce", "--retain-symbols-file", "--rpath",
    "--rsp-quoting", "--script", "--section-start", "--shuffle-sections", "--soname",
    "--sort-section", "--split-stack-adjust-size", "--symbol-ordering-file", "--sysroot",
    "--target2", "--thinlto-cache-dir", "--thinlto-cache-policy", "--thinlto-distributor-arg",
    "--thinlto-remote-compiler-arg", "--thinlto-remote-compiler-prepend-arg", "--threads",
    "--time-trace-granularity", "--trace-symbol", "--undefined", "--undefined-glob",
    "--unresolved-symbols", "--version-script", "--warn-backrefs-exclude", "--why-live", "--wrap",
    "-F", "-G", "-L", "-Map", "-O", "-R", "-T", "-Tbss", "-Tdata", "-Ttext", "-auxiliary", "-b",
    "-call-graph-ordering-file", "-compress-debug-sections", "-dT", "-defsym", "-dynamic-linker",
    "-dynamic-list", "-e", "-entry", "-exclude-libs", "-f", "-filter", "-fini", "-format", "-h",
    "-hash-style", "-init", "-just-symbols", "-keep-unique", "-l", "-library", "-library-path",
    "-m", "-mllvm", "-o", "-orphan-handling", "-plugin", "-plugin-opt", "-print-symbol-order",
    "-retain-symbols-file", "-rpath", "-script", "-section-start", "-soname", "-sort-section",
    "-split-stack-adjust-size", "-sysroot", "-target2", "-trace-symbol", "-u", "-undefined",
    "-unresolved-symbols", "-version-script", "-wrap", "-y", "-z",
];

fn takes_value(arg: &[u8]) -> bool {
    LD_SEPARATE
        .binary_search_by(|n| n.as_bytes().cmp(arg))
        .is_ok()
}

/// The input and output of a `cmd_ld_single`-shaped command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleObject {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// Recognises `… -r … -o DIR/.tmp_NAME DIR/NAME` with exactly one input and
/// nothing else that is an input (`-lfoo` counts as one). `@file` arguments
/// are expanded as lld does (GNU quoting) just to classify.
pub fn single_object(
    args: &[OsString],
    cwd: Option<&Path>,
) -> anyhow::Result<Option<SingleObject>> {
    let has_rsp = args.iter().any(|a| a.as_bytes().first() == Some(&b'@'));
    if !has_rsp && !args.iter().any(|a| is_relocatable(a.as_bytes())) {
        return Ok(None); // the common case: no file is read
    }
    let expanded;
    let args = if has_rsp {
        expanded = expand_response_files(args, 0, cwd)?;
        &expanded[..]
    } else {
        args
    };
    let mut relocatable = false;
    let mut output: Option<&OsStr> = None;
    let mut inputs: Vec<&OsStr> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        i += 1;
        if is_relocatable(a) {
            relocatable = true;
        } else if a == b"-o" || a == b"--output" {
            output = args.get(i).map(|v| v.as_os_str());
            i += 1;
        } else if let Some(v) = a.strip_prefix(b"--output=") {
            output = Some(OsStr::from_bytes(v));
        } else if a.starts_with(b"-o") {
            return Ok(None); // `-oFILE`, `-omagic`…: not the shape kbuild writes
        } else if a.starts_with(b"-l")
            || a.starts_with(b"--library") && !a.starts_with(b"--library-path")
            || a == b"-"
        {
            return Ok(None); // a library (`-lc`, `--library c`) or stdin: another input
        } else if a.len() > 1 && a[0] == b'-' {
            if takes_value(a) {
                i += 1;
            }
        } else {
            inputs.push(args[i - 1].as_os_str());
        }
    }
    let (Some(out), [input], true) = (output, inputs.as_slice(), relocatable) else {
        return Ok(None);
    };
    let (out, input) = (Path::new(out), Path::new(input));
    let (Some(out_name), Some(in_name)) = (out.file_name(), input.file_name()) else {
        return Ok(None);
    };
    let tmp_name = [b".tmp_", in_name.as_bytes()].concat();
    if out_name.as_bytes() != tmp_name || dir_of(out) != dir_of(input) {
        return Ok(None);
    }
    Ok(Some(SingleObject {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
    }))
}

/// The directory part, with `./` prefixes dropped: `$(dir foo.o)` is `./`,
/// so kbuild writes `-o ./.tmp_foo.o foo.o` for an object at the top.
fn dir_of(p: &Path) -> &[u8] {
    let mut d = p.parent().map_or(&b""[..], |d| d.as_os_str().as_bytes());
    while let Some(rest) = d.strip_prefix(b"./") {
        d = rest;
    }
    if d == b"." {
        b""
    } else {
        d
    }
}

fn is_relocatable(a: &[u8]) -> bool {
    a == b"-r" || a == b"--relocatable" || a == b"-relocatable"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::words;

    #[test]
    fn table_is_sorted() {
        for w in LD_SEPARATE.windows(2) {
            assert!(w[0] < w[1], "{} !< {}", w[0], w[1]);
        }
    }

    fn single(s: &[&str]) -> Option<SingleObject> {
        single_object(&words(s), None).unwrap()
    }

    #[test]
    fn kbuild_shapes() {
        let want = Some(SingleObject {
            input: "drivers/x/foo.o".into(),
            output: "drivers/x/.tmp_foo.o".into(),
        });
        assert_eq!(
            single(&[
                "-m",
                "elf_x86_64",
                "-r",
                "-o",
                "drivers/x/.tmp_foo.o",
                "drivers/x/foo.o"
            ]),
            want
        );
        assert_eq!(
            single(&[
                "-m",
                "elf_x86_64",
                "-z",
                "noexecstack",
                "-mllvm",
                "-import-instr-limit=5",
                "--thinlto-cache-dir",
                "c",
                "-T",
                "s.lds",
                "-r",
                "-o",
                "drivers/x/.tmp_foo.o",
                "drivers/x/foo.o"
            ]),
            want
        );
        assert_eq!(
            single(&[
                "--relocatable",
                "--output=drivers/x/.tmp_foo.o",
                "drivers/x/foo.o"
            ]),
            want
        );
        let here = single(&["-r", "-o", ".tmp_foo.o", "foo.o"]).unwrap();
        assert_eq!(here.output, Path::new(".tmp_foo.o"));
        // `$(dir foo.o)` is `./`: kbuild's spelling for an object at the top.
        let top = single(&["-r", "-o", "./.tmp_foo.o", "foo.o"]).unwrap();
        assert_eq!(top.output, Path::new("./.tmp_foo.o"));
        let lib_path = [
            "-r",
            "--library-path",
            "/l",
            "-o",
            "x/.tmp_foo.o",
            "x/foo.o",
        ];
        assert!(single(&lib_path).is_some());
    }

    #[test]
    fn other_shapes_are_not_gated() {
        for s in [
            &["-r", "-o", "x/foo.o", "x/a.o", "x/b.o"][..],
            &["-o", "x/.tmp_foo.o", "x/foo.o"],
            &["-r", "-o", "x/.tmp_foo.o", "y/foo.o"],
            &["-r", "-o", "x/.tmp_bar.o", "x/foo.o"],
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "-lc"],
            &["-r", "-ox/.tmp_foo.o", "x/foo.o"],
            &["-r", "-o", "x/.tmp_foo.o"],
            &["--version"],
            &["-m", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"], // `-m` eats `-r`
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "--library", "c"],
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "--library=c"],
        ] {
            assert_eq!(single(s), None, "{s:?}");
        }
    }

    #[test]
    fn response_files() {
        let d = tempfile::tempdir().unwrap();
        let rsp = d.path().join("foo.mod");
        std::fs::write(&rsp, "-r -o 'x/.tmp_f o.o'\n\"x/f o.o\"\n").unwrap();
        let arg = format!("@{}", rsp.display());
        let got = single(&["-m", "elf_x86_64", &arg]).unwrap();
        assert_eq!(got.input, Path::new("x/f o.o"));
        let missing = format!("@{}/nope", d.path().display());
        let err = single_object(&words(&[&missing]), None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read response file"), "{err}");
        std::fs::write(&rsp, format!("@{}", rsp.display())).unwrap();
        let err = single_object(&words(&[&arg]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nests more than"), "{err}");
    }
}
