//! `kbuild-shim --report FILE`: the summary of a `KBUILD_SHIM_REPORT` file,
//! with just enough of a JSON parser to read the lines `report::line` writes.

use crate::{code, fail};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// A parsed JSON value: just enough to read the lines [`line`] writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn strs(&self) -> Vec<&str> {
        match self {
            Json::Arr(a) => a.iter().filter_map(Json::str).collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses one complete JSON value (strict: nothing may follow it).
pub fn parse(text: &str) -> Option<Json> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

const MAX_NESTING: usize = 16;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b" \t\r\n".contains(b)) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        let ok = self.s[self.i..].starts_with(lit);
        if ok {
            self.i += lit.len();
        }
        ok
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.s.get(self.i)? {
            b'n' => self.eat(b"null").then_some(Json::Null),
            b't' => self.eat(b"true").then_some(Json::Bool(true)),
            b'f' => self.eat(b"false").then_some(Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' | b'{' => {
                // Report lines nest two deep; a hostile file must not
                // overflow the stack through recursion.
                if self.depth >= MAX_NESTING {
                    return None;
                }
                self.depth += 1;
                let v = if self.s[self.i] == b'[' {
                    self.array()
                } else {
                    self.object()
                };
                self.depth -= 1;
                v
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b"+-.eE0123456789".contains(b))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                t.parse().ok().map(Json::Num)
            }
            _ => None,
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.i += 1;
        let mut v = Vec::new();
        self.ws();
        if self.eat(b"]") {
            return Some(Json::Arr(v));
        }
        loop {
            v.push(self.value()?);
            self.ws();
            if self.eat(b"]") {
                return Some(Json::Arr(v));
            }
            if !self.eat(b",") {
                return None;
            }
        }
    }

    fn object(&mut self) -> Option<Json> {
        self.i += 1;
        let mut m = Vec::new();
        self.ws();
        if self.eat(b"}") {
            return Some(Json::Obj(m));
        }
        loop {
            self.ws();
            let k = self.string()?;
            self.ws();
            if !self.eat(b":") {
                return None;
            }
            m.push((k, self.value()?));
            self.ws();
            if self.eat(b"}") {
                return Some(Json::Obj(m));
            }
            if !self.eat(b",") {
                return None;
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat(b"\"") {
            return None;
        }
        let mut out = String::new();
        loop {
            // Decode one character from its own bytes (not the rest of the
            // line: that would be quadratic on long arguments).
            let width = match *self.s.get(self.i)? {
                b if b < 0x80 => 1,
                b if b >> 5 == 0b110 => 2,
                b if b >> 4 == 0b1110 => 3,
                _ => 4,
            };
            let bytes = self.s.get(self.i..self.i + width)?;
            let c = std::str::from_utf8(bytes).ok()?.chars().next()?;
            self.i += c.len_utf8();
            match c {
                '"' => return Some(out),
                '\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    out.push(match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            // The writer never emits surrogates; a lone one reads as U+FFFD.
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}')
                        }
                        _ => return None,
                    });
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }
}

/// How many of the most frequent removed arguments the summary shows.
const TOP_REMOVED: usize = 10;

/// `kbuild-shim --report FILE`: the summary of a report file.
pub fn summary(path: &Path) -> anyhow::Result<u8> {
    let data = std::fs::read(path).map_err(|e| {
        fail(
            code::USAGE,
            format!("cannot read report '{}': {e}", path.display()),
        )
    })?;
    let text = String::from_utf8_lossy(&data);
    Ok(summarize(&text, path, &mut std::io::stdout().lock())?)
}

/// The summary of a report's `text` (named `path`) written to `out`: 0, or 1
/// when some non-empty line is not a report line. Separate from the file and
/// stdout so the fuzzer (`fuzz/fuzz_targets/report_reader.rs`) can run it.
pub fn summarize(text: &str, path: &Path, out: &mut impl Write) -> std::io::Result<u8> {
    let mut lines = 0usize;
    let mut bad: Vec<usize> = Vec::new();
    let mut rules: HashMap<String, usize> = HashMap::new();
    let mut removed: HashMap<String, usize> = HashMap::new();
    let mut skipped: Vec<String> = Vec::new();
    for (n, l) in text.lines().enumerate() {
        if l.is_empty() {
            continue;
        }
        let Some(v) = parse(l).filter(|v| v.get("rules").is_some()) else {
            bad.push(n + 1);
            continue;
        };
        lines += 1;
        for r in v.get("rules").map(Json::strs).unwrap_or_default() {
            *rules.entry(r.to_owned()).or_default() += 1;
        }
        for a in v.get("removed").map(Json::strs).unwrap_or_default() {
            *removed.entry(a.to_owned()).or_default() += 1;
        }
        if let Some(input) = v
            .get("gate")
            .and_then(|g| g.get("input"))
            .and_then(Json::str)
        {
            let cwd = v.get("cwd").and_then(Json::str).unwrap_or(".");
            let input = input.strip_prefix("./").unwrap_or(input);
            skipped.push(Path::new(cwd).join(input).display().to_string());
        }
    }
    let by_count = |m: HashMap<String, usize>| {
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    };
    writeln!(
        out,
        "{lines} invocations with a rule fired ({})",
        path.display()
    )?;
    writeln!(out, "rules:")?;
    for (r, n) in by_count(rules) {
        writeln!(out, "  {n:>6}  {r}")?;
    }
    writeln!(
        out,
        "ld -r skipped (Rust object copied), {} objects:",
        skipped.len()
    )?;
    skipped.sort();
    for s in &skipped {
        writeln!(out, "          {s}")?;
    }
    writeln!(out, "most removed arguments:")?;
    for (a, n) in by_count(removed).into_iter().take(TOP_REMOVED) {
        let shown = shlex::try_quote(&a).unwrap_or_else(|_| a.clone().into());
        writeln!(out, "  {n:>6}  {shown}")?;
    }
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().take(10).map(|n| n.to_string()).collect();
        writeln!(
            out,
            "{} lines are not report lines (line {})",
            bad.len(),
            shown.join(", ")
        )?;
        return Ok(1);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        assert!(parse(&"[".repeat(200_000)).is_none());
        assert!(parse(&format!("{}{}", "[".repeat(10), "]".repeat(10))).is_some());
        // Long strings parse in linear time (a 4 MB argument, well under a second).
        let long = format!("\"{}é\"", "x".repeat(4 << 20));
        assert!(matches!(parse(&long), Some(Json::Str(s)) if s.len() == (4 << 20) + 2));
    }

    use super::*;
    use crate::cc::{plan as cc_plan, words};
    use crate::cli::Role;
    use crate::report::{escaped, line};

    #[test]
    fn escapes() {
        assert_eq!(escaped(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            escaped(b"\n\r\t\x01\x1f\x7f"),
            r#""\n\r\t\u0001\u001f\u007f""#
        );
        assert_eq!(escaped("é€".as_bytes()), "\"é€\"");
        // Not UTF-8: each invalid byte as its Latin-1 code point.
        assert_eq!(escaped(b"x\xffy\xc3"), r#""x\u00ffy\u00c3""#);
        assert_eq!(parse(&escaped(b"x\xffy")), Some(Json::Str("xÿy".into())));
        for s in ["a\"b\\c\n\u{1}é", "", "\u{7f}"] {
            assert_eq!(
                parse(&escaped(s.as_bytes())),
                Some(Json::Str(s.into())),
                "{s:?}"
            );
        }
    }

    #[test]
    fn parser_rejects_garbage_and_torn_lines() {
        for bad in [
            "",
            "{",
            "{\"a\":1",
            "[1,]",
            "\"a",
            "{\"a\" 1}",
            "{} x",
            "\"\u{1}\"",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse(r#"{"a":[1,-2.5e3,true,null],"b":{}}"#),
            Some(Json::Obj(vec![
                (
                    "a".into(),
                    Json::Arr(vec![
                        Json::Num(1.0),
                        Json::Num(-2500.0),
                        Json::Bool(true),
                        Json::Null
                    ])
                ),
                ("b".into(), Json::Obj(vec![])),
            ]))
        );
    }

    #[test]
    fn a_line_round_trips() {
        let plan = cc_plan(
            words(&["-Uarm", "-I", "inc", "-c", "a.bc", "-o", "a.o"]),
            false,
        );
        let l = line(&plan, Role::Cc, Path::new("/k"), 12.5);
        assert!(l.ends_with(b"}\n") && !l[..l.len() - 1].contains(&b'\n'));
        let v = parse(std::str::from_utf8(&l).unwrap().trim_end()).unwrap();
        assert_eq!(v.get("role").and_then(Json::str), Some("cc"));
        assert_eq!(v.get("output").and_then(Json::str), Some("a.o"));
        assert_eq!(v.get("removed").unwrap().strs(), ["-Uarm", "-I", "inc"]);
        assert_eq!(v.get("gate"), Some(&Json::Null));
        assert_eq!(v.get("time"), Some(&Json::Num(12.5)));
        assert!(v.get("rules").unwrap().strs().contains(&"ir-drop-U"));
    }
}
