//! Which kiosk a customer goes to, under each [`Guidance`] policy.
//!
//! Every policy only considers kiosks that take new customers (in service,
//! not known to be down) and whose queue has room; a customer walking away
//! from a kiosk (`exclude`) does not pick it again. When nothing is left the
//! customer is turned away (told the alternative channels).

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
pub(crate) fn choose(
    policy: Guidance,
    kiosks: &[Kiosk],
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
            let mut best: Option<(f64, usize)> = None;
            for (i, k) in kiosks.iter().enumerate().filter(|(i, k)| open(*i, k)) {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_core::KioskId;
    use kiosk_hal::PaymentMethod;

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
                );
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
            choose(
                Guidance::ShortestExpectedWait,
                ks,
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
        ks[2].known_down[1] = 1; // cash out at kiosk 2
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
            let c = choose(Guidance::None, &ks, &customer(), None, 0, 10, &mut rng).unwrap();
            counts[c.kiosk] += 1;
        }
        assert_eq!(counts[3], 0, "kiosk 3's queue is full");
        assert!(counts[0] > counts[1] && counts[1] > counts[2], "{counts:?}");
    }
}
