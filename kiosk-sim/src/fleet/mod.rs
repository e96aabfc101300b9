//! A site (business hall) simulation: several kiosks, their queues, guidance,
//! faults and spares, fast enough to simulate a month in well under a second.
//!
//! # The model
//!
//! A discrete-event simulation with its own event queue (a radix heap keyed
//! by time and sequence number; no tokio, no wall clock). Only real events
//! are scheduled: arrivals, the answer a session waits for, session
//! deadlines, customers leaving, faults starting, being detected, dispatched
//! and resolved, spares coming in. An idle kiosk costs nothing.
//!
//! - **Arrivals**: a seeded non-homogeneous Poisson process over opening
//!   hours, with a rush hour at a multiple of the base rate. Each customer
//!   comes to pay cash or by code, and some would switch method.
//! - **Service**: every kiosk runs the real kiosk machine
//!   ([`KioskMachine`](kiosk_core::machine::KioskMachine)) in a small
//!   synchronous executor: an in-memory journal answers its journal
//!   operations, and a virtual acceptor, cash box, printer, reader and
//!   backend answer its calls in virtual time (see [`Timings`]) from the
//!   kiosk's actual device health. The customer only acts on the screens
//!   it shows (typing the account, choosing, feeding notes, showing a
//!   code). The service time is what the machine's session takes; its
//!   deadlines and idle checks are queue events.
//! - **Guidance** ([`Guidance`]): shortest expected wait (told to the
//!   customer) against two honest baselines, a proximity-weighted random
//!   pick and joining the shortest visible queue. Customers do not switch
//!   queues by themselves; guided customers are moved when a spare comes in
//!   or a kiosk comes back, or when their method fails where they wait.
//! - **Faults** ([`FaultConfig`]): per-kiosk Poisson processes by kind in
//!   opening hours, each with detection, operations response, remote fix,
//!   escalation to on-site dispatch and repair; a fault breaks a device
//!   and the kiosk machine detects it (its ticket book opens the ticket,
//!   it stops offering what does not work); a fault that starts mid-session
//!   reaches the machine as the device would report it. A repaired device
//!   is seen healthy by the machine, which resolves its ticket. Spares do
//!   not fail (they are tested in advance).
//! - **Spares**: when a kiosk that is out of service is dispatched on site,
//!   a standby spare takes customers `spare-switchover-ms` later, and goes
//!   back to standby once the kiosk is repaired and the spare's queue is
//!   served.
//!
//! Not modelled: customers abandoning a queue out of impatience, walking
//! time between kiosks, staff helping at a kiosk, faults of spares, a
//! site-wide backend outage (link faults are per kiosk), staff reprinting
//! kept receipts, and cash clearings (a full cash box is emptied without
//! one: the box reads normal again and the machine clears its fault).
//!
//! An idle kiosk whose last health check and heartbeat changed nothing is
//! not woken for the next ones until a device or the link changes (see
//! the `drive` module): they would give the same answers.
//!
//! # Determinism
//!
//! Same config and seed, same result: every random draw comes from
//! [`SimRng`](crate::rng::SimRng) streams forked from the seed by name, and
//! ties in the event queue break by scheduling order. [`SiteReport::digest`]
//! hashes the event sequence. Every report names its seed.
//!
//! # Drills
//!
//! - `peak-diversion`: [`compare_guidance`].
//! - `spare-switchover`: [`spare_switchover`].
//! - `fault-statistics`: [`fault_statistics`].

mod arrivals;
mod config;
mod customer;
mod dist;
mod diversion;
mod drive;
mod events;
mod executor;
mod faults;
mod finish;
mod flow;
mod guidance;
mod journal;
mod kiosk;
mod outages;
mod render;
mod report;
mod sim;
mod small_map;
mod statistics;
mod stats;
mod switchover;

#[cfg(test)]
mod tests;

pub use config::{CustomerConfig, Guidance, RushHour, SiteConfig, TimeOfDay, Timings, DAY_MS};
pub use dist::Dist;
pub use diversion::{compare_guidance, DiversionReport, Improvement, DIVERSION_TARGET_PCT};
pub use faults::{FaultConfig, FaultKind, FaultOverride, FaultProfile, FaultScope, Ticket};
pub use report::{CustomerCounts, DeviceCounts, SessionCounts, SiteReport, Switchover};
pub use statistics::{fault_statistics, FaultStatistics, KindStatistics};
pub use stats::Summary;
pub use switchover::{
    spare_switchover, BeforeAfter, SwitchoverDrill, SwitchoverReport, WindowStats, SPARES_TARGET,
};

/// Panics with the validation message of an invalid config.
fn valid(config: &SiteConfig) {
    if let Err(e) = config.validate() {
        panic!("invalid site config: {e}");
    }
}

/// Simulates the site for `config.days` days with `config.guidance`.
///
/// # Panics
///
/// If `config.validate()` fails.
pub fn simulate(config: &SiteConfig, seed: u64) -> SiteReport {
    valid(config);
    let opts = sim::RunOptions {
        guidance: config.guidance,
        days: config.days,
        spares: config.spares,
        forced: Vec::new(),
    };
    sim::run(config, seed, &opts).report
}
