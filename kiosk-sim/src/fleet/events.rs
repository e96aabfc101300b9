//! The event queue: a radix heap keyed by (time, sequence number).
//!
//! The sequence number breaks ties in insertion order, so two events at the
//! same millisecond always run in the same order and a run is a pure
//! function of its configuration and seed. Only real events are scheduled
//! (an arrival, a device or customer answer, a machine's deadline, a fault
//! changing state): an idle kiosk costs nothing between events.

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

/// Buckets of the radix heap: one for the current millisecond, one per
/// bit of a time.
const BUCKETS: usize = 65;

/// The bucket of an entry at `time_ms` when the last time popped is
/// `last_ms`: 0 at that time, else one plus the highest bit in which the
/// two differ.
#[inline]
fn bucket(time_ms: u64, last_ms: u64) -> usize {
    (u64::BITS - (time_ms ^ last_ms).leading_zeros()) as usize
}

/// Pending events, earliest first, ties in scheduling order.
///
/// A radix heap (Ahuja, Mehlhorn, Orlin, Tarjan): an event is never
/// scheduled before the last one taken out, so an entry is filed in
/// the bucket of the highest bit in which its time differs from that
/// last time, and only the lowest non-empty bucket is ever searched.
/// A push is an append; a pop takes the next entry of bucket 0 (the
/// current millisecond) or refiles the lowest bucket around its earliest
/// time, each entry moving down at most once per bit. In a hall of a
/// thousand kiosks thousands of events are pending, and the binary
/// heap's pop, a dozen dependent compares on a cold array, was an eighth
/// of the run.
///
/// The order is exactly the binary heap's, (time, sequence number):
/// bucket 0 holds the entries at the current millisecond in scheduling
/// order (sorted when refiled; a push there has the highest number yet),
/// and every entry of bucket `i` is earlier than every entry of a bucket
/// above `i`.
#[derive(Debug)]
pub(crate) struct EventQueue {
    buckets: [Vec<Entry>; BUCKETS],
    /// Bit `i` set: bucket `i` holds an entry not yet popped.
    occupied: u128,
    /// The next entry of bucket 0 to pop.
    head: usize,
    /// The time of the last entry popped (0 before the first): no entry
    /// may be scheduled before it.
    last_ms: u64,
    seq: u64,
}

impl Default for EventQueue {
    fn default() -> EventQueue {
        EventQueue {
            buckets: std::array::from_fn(|_| Vec::new()),
            occupied: 0,
            head: 0,
            last_ms: 0,
            seq: 0,
        }
    }
}

impl EventQueue {
    /// Schedules `event` at `time_ms`.
    ///
    /// # Panics
    ///
    /// If `time_ms` is before the last event taken out: a discrete-event
    /// model never schedules into the past (the engine's clock would run
    /// backwards).
    pub(crate) fn push(&mut self, time_ms: u64, event: Event) {
        assert!(
            time_ms >= self.last_ms,
            "event {event:?} scheduled at {time_ms} ms, before the current {} ms",
            self.last_ms
        );
        self.seq += 1;
        let b = bucket(time_ms, self.last_ms);
        self.buckets[b].push(Entry {
            time_ms,
            seq: self.seq,
            event,
        });
        self.occupied |= 1 << b;
    }

    /// The earliest event and its time.
    pub(crate) fn pop(&mut self) -> Option<(u64, Event)> {
        if self.occupied & 1 == 0 {
            self.refill()?;
        }
        let now = &mut self.buckets[0];
        let entry = now[self.head];
        self.head += 1;
        if self.head == now.len() {
            now.clear();
            self.head = 0;
            self.occupied &= !1;
        }
        Some((entry.time_ms, entry.event))
    }

    /// Bucket 0 is empty: moves the clock to the earliest pending time
    /// and refiles the lowest non-empty bucket around it, which puts that
    /// time's entries (in scheduling order) into bucket 0. `None` if
    /// nothing is pending.
    fn refill(&mut self) -> Option<()> {
        debug_assert!(self.buckets[0].is_empty() && self.head == 0);
        if self.occupied == 0 {
            return None;
        }
        let lowest = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << lowest);
        let (lower, rest) = self.buckets.split_at_mut(lowest);
        let moving = &mut rest[0];
        if let [only] = moving[..] {
            // The common case: the earliest entry is alone in its bucket.
            self.last_ms = only.time_ms;
            lower[0].push(only);
            moving.clear();
            self.occupied |= 1;
            return Some(());
        }
        let last_ms = moving
            .iter()
            .map(|e| e.time_ms)
            .min()
            .expect("an occupied bucket holds an entry");
        self.last_ms = last_ms;
        for entry in moving.drain(..) {
            let b = bucket(entry.time_ms, last_ms);
            debug_assert!(b < lowest);
            lower[b].push(entry);
            self.occupied |= 1 << b;
        }
        // Entries came into `lowest` in scheduling order from pushes, but
        // also refiled from higher buckets: put this time's in order.
        if lower[0].len() > 1 {
            lower[0].sort_unstable_by_key(|e| e.seq);
        }
        Some(())
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
        pops_like_a_sort(7, 0);
    }

    /// The same with a quarter of the events far ahead (up to 200 days,
    /// as timers and repairs are): they are refiled bucket by bucket as
    /// the clock nears them, and still come out in order among the near
    /// ones and their ties.
    #[test]
    fn pops_like_a_sort_with_far_events() {
        pops_like_a_sort(11, 1 << 34);
        pops_like_a_sort(12, 3_600_000);
    }

    /// An event scheduled before the last one popped would run the
    /// engine's clock backwards: refused, not filed out of order.
    #[test]
    #[should_panic(expected = "before the current")]
    fn scheduling_into_the_past_panics() {
        let mut q = EventQueue::default();
        q.push(100, Event::Arrival);
        q.push(200, Event::Arrival);
        assert_eq!(q.pop(), Some((100, Event::Arrival)));
        q.push(99, Event::Arrival);
    }

    /// Interleaves random pushes (`far` > 0: a quarter of them up to
    /// `far` ms ahead, the rest within 50 ms) and pops, against a sorted
    /// list of what is pending.
    fn pops_like_a_sort(seed: u64, far: u64) {
        let mut rng = crate::rng::SimRng::new(seed);
        let mut q = EventQueue::default();
        // The reference: every pending (time, seq), sorted at each pop.
        let mut pending: Vec<(u64, u64)> = Vec::new();
        let mut now = 0;
        for round in 0..20_000u64 {
            let pushes = rng.below(4);
            for _ in 0..pushes {
                let t = now
                    + if far > 0 && rng.below(4) == 0 {
                        rng.below(far)
                    } else {
                        rng.below(50)
                    };
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
