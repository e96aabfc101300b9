//! One kiosk's state in the site model: its queue, the customer at it, its
//! kiosk machine (in its executor), and its health as the devices have it
//! (actual) and as operations know it.

use std::collections::VecDeque;

use kiosk_core::KioskId;
use kiosk_hal::PaymentMethod;

use super::customer::{Act, Visit};
use super::executor::Executor;
use super::faults::{FaultKind, FaultScope};
use crate::rng::SimRng;

/// A customer in the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Customer {
    /// Index of their record.
    pub(crate) id: u32,
    pub(crate) arrival_ms: u64,
    /// Seeds their session (behaviour and device times), so every run of a
    /// comparison serves the very same customer the same way.
    pub(crate) seed: u64,
    pub(crate) wants: PaymentMethod,
    pub(crate) flexible: bool,
    pub(crate) reroutes: u32,
}

impl Customer {
    /// Whether a kiosk offering `cash` / `code` can serve them.
    pub(crate) fn can_use(&self, cash: bool, code: bool) -> bool {
        match self.wants {
            PaymentMethod::Cash => cash || (self.flexible && code),
            PaymentMethod::Code => code || (self.flexible && cash),
        }
    }
}

/// The customer at a kiosk.
#[derive(Debug)]
pub(crate) struct Busy {
    pub(crate) customer: Customer,
    pub(crate) started_ms: u64,
    /// Their visit; `None` at a dead kiosk (they only notice it is dead)
    /// or after a crash cut the session off.
    pub(crate) visit: Option<Visit>,
    /// What they do when their `Step` event comes.
    pub(crate) act: Option<Act>,
    /// They have typed their account number.
    pub(crate) entered: bool,
    /// The machine started a session for them.
    pub(crate) session_seen: bool,
    /// How their session ended, as the machine journaled it.
    pub(crate) outcome: Option<kiosk_core::journal::SessionOutcome>,
    /// The session is over; the customer is leaving.
    pub(crate) leaving: bool,
    /// The customer must try another kiosk.
    pub(crate) reroute: bool,
}

/// One kiosk (or spare).
#[derive(Debug)]
pub(crate) struct Kiosk {
    pub(crate) id: KioskId,
    /// Proximity weight for unguided customers.
    pub(crate) weight: f64,
    pub(crate) spare: bool,
    /// Takes customers (primaries always; spares once switched in).
    pub(crate) in_service: bool,
    /// A spare whose kiosk is repaired: serves its queue, takes no one new.
    pub(crate) draining: bool,
    /// For a spare: the kiosk it stands in for.
    pub(crate) covering: Option<usize>,
    /// For a primary: the spare standing in for it.
    pub(crate) covered_by: Option<usize>,
    /// Fault kinds active on the devices (bit per [`FaultKind`]).
    pub(crate) actual: u16,
    /// The kiosk machine and its virtual journal and devices.
    pub(crate) exec: Executor,
    /// Draws device and backend times outside sessions.
    pub(crate) io_rng: SimRng,
    /// Validates `Reply` events.
    pub(crate) reply_token: u32,
    /// Validates `Report` events.
    pub(crate) report_token: u32,
    /// Validates `Timer` events; the time the timer is set for.
    pub(crate) timer_token: u32,
    pub(crate) timer_at: Option<u64>,
    /// The machine's idle tick (health check, heartbeat) under way.
    pub(crate) ticking: bool,
    /// The last idle tick changed nothing and nothing changed since: the
    /// engine does not wake the machine for its periodic checks until a
    /// device or the link changes (see `Engine::arm_timer`).
    pub(crate) quiet: bool,
    /// When the last idle tick began.
    pub(crate) last_tick_ms: u64,
    /// Faults not repaired yet (indices).
    pub(crate) open_faults: Vec<usize>,
    /// Detected, unresolved faults per [`FaultScope`].
    pub(crate) known_down: [u16; 4],
    pub(crate) queue: VecDeque<Customer>,
    pub(crate) busy: Option<Busy>,
    /// Validates `Step` events: bumped whenever the customer's next act changes.
    pub(crate) token: u32,
    /// Validates `Deadline` / `Leave` events: bumped per customer.
    pub(crate) serial: u32,
    /// Recent mean service time (exponentially weighted), for guidance.
    pub(crate) recent_service_ms: f64,
    pub(crate) fault_rng: SimRng,
}

impl Kiosk {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: KioskId,
        weight: f64,
        spare: bool,
        queue_max: usize,
        service_ms: f64,
        rng: SimRng,
        exec: Executor,
        io_rng: SimRng,
    ) -> Kiosk {
        Kiosk {
            id,
            weight,
            spare,
            in_service: !spare,
            draining: false,
            covering: None,
            covered_by: None,
            actual: 0,
            exec,
            io_rng,
            reply_token: 0,
            report_token: 0,
            timer_token: 0,
            timer_at: None,
            ticking: false,
            quiet: false,
            last_tick_ms: 0,
            open_faults: Vec::new(),
            known_down: [0; 4],
            queue: VecDeque::with_capacity(queue_max),
            busy: None,
            token: 0,
            serial: 0,
            recent_service_ms: service_ms,
            fault_rng: rng,
        }
    }

    /// Whether a fault of `kind` is active on the devices.
    pub(crate) fn has(&self, kind: FaultKind) -> bool {
        self.actual & (1 << kind.index()) != 0
    }

    /// Whether the kiosk is dead to a customer standing at it: its
    /// software is down, or it is physically damaged.
    pub(crate) fn dead(&self) -> bool {
        !self.exec.alive() || self.has(FaultKind::DeviceDamaged)
    }

    /// Whether new customers may be sent here: in service, not known to be
    /// down, and offering a method (as its machine says).
    pub(crate) fn accepting(&self) -> bool {
        let (cash, code) = self.offers();
        self.in_service
            && !self.draining
            && self.known_down[FaultScope::Kiosk.index()] == 0
            && (cash || code)
    }

    /// Methods offered, as the kiosk's machine offers them.
    pub(crate) fn offers(&self) -> (bool, bool) {
        self.exec.offers
    }

    /// The expected wait of a customer joining now: queue length × recent
    /// mean service time + the current customer's expected remaining time.
    pub(crate) fn expected_wait_ms(&self, now: u64) -> f64 {
        // The same sum the guidance index keys on, so both agree exactly.
        kiosk_core::wait::expected_wait_ms(self.queued_ms(), self.busy_until(), now)
    }

    /// The queue's expected service time: length × recent mean.
    pub(crate) fn queued_ms(&self) -> f64 {
        kiosk_core::wait::queued_ms(self.queue.len(), self.recent_service_ms)
    }

    /// When the current customer is expected to be done (start + recent
    /// mean service time), if someone is at the kiosk.
    pub(crate) fn busy_until(&self) -> Option<f64> {
        self.busy
            .as_ref()
            .map(|b| kiosk_core::wait::busy_until(b.started_ms, self.recent_service_ms))
    }

    /// Folds a finished service time into the recent mean.
    pub(crate) fn observe_service(&mut self, ms: u64) {
        self.recent_service_ms = kiosk_core::wait::observe_service(self.recent_service_ms, ms);
    }
}
