//! Every cross-crate test of the workspace, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of twenty-odd, each of
//! which compiled its own copy of the generic code it used from tokio,
//! rusqlite, serde and the kiosk crates (measured: see the README's build
//! figures). Run one file's tests with a filter: `cargo test -p kiosk-tests
//! wire_ssp::`.
#![forbid(unsafe_code)]

/// What the validator drill files share (each protocol's drills through
/// its real driver and emulator).
#[path = "support/validator_drills.rs"]
mod validator_drills;

#[path = "determinism.rs"]
mod determinism;

#[path = "drills.rs"]
mod drills;

#[path = "explore.rs"]
mod explore;

#[path = "journal_commits.rs"]
mod journal_commits;

#[path = "money_property.rs"]
mod money_property;

#[path = "payment_code_leaks.rs"]
mod payment_code_leaks;

#[path = "recovery.rs"]
mod recovery;

#[path = "wire_acceptor.rs"]
mod wire_acceptor;

#[path = "wire_ccnet.rs"]
mod wire_ccnet;

#[path = "wire_cctalk.rs"]
mod wire_cctalk;

#[path = "wire_cctalk_coin.rs"]
mod wire_cctalk_coin;

#[path = "wire_drills.rs"]
mod wire_drills;

#[path = "wire_drills_ccnet.rs"]
mod wire_drills_ccnet;

#[path = "wire_drills_cctalk.rs"]
mod wire_drills_cctalk;

#[path = "wire_identity.rs"]
mod wire_identity;

#[path = "wire_latency.rs"]
mod wire_latency;

#[path = "wire_printer.rs"]
mod wire_printer;

#[path = "wire_printer_identity.rs"]
mod wire_printer_identity;

#[path = "wire_scanner.rs"]
mod wire_scanner;

#[path = "wire_ssp.rs"]
mod wire_ssp;

#[path = "wire_ssp_drills.rs"]
mod wire_ssp_drills;
