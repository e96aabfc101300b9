//! The `peak-diversion` drill: the same customers with and without guidance.

use serde::Serialize;

use super::config::{Guidance, SiteConfig};
use super::report::SiteReport;
use super::sim::{run, RunOptions};

/// The operators' target: guidance improves queue length by 20%.
pub const DIVERSION_TARGET_PCT: f64 = 20.0;

/// How much better guidance did than a baseline, in percent of the
/// baseline (positive is better; 0 when the baseline figure is 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Improvement {
    /// Mean queue length on joining.
    pub mean_queue_len_pct: f64,
    /// 95th percentile queue length on joining.
    pub p95_queue_len_pct: f64,
    /// Mean wait.
    pub mean_wait_pct: f64,
    /// 95th percentile wait.
    pub p95_wait_pct: f64,
    /// Mean queue length on joining, rush hour.
    pub rush_mean_queue_len_pct: f64,
    /// Mean wait, rush hour.
    pub rush_mean_wait_pct: f64,
    /// Mean number of people waiting while open.
    pub waiting_mean_pct: f64,
}

fn pct(base: f64, new: f64) -> f64 {
    if base > 0.0 {
        (base - new) / base * 100.0
    } else {
        0.0
    }
}

impl Improvement {
    /// `guided` against `baseline`.
    pub fn of(guided: &SiteReport, baseline: &SiteReport) -> Improvement {
        let (g, b) = (guided, baseline);
        Improvement {
            mean_queue_len_pct: pct(b.queue_len.mean, g.queue_len.mean),
            p95_queue_len_pct: pct(b.queue_len.p95, g.queue_len.p95),
            mean_wait_pct: pct(b.wait_s.mean, g.wait_s.mean),
            p95_wait_pct: pct(b.wait_s.p95, g.wait_s.p95),
            rush_mean_queue_len_pct: pct(b.rush_queue_len.mean, g.rush_queue_len.mean),
            rush_mean_wait_pct: pct(b.rush_wait_s.mean, g.rush_wait_s.mean),
            waiting_mean_pct: pct(b.waiting_mean, g.waiting_mean),
        }
    }
}

/// The `peak-diversion` drill's result.
///
/// Three runs with the same seed, so the same customers arrive at the same
/// times wanting the same thing and the same faults happen: guided
/// (shortest expected wait), unguided (proximity-weighted random pick, the
/// baseline), and self-organised (customers join the shortest visible queue).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiversionReport {
    /// The seed.
    pub seed: u64,
    /// The operators' target improvement of queue length, percent.
    pub target_pct: f64,
    /// With guidance.
    pub guided: SiteReport,
    /// Without guidance: proximity-weighted random pick.
    pub unguided: SiteReport,
    /// Without guidance: customers join the shortest visible queue.
    pub self_organised: SiteReport,
    /// Guided against unguided.
    pub improvement: Improvement,
    /// Guided against self-organised (the harder baseline).
    pub improvement_vs_self_organised: Improvement,
    /// Mean queue length improved by at least the target against the unguided baseline.
    pub meets_target: bool,
}

/// Runs the `peak-diversion` drill over `config.days` days.
///
/// # Panics
///
/// If `config.validate()` fails.
pub fn compare_guidance(config: &SiteConfig, seed: u64) -> DiversionReport {
    super::valid(config);
    let with = |guidance| {
        let opts = RunOptions {
            guidance,
            days: config.days,
            spares: config.spares,
            forced: Vec::new(),
        };
        run(config, seed, &opts).report
    };
    let guided = with(Guidance::ShortestExpectedWait);
    let unguided = with(Guidance::None);
    let self_organised = with(Guidance::ShortestQueue);
    let improvement = Improvement::of(&guided, &unguided);
    DiversionReport {
        seed,
        target_pct: DIVERSION_TARGET_PCT,
        improvement_vs_self_organised: Improvement::of(&guided, &self_organised),
        meets_target: improvement.mean_queue_len_pct >= DIVERSION_TARGET_PCT,
        improvement,
        guided,
        unguided,
        self_organised,
    }
}
