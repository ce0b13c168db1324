//! The one integration-test binary. Each module is a file beside this one,
//! run through the built `kbuild-shim`; `common` holds the shared helpers
//! (the binary, recording fake tools, real-tool lookup that fails, never
//! skips). One binary because linking sixteen cost more than running them,
//! and no test here sets process-wide state (environment, cwd, signal
//! dispositions): each drives child processes, so they share threads safely.

mod common;

mod architecture;
mod cli;
mod demo;
mod doctor;
mod golden;
mod install;
mod kbuild_compare;
mod launcher;
mod masquerade;
mod minikbuild;
mod properties;
mod real_clang;
mod real_ld;
mod reliability;
mod report;
mod scripts;
