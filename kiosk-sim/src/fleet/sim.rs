//! The discrete-event engine: one site, its kiosks, customers and faults.
//!
//! It pops events in (time, sequence) order and reacts; see the module docs
//! of [`super`] for the model. All randomness comes from streams forked off
//! the run's seed by name: `arrivals` (gaps and who the customers are),
//! `choice` (unguided customers' picks), `faults-<kiosk>` (fault times,
//! kinds and handling), and each customer's own seed for their session.

use kiosk_core::{KioskId, Millis};
use kiosk_hal::PaymentMethod;

use super::arrivals::{Arrivals, Calendar};
use super::config::{Guidance, SiteConfig, DAY_MS};
use super::dist::exp_ms;
use super::events::{Event, EventQueue};
use super::faults::{FaultKind, FaultProfile, FaultScope, Ticket};
use super::guidance::{choose, Choice};
use super::kiosk::{Busy, Customer, Kiosk};
use super::report::{SiteReport, Switchover};
use super::service::{Service, ServiceContext, Step, Tally};
use super::stats::{CustomerRecord, Fate};
use crate::rng::SimRng;

/// A fault injected at a given time (drills).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForcedFault {
    pub(crate) kiosk: usize,
    pub(crate) at_ms: u64,
    pub(crate) kind: FaultKind,
}

/// What varies between the runs of one drill.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunOptions {
    pub(crate) guidance: Guidance,
    pub(crate) days: u32,
    pub(crate) spares: u32,
    pub(crate) forced: Vec<ForcedFault>,
}

/// A run's report and its per-customer records.
pub(crate) struct RunResult {
    pub(crate) report: SiteReport,
    pub(crate) records: Vec<CustomerRecord>,
}

/// Mixes one more value into a digest (SplitMix64's finaliser).
pub(crate) fn fold(digest: u64, value: u64) -> u64 {
    let mut z = (digest ^ value).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs the site; `config` must be valid.
pub(crate) fn run(config: &SiteConfig, seed: u64, opts: &RunOptions) -> RunResult {
    Engine::new(config, seed, opts).run()
}

pub(crate) struct Engine<'a> {
    pub(crate) config: &'a SiteConfig,
    pub(crate) opts: &'a RunOptions,
    pub(crate) seed: u64,
    pub(crate) cal: Calendar,
    queue: EventQueue,
    pub(crate) now: u64,
    pub(crate) horizon_ms: u64,
    arrivals: Arrivals,
    choice_rng: SimRng,
    ctx: ServiceContext,
    pub(crate) kiosks: Vec<Kiosk>,
    pub(crate) primaries: usize,
    profiles: Vec<FaultProfile>,
    /// Per kind: rate per opening-hour ms (scaled).
    rates_per_ms: Vec<f64>,
    pub(crate) tickets: Vec<Ticket>,
    ticket_kiosk: Vec<usize>,
    pub(crate) records: Vec<CustomerRecord>,
    pub(crate) tally: Tally,
    pub(crate) sessions: [u64; 6],
    pub(crate) rerouted: u64,
    pub(crate) suppressed: u64,
    pub(crate) switchovers: Vec<Switchover>,
    pub(crate) service_ms: Vec<u64>,
    pub(crate) digest: u64,
    pub(crate) events: u64,
    pub(crate) truncated: bool,
    waiting: u64,
    open: bool,
    last_change_ms: u64,
    /// Σ waiting × time while open, in customer-milliseconds.
    pub(crate) waiting_area: f64,
    scratch: Vec<Customer>,
}

/// Index into [`Engine::sessions`] of an outcome.
fn outcome_index(o: kiosk_core::journal::SessionOutcome) -> usize {
    use kiosk_core::journal::SessionOutcome::*;
    match o {
        Credited => 0,
        Pending => 1,
        Refused => 2,
        NoPayment => 3,
        Aborted => 4,
        Interrupted => 5,
    }
}

impl<'a> Engine<'a> {
    fn new(config: &'a SiteConfig, seed: u64, opts: &'a RunOptions) -> Engine<'a> {
        let root = SimRng::new(seed);
        let cal = Calendar::new(config, opts.days);
        let primaries = config.kiosks as usize;
        let total = primaries + opts.spares as usize;
        let kiosks = (0..total)
            .map(|i| {
                let spare = i >= primaries;
                let name = if spare {
                    format!("{}-S{:02}", config.name, i - primaries + 1)
                } else {
                    format!("{}-K{:02}", config.name, i + 1)
                };
                let rng = root.fork(&format!("faults-{name}"));
                let weight = config.proximity_decay.powi(i as i32);
                Kiosk::new(KioskId(name), weight, spare, config.queue_max as usize, config.service_estimate_initial_ms as f64, rng)
            })
            .collect();
        let profiles: Vec<FaultProfile> = FaultKind::ALL.iter().map(|k| config.faults.profile(*k)).collect();
        let scale = if config.faults.enabled { config.faults.rate_scale } else { 0.0 };
        let rates_per_ms = profiles.iter().map(|p| p.rate_per_kiosk_hour * scale / 3_600_000.0).collect();
        Engine {
            config,
            opts,
            seed,
            cal,
            queue: EventQueue::default(),
            now: 0,
            horizon_ms: u64::from(opts.days) * DAY_MS,
            arrivals: Arrivals::new(config, root.fork("arrivals")),
            choice_rng: root.fork("choice"),
            ctx: ServiceContext::new(config),
            kiosks,
            primaries,
            profiles,
            rates_per_ms,
            tickets: Vec::new(),
            ticket_kiosk: Vec::new(),
            records: Vec::new(),
            tally: Tally::default(),
            sessions: [0; 6],
            rerouted: 0,
            suppressed: 0,
            switchovers: Vec::new(),
            service_ms: Vec::new(),
            digest: fold(0, seed),
            events: 0,
            truncated: false,
            waiting: 0,
            open: false,
            last_change_ms: 0,
            waiting_area: 0.0,
            scratch: Vec::new(),
        }
    }

    fn run(mut self) -> RunResult {
        for day in 0..self.cal.days() {
            self.queue.push(self.cal.open_at(day), Event::Open { day });
            self.queue.push(self.cal.close_at(day), Event::Close { day });
        }
        for k in 0..self.primaries {
            self.schedule_fault(k, self.cal.open_at(0));
        }
        for (index, f) in self.opts.forced.iter().enumerate() {
            self.queue.push(f.at_ms, Event::ForcedFault { index: index as u32 });
        }
        while let Some((t, event)) = self.queue.pop() {
            if t >= self.horizon_ms {
                break;
            }
            if self.events >= self.config.events_max {
                self.truncated = true;
                break;
            }
            self.events += 1;
            self.now = t;
            let (code, arg) = event.code();
            self.digest = fold(fold(self.digest, t), code << 56 ^ arg);
            self.handle(event);
        }
        self.finish()
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Open { .. } => {
                self.set_open(true);
                if let Some(t) = self.arrivals.next_after(&self.cal, self.now) {
                    self.queue.push(t, Event::Arrival);
                }
            }
            Event::Close { .. } => self.set_open(false),
            Event::Arrival => self.arrival(),
            Event::Step { kiosk, token } => self.step(kiosk as usize, token),
            Event::Deadline { kiosk, serial } => self.deadline(kiosk as usize, serial),
            Event::Leave { kiosk, serial } => self.leave(kiosk as usize, serial),
            Event::FaultStart { kiosk } => {
                let k = kiosk as usize;
                let kind = self.draw_kind(k);
                self.schedule_fault(k, self.now);
                self.start_fault(k, kind);
            }
            Event::ForcedFault { index } => {
                let f = self.opts.forced[index as usize];
                self.start_fault(f.kiosk, f.kind);
            }
            Event::Detected { ticket } => self.detected(ticket as usize),
            Event::Dispatched { ticket } => self.dispatched(ticket as usize),
            Event::Resolved { ticket } => self.resolved(ticket as usize),
            Event::SpareReady { kiosk } => self.spare_ready(kiosk as usize),
        }
    }

    // ---- waiting-time integral -------------------------------------------

    fn account_waiting(&mut self) {
        if self.open {
            self.waiting_area += self.waiting as f64 * (self.now - self.last_change_ms) as f64;
        }
        self.last_change_ms = self.now;
    }

    fn set_open(&mut self, open: bool) {
        self.account_waiting();
        self.open = open;
    }

    fn waiting_delta(&mut self, delta: i64) {
        self.account_waiting();
        self.waiting = self.waiting.saturating_add_signed(delta);
    }

    // ---- customers -------------------------------------------------------

    fn arrival(&mut self) {
        if let Some(t) = self.arrivals.next_after(&self.cal, self.now) {
            self.queue.push(t, Event::Arrival);
        }
        let rng = self.arrivals.rng();
        let seed = rng.next_u64();
        let wants = if rng.chance(self.config.customers.cash_share) { PaymentMethod::Cash } else { PaymentMethod::Code };
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
    fn place(&mut self, c: Customer, exclude: Option<usize>) -> bool {
        let policy = self.opts.guidance;
        let queue_max = self.config.queue_max as usize;
        let Some(Choice { kiosk, estimate_ms }) = choose(policy, &self.kiosks, &c, exclude, self.now, queue_max, &mut self.choice_rng) else {
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

    fn join(&mut self, k: usize, c: Customer) {
        if self.kiosks[k].busy.is_none() && self.kiosks[k].queue.is_empty() {
            self.start(k, c);
        } else {
            self.kiosks[k].queue.push_back(c);
            self.waiting_delta(1);
        }
    }

    /// The customer steps up to kiosk `k`.
    fn start(&mut self, k: usize, c: Customer) {
        let now = self.now;
        self.records[c.id as usize].first_start_ms.get_or_insert(now);
        let kiosk = &mut self.kiosks[k];
        kiosk.serial = kiosk.serial.wrapping_add(1);
        kiosk.token = kiosk.token.wrapping_add(1);
        let serial = kiosk.serial;
        if kiosk.dead() {
            // A dead screen: the customer notices and walks away.
            let mut rng = SimRng::new(c.seed ^ 0xDEAD);
            let leave_ms = self.ctx.changeover_ms(&mut rng);
            kiosk.busy = Some(Busy { customer: c, started_ms: now, service: None, leaving: true, reroute: true });
            self.queue.push(now + leave_ms, Event::Leave { kiosk: k as u16, serial });
            return;
        }
        kiosk.sessions += 1;
        let (service, first) = Service::start(&self.ctx, &kiosk.id, kiosk.sessions, c.seed, c.wants, c.flexible, kiosk.offered(), &mut self.tally);
        kiosk.busy = Some(Busy { customer: c, started_ms: now, service: Some(service), leaving: false, reroute: false });
        self.after(k, first);
    }

    /// Schedules what the session at `k` now waits for, or ends it.
    fn after(&mut self, k: usize, next: Option<(u64, Step)>) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        let Some(busy) = kiosk.busy.as_mut() else { return };
        let Some(service) = busy.service.as_mut() else { return };
        if let Some((delay_ms, step)) = next {
            kiosk.token = kiosk.token.wrapping_add(1);
            service.pending = Some(step);
            self.queue.push(now + delay_ms, Event::Step { kiosk: k as u16, token: kiosk.token });
        }
        if service.session.outcome().is_some() {
            self.end_service(k);
            return;
        }
        if let Some(deadline) = service.session.deadline() {
            if service.deadline_scheduled != Some(deadline) {
                service.deadline_scheduled = Some(deadline);
                self.queue.push(deadline.0.max(now), Event::Deadline { kiosk: k as u16, serial: kiosk.serial });
            }
        }
    }

    fn step(&mut self, k: usize, token: u32) {
        let kiosk = &mut self.kiosks[k];
        if kiosk.token != token {
            return;
        }
        let actual = kiosk.actual;
        let Some(service) = kiosk.busy.as_mut().and_then(|b| b.service.as_mut()) else { return };
        let Some(step) = service.pending.take() else { return };
        if service.session.outcome().is_some() {
            return;
        }
        let input = service.input(step, |kind| actual & (1 << kind.index()) != 0);
        let actions = service.session.handle(input, Millis(self.now));
        let next = service.react(&actions, &self.ctx, &mut self.tally);
        self.after(k, next);
    }

    fn deadline(&mut self, k: usize, serial: u32) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if kiosk.serial != serial {
            return;
        }
        let Some(service) = kiosk.busy.as_mut().and_then(|b| b.service.as_mut()) else { return };
        match service.session.deadline() {
            Some(d) if d.0 <= now && service.session.outcome().is_none() => {}
            _ => return,
        }
        service.deadline_scheduled = None;
        let actions = service.session.on_timeout(Millis(now));
        let next = service.react(&actions, &self.ctx, &mut self.tally);
        self.after(k, next);
    }

    /// The session at `k` has ended: count it; the customer leaves.
    fn end_service(&mut self, k: usize) {
        let kiosk = &mut self.kiosks[k];
        kiosk.token = kiosk.token.wrapping_add(1);
        let serial = kiosk.serial;
        let Some(busy) = kiosk.busy.as_mut() else { return };
        let Some(service) = busy.service.as_mut() else { return };
        let Some(outcome) = service.session.outcome() else { return };
        self.sessions[outcome_index(outcome)] += 1;
        busy.leaving = true;
        busy.reroute = outcome == kiosk_core::journal::SessionOutcome::NoPayment && !service.voluntary_end;
        let leave_ms = service.changeover_ms(&self.ctx);
        self.queue.push(self.now + leave_ms, Event::Leave { kiosk: k as u16, serial });
    }

    fn leave(&mut self, k: usize, serial: u32) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        if kiosk.serial != serial || !kiosk.busy.as_ref().is_some_and(|b| b.leaving) {
            return;
        }
        let Some(busy) = kiosk.busy.take() else { return };
        let c = busy.customer;
        if let Some(service) = &busy.service {
            let ms = now - busy.started_ms;
            kiosk.observe_service(ms);
            self.service_ms.push(ms);
            if !busy.reroute {
                let record = &mut self.records[c.id as usize];
                record.wait_ms = Some(busy.started_ms - c.arrival_ms);
                record.fate = Fate::Served(service.session.outcome().unwrap_or(kiosk_core::journal::SessionOutcome::Interrupted));
            }
        }
        if busy.reroute {
            self.reroute(c, k);
        }
        self.pull_next(k);
    }

    /// `c` must try another kiosk than `from`.
    fn reroute(&mut self, mut c: Customer, from: usize) {
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
    pub(crate) fn pull_next(&mut self, k: usize) {
        let kiosk = &mut self.kiosks[k];
        if kiosk.busy.is_some() {
            return;
        }
        if let Some(c) = kiosk.queue.pop_front() {
            self.waiting_delta(-1);
            self.start(k, c);
        } else if kiosk.spare && kiosk.draining {
            // Its kiosk is back and its queue is served: back to standby.
            kiosk.in_service = false;
            kiosk.draining = false;
            kiosk.covering = None;
            let name = kiosk.id.0.clone();
            if let Some(s) = self.switchovers.iter_mut().rev().find(|s| s.spare == name && s.released_ms.is_none()) {
                s.released_ms = Some(self.now);
            }
        }
    }

    /// Sends everyone waiting at `k` that `keep` rejects to other kiosks.
    pub(crate) fn redistribute(&mut self, k: usize, keep: impl Fn(&Customer) -> bool) {
        let mut moving = std::mem::take(&mut self.scratch);
        let queue = &mut self.kiosks[k].queue;
        let before = queue.len();
        moving.extend(queue.iter().filter(|c| !keep(c)));
        queue.retain(|c| keep(c));
        let moved = before - queue.len();
        self.waiting_delta(-(moved as i64));
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
    pub(crate) fn rebalance(&mut self) {
        if self.opts.guidance != Guidance::ShortestExpectedWait {
            return;
        }
        let margin_ms = 30_000.0;
        for _ in 0..self.waiting {
            let now = self.now;
            let from = (0..self.kiosks.len())
                .filter(|i| !self.kiosks[*i].queue.is_empty())
                .max_by(|a, b| self.kiosks[*a].expected_wait_ms(now).total_cmp(&self.kiosks[*b].expected_wait_ms(now)).then(b.cmp(a)));
            let Some(from) = from else { return };
            let Some(c) = self.kiosks[from].queue.pop_back() else { return };
            let stay_ms = self.kiosks[from].expected_wait_ms(now);
            let queue_max = self.config.queue_max as usize;
            match choose(Guidance::ShortestExpectedWait, &self.kiosks, &c, Some(from), now, queue_max, &mut self.choice_rng) {
                Some(Choice { kiosk, estimate_ms: Some(e) }) if (e as f64) + margin_ms < stay_ms => {
                    self.waiting_delta(-1);
                    self.join(kiosk, c);
                }
                _ => {
                    self.kiosks[from].queue.push_back(c);
                    return;
                }
            }
        }
    }

    // ---- faults ----------------------------------------------------------

    fn schedule_fault(&mut self, k: usize, from_ms: u64) {
        let rate: f64 = self.rates_per_ms.iter().sum();
        if rate <= 0.0 {
            return;
        }
        let gap = exp_ms(&mut self.kiosks[k].fault_rng, 1.0 / rate).ceil() as u64;
        if let Some(t) = self.cal.advance_open(from_ms, gap.max(1)) {
            self.queue.push(t, Event::FaultStart { kiosk: k as u16 });
        }
    }

    fn draw_kind(&mut self, k: usize) -> FaultKind {
        let total: f64 = self.rates_per_ms.iter().sum();
        let mut x = super::dist::unit_open(&mut self.kiosks[k].fault_rng) * total;
        for (kind, rate) in FaultKind::ALL.iter().zip(&self.rates_per_ms) {
            if x <= *rate {
                return *kind;
            }
            x -= rate;
        }
        FaultKind::ALL[FaultKind::ALL.len() - 1]
    }

    fn start_fault(&mut self, k: usize, kind: FaultKind) {
        let now = self.now;
        if self.kiosks[k].has(kind) {
            self.suppressed += 1;
            return;
        }
        let profile = self.profiles[kind.index()];
        let id = self.tickets.len() as u32 + 1;
        let kiosk = &mut self.kiosks[k];
        let ticket = Ticket::draw(id, kiosk.id.0.clone(), kind, &profile, &self.config.faults, now, &mut kiosk.fault_rng);
        kiosk.actual |= 1 << kind.index();
        let index = self.tickets.len() as u32;
        self.queue.push(ticket.detected_ms, Event::Detected { ticket: index });
        if let Some(at) = ticket.dispatched_ms {
            self.queue.push(at, Event::Dispatched { ticket: index });
        }
        self.queue.push(ticket.resolved_ms, Event::Resolved { ticket: index });
        self.tickets.push(ticket);
        self.ticket_kiosk.push(k);
        self.hit_session(k, kind);
    }

    /// The fault's effect on the session in progress at `k`, if any.
    fn hit_session(&mut self, k: usize, kind: FaultKind) {
        let now = self.now;
        let kiosk = &mut self.kiosks[k];
        let Some(busy) = kiosk.busy.as_mut() else { return };
        if busy.leaving {
            return;
        }
        let Some(service) = busy.service.as_mut() else { return };
        if matches!(kind, FaultKind::KioskCrash | FaultKind::DeviceDamaged) {
            // The session is cut off; the customer goes elsewhere.
            self.sessions[5] += 1;
            let leave_ms = service.changeover_ms(&self.ctx);
            busy.service = None;
            busy.leaving = true;
            busy.reroute = true;
            kiosk.token = kiosk.token.wrapping_add(1);
            self.queue.push(now + leave_ms, Event::Leave { kiosk: k as u16, serial: kiosk.serial });
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

    fn detected(&mut self, t: usize) {
        let k = self.ticket_kiosk[t];
        let scope = self.tickets[t].scope;
        self.kiosks[k].known_down[scope.index()] += 1;
        match scope {
            FaultScope::Kiosk => self.redistribute(k, |_| false),
            FaultScope::Cash | FaultScope::Code if self.opts.guidance == Guidance::ShortestExpectedWait => {
                let (cash, code) = self.kiosks[k].offers();
                self.redistribute(k, |c| c.can_use(cash, code));
            }
            _ => {}
        }
    }

    fn dispatched(&mut self, t: usize) {
        let k = self.ticket_kiosk[t];
        if self.tickets[t].scope != FaultScope::Kiosk || self.kiosks[k].spare || self.kiosks[k].covered_by.is_some() {
            return;
        }
        let Some(s) = (self.primaries..self.kiosks.len()).find(|s| !self.kiosks[*s].in_service && self.kiosks[*s].covering.is_none()) else {
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
        self.queue.push(self.now + self.config.spare_switchover_ms, Event::SpareReady { kiosk: s as u16 });
    }

    fn spare_ready(&mut self, s: usize) {
        let Some(k) = self.kiosks[s].covering else { return };
        let name = self.kiosks[s].id.0.clone();
        let record = self.switchovers.iter_mut().rev().find(|x| x.spare == name && x.in_service_ms.is_none());
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

    fn resolved(&mut self, t: usize) {
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
