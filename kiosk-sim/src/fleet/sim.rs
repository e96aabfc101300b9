//! The discrete-event engine: one site, its kiosks, customers and faults.
//!
//! It pops events in (time, sequence) order and reacts; see the module docs
//! of [`super`] for the model. All randomness comes from streams forked off
//! the run's seed by name: `arrivals` (gaps and who the customers are),
//! `choice` (unguided customers' picks), `faults-<kiosk>` (fault times,
//! kinds and handling), `io-<kiosk>` (backend times between sessions), and
//! each customer's own seed for their visit.

use kiosk_core::KioskId;

use super::arrivals::{Arrivals, Calendar};
use super::config::{Guidance, SiteConfig, DAY_MS};
use super::customer::CustomerContext;
use super::events::{Event, EventQueue};
use super::executor::{Executor, Notice};
use super::faults::{FaultKind, FaultProfile, Ticket};
use super::guidance::WaitIndex;
use super::kiosk::{Customer, Kiosk};
use super::report::{SiteReport, Switchover};
use super::stats::CustomerRecord;
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
    /// Per kiosk (primaries, then spares): the cash its acceptor put in the
    /// box or holds in its path, and what its machine journaled for it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) money: Vec<(i64, super::journal::JournalMoney)>,
    /// Per kiosk: the tickets its machine's journal holds.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) machine_tickets: Vec<Vec<kiosk_core::tickets::Ticket>>,
}

/// A fault on a kiosk's devices, from its start to its repair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fault {
    pub(crate) kiosk: usize,
    pub(crate) kind: FaultKind,
    pub(crate) started_ms: u64,
    /// Its ticket (index), once detected.
    pub(crate) ticket: Option<usize>,
    /// The device works again.
    pub(crate) repaired: bool,
    /// The machine resolved its ticket while the device was still broken:
    /// its next ticket on the device is this fault's again.
    pub(crate) relink: bool,
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
    pub(super) config: &'a SiteConfig,
    pub(super) opts: &'a RunOptions,
    pub(super) seed: u64,
    pub(super) cal: Calendar,
    pub(super) queue: EventQueue,
    pub(super) now: u64,
    pub(super) horizon_ms: u64,
    pub(super) arrivals: Arrivals,
    pub(super) choice_rng: SimRng,
    pub(super) ctx: CustomerContext,
    pub(super) kiosks: Vec<Kiosk>,
    pub(super) primaries: usize,
    pub(super) profiles: Vec<FaultProfile>,
    /// Per kind: rate per opening-hour ms (scaled).
    pub(super) rates_per_ms: Vec<f64>,
    pub(super) faults: Vec<Fault>,
    pub(super) tickets: Vec<Ticket>,
    /// Per ticket: its fault (index).
    pub(super) ticket_fault: Vec<usize>,
    /// Open tickets by (kiosk, the machine's ticket number).
    pub(super) machine_open: std::collections::HashMap<(usize, u64), usize>,
    /// Tickets the machines opened for something that is not a modelled
    /// fault (frequent failures, a slow link, …).
    pub(super) other_tickets: u64,
    /// Sessions that ended before taking money: the machine journals
    /// nothing for them (counted as "no payment").
    pub(super) unjournaled_no_payment: u64,
    pub(super) records: Vec<CustomerRecord>,
    pub(super) rerouted: u64,
    pub(super) suppressed: u64,
    pub(super) switchovers: Vec<Switchover>,
    pub(super) service_ms: Vec<u64>,
    pub(super) digest: u64,
    pub(super) events: u64,
    pub(super) truncated: bool,
    pub(super) waiting: u64,
    pub(super) open: bool,
    pub(super) last_change_ms: u64,
    /// Σ waiting × time while open, in customer-milliseconds.
    pub(super) waiting_area: f64,
    pub(super) scratch: Vec<Customer>,
    /// What the last drain of a kiosk's machine reported.
    pub(super) notices: Vec<Notice>,
    /// Accepting kiosks by expected wait (guided customers).
    pub(super) index: WaitIndex,
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
                let io_rng = root.fork(&format!("io-{name}"));
                let weight = config.proximity_decay.powi(i as i32);
                let mut kc = config.machine.clone();
                kc.kiosk_id = KioskId(name.clone());
                kc.session = config.session.clone();
                kc.session.site = config.name.clone();
                let currency = config.session.accepted_notes[0].currency;
                Kiosk::new(
                    KioskId(name),
                    weight,
                    spare,
                    config.queue_max as usize,
                    config.service_estimate_initial_ms as f64,
                    rng,
                    Executor::new(kc, currency),
                    io_rng,
                )
            })
            .collect();
        let profiles: Vec<FaultProfile> = FaultKind::ALL
            .iter()
            .map(|k| config.faults.profile(*k))
            .collect();
        let scale = if config.faults.enabled {
            config.faults.rate_scale
        } else {
            0.0
        };
        let rates_per_ms = profiles
            .iter()
            .map(|p| p.rate_per_kiosk_hour * scale / 3_600_000.0)
            .collect();
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
            ctx: CustomerContext::new(config),
            kiosks,
            primaries,
            profiles,
            rates_per_ms,
            faults: Vec::new(),
            tickets: Vec::new(),
            ticket_fault: Vec::new(),
            machine_open: std::collections::HashMap::new(),
            other_tickets: 0,
            unjournaled_no_payment: 0,
            records: Vec::new(),
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
            notices: Vec::new(),
            index: WaitIndex::default(),
        }
    }

    fn run(mut self) -> RunResult {
        for k in 0..self.kiosks.len() {
            self.boot(k);
        }
        for day in 0..self.cal.days() {
            self.queue.push(self.cal.open_at(day), Event::Open { day });
            self.queue
                .push(self.cal.close_at(day), Event::Close { day });
        }
        for k in 0..self.primaries {
            self.schedule_fault(k, self.cal.open_at(0));
        }
        for (index, f) in self.opts.forced.iter().enumerate() {
            self.queue.push(
                f.at_ms,
                Event::ForcedFault {
                    index: index as u32,
                },
            );
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
            Event::Reply { kiosk, token } => self.reply(kiosk as usize, token),
            Event::Report { kiosk, token } => self.report(kiosk as usize, token),
            Event::Timer { kiosk, token } => self.timer(kiosk as usize, token),
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
            Event::Noticed { fault } => self.noticed(fault as usize),
            Event::Dispatched { ticket } => self.dispatched(ticket as usize),
            Event::Repaired { ticket } => self.repaired(ticket as usize),
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

    pub(super) fn waiting_delta(&mut self, delta: i64) {
        self.account_waiting();
        self.waiting = self.waiting.saturating_add_signed(delta);
    }
}
