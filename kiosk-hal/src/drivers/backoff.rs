//! Bounded exponential backoff for reopening a port that disappeared.
//!
//! Sans-IO: the caller passes the time (milliseconds on any monotonic
//! clock) and asks whether an attempt is due. The waits themselves are
//! `backon`'s exponential sequence (no jitter: a reconnect schedule is
//! reproducible in tests).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use serde::{Deserialize, Serialize};

/// How a driver retries opening its port.
///
/// ```toml
/// reconnect-initial-ms = 200
/// reconnect-max-ms = 5000
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ReconnectConfig {
    /// Wait after the first failed attempt. Default 200.
    pub initial_ms: u64,
    /// The wait doubles after each failure up to this. Default 5000.
    pub max_ms: u64,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            initial_ms: 200,
            max_ms: 5000,
        }
    }
}

/// When to try opening the port next.
#[derive(Debug)]
pub struct Backoff {
    config: ReconnectConfig,
    waits: ExponentialBackoff,
    next_at_ms: u64,
    failures: u64,
}

impl ReconnectConfig {
    /// The waits after each failure in a row: `initial_ms`, doubling up to
    /// `max_ms`, for ever.
    fn waits(&self) -> ExponentialBackoff {
        let initial = self.initial_ms.max(1);
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(initial))
            .with_max_delay(Duration::from_millis(self.max_ms.max(initial)))
            .with_factor(2.0)
            .without_max_times()
            .build()
    }
}

impl Backoff {
    /// A backoff that allows an attempt at once.
    pub fn new(config: ReconnectConfig) -> Backoff {
        Backoff {
            config,
            waits: config.waits(),
            next_at_ms: 0,
            failures: 0,
        }
    }

    /// Whether an attempt is due at `now_ms`.
    pub fn due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_at_ms
    }

    /// When the next attempt is due.
    pub fn next_at_ms(&self) -> u64 {
        self.next_at_ms
    }

    /// Records a failed attempt at `now_ms`: the next one waits, the wait doubles (bounded).
    pub fn failed(&mut self, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        // The sequence never ends (without_max_times); the cap regardless.
        let wait_ms = self.waits.next().map_or(self.config.max_ms, |d| {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
        });
        self.next_at_ms = now_ms.saturating_add(wait_ms);
    }

    /// Records a successful attempt: the next outage starts from the initial wait.
    pub fn succeeded(&mut self) {
        self.waits = self.config.waits();
        self.next_at_ms = 0;
    }

    /// Failed attempts since this backoff was created.
    pub fn failures(&self) -> u64 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_bound_and_resets() {
        let mut b = Backoff::new(ReconnectConfig {
            initial_ms: 200,
            max_ms: 1000,
        });
        assert!(b.due(0));
        let mut waits = Vec::new();
        let mut now = 0;
        for _ in 0..5 {
            b.failed(now);
            waits.push(b.next_at_ms() - now);
            now = b.next_at_ms();
        }
        assert_eq!(waits, [200, 400, 800, 1000, 1000]);
        assert!(!b.due(now - 1) && b.due(now));
        b.succeeded();
        b.failed(now);
        assert_eq!(b.next_at_ms() - now, 200);
        assert_eq!(b.failures(), 6);
    }
}
