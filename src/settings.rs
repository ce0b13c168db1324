//! The `KBUILD_SHIM_*` environment, read and validated once per invocation.
//!
//! A variable set to something we do not understand is an error naming the
//! variable: a typo in `KBUILD_SHIM_INLINE_HELPERS` must not silently change
//! what ends up in a kernel.

use crate::{code, fail};
use std::ffi::{OsStr, OsString};

pub const ENV_LOG: &str = "KBUILD_SHIM_LOG";
pub const ENV_STRICT: &str = "KBUILD_SHIM_STRICT";
pub const ENV_INLINE: &str = "KBUILD_SHIM_INLINE_HELPERS";
pub const ENV_PATH: &str = "KBUILD_SHIM_PATH";
pub const ENV_DEPTH: &str = "KBUILD_SHIM_DEPTH";
pub const ENV_LAUNCHER: &str = "KBUILD_SHIM_LAUNCHER";
pub const ENV_REPORT: &str = "KBUILD_SHIM_REPORT";

/// How many shims may be stacked before we call it a loop. Legitimate chains
/// are short (make → shim → clang → shim-as-ld.lld); a loop through another
/// wrapper reaches this in milliseconds, since each hop is an `exec`.
pub const MAX_DEPTH: u32 = 8;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `KBUILD_SHIM_STRICT=1`: only the precise removals, no blanket
    /// `-Wno-unused-command-line-argument`.
    pub strict: bool,
    /// `KBUILD_SHIM_INLINE_HELPERS=y|n`; `None` = consult `auto.conf`.
    pub inline_helpers: Option<bool>,
    /// `KBUILD_SHIM_LOG` level, if logging is wanted.
    pub log: Option<String>,
    /// How many shims are already above this one.
    pub depth: u32,
    /// Where to search for the real tool, and the variable it came from.
    pub search_path: Option<OsString>,
    pub search_path_var: &'static str,
    /// `KBUILD_SHIM_LAUNCHER`, shell-split: run as `<launcher…> <tool> <args…>`.
    pub launcher: Option<Vec<OsString>>,
    /// `KBUILD_SHIM_REPORT`: append a JSON line when a rule fired.
    pub report: Option<std::path::PathBuf>,
}

impl Settings {
    /// Reads the variables through `get` (the host's environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<Self> {
        let text = |name: &str| -> anyhow::Result<Option<String>> {
            match get(name) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => v
                    .into_string()
                    .map(Some)
                    .map_err(|_| fail(code::USAGE, format!("{name} is not valid UTF-8"))),
            }
        };
        let strict = match text(ENV_STRICT)?.as_deref() {
            None | Some("0") | Some("n") => false,
            Some("1") | Some("y") => true,
            Some(v) => return Err(bad(ENV_STRICT, v, "1 or 0")),
        };
        let inline_helpers = match text(ENV_INLINE)?.as_deref() {
            None => None,
            Some("y") | Some("1") => Some(true),
            Some("n") | Some("0") => Some(false),
            Some(v) => return Err(bad(ENV_INLINE, v, "y or n")),
        };
        let log = match text(ENV_LOG)? {
            None => None,
            Some(v) => {
                let level = v.to_ascii_lowercase();
                if !["off", "error", "warn", "info", "debug", "trace"].contains(&level.as_str()) {
                    return Err(bad(ENV_LOG, &v, "off, error, warn, info, debug or trace"));
                }
                Some(level)
            }
        };
        let depth = match text(ENV_DEPTH)? {
            None => 0,
            Some(v) => v
                .parse::<u32>()
                .map_err(|_| bad(ENV_DEPTH, &v, "a small number (set by kbuild-shim itself)"))?,
        };
        let (search_path, search_path_var) = match get(ENV_PATH) {
            Some(p) if !p.is_empty() => (Some(p), ENV_PATH),
            // Unset PATH: the default search path, as execvp and shells use.
            _ => (
                Some(get("PATH").unwrap_or_else(crate::path_search::default_path)),
                "PATH",
            ),
        };
        let launcher = match text(ENV_LAUNCHER)? {
            None => None,
            Some(v) => match shlex::split(&v) {
                Some(w) if !w.is_empty() => Some(w.into_iter().map(OsString::from).collect()),
                _ => {
                    return Err(bad(
                        ENV_LAUNCHER,
                        &v,
                        "a command in shell words, e.g. ccache",
                    ))
                }
            },
        };
        // A path, so any bytes are fine; the file is only opened when a rule fires.
        let report = get(ENV_REPORT)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        Ok(Settings {
            strict,
            launcher,
            report,
            inline_helpers,
            log,
            depth,
            search_path,
            search_path_var,
        })
    }

    /// The search path as directories; an empty entry means the current
    /// directory, as for `execvp`.
    pub fn search_dirs(&self) -> Vec<&OsStr> {
        self.search_path
            .as_deref()
            .map_or_else(Vec::new, crate::path_search::split_dirs)
    }

    /// The search for the real tool: [`Self::search_dirs`], named by the
    /// variable they came from.
    pub fn search<'a>(
        &'a self,
        me: Option<&'a crate::path_search::SelfId>,
        base: Option<&'a std::path::Path>,
    ) -> crate::path_search::Search<'a> {
        crate::path_search::Search::new(self.search_dirs(), self.search_path_var, me, base)
    }
}

fn bad(name: &str, value: &str, want: &str) -> anyhow::Error {
    fail(
        code::USAGE,
        format!("{name}='{}' is not valid: use {want}", value.escape_debug()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = with(&[("PATH", "/a::/b")]).unwrap();
        assert!(!s.strict);
        assert_eq!(s.inline_helpers, None);
        assert_eq!(s.depth, 0);
        assert_eq!(s.search_path_var, "PATH");
        assert_eq!(s.search_dirs(), vec!["/a", ".", "/b"]);
    }

    #[test]
    fn shim_path_replaces_path() {
        let s = with(&[("PATH", "/a"), (ENV_PATH, "/c")]).unwrap();
        assert_eq!(s.search_path_var, ENV_PATH);
        assert_eq!(s.search_dirs(), vec!["/c"]);
    }

    #[test]
    fn garbage_names_the_variable() {
        for (k, v) in [
            (ENV_INLINE, "maybe"),
            (ENV_STRICT, "yes please"),
            (ENV_LOG, "loud"),
            (ENV_DEPTH, "-1"),
            (ENV_LAUNCHER, "   "),
        ] {
            let err = with(&[(k, v)]).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{k}='{v}' is not valid")), "{err}");
        }
    }

    #[test]
    fn launcher_is_shell_split() {
        let s = with(&[(ENV_LAUNCHER, "env 'A=b c' ccache")]).unwrap();
        assert_eq!(
            s.launcher,
            Some(vec!["env".into(), "A=b c".into(), "ccache".into()])
        );
        assert_eq!(with(&[(ENV_LAUNCHER, "")]).unwrap().launcher, None);
        let err = with(&[(ENV_LAUNCHER, "ccache 'oops")]).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("KBUILD_SHIM_LAUNCHER='ccache \\'oops' is not valid"));
    }

    #[test]
    fn inline_values() {
        assert_eq!(
            with(&[(ENV_INLINE, "y")]).unwrap().inline_helpers,
            Some(true)
        );
        assert_eq!(
            with(&[(ENV_INLINE, "n")]).unwrap().inline_helpers,
            Some(false)
        );
        assert_eq!(with(&[(ENV_INLINE, "")]).unwrap().inline_helpers, None);
    }
}
