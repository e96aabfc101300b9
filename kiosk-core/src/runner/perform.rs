//! Performing one machine output: the only place decisions meet I/O.

use std::future::Future;
use std::time::Duration;

use kiosk_hal::{DeviceError, ErrorKind};

use super::{Kiosk, KioskError};
use crate::events::DeviceKind;
use crate::failover::LinkChoice;
use crate::journal::JournalError;
use crate::machine::kiosk::{
    DeviceCall, DeviceReply, InDoubtCause, Input, JournalOp, JournalReply, LinkAnswer, LinkCall,
    LinkReply, LinkSwitches, Output, RecoveryRows,
};

impl Kiosk {
    /// Performs `output`; returns the answer the machine waits for, if any.
    pub(super) async fn perform(&mut self, output: Output) -> Result<Option<Input>, KioskError> {
        Ok(match output {
            Output::Journal(op) => {
                let writes = op.writes();
                let started = std::time::Instant::now();
                let reply = self.apply(op)?;
                if let (true, Some(t)) = (writes, self.journal_timings.as_mut()) {
                    t.write_took(started.elapsed());
                }
                reply.map(Input::Journal)
            }
            Output::Device(call) => Some(Input::Device(self.device(call).await)),
            Output::Link(call) => Some(Input::Link(self.link(call).await)),
            Output::Event(event) => {
                let now = self.clock.now();
                self.observer.on_event(now, &event);
                None
            }
            Output::SwitchToBackupLink => {
                if let Some(f) = &self.failover {
                    if f.switch_to_backup() {
                        tracing::warn!("switched to the backup link");
                    }
                }
                None
            }
            Output::ReadLinkSwitches => {
                let found = match &self.failover {
                    Some(f) => LinkSwitches {
                        switches: f
                            .take_switches()
                            .into_iter()
                            .map(|s| (s.to == LinkChoice::Backup, s.reason))
                            .collect(),
                        on_backup: f.active() == LinkChoice::Backup,
                    },
                    None => LinkSwitches::default(),
                };
                Some(Input::LinkSwitches(found))
            }
            Output::ReadSupervisors => {
                let mut found = Vec::new();
                for (device, report) in &self.supervisors {
                    for e in report.take_events() {
                        found.push((*device, e.reason));
                    }
                }
                Some(Input::Supervisors(found))
            }
        })
    }

    /// Makes one record durable (or reads the journal).
    fn apply(&mut self, op: JournalOp) -> Result<Option<JournalReply>, JournalError> {
        let now = self.clock.now();
        let j = &mut self.journal;
        Ok(match op {
            JournalOp::BeginSession(start) => {
                j.begin_session(&start)?;
                None
            }
            JournalOp::EndSession(session, outcome) => {
                j.end_session(&session, outcome, now)?;
                None
            }
            JournalOp::NoteEscrowed(session, value) => Some(JournalReply::NoteEscrowed(
                j.note_escrowed(&session, value, now)?,
            )),
            JournalOp::NoteStacked(session, note, value) => {
                j.note_stacked(&session, note, value, now)?;
                None
            }
            JournalOp::NoteReturned(note) => {
                j.note_returned(note, now)?;
                None
            }
            JournalOp::NoteRejected(session, reason) => {
                j.note_rejected(&session, reason, now)?;
                None
            }
            JournalOp::NoteInDoubt {
                session,
                note,
                value,
                cause,
            } => Some(JournalReply::NoteInDoubt {
                note: match cause {
                    InDoubtCause::Unaccounted => j.note_unaccounted(&session, value, now)?,
                    InDoubtCause::Session | InDoubtCause::Recovered(_) => {
                        j.note_in_doubt(&session, note, value, now)?
                    }
                },
                value,
                cause,
            }),
            JournalOp::Settle { note, fate, staff } => {
                let settlement = match &staff {
                    None => j.settle_in_doubt(note, fate, now)?,
                    Some(operators) => j.settle_in_doubt_by_staff(note, fate, operators, now)?,
                };
                Some(JournalReply::Settled {
                    note,
                    settlement: Box::new(settlement),
                })
            }
            JournalOp::PaymentPending(session, key, amount) => {
                j.payment_pending(&session, &key, amount, now)?;
                None
            }
            JournalOp::PostingAttempted(key) => {
                let attempt = j.posting_attempted(&key, now)?;
                Some(JournalReply::Attempt(key, attempt))
            }
            JournalOp::PaymentCredited {
                key,
                backend_ref,
                new_balance,
            } => {
                j.payment_credited(&key, &backend_ref, new_balance, now)?;
                None
            }
            JournalOp::PaymentRefused(key, reason) => {
                j.payment_refused(&key, &reason, now)?;
                None
            }
            JournalOp::KeepReceipt(session, receipt) => {
                j.keep_receipt(&session, &receipt, now)?;
                None
            }
            JournalOp::ReceiptReprinted(session) => {
                j.receipt_reprinted(&session, now)?;
                None
            }
            JournalOp::RecordClearing {
                operators,
                counted,
                counted_notes,
                counterfeit_found,
            } => Some(JournalReply::Clearing(Box::new(j.record_clearing(
                now,
                &operators,
                counted,
                counted_notes.as_deref(),
                counterfeit_found,
            )?))),
            JournalOp::SaveTicket(ticket) => {
                j.save_ticket(&ticket)?;
                None
            }
            JournalOp::RecordCommand {
                by,
                command,
                ok,
                result,
            } => {
                j.record_command(now, &by, &command, ok, &result)?;
                None
            }
            JournalOp::RecordSecurityEvent { reason, claimed } => {
                j.record_security_event(now, &reason, claimed.as_deref())?;
                None
            }
            JournalOp::Checkpoint => {
                // A failed checkpoint loses nothing (every commit is already
                // durable in the log); the journal checkpoints by itself as
                // a backstop.
                if let Err(e) = j.checkpoint() {
                    tracing::warn!(error = %e, "journal checkpoint between sessions failed");
                }
                None
            }
            JournalOp::ReadRecovery => Some(JournalReply::Recovery(Box::new(RecoveryRows {
                tickets: j.tickets()?,
                open_sessions: j.open_sessions()?,
                max_session_seq: j.max_session_seq()?,
                in_doubt: j.in_doubt_notes()?,
                last_note: j.last_note()?,
                last_note_unaccounted: j.last_note_unaccounted()?,
            }))),
            JournalOp::ReadPending => Some(JournalReply::Pending(j.pending_payments()?)),
            JournalOp::ReadInDoubt => Some(JournalReply::InDoubt(j.in_doubt_notes()?)),
            JournalOp::ReadUnprinted => Some(JournalReply::Unprinted(j.unprinted_receipts()?)),
        })
    }

    async fn device(&mut self, call: DeviceCall) -> DeviceReply {
        let d = &mut self.devices;
        match call {
            DeviceCall::EnableAcceptor(values) => {
                DeviceReply::Enabled(kind(d.acceptor.enable(&values).await))
            }
            DeviceCall::InhibitAcceptor(p) => {
                DeviceReply::Inhibited(p, kind(d.acceptor.inhibit().await))
            }
            DeviceCall::StackNote => DeviceReply::Stacking(kind(d.acceptor.stack().await)),
            DeviceCall::ReturnNote(p) => {
                DeviceReply::Returning(p, kind(d.acceptor.return_note().await))
            }
            DeviceCall::ResetAcceptor(p) => DeviceReply::Reset(p, kind(d.acceptor.reset().await)),
            DeviceCall::AcceptorStatus(p) => {
                DeviceReply::AcceptorStatus(p, kind(d.acceptor.status().await))
            }
            DeviceCall::CashBoxStatus(p) => {
                DeviceReply::CashBoxStatus(p, kind(d.cash_box.status().await))
            }
            DeviceCall::PrinterStatus(p) => {
                DeviceReply::PrinterStatus(p, kind(d.printer.status().await))
            }
            DeviceCall::Print {
                receipt,
                purpose,
                timeout_ms,
            } => DeviceReply::Printed(
                purpose,
                with_timeout(timeout_ms, d.printer.print(&receipt)).await,
            ),
            DeviceCall::CheckReader(p) => match d.reader.as_mut() {
                Some(reader) => DeviceReply::ReaderChecked(p, kind(reader.check().await)),
                None => DeviceReply::ReaderChecked(p, Err(ErrorKind::Offline)),
            },
            DeviceCall::ReadIdentities => {
                let mut found = vec![
                    (DeviceKind::Acceptor, kind(d.acceptor.identity().await)),
                    (DeviceKind::CashBox, kind(d.cash_box.identity().await)),
                    (DeviceKind::Printer, kind(d.printer.identity().await)),
                ];
                if let Some(reader) = d.reader.as_mut() {
                    found.push((DeviceKind::Reader, kind(reader.identity().await)));
                }
                found.push((DeviceKind::Link, kind(d.link.identity().await)));
                DeviceReply::Identities(found)
            }
        }
    }

    async fn link(&mut self, call: LinkCall) -> LinkReply {
        let started = self.clock.now();
        let link = &mut self.devices.link;
        let answer = match call {
            LinkCall::Lookup {
                account,
                purpose,
                timeout_ms,
            } => LinkAnswer::Lookup(
                purpose,
                with_timeout(timeout_ms, link.lookup_account(&account)).await,
            ),
            LinkCall::Post {
                posting,
                retry,
                timeout_ms,
            } => LinkAnswer::Post {
                answer: with_timeout(timeout_ms, link.post_payment(&posting)).await,
                key: posting.key,
                retry,
            },
            LinkCall::Heartbeat { timeout_ms } => {
                LinkAnswer::Heartbeat(with_timeout(timeout_ms, link.heartbeat()).await)
            }
        };
        LinkReply {
            latency_ms: self.clock.now().since(started),
            answer,
        }
    }
}

fn kind<T>(result: Result<T, DeviceError>) -> Result<T, ErrorKind> {
    result.map_err(|e| e.kind())
}

/// Runs `f` with a timeout of `ms`, mapping both failures to an [`ErrorKind`].
async fn with_timeout<T>(
    ms: u64,
    f: impl Future<Output = Result<T, DeviceError>>,
) -> Result<T, ErrorKind> {
    match tokio::time::timeout(Duration::from_millis(ms), f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.kind()),
        Err(_) => Err(ErrorKind::Timeout),
    }
}
