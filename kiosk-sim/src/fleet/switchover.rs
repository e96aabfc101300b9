//! The `spare-switchover` drill: a kiosk fails during opening hours.

use serde::{Deserialize, Serialize};

use super::config::{SiteConfig, TimeOfDay};
use super::faults::{FaultKind, Ticket};
use super::report::Switchover;
use super::sim::{run, ForcedFault, RunOptions};
use super::stats::{wait_and_queue, CustomerRecord, Fate, Summary};

/// The operators' minimum of spare kiosks per service point.
pub const SPARES_TARGET: u32 = 2;

/// Which kiosk fails, when and how.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SwitchoverDrill {
    /// The kiosk that fails, 1 = nearest the entrance (default 1).
    pub kiosk: u32,
    /// When, on day 0 (default 11:00, before the rush).
    pub at: TimeOfDay,
    /// What fails; a whole-kiosk kind is what calls for a spare (default device-damaged).
    pub kind: FaultKind,
    /// Length of the windows compared before and after the failure
    /// (default 7 200 000 ms = 2 h; "before" is cut at opening time).
    pub window_ms: u64,
}

impl Default for SwitchoverDrill {
    fn default() -> Self {
        SwitchoverDrill {
            kiosk: 1,
            at: TimeOfDay::hm(11, 0),
            kind: FaultKind::DeviceDamaged,
            window_ms: 7_200_000,
        }
    }
}

/// Customers who arrived in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WindowStats {
    /// Customers who arrived.
    pub arrived: u64,
    /// Their wait.
    pub wait_s: Summary,
    /// Queue length when they joined.
    pub queue_len: Summary,
    /// Turned away or gave up.
    pub lost: u64,
}

/// Before and after the failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BeforeAfter {
    /// The window before the failure.
    pub before: WindowStats,
    /// The window from the failure on.
    pub after: WindowStats,
    /// The run's digest.
    pub digest: u64,
}

/// The `spare-switchover` drill's result: one day with the failure, once
/// with the configured spares and once with none (random faults off, same
/// seed, so the same customers).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SwitchoverReport {
    /// The seed.
    pub seed: u64,
    /// The drill.
    pub drill: SwitchoverDrill,
    /// The failed kiosk's id.
    pub kiosk: String,
    /// The failure's ticket (opened by detection).
    pub ticket: Option<Ticket>,
    /// Spares available.
    pub spares: u32,
    /// The operators' minimum.
    pub spares_target: u32,
    /// Dispatch → spare taking customers, as configured.
    pub switchover_ms: u64,
    /// The spare brought in, if any.
    pub switchover: Option<Switchover>,
    /// With the configured spares.
    pub with_spares: BeforeAfter,
    /// With no spare.
    pub without_spares: BeforeAfter,
    /// How much shorter the mean wait after the failure is with spares, percent.
    pub after_wait_improvement_pct: f64,
}

fn window(records: &[CustomerRecord], from_ms: u64, to_ms: u64) -> WindowStats {
    let inside = |r: &CustomerRecord| (from_ms..to_ms).contains(&r.arrival_ms);
    let (wait_s, queue_len) = wait_and_queue(records, inside);
    WindowStats {
        arrived: records.iter().filter(|r| inside(r)).count() as u64,
        wait_s,
        queue_len,
        lost: records
            .iter()
            .filter(|r| inside(r) && matches!(r.fate, Fate::TurnedAway | Fate::GaveUp))
            .count() as u64,
    }
}

/// Runs the `spare-switchover` drill for one day.
///
/// # Panics
///
/// If `config.validate()` fails, or `drill.kiosk` is not `1..=kiosks`, or
/// `drill.at` is not within opening hours.
pub fn spare_switchover(
    config: &SiteConfig,
    seed: u64,
    drill: &SwitchoverDrill,
) -> SwitchoverReport {
    super::valid(config);
    assert!(
        (1..=config.kiosks).contains(&drill.kiosk),
        "drill.kiosk must be 1..={}",
        config.kiosks
    );
    assert!(
        config.open <= drill.at && drill.at < config.close,
        "drill.at must be within opening hours"
    );
    let mut config = config.clone();
    config.faults.enabled = false;
    let forced = vec![ForcedFault {
        kiosk: drill.kiosk as usize - 1,
        at_ms: drill.at.ms,
        kind: drill.kind,
    }];
    let before_from = drill
        .at
        .ms
        .saturating_sub(drill.window_ms)
        .max(config.open.ms);
    let after_to = drill.at.ms + drill.window_ms;
    let go = |spares| {
        let opts = RunOptions {
            guidance: config.guidance,
            days: 1,
            spares,
            forced: forced.clone(),
        };
        let result = run(&config, seed, &opts);
        let phases = BeforeAfter {
            before: window(&result.records, before_from, drill.at.ms),
            after: window(&result.records, drill.at.ms, after_to),
            digest: result.report.digest,
        };
        (result.report, phases)
    };
    let (report, with_spares) = go(config.spares);
    let (_, without_spares) = go(0);
    let base = without_spares.after.wait_s.mean;
    SwitchoverReport {
        seed,
        drill: *drill,
        kiosk: format!("{}-K{:02}", config.name, drill.kiosk),
        ticket: report.tickets.first().cloned(),
        spares: config.spares,
        spares_target: SPARES_TARGET,
        switchover_ms: config.spare_switchover_ms,
        switchover: report.switchovers.first().cloned(),
        with_spares,
        without_spares,
        after_wait_improvement_pct: if base > 0.0 {
            (base - with_spares.after.wait_s.mean) / base * 100.0
        } else {
            0.0
        },
    }
}
