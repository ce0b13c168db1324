//! kbuild-shim: see README.md. This file only wires the modules together.

use kbuild_shim::invocation::{self, Request, Role};
use kbuild_shim::settings::{Settings, ENV_DEPTH, MAX_DEPTH};
use kbuild_shim::{clang_args, code, demo, exec, exit_code_of, fail, ld_gate, Plan};
use std::io::Write;
use std::process::ExitCode;

const HELP: &str = include_str!("help.txt");

fn main() -> ExitCode {
    match run() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kbuild-shim: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let (inv, explain) = match invocation::parse(std::env::args_os().collect())? {
        Request::Help => {
            print!("{HELP}");
            return Ok(ExitCode::SUCCESS);
        }
        Request::Version => {
            println!("kbuild-shim {}", env!("CARGO_PKG_VERSION"));
            return Ok(ExitCode::SUCCESS);
        }
        Request::Demo { keep } => return demo::run(keep.as_deref()),
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
                settings.depth + 1,
                inv.tool.to_string_lossy(),
                settings.depth
            ),
        ));
    }
    let program = invocation::find_tool(&inv, &settings)?;
    let plan = match inv.role {
        Role::Cc => clang_args::plan(inv.args, settings.strict),
        Role::Ld => ld_gate::plan(inv.args, &settings)?,
        Role::Other => Plan::passthrough(inv.args, "neither clang nor ld".into()),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    if explain {
        std::io::stdout().write_all(&exec::explain(&plan, &program, &cwd))?;
        return Ok(ExitCode::SUCCESS);
    }
    if log::log_enabled!(log::Level::Info) {
        for line in String::from_utf8_lossy(&exec::explain(&plan, &program, &cwd)).lines() {
            log::info!("{line}");
        }
    }
    exec::run(&plan, &program, settings.depth)?;
    Ok(ExitCode::SUCCESS)
}
