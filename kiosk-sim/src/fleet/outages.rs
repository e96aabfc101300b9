//! Faults and spares in the engine: a fault starts (and may hit the session
//! in progress), is detected (the kiosk or a method goes out of service,
//! its queue is sent elsewhere), dispatched (a spare is requested) and
//! resolved.

use kiosk_core::Millis;

use super::config::Guidance;
use super::dist::{exp_ms, unit_open};
use super::events::Event;
use super::faults::{FaultKind, FaultScope, Ticket};
use super::report::Switchover;
use super::sim::Engine;

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
        let profile = self.profiles[kind.index()];
        let id = self.tickets.len() as u32 + 1;
        let kiosk = &mut self.kiosks[k];
        let ticket = Ticket::draw(
            id,
            kiosk.id.0.clone(),
            kind,
            &profile,
            &self.config.faults,
            now,
            &mut kiosk.fault_rng,
        );
        kiosk.actual |= 1 << kind.index();
        let index = self.tickets.len() as u32;
        self.queue
            .push(ticket.detected_ms, Event::Detected { ticket: index });
        if let Some(at) = ticket.dispatched_ms {
            self.queue.push(at, Event::Dispatched { ticket: index });
        }
        self.queue
            .push(ticket.resolved_ms, Event::Resolved { ticket: index });
        self.tickets.push(ticket);
        self.ticket_kiosk.push(k);
        self.hit_session(k, kind);
    }

    /// The fault's effect on the session in progress at `k`, if any.
    pub(super) fn hit_session(&mut self, k: usize, kind: FaultKind) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        let Some(busy) = kiosk.busy.as_mut() else {
            return;
        };
        if busy.leaving {
            return;
        }
        let Some(service) = busy.service.as_mut() else {
            return;
        };
        if matches!(kind, FaultKind::KioskCrash | FaultKind::DeviceDamaged) {
            // The session is cut off; the customer goes elsewhere.
            self.sessions[5] += 1;
            let leave_ms = service.changeover_ms(&self.ctx);
            busy.service = None;
            busy.leaving = true;
            busy.reroute = true;
            kiosk.token = kiosk.token.wrapping_add(1);
            self.queue.push(
                now + leave_ms,
                Event::Leave {
                    kiosk: k as u16,
                    serial: kiosk.serial,
                },
            );
            return;
        }
        if let Some(input) = service.interrupt(kind) {
            kiosk.token = kiosk.token.wrapping_add(1);
            service.pending = None;
            let actions = service.session.handle(input, Millis(now));
            let next = service.react(&actions, &self.ctx, &mut self.tally);
            self.after(k, next);
        }
    }

    pub(super) fn detected(&mut self, t: usize) {
        let k = self.ticket_kiosk[t];
        let scope = self.tickets[t].scope;
        self.kiosks[k].known_down[scope.index()] += 1;
        match scope {
            FaultScope::Kiosk => self.redistribute(k, |_| false),
            FaultScope::Cash | FaultScope::Code
                if self.opts.guidance == Guidance::ShortestExpectedWait =>
            {
                let (cash, code) = self.kiosks[k].offers();
                self.redistribute(k, |c| c.can_use(cash, code));
            }
            _ => {}
        }
    }

    pub(super) fn dispatched(&mut self, t: usize) {
        let k = self.ticket_kiosk[t];
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
        self.rebalance();
    }

    pub(super) fn resolved(&mut self, t: usize) {
        let k = self.ticket_kiosk[t];
        let kind = self.tickets[t].kind;
        let scope = self.tickets[t].scope;
        self.tickets[t].resolved = true;
        let kiosk = &mut self.kiosks[k];
        kiosk.actual &= !(1 << kind.index());
        kiosk.known_down[scope.index()] = kiosk.known_down[scope.index()].saturating_sub(1);
        if kiosk.known_down[FaultScope::Kiosk.index()] == 0 {
            if let Some(s) = kiosk.covered_by.take() {
                let spare = &mut self.kiosks[s];
                if spare.in_service {
                    spare.draining = true;
                    self.pull_next(s);
                } else {
                    spare.covering = None;
                }
            }
        }
        self.pull_next(k);
        self.rebalance();
    }
}
