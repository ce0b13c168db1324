//! What the shim adds to each tool invocation, side by side with the floor.
//!
//!     cargo bench --bench overhead            (N=2000 calls per variant)
//!     KBUILD_SHIM_BENCH_N=5000 cargo bench --bench overhead
//!     KBUILD_SHIM_BENCH_BASELINE=/tmp/before/target/release/kbuild-shim cargo bench --bench overhead
//!
//! KBUILD_SHIM_BENCH_BASELINE names a second shim binary, e.g. the release
//! build of an earlier commit; its file name must be `kbuild-shim` (any other
//! name means masquerade mode). Its prefix, masquerade and rewrite calls join
//! the same interleaved loop, against the same floor, so before/after ratios
//! come from one run. KBUILD_SHIM_BENCH_SHIM names the binary under test
//! (default: the one cargo built for the bench; same naming rule).
//!
//! Needs gcc with static glibc (Debian: gcc, libc6-dev), rustc and ccache
//! (`apt-get install -y ccache`). All variants run interleaved in one loop,
//! so machine noise hits them alike; the report gives medians and the ratio
//! of added time (variant − direct) / (floor − direct), where the floor is a
//! static C program doing nothing but `execvp(argv[1], argv + 1)`.

use kbuild_shim::cc;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The shim under test: KBUILD_SHIM_BENCH_SHIM if set, else the binary cargo
/// built for this bench. That one is not byte-identical to `cargo build
/// --release`'s: building the bench unifies the dev-dependencies' features
/// into the shared crates, which changes code layout (docs/benchmarks.md,
/// issue 11). To measure the shipped binary, name it here.
fn shim() -> PathBuf {
    std::env::var_os("KBUILD_SHIM_BENCH_SHIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kbuild-shim")))
}

fn sh(cmd: &mut Command, what: &str) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn cc_static(dir: &Path, name: &str, src: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).unwrap();
    let out = dir.join(name);
    sh(
        Command::new("gcc")
            .args(["-O2", "-static", "-o"])
            .arg(&out)
            .arg(&c),
        "gcc -static (needs gcc, libc6-dev)",
    );
    out
}

/// ~120 arguments of an arm kbuild IR-input compile (CLANG_FLAGS, KBUILD_CFLAGS).
fn arm_line() -> Vec<OsString> {
    let mut v: Vec<String> = "--target=arm-linux-gnueabi -fintegrated-as -Werror=unknown-warning-option \
        -Werror=ignored-optimization-argument -Werror=option-ignored -Werror=unused-command-line-argument \
        -D__KERNEL__ -mlittle-endian -Wall -Wundef -Werror=strict-prototypes -Wno-trigraphs \
        -fno-strict-aliasing -fno-common -fshort-wchar -fno-PIE -Werror=implicit-function-declaration \
        -Werror=implicit-int -Werror=return-type -Wno-format-security -funsigned-char -std=gnu11 \
        -fno-dwarf2-cfi-asm -mabi=aapcs-linux -mfpu=vfp -funwind-tables -marm -Wa,-mno-warn-deprecated \
        -D__LINUX_ARM_ARCH__=7 -march=armv7-a -msoft-float -Uarm -fno-delete-null-pointer-checks \
        -Wno-frame-address -Wno-address-of-packed-member -O2 -Wframe-larger-than=1024 \
        -fstack-protector-strong -Wno-gnu -Wno-unused-but-set-variable -Wno-unused-const-variable \
        -fno-omit-frame-pointer -fno-optimize-sibling-calls -ftrivial-auto-var-init=zero \
        -fno-stack-clash-protection -Wdeclaration-after-statement -Wvla -Wno-pointer-sign \
        -Wcast-function-type -fno-strict-overflow -fno-stack-check -Werror=date-time \
        -Werror=incompatible-pointer-types -Wno-initializer-overrides -Wno-format \
        -Wformat-extra-args -Wformat-invalid-specifier -Wformat-zero-length -Wnonnull \
        -Wformat-insufficient-args -Wno-sign-compare -Wno-pointer-to-enum-cast \
        -Wno-tautological-constant-out-of-range-compare -Wno-unaligned-access \
        -Wno-cast-function-type-strict -Wno-enum-compare-conditional -Wno-enum-enum-conversion \
        -Wno-default-const-init-unsafe -g -gdwarf-5 -mno-thumb-interwork -fno-ipa-sra \
        -Wno-missing-field-initializers -Wno-type-limits -Wno-shift-negative-value \
        -Wno-sign-conversion -Wimplicit-fallthrough -Wmissing-declarations -Wmissing-prototypes \
        -Wno-pointer-arith -Wno-unused-parameter -Wno-format-overflow -Wno-format-truncation"
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut i = 0;
    while v.len() < 113 {
        v.push(format!("-Wno-kbuild-filler-{i}"));
        i += 1;
    }
    v.extend(
        [
            "-Wno-override-module",
            "-c",
            "rust/kernel.m.bc",
            "-o",
            "rust/kernel.o",
        ]
        .map(String::from),
    );
    v.into_iter().map(OsString::from).collect()
}

struct Variant {
    name: &'static str,
    cmd: Command,
    times: Vec<Duration>,
}

fn variant(
    name: &'static str,
    program: impl AsRef<std::ffi::OsStr>,
    args: &[OsString],
    env: &[(&str, OsString)],
) -> Variant {
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    Variant {
        name,
        cmd,
        times: Vec::new(),
    }
}

fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

fn peak_rss_kib(program: &Path, args: &[OsString], env: &[(&str, OsString)]) -> String {
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .env_clear()
        .stdout(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    match c.output() {
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("?")
            .to_string(),
        Err(_) => "? (/usr/bin/time missing: apt-get install time)".into(),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes targets
    }
    let n: usize = std::env::var("KBUILD_SHIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let ccache = which("ccache").expect("ccache not installed: apt-get install -y ccache");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let floor = cc_static(w, "floor", "#include <unistd.h>\nint main(int c, char **v) { (void)c; execvp(v[1], v + 1); return 127; }\n");
    let tools = w.join("tools");
    std::fs::create_dir(&tools).unwrap();
    let noop = cc_static(&tools, "clang-22", "int main(void) { return 0; }\n");
    let masq = w.join("masq");
    std::fs::create_dir(&masq).unwrap();
    let shim = shim();
    assert!(shim.is_file(), "no shim binary at {}", shim.display());
    let shim = shim.as_path();
    std::os::unix::fs::symlink(shim, masq.join("true")).unwrap();
    let baseline = std::env::var_os("KBUILD_SHIM_BENCH_BASELINE").map(PathBuf::from);
    // The baseline's masquerade directory: its own `true` symlink, first in
    // its own PATH (the shim skips itself, then finds /usr/bin/true).
    let masq_base = w.join("masq-baseline");
    if let Some(b) = &baseline {
        assert!(
            b.is_file(),
            "KBUILD_SHIM_BENCH_BASELINE: no file {}",
            b.display()
        );
        std::fs::create_dir(&masq_base).unwrap();
        std::os::unix::fs::symlink(b, masq_base.join("true")).unwrap();
    }

    // A 1 MiB Rust object for the ld copy path.
    let obj_dir = w.join("obj/rust");
    std::fs::create_dir_all(&obj_dir).unwrap();
    std::fs::write(
        w.join("big.rs"),
        "#![no_std]\n#[no_mangle]\npub static BIG: [u8; 1 << 20] = [7; 1 << 20];\n",
    )
    .unwrap();
    sh(
        Command::new("rustc")
            .args(["--crate-type=lib", "--emit=obj", "-Cpanic=abort", "-o"])
            .arg(obj_dir.join("foo.o"))
            .arg(w.join("big.rs")),
        "rustc 1 MiB object",
    );
    let obj_size = std::fs::metadata(obj_dir.join("foo.o")).unwrap().len();

    let path =
        std::env::join_paths([masq.as_path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    let env = vec![("PATH", path), ("CCACHE_DISABLE", OsString::from("1"))];
    let truep = OsString::from("/bin/true");
    let line = arm_line();
    let with = |first: &Path, rest: &[OsString]| -> Vec<OsString> {
        std::iter::once(first.as_os_str().to_owned())
            .chain(rest.iter().cloned())
            .collect()
    };
    let mut tools_env = env.clone();
    tools_env[0].1 = tools.clone().into_os_string();
    let mut ld_env = env.clone();
    ld_env.push(("KBUILD_SHIM_INLINE_HELPERS", "n".into()));
    let mut ld_args: Vec<OsString> = ["ld.lld-22", "-m", "elf_x86_64", "-r", "-o"]
        .map(OsString::from)
        .to_vec();
    ld_args.push(obj_dir.join(".tmp_foo.o").into());
    ld_args.push(obj_dir.join("foo.o").into());

    let shim_line: Vec<OsString> = std::iter::once(OsString::from("clang-22"))
        .chain(line.iter().cloned())
        .collect();
    let mut vs = vec![
        variant("direct: /bin/true", "/bin/true", &[], &env),
        variant(
            "floor: static C execvp shim",
            &floor,
            std::slice::from_ref(&truep),
            &env,
        ),
        variant(
            "kbuild-shim /bin/true (prefix)",
            shim,
            std::slice::from_ref(&truep),
            &env,
        ),
        variant(
            "true -> kbuild-shim (masquerade)",
            masq.join("true"),
            &[],
            &env,
        ),
        variant(
            "CCACHE_DISABLE=1 ccache /bin/true",
            &ccache,
            std::slice::from_ref(&truep),
            &env,
        ),
        variant("direct: no-op clang, 120 args", &noop, &line, &tools_env),
        variant(
            "floor: C shim, no-op clang, 120 args",
            &floor,
            &with(&noop, &line),
            &tools_env,
        ),
        variant(
            "kbuild-shim clang-22, 120 args (rewrite)",
            shim,
            &shim_line,
            &tools_env,
        ),
        variant(
            "kbuild-shim ld.lld-22 gated copy, 1 MiB",
            shim,
            &ld_args,
            &ld_env,
        ),
    ];
    if let Some(b) = &baseline {
        let base_path = std::env::join_paths([
            masq_base.as_path(),
            Path::new("/usr/bin"),
            Path::new("/bin"),
        ])
        .unwrap();
        let mut base_env = env.clone();
        base_env[0].1 = base_path;
        vs.push(variant(
            "baseline: prefix",
            b,
            std::slice::from_ref(&truep),
            &env,
        ));
        vs.push(variant(
            "baseline: masquerade",
            masq_base.join("true"),
            &[],
            &base_env,
        ));
        vs.push(variant(
            "baseline: clang-22, 120 args (rewrite)",
            b,
            &shim_line,
            &tools_env,
        ));
    }
    // Warm-up, and a check that every variant really succeeds.
    for v in &mut vs {
        let o = v.cmd.output().unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            v.name,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Each round runs the variants in a fresh pseudo-random order, so no
    // variant always follows the same one: a variant run right after the 1 MiB
    // copy, or twice in a row (as a serpentine order does at its ends), was
    // measured up to 0.2× off on an identical binary (docs/benchmarks.md, issue 11).
    let mut order: Vec<usize> = (0..vs.len()).collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..n {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &j in &order {
            let v = &mut vs[j];
            let t = Instant::now();
            let s = v.cmd.status().unwrap();
            v.times.push(t.elapsed());
            assert!(s.success(), "{} failed", v.name);
        }
    }
    let med: Vec<f64> = vs.iter_mut().map(|v| median(&mut v.times)).collect();

    // In-process: classification and the full rewrite of the 120-arg line.
    let iters = 20_000;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(cc::classify(std::hint::black_box(&line)));
    }
    let classify_ns = t.elapsed().as_nanos() as f64 / iters as f64;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(cc::plan(std::hint::black_box(line.clone()), false));
    }
    let plan_ns = t.elapsed().as_nanos() as f64 / iters as f64;

    let rss_pass = peak_rss_kib(shim, std::slice::from_ref(&truep), &env);
    let rss_rewrite = peak_rss_kib(shim, &shim_line, &tools_env);
    let mut explain_args = vec![OsString::from("--explain")];
    explain_args.extend(shim_line.iter().cloned());
    let rss_explain = peak_rss_kib(shim, &explain_args, &tools_env);
    let rss_true = peak_rss_kib(Path::new("/bin/true"), &[], &env);

    let shim_size = std::fs::metadata(shim).unwrap().len();
    println!(
        "kbuild-shim overhead: N={n} calls per variant, interleaved; binary {} KiB",
        shim_size / 1024
    );
    println!("shim under test: {}", shim.display());
    if let Some(b) = &baseline {
        println!(
            "baseline: {} ({} KiB)",
            b.display(),
            std::fs::metadata(b).map_or(0, |m| m.len() / 1024)
        );
    }
    println!();
    println!("| variant | median µs | added µs | added / floor's added |");
    println!("| --- | ---: | ---: | ---: |");
    let row = |i: usize, direct: usize, floor: usize| {
        let added = med[i] - med[direct];
        let ratio = added / (med[floor] - med[direct]);
        println!(
            "| {} | {:.0} | {:.0} | {:.2}× |",
            vs[i].name, med[i], added, ratio
        );
    };
    println!("| {} | {:.0} | — | — |", vs[0].name, med[0]);
    for i in 1..5 {
        row(i, 0, 1);
    }
    println!("| {} | {:.0} | — | — |", vs[5].name, med[5]);
    for i in 6..8 {
        row(i, 5, 6);
    }
    println!(
        "| {} ({} KiB) | {:.0} | {:.0} (vs /bin/true) | — |",
        vs[8].name,
        obj_size / 1024,
        med[8],
        med[8] - med[0]
    );
    if baseline.is_some() {
        for (i, direct, floor) in [(9, 0, 1), (10, 0, 1), (11, 5, 6)] {
            row(i, direct, floor);
        }
    }
    println!();
    println!("in-process, 120-arg arm line: classify {classify_ns:.0} ns, classify + rewrite {plan_ns:.0} ns");
    println!(
        "peak RSS (KiB, /usr/bin/time %M): /bin/true {rss_true}; shim passthrough {rss_pass}; \
         rewrite {rss_rewrite}; --explain (shim alone, no exec) {rss_explain}"
    );
    let ccache_ratio = (med[4] - med[0]) / (med[2] - med[0]);
    println!("ccache passthrough adds {ccache_ratio:.1}× what kbuild-shim's passthrough adds");
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
