//! The `fault-statistics` drill: a simulated month of faults at a site.

use serde::Serialize;

use super::config::SiteConfig;
use super::faults::{FaultKind, Ticket};
use super::sim::{run, RunOptions};
use super::stats::Summary;

/// The faults of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct KindStatistics {
    /// The kind.
    pub kind: FaultKind,
    /// Faults of this kind.
    pub count: u64,
    /// Share of all faults, percent.
    pub share_pct: f64,
    /// Fault → first response, of those responded to.
    pub response_s: Summary,
    /// Fault → resolved, of those resolved.
    pub repair_s: Summary,
    /// Resolved by the remote fix.
    pub remote_fixed: u64,
    /// Dispatched on site.
    pub dispatched: u64,
}

/// The `fault-statistics` drill's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FaultStatistics {
    /// Site name.
    pub site: String,
    /// The seed.
    pub seed: u64,
    /// Days simulated.
    pub days: u32,
    /// Kiosks × opening hours × days.
    pub kiosk_hours: f64,
    /// Faults (tickets).
    pub total: u64,
    /// Resolved by the end of the run.
    pub resolved: u64,
    /// Still open at the end of the run.
    pub open_at_end: u64,
    /// Fault → first response, of those responded to by the end.
    pub response_s: Summary,
    /// Fault → resolved, of those resolved by the end.
    pub repair_s: Summary,
    /// The operators' response target, seconds.
    pub response_target_s: f64,
    /// Responded to within the target.
    pub within_target: u64,
    /// Share of responded faults within the target, percent.
    pub within_target_pct: f64,
    /// Resolved by a remote fix.
    pub remote_fixed: u64,
    /// Dispatched on site.
    pub dispatched: u64,
    /// By kind, most frequent first (ties in kind order); kinds that never
    /// happened are left out.
    pub by_kind: Vec<KindStatistics>,
    /// Spares brought in.
    pub switchovers: u64,
    /// Customers turned away or giving up over the period.
    pub customers_lost: u64,
    /// The run's digest.
    pub digest: u64,
}

fn summarise(tickets: &[&Ticket], end_ms: u64) -> (Summary, Summary) {
    let response = tickets
        .iter()
        .filter(|t| t.responded_ms < end_ms)
        .map(|t| t.responded_ms - t.started_ms);
    let repair = tickets
        .iter()
        .filter(|t| t.resolved)
        .map(|t| t.resolved_ms - t.started_ms);
    (Summary::of(response, 0.001), Summary::of(repair, 0.001))
}

impl FaultStatistics {
    /// Builds the statistics from a run's tickets.
    fn from_tickets(
        config: &SiteConfig,
        seed: u64,
        days: u32,
        report: &super::SiteReport,
    ) -> FaultStatistics {
        let all: Vec<&Ticket> = report.tickets.iter().collect();
        let end = report.end_ms;
        let (response_s, repair_s) = summarise(&all, end);
        let target = config.faults.response_target_ms;
        let responded = all.iter().filter(|t| t.responded_ms < end).count() as u64;
        let within_target = all
            .iter()
            .filter(|t| t.responded_ms < end && t.responded_ms - t.started_ms <= target)
            .count() as u64;
        let total = all.len() as u64;
        let fixed_remotely =
            |t: &&&Ticket| t.resolved && t.remote_fix_tried && t.dispatched_ms.is_none();
        let dispatched = |t: &&&Ticket| t.dispatched_ms.is_some_and(|d| d < end);
        let mut by_kind: Vec<KindStatistics> = FaultKind::ALL
            .iter()
            .filter_map(|kind| {
                let of_kind: Vec<&Ticket> =
                    all.iter().copied().filter(|t| t.kind == *kind).collect();
                if of_kind.is_empty() {
                    return None;
                }
                let (response_s, repair_s) = summarise(&of_kind, end);
                Some(KindStatistics {
                    kind: *kind,
                    count: of_kind.len() as u64,
                    share_pct: of_kind.len() as f64 / total as f64 * 100.0,
                    response_s,
                    repair_s,
                    remote_fixed: of_kind.iter().filter(fixed_remotely).count() as u64,
                    dispatched: of_kind.iter().filter(dispatched).count() as u64,
                })
            })
            .collect();
        by_kind.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
        let resolved = all.iter().filter(|t| t.resolved).count() as u64;
        FaultStatistics {
            site: report.site.clone(),
            seed,
            days,
            kiosk_hours: report.kiosk_hours,
            total,
            resolved,
            open_at_end: total - resolved,
            response_s,
            repair_s,
            response_target_s: target as f64 / 1000.0,
            within_target,
            within_target_pct: if responded > 0 {
                within_target as f64 / responded as f64 * 100.0
            } else {
                0.0
            },
            remote_fixed: all.iter().filter(fixed_remotely).count() as u64,
            dispatched: all.iter().filter(dispatched).count() as u64,
            by_kind,
            switchovers: report
                .switchovers
                .iter()
                .filter(|s| s.in_service_ms.is_some())
                .count() as u64,
            customers_lost: report.customers.turned_away + report.customers.gave_up,
            digest: report.digest,
        }
    }
}

/// Runs the `fault-statistics` drill: `days` days (30 for a month) with the
/// configured guidance and random faults.
///
/// # Panics
///
/// If `config.validate()` fails or `days` is not `1..=366`.
pub fn fault_statistics(config: &SiteConfig, seed: u64, days: u32) -> FaultStatistics {
    super::valid(config);
    assert!(
        (1..=366).contains(&days),
        "days must be 1..=366, not {days}"
    );
    let opts = RunOptions {
        guidance: config.guidance,
        days,
        spares: config.spares,
        forced: Vec::new(),
    };
    let report = run(config, seed, &opts).report;
    FaultStatistics::from_tickets(config, seed, days, &report)
}
