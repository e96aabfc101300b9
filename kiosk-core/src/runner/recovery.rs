//! Start-up recovery, and what the acceptor's reports between sessions mean
//! for the books. The decisions are the pure [`recovery`] plan and the
//! [`NotePath`](crate::machine::NotePath); this performs them.

use kiosk_hal::{AcceptorEvent, DeviceError, Money, NoteFate};

use super::{Kiosk, KioskError};
use crate::events::{DeviceKind, KioskEvent, SettlementKind};
use crate::ids::{Millis, SessionId};
use crate::journal::{NoteId, SessionOutcome, SessionStart, Settlement};
use crate::machine::recovery::{self, RecoveryStep};
use crate::machine::PathDecision;
use crate::tickets::{SecurityKind, TicketKind};

impl Kiosk {
    /// Recovers what a crash or power loss left in the journal.
    ///
    /// Nothing half-done is trusted: a note that was in escrow becomes
    /// in-doubt (the acceptor's next report settles it); stacked notes of an
    /// interrupted session become a pending payment under the key
    /// [`keys::recovered_payment`](crate::machine::keys::recovered_payment)
    /// gives, so recovering twice never creates two payments; every pending
    /// payment is retried now.
    pub async fn recover(&mut self) -> Result<(), KioskError> {
        let now = self.clock.now();
        self.tickets = crate::tickets::TicketBook::restore(
            self.config.kiosk_id.clone(),
            self.config.session.site.clone(),
            self.config.tickets.clone(),
            self.journal.tickets()?,
        );
        let open = self.journal.open_sessions()?;
        let interrupted = open.len() as u32;
        for step in recovery::plan(&open) {
            match step {
                RecoveryStep::NoteInDoubt {
                    session,
                    note,
                    value,
                } => {
                    let id = self
                        .journal
                        .note_in_doubt(&session, Some(note), None, now)?;
                    // It was in escrow: the acceptor's next report describes it.
                    self.note_went_in_doubt(id, Some(value));
                }
                RecoveryStep::PaymentPending {
                    session,
                    key,
                    amount,
                } => {
                    self.journal.payment_pending(&session, &key, amount, now)?;
                }
                RecoveryStep::EndInterrupted { session } => {
                    self.journal
                        .end_session(&session, SessionOutcome::Interrupted, now)?;
                    tracing::warn!(%session, "session interrupted by restart, recovered");
                }
            }
        }
        let journaled_seq = self.journal.max_session_seq()?;
        self.session_seq = self.session_seq.max(journaled_seq);
        if self.last_session.is_none() && journaled_seq > 0 {
            // A note the acceptor reports after a restart, outside any
            // session, is journaled in doubt against the last session the
            // journal holds.
            self.last_session = Some(SessionId::new(&self.config.kiosk_id, journaled_seq));
        }
        let in_doubt = self.journal.in_doubt_notes()?;
        if self.note_path.in_path().is_none() {
            // A note put in doubt by an earlier start whose report never
            // came (the kiosk died again first) may still be in the path:
            // only the newest note can be. The first status read releases
            // it if the acceptor is idle.
            let last = self.journal.last_note()?;
            if let Some(note) = in_doubt.iter().find(|n| Some(n.id) == last) {
                self.note_went_in_doubt(note.id, note.value);
            }
        }
        self.schedule_pending(now)?;
        // Retry at once after a restart: the link may well be back.
        self.retries.retry_all_now(now);
        self.emit(KioskEvent::Recovered {
            interrupted_sessions: interrupted,
            pending_payments: self.retries.len() as u32,
            in_doubt_notes: in_doubt.len() as u32,
        });
        Ok(())
    }

    /// An acceptor event while no session is running.
    pub(super) async fn on_idle_acceptor(
        &mut self,
        event: Result<AcceptorEvent, DeviceError>,
    ) -> Result<(), KioskError> {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                self.fault_detected(DeviceKind::Acceptor, e.kind());
                return Ok(());
            }
        };
        self.emit(KioskEvent::Acceptor { acceptor: event });
        self.note_device_condition(&event);
        if let AcceptorEvent::Escrowed { .. } = event {
            // No session takes money now: give it back.
            if let Err(e) = self.devices.acceptor.return_note().await {
                tracing::warn!(error = %e, "return of unexpected note failed");
            }
            return Ok(());
        }
        let decision = self.note_path.on_report(&event);
        self.apply_path_decision(decision)?;
        if let AcceptorEvent::PowerUp { .. } = event {
            if let Err(e) = self.devices.acceptor.inhibit().await {
                tracing::warn!(error = %e, "inhibit after power-up failed");
            }
        }
        Ok(())
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
    pub(super) fn apply_path_decision(&mut self, decision: PathDecision) -> Result<(), KioskError> {
        match decision {
            PathDecision::Settle { note, fate } => self.settle_note(note, fate, None),
            PathDecision::UnaccountedInBox { value } => self.journal_unaccounted_note(value),
            PathDecision::Released { note } => {
                tracing::warn!(
                    note = note.0,
                    "in-doubt note left the acceptor unreported: staff settle it at clearing"
                );
                Ok(())
            }
            PathDecision::Nothing => Ok(()),
        }
    }

    /// A note no journal row accounts for is in the cash box: journal it in
    /// doubt against the last session, with an alarm, so the box and the
    /// books still agree.
    fn journal_unaccounted_note(&mut self, value: Option<Money>) -> Result<(), KioskError> {
        let shown = value.map_or("unknown value".to_string(), |v| v.to_string());
        let reason = format!("a note ({shown}) reached the cash box outside any session");
        tracing::error!(%reason);
        self.emit(KioskEvent::SecurityAlarm {
            reason: reason.clone(),
        });
        let now = self.clock.now();
        let session = match self.last_session.clone() {
            Some(session) => session,
            None => {
                // No session was ever journaled: open (and close) one that
                // takes no payment, so the note has a row and the books
                // still match the box. Staff see it with the alarm and a
                // ticket.
                let session = self.unattended_session(now)?;
                let reason = format!("{reason}, before any session: count it at clearing");
                self.ticket_for(
                    DeviceKind::Acceptor,
                    TicketKind::Security(SecurityKind::UnexpectedNote),
                    reason,
                )?;
                session
            }
        };
        let note = self.journal.note_in_doubt(&session, None, value, now)?;
        self.emit(KioskEvent::NoteInDoubt { note });
        Ok(())
    }

    /// A journaled session with no customer, for a note that reached the
    /// box before any session existed; it becomes the last session.
    fn unattended_session(&mut self, now: Millis) -> Result<SessionId, KioskError> {
        self.session_seq += 1;
        let id = SessionId::new(&self.config.kiosk_id, self.session_seq);
        self.journal.begin_session(&SessionStart {
            id: id.clone(),
            kiosk: self.config.kiosk_id.clone(),
            account: kiosk_hal::AccountNumber(String::new()),
            method: kiosk_hal::PaymentMethod::Cash,
            at: now,
        })?;
        self.journal
            .end_session(&id, SessionOutcome::Aborted, now)?;
        self.last_session = Some(id.clone());
        Ok(id)
    }

    /// Updates device health from what an acceptor event says about the
    /// hardware, in or out of a session.
    pub(super) fn note_device_condition(&mut self, event: &AcceptorEvent) {
        use kiosk_hal::ErrorKind;
        match event {
            AcceptorEvent::Jammed { .. } => {
                self.fault_detected(DeviceKind::Acceptor, ErrorKind::Jam)
            }
            AcceptorEvent::Failure => {
                self.fault_detected(DeviceKind::Acceptor, ErrorKind::Hardware)
            }
            AcceptorEvent::StackerFull => self.fault_detected(DeviceKind::CashBox, ErrorKind::Full),
            AcceptorEvent::StackerRemoved => {
                self.fault_detected(DeviceKind::CashBox, ErrorKind::Removed);
                if self.clearing.is_none() {
                    tracing::error!("cash box removed outside an authorised clearing");
                    let reason = "cash box removed outside an authorised clearing".to_string();
                    self.emit(KioskEvent::SecurityAlarm {
                        reason: reason.clone(),
                    });
                    if let Err(e) = self.ticket_for(
                        DeviceKind::CashBox,
                        TicketKind::Security(SecurityKind::CashBoxRemoved),
                        reason,
                    ) {
                        self.deferred_error.get_or_insert(e);
                    }
                    // Nothing goes into a box that is not there.
                    self.availability
                        .disable_unless_disabled("cash box removed: staff called");
                }
            }
            AcceptorEvent::StackerReplaced => self.fault_cleared(DeviceKind::CashBox),
            AcceptorEvent::Fraud { kind } => {
                tracing::error!(?kind, "fraud attempt at the acceptor");
                let reason = format!("fraud attempt at the acceptor: {kind:?}").to_lowercase();
                self.emit(KioskEvent::SecurityAlarm {
                    reason: reason.clone(),
                });
                if let Err(e) = self.ticket_for(
                    DeviceKind::Acceptor,
                    TicketKind::Security(SecurityKind::Fraud),
                    reason,
                ) {
                    self.deferred_error.get_or_insert(e);
                }
            }
            AcceptorEvent::JamCleared { .. } | AcceptorEvent::PowerUp { .. } => {
                self.fault_cleared(DeviceKind::Acceptor)
            }
            _ => {}
        }
    }

    /// Settles in-doubt note `note`, exactly once: by the device's report,
    /// or by the two people of a clearing (`staff`), who are journaled.
    pub(super) fn settle_note(
        &mut self,
        note: NoteId,
        fate: NoteFate,
        staff: Option<&[String; 2]>,
    ) -> Result<(), KioskError> {
        let now = self.clock.now();
        let settlement = match staff {
            None => self.journal.settle_in_doubt(note, fate, now)?,
            Some(operators) => self
                .journal
                .settle_in_doubt_by_staff(note, fate, operators, now)?,
        };
        self.note_path.forget(note);
        let kind = match &settlement {
            Settlement::Credit(_) => SettlementKind::Credit,
            Settlement::Returned => SettlementKind::Returned,
            Settlement::StillInDoubt => SettlementKind::StillInDoubt,
            Settlement::InBoxValueUnknown => SettlementKind::InBoxValueUnknown,
        };
        self.emit(KioskEvent::InDoubtSettled {
            note,
            settlement: kind,
        });
        if let Settlement::Credit(pending) = settlement {
            self.retries.track(pending, now);
            self.retries.retry_all_now(now);
        }
        Ok(())
    }
}
