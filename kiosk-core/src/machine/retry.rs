//! Retrying pending payments: same key, bounded exponential backoff, until
//! the backend answers.
//!
//! Pure: the schedule is told when a payment became pending, when a
//! posting was answered and what the time is; it says which payments are
//! due and when the next one will be. The waits come from `backon`'s
//! exponential builder (no jitter, so a drill replays exactly): the first
//! retry after [`RetryPolicy::initial_ms`], doubling up to
//! [`RetryPolicy::max_ms`], never giving up — a pending payment is money in
//! the box that the backend has not confirmed.
//!
//! # What a retry carries
//!
//! A retry is the first posting **without the payment code**: the same key,
//! account, amount and method. A customer's payment code is a single-use
//! token the kiosk never stores; a backend that already has the key answers
//! with its stored answer, and one that never saw it refuses a code payment
//! it cannot charge (nothing was taken, so nothing is lost). See
//! [`kiosk_hal::NetworkLink`].

use std::collections::BTreeMap;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use kiosk_hal::{IdempotencyKey, PaymentPosting};

use crate::ids::Millis;
use crate::journal::PendingPayment;

/// How pending payments are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry comes this long after the payment became pending.
    pub initial_ms: u64,
    /// Waits double up to this.
    pub max_ms: u64,
}

impl RetryPolicy {
    fn backoff(&self) -> ExponentialBackoff {
        let initial = self.initial_ms.max(1);
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(initial))
            .with_max_delay(Duration::from_millis(self.max_ms.max(initial)))
            .with_factor(2.0)
            .without_max_times()
            .build()
    }
}

/// A sequence of waits under a [`RetryPolicy`]: the initial wait, then
/// doubling up to the cap, forever.
#[derive(Debug)]
pub struct Waits {
    policy: RetryPolicy,
    waits: ExponentialBackoff,
}

impl Waits {
    /// Starts the sequence.
    pub fn new(policy: RetryPolicy) -> Waits {
        Waits {
            policy,
            waits: policy.backoff(),
        }
    }

    /// The next wait, in milliseconds.
    pub fn next_ms(&mut self) -> u64 {
        // Never ends (without_max_times); fall back to the cap regardless.
        self.waits
            .next()
            .map_or(self.policy.max_ms, |d| d.as_millis() as u64)
    }
}

#[derive(Debug)]
struct Entry {
    pending: PendingPayment,
    next_at: Millis,
    waits: ExponentialBackoff,
}

impl Entry {
    fn next_wait_ms(&mut self, policy: &RetryPolicy) -> u64 {
        // Never ends (without_max_times); fall back to the cap regardless.
        self.waits
            .next()
            .map_or(policy.max_ms, |d| d.as_millis() as u64)
    }
}

/// Every pending payment and when to post it next. See the module docs.
#[derive(Debug)]
pub struct RetrySchedule {
    policy: RetryPolicy,
    entries: BTreeMap<IdempotencyKey, Entry>,
}

impl RetrySchedule {
    /// An empty schedule.
    pub fn new(policy: RetryPolicy) -> RetrySchedule {
        RetrySchedule {
            policy,
            entries: BTreeMap::new(),
        }
    }

    /// Schedules `pending` unless it is already scheduled. The first retry
    /// comes after the initial wait.
    pub fn track(&mut self, pending: PendingPayment, now: Millis) {
        if self.entries.contains_key(&pending.key) {
            return;
        }
        let mut waits = self.policy.backoff();
        let first = waits
            .next()
            .map_or(self.policy.initial_ms, |d| d.as_millis() as u64);
        let key = pending.key.clone();
        self.entries.insert(
            key,
            Entry {
                pending,
                next_at: now.plus_ms(first),
                waits,
            },
        );
    }

    /// Makes every payment due now, with its backoff started afresh: after
    /// a restart, or once the link has answered (it is back).
    pub fn retry_all_now(&mut self, now: Millis) {
        for entry in self.entries.values_mut() {
            entry.next_at = entry.next_at.min(now);
            entry.waits = self.policy.backoff();
        }
    }

    /// The keys whose retry time has come, in key order.
    pub fn due(&self, now: Millis) -> Vec<IdempotencyKey> {
        self.entries
            .iter()
            .filter(|(_, e)| e.next_at <= now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The posting a retry of `key` sends (see "What a retry carries").
    pub fn posting(&self, key: &IdempotencyKey) -> Option<PaymentPosting> {
        self.entries.get(key).map(|e| retry_posting(&e.pending))
    }

    /// The backend answered `key` (credited or refused): it is no longer
    /// pending. Returns whether it was scheduled.
    pub fn answered(&mut self, key: &IdempotencyKey) -> bool {
        self.entries.remove(key).is_some()
    }

    /// A posting of `key` got no answer: the next try waits longer.
    /// Returns when it comes, if `key` is scheduled.
    pub fn unanswered(&mut self, key: &IdempotencyKey, now: Millis) -> Option<Millis> {
        let policy = self.policy;
        let entry = self.entries.get_mut(key)?;
        let wait = entry.next_wait_ms(&policy);
        debug_assert!(wait <= policy.max_ms.max(policy.initial_ms.max(1)));
        entry.next_at = now.plus_ms(wait);
        Some(entry.next_at)
    }

    /// When the next retry is due.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.entries.values().map(|e| e.next_at).min()
    }

    /// Number of payments waiting for an answer.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The posting that retries `pending`: same key, account, amount and
/// method; never a payment code.
pub fn retry_posting(pending: &PendingPayment) -> PaymentPosting {
    PaymentPosting {
        key: pending.key.clone(),
        account: pending.account.clone(),
        amount: pending.amount,
        method: pending.method,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SessionId;
    use kiosk_hal::{AccountNumber, Currency, Money, PaymentMethod};

    fn pending(key: &str) -> PendingPayment {
        PendingPayment {
            key: IdempotencyKey(key.into()),
            session: SessionId("K01-000001".into()),
            account: AccountNumber("1001".into()),
            amount: Money::major(50, Currency::CNY),
            method: PaymentMethod::Cash,
            created_at: Millis(0),
            attempts: 0,
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial_ms: 2_000,
            max_ms: 60_000,
        }
    }

    #[test]
    fn waits_double_up_to_the_cap_and_never_give_up() {
        let mut s = RetrySchedule::new(policy());
        let key = IdempotencyKey("A".into());
        s.track(pending("A"), Millis(0));
        assert_eq!(s.next_deadline(), Some(Millis(2_000)));
        let mut now = Millis(2_000);
        let mut waits = Vec::new();
        for _ in 0..10 {
            assert_eq!(s.due(now), vec![key.clone()]);
            let at = s.unanswered(&key, now).unwrap();
            waits.push(at.since(now));
            now = at;
        }
        assert_eq!(
            waits,
            [4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000]
        );
        assert!(s.answered(&key));
        assert!(s.is_empty());
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn tracking_twice_keeps_the_first_schedule() {
        let mut s = RetrySchedule::new(policy());
        s.track(pending("A"), Millis(0));
        s.track(pending("A"), Millis(50_000));
        assert_eq!(s.next_deadline(), Some(Millis(2_000)));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_link_that_answers_makes_everything_due_with_fresh_backoff() {
        let mut s = RetrySchedule::new(policy());
        let key = IdempotencyKey("A".into());
        s.track(pending("A"), Millis(0));
        for t in [2_000, 6_000, 14_000] {
            s.unanswered(&key, Millis(t));
        }
        s.retry_all_now(Millis(15_000));
        assert_eq!(s.due(Millis(15_000)), vec![key.clone()]);
        let at = s.unanswered(&key, Millis(15_000)).unwrap();
        assert_eq!(at, Millis(17_000));
    }

    #[test]
    fn a_retry_carries_no_payment_code() {
        let mut s = RetrySchedule::new(policy());
        let mut p = pending("Q");
        p.method = PaymentMethod::Code;
        s.track(p.clone(), Millis(0));
        let posting = s.posting(&p.key).unwrap();
        assert_eq!(posting.code, None);
        assert_eq!(
            (posting.key, posting.account, posting.amount, posting.method),
            (p.key, p.account, p.amount, p.method)
        );
    }
}
