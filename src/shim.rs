//! The policy of one call, from argv to the hand-over: parse, settings, depth
//! limit, find the real tool, plan by role, launcher (clang only), explain or
//! report-then-exec/copy. Everything it touches in the world goes through a
//! [`Host`], so tests run it whole, in-process (as ChromiumOS's
//! compiler_wrapper runs `callCompiler`).

use crate::cli::{self, Mode, Request, Role, ToolRequest};
use crate::host::{self, Host};
use crate::settings::{Settings, ENV_DEPTH, MAX_DEPTH};
use crate::{cc, code, copy, exec, explain, fail, launcher, ld, print_error, report};
use crate::{Action, Plan};
use std::ffi::{OsStr, OsString};

const HELP: &str = include_str!("help.txt");

/// How a call ends: with an exit code, or by asking for one of the tools,
/// which the binary runs (this module does not import them).
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Code(u8),
    Tool(ToolRequest),
}

/// [`run`], with an error printed as one line and turned into its exit code.
pub fn main(host: &dyn Host, argv: Vec<OsString>) -> Exit {
    run(host, argv).unwrap_or_else(|e| Exit::Code(print_error(&e)))
}

pub fn run(host: &dyn Host, argv: Vec<OsString>) -> anyhow::Result<Exit> {
    let (inv, explain) = match cli::parse(argv)? {
        Request::Help => return done(host, HELP.as_bytes()),
        Request::Version => {
            let v = format!("kbuild-shim {}\n", env!("CARGO_PKG_VERSION"));
            return done(host, v.as_bytes());
        }
        Request::Tool(t) => return Ok(Exit::Tool(t)),
        Request::Run(inv) => (inv, false),
        Request::Explain(inv) => (inv, true),
    };
    let settings = Settings::from_lookup(|k| host.var_os(k))?;
    if let Some(level) = &settings.log {
        // Only when asked: the passthrough path sets up no logger.
        let _ = env_logger::Builder::new()
            .parse_filters(level)
            .format(|f, r| {
                use std::io::Write;
                writeln!(f, "kbuild-shim[{}]: {}", r.level(), r.args())
            })
            .try_init();
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
    if let Some(w) = &inv.warning {
        eprintln!("kbuild-shim: {w}");
    }
    let me = host.self_id();
    let mut search = settings.search(me.as_ref(), host.cwd());
    // The PATH the tool (or launcher) gets: in masquerade mode, cut after the
    // shim's own directory (see `Search::cut_after_shim_dir`).
    let cut_path = match inv.mode {
        Mode::Masquerade => search.cut_after_shim_dir(&inv.tool),
        Mode::Prefix => None,
    };
    let program = search.tool(&inv.tool)?;
    let plan = match inv.role {
        Role::Cc => cc::plan_in(inv.args, settings.strict, host.cwd()),
        Role::Ld => ld::plan(&inv.tool, inv.args, &settings, host.cwd())?,
        Role::Other => Plan::passthrough(inv.args, "neither clang nor ld".into()),
    };
    // A launcher written before the tool stays there; KBUILD_SHIM_LAUNCHER is
    // for compilers only, like CMake's <LANG>_COMPILER_LAUNCHER: ccache and
    // distcc do nothing useful for ld, and sccache rejects it.
    let words = match (inv.launcher, &settings.launcher, inv.role) {
        (Some(l), _, _) => Some(vec![l]),
        (None, Some(w), Role::Cc) => Some(w.clone()),
        _ => None,
    };
    let launcher = match (words, &plan.action) {
        (Some(words), Action::Exec { .. }) => Some(launcher::resolve(
            &words,
            &inv.tool,
            cut_path.clone().or_else(|| host.var_os("PATH")).as_deref(),
            me.as_ref(),
            host.cwd(),
        )?),
        _ => None,
    };
    if explain {
        let text = explain::explain(&plan, &program, &host.cwd_for_display(), launcher.as_ref());
        return done(host, &text);
    }
    // Only when asked and only when a rule fired (passthrough writes nothing),
    // and after every lookup that could still fail.
    if let (Some(file), false) = (&settings.report, plan.fired.is_empty()) {
        report::record(
            &host::at(host, file),
            &plan,
            inv.role,
            &host.cwd_for_display(),
        )?;
    }
    log::debug!(
        "{:?} mode, role {:?}, real tool {}: {}",
        inv.mode,
        inv.role,
        program.display(),
        plan.why
    );
    if log::log_enabled!(log::Level::Info) {
        let text = explain::explain(&plan, &program, &host.cwd_for_display(), launcher.as_ref());
        for line in String::from_utf8_lossy(&text).lines() {
            log::info!("{line}");
        }
    }
    match &plan.action {
        Action::Exec { args } => {
            let cmd = exec::command(&program, args, settings.depth, launcher.as_ref(), cut_path);
            let env: Vec<(&str, &OsStr)> =
                cmd.env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
            match host.exec(cmd.program, &cmd.argv, &env) {
                Ok(code) => Ok(Exit::Code(code)),
                Err(e) => Err(exec::exec_failed(cmd.program, &e)),
            }
        }
        Action::Copy { from, to } => {
            copy::gated_copy(&host::at(host, from), &host::at(host, to))?;
            Ok(Exit::Code(0))
        }
    }
}

fn done(host: &dyn Host, text: &[u8]) -> anyhow::Result<Exit> {
    host.write_stdout(text)?;
    Ok(Exit::Code(0))
}
