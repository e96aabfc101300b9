//! Watching the kiosk as a whole: faults and their tickets, the health
//! monitor (transaction failure rate, link latency), link failover and
//! driver supervisors. Detection always comes from what the devices and the
//! backend did, never from being told.

use kiosk_hal::{AcceptorEvent, ErrorKind};

use super::{JournalOp, KioskMachine, LinkSwitches, Output};
use crate::events::{DeviceKind, DeviceWarning, KioskEvent};
use crate::health::{HealthChange, Outcome};
use crate::tickets::{SecurityKind, TicketChange, TicketKind};

/// The supervisor's reason for a successful restart.
const RESTARTED: &str = "restarted";

impl KioskMachine {
    pub(super) fn fault_detected(&mut self, device: DeviceKind, kind: ErrorKind) {
        if self.availability.fault(device, kind) {
            tracing::warn!(?device, %kind, "fault detected");
            self.event(KioskEvent::FaultDetected { device, kind });
            let symptom = format!("{device:?} reports {kind}").to_lowercase();
            self.ticket_for(device, TicketKind::Device(kind), symptom);
        }
    }

    pub(super) fn fault_cleared(&mut self, device: DeviceKind) {
        if self.availability.cleared(device) {
            tracing::info!(?device, "fault cleared");
            self.event(KioskEvent::FaultCleared { device });
            self.resolve_device_tickets(device);
        }
    }

    pub(super) fn warning_raised(&mut self, device: DeviceKind, warning: DeviceWarning) {
        if self.availability.warn(device, warning) {
            tracing::info!(?device, %warning, "warning");
            self.event(KioskEvent::WarningRaised { device, warning });
            let symptom = format!("{device:?} reports {warning}").to_lowercase();
            self.ticket_for(device, TicketKind::Warning(warning), symptom);
        }
    }

    pub(super) fn warning_cleared(&mut self, device: DeviceKind) {
        if let Some(warning) = self.availability.warning_cleared(device) {
            tracing::info!(?device, %warning, "warning cleared");
            self.event(KioskEvent::WarningCleared { device });
            self.ticket_cleared(device, TicketKind::Warning(warning));
        }
    }

    /// Link health from an answer.
    pub(super) fn note_link<T>(&mut self, answer: &Result<T, ErrorKind>) {
        match answer {
            Ok(_) => self.fault_cleared(DeviceKind::Link),
            Err(kind) => self.fault_detected(DeviceKind::Link, *kind),
        }
    }

    /// Persists and reports ticket changes.
    pub(super) fn apply_ticket_changes(&mut self, changes: Vec<TicketChange>) {
        for change in changes {
            let ticket = change.ticket().clone();
            let (id, device, kind, severity) =
                (ticket.id, ticket.device, ticket.kind, ticket.severity);
            let open_ms = ticket
                .resolved_at
                .map(|r| r.since(ticket.opened_at))
                .unwrap_or(0);
            self.journal(JournalOp::SaveTicket(Box::new(ticket)));
            let event = match change {
                TicketChange::Opened(_) => Some(KioskEvent::TicketOpened {
                    ticket: id,
                    device,
                    kind,
                    severity,
                }),
                TicketChange::Escalated(_) => Some(KioskEvent::TicketEscalated {
                    ticket: id,
                    device,
                    kind,
                }),
                TicketChange::Resolved(_) => Some(KioskEvent::TicketResolved {
                    ticket: id,
                    device,
                    kind,
                    open_ms,
                }),
                TicketChange::Updated(_) => None,
            };
            if let Some(event) = event {
                tracing::info!(ticket = %id, ?event, "ticket");
                self.event(event);
            }
        }
    }

    /// Opens (or keeps open) a ticket for `kind` on `device`.
    pub(super) fn ticket_for(&mut self, device: DeviceKind, kind: TicketKind, symptom: String) {
        let changes = self.tickets.fault_detected(device, kind, symptom, self.now);
        self.apply_ticket_changes(changes);
    }

    /// Resolves a ticket of `kind` on `device`, if one is open.
    pub(super) fn ticket_cleared(&mut self, device: DeviceKind, kind: TicketKind) {
        let changes = self.tickets.fault_kind_cleared(device, kind, self.now);
        self.apply_ticket_changes(changes);
    }

    /// Resolves the device's open tickets that a recovery clears.
    fn resolve_device_tickets(&mut self, device: DeviceKind) {
        let kinds: Vec<TicketKind> = self
            .tickets
            .open_tickets()
            .iter()
            .filter(|t| t.device == device && t.kind.cleared_when_device_recovers())
            .map(|t| t.kind)
            .collect();
        for kind in kinds {
            self.ticket_cleared(device, kind);
        }
    }

    /// A security alarm: an event, and a ticket for staff.
    pub(super) fn alarm(&mut self, device: DeviceKind, kind: SecurityKind, reason: String) {
        tracing::error!(%reason, "security alarm");
        self.event(KioskEvent::SecurityAlarm {
            reason: reason.clone(),
        });
        self.ticket_for(device, TicketKind::Security(kind), reason);
    }

    /// Escalations and health windows whose time has come.
    pub(super) fn poll_watch(&mut self) {
        let changes = self.tickets.poll(self.now);
        self.apply_ticket_changes(changes);
        let health = self.health.poll(self.now);
        self.apply_health(health);
    }

    /// A link call's outcome and latency, for link-slow detection.
    pub(super) fn note_link_latency(&mut self, result: Result<(), ErrorKind>, latency_ms: u64) {
        let outcome = match result {
            Ok(()) => Outcome::Ok { latency_ms },
            Err(kind) => Outcome::Err { kind, latency_ms },
        };
        self.last_link_call = self.now;
        let changes = self.health.record(DeviceKind::Link, outcome, self.now);
        // Link up/down is tracked from the answers themselves; keep only
        // what the monitor adds: slowness.
        let changes = changes
            .into_iter()
            .filter(|c| matches!(c, HealthChange::LinkSlow { .. } | HealthChange::LinkFast))
            .collect();
        self.apply_health(changes);
        self.read_link_switches();
    }

    /// An idle heartbeat's answer time: a slow link is called slow after
    /// fewer samples than during a payment (see
    /// [`HealthPolicy::link_slow_probe_samples`](crate::health::HealthPolicy::link_slow_probe_samples)).
    pub(super) fn note_probe_latency(&mut self, latency_ms: u64) {
        self.last_link_call = self.now;
        let changes = self.health.record_probe(latency_ms);
        self.apply_health(changes);
        self.read_link_switches();
    }

    pub(super) fn apply_health(&mut self, changes: Vec<HealthChange>) {
        for change in changes {
            match change {
                HealthChange::FrequentFailures {
                    rate,
                    samples,
                    pattern,
                } => {
                    let rate_pct = (rate * 100.0).round() as u32;
                    tracing::warn!(rate_pct, samples, %pattern, "frequent transaction failures");
                    self.event(KioskEvent::FrequentFailures {
                        rate_pct,
                        samples,
                        pattern: pattern.clone(),
                    });
                    self.ticket_for(
                        DeviceKind::Kiosk,
                        TicketKind::FrequentFailures,
                        format!("{rate_pct}% of the last {samples} payments failed: {pattern}"),
                    );
                }
                HealthChange::FrequentFailuresCleared => {
                    self.ticket_cleared(DeviceKind::Kiosk, TicketKind::FrequentFailures)
                }
                HealthChange::LinkSlow { p50_ms, samples } => {
                    tracing::warn!(p50_ms, samples, "backend link slow");
                    self.event(KioskEvent::LinkSlow { p50_ms });
                    self.ticket_for(
                        DeviceKind::Link,
                        TicketKind::LinkSlow,
                        format!("median answer {p50_ms} ms over {samples} calls"),
                    );
                    if self.has_failover {
                        self.push(Output::SwitchToBackupLink);
                    }
                    self.read_link_switches();
                }
                HealthChange::LinkFast => {
                    self.ticket_cleared(DeviceKind::Link, TicketKind::LinkSlow)
                }
                HealthChange::Degraded { .. } | HealthChange::Recovered { .. } => {}
            }
        }
    }

    fn read_link_switches(&mut self) {
        if self.has_failover {
            self.push(Output::ReadLinkSwitches);
        }
    }

    /// Reports link switches, and keeps a ticket open while traffic runs on
    /// the backup (the primary is still broken even though payments work).
    pub(super) fn on_link_switches(&mut self, found: LinkSwitches) {
        if found.switches.is_empty() {
            return;
        }
        let mut last_reason = String::new();
        for (to_backup, reason) in found.switches {
            last_reason = reason.clone();
            let to = if to_backup { "backup" } else { "primary" };
            self.event(KioskEvent::LinkSwitched {
                to: to.to_string(),
                reason,
            });
        }
        if found.on_backup {
            self.ticket_for(
                DeviceKind::Link,
                TicketKind::PrimaryLinkDown,
                format!("running on the backup link: {last_reason}"),
            );
        } else {
            self.ticket_cleared(DeviceKind::Link, TicketKind::PrimaryLinkDown);
        }
    }

    /// What the driver supervisors did since the last look.
    pub(super) fn on_supervisors(&mut self, found: Vec<(DeviceKind, String)>) {
        for (device, reason) in found {
            tracing::warn!(?device, %reason, "driver supervisor");
            self.event(KioskEvent::DriverRestarted {
                device,
                reason: reason.clone(),
            });
            if reason == RESTARTED {
                self.ticket_cleared(device, TicketKind::DriverFailure);
            } else {
                self.ticket_for(device, TicketKind::DriverFailure, reason);
            }
        }
    }

    /// Device health from what an acceptor event says about the hardware,
    /// in or out of a session.
    pub(super) fn note_device_condition(&mut self, event: &AcceptorEvent) {
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
                    self.alarm(
                        DeviceKind::CashBox,
                        SecurityKind::CashBoxRemoved,
                        "cash box removed outside an authorised clearing".to_string(),
                    );
                    // Nothing goes into a box that is not there.
                    self.availability
                        .disable_unless_disabled("cash box removed: staff called");
                }
            }
            AcceptorEvent::StackerReplaced => self.fault_cleared(DeviceKind::CashBox),
            AcceptorEvent::Fraud { kind } => {
                let reason = format!("fraud attempt at the acceptor: {kind:?}").to_lowercase();
                self.alarm(DeviceKind::Acceptor, SecurityKind::Fraud, reason);
            }
            AcceptorEvent::JamCleared { .. } | AcceptorEvent::PowerUp { .. } => {
                self.fault_cleared(DeviceKind::Acceptor)
            }
            _ => {}
        }
    }
}
