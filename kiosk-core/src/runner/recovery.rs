//! Start-up recovery, and settling in-doubt notes from the acceptor's own reports.

use kiosk_hal::{AcceptorEvent, DeviceError, IdempotencyKey, NoteAtPowerUp, NoteFate};

use super::{Kiosk, KioskError};
use crate::events::{DeviceKind, KioskEvent, SettlementKind};
use crate::ids::SessionId;
use crate::journal::{SessionOutcome, Settlement};

impl Kiosk {
    /// Recovers what a crash or power loss left in the journal.
    ///
    /// Nothing half-done is trusted: a note that was in escrow becomes
    /// in-doubt (the acceptor's power-up report may settle it); stacked
    /// notes of an interrupted session become a pending payment under the
    /// session's own key, so recovering twice never creates two payments;
    /// every pending payment is scheduled for a retry now.
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
        for session in open {
            for (note, _value) in &session.escrowed {
                let id = self
                    .journal
                    .note_in_doubt(&session.id, Some(*note), None, now)?;
                self.awaiting_report = Some(id);
            }
            if let Some(amount) = session.unposted_stacked {
                let suffix = if session.has_payment { "r1" } else { "p1" };
                let key = IdempotencyKey(format!("{}-{suffix}", session.id));
                self.journal
                    .payment_pending(&session.id, &key, amount, now)?;
            }
            self.journal
                .end_session(&session.id, SessionOutcome::Interrupted, now)?;
            tracing::warn!(session = %session.id, "session interrupted by restart, recovered");
        }
        self.session_seq = self.session_seq.max(self.journal.max_session_seq()?);
        if self.last_session.is_none() && self.session_seq > 0 {
            // A note the acceptor reports after a restart, outside any
            // session, is journaled in doubt against the last session.
            self.last_session = Some(SessionId::new(&self.config.kiosk_id, self.session_seq));
        }
        let in_doubt = self.journal.in_doubt_notes()?;
        if self.awaiting_report.is_none() {
            self.awaiting_report = in_doubt.last().map(|n| n.id);
        }
        self.schedule_pending(now)?;
        // Retry at once after a restart: the link may well be back.
        for r in self.retries.values_mut() {
            r.next_at = now;
        }
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
        match event {
            AcceptorEvent::JamCleared { fate } => {
                self.fault_cleared(DeviceKind::Acceptor);
                self.settle_awaiting(fate)?;
            }
            AcceptorEvent::PowerUp { note } => {
                self.fault_cleared(DeviceKind::Acceptor);
                match note {
                    NoteAtPowerUp::InStacker => self.settle_awaiting(NoteFate::InCashBox)?,
                    NoteAtPowerUp::InAcceptor => self.settle_awaiting(NoteFate::Returned)?,
                    // A clean power-up says nothing about a note that was in
                    // the path: it stays in doubt for staff.
                    NoteAtPowerUp::None => {}
                }
                if let Err(e) = self.devices.acceptor.inhibit().await {
                    tracing::warn!(error = %e, "inhibit after power-up failed");
                }
            }
            AcceptorEvent::Escrowed { .. } => {
                // No session takes money now: give it back.
                if let Err(e) = self.devices.acceptor.return_note().await {
                    tracing::warn!(error = %e, "return of unexpected note failed");
                }
            }
            AcceptorEvent::Stacked { value } => {
                // A note reached the box with no session to credit: if a note
                // awaits the device's report this settles it, otherwise it is
                // recorded in doubt for staff.
                if self.awaiting_report.is_some() {
                    self.settle_awaiting(NoteFate::InCashBox)?;
                } else if let Some(session) = self.last_session.clone() {
                    let now = self.clock.now();
                    let note = self
                        .journal
                        .note_in_doubt(&session, None, Some(value), now)?;
                    self.emit(KioskEvent::NoteInDoubt { note });
                } else {
                    // No session was ever journaled, so there is nothing to
                    // attach the note to: staff must count it out by hand.
                    let reason = format!(
                        "a note of {value} reached the cash box before any session: count it at clearing"
                    );
                    tracing::error!(%reason);
                    self.emit(KioskEvent::SecurityAlarm {
                        reason: reason.clone(),
                    });
                    self.ticket_for(DeviceKind::Acceptor, "security:unexpected-note", reason)?;
                }
            }
            _ => self.note_device_condition(&event),
        }
        Ok(())
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
                    if let Err(e) =
                        self.ticket_for(DeviceKind::CashBox, "security:cash-box-removed", reason)
                    {
                        self.deferred_error.get_or_insert(e);
                    }
                    // Nothing goes into a box that is not there.
                    self.disabled
                        .get_or_insert_with(|| "cash box removed: staff called".into());
                }
            }
            AcceptorEvent::StackerReplaced => self.fault_cleared(DeviceKind::CashBox),
            AcceptorEvent::Fraud { kind } => {
                tracing::error!(?kind, "fraud attempt at the acceptor");
                let reason = format!("fraud attempt at the acceptor: {kind:?}").to_lowercase();
                self.emit(KioskEvent::SecurityAlarm {
                    reason: reason.clone(),
                });
                if let Err(e) = self.ticket_for(DeviceKind::Acceptor, "security:fraud", reason) {
                    self.deferred_error.get_or_insert(e);
                }
            }
            AcceptorEvent::JamCleared { .. } | AcceptorEvent::PowerUp { .. } => {
                self.fault_cleared(DeviceKind::Acceptor)
            }
            _ => {}
        }
    }

    /// Settles the note that waits for the acceptor's report, exactly once.
    fn settle_awaiting(&mut self, fate: NoteFate) -> Result<(), KioskError> {
        let Some(note) = self.awaiting_report else {
            return Ok(());
        };
        let now = self.clock.now();
        let settlement = self.journal.settle_in_doubt(note, fate, now)?;
        let kind = match &settlement {
            Settlement::Credit(_) => SettlementKind::Credit,
            Settlement::Returned => SettlementKind::Returned,
            Settlement::StillInDoubt => SettlementKind::StillInDoubt,
            Settlement::InBoxValueUnknown => SettlementKind::InBoxValueUnknown,
        };
        if kind != SettlementKind::StillInDoubt {
            self.awaiting_report = None;
        }
        self.emit(KioskEvent::InDoubtSettled {
            note,
            settlement: kind,
        });
        if let Settlement::Credit(_) = settlement {
            self.schedule_pending(now)?;
            for r in self.retries.values_mut() {
                r.next_at = r.next_at.min(now);
            }
        }
        Ok(())
    }
}
