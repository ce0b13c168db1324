//! The table on stdout and the verdict: what was built, what was compared,
//! which rules fired (for information), and the result line.

use super::build::{first_error, secs, Outcome};
use super::fired::Fired;
use super::options::Options;
use super::setup::Config;
use super::trees::Comparison;
use super::usage_error;
use std::path::{Path, PathBuf};

/// Everything the table shows.
pub struct Results<'a> {
    pub o: &'a Options,
    pub config: &'a Config,
    pub seed: Option<&'a str>,
    pub module: Option<&'a Path>,
    pub cc_shown: String,
    pub ref_str: String,
    pub cc: &'a str,
    pub ld: &'a str,
    /// How the shim build ran (prefix or masquerade mode, and how).
    pub mode: String,
    pub plain_state: String,
    pub plain: Option<Outcome>,
    pub refb: Outcome,
    pub shim: Outcome,
    /// Both the reference and the shim build built.
    pub both: bool,
    pub cmp: Comparison,
    pub n_ref_wrapped: usize,
    pub n_wrapped: usize,
    pub fired: Fired,
    /// The reference and shim trees.
    pub r: PathBuf,
    pub s: PathBuf,
}

fn row(label: &str, value: &str) {
    out!("  {label:<32} {value}");
}

/// Prints the table and returns the exit code: 0 identical, 1 different;
/// both builds failing is an error (exit 2).
pub fn print(res: Results) -> anyhow::Result<u8> {
    let Results {
        o,
        config,
        seed,
        module,
        cc_shown,
        ref_str,
        cc,
        ld,
        mode,
        plain_state,
        plain,
        refb,
        shim,
        both,
        cmp,
        n_ref_wrapped,
        n_wrapped,
        fired,
        r,
        s,
    } = res;
    // --- report ---
    let cfg_desc = match config {
        Config::File(f) => format!("{} (olddefconfig)", f.display()),
        Config::Target(_) => o.config.clone(),
    };
    out!(
        "kbuild-compare: ARCH={}{} LLVM={} config {cfg_desc}{}, targets: {}{}{}",
        o.arch,
        if o.arch == "um" { " SUBARCH=x86" } else { "" },
        o.llvm,
        seed.as_ref()
            .map(|s| format!(" KCONFIG_SEED={s}"))
            .unwrap_or_default(),
        o.targets.join(" "),
        module
            .as_ref()
            .map(|m| format!(", M={}", m.display()))
            .unwrap_or_default(),
        if o.vars.is_empty() {
            String::new()
        } else {
            format!(", {}", o.vars.join(" "))
        },
    );
    out!("kbuild-compare: plain and reference builds run {cc_shown}");
    out!("kbuild-compare: reference build: CC=\"{ref_str} {cc}\" LD=\"{ref_str} {ld}\" (upstream's proposed fixes)");
    out!("kbuild-compare: shim build in {mode}");
    // Which comparison ran: the script forwards to the first kbuild-shim it
    // finds, which need not be the wrapper under test.
    if let Ok(me) = std::env::current_exe() {
        out!("kbuild-compare: compared by {}", me.display());
    }
    row("plain build", &plain_state);
    for (name, b) in [("reference build", &refb), ("shim build", &shim)] {
        if b.failed.is_some() {
            row(name, &format!("FAILED: {}", first_error(&b.log)));
        }
    }
    if both {
        row("files compared", &cmp.files().to_string());
        let kinds: Vec<String> = cmp.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        row("  of kinds", &kinds.join(", "));
        row("  differing", &cmp.differing.len().to_string());
        row("  .cmd naming the reference", &n_ref_wrapped.to_string());
        if !o.masquerade {
            row("  .cmd naming the wrapper", &n_wrapped.to_string());
        }
    }
    if fired.commands == 0 {
        row("rules fired", "0 (the shim's report is empty)");
    } else {
        let rules: Vec<String> = fired
            .rules
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        row(
            "rules fired",
            &format!("in {} commands: {}", fired.commands, rules.join(", ")),
        );
    }
    let time = |b: &Outcome| format!("{} s wall, {} s CPU", secs(b.wall), secs(b.cpu));
    if let Some(p) = &plain {
        row("build time plain", &time(p));
    }
    row("build time reference", &time(&refb));
    row("build time shim", &time(&shim));
    let ratio = |a: std::time::Duration, b: std::time::Duration| {
        if b.is_zero() {
            "n/a".to_owned()
        } else {
            format!("{:.3}", a.as_secs_f64() / b.as_secs_f64())
        }
    };
    row(
        "ratio shim/reference",
        &format!(
            "wall {}, CPU {}",
            ratio(shim.wall, refb.wall),
            ratio(shim.cpu, refb.cpu)
        ),
    );
    for l in &fired.lines {
        out!("rule fired: {l}");
    }
    for l in &cmp.differing {
        out!("differs: {l}");
    }
    // The first few differing command lines in full, for a quick diagnosis.
    for l in cmp
        .differing
        .iter()
        .filter_map(|l| l.strip_suffix(" (command line)"))
        .take(3)
    {
        let (f, suffix) = match l.strip_prefix("M=: ") {
            Some(f) => (f, "-mod"),
            None => (l, ""),
        };
        for (name, root) in [("reference", &r), ("shim     ", &s)] {
            let mut dir = root.as_os_str().to_owned();
            dir.push(suffix);
            let path = PathBuf::from(dir).join(f);
            out!("  {name} {f}: {}", saved_cmd(&path));
        }
    }

    // --- verdict ---
    let agree = match &plain {
        Some(p) if p.failed.is_some() => format!("plain fails: {} — ", first_error(&p.log)),
        _ => String::new(),
    };
    const SHIM_FAILED: &str =
        "DIFFERENT: the build through the shim failed, the reference built; see the lines above";
    const REF_FAILED: &str =
        "DIFFERENT: the reference build failed, the shim's built; see the lines above";
    const NOT_WRAPPED: &str =
        "DIFFERENT: no recorded command ran through the wrapper, so nothing was compared";
    let (files, differing) = (cmp.files(), cmp.differing.len());
    let (code, result) = match (&refb.failed, &shim.failed) {
        (Some(_), Some(_)) => {
            return Err(usage_error(format!(
                "the reference and the shim build both failed, so there is nothing to compare: {}",
                first_error(&shim.log)
            )))
        }
        (None, Some(_)) => (1, SHIM_FAILED.to_owned()),
        (Some(_), None) => (1, REF_FAILED.to_owned()),
        _ if !o.masquerade && n_wrapped == 0 => (1, NOT_WRAPPED.to_owned()),
        _ if differing == 0 => (
            0,
            format!("OK: {agree}shim and reference agree: all {files} files identical"),
        ),
        _ => (
            1,
            format!("DIFFERENT: {differing} of {files} files differ from the reference"),
        ),
    };
    out!("result: {result}");
    Ok(code)
}

/// The `savedcmd_` line of a `.cmd` file, cut to 300 characters.
fn saved_cmd(path: &Path) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .find(|l| l.starts_with("savedcmd_"))
        .map(|l| l.chars().take(300).collect())
        .unwrap_or_default()
}
