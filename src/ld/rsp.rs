//! `@file` response files, read as lld and GNU ld read them (GNU quoting).

use crate::{code, fail};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Nested `@file` deeper than this is a loop (lld itself stops at 20).
const MAX_RSP_DEPTH: usize = 20;

/// Expands `@file` arguments recursively, reading each with GNU quoting.
/// Relative paths are relative to `cwd` (`None`: the process's).
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
        out.extend(expand_response_files(&tokenize_gnu(&text), depth + 1, cwd)?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::words;

    #[test]
    fn gnu_tokenizer() {
        let t = tokenize_gnu(br#"a\ b 'c d' "e \"f\"" g\\h '' x 'i\'j' '\\'"#);
        assert_eq!(
            t,
            words(&["a b", "c d", "e \"f\"", "g\\h", "", "x", "i'j", "\\"])
        );
    }
}
