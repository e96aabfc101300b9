//! Device health between sessions: detection from status, never from being told.

use kiosk_hal::{AcceptorStatus, ErrorKind, FillLevel, PrinterStatus};

use super::{with_timeout, Kiosk};
use crate::events::DeviceKind;
use crate::machine::retry::{RetryPolicy, Waits};

impl Kiosk {
    /// Reads every device's status once and updates the fault set.
    pub(super) async fn check_health(&mut self) {
        let now = self.clock.now();
        self.next_health_at = now.plus_ms(self.config.health_check_interval_ms);

        match self.devices.printer.status().await {
            Ok(status) => match printer_fault(status) {
                Some(kind) => self.fault_detected(DeviceKind::Printer, kind),
                None => self.fault_cleared(DeviceKind::Printer),
            },
            Err(e) => self.fault_detected(DeviceKind::Printer, e.kind()),
        }

        self.check_cash_box().await;

        if let Some(reader) = self.devices.reader.as_mut() {
            let result = reader.check().await;
            match result {
                Ok(()) => self.fault_cleared(DeviceKind::Reader),
                Err(e) => self.fault_detected(DeviceKind::Reader, e.kind()),
            }
        }

        if self.note_path.in_path().is_some() {
            self.check_note_path().await;
        }

        let probe_ms = self.config.link_probe_interval_ms;
        if probe_ms > 0 && now.since(self.last_link_call) >= probe_ms {
            self.probe_link().await;
        }

        if self.availability.fault_of(DeviceKind::Acceptor).is_none() {
            self.reset_backoff = None;
        } else if self
            .reset_backoff
            .as_ref()
            .is_none_or(|(next_at, _)| now >= *next_at)
        {
            // The driver recovers by itself where it can; a reset helps it
            // along, tried again with doubling intervals up to the maximum.
            let mut waits = match self.reset_backoff.take() {
                Some((_, waits)) => waits,
                None => Waits::new(RetryPolicy {
                    initial_ms: self.config.retry_initial_ms,
                    max_ms: self.config.retry_max_ms,
                }),
            };
            let wait_ms = waits.next_ms();
            self.reset_backoff = Some((now.plus_ms(wait_ms), waits));
            let result = match self.devices.acceptor.reset().await {
                Ok(()) => "reset accepted".to_string(),
                Err(e) => format!("reset failed: {e}"),
            };
            let now = self.clock.now();
            let changes = self
                .tickets
                .remote_fix_tried(DeviceKind::Acceptor, "reset", result, now);
            if let Err(e) = self.apply_ticket_changes(changes) {
                self.deferred_error.get_or_insert(e);
            }
        }
        if let Err(e) = self.report_supervisors() {
            self.deferred_error.get_or_insert(e);
        }
    }
}

impl Kiosk {
    /// The idle heartbeat: a dead link takes the kiosk's methods off the
    /// welcome screen before a customer tries; its latency feeds link-slow
    /// detection; a link that answers again makes pending payments due now.
    async fn probe_link(&mut self) {
        let started = self.clock.now();
        let answer = with_timeout(
            self.config.link_probe_timeout_ms,
            self.devices.link.heartbeat(),
        )
        .await;
        let now = self.clock.now();
        let was_down = self.availability.fault_of(DeviceKind::Link).is_some();
        self.availability
            .set_link_unreachable(super::unreachable(&answer));
        match answer {
            Ok(()) => {
                self.fault_cleared(DeviceKind::Link);
                if was_down {
                    self.retries.retry_all_now(now);
                }
            }
            Err(kind) => self.fault_detected(DeviceKind::Link, kind),
        }
        if let Err(e) = self.note_link_latency(answer, now.since(started)) {
            self.deferred_error.get_or_insert(e);
        }
    }

    /// An in-doubt note may still be in the acceptor's path: ask the device.
    /// An idle acceptor has none (the note stays in doubt for staff); one
    /// that still holds a note in escrow outside any session gives it back,
    /// and its `Returned` report settles the note.
    async fn check_note_path(&mut self) {
        match self.devices.acceptor.status().await {
            Ok(AcceptorStatus::Escrow) => {
                if let Err(e) = self.devices.acceptor.return_note().await {
                    tracing::warn!(error = %e, "return of a note left in escrow failed");
                }
            }
            Ok(status) => {
                let decision = self.note_path.on_status(status);
                if let Err(e) = self.apply_path_decision(decision) {
                    self.deferred_error.get_or_insert(e);
                }
            }
            Err(e) => tracing::debug!(error = %e, "acceptor status unavailable"),
        }
    }

    /// Reads the cash box's presence and fill level (between sessions, and
    /// after every stacked note so near-full is reported at once).
    pub(super) async fn check_cash_box(&mut self) {
        match self.devices.cash_box.status().await {
            Ok(s) if !s.present => self.fault_detected(DeviceKind::CashBox, ErrorKind::Removed),
            Ok(s) if s.level == FillLevel::Full => {
                self.fault_detected(DeviceKind::CashBox, ErrorKind::Full)
            }
            Ok(s) if s.level == FillLevel::NearFull => {
                self.fault_detected(DeviceKind::CashBox, ErrorKind::NearFull)
            }
            Ok(_) => self.fault_cleared(DeviceKind::CashBox),
            Err(e) => self.fault_detected(DeviceKind::CashBox, e.kind()),
        }
    }
}

/// The fault a printer status means, if any. Near-end is not a fault for
/// printing but is reported so paper is replenished before it runs out.
fn printer_fault(status: PrinterStatus) -> Option<ErrorKind> {
    match status {
        PrinterStatus::Ready | PrinterStatus::Unknown => None,
        PrinterStatus::PaperNearEnd => Some(ErrorKind::PaperLow),
        PrinterStatus::PaperOut => Some(ErrorKind::PaperOut),
        PrinterStatus::CoverOpen => Some(ErrorKind::CoverOpen),
        PrinterStatus::Jammed => Some(ErrorKind::Jam),
        PrinterStatus::Offline => Some(ErrorKind::Offline),
        _ => Some(ErrorKind::Hardware),
    }
}
