//! The allow-list of the gate: every word of a gated line must be one of
//! these, spelled as kbuild writes `$(KBUILD_LDFLAGS) $(ldflags-y)
//! $(LDFLAGS_$(@F))` for ld.lld. Source: Linux 6.12 `Makefile` and
//! `arch/{x86,arm64,arm,riscv,loongarch,um}/Makefile` (x86/Makefile.um), plus
//! the LTO flags of earlier kernels (`--thinlto-cache-dir=`, `-plugin-opt=`,
//! `--lto-O2`, `-O2`), and since 7.2 `--fatal-warnings` (docs/kbuild-pipeline.md
//! §9; what else 7.3 puts in `ld_flags`, and why it is not here: §10). Anything else (an unknown or hidden option, a separated
//! form lld rejects, a missing value, `--`, `--rsp-quoting`) is not
//! understood, and the real linker runs. `tests/real_ld.rs` runs every
//! `example` through ld.lld-22 and checks it is accepted silently.

/// What follows an option (joined after it, or as the next word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
    /// A name in [`EMULATIONS`].
    Emulation,
    /// A `-z` keyword from [`Z_KEYWORDS`], or `max-page-size=` a power of two.
    ZKeyword,
    /// An LLVM option lld-22 accepts (see [`LLVM_OPTIONS`]).
    Llvm,
    /// `O0`…`O3`, or `-` and an LLVM option.
    PluginOpt,
    /// Any non-empty word (a directory name).
    NonEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The word itself.
    Flag,
    /// The value is the next word.
    Separate(Value),
    /// The value is the rest of the word.
    Joined(Value),
}

#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub spelling: &'static str,
    pub form: Form,
    /// A use of it, checked against ld.lld-22 by `tests/real_ld.rs`.
    pub example: &'static [&'static str],
}

const fn allow(spelling: &'static str, form: Form, example: &'static [&'static str]) -> Allowed {
    Allowed {
        spelling,
        form,
        example,
    }
}

use Form::*;
use Value::*;

/// The options (besides `-r` and `-o`, which the shape match reads itself).
pub const LD_SINGLE_ALLOWED: &[Allowed] = &[
    allow("-m", Separate(Emulation), &["-m", "elf_x86_64"]),
    allow("-m", Joined(Emulation), &["-melf_x86_64"]),
    allow("-EL", Flag, &["-EL"]),
    allow("-EB", Flag, &["-EB"]),
    allow("-z", Separate(ZKeyword), &["-z", "noexecstack"]),
    allow(
        "-mllvm",
        Separate(Llvm),
        &["-mllvm", "-import-instr-limit=5"],
    ),
    allow("--mllvm", Separate(Llvm), &["--mllvm", "-mattr=+c"]),
    allow("-mllvm=", Joined(Llvm), &["-mllvm=-mattr=+relax"]),
    allow("--mllvm=", Joined(Llvm), &["--mllvm=-import-instr-limit=5"]),
    allow("--no-relax-gp", Flag, &["--no-relax-gp"]),
    // 7.2+ with CONFIG_WERROR=y (scripts/Makefile.warn). It only turns
    // warnings into errors, and every gated line is one lld-22 links silently
    // (tests/real_ld.rs: the same bytes with and without it).
    allow("--fatal-warnings", Flag, &["--fatal-warnings"]),
    allow(
        "--thinlto-cache-dir=",
        Joined(NonEmpty),
        &["--thinlto-cache-dir=.thinlto-cache"],
    ),
    allow("-plugin-opt=", Joined(PluginOpt), &["-plugin-opt=O2"]),
    allow(
        "--plugin-opt=",
        Joined(PluginOpt),
        &["--plugin-opt=-code-model=kernel"],
    ),
    allow(
        "--lto-O",
        Joined(OneOf(&["0", "1", "2", "3"])),
        &["--lto-O2"],
    ),
    allow("-O", Joined(OneOf(&["0", "1", "2", "3"])), &["-O2"]),
];

/// `-m` emulations for the Rust architectures (arm's are for builds that
/// pass one; kbuild lets lld infer it), with the ELF machine, class
/// and byte order lld requires of the input (it rejects any other as
/// "incompatible"): `(name, e_machine, 64-bit, little-endian)`.
pub const EMULATIONS: &[(&str, u16, bool, bool)] = &[
    ("aarch64elf", 183, true, true),
    ("aarch64elfb", 183, true, false),
    ("aarch64linux", 183, true, true),
    ("aarch64linuxb", 183, true, false),
    ("armelf", 40, false, true),
    ("armelf_linux_eabi", 40, false, true),
    ("armelfb", 40, false, false),
    ("armelfb_linux_eabi", 40, false, false),
    ("elf32loongarch", 258, false, true),
    ("elf32lriscv", 243, false, true),
    ("elf64loongarch", 258, true, true),
    ("elf64lriscv", 243, true, true),
    ("elf_i386", 3, false, true),
    ("elf_x86_64", 62, true, true),
];

/// The `-z` keywords kbuild passes that lld-22 knows (an unknown one is a
/// warning, which a copy would not print).
pub const Z_KEYWORDS: &[&str] = &["execstack", "noexecstack", "norelro"];

/// The LLVM options kbuild passes to the linker (lld rejects an unknown one).
/// An entry ending in `=` takes decimal digits.
pub const LLVM_OPTIONS: &[&str] = &[
    "-code-model=kernel",
    "-import-instr-limit=",
    "-mattr=+c",
    "-mattr=+relax",
];

/// The emulation named `name`: `(e_machine, 64-bit, little-endian)`.
pub fn emulation(name: &[u8]) -> Option<(u16, bool, bool)> {
    EMULATIONS
        .iter()
        .find(|e| e.0.as_bytes() == name)
        .map(|&(_, m, w, le)| (m, w, le))
}

fn digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

fn llvm_option(v: &[u8]) -> bool {
    LLVM_OPTIONS.iter().any(|o| match o.strip_suffix('=') {
        Some(key) => v
            .strip_prefix(key.as_bytes())
            .and_then(|r| r.strip_prefix(b"="))
            .is_some_and(digits),
        None => v == o.as_bytes(),
    })
}

/// `max-page-size=` as lld reads it (decimal, or `0x` hex), a power of two.
fn page_size(v: &[u8]) -> bool {
    let s = std::str::from_utf8(v).unwrap_or("");
    let n = match s.strip_prefix("0x") {
        Some(h) if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(h, 16).ok()
        }
        // A leading 0 would be octal to lld's auto-detecting parser.
        _ if digits(v) && !(v.len() > 1 && v[0] == b'0') => s.parse().ok(),
        _ => None,
    };
    n.is_some_and(u64::is_power_of_two)
}

impl Value {
    pub fn accepts(self, v: &[u8]) -> bool {
        match self {
            OneOf(words) => words.iter().any(|w| w.as_bytes() == v),
            Emulation => emulation(v).is_some(),
            ZKeyword => {
                Z_KEYWORDS.iter().any(|k| k.as_bytes() == v)
                    || v.strip_prefix(b"max-page-size=").is_some_and(page_size)
            }
            Llvm => llvm_option(v),
            PluginOpt => {
                matches!(v, b"O0" | b"O1" | b"O2" | b"O3")
                    || v.first() == Some(&b'-') && llvm_option(v)
            }
            NonEmpty => !v.is_empty(),
        }
    }
}

/// An allowed option found on a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'a> {
    /// How many words it spans: 1, or 2 for a separate value.
    pub words: usize,
    /// Its value and what kind of value that is (`None` for a flag).
    pub value: Option<(Value, &'a [u8])>,
}

/// The allowed option at `words[0]`, or `None` when it is not understood:
/// not in the table, a bad value, or a separate value missing.
pub fn allowed<'a>(words: &[&'a [u8]]) -> Option<Match<'a>> {
    let (&word, rest) = words.split_first()?;
    let found = |words, value| Some(Match { words, value });
    LD_SINGLE_ALLOWED.iter().find_map(|a| match a.form {
        Flag if word == a.spelling.as_bytes() => found(1, None),
        Separate(v) => match rest.first() {
            Some(&n) if word == a.spelling.as_bytes() && v.accepts(n) => found(2, Some((v, n))),
            _ => None,
        },
        Joined(v) => match word.strip_prefix(a.spelling.as_bytes()) {
            Some(r) if v.accepts(r) => found(1, Some((v, r))),
            _ => None,
        },
        Flag => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(s: &[&str]) -> Option<usize> {
        let w: Vec<&[u8]> = s.iter().map(|w| w.as_bytes()).collect();
        allowed(&w).map(|m| m.words)
    }

    #[test]
    fn examples_are_allowed_in_full() {
        for a in LD_SINGLE_ALLOWED {
            assert_eq!(span(a.example), Some(a.example.len()), "{a:?}");
        }
    }

    #[test]
    fn emulations_are_sorted() {
        for w in EMULATIONS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} !< {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn not_understood() {
        for s in [
            &["--thinlto-cache-dir", "c"][..], // lld-22: unknown argument
            &["--thinlto-cache-dir="],
            &["-u"],
            &["-m"],
            &["-m", "elf_bogus"],
            &["-z"],
            &["-z", "bogus"],
            &["-z", "max-page-size=3"],
            &["-z", "max-page-size=010"],
            &["-z", "max-page-size=0x"],
            &["-mllvm", "-bogus"],
            &["-mllvm", "-import-instr-limit="],
            &["-plugin-opt=-stack-alignment=8"],
            &["-plugin-opt=mcpu=x"],
            &["--lto-O9"],
            &["--"],
            &["-"],
            &[""],
            &["--rsp-quoting=windows"],
            &["--chroot=/"],
            &["--mips-got-size=4"],
            &["--no-warn-rwx-segments"], // lld-22: unknown argument
            &["-T", "s.lds"],            // a script changes what -r writes
            &["--build-id=sha1"],        // KBUILD_LDFLAGS_MODULE: never in ld_flags
            // CONFIG_DEBUG_INFO_COMPRESSED_*: ld -r writes other bytes than a copy.
            &["--compress-debug-sections=zlib"],
            // 7.3 ThinLTO's ld-option: lld-22 rejects the pair, so kbuild drops it.
            &["--lto-whole-program-visibility"],
            &["-mllvm", "-always-rename-promoted-locals=false"],
        ] {
            assert_eq!(span(s), None, "{s:?}");
        }
        assert_eq!(span(&["-z", "max-page-size=0x200000"]), Some(2));
        assert_eq!(span(&["-z", "max-page-size=4096"]), Some(2));
        assert_eq!(span(&["-maarch64linux"]), Some(1));
        assert_eq!(span(&["-EL", "x"]), Some(1));
    }
}
