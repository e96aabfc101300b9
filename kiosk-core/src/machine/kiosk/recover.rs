//! Start-up recovery: what a crash or power loss left in the journal.
//!
//! Nothing half-done is trusted: a note that was in escrow becomes
//! in-doubt (the acceptor's next report settles it); stacked notes of an
//! interrupted session become a pending payment under the key
//! [`keys::recovered_payment`](crate::machine::keys::recovered_payment)
//! gives, so recovering twice never creates two payments; every pending
//! payment is retried at once (the link may well be back).

use super::{InDoubtCause, JournalOp, KioskMachine, RecoveryRows};
use crate::events::KioskEvent;
use crate::ids::SessionId;
use crate::journal::SessionOutcome;
use crate::machine::recovery::{self, RecoveryStep};
use crate::tickets::TicketBook;

/// What recovery found, for its report.
#[derive(Debug)]
pub(super) struct Tally {
    interrupted: u32,
    in_doubt: u32,
    /// Check device health once recovered (a staff restart).
    then_check_health: bool,
}

impl KioskMachine {
    /// Reads the journal; the rest happens as its answers come.
    pub(super) fn start_recovery(&mut self, then_check_health: bool) {
        self.started = true;
        self.recovery = Some(Tally {
            interrupted: 0,
            in_doubt: 0,
            then_check_health,
        });
        self.journal(JournalOp::ReadRecovery);
    }

    pub(super) fn recover_rows(&mut self, rows: RecoveryRows) {
        self.tickets = TicketBook::restore(
            self.config.kiosk_id.clone(),
            self.config.session.site.clone(),
            self.config.tickets.clone(),
            rows.tickets,
        );
        let plan = recovery::plan(&rows.open_sessions);
        let mut recovered_in_doubt = 0;
        for step in plan {
            match step {
                RecoveryStep::NoteInDoubt {
                    session,
                    note,
                    value,
                } => {
                    recovered_in_doubt += 1;
                    self.journal(JournalOp::NoteInDoubt {
                        session,
                        note: Some(note),
                        value: None,
                        cause: InDoubtCause::Recovered(value),
                    });
                }
                RecoveryStep::PaymentPending {
                    session,
                    key,
                    amount,
                } => self.journal(JournalOp::PaymentPending(session, key, amount)),
                RecoveryStep::EndInterrupted { session } => {
                    tracing::warn!(%session, "session interrupted by restart, recovered");
                    self.journal(JournalOp::EndSession(session, SessionOutcome::Interrupted));
                }
            }
        }
        self.session_seq = self.session_seq.max(rows.max_session_seq);
        if self.last_session.is_none() && rows.max_session_seq > 0 {
            // A note the acceptor reports after a restart, outside any
            // session, is journaled in doubt against the last session the
            // journal holds.
            self.last_session = Some(SessionId::new(&self.config.kiosk_id, rows.max_session_seq));
        }
        if recovered_in_doubt == 0
            && self.note_path.in_path().is_none()
            && !rows.last_note_unaccounted
        {
            // A note put in doubt by an earlier start whose report never
            // came (the kiosk died again first) may still be in the path:
            // only the newest note can be. The first status read releases
            // it if the acceptor is idle. A note journaled because the
            // device reported it in the box outside any session never was
            // in the path (a report the last start took but did not live to
            // acknowledge comes again: it must not settle, and credit, that
            // note).
            if let Some(note) = rows.in_doubt.iter().find(|n| Some(n.id) == rows.last_note) {
                self.note_went_in_doubt(note.id, note.value);
            }
        }
        if let Some(tally) = &mut self.recovery {
            tally.interrupted = rows.open_sessions.len() as u32;
            tally.in_doubt = rows.in_doubt.len() as u32 + recovered_in_doubt;
        }
        self.journal(JournalOp::ReadPending);
    }

    /// Ends the wait for the acceptor's word on the note a restart left in
    /// its path once the path slot is empty (the note settled by a report,
    /// or released by the acceptor's empty path), or once the wait has
    /// lasted [`path_report_wait_ms`](super::KioskConfig::path_report_wait_ms):
    /// then the note leaves the slot and stays in doubt for staff, with an
    /// alarm, and cash is offered again.
    pub(super) fn update_path_hold(&mut self) {
        let Some(until) = self.path_hold_until else {
            return;
        };
        match self.note_path.in_path() {
            None => {}
            Some(_) if self.now < until => return,
            Some(path) => {
                self.note_path.forget(path.note);
                self.event(KioskEvent::SecurityAlarm {
                    reason: format!(
                        "the acceptor said nothing for {} ms about note {} left in its path by a restart: it stays in doubt for staff",
                        self.config.path_report_wait_ms, path.note.0
                    ),
                });
            }
        }
        self.path_hold_until = None;
        self.availability.set_awaiting_acceptor(false);
    }

    /// Every pending payment is known: retry them all now and report.
    pub(super) fn finish_recovery(&mut self) {
        let Some(tally) = self.recovery.take() else {
            return;
        };
        self.retries.retry_all_now(self.now);
        if self.note_path.in_path().is_some() {
            // The acceptor's report about that note may come at any time
            // (a driver may deliver it late): no cash session starts until
            // it has come, so no new customer can take it for their own.
            self.path_hold_until = Some(self.now.plus_ms(self.config.path_report_wait_ms));
            self.availability.set_awaiting_acceptor(true);
        }
        self.event(KioskEvent::Recovered {
            interrupted_sessions: tally.interrupted,
            pending_payments: self.retries.len() as u32,
            in_doubt_notes: tally.in_doubt,
        });
        if tally.then_check_health {
            self.check_health();
        }
    }
}
