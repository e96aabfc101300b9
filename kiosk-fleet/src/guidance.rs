//! The guidance rule on live data: which kiosk an arriving customer should use.
//!
//! The rule is the site model's `shortest-expected-wait` policy
//! (kiosk-sim's `fleet::guidance`, whose scan of every kiosk is the
//! reference its index is checked against): among kiosks that take new
//! customers, whose queue has room and that offer a method the customer
//! can pay with, pick the least expected wait; a tie goes to the kiosk
//! nearer the entrance (the lower position). The expected wait is queue
//! length × the kiosk's recent mean service time, plus what remains of its
//! current customer's expected time (nothing once that customer is overdue).
//! The recent mean follows finished sessions with the same weight (0.2).
//!
//! Pure: the hall service ([`crate::hall`]) turns telemetry into
//! [`Candidate`]s; this module only decides.

use serde::Serialize;

pub use kiosk_core::wait::{observe_service, SERVICE_WEIGHT};

/// A kiosk's recent mean before it has served anyone (the site model's
/// default `service-estimate-initial-ms`).
pub const INITIAL_SERVICE_MS: f64 = 60_000.0;

/// What the customer wants to pay with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// Cash only.
    Cash,
    /// A payment code only.
    Code,
    /// Either.
    Either,
}

impl Wants {
    /// Whether a kiosk offering (`cash`, `code`) can serve this customer.
    pub fn can_use(self, cash: bool, code: bool) -> bool {
        match self {
            Wants::Cash => cash,
            Wants::Code => code,
            Wants::Either => cash || code,
        }
    }
}

/// One kiosk as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Takes new customers (connected, in service, not stopping).
    pub accepting: bool,
    /// Customers waiting in front of it.
    pub queue: usize,
    /// Offers cash now.
    pub cash: bool,
    /// Offers payment codes now.
    pub code: bool,
    /// Recent mean service time.
    pub recent_service_ms: f64,
    /// When its current customer started, if someone is at it (same clock as `now_ms`).
    pub busy_since_ms: Option<u64>,
}

impl Candidate {
    /// The queue's expected service time: length × recent mean.
    pub fn queued_ms(&self) -> f64 {
        kiosk_core::wait::queued_ms(self.queue, self.recent_service_ms)
    }

    /// The expected wait of a customer joining now.
    pub fn expected_wait_ms(&self, now_ms: u64) -> f64 {
        let until = self
            .busy_since_ms
            .map(|start| kiosk_core::wait::busy_until(start, self.recent_service_ms));
        kiosk_core::wait::expected_wait_ms(self.queued_ms(), until, now_ms)
    }
}

/// The kiosk chosen and the wait the customer is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// Its position in the candidates (nearest the entrance first).
    pub kiosk: usize,
    /// The expected wait, rounded to ms.
    pub estimate_ms: u64,
}

/// Shortest expected wait over `kiosks` (ordered nearest the entrance
/// first), `exclude` aside; `None`: nowhere to send the customer (tell them
/// the alternative channels).
pub fn choose(
    kiosks: &[Candidate],
    wants: Wants,
    exclude: Option<usize>,
    now_ms: u64,
    queue_max: usize,
) -> Option<Choice> {
    let mut best: Option<(f64, usize)> = None;
    for (i, k) in kiosks.iter().enumerate() {
        if Some(i) == exclude || !k.accepting || k.queue >= queue_max {
            continue;
        }
        if !wants.can_use(k.cash, k.code) {
            continue;
        }
        let wait = k.expected_wait_ms(now_ms);
        // Strictly less: ties go to the kiosk nearer the entrance.
        if best.is_none_or(|(w, _)| wait < w) {
            best = Some((wait, i));
        }
    }
    best.map(|(wait, kiosk)| Choice {
        kiosk,
        estimate_ms: wait.round() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiosks(queues: &[usize]) -> Vec<Candidate> {
        queues
            .iter()
            .map(|q| Candidate {
                accepting: true,
                queue: *q,
                cash: true,
                code: true,
                recent_service_ms: 60_000.0,
                busy_since_ms: None,
            })
            .collect()
    }

    /// The site model's own case (kiosk-sim `fleet::guidance` tests): the
    /// same queues give the same choices and estimates.
    #[test]
    fn the_least_expected_wait_with_a_method_that_works_as_in_the_site_model() {
        let mut ks = kiosks(&[3, 1, 0, 2]);
        assert_eq!(
            choose(&ks, Wants::Cash, None, 0, 10),
            Some(Choice {
                kiosk: 2,
                estimate_ms: 0
            })
        );
        ks[2].cash = false;
        assert_eq!(
            choose(&ks, Wants::Cash, None, 0, 10),
            Some(Choice {
                kiosk: 1,
                estimate_ms: 60_000
            })
        );
        assert_eq!(choose(&ks, Wants::Code, None, 0, 10).unwrap().kiosk, 2);
    }

    #[test]
    fn a_busy_kiosk_counts_its_customers_remaining_time_until_overdue() {
        let mut ks = kiosks(&[0, 0]);
        ks[0].busy_since_ms = Some(1_000);
        assert_eq!(
            choose(&ks, Wants::Either, None, 31_000, 10).unwrap().kiosk,
            1
        );
        assert_eq!(ks[0].expected_wait_ms(31_000), 30_000.0);
        assert_eq!(
            ks[0].expected_wait_ms(70_000),
            0.0,
            "overdue: the queue alone"
        );
        // Ties go to the kiosk nearer the entrance.
        assert_eq!(
            choose(&ks, Wants::Either, None, 70_000, 10).unwrap().kiosk,
            0
        );
    }

    #[test]
    fn kiosks_not_accepting_full_or_excluded_are_never_chosen() {
        let mut ks = kiosks(&[0, 5, 1]);
        ks[0].accepting = false;
        assert_eq!(choose(&ks, Wants::Either, None, 0, 5).unwrap().kiosk, 2);
        assert_eq!(choose(&ks, Wants::Either, Some(2), 0, 5), None);
        assert_eq!(observe_service(60_000.0, 160_000), 80_000.0);
    }
}
