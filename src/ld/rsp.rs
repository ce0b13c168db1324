//! `@file` response files, read as ld.lld reads them (LLVM's
//! `TokenizeGNUCommandLine`, the default `--rsp-quoting=posix`).

use crate::{code, fail};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Nested `@file` deeper than this is a loop (lld itself stops at 20).
const MAX_RSP_DEPTH: usize = 20;

/// Expands `@file` arguments recursively, reading each as lld does.
/// Relative paths are relative to `cwd` (`None`: the process's). An error
/// means "cannot classify": the caller runs the linker, which says why.
pub fn expand_response_files(
    args: &[OsString],
    depth: usize,
    cwd: Option<&Path>,
) -> anyhow::Result<Vec<OsString>> {
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
        let text = std::fs::read(cwd.map_or_else(|| path.to_path_buf(), |c| c.join(path)))
            .map_err(|e| {
                fail(
                    code::USAGE,
                    format!("cannot read response file '{}': {e}", path.display()),
                )
            })?;
        // LLVM converts UTF-16 and drops a UTF-8 byte-order mark, and a NUL
        // ends an argument once it is a C string: not worth mirroring.
        if text.starts_with(b"\xef\xbb\xbf")
            || text.starts_with(b"\xff\xfe")
            || text.starts_with(b"\xfe\xff")
            || text.contains(&0)
        {
            return Err(fail(
                code::USAGE,
                format!(
                    "response file '{}' has a byte-order mark or a NUL",
                    path.display()
                ),
            ));
        }
        out.extend(expand_response_files(&tokenize_gnu(&text), depth + 1, cwd)?);
    }
    Ok(out)
}

/// Splits a response file exactly as LLVM's `TokenizeGNUCommandLine` (lld):
/// only space, tab, CR and LF separate (a form feed or vertical tab is part
/// of a word); `'…'` and `"…"` group; `\x` is `x`, inside quotes too, and a
/// backslash that is the last byte is itself; an empty word (`''`) is dropped.
pub fn tokenize_gnu(text: &[u8]) -> Vec<OsString> {
    let white = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut words = Vec::new();
    let mut tok: Vec<u8> = Vec::new();
    let (mut i, e) = (0, text.len());
    while i < e {
        if tok.is_empty() {
            while i < e && white(text[i]) {
                i += 1;
            }
            if i == e {
                break;
            }
        }
        let c = text[i];
        if c == b'\\' && i + 1 < e {
            tok.push(text[i + 1]);
            i += 2;
        } else if c == b'\'' || c == b'"' {
            i += 1;
            while i < e && text[i] != c {
                if text[i] == b'\\' && i + 1 != e {
                    i += 1;
                }
                tok.push(text[i]);
                i += 1;
            }
            if i == e {
                break; // unterminated: the word so far is the last one
            }
            i += 1;
        } else if white(c) {
            if !tok.is_empty() {
                words.push(OsString::from_vec_bytes(std::mem::take(&mut tok)));
            }
            i += 1;
        } else {
            tok.push(c);
            i += 1;
        }
    }
    if !tok.is_empty() {
        words.push(OsString::from_vec_bytes(tok));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::words;

    #[test]
    fn gnu_tokenizer() {
        let t = tokenize_gnu(br#"a\ b 'c d' "e \"f\"" g\\h '' x 'i\'j' '\\'"#);
        assert_eq!(
            t,
            words(&["a b", "c d", "e \"f\"", "g\\h", "x", "i'j", "\\"])
        );
        // Form feed and vertical tab are word bytes; a last backslash is kept,
        // inside quotes too; an unterminated quote ends the last word.
        let t = tokenize_gnu(b"-r\x0c-o\x0bx a\\");
        assert_eq!(t, words(&["-r\x0c-o\x0bx", "a\\"]));
        assert_eq!(tokenize_gnu(b"'a\\"), words(&["a\\"]));
        assert_eq!(tokenize_gnu(b"x 'a b"), words(&["x", "a b"]));
        assert_eq!(tokenize_gnu(b"a''b ''"), words(&["ab"]));
    }
}
