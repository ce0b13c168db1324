//! What the shim adds to each tool invocation, side by side with the floor.
//!
//!     cargo bench --bench overhead            (N=2000 calls per variant)
//!     KBUILD_SHIM_BENCH_N=5000 cargo bench --bench overhead
//!
//! Needs gcc with static glibc (Debian: gcc, libc6-dev), rustc and ccache
//! (`apt-get install -y ccache`). All variants run interleaved in one loop,
//! so machine noise hits them alike; the report gives medians and the ratio
//! of added time (variant − direct) / (floor − direct), where the floor is a
//! static C program doing nothing but `execvp(argv[1], argv + 1)`.

use kbuild_shim::cc as clang_args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SHIM: &str = env!("CARGO_BIN_EXE_kbuild-shim");

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
    std::os::unix::fs::symlink(SHIM, masq.join("true")).unwrap();

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
            SHIM,
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
            SHIM,
            &shim_line,
            &tools_env,
        ),
        variant(
            "kbuild-shim ld.lld-22 gated copy, 1 MiB",
            SHIM,
            &ld_args,
            &ld_env,
        ),
    ];
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
    for _ in 0..n {
        for v in &mut vs {
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
        std::hint::black_box(clang_args::classify(std::hint::black_box(&line)));
    }
    let classify_ns = t.elapsed().as_nanos() as f64 / iters as f64;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(clang_args::plan(std::hint::black_box(line.clone()), false));
    }
    let plan_ns = t.elapsed().as_nanos() as f64 / iters as f64;

    let rss_pass = peak_rss_kib(Path::new(SHIM), std::slice::from_ref(&truep), &env);
    let rss_rewrite = peak_rss_kib(Path::new(SHIM), &shim_line, &tools_env);
    let mut explain_args = vec![OsString::from("--explain")];
    explain_args.extend(shim_line.iter().cloned());
    let rss_explain = peak_rss_kib(Path::new(SHIM), &explain_args, &tools_env);
    let rss_true = peak_rss_kib(Path::new("/bin/true"), &[], &env);

    let shim_size = std::fs::metadata(SHIM).unwrap().len();
    println!(
        "kbuild-shim overhead: N={n} calls per variant, interleaved; binary {} KiB",
        shim_size / 1024
    );
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
