//! ccTalk bill validator driver.
//!
//! - [`CctalkHost`]: the sans-IO host. It reads the event counter, the
//!   device's identity, bill ids and scaling, sets escrow mode and the
//!   inhibit masks, reads the buffered bill events every poll interval and
//!   turns new events into [`AcceptorEvent`](crate::AcceptorEvent)s.
//! - `CctalkAcceptor` (feature `serial`): the shell, a
//!   [`BillAcceptor`](crate::BillAcceptor) over a serial port that drops
//!   its own echo on the single-wire bus, and `CctalkCashBox`.
//!
//! # Event to acceptor event
//!
//! | bill event | acceptor event |
//! |---|---|
//! | type n, pending credit (escrow) | `Escrowed { value }` (value from bill id and scaling); a value not enabled, or an unknown type, is routed back by the driver and reported `Rejected` |
//! | type n, credit | `Stacked { value }`; without a reported escrow: `Jammed` + `JamCleared { in-cash-box }` |
//! | returned from escrow | `Returned { value }` |
//! | validation fail / transport problem / inhibited | `Rejected { counterfeit / transport / inhibited }` |
//! | jammed in transport (safe / unsafe) / in stacker, stacker jammed | `Jammed { acceptor / stacker }`; a later credit clears it `in-cash-box`, a return `returned`, anything else `unknown` |
//! | pulled backwards, string fraud / opto fraud / tamper | `Fraud { string-or-fishing / optical / tamper }` |
//! | stacker removed / inserted / full / faulty | `StackerRemoved` / `StackerReplaced` / `StackerFull` / `Failure` |
//! | unknown bill type stacked | `Jammed { stacker, None }` + `JamCleared { in-cash-box }` (in the box, value unknown) |
//! | **counter jumped by more than 5 (events lost)** | `Jammed { stacker, value }` + `JamCleared { unknown }`: the note in hand, or a possible unseen one, is in doubt (an alarm and a staff settlement in the core); `HostStats::lost_events` |
//! | counter back to 0 (restart) | a note in hand in doubt as above, then `PowerUp { none }`, and the device is set up again |

mod config;
mod host;
mod tracker;

#[cfg(feature = "serial")]
mod acceptor;

pub use config::CctalkConfig;
pub use host::{CctalkHost, HostOutput, HostStats, Identity, Request};

#[cfg(feature = "serial")]
pub use acceptor::{CctalkAcceptor, CctalkCashBox};

#[cfg(test)]
mod tests;
