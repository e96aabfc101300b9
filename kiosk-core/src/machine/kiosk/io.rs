//! What goes into the kiosk machine and what comes out of it.
//!
//! Every output is performed by the executor in the order the machine
//! gives it. An output that produces something the machine needs (a
//! device's answer, a journal row's id) is answered with an [`Input`]
//! *before* the next output is taken: the machine relies on that order,
//! and on the executor stopping at the first journal write that fails, so
//! that an event queued after a write is only ever seen once the write is
//! durable.

use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, AccountAnswer, AccountNumber, CashBoxStatus, DeviceIdentity,
    ErrorKind, IdempotencyKey, Money, NoteFate, PaymentCode, PaymentPosting, PostingAnswer,
    PrintOutcome, PrinterStatus, Receipt, RejectReason,
};

use crate::commands::{Remote, StaffCommand};
use crate::events::{DeviceKind, KioskEvent};
use crate::ids::SessionId;
use crate::journal::{
    ClearingRecord, InDoubtNote, NoteId, OpenSession, PendingPayment, SessionOutcome, SessionStart,
    Settlement, UnprintedReceipt,
};
use crate::receipt::LazyReceipt;
use crate::session::CustomerAction;
use crate::tickets::Ticket;

/// Something that happened, given to [`KioskMachine::handle`](super::KioskMachine::handle).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The kiosk starts: recover what the journal holds.
    Start,
    /// A customer did something at the screen.
    Customer(CustomerAction),
    /// The customers' side closed (the screen went away): a session in
    /// progress is cancelled; none starts again.
    CustomersGone,
    /// The bill acceptor reported something, or failed.
    Acceptor(Result<AcceptorEvent, ErrorKind>),
    /// The reader read a payment code, or failed.
    CodeRead(Result<PaymentCode, ErrorKind>),
    /// A staff command given on the kiosk itself (taken between sessions
    /// only; see [`Wants::commands`]).
    Command(StaffCommand),
    /// A command with who gave it, or a refusal to journal, from
    /// operations (taken between sessions only, like commands).
    Remote(Remote),
    /// The answer to a [`DeviceCall`].
    Device(DeviceReply),
    /// The answer to a [`LinkCall`].
    Link(LinkReply),
    /// The answer to a [`JournalOp`] that returns something.
    Journal(JournalReply),
    /// Supervised drivers restarted or gave up (see [`Output::ReadSupervisors`]):
    /// `(device, reason)`; `"restarted"` is a successful restart.
    Supervisors(Vec<(DeviceKind, String)>),
    /// The failover link switched (see [`Output::ReadLinkSwitches`]).
    LinkSwitches(LinkSwitches),
}

/// What the failover link did since it was last asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkSwitches {
    /// Each switch: `(to the backup?, reason)`.
    pub switches: Vec<(bool, String)>,
    /// Whether traffic runs on the backup now.
    pub on_backup: bool,
}

/// Something the executor must do, taken from
/// [`KioskMachine::poll_output`](super::KioskMachine::poll_output).
///
/// Every output is moved through the machine's queue and out to the
/// executor, and is as large as its largest variant, so large and rare
/// payloads (a ticket, a posting, a clearing record) are boxed; a test
/// pins the size so it cannot grow back unnoticed.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Make a record durable (or read the journal). A failure stops the
    /// kiosk: nothing after it may happen.
    Journal(JournalOp),
    /// Drive a device; answer with [`Input::Device`].
    Device(DeviceCall),
    /// Call the backend; answer with [`Input::Link`].
    Link(LinkCall),
    /// Tell the screen and the operators.
    Event(KioskEvent),
    /// Switch the failover link to its backup (nothing to answer).
    SwitchToBackupLink,
    /// Ask the failover link what it did; answer with [`Input::LinkSwitches`].
    ReadLinkSwitches,
    /// Ask the driver supervisors what they did; answer with [`Input::Supervisors`].
    ReadSupervisors,
}

/// Why a device is asked something: its answer goes back to whoever asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The customer's session.
    Session,
    /// The periodic health check between sessions.
    Health,
    /// A staff command (self-test, test print, reprint, clearing, restart).
    Command,
    /// Settling the note in the acceptor's path.
    NotePath,
    /// The cash box's level after a note was stacked.
    AfterStack,
    /// Tidying the acceptor between sessions (an unexpected note, a power-up).
    Idle,
}

/// A device operation.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceCall {
    /// Accept these note values.
    EnableAcceptor(Vec<Money>),
    /// Stop accepting notes (a failure is only logged).
    InhibitAcceptor(Purpose),
    /// Stack the note in escrow.
    StackNote,
    /// Give the note in escrow back.
    ReturnNote(Purpose),
    /// Reset the acceptor.
    ResetAcceptor(Purpose),
    /// Read the acceptor's status.
    AcceptorStatus(Purpose),
    /// Read the cash box's status.
    CashBoxStatus(Purpose),
    /// Read the printer's status.
    PrinterStatus(Purpose),
    /// Print, waiting at most `timeout_ms`.
    Print {
        /// What to print: a session's receipt is rendered when the
        /// printer reads it (it dereferences to the [`Receipt`]).
        receipt: LazyReceipt,
        /// Who asked.
        purpose: Purpose,
        /// Longest wait.
        timeout_ms: u64,
    },
    /// Check the card/QR reader answers.
    CheckReader(Purpose),
    /// Read what each device (the reader if fitted, and the backend link)
    /// says it is, as its driver cached it: no device is asked anything.
    ReadIdentities,
}

/// A device's answer to a [`DeviceCall`] (failures as their [`ErrorKind`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceReply {
    /// [`DeviceCall::EnableAcceptor`].
    Enabled(Result<(), ErrorKind>),
    /// [`DeviceCall::InhibitAcceptor`].
    Inhibited(Purpose, Result<(), ErrorKind>),
    /// [`DeviceCall::StackNote`].
    Stacking(Result<(), ErrorKind>),
    /// [`DeviceCall::ReturnNote`].
    Returning(Purpose, Result<(), ErrorKind>),
    /// [`DeviceCall::ResetAcceptor`].
    Reset(Purpose, Result<(), ErrorKind>),
    /// [`DeviceCall::AcceptorStatus`].
    AcceptorStatus(Purpose, Result<AcceptorStatus, ErrorKind>),
    /// [`DeviceCall::CashBoxStatus`].
    CashBoxStatus(Purpose, Result<CashBoxStatus, ErrorKind>),
    /// [`DeviceCall::PrinterStatus`].
    PrinterStatus(Purpose, Result<PrinterStatus, ErrorKind>),
    /// [`DeviceCall::Print`].
    Printed(Purpose, Result<PrintOutcome, ErrorKind>),
    /// [`DeviceCall::CheckReader`].
    ReaderChecked(Purpose, Result<(), ErrorKind>),
    /// [`DeviceCall::ReadIdentities`]: one entry per device there is.
    Identities(Vec<(DeviceKind, Result<DeviceIdentity, ErrorKind>)>),
}

/// A call to the backend, with the longest wait for its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCall {
    /// Check an account.
    Lookup {
        /// The account.
        account: AccountNumber,
        /// Who asked (the session, or the self-test).
        purpose: Purpose,
        /// Longest wait.
        timeout_ms: u64,
    },
    /// Post a payment (a session's first posting, or a retry).
    Post {
        /// What to post (boxed: see [`Output`]).
        posting: Box<PaymentPosting>,
        /// Whether this retries a pending payment.
        retry: bool,
        /// Longest wait.
        timeout_ms: u64,
    },
    /// The idle heartbeat.
    Heartbeat {
        /// Longest wait.
        timeout_ms: u64,
    },
}

/// The backend's answer to a [`LinkCall`] and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkReply {
    /// Milliseconds from the call to its answer (or timeout).
    pub latency_ms: u64,
    /// The answer.
    pub answer: LinkAnswer,
}

/// The answer itself, by call.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkAnswer {
    /// [`LinkCall::Lookup`].
    Lookup(Purpose, Result<AccountAnswer, ErrorKind>),
    /// [`LinkCall::Post`]: the key posted and the answer.
    Post {
        /// The posting's key.
        key: IdempotencyKey,
        /// Whether it was a retry.
        retry: bool,
        /// The answer.
        answer: Result<PostingAnswer, ErrorKind>,
    },
    /// [`LinkCall::Heartbeat`].
    Heartbeat(Result<(), ErrorKind>),
}

/// Why a note is journaled in doubt: what to do with its row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InDoubtCause {
    /// The session lost track of its note.
    Session,
    /// It was in escrow, with this value, when the kiosk stopped.
    Recovered(Money),
    /// A note reached the box that no row accounted for.
    Unaccounted,
}

/// A journal operation, one per journal method of the same name.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalOp {
    /// [`Journal::begin_session`](crate::journal::Journal::begin_session).
    BeginSession(SessionStart),
    /// [`Journal::end_session`](crate::journal::Journal::end_session).
    EndSession(SessionId, SessionOutcome),
    /// [`Journal::note_escrowed`](crate::journal::Journal::note_escrowed): answers [`JournalReply::NoteEscrowed`].
    NoteEscrowed(SessionId, Money),
    /// [`Journal::note_stacked`](crate::journal::Journal::note_stacked).
    NoteStacked(SessionId, Option<NoteId>, Money),
    /// [`Journal::note_returned`](crate::journal::Journal::note_returned).
    NoteReturned(NoteId),
    /// [`Journal::note_rejected`](crate::journal::Journal::note_rejected).
    NoteRejected(SessionId, RejectReason),
    /// [`Journal::note_in_doubt`](crate::journal::Journal::note_in_doubt): answers [`JournalReply::NoteInDoubt`].
    NoteInDoubt {
        /// Its session.
        session: SessionId,
        /// Its escrow row, if it had one.
        note: Option<NoteId>,
        /// Its value, if validated.
        value: Option<Money>,
        /// Echoed in the answer.
        cause: InDoubtCause,
    },
    /// [`Journal::settle_in_doubt`](crate::journal::Journal::settle_in_doubt), or
    /// [`settle_in_doubt_by_staff`](crate::journal::Journal::settle_in_doubt_by_staff)
    /// with the two people: answers [`JournalReply::Settled`].
    Settle {
        /// The note.
        note: NoteId,
        /// Where it is.
        fate: NoteFate,
        /// The clearing's two people, when staff settle it.
        staff: Option<[String; 2]>,
    },
    /// [`Journal::payment_pending`](crate::journal::Journal::payment_pending).
    PaymentPending(SessionId, IdempotencyKey, Money),
    /// [`Journal::posting_attempted`](crate::journal::Journal::posting_attempted): answers [`JournalReply::Attempt`].
    PostingAttempted(IdempotencyKey),
    /// [`Journal::payment_credited`](crate::journal::Journal::payment_credited).
    PaymentCredited {
        /// The payment.
        key: IdempotencyKey,
        /// The backend's reference.
        backend_ref: String,
        /// The account's balance after it.
        new_balance: Money,
    },
    /// [`Journal::payment_refused`](crate::journal::Journal::payment_refused).
    PaymentRefused(IdempotencyKey, String),
    /// [`Journal::keep_receipt`](crate::journal::Journal::keep_receipt).
    KeepReceipt(SessionId, Receipt),
    /// [`Journal::receipt_reprinted`](crate::journal::Journal::receipt_reprinted).
    ReceiptReprinted(SessionId),
    /// [`Journal::record_clearing`](crate::journal::Journal::record_clearing): answers [`JournalReply::Clearing`].
    RecordClearing {
        /// The two people.
        operators: [String; 2],
        /// The cash counted.
        counted: Money,
        /// The same count by denomination, if given (it adds up to `counted`).
        counted_notes: Option<Vec<crate::journal::NoteCount>>,
        /// Counterfeits found at counting.
        counterfeit_found: u32,
    },
    /// [`Journal::save_ticket`](crate::journal::Journal::save_ticket).
    /// Boxed: a ticket is the largest thing journaled and rare, and every
    /// output is as large as its largest variant (see [`Output`]).
    SaveTicket(Box<Ticket>),
    /// [`Journal::record_command`](crate::journal::Journal::record_command).
    RecordCommand {
        /// Who gave it.
        by: Vec<String>,
        /// Its name.
        command: String,
        /// Whether it succeeded.
        ok: bool,
        /// What came of it.
        result: String,
    },
    /// [`Journal::record_security_event`](crate::journal::Journal::record_security_event).
    RecordSecurityEvent {
        /// Why the request was refused.
        reason: String,
        /// Who the sender claimed to be.
        claimed: Option<String>,
    },
    /// [`Journal::checkpoint`](crate::journal::Journal::checkpoint), between
    /// sessions; a failure is only logged (every commit is already durable).
    Checkpoint,
    /// Read what recovery needs: answers [`JournalReply::Recovery`].
    ReadRecovery,
    /// Read the pending payments: answers [`JournalReply::Pending`].
    ReadPending,
    /// Read the in-doubt notes: answers [`JournalReply::InDoubt`].
    ReadInDoubt,
    /// Read the receipts owed: answers [`JournalReply::Unprinted`].
    ReadUnprinted,
}

impl JournalOp {
    /// Whether it writes (one synced commit), rather than reads or
    /// checkpoints.
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            JournalOp::Checkpoint
                | JournalOp::ReadRecovery
                | JournalOp::ReadPending
                | JournalOp::ReadInDoubt
                | JournalOp::ReadUnprinted
        )
    }
}

/// What the journal found at start: everything recovery decides on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecoveryRows {
    /// The tickets, open and resolved.
    pub tickets: Vec<Ticket>,
    /// Sessions started and never ended.
    pub open_sessions: Vec<OpenSession>,
    /// The highest session number journaled.
    pub max_session_seq: u64,
    /// Notes in doubt.
    pub in_doubt: Vec<InDoubtNote>,
    /// The newest note row.
    pub last_note: Option<NoteId>,
    /// The newest note row is in doubt because the acceptor reported it in
    /// the cash box outside any session: it was never in the path.
    pub last_note_unaccounted: bool,
}

/// A journal operation's answer.
///
/// Every [`Input`] is as large as its largest variant and is moved into
/// the machine (and through an executor's inbox), so the large and rare
/// answers (a settlement, a clearing's record, recovery's rows) are
/// boxed, as large outputs are (see [`Output`]); a test pins the size.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalReply {
    /// The escrowed note's row.
    NoteEscrowed(NoteId),
    /// The in-doubt note's row, with what was asked.
    NoteInDoubt {
        /// Its row.
        note: NoteId,
        /// Its value, if validated.
        value: Option<Money>,
        /// Why.
        cause: InDoubtCause,
    },
    /// What settling did.
    Settled {
        /// The note.
        note: NoteId,
        /// The settlement (boxed: a credit carries its whole pending
        /// payment, and every input is as large as its largest variant).
        settlement: Box<Settlement>,
    },
    /// A posting's attempt number.
    Attempt(IdempotencyKey, u32),
    /// The clearing's record (boxed: large and a few times a day).
    Clearing(Box<ClearingRecord>),
    /// What recovery needs (boxed: large and once per start).
    Recovery(Box<RecoveryRows>),
    /// The pending payments.
    Pending(Vec<PendingPayment>),
    /// The in-doubt notes.
    InDoubt(Vec<InDoubtNote>),
    /// The receipts owed.
    Unprinted(Vec<UnprintedReceipt>),
}

/// Which inputs the machine can take now (the executor listens only for
/// these, so nothing is read that nobody would act on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants {
    /// Acceptor events.
    pub acceptor: bool,
    /// A payment code from the reader.
    pub code: bool,
    /// Customer actions.
    pub customers: bool,
    /// Staff commands (between sessions only).
    pub commands: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every output is moved through the machine's queue and out to its
    /// executor (several copies each), and is as large as its largest
    /// variant: when a ticket was journaled unboxed every output was 200
    /// bytes and copying them was a seventh of a simulated hall's time.
    /// A new large variant must be boxed, not make every output larger.
    #[test]
    fn outputs_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<Output>() <= 96, "{}", size_of::<Output>());
        assert!(size_of::<JournalOp>() <= 96, "{}", size_of::<JournalOp>());
        assert!(size_of::<LinkCall>() <= 48, "{}", size_of::<LinkCall>());
        assert!(size_of::<DeviceCall>() <= 64, "{}", size_of::<DeviceCall>());
        assert!(size_of::<KioskEvent>() <= 80, "{}", size_of::<KioskEvent>());
    }

    /// Every input is moved into the machine, and through the executor's
    /// inbox, and is as large as its largest variant: with a clearing's
    /// record, recovery's rows and a settlement unboxed in
    /// [`JournalReply`] every input was 192 bytes, for answers a kiosk
    /// gets a few times a day against thousands of small ones per hour.
    #[test]
    fn inputs_stay_small() {
        use std::mem::size_of;
        assert!(
            size_of::<JournalReply>() <= 64,
            "{}",
            size_of::<JournalReply>()
        );
        assert!(size_of::<Input>() <= 96, "{}", size_of::<Input>());
    }
}
