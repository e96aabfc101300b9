//! Summaries of samples (mean, p50, p95, max) and per-customer records.

use kiosk_core::journal::SessionOutcome;
use serde::Serialize;

/// Mean, median, 95th percentile and maximum of a set of samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Mean (0 with no samples).
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Maximum.
    pub max: f64,
}

impl Summary {
    /// Summarises `samples` (sorted in place), each multiplied by `scale`
    /// (`0.001` turns milliseconds into seconds).
    pub fn of(samples: &mut [u64], scale: f64) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        let rank =
            |p: f64| samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1] as f64 * scale;
        let sum: u128 = samples.iter().map(|s| u128::from(*s)).sum();
        Summary {
            count: n as u64,
            mean: sum as f64 / n as f64 * scale,
            p50: rank(0.5),
            p95: rank(0.95),
            max: samples[n - 1] as f64 * scale,
        }
    }
}

/// What became of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Still in the site (queue or kiosk) when the run ended.
    InSite,
    /// Served; their last session ended so.
    Served(SessionOutcome),
    /// No kiosk could take them when they arrived.
    TurnedAway,
    /// Left unserved after being sent away from kiosks `reroute-max` times
    /// (or when no kiosk was left to walk to).
    GaveUp,
}

/// One customer's visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CustomerRecord {
    pub(crate) arrival_ms: u64,
    pub(crate) rush: bool,
    /// People waiting in the queue they first joined, when they joined.
    pub(crate) queue_len: Option<u32>,
    /// The wait guidance told them.
    pub(crate) estimate_ms: Option<u64>,
    /// When their first session started.
    pub(crate) first_start_ms: Option<u64>,
    /// Arrival → start of the session that ended their visit.
    pub(crate) wait_ms: Option<u64>,
    pub(crate) fate: Fate,
}

/// Wait and queue length of the customers `keep` selects.
pub(crate) fn wait_and_queue(
    records: &[CustomerRecord],
    keep: impl Fn(&CustomerRecord) -> bool,
) -> (Summary, Summary) {
    let mut waits: Vec<u64> = records
        .iter()
        .filter(|r| keep(r))
        .filter_map(|r| r.wait_ms)
        .collect();
    let mut queues: Vec<u64> = records
        .iter()
        .filter(|r| keep(r))
        .filter_map(|r| r.queue_len.map(u64::from))
        .collect();
    (
        Summary::of(&mut waits, 0.001),
        Summary::of(&mut queues, 1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        let s = Summary::of(&mut v, 1.0);
        assert_eq!(
            (s.count, s.mean, s.p50, s.p95, s.max),
            (100, 50.5, 50.0, 95.0, 100.0)
        );
        assert_eq!(Summary::of(&mut [], 1.0), Summary::default());
        assert_eq!(Summary::of(&mut [7_000], 0.001).p95, 7.0);
    }
}
