//! # kiosk-sim
//!
//! Rehearse a payment kiosk's contingency plan in simulation.
//!
//! - [`devices`]: virtual bill acceptor, cash box, printer and QR reader,
//!   each implementing its `kiosk-hal` trait, each configured (with planned
//!   faults) from serde so a scenario file can stage any failure. They run
//!   on tokio's paused clock and cost nothing while idle.
//! - [`backend`]: a virtual billing backend with idempotent posting that
//!   records how often each key was applied, and links to it with faults.
//! - [`faults`]: when faults strike (at a time, in a window, on the n-th
//!   call, with a seeded probability), wrapper devices in the smoltcp
//!   manner, and driver sabotage for supervisor drills.
//! - [`emulators`]: the same virtual devices behind the real protocol bytes
//!   (ID-003, ESC/POS, serial scanner) on pseudo-terminals, so the real
//!   drivers are what gets tested (unix).
//! - [`fleet`]: a discrete-event model of a business hall for the site drills.
//! - [`crash`]: the crash test — a real kiosk process killed at random
//!   instants over devices whose state survives, the money line checked
//!   after every restart.
//! - [`drill`]: scenario files, the drill runner and its reports; the
//!   `kiosk-sim` binary is its command line.
//! - [`explore`]: the seeded random explorer: seed → fault rates →
//!   random scenario, checked after every step, failures shrunk to a
//!   scenario file.
//!
//! Everything is seeded: a drill is a scenario plus a `u64` seed, and the
//! same seed gives the same trace.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod backend;
pub mod cli_text;
pub mod clock;
pub mod crash;
pub mod devices;
pub mod drill;
#[cfg(unix)]
pub mod emulators;
pub mod explore;
pub mod faults;
pub mod fleet;
pub mod progress;
pub mod rng;

pub use backend::{VirtualBackend, VirtualLink};
pub use clock::SimClock;
pub use faults::{ConfigError, FaultLog, FaultPlan, FaultRule, FaultyLink, FaultyReader, Trigger};
pub use rng::SimRng;
