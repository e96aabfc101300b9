//! The plain records the journal stores and returns.

use kiosk_hal::{AccountNumber, IdempotencyKey, Money, PaymentMethod, Receipt};
use serde::{Deserialize, Serialize};

use crate::ids::{KioskId, Millis, SessionId};

/// A note's row id in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NoteId(pub i64);

/// Where a note is, as far as the journal knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteState {
    /// Held in escrow; not in the box, not credited.
    Escrowed,
    /// Past the credit point: in the cash box.
    Stacked,
    /// Given back from escrow.
    Returned,
    /// Fate unknown (jam, power loss): held for the device's report or staff.
    InDoubt,
    /// Was in doubt; the device reported it in the cash box.
    SettledInBox,
    /// Was in doubt; the device reported it returned.
    SettledReturned,
}

/// A payment's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentState {
    /// Journaled, not yet answered by the backend: retried until it is.
    Pending,
    /// The backend credited it.
    Credited,
    /// The backend refused it. For cash the notes are in the box: held for staff.
    Refused,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionOutcome {
    /// The backend credited the payment.
    Credited,
    /// The payment is pending (link down or answer lost); it will be retried.
    Pending,
    /// The backend refused the payment.
    Refused,
    /// No money was taken (cancelled, account refused, nothing inserted).
    NoPayment,
    /// The session was cut short by a device fault (jam, fraud, offline).
    Aborted,
    /// The kiosk restarted in the middle of it; closed by recovery.
    Interrupted,
}

/// What a session is, when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStart {
    /// Its id.
    pub id: SessionId,
    /// The kiosk it runs on.
    pub kiosk: KioskId,
    /// The account it pays.
    pub account: AccountNumber,
    /// How the customer pays.
    pub method: PaymentMethod,
    /// When it started.
    pub at: Millis,
}

/// A session that was started and never ended (the kiosk stopped mid-session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSession {
    /// Its id.
    pub id: SessionId,
    /// The account it pays.
    pub account: AccountNumber,
    /// How the customer pays.
    pub method: PaymentMethod,
    /// Notes still in escrow when the kiosk stopped.
    pub escrowed: Vec<(NoteId, Money)>,
    /// Sum of stacked notes not yet part of any payment.
    pub unposted_stacked: Option<Money>,
    /// Whether a payment was already journaled for it.
    pub has_payment: bool,
}

/// A payment the backend has not answered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayment {
    /// Its idempotency key: retries reuse it.
    pub key: IdempotencyKey,
    /// The session it belongs to.
    pub session: SessionId,
    /// The account to credit.
    pub account: AccountNumber,
    /// The amount.
    pub amount: Money,
    /// How it was paid.
    pub method: PaymentMethod,
    /// When it was journaled.
    pub created_at: Millis,
    /// How many postings were tried so far.
    pub attempts: u32,
}

/// A note whose fate is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InDoubtNote {
    /// Its row id.
    pub id: NoteId,
    /// The session it belongs to.
    pub session: SessionId,
    /// Its value, if the device had validated it.
    pub value: Option<Money>,
    /// When it became in-doubt.
    pub since: Millis,
}

/// What settling an in-doubt note did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Settlement {
    /// The note is in the box: a new pending payment credits it (once).
    Credit(PendingPayment),
    /// The note went back to the customer; nothing to credit.
    Returned,
    /// The device could not tell; the note stays in doubt for staff.
    StillInDoubt,
    /// The note is in the box but its value is unknown: held for staff at clearing.
    InBoxValueUnknown,
}

/// What recording a backend credit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreditOutcome {
    /// The payment moved from pending to credited.
    Credited,
    /// It was credited already (a repeated answer); nothing changed.
    AlreadyCredited,
}

/// A receipt that could not be printed, kept for reprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnprintedReceipt {
    /// The session it belongs to.
    pub session: SessionId,
    /// The receipt.
    pub receipt: Receipt,
    /// When printing failed.
    pub at: Millis,
}

/// The journal's money totals in one currency: the books side of the money invariant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashTotals {
    /// Value of notes the journal believes are in the cash box
    /// (stacked + settled-in-box), since the last clearing.
    pub in_box: Money,
    /// Number of those notes.
    pub notes_in_box: u32,
    /// Cash payments credited by the backend.
    pub credited: Money,
    /// Cash payments journaled but not yet answered, plus stacked notes of
    /// sessions that have not posted yet.
    pub pending: Money,
    /// Cash payments the backend refused: in the box, held for staff.
    pub refused: Money,
    /// In-doubt notes with a known value.
    pub in_doubt: Money,
    /// In-doubt notes (with or without a known value).
    pub in_doubt_notes: u32,
    /// Notes rejected by the acceptor (counterfeit, inhibited, …).
    pub rejected_notes: u32,
}
