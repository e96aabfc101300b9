//! Fault knobs for rehearsals and tests: what the server does wrong, on
//! purpose, so that a kiosk's handling of it can be watched end to end.
//!
//! Each count-knob fires on the next N requests it applies to and then is
//! spent; the delay applies to every request while set. Set them at start
//! (`kiosk-billing serve --drop-answers 1 …`) or, in a test, through
//! [`Faults::set`] on a running server.

use std::sync::Mutex;
use std::time::Duration;

/// The knobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Every answer is held back this long after the request was handled
    /// (a backend slow to answer): a posting is applied and committed
    /// first, so a kiosk that gives up waiting leaves it applied.
    pub delay_ms: u64,
    /// The next N requests (any endpoint) get `503` and change nothing.
    pub fail_5xx: u32,
    /// The next N **new** postings are applied, then the connection is
    /// closed without an answer (the lost answer).
    pub drop_answers: u32,
    /// The next N requests (any endpoint) get `200` with a body that is not
    /// JSON; a posting is applied first.
    pub garbage: u32,
    /// The next N postings with a new key are refused (`422`, code
    /// `refused`), and the refusal stored under the key.
    pub refuse: u32,
}

/// The knobs of a running server, shared by its connections.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<FaultPlan>,
}

impl Faults {
    /// Knobs set to `plan`.
    pub fn new(plan: FaultPlan) -> Faults {
        Faults {
            plan: Mutex::new(plan),
        }
    }

    /// Replaces every knob.
    pub fn set(&self, plan: FaultPlan) {
        *self.lock() = plan;
    }

    /// The knobs now.
    pub fn plan(&self) -> FaultPlan {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultPlan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The delay before handling a request.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.lock().delay_ms)
    }

    fn take(&self, knob: impl FnOnce(&mut FaultPlan) -> &mut u32) -> bool {
        let mut plan = self.lock();
        let count = knob(&mut plan);
        if *count == 0 {
            return false;
        }
        *count -= 1;
        true
    }

    /// Whether this request gets a `503` (spends one).
    pub fn take_5xx(&self) -> bool {
        self.take(|p| &mut p.fail_5xx)
    }

    /// Whether this posting's answer is dropped (spends one).
    pub fn take_drop(&self) -> bool {
        self.take(|p| &mut p.drop_answers)
    }

    /// Whether this answer is replaced by garbage (spends one).
    pub fn take_garbage(&self) -> bool {
        self.take(|p| &mut p.garbage)
    }

    /// Whether this new posting is refused (spends one).
    pub fn take_refuse(&self) -> bool {
        self.take(|p| &mut p.refuse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_fires_that_many_times_then_is_spent() {
        let faults = Faults::new(FaultPlan {
            fail_5xx: 2,
            ..FaultPlan::default()
        });
        assert!(faults.take_5xx());
        assert!(faults.take_5xx());
        assert!(!faults.take_5xx());
        assert!(!faults.take_drop());
        assert_eq!(faults.plan(), FaultPlan::default());
    }
}
