//! kbuild-shim: see README.md. This file only wires the modules together.
//!
//! `no_main`: the C `main` below skips Rust's runtime set-up (stack-guard
//! probing through /proc/self/maps, a signal stack, SIGPIPE juggling), about
//! ten syscalls per call that a wrapper exec'ing the real tool never needs.
#![no_main]

use kbuild_shim::invocation::{self, Request, Role};
use kbuild_shim::settings::{Settings, ENV_DEPTH, MAX_DEPTH};
use kbuild_shim::{
    clang_args, code, demo, doctor, exec, exit_code_of, fail, launcher, ld_gate, report, Action,
    Plan,
};
use std::io::Write;

const HELP: &str = include_str!("help.txt");

#[no_mangle]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    // std reads argv itself (glibc passes it to .init_array constructors).
    let code = match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kbuild-shim: {e:#}");
            exit_code_of(&e)
        }
    };
    // Without Rust's runtime nobody flushes stdout at exit.
    let _ = std::io::stdout().flush();
    code.into()
}

fn run() -> anyhow::Result<u8> {
    let (inv, explain) = match invocation::parse(std::env::args_os().collect())? {
        Request::Help => {
            print!("{HELP}");
            return Ok(0);
        }
        Request::Version => {
            println!("kbuild-shim {}", env!("CARGO_PKG_VERSION"));
            return Ok(0);
        }
        Request::Demo { keep } => return demo::run(keep.as_deref()),
        Request::Doctor { kernel } => return doctor::run(kernel.as_deref()),
        Request::Report { file } => return report::summary(&file),
        Request::Run(inv) => (inv, false),
        Request::Explain(inv) => (inv, true),
    };
    let settings = Settings::from_env()?;
    if let Some(level) = &settings.log {
        // Only when asked: the passthrough path sets up no logger.
        env_logger::Builder::new()
            .parse_filters(level)
            .format(|f, r| writeln!(f, "kbuild-shim[{}]: {}", r.level(), r.args()))
            .init();
    }
    if settings.depth >= MAX_DEPTH {
        return Err(fail(
            code::USAGE,
            format!(
                "loop: kbuild-shim was entered {} times in a row for '{}' ({ENV_DEPTH}={}); \
                 a wrapper between the shim and the real tool calls the shim again",
                // Saturating: a garbage-but-numeric depth like 4294967295 must
                // give this error, not an overflow panic.
                settings.depth.saturating_add(1),
                inv.tool.to_string_lossy(),
                settings.depth
            ),
        ));
    }
    let program = invocation::find_tool(&inv, &settings)?;
    let (mode, role) = (inv.mode, inv.role);
    let plan = match inv.role {
        Role::Cc => clang_args::plan(inv.args, settings.strict),
        Role::Ld => ld_gate::plan(inv.args, &settings)?,
        Role::Other => Plan::passthrough(inv.args, "neither clang nor ld".into()),
    };
    // Only when asked and only when a rule fired: passthrough writes nothing.
    if let (Some(file), false, false) = (&settings.report, plan.fired.is_empty(), explain) {
        report::record(file, &plan, inv.role)?;
    }
    // Compilers only, like CMake's <LANG>_COMPILER_LAUNCHER: ccache and
    // distcc do nothing useful for ld, and sccache rejects it.
    let launcher = match (&settings.launcher, &plan.action, inv.role) {
        (Some(words), Action::Exec { .. }, Role::Cc) => Some(launcher::resolve(words, &inv.tool)?),
        _ => None,
    };
    let launcher = launcher.as_ref();
    // Only --explain and logging need the working directory: no getcwd otherwise.
    let cwd = || std::env::current_dir().unwrap_or_else(|_| ".".into());
    if explain {
        std::io::stdout().write_all(&exec::explain(&plan, &program, &cwd(), launcher))?;
        return Ok(0);
    }
    log::debug!(
        "{:?} mode, role {:?}, real tool {}: {}",
        mode,
        role,
        program.display(),
        plan.why
    );
    if log::log_enabled!(log::Level::Info) {
        let text = exec::explain(&plan, &program, &cwd(), launcher);
        for line in String::from_utf8_lossy(&text).lines() {
            log::info!("{line}");
        }
    }
    exec::run(&plan, &program, settings.depth, launcher)?;
    Ok(0)
}
