//! Staff and remote commands, between sessions only. A command runs to its
//! end before the kiosk takes anything else: its result is reported once
//! everything it asked for is done.

use kiosk_hal::{
    AcceptorStatus, AccountAnswer, DeviceIdentity, ErrorKind, FillLevel, Money, PrintOutcome,
    PrinterStatus, Receipt, ReceiptLine,
};

use super::{DeviceCall, DeviceReply, JournalOp, KioskMachine, LinkCall, Output, Purpose};
use crate::commands::{DeviceCheck, SelfTestReport, StaffCommand, StaffSettlement};
use crate::events::{DeviceKind, KioskEvent};
use crate::ids::Millis;
use crate::journal::{
    differences, ClearingRecord, CountLang, InDoubtNote, NoteCount, UnprintedReceipt,
};
use crate::machine::clearing;
use crate::tickets::TicketKind;

/// A command under way and what it has learnt so far.
#[derive(Debug)]
pub(super) enum CommandState {
    /// Done in one step: its result is known.
    Done {
        name: &'static str,
        ok: bool,
        detail: String,
    },
    /// Reset, recovery and a health check.
    Restart {
        reset: Option<Result<(), ErrorKind>>,
    },
    /// Every device checked in turn, and who each device says it is.
    SelfTest {
        at: Millis,
        checks: Vec<DeviceCheck>,
        identities: Vec<(DeviceKind, DeviceIdentity)>,
    },
    /// A test receipt.
    PrintTest {
        result: Option<Result<PrintOutcome, ErrorKind>>,
    },
    /// Reprinting kept receipts, oldest first, stopping at the first failure.
    Reprint {
        owed: Vec<UnprintedReceipt>,
        done: usize,
        stopped: Option<String>,
    },
    /// Closing a clearing: staff settlements, then the record.
    EndClearing {
        operators: [String; 2],
        counted: Money,
        counted_notes: Option<Vec<NoteCount>>,
        counterfeit_found: u32,
        settle: Vec<StaffSettlement>,
        result: Option<(bool, String)>,
    },
}

impl KioskMachine {
    /// A request operations refused for want of valid credentials or
    /// rights: journaled as a security event, and raised as an alarm.
    pub(super) fn refused(&mut self, reason: String, claimed: Option<String>) {
        tracing::warn!(%reason, ?claimed, "request refused: security event");
        self.journal(JournalOp::RecordSecurityEvent {
            reason: reason.clone(),
            claimed,
        });
        self.event(KioskEvent::SecurityAlarm { reason });
    }

    /// Starts performing `command`, given by `by`.
    pub(super) fn begin_command(&mut self, command: StaffCommand, by: Vec<String>) {
        if self.session.is_some() || self.command.is_some() {
            debug_assert!(false, "commands are taken between sessions, one at a time");
            return;
        }
        let name = command.name();
        tracing::info!(command = name, ?by, "command");
        self.command_by = by;
        let state = match command {
            StaffCommand::Restart => {
                self.push(Output::Device(DeviceCall::ResetAcceptor(Purpose::Command)));
                CommandState::Restart { reset: None }
            }
            StaffCommand::SelfTest => {
                self.push(Output::Link(LinkCall::Lookup {
                    account: kiosk_hal::AccountNumber(self.config.self_test_account.clone().into()),
                    purpose: Purpose::Command,
                    timeout_ms: self.config.lookup_timeout_ms,
                }));
                self.push(Output::Device(DeviceCall::PrinterStatus(Purpose::Command)));
                if self.reader_fitted {
                    self.push(Output::Device(DeviceCall::CheckReader(Purpose::Command)));
                }
                self.push(Output::Device(DeviceCall::AcceptorStatus(Purpose::Command)));
                self.push(Output::Device(DeviceCall::CashBoxStatus(Purpose::Command)));
                self.push(Output::Device(DeviceCall::ReadIdentities));
                CommandState::SelfTest {
                    at: self.now,
                    checks: Vec::new(),
                    identities: Vec::new(),
                }
            }
            StaffCommand::Disable { reason } => {
                self.availability.set_disabled(Some(reason.clone()));
                done(name, true, format!("out of service: {reason}"))
            }
            StaffCommand::Enable if self.clearing.is_some() => done(
                name,
                false,
                "refused: a clearing is open; end it to put the kiosk back in service".into(),
            ),
            StaffCommand::Enable => {
                self.availability.set_disabled(None);
                self.ticket_cleared(DeviceKind::Kiosk, TicketKind::DeviceDamaged);
                done(name, true, "in service".into())
            }
            StaffCommand::PrintTest => {
                self.print_test();
                CommandState::PrintTest { result: None }
            }
            StaffCommand::ReprintReceipts => {
                self.journal(JournalOp::ReadUnprinted);
                CommandState::Reprint {
                    owed: Vec::new(),
                    done: 0,
                    stopped: None,
                }
            }
            StaffCommand::BeginClearing { operators } => {
                match clearing::check_operators(&operators, &self.config.authorised_operators) {
                    Err(refusal) => done(name, false, refusal.to_string()),
                    Ok(()) => {
                        self.push(Output::Device(DeviceCall::InhibitAcceptor(
                            Purpose::Command,
                        )));
                        let detail =
                            format!("clearing opened by {} and {}", operators[0], operators[1]);
                        self.clearing = Some(operators);
                        self.availability
                            .set_disabled(Some("cash clearing in progress".into()));
                        done(name, true, detail)
                    }
                }
            }
            StaffCommand::EndClearing {
                counted,
                counted_notes,
                counterfeit_found,
                settle,
            } => {
                // A count by denomination that does not add up is refused
                // before anything is settled: the clearing stays open.
                let count_refused = counted_notes
                    .as_deref()
                    .and_then(|notes| clearing::check_counted_notes(counted, notes).err());
                match (self.clearing.clone(), count_refused) {
                    (None, _) => done(name, false, "refused: no clearing is open".into()),
                    (Some(_), Some(refusal)) => done(name, false, refusal.to_string()),
                    (Some(operators), None) => {
                        // Staff settle in-doubt notes first, so the clearing
                        // record reports what is still in doubt after their count.
                        self.journal(JournalOp::ReadInDoubt);
                        CommandState::EndClearing {
                            operators,
                            counted,
                            counted_notes,
                            counterfeit_found,
                            settle,
                            result: None,
                        }
                    }
                }
            }
            StaffCommand::ReportDamage {
                reporter,
                description,
            } => {
                self.availability.set_disabled(Some("under repair".into()));
                self.event(KioskEvent::DamageReported {
                    reporter: reporter.clone(),
                    description: description.clone(),
                });
                self.ticket_for(
                    DeviceKind::Kiosk,
                    TicketKind::DeviceDamaged,
                    format!("{description} (reported by {reporter})"),
                );
                done(
                    name,
                    true,
                    format!("out of service: {description} (reported by {reporter})"),
                )
            }
        };
        self.command = Some(state);
    }

    fn print_test(&mut self) {
        let receipt = Receipt {
            reference: "TEST".into(),
            lines: vec![
                ReceiptLine::Bold("PRINTER TEST 打印测试".into()),
                ReceiptLine::Text(format!("Kiosk: {}", self.config.kiosk_id)),
                ReceiptLine::Qr("TEST".into()),
            ],
        };
        self.push(Output::Device(DeviceCall::Print {
            receipt: receipt.into(),
            purpose: Purpose::Command,
            timeout_ms: self.config.print_timeout_ms,
        }));
    }

    /// A device's answer to a command's call.
    pub(super) fn command_device_reply(&mut self, reply: DeviceReply) {
        use DeviceReply as R;
        if let R::Printed(_, Err(kind)) = &reply {
            self.fault_detected(DeviceKind::Printer, *kind);
        }
        let Some(mut state) = self.command.take() else {
            tracing::debug!(?reply, "device answer with no command waiting");
            return;
        };
        let mut reprinted = None;
        let mut then_recover = false;
        let mut then_print_test = false;
        match (&mut state, reply) {
            (CommandState::Restart { reset }, R::Reset(_, result)) => {
                *reset = Some(result);
                then_recover = true;
            }
            (CommandState::SelfTest { .. }, R::PrinterStatus(_, Ok(PrinterStatus::Ready))) => {
                then_print_test = true
            }
            (CommandState::SelfTest { identities, .. }, R::Identities(found)) => {
                // A driver that cannot say now leaves its check without one.
                *identities = found
                    .into_iter()
                    .filter_map(|(device, id)| Some((device, id.ok()?)))
                    .collect();
            }
            (CommandState::SelfTest { checks, .. }, reply) => {
                if let Some(check) = self_test_check(reply) {
                    checks.push(check);
                }
            }
            (CommandState::PrintTest { result }, R::Printed(_, printed)) => *result = Some(printed),
            (
                CommandState::Reprint {
                    owed,
                    done,
                    stopped,
                },
                R::Printed(_, printed),
            ) => match printed {
                Ok(PrintOutcome::Printed) => {
                    reprinted = Some(owed[*done].session.clone());
                    *done += 1;
                }
                Ok(PrintOutcome::Unknown) => {
                    *stopped = Some(format!(
                        "{done} of {} reprinted; the printer cannot confirm the next",
                        owed.len()
                    ))
                }
                Err(kind) => *stopped = Some(format!("{done} of {} reprinted: {kind}", owed.len())),
            },
            (_, reply) => tracing::debug!(?reply, "device answer the command does not use"),
        }
        self.command = Some(state);
        if then_recover {
            self.start_recovery(true);
        }
        if then_print_test {
            self.print_test();
        }
        if let Some(session) = reprinted {
            self.journal(JournalOp::ReceiptReprinted(session.clone()));
            self.event(KioskEvent::ReceiptReprinted { session });
            self.reprint_next();
        }
    }

    /// The self-test's link check: any answer, even "no such account",
    /// proves the backend is reachable.
    pub(super) fn self_test_link(&mut self, answer: Result<AccountAnswer, ErrorKind>) {
        if let Some(CommandState::SelfTest { checks, .. }) = self.command.as_mut() {
            checks.push(match answer {
                Ok(_) => check(DeviceKind::Link, true, "backend answered".into()),
                Err(kind) => check(DeviceKind::Link, false, format!("no answer: {kind}")),
            });
        }
    }

    pub(super) fn reprint_owed(&mut self, found: Vec<UnprintedReceipt>) {
        if let Some(CommandState::Reprint { owed, .. }) = self.command.as_mut() {
            *owed = found;
            self.reprint_next();
        }
    }

    fn reprint_next(&mut self) {
        let Some(CommandState::Reprint { owed, done, .. }) = self.command.as_ref() else {
            return;
        };
        if let Some(next) = owed.get(*done) {
            let receipt = next.receipt.clone();
            self.push(Output::Device(DeviceCall::Print {
                receipt: receipt.into(),
                purpose: Purpose::Command,
                timeout_ms: self.config.print_timeout_ms,
            }));
        }
    }

    /// The notes in doubt now: apply staff's settlements whole, or refuse
    /// them whole and leave the clearing open.
    pub(super) fn clearing_in_doubt(&mut self, notes: Vec<InDoubtNote>) {
        let Some(CommandState::EndClearing {
            operators,
            counted,
            counted_notes,
            counterfeit_found,
            settle,
            result,
        }) = self.command.as_mut()
        else {
            return;
        };
        let in_doubt: Vec<_> = notes.into_iter().map(|n| n.id).collect();
        if let Err(refusal) = clearing::check_settlements(settle, &in_doubt) {
            *result = Some((false, refusal.to_string()));
            return;
        }
        let (operators, counted, counted_notes, counterfeit_found, settle) = (
            operators.clone(),
            *counted,
            counted_notes.clone(),
            *counterfeit_found,
            settle.clone(),
        );
        for s in settle {
            self.journal(JournalOp::Settle {
                note: s.note,
                fate: s.fate,
                staff: Some(operators.clone()),
            });
        }
        self.journal(JournalOp::RecordClearing {
            operators,
            counted,
            counted_notes,
            counterfeit_found,
        });
    }

    pub(super) fn clearing_recorded(&mut self, record: ClearingRecord) {
        let detail =
            format!(
            "expected {}, counted {}, {} {}; {} counterfeit; {} still pending, {} notes in doubt",
            record.expected,
            record.counted,
            if record.over_short() >= 0 { "over" } else { "short" },
            Money::new(record.over_short().abs(), record.counted.currency),
            record.counterfeit_found,
            record.pending,
            record.in_doubt_notes
        );
        // Which notes the over/short is made of, when counted by denomination.
        let detail = match differences(&record.notes, CountLang::En) {
            Some(d) if !d.is_empty() => format!("{detail} ({d})"),
            _ => detail,
        };
        // The journal's chain head goes on the record both people sign, so
        // a later edit of the file shows against the paper.
        let detail = match &record.chain_head {
            Some(head) => format!("{detail}; journal chain head {head}"),
            None => detail,
        };
        self.event(KioskEvent::ClearingReport {
            record: Box::new(record),
        });
        self.clearing = None;
        self.availability.set_disabled(None);
        if let Some(CommandState::EndClearing { result, .. }) = self.command.as_mut() {
            *result = Some((true, detail));
        }
    }

    /// Everything the command asked for is done: report its result.
    pub(super) fn finish_command(&mut self) {
        let Some(state) = self.command.take() else {
            return;
        };
        let (name, ok, detail) = match state {
            CommandState::Done { name, ok, detail } => (name, ok, detail),
            CommandState::Restart { reset } => match reset {
                Some(Ok(())) => ("restart", true, "devices reset, journal recovered".into()),
                Some(Err(kind)) => ("restart", false, format!("acceptor reset failed: {kind}")),
                None => (
                    "restart",
                    false,
                    "the acceptor never answered the reset".into(),
                ),
            },
            CommandState::SelfTest {
                at,
                mut checks,
                identities,
            } => {
                checks.sort_by_key(|c| check_order(c.device));
                for c in &mut checks {
                    c.identity = identities
                        .iter()
                        .find(|(device, _)| *device == c.device)
                        .map(|(_, id)| id.clone());
                }
                // The record names each unit checked (the journal keeps the
                // text): which validator, which firmware, passed that day.
                let units: Vec<String> = checks
                    .iter()
                    .filter_map(|c| {
                        let id = c.identity.as_ref().filter(|id| id.is_known())?;
                        let device = format!("{:?}", c.device).to_lowercase();
                        Some(format!("{device}: {id}"))
                    })
                    .collect();
                let report = SelfTestReport { at, checks };
                let ok = report.passed();
                let failed: Vec<String> = report
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("{:?}: {}", c.device, c.detail).to_lowercase())
                    .collect();
                self.event(KioskEvent::SelfTest { report });
                let detail = if ok {
                    "every device passed".to_string()
                } else {
                    format!("failed: {}", failed.join("; "))
                };
                let detail = if units.is_empty() {
                    detail
                } else {
                    format!("{detail}; units: {}", units.join("; "))
                };
                ("self-test", ok, detail)
            }
            CommandState::PrintTest { result } => match result {
                Some(Ok(PrintOutcome::Printed)) => {
                    ("print-test", true, "test receipt printed".into())
                }
                Some(Ok(PrintOutcome::Unknown)) => (
                    "print-test",
                    true,
                    "sent; the printer cannot confirm".into(),
                ),
                Some(Err(kind)) => ("print-test", false, format!("test receipt failed: {kind}")),
                None => ("print-test", false, "the printer never answered".into()),
            },
            CommandState::Reprint { done, stopped, .. } => match stopped {
                Some(detail) => ("reprint-receipts", false, detail),
                None => (
                    "reprint-receipts",
                    true,
                    format!("{done} receipts reprinted"),
                ),
            },
            CommandState::EndClearing { result, .. } => {
                let (ok, detail) =
                    result.unwrap_or((false, "the journal never answered".to_string()));
                ("end-clearing", ok, detail)
            }
        };
        // Who gave it and what came of it, in the journal before anyone is
        // told it is done.
        let by = std::mem::take(&mut self.command_by);
        self.journal(JournalOp::RecordCommand {
            by,
            command: name.to_string(),
            ok,
            result: detail.clone(),
        });
        self.event(KioskEvent::CommandDone {
            command: name.to_string(),
            ok,
            detail,
        });
    }
}

fn done(name: &'static str, ok: bool, detail: String) -> CommandState {
    CommandState::Done { name, ok, detail }
}

fn check(device: DeviceKind, passed: bool, detail: String) -> DeviceCheck {
    DeviceCheck {
        device,
        passed,
        detail,
        identity: None,
    }
}

/// The order checks are reported in: as the inspection walks the kiosk.
fn check_order(device: DeviceKind) -> u8 {
    match device {
        DeviceKind::Link => 0,
        DeviceKind::Printer => 1,
        DeviceKind::Reader => 2,
        DeviceKind::Acceptor => 3,
        DeviceKind::CashBox => 4,
        _ => 5,
    }
}

/// One self-test check from a device's answer.
fn self_test_check(reply: DeviceReply) -> Option<DeviceCheck> {
    use DeviceReply as R;
    Some(match reply {
        R::Printed(_, Ok(PrintOutcome::Printed)) => {
            check(DeviceKind::Printer, true, "test receipt printed".into())
        }
        R::Printed(_, Ok(PrintOutcome::Unknown)) => {
            check(DeviceKind::Printer, false, "printed, unconfirmed".into())
        }
        R::Printed(_, Err(kind)) => {
            check(DeviceKind::Printer, false, format!("print failed: {kind}"))
        }
        R::PrinterStatus(_, Ok(status)) => check(
            DeviceKind::Printer,
            false,
            format!("{status:?}").to_lowercase(),
        ),
        R::PrinterStatus(_, Err(kind)) => check(DeviceKind::Printer, false, kind.to_string()),
        R::ReaderChecked(_, Ok(())) => check(DeviceKind::Reader, true, "answers".into()),
        R::ReaderChecked(_, Err(kind)) => check(DeviceKind::Reader, false, kind.to_string()),
        R::AcceptorStatus(_, Ok(status)) => check(
            DeviceKind::Acceptor,
            matches!(
                status,
                AcceptorStatus::Accepting | AcceptorStatus::Inhibited
            ),
            format!("{status:?}").to_lowercase(),
        ),
        R::AcceptorStatus(_, Err(kind)) => check(DeviceKind::Acceptor, false, kind.to_string()),
        R::CashBoxStatus(_, Ok(s)) if !s.present => {
            check(DeviceKind::CashBox, false, "not in place".into())
        }
        R::CashBoxStatus(_, Ok(s)) => check(
            DeviceKind::CashBox,
            s.level != FillLevel::Full,
            match s.contents {
                Some(c) => format!("{:?}, {} notes", s.level, c.notes).to_lowercase(),
                None => format!("{:?}", s.level).to_lowercase(),
            },
        ),
        R::CashBoxStatus(_, Err(kind)) => check(DeviceKind::CashBox, false, kind.to_string()),
        _ => return None,
    })
}
