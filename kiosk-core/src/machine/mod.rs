//! The kiosk's pure decisions about money, outside any one session.
//!
//! Every part here is sans-IO in the shape of quinn-proto's `Connection`:
//! inputs with `now` in, decisions out; no await, no clock, no SQLite. The
//! async [`runner`](crate::runner) feeds them what the devices, the backend
//! and the journal said and performs what they decide, in order, so a
//! property test can reach every decision without a runtime.
//!
//! - [`availability`]: which methods the kiosk offers, from faults, the
//!   link and staff's orders; which faults block a device.
//! - [`keys`]: the one place idempotency keys are built.
//! - [`note_path`]: which in-doubt note the acceptor's next report
//!   describes; unaccounted notes in the box; release to staff.
//! - [`retry`]: pending payments, their backoff and what a retry carries.
//! - [`recovery`]: what an open session found at start-up becomes.
//! - [`clearing`]: who may open a clearing, which staff settlements apply.
//!
//! Together with the payment [`Session`](crate::session::Session), the
//! [`TicketBook`](crate::tickets::TicketBook) and the
//! [`HealthMonitor`](crate::health::HealthMonitor) they are the kiosk's
//! decisions; the runner holds devices, the journal and the clock.

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
