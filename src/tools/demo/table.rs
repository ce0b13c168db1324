//! The demo's output: the table, plain clang's first errors, the verdict.

use super::rows::{Outcome, Row};
use std::fmt::Write as _;

pub fn table(rows: &[(Row, Outcome)]) -> String {
    const HEAD: [&str; 9] = [
        "arch",
        "rules",
        "extra",
        "INLINE",
        "LTO",
        "shim",
        "inlined",
        "Rust ld -r",
        "plain clang",
    ];
    let mut lines: Vec<[String; 9]> = vec![HEAD.map(str::to_owned)];
    // Plain clang's first errors go below the table, so it fits 100 columns.
    let mut notes = Vec::new();
    for (row, o) in rows {
        let shim = if o.shim.is_ok() { "ok" } else { "FAILED" };
        let inlined = match &o.inlined {
            None => "-",
            Some((true, _)) => "yes",
            Some((false, _)) => "no",
        };
        let plain = match &o.plain {
            Ok(()) => "ok".to_owned(),
            Err((line, more)) => {
                notes.push(cell(line, *more));
                format!("FAILED [{}]", notes.len())
            }
        };
        lines.push([
            row.arch.into(),
            row.rules.into(),
            row.extra.text().into(),
            u8::from(row.inline).to_string(),
            u8::from(row.lto).to_string(),
            shim.into(),
            inlined.into(),
            o.ld.text().into(),
            plain,
        ]);
    }
    let mut width = [0usize; 9];
    for l in &lines {
        for (w, c) in width.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let mut line = String::new();
        for (c, w) in l.iter().zip(width) {
            let _ = write!(line, "{c:<w$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("\nplain clang's first error:\n");
        for (i, n) in notes.iter().enumerate() {
            let _ = writeln!(out, "[{}] {n}", i + 1);
        }
    }
    out
}

/// Shortens a clang error line for a table cell: the `[-Werror,…]` tail goes
/// first, then the middle of anything still too long.
fn cell(line: &str, more: usize) -> String {
    const MAX: usize = 90;
    let mut s = line.to_owned();
    if s.chars().count() > MAX {
        if let Some(p) = s.rfind(" [-W") {
            s.truncate(p);
        }
    }
    if s.chars().count() > MAX {
        s = s.chars().take(MAX - 1).collect::<String>() + "…";
    }
    if more > 0 {
        let _ = write!(s, " (+{more} more)");
    }
    s
}

/// `text` in lines of at most `width` columns, continuation lines indented.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = "  ".to_owned();
        }
        if !line.is_empty() && line != "  " {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The verdict when every row behaved: what plain clang broke on, where it
/// passed, and what the shim proved.
pub fn verdict_ok(results: &[(Row, Outcome)]) -> String {
    let mut broke = Vec::new();
    let mut passed = Vec::new();
    for (row, o) in results {
        match &o.plain {
            Err((line, _)) => broke.push(format!("{} ({})", row.label(), broke_on(line))),
            Ok(()) => passed.push(row.label()),
        }
    }
    let plain = match (broke.is_empty(), passed.is_empty()) {
        (true, _) => "plain clang passed everywhere".to_owned(),
        (false, true) => format!("plain clang broke on {}", broke.join(", ")),
        (false, false) => format!(
            "plain clang broke on {} and passed on {}",
            broke.join(", "),
            passed.join(", ")
        ),
    };
    format!(
        "verdict: OK: {plain}; with the shim all {} builds pass, inlining is proven in every \
         INLINE=1 build, and with INLINE=0 the Rust ld -r is a copy under RULES=v2 and not run \
         under merged",
        results.len()
    )
}

/// What plain clang broke on, for the verdict: the quoted argument of an
/// "argument unused" error, else the shortened error line.
fn broke_on(line: &str) -> String {
    const UNUSED: &str = "argument unused during compilation: '";
    line.find(UNUSED)
        .map(|p| &line[p + UNUSED.len()..])
        .and_then(|rest| rest.find('\'').map(|q| format!("'{}'", &rest[..q])))
        .unwrap_or_else(|| cell(line, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells() {
        let arm = "clang-22: error: argument unused during compilation: '-U arm' \
                   [-Werror,-Wunused-command-line-argument]";
        assert_eq!(
            cell(arm, 0),
            "clang-22: error: argument unused during compilation: '-U arm'"
        );
        assert_eq!(cell("short", 2), "short (+2 more)");
        assert_eq!(cell(&"x".repeat(200), 0).chars().count(), 90);
    }

    #[test]
    fn verdict_names_what_plain_clang_broke_on() {
        let arm = "clang-22: error: argument unused during compilation: '-U arm' \
                   [-Werror,-Wunused-command-line-argument]";
        assert_eq!(broke_on(arm), "'-U arm'");
        assert_eq!(broke_on("ld.lld: error: x"), "ld.lld: error: x");
        let text = wrap(&"word ".repeat(60), 100);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert!(
            text.lines().skip(1).all(|l| l.starts_with("  word")),
            "{text}"
        );
    }
}
