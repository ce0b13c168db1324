//! The tools behind the shim's own options: `--demo`, `--doctor`, `--report`,
//! `--compare` and the toolchain discovery they share. They stand beside `shim.rs`, not
//! above it: they use the hot path through its named functions and never
//! import `shim`; nothing outside `tools/` imports them (docs/architecture.md;
//! tests/architecture.rs checks both), so the hot path never carries their
//! code or their costs.

pub mod compare;
pub mod demo;
pub mod doctor;
pub mod report_summary;
pub mod toolchain;

use crate::cli::ToolRequest;

/// Runs the tool and returns its exit code; an error is printed as one line.
pub fn run(request: ToolRequest) -> u8 {
    let result = match request {
        ToolRequest::Demo { keep } => demo::run(keep.as_deref()),
        ToolRequest::Doctor { kernel } => doctor::run(kernel.as_deref()),
        ToolRequest::Report { file } => report_summary::summary(&file),
        // Prints its own errors, as `kbuild-compare: …`.
        ToolRequest::Compare { args } => return compare::run(&args),
    };
    result.unwrap_or_else(|e| crate::print_error(&e))
}
