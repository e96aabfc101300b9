//! ITL SSP / eSSP note validator driver (NV9, NV10, NV11, NV200…).
//!
//! - [`SspHost`]: the sans-IO host. It sets the unit up (SYNC, the eSSP
//!   key exchange when configured or demanded, protocol version, SETUP
//!   REQUEST for the channel values, serial number, channel inhibits), polls
//!   it (with ACK), holds escrowed notes until the kiosk decides, turns poll
//!   events into [`AcceptorEvent`](crate::AcceptorEvent)s exactly once each,
//!   resends with the same sequence flag and declares the unit offline.
//! - `SspAcceptor` (feature `serial`): the shell, a
//!   [`BillAcceptor`](crate::BillAcceptor) over a serial port on the
//!   shared serial worker (reconnect with backoff), and `SspCashBox`, its
//!   cash box as a [`CashBox`](crate::CashBox).
//!
//! # Poll events to acceptor events
//!
//! | SSP | event |
//! |---|---|
//! | read note n (n > 0) | `Escrowed { value }` (channel value from SETUP REQUEST); a value the kiosk did not enable, or an unknown channel, is rejected by the driver and reported `Rejected` |
//! | credit n | `Stacked { value }` once per note (a credit for a note whose escrow the driver never saw: `Jammed { stacker }` then `JamCleared { in-cash-box }`) |
//! | rejected, after the kiosk's `return_note` | `Returned { value }` |
//! | rejected, otherwise | `Rejected { reason }` from LAST REJECT CODE ([`RejectCode::reason`](crate::wire::ssp::RejectCode::reason)); an escrowed note the unit gave back by itself: `Returned` |
//! | safe / unsafe note jam | `Jammed { stacker / acceptor }`; once polls stop showing it: `JamCleared` with `in-cash-box` (credit, stacked), `returned` (rejected) or `unknown` |
//! | slave reset, then note cleared from front / into cash box | `PowerUp { note: in-acceptor / in-stacker }` (`none` without a note), after set-up |
//! | stacker full / cash box removed, replaced | `StackerFull` / `StackerRemoved`, `StackerReplaced` |
//! | fraud attempt | `Fraud { unspecified }` |
//! | a set-up step refused repeatedly | `Failure` |
//! | every resend of a command unanswered, or the port vanished | one `Err(Offline)` from `next_event`; `status()` fails with `Offline` |
//! | the unit answers again | set-up again, then `PowerUp` |
//!
//! ⚠ Safe jam (0xEA) is taken for a note deep inside (stacker side),
//! unsafe jam (0xE9) for one reachable from the front (acceptor side).

mod config;
mod host;
mod tracker;

#[cfg(feature = "serial")]
mod acceptor;

pub use config::SspConfig;
pub use host::{HostOutput, HostStats, Request, SspHost, Transmit};

#[cfg(feature = "serial")]
pub use acceptor::{SspAcceptor, SspCashBox};

#[cfg(test)]
mod tests;
