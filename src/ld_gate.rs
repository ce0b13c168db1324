//! The ld side: gate kbuild's single-object `ld -r` step for Rust objects.
//!
//! `cmd_ld_single` is `$(LD) $(ld_flags) -r -o dir/.tmp_foo.o dir/foo.o; mv …`.
//! With helper inlining off, the v2 patch still runs it for Rust objects; the
//! shim instead writes `.tmp_foo.o` as an exact copy of `foo.o`. Anything that
//! is not exactly that shape, a C object, inlining on or an unknown state:
//! the real linker runs, unchanged.

use crate::kconfig::{self, Inline};
use crate::settings::Settings;
use crate::{code, fail, Action, Fired, Plan};
use anyhow::Context;
use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub const RULE_COPY: &str = "ld-single-copy";

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

/// Nested `@file` deeper than this is a loop (lld itself stops at 20).
const MAX_RSP_DEPTH: usize = 20;

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
pub fn single_object(args: &[OsString]) -> anyhow::Result<Option<SingleObject>> {
    let has_rsp = args.iter().any(|a| a.as_bytes().first() == Some(&b'@'));
    if !has_rsp && !args.iter().any(|a| is_relocatable(a.as_bytes())) {
        return Ok(None); // the common case: no file is read
    }
    let expanded;
    let args = if has_rsp {
        expanded = expand_response_files(args, 0)?;
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

/// Expands `@file` arguments recursively, reading each with GNU quoting.
pub fn expand_response_files(args: &[OsString], depth: usize) -> anyhow::Result<Vec<OsString>> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let Some(path) = a.as_bytes().strip_prefix(b"@") else {
            out.push(a.clone());
            continue;
        };
        let path = Path::new(OsStr::from_bytes(path));
        if depth >= MAX_RSP_DEPTH {
            return Err(fail(
                code::USAGE,
                format!(
                    "response file '{}' nests more than {MAX_RSP_DEPTH} deep (a loop?)",
                    path.display()
                ),
            ));
        }
        let text = std::fs::read(path).map_err(|e| {
            fail(
                code::USAGE,
                format!("cannot read response file '{}': {e}", path.display()),
            )
        })?;
        out.extend(expand_response_files(&tokenize_gnu(&text), depth + 1)?);
    }
    Ok(out)
}

/// Splits a response file the way GNU tools and lld do: whitespace separates,
/// `'…'` and `"…"` group, and `\x` is `x` everywhere, inside quotes too.
pub fn tokenize_gnu(text: &[u8]) -> Vec<OsString> {
    let mut words = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut bytes = text.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                if in_word {
                    words.push(OsString::from_vec_bytes(std::mem::take(&mut cur)));
                    in_word = false;
                }
            }
            b'\\' => {
                in_word = true;
                if let Some(n) = bytes.next() {
                    cur.push(n);
                }
            }
            // As LLVM's TokenizeGNUCommandLine (lld) and libiberty (GNU ld):
            // a backslash escapes the next byte inside either kind of quote.
            q @ (b'\'' | b'"') => {
                in_word = true;
                while let Some(n) = bytes.next() {
                    match n {
                        _ if n == q => break,
                        b'\\' => cur.extend(bytes.next()),
                        _ => cur.push(n),
                    }
                }
            }
            _ => {
                in_word = true;
                cur.push(b);
            }
        }
    }
    if in_word {
        words.push(OsString::from_vec_bytes(cur));
    }
    words
}

trait FromVecBytes {
    fn from_vec_bytes(v: Vec<u8>) -> Self;
}
impl FromVecBytes for OsString {
    fn from_vec_bytes(v: Vec<u8>) -> Self {
        use std::os::unix::ffi::OsStringExt;
        OsString::from_vec(v)
    }
}

const RUST_MARK: &[u8] = b"rustc version ";

/// Did rustc make this object? rustc records `rustc version X.Y.Z` in
/// `llvm.ident`, which lands in ELF `.comment` and as a plain string in
/// bitcode, and survives llvm-link, clang -c and ld -r (pipeline.md §5).
/// For ELF only `.comment` is consulted, so a C string literal cannot fool it.
pub fn is_rust_object(data: &[u8]) -> bool {
    let get = |off: u64, len: u64| -> Option<Cow<'_, [u8]>> {
        let off = usize::try_from(off).ok()?;
        data.get(off..off.checked_add(usize::try_from(len).ok()?)?)
            .map(Cow::Borrowed)
    };
    classify_object(&get, data.len() as u64)
}

/// [`is_rust_object`] for a file, reading only what it needs: for ELF the
/// headers and `.comment` (a few KiB of a 1 MiB object), for bitcode all of it.
pub fn is_rust_file(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let get = |off: u64, len: u64| -> Option<Cow<'_, [u8]>> {
        if off.checked_add(len)? > size {
            return None;
        }
        let mut buf = vec![0; usize::try_from(len).ok()?];
        file.read_exact_at(&mut buf, off).ok()?;
        Some(Cow::Owned(buf))
    };
    Ok(classify_object(&get, size))
}

/// Reads `len` bytes at `offset` of an object, or `None` past its end.
type ReadAt<'a> = dyn Fn(u64, u64) -> Option<Cow<'a, [u8]>> + 'a;

fn classify_object(get: &ReadAt<'_>, size: u64) -> bool {
    match get(0, 4).as_deref() {
        Some(b"\x7fELF") => elf_section(get, b".comment").is_some_and(|s| contains(&s, RUST_MARK)),
        // Bitcode (LTO objects): the ident is somewhere in the module.
        Some(b"BC\xc0\xde" | b"\xde\xc0\x17\x0b") => {
            get(0, size).is_some_and(|all| contains(&all, RUST_MARK))
        }
        _ => false,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut i = 0;
    while let Some(p) = hay[i..].iter().position(|&b| b == first) {
        i += p + 1;
        if hay[i..].starts_with(rest) {
            return true;
        }
    }
    false
}

/// The contents of the section called `want`, for 32/64-bit, either
/// endianness, read through `get`. `None` for anything malformed: the linker
/// then runs and reports it.
pub fn elf_section<'a>(get: &ReadAt<'a>, want: &[u8]) -> Option<Cow<'a, [u8]>> {
    let ident = get(0, 16)?;
    let wide = match ident[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match ident[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let num = |b: &[u8], off: usize, n: usize| -> Option<u64> {
        let b = b.get(off..off.checked_add(n)?)?;
        let mut v = 0u64;
        for k in 0..n {
            let byte = if le { b[n - 1 - k] } else { b[k] };
            v = v << 8 | u64::from(byte);
        }
        Some(v)
    };
    let hdr = get(0, if wide { 64 } else { 52 })?;
    let word = if wide { 8 } else { 4 };
    let (shoff, shentsize, shnum, shstrndx) = if wide {
        (
            num(&hdr, 0x28, 8)?,
            num(&hdr, 0x3a, 2)?,
            num(&hdr, 0x3c, 2)?,
            num(&hdr, 0x3e, 2)?,
        )
    } else {
        (
            num(&hdr, 0x20, 4)?,
            num(&hdr, 0x2e, 2)?,
            num(&hdr, 0x30, 2)?,
            num(&hdr, 0x32, 2)?,
        )
    };
    // Section header: name(4) type(4) flags(w) addr(w) offset(w) size(w) link(4).
    let entsize = usize::try_from(shentsize).ok()?;
    if entsize < 8 + 4 * word + 4 {
        return None;
    }
    let header = |table: &[u8], idx: u64| -> Option<(u64, u64, u64, u64)> {
        let base = usize::try_from(idx).ok()?.checked_mul(entsize)?;
        Some((
            num(table, base, 4)?,
            num(table, base + 8 + 2 * word, word)?,
            num(table, base + 8 + 3 * word, word)?,
            num(table, base + 8 + 4 * word, 4)?,
        ))
    };
    // Extended numbering: counts that overflow live in section 0.
    let (shnum, shstrndx) = if shnum == 0 || shstrndx == 0xffff {
        let first = header(&get(shoff, shentsize)?, 0)?;
        (
            if shnum == 0 { first.2 } else { shnum },
            if shstrndx == 0xffff {
                first.3
            } else {
                shstrndx
            },
        )
    } else {
        (shnum, shstrndx)
    };
    if shnum > 1 << 20 {
        return None;
    }
    let table = get(shoff, shnum.checked_mul(shentsize)?)?;
    let (_, str_off, str_size, _) = header(&table, shstrndx)?;
    let strtab = get(str_off, str_size)?;
    for idx in 0..shnum {
        let (name, off, size, _) = header(&table, idx)?;
        let name = strtab.get(usize::try_from(name).ok()?..)?;
        let name = &name[..name.iter().position(|&b| b == 0)?];
        if name == want {
            return get(off, size);
        }
    }
    None
}

/// The plan for an ld command.
pub fn plan(args: Vec<OsString>, settings: &Settings) -> anyhow::Result<Plan> {
    let Some(single) = single_object(&args)? else {
        return Ok(Plan::passthrough(
            args,
            "not the single-object ld -r step".into(),
        ));
    };
    let (state, source) = kconfig::inline_state(settings)?;
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
    let rust = match is_rust_file(&single.input) {
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

/// Writes `to` as an exact copy of `from`, atomically: a temporary file in
/// the same directory, the source's permissions, then `rename`. On any error
/// the temporary is removed and `to` is left as it was.
pub fn copy_atomically(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut src =
        std::fs::File::open(from).with_context(|| format!("cannot read '{}'", from.display()))?;
    let perms = src
        .metadata()
        .with_context(|| format!("cannot stat '{}'", from.display()))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".kbuild-shim.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in '{}'", dir.display()))?;
    std::io::copy(&mut src, tmp.as_file_mut())
        .and_then(|_| tmp.as_file().set_permissions(perms))
        .with_context(|| format!("cannot write '{}'", to.display()))?;
    tmp.persist(to)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write '{}'", to.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clang_args::words;

    #[test]
    fn table_is_sorted() {
        for w in LD_SEPARATE.windows(2) {
            assert!(w[0] < w[1], "{} !< {}", w[0], w[1]);
        }
    }

    fn single(s: &[&str]) -> Option<SingleObject> {
        single_object(&words(s)).unwrap()
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
        let err = single_object(&words(&[&missing])).unwrap_err().to_string();
        assert!(err.starts_with("cannot read response file"), "{err}");
        std::fs::write(&rsp, format!("@{}", rsp.display())).unwrap();
        let err = single_object(&words(&[&arg])).unwrap_err().to_string();
        assert!(err.contains("nests more than"), "{err}");
    }

    #[test]
    fn gnu_tokenizer() {
        let t = tokenize_gnu(br#"a\ b 'c d' "e \"f\"" g\\h '' x 'i\'j' '\\'"#);
        assert_eq!(
            t,
            words(&["a b", "c d", "e \"f\"", "g\\h", "", "x", "i'j", "\\"])
        );
    }

    #[test]
    fn rust_detection_uses_comment_section_only() {
        assert!(!is_rust_object(b"\x7fELF garbage rustc version 1.0"));
        assert!(is_rust_object(b"BC\xc0\xde....rustc version 1.95.0 (x)"));
        assert!(!is_rust_object(b"BC\xc0\xde....clang version 22"));
        assert!(!is_rust_object(b"!<arch>\nrustc version 1"));
    }
}
