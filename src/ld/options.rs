//! The exact shape of kbuild's single-object `cmd_ld_single` step, with
//! every other word checked against the allow-list in [`super::allow`].

use super::allow::{self, allowed};
use super::rsp::expand_response_files;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The input and output of a `cmd_ld_single`-shaped command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleObject {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The last `-m` emulation: `(e_machine, 64-bit, little-endian)` the
    /// input must have, or lld rejects it as incompatible.
    pub emulation: Option<(u16, bool, bool)>,
}

/// Recognises `… -r … -o DIR/.tmp_NAME DIR/NAME` with exactly one input, and
/// every other word an allowed option ([`allow::LD_SINGLE_ALLOWED`]) with a
/// valid value. `@file` arguments are expanded as lld does (GNU quoting) just
/// to classify; a response file that cannot be read as lld would read it is
/// an error, and the caller passes the command through.
pub fn single_object(
    args: &[OsString],
    cwd: Option<&Path>,
) -> anyhow::Result<Option<SingleObject>> {
    Ok(classify(args, cwd)?.ok())
}

const NOT_SINGLE: &str = "not the single-object ld -r step";

/// [`single_object`], with why a command is not gated (for `--explain`).
pub fn classify(
    args: &[OsString],
    cwd: Option<&Path>,
) -> anyhow::Result<Result<SingleObject, String>> {
    let not = |why: &str| Ok(Err(why.to_owned()));
    let has_rsp = args.iter().any(|a| a.as_bytes().first() == Some(&b'@'));
    if !has_rsp && !args.iter().any(|a| is_relocatable(a.as_bytes())) {
        return not(NOT_SINGLE); // the common case: no file is read
    }
    let expanded;
    let args = if has_rsp {
        expanded = expand_response_files(args, 0, cwd)?;
        &expanded[..]
    } else {
        args
    };
    let words: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut relocatable = false;
    let mut output: Option<&[u8]> = None;
    let mut emulation = None;
    let mut inputs: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let a = words[i];
        if is_relocatable(a) {
            relocatable = true;
            i += 1;
        } else if a == b"-o" || a == b"--output" {
            let Some(&v) = words.get(i + 1) else {
                return not("-o without a value"); // lld: missing argument
            };
            output = Some(v);
            i += 2;
        } else if let Some(v) = a.strip_prefix(b"--output=") {
            output = Some(v);
            i += 1;
        } else if !a.is_empty() && a[0] != b'-' {
            inputs.push(a);
            i += 1;
        } else {
            // An option: understood with its value, or the linker runs.
            let Some(found) = allowed(&words[i..]) else {
                let word = String::from_utf8_lossy(a);
                return not(&crate::one_line(&format!(
                    "'{word}' is not in the gate's allow-list (or its value is not)"
                )));
            };
            if let Some((allow::Value::Emulation, name)) = found.value {
                emulation = allow::emulation(name);
            }
            i += found.words;
        }
    }
    let (Some(out), [input], true) = (output, inputs.as_slice(), relocatable) else {
        return not(NOT_SINGLE);
    };
    let (out, input) = (
        Path::new(OsStr::from_bytes(out)),
        Path::new(OsStr::from_bytes(input)),
    );
    let (Some(out_name), Some(in_name)) = (out.file_name(), input.file_name()) else {
        return not(NOT_SINGLE);
    };
    let tmp_name = [b".tmp_", in_name.as_bytes()].concat();
    if out_name.as_bytes() != tmp_name || dir_of(out) != dir_of(input) {
        return not(NOT_SINGLE);
    }
    Ok(Ok(SingleObject {
        input: input.to_path_buf(),
        output: out.to_path_buf(),
        emulation,
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

    fn single(s: &[&str]) -> Option<SingleObject> {
        single_object(&words(s), None).unwrap()
    }

    const X86: Option<(u16, bool, bool)> = Some((62, true, true));

    #[test]
    fn kbuild_shapes() {
        let want = |emulation| {
            Some(SingleObject {
                input: "drivers/x/foo.o".into(),
                output: "drivers/x/.tmp_foo.o".into(),
                emulation,
            })
        };
        let tail = ["-r", "-o", "drivers/x/.tmp_foo.o", "drivers/x/foo.o"];
        let with = |flags: &[&str]| single(&[flags, &tail[..]].concat());
        assert_eq!(with(&["-m", "elf_x86_64"]), want(X86));
        // x86_64 with LTO (6.12), and the ThinLTO cache of earlier kernels.
        let lto = [
            "-m",
            "elf_x86_64",
            "-z",
            "noexecstack",
            "-mllvm",
            "-import-instr-limit=5",
            "--thinlto-cache-dir=.thinlto-cache",
        ];
        assert_eq!(with(&lto), want(X86));
        // x86_64 since 7.2 with CONFIG_WERROR=y (scripts/Makefile.warn).
        let werror = ["-m", "elf_x86_64", "--fatal-warnings", "-z", "noexecstack"];
        assert_eq!(with(&werror), want(X86));
        // arm64 (joined -m), riscv with LTO, um, arm.
        let arm64 = ["-EL", "-maarch64elf", "-z", "norelro", "-z", "noexecstack"];
        assert_eq!(with(&arm64), want(Some((183, true, true))));
        let riscv = [
            "-melf64lriscv",
            "-mllvm",
            "-mattr=+c",
            "-mllvm",
            "-mattr=+relax",
            "--no-relax-gp",
        ];
        assert_eq!(with(&riscv), want(Some((243, true, true))));
        assert_eq!(with(&["-EL"]), want(None));
        assert_eq!(
            single(&[
                "--relocatable",
                "--output=drivers/x/.tmp_foo.o",
                "drivers/x/foo.o"
            ]),
            want(None)
        );
        let here = single(&["-r", "-o", ".tmp_foo.o", "foo.o"]).unwrap();
        assert_eq!(here.output, Path::new(".tmp_foo.o"));
        // `$(dir foo.o)` is `./`: kbuild's spelling for an object at the top.
        let top = single(&["-r", "-o", "./.tmp_foo.o", "foo.o"]).unwrap();
        assert_eq!(top.output, Path::new("./.tmp_foo.o"));
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
            &["-r", "x/foo.o", "-o"],
            &["--version"],
            &["-m", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"], // `-m` eats `-r`
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "--library", "c"],
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "--library=c"],
            &[
                "-r",
                "--library-path",
                "/l",
                "-o",
                "x/.tmp_foo.o",
                "x/foo.o",
            ],
            // Issue 12, item 3: every one of these makes ld.lld-22 fail.
            &[
                "--thinlto-cache-dir",
                "c",
                "-r",
                "-o",
                "x/.tmp_foo.o",
                "x/foo.o",
            ],
            &["-r", "-o", "x/.tmp_foo.o", "x/foo.o", "-u"],
            &["-r", "-o", "x/.tmp_foo.o", "--", "x/foo.o"],
            &[
                "--rsp-quoting=windows",
                "-r",
                "-o",
                "x/.tmp_foo.o",
                "x/foo.o",
            ],
            &["--chroot=/", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"],
            &["--mips-got-size=4", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"],
            &["-m", "elf_bogus", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"],
            &["-T", "s.lds", "-r", "-o", "x/.tmp_foo.o", "x/foo.o"],
            &["-r", "-o", "x/.tmp_foo.o", "", "x/foo.o"],
        ] {
            assert_eq!(single(s), None, "{s:?}");
        }
        let why = classify(&words(&["-r", "-x\nrm -rf ~"]), None).unwrap();
        assert_eq!(
            why,
            Err("'-x\\nrm -rf ~' is not in the gate's allow-list (or its value is not)".into())
        );
    }

    #[test]
    fn response_files() {
        let d = tempfile::tempdir().unwrap();
        let rsp = d.path().join("foo.mod");
        std::fs::write(&rsp, "-r -o 'x/.tmp_f o.o'\n\"x/f o.o\"\n").unwrap();
        let arg = format!("@{}", rsp.display());
        let got = single(&["-m", "elf_x86_64", &arg]).unwrap();
        assert_eq!(got.input, Path::new("x/f o.o"));
        // A form feed is no separator to lld: one word, not understood.
        std::fs::write(&rsp, "-r\x0c-o x/.tmp_f.o x/f.o").unwrap();
        assert_eq!(single(&[&arg]), None);
        // lld drops a UTF-8 byte-order mark and converts UTF-16: unclassified.
        for head in [&b"\xef\xbb\xbf"[..], b"\xff\xfe", b"\xfe\xff", b"\0"] {
            std::fs::write(&rsp, [head, b"-r -o x/.tmp_f.o x/f.o"].concat()).unwrap();
            let err = single_object(&words(&[&arg]), None).unwrap_err();
            assert!(
                err.to_string().contains("byte-order mark or a NUL"),
                "{err}"
            );
        }
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
