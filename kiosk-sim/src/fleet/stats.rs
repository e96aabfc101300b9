//! Summaries of samples (mean, p50, p95, max) and per-customer records.
//!
//! Percentiles come from an HDR histogram (`hdrhistogram`): one pass over
//! the samples, no sorted copy of them, and a stated precision
//! ([`SIGNIFICANT_FIGURES`]). The count, mean and maximum are kept exactly
//! beside it, so the drills' checks (which compare means) do not move.

use hdrhistogram::Histogram;
use kiosk_core::journal::SessionOutcome;
use serde::Serialize;

/// Significant decimal figures the percentiles keep: 3 means a reported
/// p50 or p95 is within 0.1% of the exact nearest-rank value (exact below
/// 2 048, so queue lengths and sub-2-second waits are exact).
pub const SIGNIFICANT_FIGURES: u8 = 3;

/// Mean, median, 95th percentile and maximum of a set of samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Mean (0 with no samples).
    pub mean: f64,
    /// Median (nearest rank, within [`SIGNIFICANT_FIGURES`]).
    pub p50: f64,
    /// 95th percentile (nearest rank, within [`SIGNIFICANT_FIGURES`]).
    pub p95: f64,
    /// Maximum (exact).
    pub max: f64,
}

impl Summary {
    /// Summarises `samples`, each multiplied by `scale` (`0.001` turns
    /// milliseconds into seconds).
    pub fn of(samples: impl IntoIterator<Item = u64>, scale: f64) -> Summary {
        // 32-bit counts: half the memory to clear and scan of 64-bit ones;
        // a count saturates only past four billion samples of one value.
        let mut hist = Histogram::<u32>::new(SIGNIFICANT_FIGURES)
            .expect("3 significant figures are within hdrhistogram's 0..=5");
        let (mut sum, mut max) = (0u128, 0u64);
        for s in samples {
            // An auto-resizing histogram takes anything up to i64::MAX / 2
            // (292 million years of milliseconds); past that, clamp.
            if hist.record(s).is_err() {
                hist.saturating_record(s);
            }
            sum += u128::from(s);
            max = max.max(s);
        }
        let count = hist.len();
        if count == 0 {
            return Summary::default();
        }
        // The histogram answers with the top of a value's bucket; no
        // percentile is above the largest sample.
        let mut at = hist.value_at_quantiles([0.5, 0.95]).map(|v| v.min(max));
        let (p50, p95) = (at.next().unwrap_or(max), at.next().unwrap_or(max));
        debug_assert!(p50 <= p95 && p95 <= max);
        Summary {
            count,
            mean: sum as f64 / count as f64 * scale,
            p50: p50 as f64 * scale,
            p95: p95 as f64 * scale,
            max: max as f64 * scale,
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
    let waits = records.iter().filter(|r| keep(r)).filter_map(|r| r.wait_ms);
    let queues = records
        .iter()
        .filter(|r| keep(r))
        .filter_map(|r| r.queue_len.map(u64::from));
    (Summary::of(waits, 0.001), Summary::of(queues, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of((1..=100).rev(), 1.0);
        assert_eq!(
            (s.count, s.mean, s.p50, s.p95, s.max),
            (100, 50.5, 50.0, 95.0, 100.0)
        );
        assert_eq!(Summary::of([], 1.0), Summary::default());
        assert_eq!(Summary::of([7_000], 0.001).p95, 7.0);
    }

    /// The exact nearest-rank percentile of sorted `v`.
    fn nearest_rank(v: &[u64], p: f64) -> u64 {
        v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
    }

    #[test]
    fn percentiles_stay_within_the_stated_precision_of_the_exact_ones() {
        // Waits from milliseconds to days, spread over many magnitudes.
        let mut v: Vec<u64> = (0..5_000u64)
            .map(|i| (i * 7_919 % 5_000 + 1).pow(2) * 3 + i % 17)
            .collect();
        let s = Summary::of(v.iter().copied(), 1.0);
        v.sort_unstable();
        let tolerance = 10f64.powi(-i32::from(SIGNIFICANT_FIGURES));
        for (p, got) in [(0.5, s.p50), (0.95, s.p95)] {
            let exact = nearest_rank(&v, p) as f64;
            assert!(exact > 2_048.0, "the test must reach the inexact range");
            assert!(
                (got - exact).abs() <= exact * tolerance,
                "p{p}: {got} vs exact {exact}"
            );
        }
        assert_eq!(s.max, *v.last().unwrap() as f64);
        let exact_mean = v.iter().sum::<u64>() as f64 / v.len() as f64;
        assert_eq!(s.mean, exact_mean);
        // Small values (queue lengths) are exact.
        let q: Vec<u64> = (0..1_000).map(|i| i * 31 % 40).collect();
        let s = Summary::of(q.iter().copied(), 1.0);
        let mut q = q;
        q.sort_unstable();
        assert_eq!(s.p50, nearest_rank(&q, 0.5) as f64);
        assert_eq!(s.p95, nearest_rank(&q, 0.95) as f64);
    }
}
