//! Link answer times behind `link-slow`.

use std::collections::VecDeque;

use super::{HealthChange, HealthPolicy};

/// The most recent answer times kept (for the median).
const RECENT_MAX: usize = 64;

/// Runs of slow and fast link answers.
#[derive(Debug, Clone, Default)]
pub(super) struct LinkLatency {
    recent_ms: VecDeque<u64>,
    slow_run: u32,
    fast_run: u32,
    slow: bool,
}

impl LinkLatency {
    /// Adds one answer's time; raises `link-slow` after `slow_needed` slow
    /// answers in a row, clears it after `link_fast_samples` fast ones.
    pub fn answer(
        &mut self,
        latency_ms: u64,
        slow_needed: u32,
        policy: &HealthPolicy,
    ) -> Option<HealthChange> {
        if self.recent_ms.len() >= RECENT_MAX {
            self.recent_ms.pop_front();
        }
        self.recent_ms.push_back(latency_ms);
        if latency_ms >= policy.link_slow_ms {
            self.slow_run = self.slow_run.saturating_add(1);
            self.fast_run = 0;
            if !self.slow && self.slow_run >= slow_needed.max(1) {
                self.slow = true;
                let samples = self.slow_run;
                return Some(HealthChange::LinkSlow {
                    p50_ms: self.median_of_last(samples as usize),
                    samples,
                });
            }
        } else {
            self.fast_run = self.fast_run.saturating_add(1);
            self.slow_run = 0;
            if self.slow && self.fast_run >= policy.link_fast_samples.max(1) {
                self.slow = false;
                return Some(HealthChange::LinkFast);
            }
        }
        None
    }

    /// The median (lower middle) of the last `n` answer times.
    fn median_of_last(&self, n: usize) -> u64 {
        let n = n.clamp(1, self.recent_ms.len());
        let mut last: Vec<u64> = self.recent_ms.iter().rev().take(n).copied().collect();
        last.sort_unstable();
        last[(last.len() - 1) / 2]
    }
}
