//! The customer flow in the engine: arrival, choosing a kiosk, queuing,
//! the session at the kiosk, leaving or trying another kiosk.

use kiosk_core::journal::SessionOutcome;
use kiosk_hal::PaymentMethod;

use super::config::Guidance;
use super::customer::{Act, Visit};
use super::events::Event;
use super::guidance::{choose, Choice};
use super::kiosk::{Busy, Customer};
use super::sim::Engine;
use super::stats::{CustomerRecord, Fate};
use crate::rng::SimRng;

impl Engine<'_> {
    pub(super) fn arrival(&mut self) {
        if let Some(t) = self.arrivals.next_after(&self.cal, self.now) {
            self.queue.push(t, Event::Arrival);
        }
        let rng = self.arrivals.rng();
        let seed = rng.next_u64();
        let wants = if rng.chance(self.config.customers.cash_share) {
            PaymentMethod::Cash
        } else {
            PaymentMethod::Code
        };
        let flexible = rng.chance(self.config.customers.flexible_share);
        let customer = Customer {
            id: self.records.len() as u32,
            arrival_ms: self.now,
            seed,
            wants,
            flexible,
            reroutes: 0,
        };
        self.records.push(CustomerRecord {
            arrival_ms: self.now,
            rush: self.cal.in_rush(self.now),
            queue_len: None,
            estimate_ms: None,
            first_start_ms: None,
            wait_ms: None,
            fate: Fate::InSite,
        });
        if !self.place(customer, None) {
            self.records[customer.id as usize].fate = Fate::TurnedAway;
        }
    }

    /// Sends `c` to a kiosk; false if none can take them.
    pub(super) fn place(&mut self, c: Customer, exclude: Option<usize>) -> bool {
        let policy = self.opts.guidance;
        let queue_max = self.config.queue_max as usize;
        let Some(Choice { kiosk, estimate_ms }) = choose(
            policy,
            &self.kiosks,
            &mut self.index,
            &c,
            exclude,
            self.now,
            queue_max,
            &mut self.choice_rng,
        ) else {
            return false;
        };
        let record = &mut self.records[c.id as usize];
        if record.queue_len.is_none() {
            record.queue_len = Some(self.kiosks[kiosk].queue.len() as u32);
            record.estimate_ms = estimate_ms;
        }
        self.join(kiosk, c);
        true
    }

    pub(super) fn join(&mut self, k: usize, c: Customer) {
        if self.kiosks[k].busy.is_none() && self.kiosks[k].queue.is_empty() {
            self.start(k, c);
        } else {
            self.kiosks[k].queue.push_back(c);
            self.waiting_delta(1);
            self.reindex(k);
        }
    }

    /// The customer steps up to kiosk `k`.
    pub(super) fn start(&mut self, k: usize, c: Customer) {
        let now = self.now;
        self.records[c.id as usize]
            .first_start_ms
            .get_or_insert(now);
        let kiosk = &mut self.kiosks[k];
        kiosk.serial = kiosk.serial.wrapping_add(1);
        kiosk.token = kiosk.token.wrapping_add(1);
        let visit = if kiosk.dead() {
            None
        } else {
            Some(Visit::start(&self.ctx, c.seed, c.wants, c.flexible))
        };
        let entry_ms = visit.as_ref().map(|(_, ms)| *ms);
        kiosk.busy = Some(Busy {
            customer: c,
            started_ms: now,
            visit: visit.map(|(v, _)| v),
            act: Some(Act::EnterAccount),
            entered: false,
            session_seen: false,
            outcome: None,
            leaving: false,
            reroute: false,
        });
        match entry_ms {
            Some(ms) => self.queue.push(
                now + ms,
                Event::Step {
                    kiosk: k as u16,
                    token: kiosk.token,
                },
            ),
            // A dead screen: the customer notices and walks away.
            None => self.walk_away(k),
        }
        self.reindex(k);
    }

    /// The customer at `k` leaves without being served and tries another
    /// kiosk.
    pub(super) fn walk_away(&mut self, k: usize) {
        let kiosk = &mut self.kiosks[k];
        kiosk.token = kiosk.token.wrapping_add(1);
        let serial = kiosk.serial;
        let Some(busy) = kiosk.busy.as_mut() else {
            return;
        };
        busy.leaving = true;
        busy.reroute = true;
        let mut rng = SimRng::new(busy.customer.seed ^ 0xDEAD);
        let leave_ms = self.ctx.changeover_ms(&mut rng);
        self.queue.push(
            self.now + leave_ms,
            Event::Leave {
                kiosk: k as u16,
                serial,
            },
        );
    }

    /// The session at `k` has ended, as the machine journaled it: the
    /// customer takes their receipt and leaves.
    pub(super) fn session_ended(&mut self, k: usize, outcome: SessionOutcome) {
        let kiosk = &mut self.kiosks[k];
        let serial = kiosk.serial;
        let Some(busy) = kiosk.busy.as_mut().filter(|b| !b.leaving) else {
            return;
        };
        let Some(visit) = busy.visit.as_mut() else {
            return;
        };
        kiosk.token = kiosk.token.wrapping_add(1);
        busy.outcome = Some(outcome);
        busy.leaving = true;
        busy.reroute = outcome == SessionOutcome::NoPayment && !visit.voluntary_end;
        let leave_ms = self.ctx.changeover_ms(&mut visit.rng);
        self.queue.push(
            self.now + leave_ms,
            Event::Leave {
                kiosk: k as u16,
                serial,
            },
        );
    }

    pub(super) fn leave(&mut self, k: usize, serial: u32) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if kiosk.serial != serial || !kiosk.busy.as_ref().is_some_and(|b| b.leaving) {
            return;
        }
        let Some(busy) = kiosk.busy.take() else {
            return;
        };
        let c = busy.customer;
        if busy.visit.is_some() {
            let ms = now - busy.started_ms;
            kiosk.observe_service(ms);
            self.service_ms.push(ms);
            if !busy.reroute {
                let record = &mut self.records[c.id as usize];
                record.wait_ms = Some(busy.started_ms - c.arrival_ms);
                record.fate = Fate::Served(busy.outcome.unwrap_or(SessionOutcome::Interrupted));
            }
        }
        self.reindex(k);
        if busy.reroute {
            self.reroute(c, k);
        }
        self.pull_next(k);
    }

    /// `c` must try another kiosk than `from`.
    pub(super) fn reroute(&mut self, mut c: Customer, from: usize) {
        if c.reroutes >= self.config.reroute_max {
            self.records[c.id as usize].fate = Fate::GaveUp;
            return;
        }
        c.reroutes += 1;
        self.rerouted += 1;
        if !self.place(c, Some(from)) {
            self.records[c.id as usize].fate = Fate::GaveUp;
        }
    }

    /// The next customer in `k`'s queue steps up, if the kiosk is free.
    pub(super) fn pull_next(&mut self, k: usize) {
        let kiosk = &mut self.kiosks[k];
        if kiosk.busy.is_some() {
            return;
        }
        if let Some(c) = kiosk.queue.pop_front() {
            self.waiting_delta(-1);
            self.start(k, c);
        } else if kiosk.spare && kiosk.draining {
            self.index.remove(k);
            // Its kiosk is back and its queue is served: back to standby.
            kiosk.in_service = false;
            kiosk.draining = false;
            kiosk.covering = None;
            let name = kiosk.id.0.clone();
            if let Some(s) = self
                .switchovers
                .iter_mut()
                .rev()
                .find(|s| s.spare == name && s.released_ms.is_none())
            {
                s.released_ms = Some(self.now);
            }
            self.reindex(k);
        }
    }

    /// Sends everyone waiting at `k` that `keep` rejects to other kiosks.
    pub(super) fn redistribute(&mut self, k: usize, keep: impl Fn(&Customer) -> bool) {
        let mut moving = std::mem::take(&mut self.scratch);
        let queue = &mut self.kiosks[k].queue;
        let before = queue.len();
        moving.extend(queue.iter().filter(|c| !keep(c)));
        queue.retain(|c| keep(c));
        let moved = before - queue.len();
        self.waiting_delta(-(moved as i64));
        self.reindex(k);
        for c in moving.drain(..) {
            if !self.place(c, Some(k)) {
                self.records[c.id as usize].fate = Fate::GaveUp;
            }
        }
        self.scratch = moving;
    }

    /// Guided only: moves customers from the back of long queues to a kiosk
    /// where they would wait clearly less (after a spare comes in or a kiosk
    /// is back).
    pub(super) fn rebalance(&mut self) {
        if self.opts.guidance != Guidance::ShortestExpectedWait {
            return;
        }
        let margin_ms = 30_000.0;
        for _ in 0..self.waiting {
            let now = self.now;
            let from = (0..self.kiosks.len())
                .filter(|i| !self.kiosks[*i].queue.is_empty())
                .max_by(|a, b| {
                    self.kiosks[*a]
                        .expected_wait_ms(now)
                        .total_cmp(&self.kiosks[*b].expected_wait_ms(now))
                        .then(b.cmp(a))
                });
            let Some(from) = from else { return };
            let Some(c) = self.kiosks[from].queue.pop_back() else {
                return;
            };
            self.reindex(from);
            let stay_ms = self.kiosks[from].expected_wait_ms(now);
            let queue_max = self.config.queue_max as usize;
            match choose(
                Guidance::ShortestExpectedWait,
                &self.kiosks,
                &mut self.index,
                &c,
                Some(from),
                now,
                queue_max,
                &mut self.choice_rng,
            ) {
                Some(Choice {
                    kiosk,
                    estimate_ms: Some(e),
                }) if (e as f64) + margin_ms < stay_ms => {
                    self.waiting_delta(-1);
                    self.join(kiosk, c);
                }
                _ => {
                    self.kiosks[from].queue.push_back(c);
                    self.reindex(from);
                    return;
                }
            }
        }
    }
}
