//! Every integration test of `kiosk-billing`, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of one per file, each of
//! which compiled its own copy of the generic code it used from its
//! dependencies. Run one file's tests with a filter: `cargo test -p kiosk-billing
//! --test all cli::`.
#![forbid(unsafe_code)]

/// What every file shares.
mod support;

#[path = "cli.rs"]
mod cli;

#[path = "link_identity.rs"]
mod link_identity;

#[path = "link_money.rs"]
mod link_money;

#[path = "link_trust.rs"]
mod link_trust;
