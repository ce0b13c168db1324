//! Is `CONFIG_RUST_INLINE_HELPERS` on? From `KBUILD_SHIM_INLINE_HELPERS`, else
//! from the kernel's `include/config/auto.conf` (kbuild runs tools with the
//! object tree as the working directory, so the relative path is fixed).

use crate::settings::{Settings, ENV_INLINE};
use crate::{code, fail};
use std::borrow::Cow;
use std::io::ErrorKind;
use std::path::Path;

pub const AUTO_CONF: &str = "include/config/auto.conf";
pub const OPTION: &str = "CONFIG_RUST_INLINE_HELPERS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inline {
    On,
    Off,
    /// Neither the variable nor `auto.conf` says: the shim changes nothing.
    Unknown,
}

/// The `CONFIG_…=value` lines of an `auto.conf`, as (symbol, value).
pub fn symbols(text: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    text.split(|&b| b == b'\n').filter_map(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let eq = l.iter().position(|&b| b == b'=')?;
        l.starts_with(b"CONFIG_").then(|| (&l[..eq], &l[eq + 1..]))
    })
}

/// The inlining state and where it came from (for logs and `--explain`):
/// `KBUILD_SHIM_INLINE_HELPERS` wins over the `auto.conf` of the object tree
/// `objtree` (`None`: the working directory, where kbuild runs tools).
pub fn inline_state(
    settings: &Settings,
    objtree: Option<&Path>,
) -> anyhow::Result<(Inline, Cow<'static, str>)> {
    if let Some(on) = settings.inline_helpers {
        let (state, v) = if on {
            (Inline::On, "y")
        } else {
            (Inline::Off, "n")
        };
        return Ok((state, format!("{ENV_INLINE}={v}").into()));
    }
    match objtree {
        None => from_auto_conf(Path::new(AUTO_CONF)),
        Some(d) => from_auto_conf_at(&d.join(AUTO_CONF), Path::new(AUTO_CONF)),
    }
}

pub fn from_auto_conf(path: &Path) -> anyhow::Result<(Inline, Cow<'static, str>)> {
    from_auto_conf_at(path, path)
}

/// Reads `path`, and names it `shown` in messages (the tree-relative path
/// kbuild users know, whichever directory it was read from).
fn from_auto_conf_at(read: &Path, shown: &Path) -> anyhow::Result<(Inline, Cow<'static, str>)> {
    match std::fs::read(read) {
        Ok(text) => {
            let on = symbols(&text).any(|kv| kv == (OPTION.as_bytes(), &b"y"[..]));
            let state = if on { Inline::On } else { Inline::Off };
            Ok((state, format!("{}", shown.display()).into()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok((
            Inline::Unknown,
            format!("no {ENV_INLINE} and no {}", shown.display()).into(),
        )),
        Err(e) => Err(fail(
            code::USAGE,
            format!(
                "cannot read {}: {e} (set {ENV_INLINE}=y|n to decide without it)",
                shown.display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auto_conf() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auto.conf");
        assert_eq!(from_auto_conf(&p).unwrap().0, Inline::Unknown);
        std::fs::write(&p, "CONFIG_RUST=y\nCONFIG_RUST_INLINE_HELPERS=y\n").unwrap();
        assert_eq!(from_auto_conf(&p).unwrap().0, Inline::On);
        std::fs::write(&p, "CONFIG_RUST=y\nCONFIG_RUST_INLINE_HELPERS_X=y\n# CONFIG_RUST_INLINE_HELPERS is not set\n").unwrap();
        assert_eq!(from_auto_conf(&p).unwrap().0, Inline::Off);
        // A directory where the file should be: a clear error, not "unknown".
        let err = from_auto_conf(d.path()).unwrap_err().to_string();
        assert!(err.starts_with("cannot read "), "{err}");
    }

    #[test]
    fn env_wins() {
        let s = Settings {
            inline_helpers: Some(false),
            ..Settings::default()
        };
        let (state, src) = inline_state(&s, None).unwrap();
        assert_eq!(state, Inline::Off);
        assert_eq!(src, "KBUILD_SHIM_INLINE_HELPERS=n");
    }
}
