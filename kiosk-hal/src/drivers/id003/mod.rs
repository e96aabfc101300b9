//! JCM ID-003 bill acceptor driver.
//!
//! - [`Id003Host`]: the sans-IO host. It initialises the device (reset,
//!   currency table 0x8A, enable bits, inhibit), polls its status, turns
//!   statuses into [`AcceptorEvent`](crate::AcceptorEvent)s exactly once
//!   each, ACKs VEND VALID, counts missed answers and declares the device
//!   offline.
//! - `Id003Acceptor` (feature `serial`): the shell, a
//!   [`BillAcceptor`](crate::BillAcceptor) over a serial port, and
//!   `Id003CashBox`, its stacker as a [`CashBox`](crate::CashBox).
//!
//! # Status to event
//!
//! | status (on change) | event |
//! |---|---|
//! | escrow + code | `Escrowed { value }` (value from the device's currency table); a value the kiosk did not enable, or an unknown code, is returned by the driver and reported `Rejected` |
//! | VEND VALID (ACKed each time) or stacked | `Stacked { value }` once per note |
//! | idle after return | `Returned { value }` |
//! | rejecting + code | `Rejected { reason }` ([`RejectCode::reason`](crate::wire::id003::RejectCode::reason)) |
//! | acceptor / stacker jam | `Jammed { location, value }`; when the jam ends: `JamCleared` with `in-cash-box` (VEND VALID followed), `returned` (returning followed) or `unknown` |
//! | power up (0x40 / 0x41 / 0x42) | `PowerUp { note: none / in-acceptor / in-stacker }` |
//! | stacker full / open (and closed again) | `StackerFull` / `StackerRemoved` (`StackerReplaced`) |
//! | cheated | `Fraud { unspecified }` |
//! | failure + code | `Failure` |
//! | `offline-after-missed` unanswered commands, or the port vanished | one `Err(Offline)` from `next_event`; `status()` fails with `Offline` |
//! | the device answers again | `PowerUp` (its own power-up status, else `none`), then initialisation |
//!
//! A note that went to the stacker but whose VEND VALID never came (the
//! device went back to idle) is reported `Jammed { stacker }` then
//! `JamCleared { unknown }`: in doubt, for staff. A VEND VALID for a note
//! whose escrow the driver never saw (it restarted in between) is reported
//! `Jammed { stacker, value: None }` then `JamCleared { in-cash-box }`.

mod config;
mod host;
mod tracker;

#[cfg(feature = "serial")]
mod acceptor;

pub use config::{Id003Config, StackCommand};
pub use host::{HostOutput, HostStats, Id003Host, Request};

#[cfg(feature = "serial")]
pub use acceptor::{Id003Acceptor, Id003CashBox};

#[cfg(test)]
mod tests;
