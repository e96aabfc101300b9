//! Every integration test of `kiosk-sim`, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of one per file, each of
//! which compiled its own copy of the generic code it used from its
//! dependencies. Run one file's tests with a filter: `cargo test -p kiosk-sim
//! --test all cli::`.
#![forbid(unsafe_code)]

#[path = "cli.rs"]
mod cli;

#[path = "crash_findings.rs"]
mod crash_findings;

#[path = "crash_kill.rs"]
mod crash_kill;

#[path = "drill_html.rs"]
mod drill_html;

#[path = "report_repeats.rs"]
mod report_repeats;
