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

//!
//! # The documented run
//!
//! `kiosk-sim crash run --kills 1000 --seed 1000` (debug build, 2 shared
//! cores, ext4): 1,000 kills in 358 s wall time, 155 of them during
//! start-up or recovery, 472 with a power cut; 380 sessions ended inside a
//! life (the others were closed by recovery). The money line held after
//! every kill and nothing was pending after the quiescent run: box
//! CNY 63,090.00 in 1,442 notes; books credited 40,920.00 + refused
//! 20,430.00 = 61,350.00 in 1,400 notes; 153 notes in doubt (4,950.00 of
//! known value plus 30 of unknown value) bound the 42 notes (1,740.00) the
//! books do not hold; the backend applied 740 keys once each, 40,920.00,
//! equal to the journal's credited total.
//!
//! What the runs found: a life that went out of service with
//! `journal UnknownRecord: no session K01-000432` (an unaccounted note
//! journaled against a session that was never journaled; reduced to
//! `kiosk-sim/tests/crash_findings.rs`), and how loose the in-doubt bound
//! runs: at least 111 of the 153 in-doubt notes are not in the box. 74 are
//! escrowed notes recovery put in doubt that no device report ever settled
//! (the note path slot lives in memory: a report arriving in a later life,
//! or after a kill during recovery, no longer finds it), and 79 were
//! journaled "unaccounted" from a report outside any session, each with a
//! security alarm (82 alarms): mostly a report the dead life had journaled
//! but not yet acknowledged, reported again to the next one.
//!
//! `--kills 1000 --seed 20261130` (kill 94) then found what such a repeat
//! could do: delivered to a third life, after the second had journaled it
//! unaccounted and died unacknowledged too, it settled that in-doubt note
//! in the box (recovery had taken the newest in-doubt note for one still
//! in the acceptor's path) and credited the last customer a second time
//! for one note: books 152 notes, box 151. Recovery now knows that an
//! unaccounted note was never in the path (reduced to
//! `kiosk-sim/tests/crash_findings.rs`). The same seed then passed 1,000
//! kills in 330 s (32 notes in doubt, none credited). The explorer now
//! stages the same repeat in virtual time (the acceptor fault
//! `kiosk-power-loss-before-ack`) and finds this bug within 100 runs when
//! the fix is taken out (see [`crate::explore`]).

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
