//! The kiosk's pure decisions.
//!
//! [`KioskMachine`] is the one machine that decides everything a kiosk
//! does, in the shape of quinn-proto's `Connection`: inputs with `now` in,
//! outputs and the next deadline out; no await, no clock, no SQLite. The
//! async [`runner`](crate::runner) feeds it what the devices, the backend
//! and the journal said and performs what it decides, in order, so a
//! property test can reach every decision without a runtime. The machine
//! is built from these parts, each pure and tested on its own:
//!
//! - [`kiosk`]: the machine itself, its inputs and outputs.
//! - [`availability`]: which methods the kiosk offers, from faults, the
//!   link and staff's orders; which faults block a device.
//! - [`keys`]: the one place idempotency keys are built.
//! - [`note_path`]: which in-doubt note the acceptor's next report
//!   describes; unaccounted notes in the box; release to staff.
//! - [`retry`]: pending payments, their backoff and what a retry carries.
//! - [`recovery`]: what an open session found at start-up becomes.
//! - [`clearing`]: who may open a clearing, which staff settlements apply.
//!
//! With the payment [`Session`](crate::session::Session), the
//! [`TicketBook`](crate::tickets::TicketBook) and the
//! [`HealthMonitor`](crate::health::HealthMonitor), the machine holds all
//! of them; the runner holds devices, the journal and the clock.

pub mod availability;
pub mod clearing;
pub mod keys;
pub mod kiosk;
pub mod note_path;
pub mod recovery;
pub mod retry;

pub use availability::Availability;
pub use kiosk::{KioskConfig, KioskMachine};
pub use note_path::{NoteInPath, NotePath, PathDecision};
pub use recovery::RecoveryStep;
pub use retry::{RetryPolicy, RetrySchedule};
