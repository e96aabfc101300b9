//! The plain records of the ticket book: tickets, their actions, and the
//! changes the book reports.

use serde::{Deserialize, Serialize};

use super::TicketKind;
use crate::events::DeviceKind;
use crate::ids::{KioskId, Millis};

/// A ticket's number, unique on its kiosk; numbers are never reused.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TicketId(pub u64);

impl std::fmt::Display for TicketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "T{:06}", self.0)
    }
}

/// How urgent a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Plan it (paper running low).
    Low,
    /// One function is degraded (printer out of paper, link slow).
    Medium,
    /// A payment method or the backend is unavailable.
    High,
    /// A security alarm (cash box removed outside a clearing, fraud).
    Critical,
}

/// Where a ticket is in its handling. Derived from its times, see
/// [`Ticket::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketState {
    /// Opened by detection; nobody has reacted yet.
    Open,
    /// Operations has seen it.
    Acknowledged,
    /// A remote recovery (reset, reopen, restart) was tried.
    RemoteFixTried,
    /// Someone was sent on site.
    Dispatched,
    /// Over, with its resolution time.
    Resolved,
}

/// One handling step: when, who, what was done, what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAction {
    /// When (kiosk clock).
    pub at: Millis,
    /// Who: a person's name or id, or `"kiosk"` for the kiosk itself.
    pub actor: String,
    /// The measure taken (`"opened"`, `"reset"`, `"replaced paper roll"`).
    pub action: String,
    /// What came of it.
    pub result: String,
}

/// A fault ticket: one fault of one device, from detection to resolution.
///
/// The step times (`acknowledged_at`, `remote_fix_at`, `dispatched_at`,
/// `resolved_at`) are the first time of each step in the ticket's current
/// episode. A ticket reopened by [`TicketPolicy::reopen_merge_ms`]
/// (see `reopened_at`) starts a new episode: those times are cleared, and the
/// earlier ones stay in `actions`.
///
/// [`TicketPolicy::reopen_merge_ms`]: super::TicketPolicy::reopen_merge_ms
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Its number.
    pub id: TicketId,
    /// The kiosk (device id).
    pub kiosk: KioskId,
    /// The site (business hall) the kiosk belongs to.
    pub site: String,
    /// The faulty device.
    pub device: DeviceKind,
    /// What it is about (stored and shown as `"paper-out"`, `"offline"`,
    /// `"link-slow"`, `"security:cash-box-removed"`).
    pub kind: TicketKind,
    /// How urgent.
    pub severity: Severity,
    /// What was seen, in words.
    pub symptom: String,
    /// When the fault was detected (time of fault).
    pub opened_at: Millis,
    /// When operations acknowledged it.
    pub acknowledged_at: Option<Millis>,
    /// When a remote fix was first tried.
    pub remote_fix_at: Option<Millis>,
    /// When someone was sent on site.
    pub dispatched_at: Option<Millis>,
    /// When it was resolved.
    pub resolved_at: Option<Millis>,
    /// When the same fault came back after resolution and reopened it (the
    /// latest time), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopened_at: Option<Millis>,
    /// Every handling step, oldest first (at most
    /// [`TicketPolicy::actions_max`](super::TicketPolicy::actions_max)).
    pub actions: Vec<TicketAction>,
    /// Actions left out to keep the list bounded (the oldest after the first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub actions_dropped: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Ticket {
    /// Where the ticket is: the latest step of its current episode.
    pub fn state(&self) -> TicketState {
        if self.resolved_at.is_some() {
            TicketState::Resolved
        } else if self.dispatched_at.is_some() {
            TicketState::Dispatched
        } else if self.remote_fix_at.is_some() {
            TicketState::RemoteFixTried
        } else if self.acknowledged_at.is_some() {
            TicketState::Acknowledged
        } else {
            TicketState::Open
        }
    }

    /// Whether it is not resolved.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    /// When the current episode began: the latest reopening, else the opening.
    pub fn episode_start(&self) -> Millis {
        self.reopened_at.unwrap_or(self.opened_at)
    }
}

/// What a ticket-book call changed, for the runner to persist and report.
/// Each carries the ticket as it is after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "change", content = "ticket")]
pub enum TicketChange {
    /// A new ticket, or a resolved one reopened (its `reopened_at` is set).
    Opened(Ticket),
    /// An action was recorded (acknowledged, remote fix tried, a note).
    Updated(Ticket),
    /// Dispatched on site: by the escalation window or by staff.
    Escalated(Ticket),
    /// Resolved, with its resolution time.
    Resolved(Ticket),
}

impl TicketChange {
    /// The ticket after the change.
    pub fn ticket(&self) -> &Ticket {
        match self {
            TicketChange::Opened(t)
            | TicketChange::Updated(t)
            | TicketChange::Escalated(t)
            | TicketChange::Resolved(t) => t,
        }
    }
}
