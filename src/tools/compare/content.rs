//! Whether two files agree: their bytes (or a `.cmd` file's, less a
//! wrapper's words) and their permission bits.

use anyhow::Context as _;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The permission bits, when they differ: an output made executable (or
/// not) is a change even with the same bytes.
pub fn modes(a: &Path, b: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    };
    match (mode(a), mode(b)) {
        (Some(ma), Some(mb)) if ma != mb => Some(format!(
            "mode {ma:04o} in the reference build, {mb:04o} in the shim build"
        )),
        _ => None,
    }
}

/// A file's bytes with every occurrence of `words` removed.
pub fn stripped(path: &Path, words: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let data = std::fs::read(path).with_context(|| format!("'{}'", path.display()))?;
    let Some(w) = words.filter(|w| !w.is_empty()) else {
        return Ok(data);
    };
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(w) {
            i += w.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    Ok(out)
}

pub fn same_bytes(a: &Path, b: &Path) -> anyhow::Result<bool> {
    let open = |p: &Path| {
        let f = File::open(p).with_context(|| format!("'{}'", p.display()))?;
        let len = f
            .metadata()
            .with_context(|| format!("'{}'", p.display()))?
            .len();
        anyhow::Ok((f, len))
    };
    let ((mut fa, la), (mut fb, lb)) = (open(a)?, open(b)?);
    if la != lb {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        if n != read_full(&mut fb, &mut bb)? || ba[..n] != bb[..n] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
