//! Between customers: the acceptor's reports outside a session, the note
//! in its path, device health, the link heartbeat and retries of pending
//! payments; and where every answer goes.

use kiosk_hal::{
    AcceptorEvent, AcceptorStatus, CashBoxStatus, ErrorKind, FillLevel, Money, PostingAnswer,
    PrinterStatus,
};

use super::{
    DeviceCall, DeviceReply, InDoubtCause, JournalOp, JournalReply, KioskMachine, LinkAnswer,
    LinkCall, LinkReply, Output, Purpose,
};
use crate::events::{DeviceKind, DeviceWarning, KioskEvent, SettlementKind};
use crate::ids::{Millis, SessionId};
use crate::journal::{NoteId, SessionOutcome, SessionStart, Settlement};
use crate::machine::retry::Waits;
use crate::machine::PathDecision;
use crate::session::Input as SessionInput;
use crate::tickets::SecurityKind;

impl KioskMachine {
    /// An acceptor event while no session is running.
    pub(super) fn idle_acceptor(&mut self, event: Result<AcceptorEvent, ErrorKind>) {
        let event = match event {
            Ok(e) => e,
            Err(kind) => return self.fault_detected(DeviceKind::Acceptor, kind),
        };
        self.event(KioskEvent::Acceptor { acceptor: event });
        self.note_device_condition(&event);
        if let AcceptorEvent::Escrowed { .. } = event {
            // No session takes money now: give it back.
            self.push(Output::Device(DeviceCall::ReturnNote(Purpose::Idle)));
            return;
        }
        let decision = self.note_path.on_report(&event);
        self.apply_path_decision(decision);
        if let AcceptorEvent::PowerUp { .. } = event {
            self.push(Output::Device(DeviceCall::InhibitAcceptor(Purpose::Idle)));
        }
    }

    /// A note went in doubt while in the acceptor's path: the device's next
    /// report describes it. A note the path held before has left it and
    /// stays in doubt for staff.
    pub(super) fn note_went_in_doubt(&mut self, note: NoteId, value: Option<Money>) {
        if let Some(PathDecision::Released { note: old }) =
            self.note_path.note_in_doubt(note, value)
        {
            tracing::warn!(
                note = old.0,
                "in-doubt note left the path unreported: for staff"
            );
        }
    }

    /// Performs what the note path decided about an acceptor report.
    pub(super) fn apply_path_decision(&mut self, decision: PathDecision) {
        match decision {
            PathDecision::Settle { note, fate } => self.journal(JournalOp::Settle {
                note,
                fate,
                staff: None,
            }),
            PathDecision::UnaccountedInBox { value } => self.journal_unaccounted_note(value),
            PathDecision::Released { note } => tracing::warn!(
                note = note.0,
                "in-doubt note left the acceptor unreported: staff settle it at clearing"
            ),
            PathDecision::Nothing => {}
        }
    }

    /// A note no journal row accounts for is in the cash box: journal it in
    /// doubt against the last session, with an alarm, so the box and the
    /// books still agree.
    fn journal_unaccounted_note(&mut self, value: Option<Money>) {
        let shown = value.map_or("unknown value".to_string(), |v| v.to_string());
        let reason = format!("a note ({shown}) reached the cash box outside any session");
        let session = match self.last_session.clone() {
            Some(session) => {
                tracing::error!(%reason);
                self.event(KioskEvent::SecurityAlarm { reason });
                session
            }
            None => {
                // No session was ever journaled: open (and close) one that
                // takes no payment, so the note has a row and the books
                // still match the box. Staff see it with the alarm and a
                // ticket.
                let session = self.unattended_session();
                self.alarm(
                    DeviceKind::Acceptor,
                    SecurityKind::UnexpectedNote,
                    format!("{reason}, before any session: count it at clearing"),
                );
                session
            }
        };
        self.journal(JournalOp::NoteInDoubt {
            session,
            note: None,
            value,
            cause: InDoubtCause::Unaccounted,
        });
    }

    /// A journaled session with no customer, for a note that reached the
    /// box before any session existed; it becomes the last session.
    fn unattended_session(&mut self) -> SessionId {
        self.session_seq += 1;
        let id = SessionId::new(&self.config.kiosk_id, self.session_seq);
        self.journal(JournalOp::BeginSession(SessionStart {
            id: id.clone(),
            kiosk: self.config.kiosk_id.clone(),
            account: kiosk_hal::AccountNumber("".into()),
            method: kiosk_hal::PaymentMethod::Cash,
            at: self.now,
        }));
        self.journal(JournalOp::EndSession(id.clone(), SessionOutcome::Aborted));
        self.last_session = Some(id.clone());
        id
    }

    /// Reads every device's status once, probes the link when it has been
    /// quiet, and helps a faulty acceptor with a reset.
    pub(super) fn check_health(&mut self) {
        let now = self.now;
        self.next_health_at = now.plus_ms(self.config.health_check_interval_ms);
        self.push(Output::Device(DeviceCall::PrinterStatus(Purpose::Health)));
        self.push(Output::Device(DeviceCall::CashBoxStatus(Purpose::Health)));
        if self.reader_fitted {
            self.push(Output::Device(DeviceCall::CheckReader(Purpose::Health)));
        }
        if self.note_path.in_path().is_some() {
            self.push(Output::Device(DeviceCall::AcceptorStatus(
                Purpose::NotePath,
            )));
        }
        if self.availability.fault_of(DeviceKind::Acceptor).is_none() {
            self.reset_backoff = None;
        } else {
            if self
                .reset_backoff
                .as_ref()
                .is_none_or(|(next_at, _)| now >= *next_at)
            {
                // The driver recovers by itself where it can; a reset helps
                // it along, tried again with doubling intervals up to the
                // maximum.
                let mut waits = match self.reset_backoff.take() {
                    Some((_, waits)) => waits,
                    None => Waits::new(super::retry_policy(&self.config)),
                };
                let wait_ms = waits.next_ms();
                self.reset_backoff = Some((now.plus_ms(wait_ms), waits));
                self.push(Output::Device(DeviceCall::ResetAcceptor(Purpose::Health)));
            }
            // A faulty acceptor is asked how it is each round: a fault seen
            // only in a failed call (no report will ever say it cleared)
            // ends when the device answers healthy.
            self.push(Output::Device(DeviceCall::AcceptorStatus(Purpose::Health)));
        }
        if self.has_supervisors {
            self.push(Output::ReadSupervisors);
        }
    }

    /// When the idle heartbeat is due: `link_probe_interval_ms` after the
    /// backend last answered (or failed to); `None` with probing off.
    pub(super) fn next_probe_at(&self) -> Option<Millis> {
        let probe_ms = self.config.link_probe_interval_ms;
        (probe_ms > 0).then(|| self.last_link_call.plus_ms(probe_ms))
    }

    /// The idle heartbeat, on its own timer: a dead or slow link is seen
    /// within one interval plus one answer's time, not at the next health
    /// check or the next customer.
    pub(super) fn probe_link_if_due(&mut self) {
        if self.next_probe_at().is_some_and(|at| self.now >= at) {
            self.push(Output::Link(LinkCall::Heartbeat {
                timeout_ms: self.config.link_probe_timeout_ms,
            }));
        }
    }

    /// Posts every pending payment whose retry time has come. The posting
    /// reuses the payment's key, so a payment the backend had applied (its
    /// answer lost) is answered again without a second credit.
    pub(super) fn retry_due(&mut self) {
        for key in self.retries.due(self.now) {
            let Some(posting) = self.retries.posting(&key) else {
                continue;
            };
            self.journal(JournalOp::PostingAttempted(key));
            self.push(Output::Link(LinkCall::Post {
                posting: Box::new(posting),
                retry: true,
                timeout_ms: self.config.post_timeout_ms,
            }));
        }
    }

    /// Where a device's answer goes.
    pub(super) fn on_device(&mut self, reply: DeviceReply) {
        use DeviceReply as R;
        match reply {
            R::Enabled(Err(kind))
            | R::Stacking(Err(kind))
            | R::Returning(Purpose::Session, Err(kind)) => {
                // A call that fails says as much about the device as a
                // report that does: the next customer is not offered cash
                // into it, and staff get a ticket. The health round reads
                // its status until it answers healthy again.
                self.acceptor_call_failed(kind);
                self.feed_session(SessionInput::AcceptorFailed(kind))
            }
            R::Enabled(Ok(())) | R::Stacking(Ok(())) | R::Returning(_, Ok(())) => {}
            R::Returning(purpose, Err(kind)) => {
                tracing::warn!(?purpose, %kind, "return of a note left in the acceptor failed")
            }
            R::Inhibited(purpose, result) => {
                if let Err(kind) = result {
                    tracing::warn!(?purpose, %kind, "inhibit failed");
                }
            }
            R::Printed(Purpose::Session, result) => {
                if let Err(kind) = &result {
                    self.fault_detected(DeviceKind::Printer, *kind);
                }
                self.feed_session(SessionInput::PrintResult(result));
            }
            R::PrinterStatus(Purpose::Health, result) => match result {
                Ok(status) => {
                    match printer_fault(status) {
                        Some(kind) => self.fault_detected(DeviceKind::Printer, kind),
                        None => self.fault_cleared(DeviceKind::Printer),
                    }
                    match status {
                        PrinterStatus::PaperNearEnd => {
                            self.warning_raised(DeviceKind::Printer, DeviceWarning::PaperLow)
                        }
                        // Out of paper says nothing new about the roll's
                        // end; any other status means paper was loaded.
                        PrinterStatus::PaperOut => {}
                        _ => self.warning_cleared(DeviceKind::Printer),
                    }
                }
                Err(kind) => self.fault_detected(DeviceKind::Printer, kind),
            },
            R::CashBoxStatus(Purpose::Health | Purpose::AfterStack, result) => {
                self.cash_box_status(result)
            }
            R::ReaderChecked(Purpose::Health, result) => match result {
                Ok(()) => self.fault_cleared(DeviceKind::Reader),
                Err(kind) => self.fault_detected(DeviceKind::Reader, kind),
            },
            R::AcceptorStatus(Purpose::NotePath, result) => match result {
                // A note still in escrow outside any session goes back; its
                // `Returned` report settles it.
                Ok(AcceptorStatus::Escrow) => {
                    self.push(Output::Device(DeviceCall::ReturnNote(Purpose::NotePath)))
                }
                Ok(status) => {
                    let decision = self.note_path.on_status(status);
                    self.apply_path_decision(decision);
                }
                Err(kind) => tracing::debug!(%kind, "acceptor status unavailable"),
            },
            R::AcceptorStatus(Purpose::Health, result) => self.acceptor_health(result),
            R::Reset(Purpose::Health, result) => {
                let result = match result {
                    Ok(()) => "reset accepted".to_string(),
                    Err(kind) => format!("reset failed: {kind}"),
                };
                let changes =
                    self.tickets
                        .remote_fix_tried(DeviceKind::Acceptor, "reset", result, self.now);
                self.apply_ticket_changes(changes);
            }
            other => self.command_device_reply(other),
        }
    }

    /// A call to the acceptor failed. A request that did not fit the
    /// device's state (`InvalidState`, `Disabled`) says nothing about its
    /// health; a full or missing box is the cash box's fault; anything
    /// else is the acceptor's.
    fn acceptor_call_failed(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::InvalidState | ErrorKind::Disabled => {}
            ErrorKind::Full | ErrorKind::Removed => self.fault_detected(DeviceKind::CashBox, kind),
            _ => self.fault_detected(DeviceKind::Acceptor, kind),
        }
    }

    /// What a faulty acceptor answered to the health round's status read:
    /// ready, inhibited or holding a note, it works again; jammed or
    /// failed, the fault stands (and its kind is what the device says).
    /// The box's own state is the cash box check's business.
    fn acceptor_health(&mut self, result: Result<AcceptorStatus, ErrorKind>) {
        match result {
            Ok(AcceptorStatus::Jammed) => self.fault_detected(DeviceKind::Acceptor, ErrorKind::Jam),
            Ok(AcceptorStatus::Failure) => {
                self.fault_detected(DeviceKind::Acceptor, ErrorKind::Hardware)
            }
            Ok(AcceptorStatus::Escrow) => {
                self.fault_cleared(DeviceKind::Acceptor);
                // No session holds a note now: it goes back, and its
                // `Returned` report settles it if the path knew it.
                self.push(Output::Device(DeviceCall::ReturnNote(Purpose::NotePath)))
            }
            Ok(
                AcceptorStatus::Accepting
                | AcceptorStatus::Inhibited
                | AcceptorStatus::StackerFull
                | AcceptorStatus::StackerRemoved,
            ) => self.fault_cleared(DeviceKind::Acceptor),
            // A status this build does not know: the fault stands.
            Ok(other) => tracing::warn!(?other, "faulty acceptor in an unknown state"),
            Err(kind) => tracing::debug!(%kind, "faulty acceptor still does not answer"),
        }
    }

    /// The cash box's presence and fill level.
    fn cash_box_status(&mut self, result: Result<CashBoxStatus, ErrorKind>) {
        match result {
            Ok(s) if !s.present => self.fault_detected(DeviceKind::CashBox, ErrorKind::Removed),
            Ok(s) if s.level == FillLevel::Full => {
                self.fault_detected(DeviceKind::CashBox, ErrorKind::Full)
            }
            Ok(s) => {
                self.fault_cleared(DeviceKind::CashBox);
                match s.level {
                    FillLevel::NearFull => {
                        self.warning_raised(DeviceKind::CashBox, DeviceWarning::NearFull)
                    }
                    _ => self.warning_cleared(DeviceKind::CashBox),
                }
            }
            Err(kind) => self.fault_detected(DeviceKind::CashBox, kind),
        }
    }

    /// Where the backend's answer goes.
    pub(super) fn on_link(&mut self, reply: LinkReply) {
        let LinkReply { latency_ms, answer } = reply;
        match answer {
            LinkAnswer::Lookup(Purpose::Session, answer) => {
                self.note_link(&answer);
                self.availability
                    .set_link_unreachable(super::unreachable(&answer));
                self.note_link_latency(answer.as_ref().map(|_| ()).map_err(|k| *k), latency_ms);
                self.feed_session(SessionInput::AccountAnswer(answer));
            }
            LinkAnswer::Lookup(_, answer) => self.self_test_link(answer),
            LinkAnswer::Post {
                answer,
                retry: false,
                ..
            } => {
                self.note_link(&answer);
                self.note_link_latency(answer.as_ref().map(|_| ()).map_err(|k| *k), latency_ms);
                self.feed_session(SessionInput::PostingAnswer(answer));
            }
            LinkAnswer::Post {
                key,
                answer,
                retry: true,
            } => {
                self.note_link_latency(answer.as_ref().map(|_| ()).map_err(|k| *k), latency_ms);
                self.retry_answered(key, answer);
            }
            LinkAnswer::Heartbeat(answer) => {
                // The idle heartbeat: a dead link takes the kiosk's methods
                // off the welcome screen before a customer tries; a link
                // that answers again makes pending payments due now.
                let was_down = self.availability.fault_of(DeviceKind::Link).is_some();
                self.availability
                    .set_link_unreachable(super::unreachable(&answer));
                match answer {
                    Ok(()) => {
                        self.fault_cleared(DeviceKind::Link);
                        if was_down {
                            self.retries.retry_all_now(self.now);
                        }
                    }
                    Err(kind) => self.fault_detected(DeviceKind::Link, kind),
                }
                match answer {
                    Ok(()) => self.note_probe_latency(latency_ms),
                    Err(_) => self.note_link_latency(answer, latency_ms),
                }
            }
        }
    }

    fn retry_answered(
        &mut self,
        key: kiosk_hal::IdempotencyKey,
        answer: Result<PostingAnswer, ErrorKind>,
    ) {
        let amount = self.retries.posting(&key).map(|p| p.amount);
        match answer {
            Ok(PostingAnswer::Credited {
                backend_ref,
                new_balance,
            }) => {
                self.fault_cleared(DeviceKind::Link);
                self.journal(JournalOp::PaymentCredited {
                    key: key.clone(),
                    backend_ref,
                    new_balance,
                });
                self.retries.answered(&key);
                tracing::info!(%key, "pending payment credited");
                if let Some(amount) = amount {
                    self.event(KioskEvent::PaymentCredited { key, amount });
                }
            }
            Ok(PostingAnswer::Refused { reason }) => {
                self.fault_cleared(DeviceKind::Link);
                self.journal(JournalOp::PaymentRefused(key.clone(), reason.clone()));
                self.retries.answered(&key);
                self.event(KioskEvent::PaymentRefused { key, reason });
            }
            Err(kind) => {
                self.fault_detected(DeviceKind::Link, kind);
                if let Some(at) = self.retries.unanswered(&key, self.now) {
                    self.event(KioskEvent::PaymentRetryScheduled { key, at });
                }
            }
        }
    }

    /// Where the journal's answer goes.
    pub(super) fn on_journal(&mut self, reply: JournalReply) {
        match reply {
            JournalReply::NoteEscrowed(note) => self.escrowed(note),
            JournalReply::NoteInDoubt { note, value, cause } => match cause {
                InDoubtCause::Session => {
                    self.note_went_in_doubt(note, value);
                    self.event(KioskEvent::NoteInDoubt { note });
                }
                // It was in escrow: the acceptor's next report describes it.
                InDoubtCause::Recovered(value) => self.note_went_in_doubt(note, Some(value)),
                InDoubtCause::Unaccounted => self.event(KioskEvent::NoteInDoubt { note }),
            },
            JournalReply::Settled { note, settlement } => self.settled(note, *settlement),
            JournalReply::Attempt(key, attempt) => {
                self.event(KioskEvent::PostingAttempt { key, attempt })
            }
            JournalReply::Pending(pending) => {
                for p in pending {
                    self.retries.track(p, self.now);
                }
                if self.recovery.is_some() {
                    self.finish_recovery();
                }
            }
            JournalReply::Recovery(rows) => self.recover_rows(*rows),
            JournalReply::Clearing(record) => self.clearing_recorded(*record),
            JournalReply::InDoubt(notes) => self.clearing_in_doubt(notes),
            JournalReply::Unprinted(owed) => self.reprint_owed(owed),
        }
    }

    /// An in-doubt note was settled, exactly once: by the device's report
    /// or by the two people of a clearing.
    fn settled(&mut self, note: NoteId, settlement: Settlement) {
        self.note_path.forget(note);
        let kind = match &settlement {
            Settlement::Credit(_) => SettlementKind::Credit,
            Settlement::Returned => SettlementKind::Returned,
            Settlement::StillInDoubt => SettlementKind::StillInDoubt,
            Settlement::InBoxValueUnknown => SettlementKind::InBoxValueUnknown,
        };
        self.event(KioskEvent::InDoubtSettled {
            note,
            settlement: kind,
        });
        if let Settlement::Credit(pending) = settlement {
            self.retries.track(pending, self.now);
            self.retries.retry_all_now(self.now);
        }
    }
}

/// The fault a printer status means, if any. Near-end is not a fault (the
/// printer still prints): it is a warning, so paper is replenished before
/// it runs out.
pub(super) fn printer_fault(status: PrinterStatus) -> Option<ErrorKind> {
    match status {
        PrinterStatus::Ready | PrinterStatus::Unknown | PrinterStatus::PaperNearEnd => None,
        PrinterStatus::PaperOut => Some(ErrorKind::PaperOut),
        PrinterStatus::CoverOpen => Some(ErrorKind::CoverOpen),
        PrinterStatus::Jammed => Some(ErrorKind::Jam),
        PrinterStatus::Offline => Some(ErrorKind::Offline),
        _ => Some(ErrorKind::Hardware),
    }
}
