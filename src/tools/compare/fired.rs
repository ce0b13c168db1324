//! The shim build's `KBUILD_SHIM_REPORT`, read with the same parser as
//! `--report` ([`report_summary::parse`]). For information only: which rules
//! fired, and where. The verdict never reads it, so a misread line can
//! excuse nothing.

use crate::tools::report_summary::{parse, Json};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fired {
    /// Report lines (non-empty lines of the file).
    pub commands: usize,
    /// Rule name → commands it fired in.
    pub rules: BTreeMap<String, usize>,
    /// `OUTPUT: rule,rule` per line, OUTPUT relative to the object tree
    /// (`M=: ` and relative to the module for the module's files).
    pub lines: Vec<String>,
}

/// Reads `report`, naming outputs relative to `obj` or (`M=: `) `module`.
pub fn read(report: &Path, obj: &Path, module: &Path) -> Fired {
    let text = std::fs::read(report).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let mut f = Fired::default();
    for (n, l) in text.lines().enumerate() {
        if l.is_empty() {
            continue;
        }
        f.commands += 1;
        let Some(v) = parse(l).filter(|v| v.get("rules").is_some()) else {
            f.lines
                .push(format!("(line {} is not a report line)", n + 1));
            continue;
        };
        let rules = v.get("rules").map(Json::strs).unwrap_or_default();
        for r in &rules {
            *f.rules.entry((*r).to_owned()).or_default() += 1;
        }
        let cwd = v.get("cwd").and_then(Json::str);
        let out = match v.get("output").and_then(Json::str) {
            Some(o) => shown(o, cwd, obj, module),
            None => "(no output)".into(),
        };
        f.lines.push(format!("{out}: {}", rules.join(",")));
    }
    f
}

/// An output as the table names files: relative to the object tree, or
/// `M=: ` and relative to the module.
fn shown(output: &str, cwd: Option<&str>, obj: &Path, module: &Path) -> String {
    let p = match cwd {
        Some(cwd) => Path::new(cwd).join(output),
        None => PathBuf::from(output),
    };
    let p = normal(&p);
    if let Ok(r) = p.strip_prefix(obj) {
        return r.display().to_string();
    }
    if let Ok(r) = p.strip_prefix(module) {
        return format!("M=: {}", r.display());
    }
    p.display().to_string()
}

/// `a/./b` → `a/b` (lexically: `..` stays, as symlinks may make it matter).
fn normal(p: &Path) -> PathBuf {
    p.components().filter(|c| *c != Component::CurDir).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_their_outputs_and_survive_odd_lines() {
        let t = tempfile::tempdir().unwrap();
        let report = t.path().join("r.jsonl");
        std::fs::write(
            &report,
            concat!(
                r#"{"time":1,"cwd":"/w/obj","role":"cc","output":"rust/kernel.o","rules":["ir-add-no-unused-argument"]}"#, "\n",
                r#"{"time":1,"cwd":"/w/mod","role":"cc","output":"./ir.o","rules":["ir-drop-Wp","ir-add-no-unused-argument"]}"#, "\n",
                r#"{"time":1,"cwd":"/w/obj","role":"cc","rules":["test-O1"]}"#, "\n",
                "\n",
                r#"{"torn":"#, "\n",
                r#"{"time":1,"cwd":"/elsewhere","output":"/abs/x.o","rules":[]}"#, "\n",
            ),
        )
        .unwrap();
        let f = read(&report, Path::new("/w/obj"), Path::new("/w/mod"));
        assert_eq!(f.commands, 5);
        assert_eq!(
            f.lines,
            [
                "rust/kernel.o: ir-add-no-unused-argument",
                "M=: ir.o: ir-drop-Wp,ir-add-no-unused-argument",
                "(no output): test-O1",
                "(line 5 is not a report line)",
                "/abs/x.o: ",
            ]
        );
        assert_eq!(f.rules["ir-add-no-unused-argument"], 2);
        assert_eq!(
            read(&t.path().join("none"), Path::new("/"), Path::new("/")),
            Fired::default()
        );
    }
}
