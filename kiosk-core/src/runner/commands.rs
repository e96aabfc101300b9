//! Performing staff and remote commands, between sessions only.

use kiosk_hal::{AccountNumber, FillLevel, PrintOutcome, PrinterStatus, Receipt, ReceiptLine};

use super::{with_timeout, Kiosk, KioskError};
use crate::commands::{DeviceCheck, SelfTestReport, StaffCommand, StaffSettlement};
use crate::events::{DeviceKind, KioskEvent};
use crate::machine::clearing;
use crate::tickets::TicketKind;

impl Kiosk {
    /// Performs one command and reports its result as a [`KioskEvent::CommandDone`].
    pub(super) async fn perform_command(
        &mut self,
        command: StaffCommand,
    ) -> Result<(), KioskError> {
        let name = command.name();
        tracing::info!(command = name, "command");
        let (ok, detail) = match command {
            StaffCommand::Restart => {
                let reset = self.devices.acceptor.reset().await;
                self.recover().await?;
                self.check_health().await;
                match reset {
                    Ok(()) => (true, "devices reset, journal recovered".to_string()),
                    Err(e) => (false, format!("acceptor reset failed: {e}")),
                }
            }
            StaffCommand::SelfTest => {
                let report = self.self_test().await;
                let ok = report.passed();
                let failed: Vec<String> = report
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("{:?}: {}", c.device, c.detail).to_lowercase())
                    .collect();
                self.emit(KioskEvent::SelfTest { report });
                let detail = if ok {
                    "every device passed".to_string()
                } else {
                    format!("failed: {}", failed.join("; "))
                };
                (ok, detail)
            }
            StaffCommand::Disable { reason } => {
                self.availability.set_disabled(Some(reason.clone()));
                (true, format!("out of service: {reason}"))
            }
            StaffCommand::Enable => {
                self.availability.set_disabled(None);
                let now = self.clock.now();
                let changes = self.tickets.fault_kind_cleared(
                    DeviceKind::Kiosk,
                    TicketKind::DeviceDamaged,
                    now,
                );
                self.apply_ticket_changes(changes)?;
                (true, "in service".to_string())
            }
            StaffCommand::PrintTest => match self.print_test().await {
                Ok(PrintOutcome::Printed) => (true, "test receipt printed".to_string()),
                Ok(PrintOutcome::Unknown) => (true, "sent; the printer cannot confirm".to_string()),
                Err(kind) => (false, format!("test receipt failed: {kind}")),
            },
            StaffCommand::ReprintReceipts => self.reprint_receipts().await?,
            StaffCommand::BeginClearing { operators } => self.begin_clearing(operators).await,
            StaffCommand::EndClearing {
                counted,
                counterfeit_found,
                settle,
            } => self.end_clearing(counted, counterfeit_found, &settle)?,
            StaffCommand::ReportDamage {
                reporter,
                description,
            } => {
                self.availability.set_disabled(Some("under repair".into()));
                self.emit(KioskEvent::DamageReported {
                    reporter: reporter.clone(),
                    description: description.clone(),
                });
                self.ticket_for(
                    DeviceKind::Kiosk,
                    TicketKind::DeviceDamaged,
                    format!("{description} (reported by {reporter})"),
                )?;
                (
                    true,
                    format!("out of service: {description} (reported by {reporter})"),
                )
            }
        };
        self.emit(KioskEvent::CommandDone {
            command: name.to_string(),
            ok,
            detail,
        });
        Ok(())
    }

    /// Prints every kept receipt; each one printed with evidence is marked
    /// reprinted, the rest stay kept. Stops at the first that is not.
    async fn reprint_receipts(&mut self) -> Result<(bool, String), KioskError> {
        let kept = self.journal.unprinted_receipts()?;
        let mut done = 0;
        for owed in &kept {
            match self.try_print(&owed.receipt).await {
                Ok(PrintOutcome::Printed) => {
                    let now = self.clock.now();
                    self.journal.receipt_reprinted(&owed.session, now)?;
                    self.emit(KioskEvent::ReceiptReprinted {
                        session: owed.session.clone(),
                    });
                    done += 1;
                }
                Ok(PrintOutcome::Unknown) => {
                    let detail = format!(
                        "{done} of {} reprinted; the printer cannot confirm the next",
                        kept.len()
                    );
                    return Ok((false, detail));
                }
                Err(kind) => {
                    let detail = format!("{done} of {} reprinted: {kind}", kept.len());
                    return Ok((false, detail));
                }
            }
        }
        Ok((true, format!("{done} receipts reprinted")))
    }

    async fn begin_clearing(&mut self, operators: [String; 2]) -> (bool, String) {
        if let Err(refusal) =
            clearing::check_operators(&operators, &self.config.authorised_operators)
        {
            return (false, refusal.to_string());
        }
        if let Err(e) = self.devices.acceptor.inhibit().await {
            tracing::warn!(error = %e, "inhibit for clearing failed");
        }
        self.clearing = Some(operators.clone());
        self.availability
            .set_disabled(Some("cash clearing in progress".into()));
        (
            true,
            format!("clearing opened by {} and {}", operators[0], operators[1]),
        )
    }

    fn end_clearing(
        &mut self,
        counted: kiosk_hal::Money,
        counterfeit_found: u32,
        settle: &[StaffSettlement],
    ) -> Result<(bool, String), KioskError> {
        let Some(operators) = self.clearing.take() else {
            return Ok((false, "refused: no clearing is open".into()));
        };
        // Staff settle in-doubt notes first, so the clearing record reports
        // what is still in doubt after their count. A list that cannot be
        // applied whole is refused whole and leaves the clearing open.
        let in_doubt: Vec<_> = self
            .journal
            .in_doubt_notes()?
            .into_iter()
            .map(|n| n.id)
            .collect();
        if let Err(refusal) = clearing::check_settlements(settle, &in_doubt) {
            self.clearing = Some(operators);
            return Ok((false, refusal.to_string()));
        }
        for s in settle {
            self.settle_note(s.note, s.fate, Some(&operators))?;
        }
        let now = self.clock.now();
        let record = self
            .journal
            .record_clearing(now, &operators, counted, counterfeit_found)?;
        let detail =
            format!(
            "expected {}, counted {}, {} {}; {} counterfeit; {} still pending, {} notes in doubt",
            record.expected,
            record.counted,
            if record.over_short() >= 0 { "over" } else { "short" },
            kiosk_hal::Money::new(record.over_short().abs(), counted.currency),
            record.counterfeit_found,
            record.pending,
            record.in_doubt_notes
        );
        self.emit(KioskEvent::ClearingReport { record });
        self.availability.set_disabled(None);
        Ok((true, detail))
    }

    async fn print_test(&mut self) -> Result<PrintOutcome, kiosk_hal::ErrorKind> {
        let receipt = Receipt {
            reference: "TEST".into(),
            lines: vec![
                ReceiptLine::Bold("PRINTER TEST 打印测试".into()),
                ReceiptLine::Text(format!("Kiosk: {}", self.config.kiosk_id)),
                ReceiptLine::Qr("TEST".into()),
            ],
        };
        self.try_print(&receipt).await
    }

    /// The start-of-day inspection: every device checked, pass or fail each.
    pub async fn self_test(&mut self) -> SelfTestReport {
        let at = self.clock.now();
        let mut checks = Vec::new();
        let probe = AccountNumber(self.config.self_test_account.clone());
        let link = with_timeout(
            self.config.lookup_timeout_ms,
            self.devices.link.lookup_account(&probe),
        )
        .await;
        checks.push(match link {
            // Any answer, even "no such account", proves the backend is reachable.
            Ok(_) => DeviceCheck {
                device: DeviceKind::Link,
                passed: true,
                detail: "backend answered".into(),
            },
            Err(kind) => DeviceCheck {
                device: DeviceKind::Link,
                passed: false,
                detail: format!("no answer: {kind}"),
            },
        });
        checks.push(match self.devices.printer.status().await {
            Ok(PrinterStatus::Ready) => match self.print_test().await {
                Ok(PrintOutcome::Printed) => DeviceCheck {
                    device: DeviceKind::Printer,
                    passed: true,
                    detail: "test receipt printed".into(),
                },
                Ok(PrintOutcome::Unknown) => DeviceCheck {
                    device: DeviceKind::Printer,
                    passed: false,
                    detail: "printed, unconfirmed".into(),
                },
                Err(kind) => DeviceCheck {
                    device: DeviceKind::Printer,
                    passed: false,
                    detail: format!("print failed: {kind}"),
                },
            },
            Ok(status) => DeviceCheck {
                device: DeviceKind::Printer,
                passed: false,
                detail: format!("{status:?}").to_lowercase(),
            },
            Err(e) => DeviceCheck {
                device: DeviceKind::Printer,
                passed: false,
                detail: e.to_string(),
            },
        });
        if let Some(reader) = self.devices.reader.as_mut() {
            checks.push(match reader.check().await {
                Ok(()) => DeviceCheck {
                    device: DeviceKind::Reader,
                    passed: true,
                    detail: "answers".into(),
                },
                Err(e) => DeviceCheck {
                    device: DeviceKind::Reader,
                    passed: false,
                    detail: e.to_string(),
                },
            });
        }
        checks.push(match self.devices.acceptor.status().await {
            Ok(status) => {
                let ok = matches!(
                    status,
                    kiosk_hal::AcceptorStatus::Accepting | kiosk_hal::AcceptorStatus::Inhibited
                );
                DeviceCheck {
                    device: DeviceKind::Acceptor,
                    passed: ok,
                    detail: format!("{status:?}").to_lowercase(),
                }
            }
            Err(e) => DeviceCheck {
                device: DeviceKind::Acceptor,
                passed: false,
                detail: e.to_string(),
            },
        });
        checks.push(match self.devices.cash_box.status().await {
            Ok(s) if !s.present => DeviceCheck {
                device: DeviceKind::CashBox,
                passed: false,
                detail: "not in place".into(),
            },
            Ok(s) => DeviceCheck {
                device: DeviceKind::CashBox,
                passed: s.level != FillLevel::Full,
                detail: match s.contents {
                    Some(c) => format!("{:?}, {} notes", s.level, c.notes).to_lowercase(),
                    None => format!("{:?}", s.level).to_lowercase(),
                },
            },
            Err(e) => DeviceCheck {
                device: DeviceKind::CashBox,
                passed: false,
                detail: e.to_string(),
            },
        });
        SelfTestReport { at, checks }
    }
}
