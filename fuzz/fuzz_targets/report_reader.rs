//! The `--report` reader (`tools::report_summary`): `parse` and the summary
//! on any bytes, with no panic and no hang (nesting is bounded, strings are
//! read in linear time). The summary exits 1 exactly when a non-empty line is
//! not a report line. And the reader reads back exactly what the writer
//! (`report::json_str`, `report::line`) wrote, for any bytes.
#![no_main]

use kbuild_shim::cli::Role;
use kbuild_shim::tools::report_summary::{parse, summarize, Json};
use kbuild_shim::{cc, report};
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

/// What the reader must return for bytes the writer escaped: valid UTF-8 as
/// is, each other byte as the character U+00XX.
fn as_read(bytes: &[u8]) -> String {
    bytes
        .utf8_chunks()
        .flat_map(|c| {
            c.valid()
                .chars()
                .chain(c.invalid().iter().map(|&b| char::from(b)))
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // The reader on any text, line by line, and the summary over it.
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let code = summarize(&text, Path::new("fuzz.jsonl"), &mut out).expect("writes to a Vec");
    let bad = text
        .lines()
        .filter(|l| !l.is_empty())
        .filter(|l| parse(l).filter(|v| v.get("rules").is_some()).is_none())
        .count();
    assert_eq!(code, u8::from(bad > 0), "exit code vs {bad} bad lines");
    assert!(std::str::from_utf8(&out).is_ok());

    // Writer → reader on one string: any bytes round-trip.
    let mut enc = Vec::new();
    report::json_str(&mut enc, data);
    let enc = std::str::from_utf8(&enc).expect("json_str writes UTF-8");
    assert!(!enc.contains('\n'), "a report line has no raw newline");
    assert_eq!(parse(enc), Some(Json::Str(as_read(data))));

    // Writer → reader on a whole line: the plan for the bytes as a
    // NUL-separated clang argv, in a cwd made of the first word.
    let args: Vec<OsString> = data
        .split(|&b| b == 0)
        .map(|w| OsString::from_vec(w.to_vec()))
        .collect();
    let cwd = Path::new(std::ffi::OsStr::from_bytes(
        data.split(|&b| b == 0).next().unwrap(),
    ));
    let plan = cc::plan(args, false);
    let line = report::line(&plan, Role::Cc, cwd, 1.5);
    let line = std::str::from_utf8(&line).expect("report lines are UTF-8");
    let body = line.strip_suffix('\n').expect("one newline, at the end");
    let v = parse(body).expect("the reader reads every line the writer writes");
    let rules: Vec<&str> = plan.fired.iter().map(|f| f.rule).collect();
    assert_eq!(v.get("rules").unwrap().strs(), rules);
    let removed: Vec<String> = plan
        .fired
        .iter()
        .flat_map(|f| &f.removed)
        .map(|a| as_read(a.as_bytes()))
        .collect();
    assert_eq!(v.get("removed").unwrap().strs(), removed);
    assert_eq!(
        v.get("cwd").and_then(Json::str),
        Some(&*as_read(cwd.as_os_str().as_bytes()))
    );
    let mut out = Vec::new();
    assert_eq!(summarize(line, Path::new("one"), &mut out).unwrap(), 0);
});
