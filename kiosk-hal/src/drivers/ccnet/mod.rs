//! CCNET bill acceptor driver (CashCode and the many compatible,
//! often Chinese-made, validators).
//!
//! - [`CcnetHost`]: the sans-IO host. It initialises the device (reset,
//!   identification, bill table, bill types), polls it, acknowledges every
//!   poll answer, turns states into [`AcceptorEvent`](crate::AcceptorEvent)s
//!   exactly once each, counts missed answers and declares the device
//!   offline.
//! - `CcnetAcceptor` (feature `serial`): the shell, a
//!   [`BillAcceptor`](crate::BillAcceptor) over a serial port, and
//!   `CcnetCashBox`, its drop cassette as a [`CashBox`](crate::CashBox).
//!
//! Notes are always taken with escrow: the kiosk enables the bill types of
//! the values it accepts, each with its escrow bit, and decides on every
//! note with `stack()` or `return_note()`.
//!
//! # State to event
//!
//! | poll state (on change) | event |
//! |---|---|
//! | escrow position + type | `Escrowed { value }` (value from the device's bill table); a value the kiosk did not enable, or an unknown type, is returned by the driver and reported `Rejected` |
//! | bill stacked + type (ACKed each time) | `Stacked { value }` once per note |
//! | bill returned | `Returned { value }` |
//! | rejecting + code | `Rejected { reason }` ([`RejectCode::reason`](crate::wire::ccnet::RejectCode::reason)) |
//! | validator / drop cassette jammed | `Jammed { location, value }`; when it ends: `JamCleared` with `in-cash-box` (bill stacked followed), `returned` (returning followed) or `unknown` |
//! | power up / with bill in validator / in stacker | `PowerUp { note: none / in-acceptor / in-stacker }` |
//! | drop cassette full / out of position (and back) | `StackerFull` / `StackerRemoved` (`StackerReplaced`) |
//! | cheated | `Fraud { unspecified }` |
//! | failure + code | `Failure` |
//! | `offline-after-missed` unanswered commands, or the port vanished | one `Err(Offline)`; `status()` fails with `Offline` |
//!
//! A note sent to the stacker whose "bill stacked" never came (the device
//! went back to idle) is reported `Jammed { stacker }` then `JamCleared {
//! unknown }`: in doubt, for staff. A "bill stacked" for a note the kiosk
//! never took from escrow is `Jammed { stacker }` then `JamCleared {
//! in-cash-box }`.

mod config;
mod host;
mod tracker;

#[cfg(feature = "serial")]
mod acceptor;

pub use config::CcnetConfig;
pub use host::{CcnetHost, HostOutput, HostStats, Request};

#[cfg(feature = "serial")]
pub use acceptor::{CcnetAcceptor, CcnetCashBox};

#[cfg(test)]
mod tests;
