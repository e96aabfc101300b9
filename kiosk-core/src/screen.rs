//! What the customer sees: a screen model, not pixels.
//!
//! The integrator's UI renders these; drills read them to check that the
//! customer was told the right thing at the right time.

use kiosk_hal::{Money, PaymentMethod};
use serde::{Deserialize, Serialize};

use crate::ids::SessionId;

/// The out-of-service reason of a kiosk that takes only cash while, after
/// a restart, it waits (briefly and for a bounded time) for the acceptor's
/// word on a note left in its path: a reason of its own, so the customer
/// reads "please wait a moment" rather than "no way to pay".
pub const CHECKING_ACCEPTOR: &str = "checking the note acceptor after a restart";

/// Where else a customer can pay when this kiosk cannot take the payment.
pub const ALTERNATIVE_CHANNELS: &[&str] = &["service counter", "another kiosk", "mobile app"];

/// One screen shown to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "screen")]
pub enum Screen {
    /// Waiting for a customer; lists the payment methods offered now.
    Welcome {
        /// Methods available now (empty: out of service).
        methods: Vec<PaymentMethod>,
    },
    /// The kiosk cannot take payments at all.
    OutOfService {
        /// Why, in words for the customer.
        reason: String,
        /// Where else to pay.
        alternatives: Vec<String>,
    },
    /// The account is being checked with the backend.
    CheckingAccount,
    /// Account details (name masked) and amount due; the customer confirms and picks a method.
    ConfirmAccount {
        /// Holder name, masked.
        holder: String,
        /// Amount due.
        amount_due: Money,
        /// Current balance.
        balance: Money,
        /// Methods the customer may choose.
        methods: Vec<PaymentMethod>,
    },
    /// The backend refused the account: no money is taken.
    AccountRefused {
        /// The reason.
        message: String,
    },
    /// The account could not be checked (link down): no money is taken.
    CannotCheckAccount {
        /// Where else to pay.
        alternatives: Vec<String>,
    },
    /// The chosen method is not available now.
    MethodUnavailable {
        /// The method.
        method: PaymentMethod,
        /// Methods still offered.
        offered: Vec<PaymentMethod>,
    },
    /// Insert notes one at a time.
    InsertNotes {
        /// Denominations taken.
        accepted: Vec<Money>,
        /// Total so far.
        total: Money,
    },
    /// A note was accepted; continue or confirm.
    NoteAccepted {
        /// The note's value.
        value: Money,
        /// Running total.
        total: Money,
    },
    /// A note was given back.
    NoteRejected {
        /// Why, for the customer.
        reason: String,
        /// Running total (unchanged).
        total: Money,
    },
    /// Insertion stopped because a device cannot take more notes.
    InsertionStopped {
        /// Why.
        reason: String,
        /// What will be paid.
        total: Money,
    },
    /// Present a payment code to the reader.
    PresentCode {
        /// The amount that will be charged.
        amount: Money,
    },
    /// The code could not be read; try again.
    CodeUnreadable,
    /// The payment is being sent to the backend.
    Processing {
        /// The amount.
        amount: Money,
    },
    /// The backend credited the payment.
    PaymentSuccess {
        /// Amount paid.
        amount: Money,
        /// New account balance.
        new_balance: Money,
        /// Transaction reference.
        reference: SessionId,
    },
    /// The payment is journaled and will be credited when the backend answers.
    PaymentPending {
        /// Amount paid.
        amount: Money,
        /// Transaction reference, marked pending.
        reference: SessionId,
    },
    /// The backend refused the payment; the money is in the cash box: ask staff.
    PaymentFailed {
        /// Why.
        reason: String,
        /// Transaction reference staff will look up.
        reference: SessionId,
    },
    /// A note's fate is unknown (jam, device fault): ask staff with this reference.
    AskStaff {
        /// What happened.
        reason: String,
        /// Transaction reference staff will look up.
        reference: SessionId,
    },
    /// No receipt could be printed; the reference is on screen and the receipt is kept for reprint.
    ReceiptUnavailable {
        /// Transaction reference.
        reference: SessionId,
    },
    /// The session ended without payment.
    NothingPaid,
}
