//! The sliding window of transaction outcomes behind `frequent-failures`.

use std::collections::{BTreeMap, VecDeque};

use super::{HealthChange, HealthPolicy};
use crate::ids::Millis;

/// The longest failure detail kept per transaction, in characters.
const DETAIL_CHARS_MAX: usize = 64;

/// One transaction's outcome.
#[derive(Debug, Clone)]
struct Sample {
    at: Millis,
    ok: bool,
    detail: String,
}

/// Transactions of the last `failure_window_ms`, at most
/// `failure_samples_max` of them, and whether `frequent-failures` is raised.
#[derive(Debug, Clone, Default)]
pub(super) struct FailureWindow {
    samples: VecDeque<Sample>,
    raised: bool,
}

impl FailureWindow {
    /// Adds a transaction at `now`, then re-evaluates.
    pub fn push(
        &mut self,
        ok: bool,
        detail: &str,
        now: Millis,
        policy: &HealthPolicy,
    ) -> Option<HealthChange> {
        while self.samples.len() >= policy.failure_samples_max.max(1) {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            at: now,
            ok,
            detail: detail.chars().take(DETAIL_CHARS_MAX).collect(),
        });
        self.evaluate(now, policy)
    }

    /// Forgets samples that left the window, then raises or clears.
    pub fn evaluate(&mut self, now: Millis, policy: &HealthPolicy) -> Option<HealthChange> {
        let window = policy.failure_window_ms;
        while self
            .samples
            .front()
            .is_some_and(|s| now >= s.at.plus_ms(window))
        {
            self.samples.pop_front();
        }
        let samples = self.samples.len();
        let failures = self.samples.iter().filter(|s| !s.ok).count();
        let enough = samples >= policy.failure_min_samples.max(1) as usize;
        let rate = if samples == 0 {
            0.0
        } else {
            failures as f64 / samples as f64
        };
        if !self.raised && enough && rate >= policy.failure_rate_threshold {
            self.raised = true;
            return Some(HealthChange::FrequentFailures {
                rate,
                samples: samples as u32,
                pattern: self.pattern(),
            });
        }
        if self.raised && (!enough || rate < policy.failure_rate_clear) {
            self.raised = false;
            return Some(HealthChange::FrequentFailuresCleared);
        }
        None
    }

    /// When the oldest sample leaves the window, if any is held.
    pub fn next_expiry(&self, policy: &HealthPolicy) -> Option<Millis> {
        self.samples
            .front()
            .map(|s| s.at.plus_ms(policy.failure_window_ms))
    }

    /// The failures by detail, most frequent first: `"refused: 3, pending: 1"`.
    fn pattern(&self) -> String {
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for s in self.samples.iter().filter(|s| !s.ok) {
            *counts.entry(s.detail.as_str()).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
            .iter()
            .map(|(detail, n)| format!("{detail}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
