//! ccTalk bill validator and coin acceptor drivers.
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
//!
//! # Coin acceptors
//!
//! [`CctalkHost::coins`] (and `CctalkCoinAcceptor`, feature `serial`)
//! drive a coin acceptor (address 2) with the same frame, polling, retries
//! and identity: coin ids (184) instead of bill ids, READ BUFFERED CREDIT
//! OR ERROR CODES (229) instead of 159, no escrow. Coins reach the kiosk's
//! [`BillAcceptor`](crate::BillAcceptor) as note-like items:
//!
//! | coin log entry | acceptor event |
//! |---|---|
//! | coin position n, sorter path | `Stacked { value }` at once (value from the coin id); a position without an id: `Jammed { stacker, None }` + `JamCleared { in-cash-box }` |
//! | reject coin / reject slug / repeated trips (1, 24, 25) | `Rejected { counterfeit }` |
//! | inhibited coin (2, 128–159) | `Rejected { inhibited }` |
//! | multiple window (3) / inserted too quickly (8–12) / too slow, sensor too early (19, 23) | `Rejected { other / insertion / transport }` |
//! | sensor or opto blocked (14, 15, 26, 32): a coin jam | `Jammed { acceptor, None }` once; the next coin through: `JamCleared { unknown }` |
//! | coin going backwards / coin on a string (17, 20) | `Fraud { string-or-fishing }` |
//! | credit sequence error / coin too fast (16, 18), unspecified alarm (255) | `Fraud { unspecified }` |
//! | timeouts, sensors not ready, gates, motor (4–7, 13, 21, 22, 27–31, 33, 35) | `Failure` |
//! | return lever (254), data block request (253), security changed (34) | nothing |
//! | **counter jumped by more than 5** | `Jammed { stacker, None }` + `JamCleared { unknown }`: a coin may have been lost, in doubt with an alarm; `HostStats::lost_events` |

mod coin_config;
mod coin_tracker;
mod config;
mod host;
mod tracker;

#[cfg(feature = "serial")]
mod acceptor;
#[cfg(feature = "serial")]
mod coin_acceptor;

pub use coin_config::CctalkCoinConfig;
pub use config::CctalkConfig;
pub use host::{CctalkHost, HostOutput, HostStats, Identity, Request};

#[cfg(feature = "serial")]
pub use acceptor::{CctalkAcceptor, CctalkCashBox};
#[cfg(feature = "serial")]
pub use coin_acceptor::CctalkCoinAcceptor;

#[cfg(test)]
mod test_rig;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod coin_tests;
