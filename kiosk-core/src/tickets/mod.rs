//! Fault tickets, opened by detection and carried to resolution (sans-IO).
//!
//! A ticket records what operations need (contingency catalog, "Fault
//! tickets"): kiosk, site, device, fault kind, severity, symptom, the time of
//! each step (opened, acknowledged, remote fix tried, dispatched, resolved)
//! and every action taken (time, actor, action, result).
//!
//! # Rules
//!
//! - **Opened by detection**: [`TicketBook::fault_detected`] opens one ticket
//!   per (device, kind) while it is open; a repeat report changes nothing, a
//!   different kind on the same device gets its own ticket.
//! - **Resolved by the device**: [`TicketBook::fault_cleared`] resolves all
//!   open tickets of the device (actor `"kiosk"`), recording the resolution
//!   time. Staff resolve with [`TicketBook::resolve`].
//! - **Escalation**: a ticket neither resolved nor dispatched
//!   [`TicketPolicy::escalation_window_ms`] after it was opened is dispatched
//!   on site by [`TicketBook::poll`] — exactly at the window, not before.
//!   [`TicketBook::next_deadline`] says when that is, so the runner sleeps
//!   until then instead of ticking.
//! - **Reopening** (off by default): the same fault within
//!   [`TicketPolicy::reopen_merge_ms`] after resolution reopens its ticket.
//! - **Limits**: at most [`TicketPolicy::actions_max`] actions per ticket and
//!   [`TicketPolicy::resolved_kept_max`] resolved tickets in memory.
//!
//! Every call returns the [`TicketChange`]s it made, each with the ticket
//! after the change, for the runner to save ([`crate::journal::Journal::save_ticket`])
//! and report. The book reads no clock: `now` is passed in.

mod book;
mod kind;
mod policy;
mod types;

#[cfg(test)]
mod tests;

pub use book::{TicketBook, KIOSK_ACTOR};
pub use kind::{SecurityKind, TicketKind, UnknownTicketKind};
pub use policy::{SeverityRule, TicketPolicy};
pub use types::{Severity, Ticket, TicketAction, TicketChange, TicketId, TicketState};
