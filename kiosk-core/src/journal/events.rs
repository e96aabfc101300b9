//! The append-only audit trail: one `events` row per journal change, written
//! in the same transaction as the change it describes.
//!
//! # The compact row (schema version 2)
//!
//! A row is a handful of integers: when (`at`), what ([`EventKind`]'s
//! stable code, spelled out by the `event_kinds` table), and which record:
//! the session (`sessions.n`), note (`notes.id`) or payment (`payments.id`)
//! by integer row id, never by a repeated text key. `amount` is the note's
//! value at that moment, in minor units of the note's own currency (a
//! note's value can change once, escrowed → in doubt, so the row's value
//! alone would not keep the history). `detail` is JSON only for what no row
//! keeps (a repeated backend answer, a reject's reason, who settled a note,
//! a ticket's state at the time), and `NULL` otherwise: what the session,
//! note or payment row says is not copied. The view `audit` shows the trail
//! readably (kind names, session ids, payment keys) for `sqlite3`.

use super::chain::{self, Writer};
use super::fail::Fail;
use crate::ids::Millis;

/// What an audit row records. The codes are part of the file format
/// (schema version 2): a code is never reused or renumbered; a new kind
/// gets a new code and a row in `event_kinds` (see [`KINDS_SQL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKind {
    /// A session began (`session`).
    SessionBegun = 1,
    /// A session ended (`session`; its outcome is in its row).
    SessionEnded = 2,
    /// A note was escrowed (`note`, `amount`).
    NoteEscrowed = 3,
    /// A note was stacked (`note`, `amount`).
    NoteStacked = 4,
    /// An escrowed note was returned (`note`, `amount`).
    NoteReturned = 5,
    /// A note was refused before escrow (`session`; reason in `detail`).
    NoteRejected = 6,
    /// A note's fate became unknown (`note`, `amount` if known).
    NoteInDoubt = 7,
    /// The device settled an in-doubt note (`note`, `payment` if credited; fate in `detail`).
    NoteSettled = 8,
    /// Two staff settled an in-doubt note (as `NoteSettled`, operators in `detail`).
    NoteSettledByStaff = 9,
    /// A payment was journaled (`payment`; `detail` says why when not for a session).
    PaymentPending = 10,
    /// A posting attempt (`payment`; the n-th row of it is attempt n).
    PostingAttempted = 11,
    /// The backend credited (`payment`; reference and balance in its row).
    PaymentCredited = 12,
    /// The backend repeated a credit (`payment`; the repeated answer in `detail`).
    PaymentCreditRepeated = 13,
    /// The backend refused (`payment`; reason in its row).
    PaymentRefused = 14,
    /// The backend repeated a refusal (`payment`; the reason in `detail`).
    PaymentRefusalRepeated = 15,
    /// A receipt was kept for reprint (`session`; its reference in `detail`).
    ReceiptKept = 16,
    /// A kept receipt was reprinted (`session`).
    ReceiptReprinted = 17,
    /// A clearing (its row id in `detail`).
    Clearing = 18,
    /// A fault ticket opened (`detail`: the ticket at the time).
    TicketOpened = 19,
    /// A fault ticket changed (`detail`: the ticket at the time).
    TicketUpdated = 20,
    /// A fault ticket resolved (`detail`: the ticket at the time).
    TicketResolved = 21,
    /// A staff or remote command was performed or refused by the kiosk
    /// (`detail`: who gave it, the command, whether it succeeded, the result).
    StaffCommand = 22,
    /// A security event: a command or login refused for want of valid
    /// credentials or rights (`detail`: why, and who the sender claimed to be).
    SecurityEvent = 23,
}

impl EventKind {
    /// Every kind, in code order.
    pub const ALL: [EventKind; 23] = [
        EventKind::SessionBegun,
        EventKind::SessionEnded,
        EventKind::NoteEscrowed,
        EventKind::NoteStacked,
        EventKind::NoteReturned,
        EventKind::NoteRejected,
        EventKind::NoteInDoubt,
        EventKind::NoteSettled,
        EventKind::NoteSettledByStaff,
        EventKind::PaymentPending,
        EventKind::PostingAttempted,
        EventKind::PaymentCredited,
        EventKind::PaymentCreditRepeated,
        EventKind::PaymentRefused,
        EventKind::PaymentRefusalRepeated,
        EventKind::ReceiptKept,
        EventKind::ReceiptReprinted,
        EventKind::Clearing,
        EventKind::TicketOpened,
        EventKind::TicketUpdated,
        EventKind::TicketResolved,
        EventKind::StaffCommand,
        EventKind::SecurityEvent,
    ];

    /// The stored code.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The name auditors read (the `kind` text of schema version 1).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::SessionBegun => "session-begun",
            EventKind::SessionEnded => "session-ended",
            EventKind::NoteEscrowed => "note-escrowed",
            EventKind::NoteStacked => "note-stacked",
            EventKind::NoteReturned => "note-returned",
            EventKind::NoteRejected => "note-rejected",
            EventKind::NoteInDoubt => "note-in-doubt",
            EventKind::NoteSettled => "note-settled",
            EventKind::NoteSettledByStaff => "note-settled-by-staff",
            EventKind::PaymentPending => "payment-pending",
            EventKind::PostingAttempted => "posting-attempted",
            EventKind::PaymentCredited => "payment-credited",
            EventKind::PaymentCreditRepeated => "payment-credit-repeated",
            EventKind::PaymentRefused => "payment-refused",
            EventKind::PaymentRefusalRepeated => "payment-refusal-repeated",
            EventKind::ReceiptKept => "receipt-kept",
            EventKind::ReceiptReprinted => "receipt-reprinted",
            EventKind::Clearing => "clearing",
            EventKind::TicketOpened => "ticket-opened",
            EventKind::TicketUpdated => "ticket-updated",
            EventKind::TicketResolved => "ticket-resolved",
            EventKind::StaffCommand => "staff-command",
            EventKind::SecurityEvent => "security-event",
        }
    }
}

/// The rows of `event_kinds`, as SQL (`INSERT OR IGNORE`: run on every
/// open, it adds only the kinds a file lacks).
pub(super) fn kinds_sql() -> String {
    let rows: Vec<String> = EventKind::ALL
        .iter()
        .map(|k| format!("({}, '{}')", k.code(), k.name()))
        .collect();
    format!(
        "INSERT OR IGNORE INTO event_kinds (code, name) VALUES {};",
        rows.join(", ")
    )
}

/// One audit row.
pub(super) struct Event {
    /// When it happened (kiosk clock).
    pub at: Millis,
    /// What happened.
    pub kind: EventKind,
    /// The session it concerns (`sessions.n`), when no note or payment says it.
    pub session: Option<i64>,
    /// The note it concerns.
    pub note: Option<i64>,
    /// The payment it concerns (`payments.id`).
    pub payment: Option<i64>,
    /// The note's value then, in minor units of its currency.
    pub amount: Option<i64>,
    /// What no row keeps, as JSON; `None` when there is nothing.
    pub detail: Option<serde_json::Value>,
}

impl Event {
    /// An event of `kind` at `at` with no subject yet.
    pub fn new(kind: EventKind, at: Millis) -> Event {
        Event {
            at,
            kind,
            session: None,
            note: None,
            payment: None,
            amount: None,
            detail: None,
        }
    }

    /// Concerning the session with row number `n`.
    pub fn session(mut self, n: i64) -> Self {
        self.session = Some(n);
        self
    }

    /// Concerning note `id`.
    pub fn note(mut self, id: i64) -> Self {
        self.note = Some(id);
        self
    }

    /// Concerning the payment with row id `id`.
    pub fn payment(mut self, id: i64) -> Self {
        self.payment = Some(id);
        self
    }

    /// With the note's value then.
    pub fn amount(mut self, minor: Option<i64>) -> Self {
        self.amount = minor;
        self
    }

    /// With `detail`.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Appends the row with its link in the hash chain (inside the
    /// caller's transaction; see `chain`).
    pub fn append(self, w: &Writer<'_>) -> Result<(), Fail> {
        let detail = self.detail.map(|d| d.to_string());
        chain::append(
            w,
            &chain::NewRow {
                at: i64::try_from(self.at.0).unwrap_or(i64::MAX),
                kind: self.kind,
                session: self.session,
                note: self.note,
                payment: self.payment,
                amount: self.amount,
                detail: detail.as_deref(),
            },
        )
    }
}
