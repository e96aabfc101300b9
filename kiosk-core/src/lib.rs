//! # kiosk-core
//!
//! The payment and fault logic of a self-service payment kiosk, written only
//! against the `kiosk-hal` traits.
//!
//! - [`session`]: one customer's payment as a sans-IO state machine.
//! - [`journal`]: the durable record of every money event (SQLite).
//! - [`runner`]: the thin async shell that drives sessions over real or
//!   virtual devices, retries pending payments, recovers after a crash,
//!   watches device health and performs staff [`commands`].
//! - [`tickets`]: fault tickets opened by detection, escalated, resolved.
//! - [`health`]: transaction failure rate and link latency, sans-IO.
//! - [`supervise`]: drivers restarted after a panic or a hang.
//! - [`failover`]: a backup link, same idempotency key on both.
//!
//! The money rule everything here keeps: value of notes in the cash box =
//! credited + pending + refused-and-held in the journal, in-doubt notes
//! bounded, and no payment ever credited twice.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod commands;
pub mod events;
pub mod failover;
pub mod health;
pub mod ids;
pub mod journal;
pub mod machine;
pub mod receipt;
pub mod runner;
pub mod screen;
pub mod session;
pub mod supervise;
pub mod tickets;
pub mod wait;

pub use commands::{AuthorisedCommand, Remote, SelfTestReport, StaffCommand, StaffSettlement};
pub use events::{DeviceKind, KioskEvent, KioskObserver};
pub use ids::{KioskId, Millis, SessionId};
pub use runner::{Clock, Devices, JournalTimings, Kiosk, KioskConfig, KioskError, SystemClock};
pub use screen::Screen;
pub use session::{Action, CustomerAction, Input, Record, Session, SessionConfig};
