//! One customer's payment session as a sans-IO state machine.
//!
//! Inputs (customer actions, device events, backend answers, the results of
//! the actions it asked for) go in with the current time; [`Action`]s come
//! out, in the order the runner must perform them. The session never does
//! I/O, reads a clock or draws a random number, so property tests can drive
//! millions of sessions and a drill replays exactly.
//!
//! It follows the cash flow of the domain step by step: account →
//! backend check → confirm → notes one at a time with a running total →
//! Confirm **or idle timeout** ends insertion → post → success (amount and
//! new balance) or failure (reason, ask staff) → receipt.
//!
//! # Money rules it enforces
//!
//! - Every money event is emitted as an [`Action::Record`] *before* any
//!   action that acknowledges it: a stacked note is journaled before the
//!   customer sees it counted; a payment is journaled pending before it is
//!   posted.
//! - A note counts only on [`AcceptorEvent::Stacked`]. A note whose fate
//!   becomes unknown is recorded in-doubt, never counted.
//! - A payment has one idempotency key for its whole life; a failed posting
//!   leaves it pending for the runner's retries, never re-keyed.

use kiosk_hal::{
    AcceptorEvent, AccountAnswer, AccountNumber, ErrorKind, IdempotencyKey, Money, NoteAtPowerUp,
    PaymentCode, PaymentMethod, PaymentPosting, PostingAnswer, PrintOutcome, Receipt, RejectReason,
};
use kiosk_text::{Catalog, Lang};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::ids::{KioskId, Millis, SessionId};
use crate::journal::SessionOutcome;
use crate::receipt::LazyReceipt;
use crate::screen::{Screen, ALTERNATIVE_CHANNELS};

/// Settings of a session; every default is documented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SessionConfig {
    /// Note values the acceptor takes (default CNY 10, 20, 50, 100).
    pub accepted_notes: Vec<Money>,
    /// Insertion ends this long after the last note when the customer does
    /// not press Confirm (default 30 000 ms); it counts as confirmation.
    pub insert_idle_timeout_ms: u64,
    /// A customer who does not confirm the account within this time is
    /// returned to the welcome screen (default 60 000 ms).
    pub confirm_timeout_ms: u64,
    /// How long to wait for a payment code (default 60 000 ms).
    pub code_timeout_ms: u64,
    /// Rejected notes in one session that raise an alert (default 3).
    pub reject_alert_threshold: u32,
    /// Site name printed on receipts.
    pub site: String,
    /// The language receipts are printed in (default `zh`, 简体中文).
    pub receipt_lang: Lang,
    /// The site's offset from UTC in minutes, for the time printed on
    /// receipts (default 480: China Standard Time).
    pub utc_offset_minutes: i32,
    /// The texts receipts are printed from (default: kiosk-text's built-in
    /// catalog). Not read from a configuration file: an integrator loads
    /// theirs with [`Catalog::load_dir`] and sets it here, the same one
    /// their screen shows.
    #[serde(skip)]
    pub catalog: Arc<Catalog>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        let cny = kiosk_hal::Currency::CNY;
        SessionConfig {
            accepted_notes: [10, 20, 50, 100]
                .iter()
                .map(|v| Money::major(*v, cny))
                .collect(),
            insert_idle_timeout_ms: 30_000,
            confirm_timeout_ms: 60_000,
            code_timeout_ms: 60_000,
            reject_alert_threshold: 3,
            site: "site".into(),
            receipt_lang: Lang::Zh,
            utc_offset_minutes: 480,
            catalog: Catalog::builtin_shared(),
        }
    }
}

/// What the customer does at the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum CustomerAction {
    /// Types an account number and presses OK (starts a session).
    EnterAccount {
        /// The number typed.
        account: AccountNumber,
    },
    /// Confirms the account and picks a method.
    ChooseMethod {
        /// The method.
        method: PaymentMethod,
    },
    /// Ends note insertion: pay what was inserted.
    Confirm,
    /// Leaves. Notes already stacked are still paid (they are in the box).
    Cancel,
}

/// A money event for the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "record")]
pub enum Record {
    /// The session starts taking money (account confirmed, method chosen).
    SessionStarted {
        /// The account.
        account: AccountNumber,
        /// The method.
        method: PaymentMethod,
    },
    /// A note is held in escrow.
    NoteEscrowed {
        /// Its value.
        value: Money,
    },
    /// The escrowed note (or, with no escrow journaled, a new one) is in the box.
    NoteStacked {
        /// Its value.
        value: Money,
    },
    /// The escrowed note went back.
    NoteReturned,
    /// A note was rejected before escrow.
    NoteRejected {
        /// Why.
        reason: RejectReason,
    },
    /// The escrowed note's (or an unknown note's) fate is unknown.
    NoteInDoubt {
        /// Its value if known.
        value: Option<Money>,
    },
    /// A payment is journaled before it is posted.
    PaymentPending {
        /// Its key.
        key: IdempotencyKey,
        /// Its amount.
        amount: Money,
    },
    /// The backend credited it.
    PaymentCredited {
        /// Its key.
        key: IdempotencyKey,
        /// Backend reference.
        backend_ref: String,
        /// New balance.
        new_balance: Money,
    },
    /// The backend refused it.
    PaymentRefused {
        /// Its key.
        key: IdempotencyKey,
        /// Why.
        reason: String,
    },
    /// The receipt could not be printed: keep it for reprint.
    ReceiptKept {
        /// The receipt.
        receipt: Receipt,
    },
    /// The session ended.
    SessionEnded {
        /// How.
        outcome: SessionOutcome,
    },
}

/// Something operations must hear about now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionAlert {
    /// Several notes were rejected in one session (possible counterfeits).
    RepeatedRejects {
        /// How many.
        count: u32,
    },
    /// The acceptor reported a cheat attempt.
    Fraud,
    /// A note jammed: its fate is unknown.
    NoteJammed,
    /// A device failed in the middle of a session.
    DeviceFailedMidSession,
    /// The acceptor stacked a note this session cannot count (another
    /// currency, or a total that would overflow): it is journaled in doubt
    /// for staff, never dropped.
    UncountableNote,
}

/// What the runner must do next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make a money event durable. Must complete before the next action.
    Record(Record),
    /// Show a screen.
    Show(Screen),
    /// Ask the backend about the account; answer with [`Input::AccountAnswer`].
    LookupAccount(AccountNumber),
    /// Enable the acceptor for these values; a failure is [`Input::AcceptorFailed`].
    EnableAcceptor(Vec<Money>),
    /// Inhibit the acceptor (failures only matter to health monitoring).
    InhibitAcceptor,
    /// Stack the escrowed note; a failure is [`Input::AcceptorFailed`].
    StackNote,
    /// Return the escrowed note; a failure is [`Input::AcceptorFailed`].
    ReturnNote,
    /// Post the payment; answer with [`Input::PostingAnswer`].
    PostPayment(PaymentPosting),
    /// Print the receipt; answer with [`Input::PrintResult`]. It is
    /// rendered when the printer reads it (see [`LazyReceipt`]).
    PrintReceipt(LazyReceipt),
    /// Raise an alert.
    Alert(SessionAlert),
}

/// Something that happened, fed into the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A customer action (other than the `EnterAccount` that started it).
    Customer(CustomerAction),
    /// The backend's answer to [`Action::LookupAccount`], or why there was none.
    AccountAnswer(Result<AccountAnswer, ErrorKind>),
    /// An acceptor event.
    Acceptor(AcceptorEvent),
    /// An acceptor operation failed, or the acceptor went offline.
    AcceptorFailed(ErrorKind),
    /// The backend's answer to [`Action::PostPayment`], or why there was none.
    PostingAnswer(Result<PostingAnswer, ErrorKind>),
    /// The result of [`Action::PrintReceipt`].
    PrintResult(Result<PrintOutcome, ErrorKind>),
    /// The reader produced a code, or failed.
    CodeRead(Result<PaymentCode, ErrorKind>),
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the backend's account check.
    CheckingAccount,
    /// Waiting for the customer to confirm and choose a method.
    Confirming,
    /// Taking notes.
    Inserting,
    /// Waiting for a payment code.
    ReadingCode,
    /// Waiting for the backend's answer to the posting.
    Posting,
    /// Waiting for the receipt to print.
    Printing,
    /// Over.
    Ended(SessionOutcome),
}

/// One customer's payment session. See the module docs.
#[derive(Debug, Clone)]
pub struct Session {
    id: SessionId,
    kiosk: KioskId,
    account: AccountNumber,
    /// Shared with the kiosk's other sessions and their receipts.
    config: Arc<SessionConfig>,
    /// Methods the kiosk can offer right now (from device health).
    offered: Vec<PaymentMethod>,
    phase: Phase,
    method: Option<PaymentMethod>,
    amount_due: Option<Money>,
    total: Money,
    /// A note held in escrow, or being stacked / returned.
    escrow: Option<Money>,
    /// Insertion is over (Confirm, timeout, device stop); waiting for an escrowed note to settle.
    ending: bool,
    rejects: u32,
    /// A note of this session went in doubt.
    note_in_doubt: bool,
    journaled: bool,
    deadline: Option<Millis>,
    pending_outcome: SessionOutcome,
    /// Shared with its receipt.
    posting: Option<Arc<PaymentPosting>>,
    code: Option<PaymentCode>,
    receipt: Option<LazyReceipt>,
}

impl Session {
    /// Starts a session for `account`; `offered` are the methods available
    /// now. Returns the session and its first actions. A kiosk passes its
    /// configuration as one shared `Arc` (not a copy per customer).
    pub fn start(
        id: SessionId,
        kiosk: KioskId,
        account: AccountNumber,
        offered: Vec<PaymentMethod>,
        config: impl Into<Arc<SessionConfig>>,
    ) -> (Session, Vec<Action>) {
        let config = config.into();
        let currency = config
            .accepted_notes
            .first()
            .map(|m| m.currency)
            .unwrap_or(kiosk_hal::Currency::CNY);
        let session = Session {
            id,
            kiosk,
            account: account.clone(),
            config,
            offered,
            phase: Phase::CheckingAccount,
            method: None,
            amount_due: None,
            total: Money::zero(currency),
            escrow: None,
            ending: false,
            rejects: 0,
            note_in_doubt: false,
            journaled: false,
            deadline: None,
            pending_outcome: SessionOutcome::NoPayment,
            posting: None,
            code: None,
            receipt: None,
        };
        (
            session,
            vec![
                Action::Show(Screen::CheckingAccount),
                Action::LookupAccount(account),
            ],
        )
    }

    /// The session id, also the customer's transaction reference.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The current phase.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The outcome, once ended.
    pub fn outcome(&self) -> Option<SessionOutcome> {
        match self.phase {
            Phase::Ended(o) => Some(o),
            _ => None,
        }
    }

    /// Total of stacked notes (cash) so far.
    pub fn total(&self) -> Money {
        self.total
    }

    /// The payment being posted, once insertion or the code read is over.
    pub fn posting(&self) -> Option<&PaymentPosting> {
        self.posting.as_deref()
    }

    /// Whether `event` is the device's report on this session's own
    /// escrowed note (a power-up that says where it is). The runner hands
    /// every other report to the [`NotePath`](crate::machine::NotePath).
    pub fn claims_report(&self, event: &AcceptorEvent) -> bool {
        self.escrow.is_some()
            && matches!(
                event,
                AcceptorEvent::PowerUp {
                    note: NoteAtPowerUp::InStacker | NoteAtPowerUp::InAcceptor
                }
            )
    }

    /// A note this session can add to its total: its currency, a positive value.
    fn countable(&self, value: Money) -> bool {
        value.currency == self.total.currency && value.minor > 0
    }

    /// Whether the runner should deliver acceptor events now.
    pub fn wants_acceptor_events(&self) -> bool {
        self.phase == Phase::Inserting
    }

    /// Whether the runner should read codes now.
    pub fn wants_code(&self) -> bool {
        self.phase == Phase::ReadingCode
    }

    /// When [`Session::on_timeout`] must be called, if a timer runs.
    pub fn deadline(&self) -> Option<Millis> {
        self.deadline
    }

    /// Call at or after [`Session::deadline`].
    pub fn on_timeout(&mut self, now: Millis) -> Vec<Action> {
        let mut out = Vec::new();
        match self.deadline {
            Some(d) if now >= d => {}
            _ => return out,
        }
        self.deadline = None;
        match self.phase {
            Phase::Confirming | Phase::ReadingCode => self.end(
                SessionOutcome::NoPayment,
                &mut out,
                Some(Screen::NothingPaid),
            ),
            Phase::Inserting if self.escrow.is_none() => self.stop_inserting(&mut out),
            _ => {}
        }
        self.debug_check(&out);
        out
    }

    /// Feeds one input at time `now`; returns the actions to perform in order.
    pub fn handle(&mut self, input: Input, now: Millis) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// [`Session::handle`], putting the actions into `out`, which must be
    /// empty: a kiosk machine reuses one list for every input rather than
    /// allocating one per input.
    pub fn handle_into(&mut self, input: Input, now: Millis, out: &mut Vec<Action>) {
        debug_assert!(out.is_empty(), "the actions of one input only");
        match (self.phase.clone(), input) {
            (Phase::CheckingAccount, Input::AccountAnswer(answer)) => {
                self.on_account_answer(answer, now, out)
            }
            (Phase::Confirming, Input::Customer(CustomerAction::ChooseMethod { method })) => {
                self.on_method_chosen(method, now, out)
            }
            (Phase::Confirming, Input::Customer(CustomerAction::Cancel)) => {
                self.end(SessionOutcome::NoPayment, out, Some(Screen::NothingPaid))
            }
            (Phase::Inserting, Input::Acceptor(event)) => self.on_acceptor(event, now, out),
            (Phase::Inserting, Input::AcceptorFailed(kind)) => self.on_acceptor_failed(kind, out),
            (
                Phase::Inserting,
                Input::Customer(CustomerAction::Confirm | CustomerAction::Cancel),
            ) => {
                self.ending = true;
                if self.escrow.is_none() {
                    self.stop_inserting(out);
                } else {
                    out.push(Action::InhibitAcceptor);
                }
            }
            (Phase::ReadingCode, Input::CodeRead(result)) => self.on_code(result, out),
            (Phase::ReadingCode, Input::Customer(CustomerAction::Cancel)) => {
                self.end(SessionOutcome::NoPayment, out, Some(Screen::NothingPaid))
            }
            (Phase::Posting, Input::PostingAnswer(answer)) => {
                self.on_posting_answer(answer, now, out)
            }
            (Phase::Printing, Input::PrintResult(result)) => self.on_print_result(result, out),
            // Anything else is out of place for the phase and changes nothing
            // (a late answer, a double press). Money events never arrive here:
            // acceptor events outside insertion are the runner's to handle.
            _ => {}
        }
        self.debug_check(out);
    }

    /// The session's invariants, checked after every step in debug builds
    /// (the journal's SQL constraints are the other half of the pair).
    fn debug_check(&self, out: &[Action]) {
        debug_assert!(self.total.minor >= 0, "negative total {}", self.total);
        debug_assert!(
            self.phase == Phase::Inserting || self.escrow.is_none(),
            "a note in escrow outside insertion ({:?})",
            self.phase
        );
        debug_assert!(
            !matches!(self.phase, Phase::Posting | Phase::Printing) || self.posting.is_some(),
            "posting phase without a posting"
        );
        // Durable before acknowledged: a note is shown counted only after
        // its stack is journaled, a payment posted only after it is pending.
        for (i, action) in out.iter().enumerate() {
            let earlier = &out[..i];
            match action {
                Action::Show(Screen::NoteAccepted { .. }) => debug_assert!(
                    earlier
                        .iter()
                        .any(|a| matches!(a, Action::Record(Record::NoteStacked { .. }))),
                    "a note shown counted before it was journaled: {out:?}"
                ),
                Action::PostPayment(p) => debug_assert!(
                    earlier.iter().any(|a| matches!(
                        a,
                        Action::Record(Record::PaymentPending { key, .. }) if *key == p.key
                    )),
                    "a payment posted before it was journaled pending: {out:?}"
                ),
                _ => {}
            }
        }
    }

    fn on_account_answer(
        &mut self,
        answer: Result<AccountAnswer, ErrorKind>,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        match answer {
            Ok(AccountAnswer::Payable(info)) => {
                self.amount_due = Some(info.amount_due);
                self.phase = Phase::Confirming;
                self.deadline = Some(now.plus_ms(self.config.confirm_timeout_ms));
                out.push(Action::Show(Screen::ConfirmAccount {
                    holder: info.masked_name(),
                    amount_due: info.amount_due,
                    balance: info.balance,
                    methods: self.offered.clone(),
                }));
            }
            Ok(AccountAnswer::Refused { reason }) => self.end(
                SessionOutcome::NoPayment,
                out,
                Some(Screen::AccountRefused {
                    message: reason.describe().to_string(),
                }),
            ),
            Err(_) => self.end(
                SessionOutcome::NoPayment,
                out,
                Some(Screen::CannotCheckAccount {
                    alternatives: alternatives(),
                }),
            ),
        }
    }

    fn on_method_chosen(&mut self, method: PaymentMethod, now: Millis, out: &mut Vec<Action>) {
        if !self.offered.contains(&method) {
            out.push(Action::Show(Screen::MethodUnavailable {
                method,
                offered: self.offered.clone(),
            }));
            return;
        }
        self.method = Some(method);
        self.journaled = true;
        out.push(Action::Record(Record::SessionStarted {
            account: self.account.clone(),
            method,
        }));
        match method {
            PaymentMethod::Cash => {
                self.phase = Phase::Inserting;
                self.deadline = Some(now.plus_ms(self.config.insert_idle_timeout_ms));
                out.push(Action::Show(Screen::InsertNotes {
                    accepted: self.config.accepted_notes.clone(),
                    total: self.total,
                }));
                // I/O last in a batch: its follow-ups come after the screen.
                out.push(Action::EnableAcceptor(self.config.accepted_notes.clone()));
            }
            PaymentMethod::Code => {
                let amount = self.amount_due.unwrap_or(self.total);
                if amount.minor <= 0 {
                    // Nothing is due: a code payment has nothing to charge.
                    self.end(SessionOutcome::NoPayment, out, Some(Screen::NothingPaid));
                    return;
                }
                self.phase = Phase::ReadingCode;
                self.deadline = Some(now.plus_ms(self.config.code_timeout_ms));
                out.push(Action::Show(Screen::PresentCode { amount }));
            }
        }
    }

    fn on_acceptor(&mut self, event: AcceptorEvent, now: Millis, out: &mut Vec<Action>) {
        match event {
            AcceptorEvent::Escrowed { value } if !self.countable(value) => {
                // A note of another currency (or a nonsensical value) is
                // given straight back: it cannot join this session's notes,
                // so no escrow row is written for it. Should the device
                // stack it anyway, the `Stacked` arm journals it in doubt.
                self.escrow = Some(value);
                self.deadline = None;
                out.push(Action::ReturnNote);
            }
            AcceptorEvent::Escrowed { value } => {
                let acceptable = self.config.accepted_notes.contains(&value);
                // Journal the escrow first: if the kiosk dies between here and
                // the stack, recovery knows a note was in the path.
                out.push(Action::Record(Record::NoteEscrowed { value }));
                self.escrow = Some(value);
                self.deadline = None;
                if self.ending || !acceptable {
                    out.push(Action::ReturnNote);
                } else {
                    out.push(Action::StackNote);
                }
            }
            AcceptorEvent::Stacked { value } => match self.total.checked_add(value) {
                Some(total) if self.countable(value) => {
                    // Durable before the customer sees it counted.
                    out.push(Action::Record(Record::NoteStacked { value }));
                    self.escrow = None;
                    self.total = total;
                    out.push(Action::Show(Screen::NoteAccepted {
                        value,
                        total: self.total,
                    }));
                    self.after_note_settled(now, out);
                }
                _ => {
                    // In the box, but not a note this session can count: in
                    // doubt for staff with an alarm; never dropped. Its
                    // value is journaled only if the journal can hold it
                    // beside the session's other notes.
                    let journaled_value = self.countable(value).then_some(value);
                    self.escrow = None;
                    self.note_in_doubt = true;
                    out.push(Action::Record(Record::NoteInDoubt {
                        value: journaled_value,
                    }));
                    out.push(Action::Alert(SessionAlert::UncountableNote));
                    self.ending = true;
                    self.stop_inserting(out);
                }
            },
            AcceptorEvent::Returned { .. } => {
                if self.escrow.take().is_some() {
                    out.push(Action::Record(Record::NoteReturned));
                }
                self.after_note_settled(now, out);
            }
            AcceptorEvent::Rejected { reason } => {
                self.rejects += 1;
                out.push(Action::Record(Record::NoteRejected { reason }));
                out.push(Action::Show(Screen::NoteRejected {
                    reason: reason.describe().to_string(),
                    total: self.total,
                }));
                if self.rejects == self.config.reject_alert_threshold {
                    out.push(Action::Alert(SessionAlert::RepeatedRejects {
                        count: self.rejects,
                    }));
                }
                if self.escrow.is_none() {
                    self.after_note_settled(now, out);
                }
            }
            AcceptorEvent::Jammed { value, .. } => {
                self.note_went_in_doubt(value, out);
                out.push(Action::InhibitAcceptor);
                out.push(Action::Alert(SessionAlert::NoteJammed));
                out.push(Action::Show(Screen::AskStaff {
                    reason: "a note is stuck in the acceptor".into(),
                    reference: self.id.clone(),
                }));
                self.ending = true;
                self.stop_inserting(out);
            }
            AcceptorEvent::Fraud { .. } => {
                // Inhibit first: nothing else may go in.
                out.insert(0, Action::InhibitAcceptor);
                if self.escrow.is_some() {
                    self.note_went_in_doubt(None, out);
                }
                out.push(Action::Alert(SessionAlert::Fraud));
                self.ending = true;
                self.stop_inserting(out);
            }
            AcceptorEvent::StackerFull | AcceptorEvent::StackerRemoved => {
                out.push(Action::InhibitAcceptor);
                out.push(Action::Show(Screen::InsertionStopped {
                    reason: "the kiosk cannot take more notes".into(),
                    total: self.total,
                }));
                self.ending = true;
                if self.escrow.is_some() {
                    out.push(Action::ReturnNote);
                } else {
                    self.stop_inserting(out);
                }
            }
            AcceptorEvent::PowerUp { note } if self.escrow.is_some() => {
                // The device restarted under us and says what it found in
                // its path: that is this session's escrowed note.
                match note {
                    NoteAtPowerUp::InStacker => {
                        if let Some(value) = self.escrow {
                            self.on_acceptor(AcceptorEvent::Stacked { value }, now, out);
                        }
                    }
                    NoteAtPowerUp::InAcceptor => {
                        self.escrow = None;
                        out.push(Action::Record(Record::NoteReturned));
                    }
                    // Nothing in the path: nobody can say where it went.
                    NoteAtPowerUp::None => self.note_went_in_doubt(None, out),
                }
                out.push(Action::InhibitAcceptor);
                out.push(Action::Alert(SessionAlert::DeviceFailedMidSession));
                self.ending = true;
                self.stop_inserting(out);
            }
            AcceptorEvent::PowerUp { .. } | AcceptorEvent::Failure => {
                // The device restarted or failed under us: whatever was in
                // escrow is now of unknown fate.
                if self.escrow.is_some() {
                    self.note_went_in_doubt(None, out);
                }
                out.push(Action::InhibitAcceptor);
                out.push(Action::Alert(SessionAlert::DeviceFailedMidSession));
                self.ending = true;
                self.stop_inserting(out);
            }
            // JamCleared, StackerReplaced and future events settle nothing
            // in a session; the runner handles them.
            _ => {}
        }
    }

    fn on_acceptor_failed(&mut self, _kind: ErrorKind, out: &mut Vec<Action>) {
        if self.escrow.is_some() {
            self.note_went_in_doubt(None, out);
            out.push(Action::Show(Screen::AskStaff {
                reason: "the note acceptor stopped responding".into(),
                reference: self.id.clone(),
            }));
        }
        out.push(Action::Alert(SessionAlert::DeviceFailedMidSession));
        self.ending = true;
        self.stop_inserting(out);
    }

    fn note_went_in_doubt(&mut self, value: Option<Money>, out: &mut Vec<Action>) {
        let value = value.or(self.escrow.take());
        self.escrow = None;
        self.note_in_doubt = true;
        out.push(Action::Record(Record::NoteInDoubt { value }));
    }

    /// After a note was stacked, returned or rejected.
    fn after_note_settled(&mut self, now: Millis, out: &mut Vec<Action>) {
        if self.ending {
            self.stop_inserting(out);
        } else {
            self.deadline = Some(now.plus_ms(self.config.insert_idle_timeout_ms));
        }
    }

    /// Insertion is over: inhibit, then post what was stacked.
    fn stop_inserting(&mut self, out: &mut Vec<Action>) {
        if self.phase != Phase::Inserting {
            return;
        }
        self.deadline = None;
        if !out.contains(&Action::InhibitAcceptor) {
            out.push(Action::InhibitAcceptor);
        }
        if self.total.is_zero() {
            let screen = if self.note_in_doubt {
                None // AskStaff already shown
            } else {
                Some(Screen::NothingPaid)
            };
            let outcome = if self.note_in_doubt {
                SessionOutcome::Aborted
            } else {
                SessionOutcome::NoPayment
            };
            self.end(outcome, out, screen);
            return;
        }
        self.post(self.total, None, out);
    }

    fn on_code(&mut self, result: Result<PaymentCode, ErrorKind>, out: &mut Vec<Action>) {
        match result {
            Ok(code) => {
                let amount = self.amount_due.unwrap_or(self.total);
                self.deadline = None;
                self.code = Some(code.clone());
                self.post(amount, Some(code), out);
            }
            Err(ErrorKind::Protocol) => out.push(Action::Show(Screen::CodeUnreadable)),
            Err(_) => {
                let offered: Vec<_> = self
                    .offered
                    .iter()
                    .copied()
                    .filter(|m| *m != PaymentMethod::Code)
                    .collect();
                self.end(
                    SessionOutcome::NoPayment,
                    out,
                    Some(Screen::MethodUnavailable {
                        method: PaymentMethod::Code,
                        offered,
                    }),
                );
            }
        }
    }

    fn post(&mut self, amount: Money, code: Option<PaymentCode>, out: &mut Vec<Action>) {
        let key = crate::machine::keys::session_payment(&self.id);
        let posting = PaymentPosting {
            key: key.clone(),
            account: self.account.clone(),
            amount,
            method: self.method.unwrap_or(PaymentMethod::Cash),
            code,
        };
        out.push(Action::Record(Record::PaymentPending { key, amount }));
        out.push(Action::Show(Screen::Processing { amount }));
        out.push(Action::PostPayment(posting.clone()));
        self.posting = Some(Arc::new(posting));
        self.phase = Phase::Posting;
    }

    fn on_posting_answer(
        &mut self,
        answer: Result<PostingAnswer, ErrorKind>,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let Some(posting) = self.posting.as_ref() else {
            return;
        };
        let (key, amount) = (posting.key.clone(), posting.amount);
        match answer {
            Ok(PostingAnswer::Credited {
                backend_ref,
                new_balance,
            }) => {
                out.push(Action::Record(Record::PaymentCredited {
                    key,
                    backend_ref: backend_ref.clone(),
                    new_balance,
                }));
                out.push(Action::Show(Screen::PaymentSuccess {
                    amount,
                    new_balance,
                    reference: self.id.clone(),
                }));
                self.print(
                    Some((backend_ref, new_balance)),
                    SessionOutcome::Credited,
                    now,
                    out,
                );
            }
            Ok(PostingAnswer::Refused { reason }) => {
                out.push(Action::Record(Record::PaymentRefused {
                    key,
                    reason: reason.clone(),
                }));
                self.end(
                    SessionOutcome::Refused,
                    out,
                    Some(Screen::PaymentFailed {
                        reason,
                        reference: self.id.clone(),
                    }),
                );
            }
            Err(_) => {
                // The posting may or may not have been applied. It stays
                // pending under the same key; the runner retries it.
                out.push(Action::Show(Screen::PaymentPending {
                    amount,
                    reference: self.id.clone(),
                }));
                self.print(None, SessionOutcome::Pending, now, out);
            }
        }
    }

    /// Prints the receipt of the posting: `credited` is the backend's
    /// reference and the new balance (`None`: pending). The receipt is
    /// rendered only when read (see [`LazyReceipt`]).
    fn print(
        &mut self,
        credited: Option<(String, Money)>,
        outcome: SessionOutcome,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let Some(posting) = self.posting.as_ref().map(Arc::clone) else {
            debug_assert!(false, "printing without a posting");
            return;
        };
        self.pending_outcome = outcome;
        self.phase = Phase::Printing;
        let receipt = LazyReceipt::session(
            Arc::clone(&self.config),
            self.kiosk.clone(),
            self.id.clone(),
            posting,
            credited,
            self.code.clone(),
            now,
        );
        self.receipt = Some(receipt.clone());
        out.push(Action::PrintReceipt(receipt));
    }

    fn on_print_result(&mut self, result: Result<PrintOutcome, ErrorKind>, out: &mut Vec<Action>) {
        let outcome = self.pending_outcome;
        match result {
            Ok(PrintOutcome::Printed) => self.end(outcome, out, None),
            Ok(PrintOutcome::Unknown) | Err(_) => {
                // No evidence the customer holds a receipt: keep it for
                // reprint and make sure the reference is on screen.
                if let Some(receipt) = &self.receipt {
                    out.push(Action::Record(Record::ReceiptKept {
                        receipt: receipt.receipt().clone(),
                    }));
                }
                out.push(Action::Show(Screen::ReceiptUnavailable {
                    reference: self.id.clone(),
                }));
                self.end(outcome, out, None);
            }
        }
    }

    fn end(&mut self, outcome: SessionOutcome, out: &mut Vec<Action>, screen: Option<Screen>) {
        if let Some(screen) = screen {
            out.push(Action::Show(screen));
        }
        if self.journaled {
            out.push(Action::Record(Record::SessionEnded { outcome }));
        }
        self.deadline = None;
        self.phase = Phase::Ended(outcome);
    }
}

fn alternatives() -> Vec<String> {
    ALTERNATIVE_CHANNELS.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
