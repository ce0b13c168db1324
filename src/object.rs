//! Reading objects: is this ELF or LLVM bitcode object rustc's? Reads only
//! what it needs (ELF headers and `.comment`), and never trusts a length.

use std::borrow::Cow;
use std::path::Path;

const RUST_MARK: &[u8] = b"rustc version ";

/// Did rustc make this object? rustc records `rustc version X.Y.Z` in
/// `llvm.ident`, which lands in ELF `.comment` and as a plain string in
/// bitcode, and survives llvm-link, clang -c and ld -r (docs/kbuild-pipeline.md §5).
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
    inspect_file(path).map(|(_, rust)| rust)
}

/// What kind of object a file is, as far as the ld gate cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// ELF: `e_type` (1 = relocatable), `e_machine`, 64-bit, little-endian.
    Elf {
        etype: u16,
        machine: u16,
        wide: bool,
        le: bool,
    },
    /// LLVM bitcode, bare or in its wrapper.
    Bitcode,
    Other,
}

/// [`is_rust_file`] and the object's [`Kind`], from one open of the file.
pub fn inspect_file(path: &Path) -> std::io::Result<(Kind, bool)> {
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
    Ok((kind(&get), classify_object(&get, size)))
}

fn kind(get: &ReadAt<'_>) -> Kind {
    match get(0, 4).as_deref() {
        Some(b"\x7fELF") => get(0, 20).and_then(|h| {
            let le = match h[5] {
                1 => true,
                2 => false,
                _ => return None,
            };
            let wide = match h[4] {
                1 => false,
                2 => true,
                _ => return None,
            };
            let half = |o: usize| {
                let b = [h[o], h[o + 1]];
                if le {
                    u16::from_le_bytes(b)
                } else {
                    u16::from_be_bytes(b)
                }
            };
            Some(Kind::Elf {
                etype: half(16),
                machine: half(18),
                wide,
                le,
            })
        }),
        Some(BITCODE | BITCODE_WRAPPER) => Some(Kind::Bitcode),
        _ => None,
    }
    .unwrap_or(Kind::Other)
}

const BITCODE: &[u8] = b"BC\xc0\xde";
const BITCODE_WRAPPER: &[u8] = b"\xde\xc0\x17\x0b";

/// Reads `len` bytes at `offset` of an object, or `None` past its end.
type ReadAt<'a> = dyn Fn(u64, u64) -> Option<Cow<'a, [u8]>> + 'a;

fn classify_object(get: &ReadAt<'_>, size: u64) -> bool {
    match get(0, 4).as_deref() {
        Some(b"\x7fELF") => elf_section(get, b".comment").is_some_and(|s| contains(&s, RUST_MARK)),
        // Bitcode (LTO objects): the ident is somewhere in the module.
        Some(BITCODE | BITCODE_WRAPPER) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_detection_uses_comment_section_only() {
        assert!(!is_rust_object(b"\x7fELF garbage rustc version 1.0"));
        assert!(is_rust_object(b"BC\xc0\xde....rustc version 1.95.0 (x)"));
        assert!(!is_rust_object(b"BC\xc0\xde....clang version 22"));
        assert!(!is_rust_object(b"!<arch>\nrustc version 1"));
    }

    #[test]
    fn kinds() {
        let get = |d: &'static [u8]| {
            move |off: u64, len: u64| -> Option<Cow<'static, [u8]>> {
                d.get(off as usize..(off + len) as usize).map(Cow::Borrowed)
            }
        };
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x01\0\x3e\0";
        let want = Kind::Elf {
            etype: 1,
            machine: 62,
            wide: true,
            le: true,
        };
        assert_eq!(kind(&get(elf)), want);
        assert_eq!(kind(&get(b"\x7fELF\x02\x01")), Kind::Other); // truncated
        assert_eq!(kind(&get(b"BC\xc0\xde....")), Kind::Bitcode);
        assert_eq!(kind(&get(b"\xde\xc0\x17\x0b....")), Kind::Bitcode);
        assert_eq!(kind(&get(b"!<arch>\n")), Kind::Other);
    }
}
