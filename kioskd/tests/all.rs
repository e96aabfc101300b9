//! Every integration test of `kioskd`, as one test binary.
//!
//! Each file beside this one is one module here, as it was one binary
//! before: one crate to compile and link instead of one per file, each of
//! which compiled its own copy of the generic code it used from its
//! dependencies. Run one file's tests with a filter: `cargo test -p kioskd
//! --test all cli::`.
#![forbid(unsafe_code)]

/// What every file shares: the config writer, the kioskd process handle.
mod common;
/// What the fleet files share (brokers, hall configs).
#[path = "common/fleet.rs"]
mod fleet_common;
/// A real mosquitto on a free loopback port (shared with kiosk-fleet's tests).
#[path = "../../kiosk-fleet/tests/support/mosquitto.rs"]
mod mosquitto;

#[path = "cli.rs"]
mod cli;

#[path = "fleet_broker_away.rs"]
mod fleet_broker_away;

#[path = "fleet_commands.rs"]
mod fleet_commands;

#[path = "fleet_hall.rs"]
mod fleet_hall;

#[path = "fleet_measure.rs"]
mod fleet_measure;

#[path = "fleet_tls.rs"]
mod fleet_tls;

#[path = "https_e2e.rs"]
mod https_e2e;

#[path = "missing_device.rs"]
mod missing_device;

#[path = "operator_api.rs"]
mod operator_api;

#[path = "screen.rs"]
mod screen;

#[path = "sigterm.rs"]
mod sigterm;
