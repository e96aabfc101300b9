//! Watching the kiosk as a whole: fault tickets, the health monitor
//! (transaction failure rate, link latency), link failover and driver
//! supervisors. Detection always comes from what the devices and the
//! backend did, never from being told.

use kiosk_hal::ErrorKind;

use super::{Kiosk, KioskError};
use crate::events::{DeviceKind, KioskEvent};
use crate::failover::{FailoverHandle, LinkChoice};
use crate::health::{HealthChange, Outcome};
use crate::journal::SessionOutcome;
use crate::supervise::SupervisorReport;
use crate::tickets::{TicketBook, TicketChange, TicketKind};

impl Kiosk {
    /// Lets the kiosk switch the link to its backup when the health monitor
    /// sees sustained slowness, and report switches.
    pub fn set_failover(&mut self, handle: FailoverHandle) {
        self.failover = Some(handle);
    }

    /// Reports restarts of a supervised driver as events and faults.
    pub fn watch_supervisor(&mut self, device: DeviceKind, report: SupervisorReport) {
        self.supervisors.push((device, report));
    }

    /// The fault tickets (open and recently resolved).
    pub fn tickets(&self) -> &TicketBook {
        &self.tickets
    }

    /// Persists and reports ticket changes.
    pub(super) fn apply_ticket_changes(
        &mut self,
        changes: Vec<TicketChange>,
    ) -> Result<(), KioskError> {
        for change in changes {
            let ticket = change.ticket().clone();
            self.journal.save_ticket(&ticket)?;
            let (id, device, kind) = (ticket.id, ticket.device, ticket.kind);
            let event = match change {
                TicketChange::Opened(_) => Some(KioskEvent::TicketOpened {
                    ticket: id,
                    device,
                    kind,
                    severity: ticket.severity,
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
                    open_ms: ticket
                        .resolved_at
                        .map(|r| r.since(ticket.opened_at))
                        .unwrap_or(0),
                }),
                TicketChange::Updated(_) => None,
            };
            if let Some(event) = event {
                tracing::info!(ticket = %id, ?event, "ticket");
                self.emit(event);
            }
        }
        Ok(())
    }

    /// Opens (or keeps open) a ticket for `kind` on `device`.
    pub(super) fn ticket_for(
        &mut self,
        device: DeviceKind,
        kind: TicketKind,
        symptom: String,
    ) -> Result<(), KioskError> {
        let now = self.clock.now();
        let changes = self.tickets.fault_detected(device, kind, symptom, now);
        self.apply_ticket_changes(changes)
    }

    /// Resolves the device's open tickets that a recovery clears.
    pub(super) fn resolve_device_tickets(&mut self, device: DeviceKind) -> Result<(), KioskError> {
        let now = self.clock.now();
        let kinds: Vec<TicketKind> = self
            .tickets
            .open_tickets()
            .iter()
            .filter(|t| t.device == device && t.kind.cleared_when_device_recovers())
            .map(|t| t.kind)
            .collect();
        for kind in kinds {
            let changes = self.tickets.fault_kind_cleared(device, kind, now);
            self.apply_ticket_changes(changes)?;
        }
        Ok(())
    }

    /// Escalations and health windows whose time has come.
    pub(super) fn poll_watch(&mut self) -> Result<(), KioskError> {
        let now = self.clock.now();
        let changes = self.tickets.poll(now);
        self.apply_ticket_changes(changes)?;
        let health = self.health.poll(now);
        self.apply_health(health)
    }

    /// A finished session, for the transaction failure rate.
    pub(super) fn note_transaction(&mut self, outcome: SessionOutcome) -> Result<(), KioskError> {
        let (ok, detail) = match outcome {
            SessionOutcome::Credited => (true, "credited"),
            SessionOutcome::Pending => (false, "pending"),
            SessionOutcome::Refused => (false, "refused"),
            SessionOutcome::Aborted => (false, "aborted"),
            SessionOutcome::Interrupted => (false, "interrupted"),
            // Nothing was taken: not a transaction that failed.
            SessionOutcome::NoPayment => return Ok(()),
        };
        let now = self.clock.now();
        let changes = self.health.record_transaction(ok, detail, now);
        self.apply_health(changes)
    }

    /// A link call's outcome and latency, for link-slow detection.
    pub(super) fn note_link_latency(
        &mut self,
        result: Result<(), ErrorKind>,
        latency_ms: u64,
    ) -> Result<(), KioskError> {
        let outcome = match result {
            Ok(()) => Outcome::Ok { latency_ms },
            Err(kind) => Outcome::Err { kind, latency_ms },
        };
        let now = self.clock.now();
        self.last_link_call = now;
        let changes = self.health.record(DeviceKind::Link, outcome, now);
        // Link up/down is tracked from the answers themselves; keep only
        // what the monitor adds: slowness.
        let changes = changes
            .into_iter()
            .filter(|c| matches!(c, HealthChange::LinkSlow { .. } | HealthChange::LinkFast))
            .collect();
        self.apply_health(changes)?;
        self.report_link_switches()
    }

    fn apply_health(&mut self, changes: Vec<HealthChange>) -> Result<(), KioskError> {
        for change in changes {
            match change {
                HealthChange::FrequentFailures {
                    rate,
                    samples,
                    pattern,
                } => {
                    let rate_pct = (rate * 100.0).round() as u32;
                    tracing::warn!(rate_pct, samples, %pattern, "frequent transaction failures");
                    self.emit(KioskEvent::FrequentFailures {
                        rate_pct,
                        samples,
                        pattern: pattern.clone(),
                    });
                    self.ticket_for(
                        DeviceKind::Kiosk,
                        TicketKind::FrequentFailures,
                        format!("{rate_pct}% of the last {samples} payments failed: {pattern}"),
                    )?;
                }
                HealthChange::FrequentFailuresCleared => {
                    let now = self.clock.now();
                    let changes = self.tickets.fault_kind_cleared(
                        DeviceKind::Kiosk,
                        TicketKind::FrequentFailures,
                        now,
                    );
                    self.apply_ticket_changes(changes)?;
                }
                HealthChange::LinkSlow { p50_ms, samples } => {
                    tracing::warn!(p50_ms, samples, "backend link slow");
                    self.emit(KioskEvent::LinkSlow { p50_ms });
                    self.ticket_for(
                        DeviceKind::Link,
                        TicketKind::LinkSlow,
                        format!("median answer {p50_ms} ms over {samples} calls"),
                    )?;
                    if let Some(f) = &self.failover {
                        if f.switch_to_backup() {
                            tracing::warn!("switched to the backup link");
                        }
                    }
                    self.report_link_switches()?;
                }
                HealthChange::LinkFast => {
                    let now = self.clock.now();
                    let changes = self.tickets.fault_kind_cleared(
                        DeviceKind::Link,
                        TicketKind::LinkSlow,
                        now,
                    );
                    self.apply_ticket_changes(changes)?;
                }
                HealthChange::Degraded { .. } | HealthChange::Recovered { .. } => {}
            }
        }
        Ok(())
    }

    /// Reports link switches, and keeps a ticket open while traffic runs on
    /// the backup (the primary is still broken even though payments work).
    fn report_link_switches(&mut self) -> Result<(), KioskError> {
        let Some(f) = self.failover.clone() else {
            return Ok(());
        };
        let switches = f.take_switches();
        if switches.is_empty() {
            return Ok(());
        }
        let mut last_reason = String::new();
        for s in switches {
            last_reason = s.reason.clone();
            self.emit(KioskEvent::LinkSwitched {
                to: format!("{:?}", s.to).to_lowercase(),
                reason: s.reason,
            });
        }
        match f.active() {
            LinkChoice::Backup => self.ticket_for(
                DeviceKind::Link,
                TicketKind::PrimaryLinkDown,
                format!("running on the backup link: {last_reason}"),
            ),
            LinkChoice::Primary => {
                let now = self.clock.now();
                let changes = self.tickets.fault_kind_cleared(
                    DeviceKind::Link,
                    TicketKind::PrimaryLinkDown,
                    now,
                );
                self.apply_ticket_changes(changes)
            }
        }
    }

    /// Restarts the supervisors made since the last look.
    pub(super) fn report_supervisors(&mut self) -> Result<(), KioskError> {
        let mut found = Vec::new();
        for (device, report) in &self.supervisors {
            for e in report.take_events() {
                found.push((*device, e.reason));
            }
        }
        for (device, reason) in found {
            tracing::warn!(?device, %reason, "driver supervisor");
            self.emit(KioskEvent::DriverRestarted {
                device,
                reason: reason.clone(),
            });
            if reason == RESTARTED {
                let now = self.clock.now();
                let changes =
                    self.tickets
                        .fault_kind_cleared(device, TicketKind::DriverFailure, now);
                self.apply_ticket_changes(changes)?;
            } else {
                self.ticket_for(device, TicketKind::DriverFailure, reason)?;
            }
        }
        Ok(())
    }
}

/// The supervisor's reason for a successful restart.
const RESTARTED: &str = "restarted";
