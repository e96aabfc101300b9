//! The crash test: a real kiosk process killed at random instants, and the
//! money line checked after every kill.
//!
//! ```text
//! kiosk-sim crash run --kills 1000 --seed 1            # the documented run
//! kiosk-sim crash run --kills 30 --seed 7 --dir /tmp/c # what CI runs
//! kiosk-sim crash check --dir /tmp/c [--settled]       # check a directory
//! ```
//!
//! Each life of the kiosk is its own OS process ([`child`]): a real
//! [`Kiosk`](kiosk_core::Kiosk) on the system clock, its SQLite journal on
//! disk, and devices whose physical state lives in files and survives the
//! kill ([`acceptor`], [`backend`]). Seeded [`customer`]s pay cash at it
//! continuously. The parent ([`parent`]) kills it with `SIGKILL` after a
//! seeded random while — one kill in five within the first 30 ms, during
//! start-up and recovery, most within 400 ms, one in five after a longer
//! life so sessions finish — and half the kills also cut the devices' power,
//! so they power up and report what they found; the other half leave the
//! devices running, so the next life meets a note still in escrow or in the
//! stacker transport and reports the last life never acknowledged. After
//! each kill [`check`] reads the cash box, the journal and the backend's
//! book and checks the money line (its module docs define every rule).
//! The last life is not killed: it runs to quiescence on a healthy link
//! and must leave nothing pending.
//!
//! A life that stops on its own (the kiosk went out of service) is not a
//! money violation: the run restarts it, as a supervisor would, checks the
//! money line as after a kill, and fails at the end (exit code 3).
//!
//! A run is reproducible in its schedule (kill times, power cuts, every
//! customer's and link's random choice come from the seed), not in its
//! interleavings: the kiosk runs in real time. On a violation the run stops
//! and keeps its directory — journal, `physical.json`, `backend.json`,
//! `child-stderr.log` — as the evidence.

pub mod acceptor;
pub mod backend;
pub mod check;
pub mod child;
pub mod cli;
pub mod customer;
pub mod parent;
pub mod physical;
pub mod store;

pub use acceptor::{FileAcceptor, FileCashBox, NoteSlot, PhysicalDevice};
pub use check::{observe, Observation, Rule, Violation};
pub use parent::{run, RunError, RunOptions, RunReport};

/// The journal's file under the run directory.
pub const JOURNAL_FILE: &str = "journal.db";
