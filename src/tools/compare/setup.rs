//! Everything checked before the first build: the wrapper under test, the
//! real tools (never the wrapper), the source tree, the module and the
//! config. Each failure is one line and exit 2, before anything is built.

use super::options::{tools_of, Options};
use super::usage_error;
use crate::tools::toolchain::find_in;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// `path` made absolute with its directories resolved (`cd DIR && pwd -P`),
/// the last component kept as it is: the paths the tools report and record
/// must match the work directory's.
pub fn physical(path: &Path) -> anyhow::Result<PathBuf> {
    let name = path.file_name();
    let parent = match (path.parent(), name) {
        (Some(p), Some(_)) if !p.as_os_str().is_empty() => p,
        (_, Some(_)) => Path::new("."),
        _ => return Ok(std::fs::canonicalize(path)?),
    };
    let dir = std::fs::canonicalize(parent)?;
    Ok(match name {
        Some(n) if n != "." && n != ".." => dir.join(n),
        _ => std::fs::canonicalize(path)?,
    })
}

/// `path` as UTF-8: kbuild takes paths in make variables and command lines,
/// and a lossy conversion would name another file.
pub fn utf8<'a>(path: &'a Path, what: &str) -> anyhow::Result<&'a str> {
    path.to_str().ok_or_else(|| {
        usage_error(format!(
            "{what}: the path '{}' is not UTF-8, which this tool does not take",
            path.display()
        ))
    })
}

/// Whether `p` is a kbuild-shim: the wrapper under test, this binary (or a
/// byte-identical copy), or any file named `kbuild-shim` once every link is
/// resolved. The plain and reference builds must run none of them: another
/// shim version in the caller's PATH (the README's masquerade set-up) would
/// make the yardstick share the code under test.
fn is_a_shim(p: &Path, w: &Wrapper) -> bool {
    let Ok(real) = std::fs::canonicalize(p) else {
        return false;
    };
    real == w.real
        || real.file_name().is_some_and(|n| n == crate::cli::SHIM_NAME)
        || std::fs::metadata(&real)
            .is_ok_and(|m| crate::path_search::SelfId::current().is_some_and(|me| me.is(&real, &m)))
}

/// The wrapper under test as words, the first an absolute path.
pub struct Wrapper {
    pub words: Vec<String>,
    /// Its executable, every symlink resolved: what a masquerade link or a
    /// PATH entry must not be for the plain and reference builds.
    pub real: PathBuf,
}

impl Wrapper {
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

pub fn wrapper(o: &Options, path_env: &OsStr) -> anyhow::Result<Wrapper> {
    let mut words: Vec<String> = match &o.shim {
        Some(cmd) => cmd.split_whitespace().map(str::to_owned).collect(),
        None => {
            let me = std::env::current_exe()
                .map_err(|e| usage_error(format!("cannot find this kbuild-shim's path: {e}")))?;
            vec![utf8(&me, "this kbuild-shim")?.to_owned()]
        }
    };
    let Some(w0) = words.first().cloned() else {
        return Err(usage_error("--shim needs a command"));
    };
    let exe = if w0.contains('/') {
        let p = Path::new(&w0);
        if !p.is_file() || !is_executable(p) {
            return Err(usage_error(format!(
                "--shim: '{w0}' is not an executable file"
            )));
        }
        physical(p)?
    } else {
        // Absolute even when found through a relative PATH entry: the
        // builds run it from the object directory.
        let found = find_in(path_env, &w0, None)
            .ok_or_else(|| usage_error(format!("--shim: '{w0}' not found in PATH")))?;
        physical(&found)?
    };
    let shown = utf8(&exe, "--shim")?.to_owned();
    if shown.contains(char::is_whitespace) {
        return Err(usage_error(format!(
            "--shim: the path '{shown}' has a space, which kbuild cannot take in CC"
        )));
    }
    words[0] = shown;
    if o.masquerade && words.len() != 1 {
        return Err(usage_error(format!(
            "--masquerade links tool names to one executable; --shim '{}' has several words",
            o.shim.as_deref().unwrap_or_default()
        )));
    }
    let real = std::fs::canonicalize(&exe)?;
    Ok(Wrapper { words, real })
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// The real tools the plain and reference builds run.
pub struct RealTools {
    pub cc: String,
    pub ld: String,
    pub version: Option<String>,
    pub cc_path: PathBuf,
}

impl RealTools {
    /// `/usr/bin/clang-22 -> /usr/lib/llvm-22/bin/clang`, for the header.
    pub fn cc_shown(&self) -> String {
        let p = self.cc_path.display().to_string();
        match std::fs::canonicalize(&self.cc_path) {
            Ok(r) if r != self.cc_path => format!("{p} -> {}", r.display()),
            _ => p,
        }
    }
}

/// `make`, clang and ld.lld found, and neither of the tools is the wrapper
/// under test: a PATH directory where `clang-N` or `ld.lld-N` is the wrapper
/// (its masquerade directory) would run the plain and reference builds
/// through it, and prove nothing.
pub fn real_tools(o: &Options, path_env: &OsStr, w: &Wrapper) -> anyhow::Result<RealTools> {
    let (cc, ld, version) = tools_of(&o.llvm)?;
    let lookup = |t: &str| -> Option<PathBuf> {
        if t.starts_with('/') {
            let p = PathBuf::from(t);
            (p.is_file() && is_executable(&p)).then_some(p)
        } else {
            find_in(path_env, t, None)
        }
    };
    let mut found = Vec::new();
    for t in ["make", cc.as_str(), ld.as_str()] {
        let p = lookup(t).ok_or_else(|| {
            usage_error(format!(
                "'{t}' not found (install it, e.g. with wrapper-scripts/install-toolchain)"
            ))
        })?;
        found.push(p);
    }
    for dir in std::env::split_paths(path_env) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        for t in [&cc, &ld] {
            if !t.starts_with('/') && is_a_shim(&dir.join(t), w) {
                return Err(usage_error(format!(
                    "PATH holds '{}', where '{t}' is a kbuild-shim (a masquerade directory); remove it from PATH, so that the plain and reference builds run the real tools",
                    dir.display()
                )));
            }
        }
    }
    for p in &found[1..] {
        if is_a_shim(p, w) {
            return Err(usage_error(format!(
                "'{}' is a kbuild-shim; the plain and reference builds need the real tool",
                p.display()
            )));
        }
        let mut head = [0u8; 2];
        let n = std::fs::File::open(p)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        if n == 2 && &head == b"#!" {
            return Err(usage_error(format!(
                "'{}' is a script, not the real tool; put the real one first in PATH",
                p.display()
            )));
        }
    }
    Ok(RealTools {
        cc,
        ld,
        version,
        cc_path: found.swap_remove(1),
    })
}

/// Where the kernel source comes from.
pub enum Source {
    Tree(PathBuf),
    /// A `.tar.xz`, unpacked into the work directory.
    Tarball(PathBuf),
}

pub fn source(src: &Path, path_env: &OsStr) -> anyhow::Result<Source> {
    let shown = src.display();
    if src.is_dir() {
        let src = std::fs::canonicalize(src)?;
        utf8(&src, "SRC")?;
        if !src.join("Makefile").is_file() {
            return Err(usage_error(format!(
                "SRC '{}' is not a kernel source tree (no Makefile)",
                src.display()
            )));
        }
        // kbuild refuses O= builds of a tree configured in place.
        if src.join(".config").exists() || src.join("include/config").is_dir() {
            return Err(usage_error(format!(
                "SRC '{}' is configured in place (.config); run 'make mrproper' there or give a clean tree",
                src.display()
            )));
        }
        return Ok(Source::Tree(src));
    }
    if src.is_file() {
        let name = src.as_os_str().as_bytes();
        if !(name.ends_with(b".tar.xz") || name.ends_with(b".txz")) {
            return Err(usage_error(format!(
                "SRC '{shown}' is neither a directory nor a .tar.xz"
            )));
        }
        for (t, hint) in [("xz", " (apt-get install xz-utils)"), ("tar", "")] {
            if find_in(path_env, t, None).is_none() {
                return Err(usage_error(format!(
                    "'{t}' not found, needed to unpack {shown}{hint}"
                )));
            }
        }
        let tarball = physical(src)?;
        utf8(&tarball, "SRC")?;
        return Ok(Source::Tarball(tarball));
    }
    Err(usage_error(format!("SRC '{shown}' does not exist")))
}

/// `M=DIR`: a directory with a Makefile or Kbuild, as a physical path.
pub fn module(dir: &Path) -> anyhow::Result<PathBuf> {
    if !dir.is_dir() {
        return Err(usage_error(format!(
            "M=: '{}' is not a directory",
            dir.display()
        )));
    }
    let dir = std::fs::canonicalize(dir)?;
    utf8(&dir, "M=")?;
    if !dir.join("Makefile").is_file() && !dir.join("Kbuild").is_file() {
        return Err(usage_error(format!(
            "M=: '{}' has no Makefile or Kbuild",
            dir.display()
        )));
    }
    Ok(dir)
}

/// What `--config` names: a file (completed with `olddefconfig`) or a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Config {
    File(PathBuf),
    Target(String),
}

impl Config {
    pub fn of(config: &str) -> anyhow::Result<Config> {
        let path = std::path::Path::new(config);
        if path.is_file() {
            let file = physical(path)?;
            utf8(&file, "--config")?;
            return Ok(Config::File(file));
        }
        let plain = config
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !plain {
            return Err(usage_error(format!(
                "--config '{config}' is not an existing file"
            )));
        }
        if super::options::INTERACTIVE.contains(&config) {
            return Err(usage_error(format!(
                "--config '{config}' is interactive (it asks questions); give a .config file or a target such as defconfig"
            )));
        }
        if !config.ends_with("config") {
            return Err(usage_error(format!(
                "--config '{config}' is neither an existing file nor a config target (such as defconfig)"
            )));
        }
        Ok(Config::Target(config.into()))
    }

    /// The make target each build configures with.
    pub fn target(&self) -> &str {
        match self {
            Config::File(_) => "olddefconfig",
            Config::Target(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_targets() {
        assert_eq!(
            Config::of("multi_v7_defconfig").unwrap().target(),
            "multi_v7_defconfig"
        );
        assert!(Config::of("menuconfig")
            .unwrap_err()
            .to_string()
            .contains("interactive"));
        assert!(Config::of("bogus")
            .unwrap_err()
            .to_string()
            .contains("neither an existing file"));
        assert!(Config::of("no/such/file")
            .unwrap_err()
            .to_string()
            .contains("not an existing file"));
    }

    #[test]
    fn physical_paths_resolve_directories_only() {
        let t = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(t.path()).unwrap();
        std::fs::create_dir(real.join("d")).unwrap();
        std::os::unix::fs::symlink(real.join("d"), real.join("l")).unwrap();
        std::os::unix::fs::symlink("target", real.join("d/name")).unwrap();
        assert_eq!(physical(&real.join("l/name")).unwrap(), real.join("d/name"));
        assert_eq!(physical(&real.join("l")).unwrap(), real.join("l"));
    }
}
