//! The event queue: a min-heap keyed by (time, sequence number).
//!
//! The sequence number breaks ties in insertion order, so two events at the
//! same millisecond always run in the same order and a run is a pure
//! function of its configuration and seed. Only real events are scheduled
//! (an arrival, a device or customer answer, a machine's deadline, a fault
//! changing state): an idle kiosk costs nothing between events.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Something that happens at the site. Small and `Copy`: the heap holds no
/// allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// The site opens on day `day`.
    Open { day: u32 },
    /// The site closes on day `day`: no more arrivals.
    Close { day: u32 },
    /// The next customer walks in.
    Arrival,
    /// The customer at `kiosk` acts (types, chooses, feeds a note, shows
    /// a code), valid if the kiosk's customer token is still `token`.
    Step { kiosk: u16, token: u32 },
    /// The answer to the call the kiosk's machine waits for (the backend,
    /// the printer), valid if its reply token is still `token`.
    Reply { kiosk: u16, token: u32 },
    /// The acceptor's own report (a note stacked or given back), valid if
    /// its report token is still `token`.
    Report { kiosk: u16, token: u32 },
    /// The kiosk machine's timer, valid if its timer token is still `token`.
    Timer { kiosk: u16, token: u32 },
    /// The customer at `kiosk` has left (visit `serial`); the next may step up.
    Leave { kiosk: u16, serial: u32 },
    /// A random fault starts on `kiosk` (kind drawn then).
    FaultStart { kiosk: u16 },
    /// The `index`th injected fault starts.
    ForcedFault { index: u32 },
    /// Fault `fault` (index) is noticed by people: operations see a
    /// crashed kiosk gone silent, staff report damage to the kiosk.
    Noticed { fault: u32 },
    /// Ticket `ticket` (index) is dispatched on site.
    Dispatched { ticket: u32 },
    /// Ticket `ticket`'s device is repaired (remotely or on site).
    Repaired { ticket: u32 },
    /// Spare `kiosk` is switched in and takes customers.
    SpareReady { kiosk: u16 },
}

impl Event {
    /// A small code per variant and its kiosk / ticket number, for the digest.
    pub(crate) fn code(&self) -> (u64, u64) {
        match *self {
            Event::Open { day } => (1, u64::from(day)),
            Event::Close { day } => (2, u64::from(day)),
            Event::Arrival => (3, 0),
            Event::Step { kiosk, token } => (4, u64::from(kiosk) << 32 | u64::from(token)),
            Event::Reply { kiosk, token } => (5, u64::from(kiosk) << 32 | u64::from(token)),
            Event::Report { kiosk, token } => (13, u64::from(kiosk) << 32 | u64::from(token)),
            Event::Timer { kiosk, token } => (14, u64::from(kiosk) << 32 | u64::from(token)),
            Event::Leave { kiosk, serial } => (6, u64::from(kiosk) << 32 | u64::from(serial)),
            Event::FaultStart { kiosk } => (7, u64::from(kiosk)),
            Event::ForcedFault { index } => (8, u64::from(index)),
            Event::Noticed { fault } => (9, u64::from(fault)),
            Event::Dispatched { ticket } => (10, u64::from(ticket)),
            Event::Repaired { ticket } => (11, u64::from(ticket)),
            Event::SpareReady { kiosk } => (12, u64::from(kiosk)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    time_ms: u64,
    seq: u64,
    event: Event,
}

impl Entry {
    /// Its place in the order: earlier first, then scheduled first, as
    /// one number, so ordering two entries is one comparison (the heap
    /// compares a dozen pairs per event in a hall of a thousand kiosks).
    fn key(&self) -> u128 {
        (u128::from(self.time_ms) << 64) | u128::from(self.seq)
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, we want the earliest first.
        other.key().cmp(&self.key())
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Pending events, earliest first, ties in scheduling order.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    /// Schedules `event` at `time_ms`.
    pub(crate) fn push(&mut self, time_ms: u64, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time_ms,
            seq: self.seq,
            event,
        });
    }

    /// The earliest event and its time.
    pub(crate) fn pop(&mut self) -> Option<(u64, Event)> {
        self.heap.pop().map(|e| (e.time_ms, e.event))
    }

    /// Events scheduled so far.
    #[cfg(test)]
    pub(crate) fn scheduled(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(20, Event::Arrival);
        q.push(10, Event::FaultStart { kiosk: 2 });
        q.push(10, Event::FaultStart { kiosk: 1 });
        q.push(5, Event::Open { day: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (5, Event::Open { day: 0 }),
                (10, Event::FaultStart { kiosk: 2 }),
                (10, Event::FaultStart { kiosk: 1 }),
                (20, Event::Arrival),
            ]
        );
        assert_eq!(q.scheduled(), 4);
    }

    /// The heap pops exactly what a sort by (time, scheduling order)
    /// gives, through interleaved pushes and pops with many ties.
    #[test]
    fn pops_in_time_then_scheduling_order_through_interleaving() {
        let mut rng = crate::rng::SimRng::new(7);
        let mut q = EventQueue::default();
        // The reference: every pending (time, seq), sorted at each pop.
        let mut pending: Vec<(u64, u64)> = Vec::new();
        let mut now = 0;
        for round in 0..20_000u64 {
            let pushes = rng.below(4);
            for _ in 0..pushes {
                let t = now + rng.below(50);
                q.push(
                    t,
                    Event::Open {
                        day: q.scheduled() as u32 + 1,
                    },
                );
                pending.push((t, q.scheduled()));
            }
            if rng.below(3) > 0 || round % 97 == 0 {
                pending.sort_unstable();
                let want = (!pending.is_empty()).then(|| pending.remove(0));
                let got = q.pop();
                assert_eq!(
                    got,
                    want.map(|(t, seq)| (t, Event::Open { day: seq as u32 })),
                    "round {round}"
                );
                if let Some((t, _)) = got {
                    now = t;
                }
            }
        }
        pending.sort_unstable();
        for (t, seq) in pending {
            assert_eq!(q.pop(), Some((t, Event::Open { day: seq as u32 })));
        }
        assert_eq!(q.pop(), None);
    }
}
