//! Performing a session's actions: the only place session decisions meet I/O.

use std::collections::VecDeque;

use kiosk_hal::{ErrorKind, PrintOutcome, Receipt};

use super::{with_timeout, Kiosk, KioskError};
use crate::events::{DeviceKind, KioskEvent};
use crate::journal::{NoteId, SessionStart};
use crate::machine::availability::blocks_use;
use crate::session::{Action, Input, Record, Session};

/// Per-session bookkeeping the runner keeps beside the session.
#[derive(Debug, Default)]
pub(super) struct SessionCtx {
    /// The journal row of the note now in escrow.
    escrow_note: Option<NoteId>,
}

impl Kiosk {
    /// Performs `actions` in order, feeding each result back into the
    /// session and performing what it asks next.
    pub(super) async fn perform(
        &mut self,
        session: &mut Session,
        actions: Vec<Action>,
        ctx: &mut SessionCtx,
    ) -> Result<(), KioskError> {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            let follow_up = self.perform_one(session, action, ctx).await?;
            if let Some(input) = follow_up {
                let now = self.clock.now();
                queue.extend(session.handle(input, now));
            }
        }
        Ok(())
    }

    async fn perform_one(
        &mut self,
        session: &Session,
        action: Action,
        ctx: &mut SessionCtx,
    ) -> Result<Option<Input>, KioskError> {
        let (lookup_ms, post_ms) = (self.config.lookup_timeout_ms, self.config.post_timeout_ms);
        Ok(match action {
            Action::Record(record) => {
                self.record(session, record, ctx)?;
                None
            }
            Action::Show(screen) => {
                self.show(screen);
                None
            }
            Action::Alert(alert) => {
                tracing::warn!(?alert, "alert");
                self.emit(KioskEvent::Alert {
                    session: session.id().clone(),
                    alert,
                });
                None
            }
            Action::LookupAccount(account) => {
                let started = self.clock.now();
                let answer =
                    with_timeout(lookup_ms, self.devices.link.lookup_account(&account)).await;
                self.note_link(&answer);
                self.availability
                    .set_link_unreachable(super::unreachable(&answer));
                let latency = self.clock.now().since(started);
                self.note_link_latency(answer.as_ref().map(|_| ()).map_err(|k| *k), latency)?;
                Some(Input::AccountAnswer(answer))
            }
            Action::EnableAcceptor(values) => self
                .devices
                .acceptor
                .enable(&values)
                .await
                .err()
                .map(|e| Input::AcceptorFailed(e.kind())),
            Action::InhibitAcceptor => {
                if let Err(e) = self.devices.acceptor.inhibit().await {
                    tracing::warn!(error = %e, "inhibit failed");
                }
                None
            }
            Action::StackNote => self
                .devices
                .acceptor
                .stack()
                .await
                .err()
                .map(|e| Input::AcceptorFailed(e.kind())),
            Action::ReturnNote => self
                .devices
                .acceptor
                .return_note()
                .await
                .err()
                .map(|e| Input::AcceptorFailed(e.kind())),
            Action::PostPayment(posting) => {
                let now = self.clock.now();
                let attempt = self.journal.posting_attempted(&posting.key, now)?;
                self.emit(KioskEvent::PostingAttempt {
                    key: posting.key.clone(),
                    attempt,
                });
                let started = self.clock.now();
                let answer = with_timeout(post_ms, self.devices.link.post_payment(&posting)).await;
                self.note_link(&answer);
                let latency = self.clock.now().since(started);
                self.note_link_latency(answer.as_ref().map(|_| ()).map_err(|k| *k), latency)?;
                Some(Input::PostingAnswer(answer))
            }
            Action::PrintReceipt(receipt) => Some(Input::PrintResult(self.print(&receipt).await)),
        })
    }

    /// Prints unless the printer is known to be unable to.
    async fn print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, ErrorKind> {
        if let Some(kind) = self.availability.fault_of(DeviceKind::Printer) {
            if blocks_use(kind) {
                // Known faulty: do not wait on it; the receipt is kept.
                return Err(kind);
            }
        }
        self.try_print(receipt).await
    }

    /// Prints `receipt` whatever the printer's known state (a test print, a
    /// reprint after service), with the print timeout; a failure is
    /// recorded as a printer fault.
    pub(super) async fn try_print(&mut self, receipt: &Receipt) -> Result<PrintOutcome, ErrorKind> {
        let result = with_timeout(
            self.config.print_timeout_ms,
            self.devices.printer.print(receipt),
        )
        .await;
        if let Err(kind) = &result {
            self.fault_detected(DeviceKind::Printer, *kind);
        }
        result
    }

    /// Link health from an answer.
    fn note_link<T>(&mut self, answer: &Result<T, ErrorKind>) {
        match answer {
            Ok(_) => self.fault_cleared(DeviceKind::Link),
            Err(kind) => self.fault_detected(DeviceKind::Link, *kind),
        }
    }

    /// Makes one money event durable. Nothing after it runs if this fails.
    fn record(
        &mut self,
        session: &Session,
        record: Record,
        ctx: &mut SessionCtx,
    ) -> Result<(), KioskError> {
        let now = self.clock.now();
        let id = session.id();
        let journal = &mut self.journal;
        match record {
            Record::SessionStarted { account, method } => {
                journal.begin_session(&SessionStart {
                    id: id.clone(),
                    kiosk: self.config.kiosk_id.clone(),
                    account,
                    method,
                    at: now,
                })?;
                self.last_session = Some(id.clone());
                self.emit(KioskEvent::SessionStarted {
                    session: id.clone(),
                });
            }
            Record::NoteEscrowed { value } => {
                ctx.escrow_note = Some(journal.note_escrowed(id, value, now)?);
            }
            Record::NoteStacked { value } => {
                journal.note_stacked(id, ctx.escrow_note.take(), value, now)?;
            }
            Record::NoteReturned => {
                if let Some(note) = ctx.escrow_note.take() {
                    journal.note_returned(note, now)?;
                }
            }
            Record::NoteRejected { reason } => {
                journal.note_rejected(id, reason, now)?;
            }
            Record::NoteInDoubt { value } => {
                let note = journal.note_in_doubt(id, ctx.escrow_note.take(), value, now)?;
                self.note_went_in_doubt(note, value);
                self.emit(KioskEvent::NoteInDoubt { note });
            }
            Record::PaymentPending { key, amount } => {
                journal.payment_pending(id, &key, amount, now)?;
            }
            Record::PaymentCredited {
                key,
                backend_ref,
                new_balance,
            } => {
                journal.payment_credited(&key, &backend_ref, new_balance, now)?;
                if let Some(posting) = session.posting() {
                    let amount = posting.amount;
                    self.emit(KioskEvent::PaymentCredited { key, amount });
                }
            }
            Record::PaymentRefused { key, reason } => {
                journal.payment_refused(&key, &reason, now)?;
                self.emit(KioskEvent::PaymentRefused { key, reason });
            }
            Record::ReceiptKept { receipt } => {
                journal.keep_receipt(id, &receipt, now)?;
                self.emit(KioskEvent::ReceiptKept {
                    session: id.clone(),
                });
            }
            Record::SessionEnded { outcome } => {
                journal.end_session(id, outcome, now)?;
                self.emit(KioskEvent::SessionEnded {
                    session: id.clone(),
                    outcome,
                });
                self.note_transaction(outcome)?;
                self.schedule_pending(now)?;
            }
        }
        Ok(())
    }
}
