//! The session's side of the machine: its actions become outputs, the
//! answers to them become its inputs, and what it records becomes journal
//! operations with the events that announce them.

use kiosk_hal::{AcceptorEvent, ErrorKind};

use super::{DeviceCall, InDoubtCause, JournalOp, KioskMachine, LinkCall, Output, Purpose, Step};
use crate::events::{DeviceKind, KioskEvent};
use crate::journal::{PendingPayment, SessionOutcome, SessionStart};
use crate::session::{Action, Input, Record};

impl KioskMachine {
    /// Turns one session action into outputs, now that its turn has come.
    pub(super) fn translate(&mut self, action: Action) {
        let Some(active) = &self.session else {
            debug_assert!(false, "a session action outside a session");
            return;
        };
        match action {
            Action::Record(record) => self.record(record),
            Action::Show(screen) => self.show(screen),
            Action::Alert(alert) => {
                tracing::warn!(?alert, "alert");
                let session = active.session.id().clone();
                self.event(KioskEvent::Alert { session, alert });
            }
            Action::LookupAccount(account) => self.push(Output::Link(LinkCall::Lookup {
                account,
                purpose: Purpose::Session,
                timeout_ms: self.config.lookup_timeout_ms,
            })),
            Action::EnableAcceptor(values) => {
                self.push(Output::Device(DeviceCall::EnableAcceptor(values)))
            }
            Action::InhibitAcceptor => self.push(Output::Device(DeviceCall::InhibitAcceptor(
                Purpose::Session,
            ))),
            Action::StackNote => self.push(Output::Device(DeviceCall::StackNote)),
            Action::ReturnNote => {
                self.push(Output::Device(DeviceCall::ReturnNote(Purpose::Session)))
            }
            Action::PostPayment(posting) => {
                self.journal(JournalOp::PostingAttempted(posting.key.clone()));
                self.push(Output::Link(LinkCall::Post {
                    posting: Box::new(posting),
                    retry: false,
                    timeout_ms: self.config.post_timeout_ms,
                }));
            }
            Action::PrintReceipt(receipt) => {
                if let Some(kind) = self.availability.fault_of(DeviceKind::Printer) {
                    // Known faulty: do not wait on it; the receipt is kept.
                    self.feed_session(Input::PrintResult(Err(kind)));
                    return;
                }
                self.push(Output::Device(DeviceCall::Print {
                    receipt,
                    purpose: Purpose::Session,
                    timeout_ms: self.config.print_timeout_ms,
                }));
            }
        }
    }

    /// Feeds the session an input; its answer waits its turn.
    pub(super) fn feed_session(&mut self, input: Input) {
        self.session_input(input, self.now);
    }

    /// Makes one money event durable, then announces it.
    fn record(&mut self, record: Record) {
        let now = self.now;
        let Some(active) = self.session.as_mut() else {
            return;
        };
        let id = active.session.id().clone();
        match record {
            Record::SessionStarted { account, method } => {
                self.journal(JournalOp::BeginSession(SessionStart {
                    id: id.clone(),
                    kiosk: self.config.kiosk_id.clone(),
                    account,
                    method,
                    at: now,
                }));
                self.last_session = Some(id.clone());
                self.event(KioskEvent::SessionStarted { session: id });
            }
            Record::NoteEscrowed { value } => self.journal(JournalOp::NoteEscrowed(id, value)),
            Record::NoteStacked { value } => {
                let note = active.escrow_note.take();
                self.journal(JournalOp::NoteStacked(id, note, value));
            }
            Record::NoteReturned => {
                if let Some(note) = active.escrow_note.take() {
                    self.journal(JournalOp::NoteReturned(note));
                }
            }
            Record::NoteRejected { reason } => self.journal(JournalOp::NoteRejected(id, reason)),
            Record::NoteInDoubt { value } => {
                let note = active.escrow_note.take();
                self.journal(JournalOp::NoteInDoubt {
                    session: id,
                    note,
                    value,
                    cause: InDoubtCause::Session,
                });
            }
            Record::PaymentPending { key, amount } => {
                active.pending = Some((key.clone(), amount));
                self.journal(JournalOp::PaymentPending(id, key, amount))
            }
            Record::PaymentCredited {
                key,
                backend_ref,
                new_balance,
            } => {
                let amount = active.session.posting().map(|p| p.amount);
                active.pending = None;
                self.journal(JournalOp::PaymentCredited {
                    key: key.clone(),
                    backend_ref,
                    new_balance,
                });
                if let Some(amount) = amount {
                    self.event(KioskEvent::PaymentCredited { key, amount });
                }
            }
            Record::PaymentRefused { key, reason } => {
                active.pending = None;
                self.journal(JournalOp::PaymentRefused(key.clone(), reason.clone()));
                self.event(KioskEvent::PaymentRefused { key, reason });
            }
            Record::ReceiptKept { receipt } => {
                self.journal(JournalOp::KeepReceipt(id.clone(), receipt));
                self.event(KioskEvent::ReceiptKept { session: id });
            }
            Record::SessionEnded { outcome } => {
                // The payment it leaves unanswered, if any, is retried
                // under its own key (the schedule builds what a retry carries).
                let left = active.pending.take().zip(active.session.posting().cloned());
                self.journal(JournalOp::EndSession(id.clone(), outcome));
                self.event(KioskEvent::SessionEnded {
                    session: id.clone(),
                    outcome,
                });
                self.note_transaction(outcome);
                if let Some(((key, amount), posting)) = left {
                    debug_assert_eq!(posting.key, key, "one key per session payment");
                    self.retries.track(
                        PendingPayment {
                            key,
                            session: id,
                            account: posting.account,
                            amount,
                            method: posting.method,
                            created_at: now,
                            attempts: 1,
                        },
                        now,
                    );
                }
            }
        }
    }

    /// An acceptor event while a session runs.
    pub(super) fn session_acceptor(&mut self, event: Result<AcceptorEvent, ErrorKind>) {
        let event = match event {
            Ok(event) => event,
            Err(kind) => {
                self.fault_detected(DeviceKind::Acceptor, kind);
                self.feed_session(Input::AcceptorFailed(kind));
                return;
            }
        };
        self.event(KioskEvent::Acceptor { acceptor: event });
        self.note_device_condition(&event);
        if matches!(event, AcceptorEvent::Stacked { .. })
            && self.availability.fault_of(DeviceKind::CashBox) != Some(ErrorKind::Full)
        {
            // Near-full is reported at once, not at the next health check.
            self.push(Output::Device(DeviceCall::CashBoxStatus(
                Purpose::AfterStack,
            )));
        }
        // A report about the acceptor's path that is not about this
        // session's own escrowed note goes to the note path, after the
        // session has acted on it.
        let path_report = matches!(
            event,
            AcceptorEvent::PowerUp { .. } | AcceptorEvent::JamCleared { .. }
        ) && self
            .session
            .as_ref()
            .is_some_and(|a| !a.session.claims_report(&event));
        self.feed_session(Input::Acceptor(event));
        if path_report {
            self.queue.push_back(Step::PathReport(event));
        }
    }

    /// A session's note was journaled in escrow under row `note`.
    pub(super) fn escrowed(&mut self, note: crate::journal::NoteId) {
        if let Some(a) = &mut self.session {
            a.escrow_note = Some(note);
        }
    }

    /// A finished session, for the transaction failure rate.
    fn note_transaction(&mut self, outcome: SessionOutcome) {
        let (ok, detail) = match outcome {
            SessionOutcome::Credited => (true, "credited"),
            SessionOutcome::Pending => (false, "pending"),
            SessionOutcome::Refused => (false, "refused"),
            SessionOutcome::Aborted => (false, "aborted"),
            SessionOutcome::Interrupted => (false, "interrupted"),
            // Nothing was taken: not a transaction that failed.
            SessionOutcome::NoPayment => return,
        };
        let changes = self.health.record_transaction(ok, detail, self.now);
        self.apply_health(changes);
    }
}
