//! Which kiosk a customer goes to, under each [`Guidance`] policy.
//!
//! Every policy only considers kiosks that take new customers (in service,
//! not known to be down) and whose queue has room; a customer walking away
//! from a kiosk (`exclude`) does not pick it again. When nothing is left the
//! customer is turned away (told the alternative channels).
//!
//! Guided customers are placed through a [`WaitIndex`], so an arrival
//! costs the same in a hall of 4 kiosks and one of 1 000; the two
//! baselines (customers choosing for themselves) look at every kiosk, as
//! the customers would.

use std::collections::BTreeSet;

use super::config::Guidance;
use super::dist::unit_open;
use super::kiosk::{Customer, Kiosk};
use crate::rng::SimRng;

/// A kiosk chosen for a customer, and the wait they were told (guided only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Choice {
    pub(crate) kiosk: usize,
    pub(crate) estimate_ms: Option<u64>,
}

/// Picks a kiosk for `customer` under `policy`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn choose(
    policy: Guidance,
    kiosks: &[Kiosk],
    index: &mut WaitIndex,
    customer: &Customer,
    exclude: Option<usize>,
    now: u64,
    queue_max: usize,
    rng: &mut SimRng,
) -> Option<Choice> {
    let open =
        |i: usize, k: &Kiosk| Some(i) != exclude && k.accepting() && k.queue.len() < queue_max;
    match policy {
        Guidance::None => {
            let total: f64 = kiosks
                .iter()
                .enumerate()
                .filter(|(i, k)| open(*i, k))
                .map(|(_, k)| k.weight)
                .sum();
            if total <= 0.0 {
                return None;
            }
            // Always one draw, so the stream stays aligned.
            let mut x = unit_open(rng) * total;
            let mut last = None;
            for (i, k) in kiosks.iter().enumerate().filter(|(i, k)| open(*i, k)) {
                last = Some(i);
                if x <= k.weight {
                    break;
                }
                x -= k.weight;
            }
            last.map(|kiosk| Choice {
                kiosk,
                estimate_ms: None,
            })
        }
        Guidance::ShortestQueue => kiosks
            .iter()
            .enumerate()
            .filter(|(i, k)| open(*i, k))
            .min_by_key(|(i, k)| (k.queue.len() + usize::from(k.busy.is_some()), *i))
            .map(|(kiosk, _)| Choice {
                kiosk,
                estimate_ms: None,
            }),
        Guidance::ShortestExpectedWait => {
            let pick = index.pick(kiosks, customer, exclude, now, queue_max);
            debug_assert_eq!(
                pick,
                scan_shortest_wait(kiosks, customer, exclude, now, queue_max),
                "the wait index disagrees with a scan of every kiosk"
            );
            pick
        }
    }
}

/// Shortest expected wait by looking at every kiosk: what the index must
/// give (checked in debug builds).
fn scan_shortest_wait(
    kiosks: &[Kiosk],
    customer: &Customer,
    exclude: Option<usize>,
    now: u64,
    queue_max: usize,
) -> Option<Choice> {
    let mut best: Option<(f64, usize)> = None;
    for (i, k) in kiosks.iter().enumerate() {
        if Some(i) == exclude || !k.accepting() || k.queue.len() >= queue_max {
            continue;
        }
        let (cash, code) = k.offers();
        if !customer.can_use(cash, code) {
            continue;
        }
        let wait = k.expected_wait_ms(now);
        // Strictly less: ties go to the kiosk nearer the entrance.
        if best.is_none_or(|(w, _)| wait < w) {
            best = Some((wait, i));
        }
    }
    best.map(|(wait, kiosk)| Choice {
        kiosk,
        estimate_ms: Some(wait.round() as u64),
    })
}

/// Where a kiosk sits in the [`WaitIndex`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// Its customer is expected to be done at `until` (ms, > now when
    /// indexed): expected wait `(queued + until) - now`, keyed `queued + until`.
    Running { key: f64, until: f64 },
    /// Nobody at it, or its customer is overdue: expected wait `queued`.
    Settled { key: f64 },
}

/// Accepting kiosks ordered by expected wait, kept up to date as kiosks
/// change (see `Engine::reindex`).
///
/// A kiosk's expected wait is `queued` (queue × recent mean service time)
/// plus what remains of its current customer's expected time. While that
/// customer is expected to still be there, the wait falls as time passes,
/// the same for every such kiosk, so they are ordered by `queued + until`;
/// once overdue, by `queued` alone. A third set moves kiosks from the first
/// order to the second as their customers become overdue. A pick looks at
/// the head of each order: O(log n) per arrival, not O(n).
#[derive(Debug, Default)]
pub(crate) struct WaitIndex {
    slots: Vec<Option<Slot>>,
    running: BTreeSet<(u64, usize)>,
    settled: BTreeSet<(u64, usize)>,
    /// Running kiosks by `until`.
    due: BTreeSet<(u64, usize)>,
}

/// A non-negative float as an order-preserving integer.
fn bits(x: f64) -> u64 {
    debug_assert!(x >= 0.0, "{x}");
    x.max(0.0).to_bits()
}

impl WaitIndex {
    /// Puts kiosk `k` (as it is now) in its place; out if it takes nobody.
    pub(crate) fn update(&mut self, k: usize, kiosk: &Kiosk, now: u64) {
        if !kiosk.accepting() {
            self.remove(k);
            return;
        }
        let queued = kiosk.queued_ms();
        let slot = match kiosk.busy_until() {
            Some(until) if until > now as f64 => Slot::Running {
                key: queued + until,
                until,
            },
            _ => Slot::Settled { key: queued },
        };
        if self.slots.get(k) == Some(&Some(slot)) {
            return; // in its place already
        }
        self.remove(k);
        self.insert(k, slot);
    }

    /// Takes kiosk `k` out.
    pub(crate) fn remove(&mut self, k: usize) {
        let Some(slot) = self.slots.get_mut(k).and_then(Option::take) else {
            return;
        };
        match slot {
            Slot::Running { key, until } => {
                self.running.remove(&(bits(key), k));
                self.due.remove(&(bits(until), k));
            }
            Slot::Settled { key } => {
                self.settled.remove(&(bits(key), k));
            }
        }
    }

    fn insert(&mut self, k: usize, slot: Slot) {
        if self.slots.len() <= k {
            self.slots.resize(k + 1, None);
        }
        self.slots[k] = Some(slot);
        match slot {
            Slot::Running { key, until } => {
                self.running.insert((bits(key), k));
                self.due.insert((bits(until), k));
            }
            Slot::Settled { key } => {
                self.settled.insert((bits(key), k));
            }
        }
    }

    /// The accepting kiosk with the least expected wait that `customer`
    /// can pay at, other than `exclude` and not full; ties to the lower index.
    fn pick(
        &mut self,
        kiosks: &[Kiosk],
        customer: &Customer,
        exclude: Option<usize>,
        now: u64,
        queue_max: usize,
    ) -> Option<Choice> {
        let t = now as f64;
        // Customers who became overdue wait by their queue alone now.
        while let Some(&(until, k)) = self.due.first() {
            if f64::from_bits(until) > t {
                break;
            }
            self.remove(k);
            self.insert(
                k,
                Slot::Settled {
                    key: kiosks[k].queued_ms(),
                },
            );
        }
        let fits = |k: usize| {
            let kiosk = &kiosks[k];
            let (cash, code) = kiosk.offers();
            Some(k) != exclude && kiosk.queue.len() < queue_max && customer.can_use(cash, code)
        };
        let mut running = self
            .running
            .iter()
            .map(|&(key, k)| (f64::from_bits(key) - t, k))
            .filter(|(_, k)| fits(*k))
            .peekable();
        let mut settled = self
            .settled
            .iter()
            .map(|&(key, k)| (f64::from_bits(key), k))
            .filter(|(_, k)| fits(*k))
            .peekable();
        let best = match (running.peek(), settled.peek()) {
            (Some(a), Some(b)) => Some(if (a.0, a.1) <= (b.0, b.1) { *a } else { *b }),
            (a, b) => a.or(b).copied(),
        };
        best.map(|(wait, kiosk)| Choice {
            kiosk,
            estimate_ms: Some(wait.round() as u64),
        })
    }
}

impl super::sim::Engine<'_> {
    /// Kiosk `k` changed: its place in the wait index follows.
    pub(super) fn reindex(&mut self, k: usize) {
        if self.opts.guidance == Guidance::ShortestExpectedWait {
            self.index.update(k, &self.kiosks[k], self.now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::executor::Executor;
    use super::*;
    use kiosk_core::machine::KioskConfig;
    use kiosk_core::KioskId;
    use kiosk_hal::{Currency, PaymentMethod};

    fn kiosks(queues: &[usize]) -> Vec<Kiosk> {
        queues
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let mut k = Kiosk::new(
                    KioskId(format!("K{i}")),
                    0.8f64.powi(i as i32),
                    false,
                    10,
                    60_000.0,
                    SimRng::new(0),
                    Executor::new(KioskConfig::default(), Currency::CNY),
                    SimRng::new(1),
                );
                k.exec.offers = (true, true);
                for _ in 0..*q {
                    k.queue.push_back(customer());
                }
                k
            })
            .collect()
    }

    fn customer() -> Customer {
        Customer {
            id: 0,
            arrival_ms: 0,
            seed: 0,
            wants: PaymentMethod::Cash,
            flexible: false,
            reroutes: 0,
        }
    }

    #[test]
    fn guided_customers_go_to_the_least_expected_wait_with_a_method_that_works() {
        let mut ks = kiosks(&[3, 1, 0, 2]);
        let mut rng = SimRng::new(1);
        let pick = |ks: &[Kiosk], rng: &mut SimRng| {
            let mut index = WaitIndex::default();
            for (i, k) in ks.iter().enumerate() {
                index.update(i, k, 0);
            }
            choose(
                Guidance::ShortestExpectedWait,
                ks,
                &mut index,
                &customer(),
                None,
                0,
                10,
                rng,
            )
            .unwrap()
        };
        assert_eq!(
            pick(&ks, &mut rng),
            Choice {
                kiosk: 2,
                estimate_ms: Some(0)
            }
        );
        ks[2].exec.offers = (false, true); // cash out at kiosk 2
        assert_eq!(
            pick(&ks, &mut rng),
            Choice {
                kiosk: 1,
                estimate_ms: Some(60_000)
            }
        );
        let c = choose(
            Guidance::ShortestQueue,
            &ks,
            &mut WaitIndex::default(),
            &customer(),
            Some(2),
            0,
            10,
            &mut rng,
        );
        assert_eq!(c.unwrap().kiosk, 1);
    }

    #[test]
    fn unguided_customers_favour_the_nearest_kiosk_and_skip_full_queues() {
        let ks = kiosks(&[0, 0, 0, 10]);
        let mut rng = SimRng::new(2);
        let mut counts = [0u32; 4];
        for _ in 0..10_000 {
            let c = choose(
                Guidance::None,
                &ks,
                &mut WaitIndex::default(),
                &customer(),
                None,
                0,
                10,
                &mut rng,
            )
            .unwrap();
            counts[c.kiosk] += 1;
        }
        assert_eq!(counts[3], 0, "kiosk 3's queue is full");
        assert!(counts[0] > counts[1] && counts[1] > counts[2], "{counts:?}");
    }
}
