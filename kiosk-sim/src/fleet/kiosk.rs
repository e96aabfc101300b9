//! One kiosk's state in the site model: its queue, the customer at it, and
//! its health as the devices have it (actual) and as operations know it.

use std::collections::VecDeque;

use kiosk_core::KioskId;
use kiosk_hal::PaymentMethod;

use super::faults::{FaultKind, FaultScope};
use super::service::Service;
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
    /// Their session; `None` at a dead kiosk (they only notice it is dead)
    /// or after a crash cut the session off.
    pub(crate) service: Option<Service>,
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
    /// Detected, unresolved faults per [`FaultScope`].
    pub(crate) known_down: [u16; 4],
    pub(crate) queue: VecDeque<Customer>,
    pub(crate) busy: Option<Busy>,
    /// Validates `Step` events: bumped whenever the awaited step changes.
    pub(crate) token: u32,
    /// Validates `Deadline` / `Leave` events: bumped per customer.
    pub(crate) serial: u32,
    /// Sessions started (numbers the session ids).
    pub(crate) sessions: u64,
    /// Recent mean service time (exponentially weighted), for guidance.
    pub(crate) recent_service_ms: f64,
    pub(crate) fault_rng: SimRng,
}

impl Kiosk {
    pub(crate) fn new(
        id: KioskId,
        weight: f64,
        spare: bool,
        queue_max: usize,
        service_ms: f64,
        rng: SimRng,
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
            known_down: [0; 4],
            queue: VecDeque::with_capacity(queue_max),
            busy: None,
            token: 0,
            serial: 0,
            sessions: 0,
            recent_service_ms: service_ms,
            fault_rng: rng,
        }
    }

    /// Whether a fault of `kind` is active on the devices.
    pub(crate) fn has(&self, kind: FaultKind) -> bool {
        self.actual & (1 << kind.index()) != 0
    }

    /// Whether the kiosk is dead to a customer standing at it.
    pub(crate) fn dead(&self) -> bool {
        self.has(FaultKind::KioskCrash) || self.has(FaultKind::DeviceDamaged)
    }

    /// Whether new customers may be sent here.
    pub(crate) fn accepting(&self) -> bool {
        self.in_service && !self.draining && self.known_down[FaultScope::Kiosk.index()] == 0
    }

    /// Methods offered, as operations know the devices.
    pub(crate) fn offers(&self) -> (bool, bool) {
        (
            self.known_down[FaultScope::Cash.index()] == 0,
            self.known_down[FaultScope::Code.index()] == 0,
        )
    }

    /// The methods a new session offers.
    pub(crate) fn offered(&self) -> Vec<PaymentMethod> {
        let (cash, code) = self.offers();
        let mut v = Vec::with_capacity(2);
        if cash {
            v.push(PaymentMethod::Cash);
        }
        if code {
            v.push(PaymentMethod::Code);
        }
        v
    }

    /// The expected wait of a customer joining now: queue length × recent
    /// mean service time + the current customer's expected remaining time.
    pub(crate) fn expected_wait_ms(&self, now: u64) -> f64 {
        let remaining = match &self.busy {
            Some(b) => (self.recent_service_ms - (now - b.started_ms) as f64).max(0.0),
            None => 0.0,
        };
        self.queue.len() as f64 * self.recent_service_ms + remaining
    }

    /// Folds a finished service time into the recent mean.
    pub(crate) fn observe_service(&mut self, ms: u64) {
        const WEIGHT: f64 = 0.2;
        self.recent_service_ms += WEIGHT * (ms as f64 - self.recent_service_ms);
    }
}
