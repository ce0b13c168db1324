//! The one walk over a clang command line: each argv element becomes a typed
//! token (a table option with its value, another option with the values
//! clang gives it, an input, a response file, `--`), as sccache's `ArgsIter`.
//! Classifying, rewriting and the build report all read these tokens.

use super::options::{lookup, separate_values, CcOption, Form};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// An option of [`super::options::CC_OPTIONS`] and its value (joined, or
    /// the next word; `None` for a flag or when the value is missing).
    Opt {
        opt: &'static CcOption,
        value: Option<&'a [u8]>,
    },
    /// Any other option, with as many following words as clang gives it.
    Other,
    /// An input file (`-` is stdin).
    Input(&'a [u8]),
    /// `@file`: clang would read more arguments from it.
    ResponseFile,
    /// `--`: every later word is an input.
    DoubleDash,
}

/// A token and the argv elements `[start, end)` it spans. `end` is past the
/// end of argv when the option's value is missing (see [`Tok::complete`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    pub token: Token<'a>,
    pub start: usize,
    pub end: usize,
}

pub struct Tokens<'a> {
    args: &'a [OsString],
    i: usize,
    after_double_dash: bool,
}

/// The tokens of `args` (argv[1..] of a clang command). Allocates nothing.
pub fn tokens(args: &[OsString]) -> Tokens<'_> {
    Tokens {
        args,
        i: 0,
        after_double_dash: false,
    }
}

impl Tok<'_> {
    /// False when the command ends before this option's value.
    pub fn complete(&self, argc: usize) -> bool {
        self.end <= argc
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        let args = self.args;
        let start = self.i;
        let a = args.get(start)?.as_bytes();
        self.i += 1;
        let token = if self.after_double_dash {
            Token::Input(a)
        } else if a == b"--" {
            self.after_double_dash = true;
            Token::DoubleDash
        } else if a.len() > 1 && a[0] == b'-' {
            match lookup(a) {
                None => {
                    // Not ours: its values (clang's own count) go with it.
                    self.i += separate_values(a);
                    Token::Other
                }
                Some(opt) => {
                    let exact = opt.name.len() == a.len();
                    let next = || args.get(start + 1).map(|v| v.as_bytes());
                    let value = match opt.form {
                        Form::Flag => None,
                        Form::Separate => next(),
                        Form::JoinedOrSeparate | Form::EqOrSeparate if exact => next(),
                        Form::Joined | Form::JoinedOrSeparate => Some(&a[opt.name.len()..]),
                        Form::EqOrSeparate => Some(&a[opt.name.len() + 1..]),
                    };
                    let separate = matches!(
                        opt.form,
                        Form::Separate | Form::JoinedOrSeparate | Form::EqOrSeparate
                    );
                    if exact && separate {
                        self.i += 1;
                    }
                    Token::Opt { opt, value }
                }
            }
        } else if a.first() == Some(&b'@') {
            Token::ResponseFile
        } else {
            Token::Input(a)
        };
        Some(Tok {
            token,
            start,
            end: self.i,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::words;

    fn kinds(s: &[&str]) -> Vec<(String, usize, usize)> {
        let a = words(s);
        tokens(&a)
            .map(|t| {
                let k = match t.token {
                    Token::Opt { opt, value } => format!(
                        "{}={}",
                        opt.name,
                        value.map_or("-".into(), |v| String::from_utf8_lossy(v).into_owned())
                    ),
                    Token::Other => "other".into(),
                    Token::Input(i) => format!("in:{}", String::from_utf8_lossy(i)),
                    Token::ResponseFile => "@".into(),
                    Token::DoubleDash => "--".into(),
                };
                (k, t.start, t.end)
            })
            .collect()
    }

    #[test]
    fn spans_and_values() {
        let k = |v: &[(&str, usize, usize)]| {
            v.iter()
                .map(|(a, b, c)| (a.to_string(), *b, *c))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&[
                "-I", "inc", "-Ix", "-Xclang", "a.c", "-o", "o.o", "in.bc", "@r", "-", "--", "-c"
            ]),
            k(&[
                ("-I=inc", 0, 2),
                ("-I=x", 2, 3),
                ("other", 3, 5),
                ("-o=o.o", 5, 7),
                ("in:in.bc", 7, 8),
                ("@", 8, 9),
                ("in:-", 9, 10),
                ("--", 10, 11),
                ("in:-c", 11, 12),
            ])
        );
        // A missing value: the span runs past argv.
        let a = words(&["-c", "-o"]);
        let last = tokens(&a).last().unwrap();
        assert!(!last.complete(a.len()));
        assert_eq!(kinds(&["-objectfoo"])[0].0, "-o=bjectfoo");
        assert_eq!(
            kinds(&["-object-file-name", "x"])[0],
            ("-object-file-name=x".into(), 0, 2)
        );
        assert_eq!(kinds(&["--output=o"])[0].0, "--output=o");
    }
}
