//! Faults and spares in the engine: a fault breaks a device (and may hit
//! the session in progress as the device would report it); the kiosk's
//! machine detects it and opens its ticket (operations notice a crash, staff
//! report damage); operations respond, fix remotely or dispatch (a spare is
//! requested); the device is repaired and the machine, seeing it healthy,
//! resolves its ticket.

use kiosk_core::events::DeviceKind;
use kiosk_core::machine::kiosk::Input;
use kiosk_core::tickets::TicketKind;
use kiosk_core::StaffCommand;

use super::config::Guidance;
use super::dist::{exp_ms, unit_open};
use super::events::Event;
use super::faults::{FaultKind, FaultScope, Ticket};
use super::report::Switchover;
use super::sim::{Engine, Fault};

/// How long a staff command waits for the session in progress to end.
const COMMAND_RETRY_MS: u64 = 5_000;

/// The device a kind breaks, as the machine names it; `None`: the kiosk
/// software itself (a crash), which the machine cannot detect.
fn device_of(kind: FaultKind) -> Option<DeviceKind> {
    match kind {
        FaultKind::BillJam | FaultKind::AcceptorOffline => Some(DeviceKind::Acceptor),
        FaultKind::CashBoxFull => Some(DeviceKind::CashBox),
        FaultKind::PrinterPaperOut | FaultKind::PrinterJam => Some(DeviceKind::Printer),
        FaultKind::ReaderFailure => Some(DeviceKind::Reader),
        FaultKind::LinkDown => Some(DeviceKind::Link),
        FaultKind::DeviceDamaged => Some(DeviceKind::Kiosk),
        FaultKind::KioskCrash => None,
    }
}

impl Engine<'_> {
    pub(super) fn schedule_fault(&mut self, k: usize, from_ms: u64) {
        let rate: f64 = self.rates_per_ms.iter().sum();
        if rate <= 0.0 {
            return;
        }
        let gap = exp_ms(&mut self.kiosks[k].fault_rng, 1.0 / rate).ceil() as u64;
        if let Some(t) = self.cal.advance_open(from_ms, gap.max(1)) {
            self.queue.push(t, Event::FaultStart { kiosk: k as u16 });
        }
    }

    pub(super) fn draw_kind(&mut self, k: usize) -> FaultKind {
        let total: f64 = self.rates_per_ms.iter().sum();
        let mut x = unit_open(&mut self.kiosks[k].fault_rng) * total;
        for (kind, rate) in FaultKind::ALL.iter().zip(&self.rates_per_ms) {
            if x <= *rate {
                return *kind;
            }
            x -= rate;
        }
        FaultKind::ALL[FaultKind::ALL.len() - 1]
    }

    pub(super) fn start_fault(&mut self, k: usize, kind: FaultKind) {
        let now = self.now;
        if self.kiosks[k].has(kind) {
            self.suppressed += 1;
            return;
        }
        let index = self.faults.len();
        self.faults.push(Fault {
            kiosk: k,
            kind,
            started_ms: now,
            ticket: None,
            repaired: false,
            relink: false,
        });
        self.kiosks[k].actual |= 1 << kind.index();
        self.kiosks[k].open_faults.push(index);
        match kind {
            FaultKind::KioskCrash | FaultKind::DeviceDamaged => {
                if kind == FaultKind::KioskCrash {
                    self.kiosks[k].exec.crash();
                    self.kiosks[k].timer_at = None;
                }
                // The customer at it gives up and goes elsewhere.
                if self.kiosks[k].busy.as_ref().is_some_and(|b| !b.leaving) {
                    if let Some(b) = self.kiosks[k].busy.as_mut() {
                        b.visit = None;
                    }
                    self.walk_away(k);
                }
                let profile = self.profiles[kind.index()];
                let at = now + profile.detection.sample_ms(&mut self.kiosks[k].fault_rng);
                self.queue.push(
                    at,
                    Event::Noticed {
                        fault: index as u32,
                    },
                );
            }
            _ => {
                if let Some(input) = self.kiosks[k].exec.interrupt(kind) {
                    self.feed(k, input);
                }
                self.wake(k);
            }
        }
    }

    /// People notice fault `f`: operations see a crashed kiosk gone silent
    /// (they open its ticket), staff report damage to the kiosk (its
    /// machine opens the ticket).
    pub(super) fn noticed(&mut self, f: usize) {
        let fault = self.faults[f];
        let k = fault.kiosk;
        if fault.repaired || fault.ticket.is_some() {
            return;
        }
        match fault.kind {
            FaultKind::DeviceDamaged => {
                let between_sessions = self.kiosks[k]
                    .exec
                    .machine()
                    .is_some_and(|m| m.wants().commands)
                    && !self.kiosks[k].exec.busy();
                if !between_sessions {
                    self.queue.push(
                        self.now + COMMAND_RETRY_MS,
                        Event::Noticed { fault: f as u32 },
                    );
                    return;
                }
                self.feed(
                    k,
                    Input::Command(StaffCommand::ReportDamage {
                        reporter: "site staff".into(),
                        description: "physical damage".into(),
                    }),
                );
            }
            _ => {
                self.kiosks[k].exec.offers = (false, false);
                self.reindex(k);
                self.detect(f, None);
            }
        }
    }

    /// Kiosk `k`'s machine opened ticket `id` of `kind` on `device`: the
    /// first fault on that device it had not detected yet is detected now.
    /// Other tickets (frequent failures, a slow link, …) are only counted.
    pub(super) fn machine_detected(
        &mut self,
        k: usize,
        id: u64,
        device: DeviceKind,
        kind: TicketKind,
    ) {
        // A fault whose ticket the machine resolved too early is found again.
        let relink = self.kiosks[k].open_faults.iter().copied().find(|f| {
            let fault = &self.faults[*f];
            fault.relink && device_of(fault.kind) == Some(device)
        });
        if let Some(f) = relink {
            self.faults[f].relink = false;
            if let Some(t) = self.faults[f].ticket {
                self.machine_open.insert((k, id), t);
            }
            return;
        }
        let found = self.kiosks[k].open_faults.iter().copied().find(|f| {
            let fault = &self.faults[*f];
            let matches = match kind {
                TicketKind::Device(_) => fault.kind != FaultKind::DeviceDamaged,
                TicketKind::DeviceDamaged => fault.kind == FaultKind::DeviceDamaged,
                _ => false,
            };
            matches && fault.ticket.is_none() && device_of(fault.kind) == Some(device)
        });
        match found {
            Some(f) => self.detect(f, Some(id)),
            None => self.other_tickets += 1,
        }
    }

    /// Opens fault `f`'s ticket now and schedules operations' handling.
    fn detect(&mut self, f: usize, machine_ticket: Option<u64>) {
        let now = self.now;
        let fault = self.faults[f];
        let k = fault.kiosk;
        let profile = self.profiles[fault.kind.index()];
        let index = self.tickets.len();
        let kiosk = &mut self.kiosks[k];
        let ticket = Ticket::open(
            index as u32 + 1,
            kiosk.id.0.clone(),
            fault.kind,
            &profile,
            &self.config.faults,
            fault.started_ms,
            now,
            machine_ticket,
            &mut kiosk.fault_rng,
        );
        kiosk.known_down[ticket.scope.index()] += 1;
        if let Some(at) = ticket.dispatched_ms {
            self.queue.push(
                at,
                Event::Dispatched {
                    ticket: index as u32,
                },
            );
        }
        self.queue.push(
            ticket.resolved_ms,
            Event::Repaired {
                ticket: index as u32,
            },
        );
        let scope = ticket.scope;
        if let Some(id) = machine_ticket {
            self.machine_open.insert((k, id), index);
        }
        self.tickets.push(ticket);
        self.ticket_fault.push(f);
        self.faults[f].ticket = Some(index);
        if scope == FaultScope::Kiosk {
            self.redistribute(k, |_| false);
        }
        self.reindex(k);
    }

    /// What kiosk `k` offers changed (as its machine decided): customers
    /// waiting there who cannot pay there now are sent elsewhere (guided
    /// customers are told; unguided ones only if nothing works there).
    pub(super) fn availability_changed(&mut self, k: usize) {
        self.reindex(k);
        let (cash, code) = self.kiosks[k].offers();
        if !(cash || code) {
            if self.kiosks[k].exec.alive() {
                self.redistribute(k, |_| false);
            }
        } else if self.opts.guidance == Guidance::ShortestExpectedWait {
            self.redistribute(k, |c| c.can_use(cash, code));
        }
    }

    pub(super) fn dispatched(&mut self, t: usize) {
        let k = self.faults[self.ticket_fault[t]].kiosk;
        if self.tickets[t].scope != FaultScope::Kiosk
            || self.kiosks[k].spare
            || self.kiosks[k].covered_by.is_some()
        {
            return;
        }
        let Some(s) = (self.primaries..self.kiosks.len())
            .find(|s| !self.kiosks[*s].in_service && self.kiosks[*s].covering.is_none())
        else {
            return;
        };
        self.kiosks[s].covering = Some(k);
        self.kiosks[k].covered_by = Some(s);
        self.switchovers.push(Switchover {
            spare: self.kiosks[s].id.0.clone(),
            covering: self.kiosks[k].id.0.clone(),
            ticket: self.tickets[t].id,
            requested_ms: self.now,
            in_service_ms: None,
            released_ms: None,
        });
        self.queue.push(
            self.now + self.config.spare_switchover_ms,
            Event::SpareReady { kiosk: s as u16 },
        );
    }

    pub(super) fn spare_ready(&mut self, s: usize) {
        let Some(k) = self.kiosks[s].covering else {
            return;
        };
        let name = self.kiosks[s].id.0.clone();
        let record = self
            .switchovers
            .iter_mut()
            .rev()
            .find(|x| x.spare == name && x.in_service_ms.is_none());
        if self.kiosks[k].known_down[FaultScope::Kiosk.index()] == 0 {
            // Repaired before the spare was ready: stand down.
            self.kiosks[s].covering = None;
            if let Some(r) = record {
                r.released_ms = Some(self.now);
            }
            return;
        }
        if let Some(r) = record {
            r.in_service_ms = Some(self.now);
        }
        self.kiosks[s].in_service = true;
        self.kiosks[s].draining = false;
        self.reindex(s);
        self.rebalance();
    }

    /// Ticket `t`'s device works again; the kiosk finds out the way a
    /// real one does.
    pub(super) fn repaired(&mut self, t: usize) {
        let f = self.ticket_fault[t];
        let fault = self.faults[f];
        let k = fault.kiosk;
        if fault.repaired {
            return;
        }
        if fault.kind == FaultKind::DeviceDamaged {
            // Staff put the kiosk back in service, between sessions.
            let ready = self.kiosks[k]
                .exec
                .machine()
                .is_some_and(|m| m.wants().commands)
                && !self.kiosks[k].exec.busy();
            if !ready {
                self.queue.push(
                    self.now + COMMAND_RETRY_MS,
                    Event::Repaired { ticket: t as u32 },
                );
                return;
            }
        }
        self.faults[f].repaired = true;
        self.kiosks[k].open_faults.retain(|x| *x != f);
        self.kiosks[k].actual &= !(1 << fault.kind.index());
        match fault.kind {
            FaultKind::BillJam | FaultKind::AcceptorOffline if self.kiosks[k].exec.alive() => {
                if let Some(input) = self.kiosks[k].exec.acceptor_repaired(fault.kind) {
                    self.feed(k, input);
                }
            }
            FaultKind::KioskCrash => {
                // Restarted: the new software recovers from its journal.
                self.boot(k);
                self.resolve(t);
                return;
            }
            FaultKind::DeviceDamaged => {
                self.feed(k, Input::Command(StaffCommand::Enable));
                return;
            }
            _ => {}
        }
        self.wake(k);
    }

    /// Kiosk `k`'s machine resolved ticket `id`: the fault it detected is
    /// over, if it was repaired (a ticket the machine resolves while the
    /// device is still broken stays open here until the device works).
    pub(super) fn machine_resolved(&mut self, k: usize, id: u64) {
        let Some(&t) = self.machine_open.get(&(k, id)) else {
            return;
        };
        self.machine_open.remove(&(k, id));
        let f = self.ticket_fault[t];
        if self.faults[f].repaired {
            self.resolve(t);
        } else {
            self.faults[f].relink = true;
        }
    }

    /// Ticket `t` is resolved now.
    fn resolve(&mut self, t: usize) {
        let k = self.faults[self.ticket_fault[t]].kiosk;
        let scope = self.tickets[t].scope;
        self.tickets[t].resolved = true;
        self.tickets[t].resolved_ms = self.now;
        let kiosk = &mut self.kiosks[k];
        kiosk.known_down[scope.index()] = kiosk.known_down[scope.index()].saturating_sub(1);
        if kiosk.known_down[FaultScope::Kiosk.index()] == 0 {
            if let Some(s) = kiosk.covered_by.take() {
                let spare = &mut self.kiosks[s];
                if spare.in_service {
                    spare.draining = true;
                    self.reindex(s);
                    self.pull_next(s);
                } else {
                    spare.covering = None;
                }
            }
        }
        self.reindex(k);
        self.pull_next(k);
        self.rebalance();
    }
}
